// RUN: treadle-opt %s -p 'sparse-order-loops,sparse-tile{size=16}' | filecheck %s
// RUN: treadle-opt %s -p 'sparse-tile{index=k size=8},sparse-to-loops{strict=false}' | filecheck %s --check-prefix=LOOPS
// RUN: treadle-opt %s -p 'sparse-order-loops,sparse-tile{index=j size=4}' | filecheck %s --check-prefix=NAMED
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
func.func @spmm_ragged(%A: tensor<8x16xf64, #csr>, %B: tensor<16x60xf64>) -> tensor<8x60xf64> {
  %C = sparse.assign C(i, k) = A(i, j) * B(j, k) where A = %A, B = %B : tensor<8x16xf64, #csr>, tensor<16x60xf64> -> tensor<8x60xf64>
  func.return %C : tensor<8x60xf64>
}

// The dense index of SpMM/SDDMM is tiled; SpMV and SpGEMM have none, so they are left alone.
// CHECK-LABEL: func.func @spmv
// CHECK: schedule #sparse.schedule<order = [i, j]>
// CHECK-LABEL: func.func @spmm
// CHECK: schedule #sparse.schedule<order = [i, j, k], tile = {k = 16}>
// CHECK-LABEL: func.func @sddmm
// CHECK: schedule #sparse.schedule<order = [i, j, k]>
// CHECK-LABEL: func.func @spgemm
// CHECK: schedule #sparse.schedule<order = [i, k, j]>

// LOOPS-LABEL: func.func @spmm
// LOOPS: scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// LOOPS: memref.store %{{.*}}, %C_out[%[[I]], %{{.*}}]
// LOOPS: memref.load %A_pos1
// LOOPS: memref.load %A_pos1
// LOOPS: scf.for %[[Q:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// LOOPS: memref.load %A_crd1[%[[Q]]]
// LOOPS: scf.for %[[KT:.*]] = %{{.*}} to %{{.*}} step %[[EIGHT:.*]] {
// LOOPS: %[[END:.*]] = arith.addi %[[KT]], %[[EIGHT]] : index
// LOOPS-NOT: arith.minui
// LOOPS: scf.for %{{.*}} = %[[KT]] to %[[END]] step %{{.*}} {
// LOOPS: arith.mulf
// LOOPS: memref.store {{.*}}, %C_out

// 8 divides 64 above: every tile is full, a constant trip count. Over 60 columns the last
// tile is clamped to the extent.
// LOOPS-LABEL: func.func @spmm_ragged
// LOOPS: memref.load %A_crd1
// LOOPS: scf.for %[[KT:.*]] = %{{.*}} to %{{.*}} step %[[EIGHT:.*]] {
// LOOPS: %[[END:.*]] = arith.addi %[[KT]], %[[EIGHT]] : index
// LOOPS: %[[STOP:.*]] = arith.minui %[[END]], %{{.*}} : index
// LOOPS: scf.for %{{.*}} = %[[KT]] to %[[STOP]] step %{{.*}} {

// A named index that a sparse operand carries is left alone, with a note; statements without
// the index are untouched.
// NAMED-LABEL: func.func @spmv
// NAMED: sparse.note = "not tiled: index j is carried by a sparse operand"
// NAMED-LABEL: func.func @spmm
// NAMED: sparse.note = "not tiled: index j is carried by a sparse operand"
// NAMED-LABEL: func.func @sddmm
// NAMED: sparse.note = "not tiled: index j is carried by a sparse operand"
// NAMED-LABEL: func.func @spgemm
// NAMED: sparse.note = "not tiled: index j is carried by a sparse operand"
