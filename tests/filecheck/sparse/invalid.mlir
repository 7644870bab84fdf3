// RUN: treadle-opt %s --split-input-file --verify-diagnostics
// One test per verifier and per parse error of the sparse dialect. Each must be reported on
// its line, as mlir-opt's --verify-diagnostics checks `expected-error` annotations.

// expected-error @+1 {{unknown level type 'compresed', expected one of dense, compressed, singleton}}
func.func @f(%a: tensor<8xf64, #sparse.encoding<{map = (i) -> (i : compresed)}>>) { func.return }

// -----

// expected-error @+1 {{unknown level property 'unique', expected nonunique or nonordered}}
func.func @f(%a: tensor<8xf64, #sparse.encoding<{map = (i) -> (i : compressed(unique))}>>) { func.return }

// -----

// expected-error @+1 {{unknown dimension 'k', expected one of i, j}}
func.func @f(%a: tensor<8x8xf64, #sparse.encoding<{map = (i, j) -> (i : dense, k : compressed)}>>) { func.return }

// -----

// expected-error @+1 {{duplicate dimension name 'i'}}
func.func @f(%a: tensor<8x8xf64, #sparse.encoding<{map = (i, i) -> (i : dense, i : compressed)}>>) { func.return }

// -----

// expected-error @+1 {{dimension 'j' is not stored by any level}}
func.func @f(%a: tensor<8x8xf64, #sparse.encoding<{map = (i, j) -> (i : dense)}>>) { func.return }

// -----

// expected-error @+1 {{singleton level 1 must follow a nonunique level (as in COO)}}
func.func @f(%a: tensor<8x8xf64, #sparse.encoding<{map = (i, j) -> (i : compressed, j : singleton)}>>) { func.return }

// -----

// expected-error @+1 {{dimension 'i' must be stored by one level, or by a 'floordiv B' and a 'mod B' level with the same B}}
func.func @f(%a: tensor<8x8xf64, #sparse.encoding<{map = (i, j) -> (i floordiv 4 : dense, j : compressed, i mod 2 : dense)}>>) { func.return }

// -----

// expected-error @+1 {{bit width must be 0, 8, 16, 32 or 64, got 12}}
func.func @f(%a: tensor<8xf64, #sparse.encoding<{map = (i) -> (i : compressed), posWidth = 12}>>) { func.return }

// -----

// expected-error @+1 {{invalid schedule: unknown OpenMP schedule 'fast'}}
func.func @f() attributes {s = #sparse.schedule<omp = fast>} { func.return }

// -----

#csr = #sparse.encoding<{map = (i, j) -> (i : dense, j : compressed)}>
func.func @f(%x: tensor<8xf64, #csr>) -> tensor<8xf64> {
  // expected-error @+1 {{tensor 'x' has rank 1 but its encoding maps 2 dimensions}}
  %y = sparse.assign y(i) = x(i) where x = %x : tensor<8xf64, #csr> -> tensor<8xf64>
  func.return %y : tensor<8xf64>
}

// -----

#bsr = #sparse.encoding<{map = (i, j) -> (i floordiv 4 : dense, j floordiv 4 : compressed, i mod 4 : dense, j mod 4 : dense)}>
func.func @f(%A: tensor<6x8xf64, #bsr>) -> tensor<6x8xf64> {
  // expected-error @+1 {{tensor 'A': dimension 0 of size 6 is not a multiple of its block size 4}}
  %y = sparse.assign y(i, j) = A(i, j) where A = %A : tensor<6x8xf64, #bsr> -> tensor<6x8xf64>
  func.return %y : tensor<6x8xf64>
}

// -----

func.func @f(%x: tensor<8xf64>) -> tensor<8xf64> {
  // expected-error @+1 {{tensor 'z' is not bound by 'where' (bound: x)}}
  %y = sparse.assign y(i) = x(i) * z(i) where x = %x : tensor<8xf64> -> tensor<8xf64>
  func.return %y : tensor<8xf64>
}

// -----

func.func @f(%A: tensor<8x8xf64>, %x: tensor<8xf64>) -> tensor<8xf64> {
  // expected-error @+1 {{tensor 'A' has rank 2 but is accessed with 3 indices in A(i, j, k)}}
  %y = sparse.assign y(i) = A(i, j, k) * x(j) where A = %A, x = %x : tensor<8x8xf64>, tensor<8xf64> -> tensor<8xf64>
  func.return %y : tensor<8xf64>
}

// -----

func.func @f(%A: tensor<8x8xf64>, %x: tensor<9xf64>) -> tensor<8xf64> {
  // expected-error @+1 {{shape mismatch: index 'j' ranges over 8 (A dimension 1) and 9 (x dimension 0)}}
  %y = sparse.assign y(i) = A(i, j) * x(j) where A = %A, x = %x : tensor<8x8xf64>, tensor<9xf64> -> tensor<8xf64>
  func.return %y : tensor<8xf64>
}

// -----

func.func @f(%A: tensor<8x8xf64>, %x: tensor<8xf64>) -> tensor<7xf64> {
  // expected-error @+1 {{shape mismatch: index 'i' ranges over 8 but output 'y' has size 7 there}}
  %y = sparse.assign y(i) = A(i, j) * x(j) where A = %A, x = %x : tensor<8x8xf64>, tensor<8xf64> -> tensor<7xf64>
  func.return %y : tensor<7xf64>
}

// -----

func.func @f(%A: tensor<8x8xf64>, %x: tensor<8xf32>) -> tensor<8xf64> {
  // expected-error @+1 {{tensor 'x' has element type f32 but the output 'y' has f64}}
  %y = sparse.assign y(i) = A(i, j) * x(j) where A = %A, x = %x : tensor<8x8xf64>, tensor<8xf32> -> tensor<8xf64>
  func.return %y : tensor<8xf64>
}

// -----

func.func @f(%A: tensor<8x8xf64>) -> tensor<8xf64> {
  // expected-error @+1 {{A(i, i) repeats an index variable}}
  %y = sparse.assign y(i) = A(i, i) where A = %A : tensor<8x8xf64> -> tensor<8xf64>
  func.return %y : tensor<8xf64>
}

// -----

func.func @f(%x: tensor<8xf64>) -> tensor<8x8xf64> {
  // expected-error @+1 {{output index 'j' of 'y' does not appear on the right-hand side}}
  %y = sparse.assign y(i, j) = x(i) where x = %x : tensor<8xf64> -> tensor<8x8xf64>
  func.return %y : tensor<8x8xf64>
}

// -----

func.func @f(%x: tensor<8xf64>) -> tensor<8xf64> {
  // expected-error @+1 {{output 'y' repeats an index in (i, i)}}
  %y = sparse.assign y(i, i) = x(i) where x = %x : tensor<8xf64> -> tensor<8xf64>
  func.return %y : tensor<8xf64>
}

// -----

func.func @f(%x: tensor<8xf64>, %z: tensor<8xf64>) -> tensor<8xf64> {
  // expected-error @+1 {{tensor 'z' is bound by 'where' but never used}}
  %y = sparse.assign y(i) = x(i) where x = %x, z = %z : tensor<8xf64>, tensor<8xf64> -> tensor<8xf64>
  func.return %y : tensor<8xf64>
}

// -----

func.func @f(%x: tensor<8xf64>) -> tensor<8xf64> {
  // expected-error @+1 {{output 'x' is also an input; give the result a new name}}
  %y = sparse.assign x(i) = x(i) * 2.0 where x = %x : tensor<8xf64> -> tensor<8xf64>
  func.return %y : tensor<8xf64>
}

// -----

func.func @f(%x: tensor<8xf64>) -> tensor<8xf64> {
  // expected-error @+1 {{tensor 'x' is bound twice}}
  %y = sparse.assign y(i) = x(i) where x = %x, x = %x : tensor<8xf64>, tensor<8xf64> -> tensor<8xf64>
  func.return %y : tensor<8xf64>
}

// -----

func.func @f(%A: tensor<8x8xf64>) -> tensor<8xf64> {
  // expected-error @+1 {{schedule order [i] must be a permutation of the statement's indices {i, j}}}
  %y = sparse.assign y(i) = A(i, j) where A = %A : tensor<8x8xf64> -> tensor<8xf64> schedule #sparse.schedule<order = [i]>
  func.return %y : tensor<8xf64>
}

// -----

func.func @f(%A: tensor<8x8xf64>) -> tensor<8xf64> {
  // expected-error @+1 {{schedule parallelizes unknown index 'k'}}
  %y = sparse.assign y(i) = A(i, j) where A = %A : tensor<8x8xf64> -> tensor<8xf64> schedule #sparse.schedule<parallel = k>
  func.return %y : tensor<8xf64>
}

// -----

func.func @f(%A: tensor<8x8xf64>) -> tensor<8xf64> {
  // expected-error @+1 {{sum over 'i', which is an index of the output}}
  %y = sparse.assign y(i) = sum[i](A(i, j)) where A = %A : tensor<8x8xf64> -> tensor<8xf64>
  func.return %y : tensor<8xf64>
}

// -----

func.func @f(%A: tensor<8x8xf64>, %x: tensor<8xf64>) -> tensor<8xf64> {
  // expected-error @+1 {{index 'j' is summed by a sum[j](...) and also used outside it in x(j)}}
  %y = sparse.assign y(i) = sum[j](A(i, j)) * x(j) where A = %A, x = %x : tensor<8x8xf64>, tensor<8xf64> -> tensor<8xf64>
  func.return %y : tensor<8xf64>
}

// -----

func.func @f(%x: tensor<8xf64>) -> tensor<8xf64> {
  // expected-error @+1 {{'exp' is reserved and cannot name a tensor}}
  %y = sparse.assign exp(i) = x(i) where x = %x : tensor<8xf64> -> tensor<8xf64>
  func.return %y : tensor<8xf64>
}

// -----

func.func @f(%x: tensor<8xf64>) -> tensor<8xf64> {
  // expected-error @+1 {{expected an index-notation expression}}
  %y = sparse.assign y(i) = x(i) * * x(i) where x = %x : tensor<8xf64> -> tensor<8xf64>
  func.return %y : tensor<8xf64>
}

// -----

func.func @f(%x: tensor<8xf64>) -> tensor<8xf64> {
  // expected-error @+1 {{2 tensors bound but 1 operand types given}}
  %y = sparse.assign y(i) = x(i) * z(i) where x = %x, z = %x : tensor<8xf64> -> tensor<8xf64>
  func.return %y : tensor<8xf64>
}

// -----

func.func @f(%x: tensor<8x4xf64>) -> tensor<4x8xf64> {
  // expected-error @+1 {{convert changes the shape from [8, 4] to [4, 8]}}
  %y = sparse.convert %x : tensor<8x4xf64> to tensor<4x8xf64>
  func.return %y : tensor<4x8xf64>
}

// -----

func.func @f(%x: tensor<8xf64>) -> tensor<8xf64> {
  // expected-error @+1 {{sum must reduce at least one index}}
  %y = sparse.assign y(i) = sum[](x(i)) where x = %x : tensor<8xf64> -> tensor<8xf64>
  func.return %y : tensor<8xf64>
}

// -----

// Attributes that can only be written in the generic form verify themselves too.
func.func @f() attributes {
  // expected-error @+1 {{unknown function 'tanh', expected one of relu, exp, neg, abs, sqrt}}
  e = #sparse.unary<"tanh", #sparse.access<"x", ["i"]>>} { func.return }

// -----

func.func @f() attributes {
  // expected-error @+1 {{unknown binary operator 'pow'}}
  e = #sparse.binary<"pow", #sparse.access<"x", ["i"]>, #sparse.constant<2.0 : f64>>} { func.return }

// -----

func.func @f() attributes {
  // expected-error @+1 {{sum must reduce at least one index}}
  e = #sparse.reduce<[], #sparse.access<"x", ["i"]>>} { func.return }

// -----

func.func @f() attributes {
  // expected-error @+1 {{block size must be positive, got 0}}
  e = #sparse.level<#builtin.int<0>, "dense", "mod", #builtin.int<0>, []>} { func.return }

// -----

// expected-error @+1 {{unknown format 'csq', expected one of dense, compressed, csr, csc, dcsr, dcsc, coo, csf, bsr:RxC or a #sparse.encoding}}
func.func @f(%a: tensor<8x8xf64, #sparse.encoding<"csq">>) { func.return }

// -----

// expected-error @+1 {{format 'csf' is for rank 3, but the tensor has rank 2}}
func.func @f(%a: tensor<8x8xf64, #sparse.encoding<"csf", rank = 2>>) { func.return }

// -----

// expected-error @+1 {{format 'bsr:4' must look like bsr:RxC, e.g. bsr:4x4}}
func.func @f(%a: tensor<8x8xf64, #sparse.encoding<"bsr:4">>) { func.return }

// -----

func.func @f(%s: tensor<4x8xf32, #sparse.encoding<"csr">>) {
  // expected-error @+1 {{softmax dim 2 is out of range for rank 2}}
  %p = sparse.softmax %s {dim = 2} : tensor<4x8xf32, #sparse.encoding<"csr">>
  func.return
}

// -----

func.func @f(%s: tensor<4x8xi32>) {
  // expected-error @+1 {{softmax needs f32 or f64 elements, got i32}}
  %p = sparse.softmax %s {dim = 1} : tensor<4x8xi32>
  func.return
}
