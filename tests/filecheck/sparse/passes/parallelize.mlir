// RUN: treadle-opt %s -p 'sparse-order-loops,sparse-infer-formats,sparse-parallelize{schedule=dynamic chunk=4}' | filecheck %s
// RUN: treadle-opt %s -p 'sparse-parallelize{schedule=guided chunk=16},sparse-to-loops{strict=false}' | filecheck %s --check-prefix=LOOPS
#csr = #sparse.encoding<{map = (i, j) -> (i : dense, j : compressed)}>
#csc = #sparse.encoding<{map = (i, j) -> (j : dense, i : compressed)}>
func.func @spmv(%A: tensor<8x16xf64, #csr>, %x: tensor<16xf64>) -> tensor<8xf64> {
  %y = sparse.assign y(i) = A(i, j) * x(j) where A = %A, x = %x : tensor<8x16xf64, #csr>, tensor<16xf64> -> tensor<8xf64>
  func.return %y : tensor<8xf64>
}
func.func @spmm(%A: tensor<8x16xf64, #csr>, %B: tensor<16x64xf64>) -> tensor<8x64xf64> {
  %C = sparse.assign C(i, k) = A(i, j) * B(j, k) where A = %A, B = %B : tensor<8x16xf64, #csr>, tensor<16x64xf64> -> tensor<8x64xf64>
  func.return %C : tensor<8x64xf64>
}
func.func @sddmm(%M: tensor<8x16xf64, #csr>, %D: tensor<8x4xf64>, %E: tensor<4x16xf64>) -> tensor<8x16xf64> {
  %C = sparse.assign C(i, j) = M(i, j) * D(i, k) * E(k, j) where M = %M, D = %D, E = %E : tensor<8x16xf64, #csr>, tensor<8x4xf64>, tensor<4x16xf64> -> tensor<8x16xf64>
  func.return %C : tensor<8x16xf64>
}
func.func @spgemm(%A: tensor<8x8xf64, #csr>, %B: tensor<8x8xf64, #csr>) -> tensor<8x8xf64> {
  %C = sparse.assign C(i, j) = A(i, k) * B(k, j) where A = %A, B = %B : tensor<8x8xf64, #csr>, tensor<8x8xf64, #csr> -> tensor<8x8xf64>
  func.return %C : tensor<8x8xf64>
}
func.func @add(%A: tensor<8x8xf64, #csr>, %B: tensor<8x8xf64, #csr>) -> tensor<8x8xf64> {
  %C = sparse.assign C(i, j) = A(i, j) + B(j, i) where A = %A, B = %B : tensor<8x8xf64, #csr>, tensor<8x8xf64, #csr> -> tensor<8x8xf64>
  func.return %C : tensor<8x8xf64>
}

// CHECK-LABEL: func.func @spmv
// CHECK: schedule #sparse.schedule<order = [i, j], parallel = i, omp = dynamic, chunk = 4>
// CHECK-LABEL: func.func @spmm
// CHECK: schedule #sparse.schedule<order = [i, j, k], parallel = i, omp = dynamic, chunk = 4>
// The SDDMM output keeps the mask's pattern, so rows write disjoint values: parallel.
// CHECK-LABEL: func.func @sddmm
// CHECK: schedule #sparse.schedule<order = [i, j, k], parallel = i, omp = dynamic, chunk = 4>
// A CSR output is assembled in blocks of rows with a workspace each: its row loop is parallel.
// CHECK-LABEL: func.func @spgemm
// CHECK: schedule #sparse.schedule<order = [i, k, j], parallel = i, omp = dynamic, chunk = 4>

// LOOPS-LABEL: func.func @spmv
// LOOPS: scf.for
// LOOPS: scf.for
// LOOPS: } {treadle.omp = {schedule = "guided", chunk = 16 : i64}}
