// Bad input to treadle-opt: a located diagnostic on stderr, a non-zero exit, no traceback.

// RUN: not treadle-opt %s -p no-such-pass 2>&1 | filecheck %s --check-prefix=PASS
// PASS: treadle-opt: error: pass pipeline 'no-such-pass': Unrecognized passes: ['no-such-pass']
// PASS-NOT: Traceback

// RUN: not treadle-opt %s -p 'sparse-explicit-reductions{depth=3}' 2>&1 | filecheck %s --check-prefix=OPTION
// OPTION: error: pass pipeline 'sparse-explicit-reductions{depth=3}': Provided arguments ["depth"] not found

// RUN: not treadle-opt %s -p 'cse{' 2>&1 | filecheck %s --check-prefix=SYNTAX
// SYNTAX: Error parsing pass pipeline specification
// SYNTAX: Expected argument name here

// RUN: not treadle-opt %S/no-such-file.mlir 2>&1 | filecheck %s --check-prefix=FILE
// FILE: treadle-opt: error: cannot read '{{.*}}no-such-file.mlir': No such file or directory

// RUN: not treadle-opt %S/inputs/malformed.mlir 2>&1 | filecheck %s --check-prefix=MALFORMED
// MALFORMED: malformed.mlir:3:3: error: Operation sparse.asign is not registered
// MALFORMED-NEXT: %y = sparse.asign
// MALFORMED-NEXT: {{^ +}}^
// MALFORMED-NOT: Traceback

// RUN: not treadle-opt %S/inputs/malformed.mlir --split-input-file 2>&1 | filecheck %s --check-prefix=SPLIT
// SPLIT: malformed.mlir:3:3: error: Operation sparse.asign is not registered
// SPLIT: malformed.mlir:10:3: error: 'sparse.assign' op shape mismatch: index 'i' ranges over 4 (A dimension 0) and 5 (x dimension 0)

// A wrong expectation makes --verify-diagnostics fail.
// RUN: not treadle-opt %S/inputs/wrong_expectation.mlir --verify-diagnostics 2>&1 | filecheck %s --check-prefix=EXPECT
// EXPECT: wrong_expectation.mlir:3: error: expected error "rank 3" was not produced
// EXPECT: unexpected error: {{.*}}wrong_expectation.mlir:4:3: error: 'sparse.assign' op tensor 'x' has rank 1 but is accessed with 2 indices

// RUN: treadle-opt --list-passes | filecheck %s --check-prefix=LIST
// LIST: Treadle passes:
// LIST: sparse-explicit-reductions: Make every implicit sum of every statement an explicit sum[...] over the smallest term.
// LIST: xDSL passes (see xdsl-opt): {{.*}}canonicalize

func.func @ok() {
  func.return
}
