// RUN: TREADLE_ROUNDTRIP
// RUN: TREADLE_GENERIC_ROUNDTRIP
// RUN: treadle-opt %s -p sparse-to-loops | filecheck %s --check-prefix=LOOPS
// RUN: treadle-opt %s -p sparse-to-loops -t c | filecheck %s --check-prefix=C

#csr = #sparse.encoding<{map = (i, j) -> (i : dense, j : compressed)}>

// CHECK-LABEL: func.func @rows
// CHECK: %P = sparse.softmax %S {dim = 1} : tensor<4x8xf32, #sparse.encoding<{map = (i, j) -> (i : dense, j : compressed)}>>
// CHECK-GENERIC: "sparse.softmax"(%{{.*}}) <{dim = 1 : i64}> : (tensor<4x8xf32, {{.*}}>) -> tensor<4x8xf32, {{.*}}>
func.func @rows(%S: tensor<4x8xf32, #csr>) -> tensor<4x8xf32, #csr> {
  %P = sparse.softmax %S {dim = 1} : tensor<4x8xf32, #csr>
  func.return %P : tensor<4x8xf32, #csr>
}

// Per row (in parallel): a max sweep over the nonzeros, an exp-and-sum sweep writing the
// result in the operand's pattern, then a scale by 1/sum (1 for a row of zeros).
// LOOPS-LABEL: func.func @rows(%S_pos1: memref<?xi64>, %S_crd1: memref<?xi64>, %S_vals: memref<?xf32>, %P_vals: memref<?xf32>)
// LOOPS: scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step
// LOOPS: memref.load %S_pos1[%[[I]]]
// LOOPS: %[[MAX:.*]] = scf.for %{{.*}} = %[[LO:.*]] to %[[HI:.*]] step %{{.*}} iter_args
// LOOPS: arith.cmpf one
// LOOPS: arith.maximumf
// LOOPS: %[[SUM:.*]] = scf.for %[[Q:.*]] = %[[LO]] to %[[HI]] step %{{.*}} iter_args
// LOOPS: arith.subf %{{.*}}, %[[MAX]]
// LOOPS: math.exp
// LOOPS: memref.store %{{.*}}, %P_vals[%[[Q]]]
// LOOPS: arith.cmpf oeq, %[[SUM]]
// LOOPS: arith.divf
// LOOPS: arith.mulf
// LOOPS: } {treadle.omp = {schedule = "dynamic", chunk = 16 : i64}}
// C-LABEL: void rows(
// C: #pragma omp parallel for schedule(dynamic, 16)
// C: expf(

// With `stored` (torch.sparse.softmax's rule) every stored entry takes part, explicit zeros
// included: the sweeps neither compare nor select.
// CHECK-LABEL: func.func @rows_stored
// CHECK: %P = sparse.softmax %S {dim = 0} stored : tensor<4x8xf64, {{.*}}>
// CHECK-GENERIC: "sparse.softmax"(%{{.*}}) <{dim = 0 : i64, stored}>
func.func @rows_stored(%S: tensor<4x8xf64, #sparse.encoding<{map = (i, j) -> (j : dense, i : compressed)}>>) -> tensor<4x8xf64, #sparse.encoding<{map = (i, j) -> (j : dense, i : compressed)}>> {
  %P = sparse.softmax %S {dim = 0} stored : tensor<4x8xf64, #sparse.encoding<{map = (i, j) -> (j : dense, i : compressed)}>>
  func.return %P : tensor<4x8xf64, #sparse.encoding<{map = (i, j) -> (j : dense, i : compressed)}>>
}

// LOOPS-LABEL: func.func @rows_stored(%S_pos1: memref<?xi64>, %S_crd1: memref<?xi64>, %S_vals: memref<?xf64>, %P_vals: memref<?xf64>)
// LOOPS-NOT: arith.cmpf one
// LOOPS-NOT: arith.select
// LOOPS: arith.maximumf
// LOOPS-NOT: arith.select
// LOOPS: math.exp
// LOOPS: memref.store %{{.*}}, %P_vals
// LOOPS: arith.cmpf oeq
// LOOPS: } {treadle.omp = {schedule = "dynamic", chunk = 16 : i64}}
