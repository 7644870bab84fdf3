// RUN: treadle-opt %s -p 'sparse-order-loops,sparse-to-loops' | filecheck %s

#csr = #sparse.encoding<{map = (i, j) -> (i : dense, j : compressed)}>

// relu of a sum (a GCN layer): the row loop zeroes a row buffer local to iteration i (the row is
// 16 bytes, at most 256: kept in registers), accumulates into it, then stores it into C's row i
// through the relu — the epilogue fused into the loop, no second pass over C.
// CHECK-LABEL: func.func @gcn_layer
// CHECK: scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK-NEXT: %[[ROW:.*]] = memref.alloca() : memref<4xf32>
// CHECK: memref.store %{{.*}}, %[[ROW]][%{{.*}}]
// CHECK: memref.load %A_crd1
// CHECK: arith.mulf
// CHECK: memref.store %{{.*}}, %[[ROW]][%{{.*}}]
// CHECK: scf.for %[[Z:z[_0-9]*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK: %[[V:.*]] = memref.load %[[ROW]][%[[Z]]]
// CHECK: %[[R:.*]] = arith.maxnumf %[[V]], %{{.*}} : f32
// CHECK: memref.store %[[R]], %C_out[%[[I]], %[[Z]]]
// CHECK: }
// CHECK: }
// CHECK: func.return
func.func @gcn_layer(%A: tensor<8x16xf32, #csr>, %H: tensor<16x4xf32>) -> tensor<8x4xf32> {
  %C = sparse.assign C(i, k) = relu(sum[j](A(i, j) * H(j, k))) where A = %A, H = %H : tensor<8x16xf32, #csr>, tensor<16x4xf32> -> tensor<8x4xf32>
  func.return %C : tensor<8x4xf32>
}

// A row of 128 f32 (512 bytes) is accumulated in C itself (in a buffer it would spill), and the
// relu is applied to C's row after it is complete.
// CHECK-LABEL: func.func @gcn_wide
// CHECK-NOT: memref.alloca
// CHECK: scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK: memref.store %{{.*}}, %C_out[%[[I]], %{{.*}}]
// CHECK: memref.load %A_crd1
// CHECK: scf.for %[[Z:z[_0-9]*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK: %[[V:.*]] = memref.load %C_out[%[[I]], %[[Z]]]
// CHECK: %[[R:.*]] = arith.maxnumf %[[V]], %{{.*}} : f32
// CHECK: memref.store %[[R]], %C_out[%[[I]], %[[Z]]]
// CHECK: func.return
func.func @gcn_wide(%A: tensor<8x16xf32, #csr>, %H: tensor<16x128xf32>) -> tensor<8x128xf32> {
  %C = sparse.assign C(i, k) = relu(sum[j](A(i, j) * H(j, k))) where A = %A, H = %H : tensor<8x16xf32, #csr>, tensor<16x128xf32> -> tensor<8x128xf32>
  func.return %C : tensor<8x128xf32>
}

// relu of a residual plus a sum (a GraphSAGE layer, relu(X Wₛ + A (X Wₙ))): the row buffer
// starts as D's row i instead of zeros, is accumulated, then stored through the relu — one pass
// over C, none over D except the row start.
// CHECK-LABEL: func.func @sage_layer
// CHECK: scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK-NEXT: %[[ROW:.*]] = memref.alloca() : memref<4xf32>
// CHECK: scf.for %[[Z0:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK: %[[D:.*]] = memref.load %D_vals[%[[I]], %[[Z0]]]
// CHECK: memref.store %[[D]], %[[ROW]][%[[Z0]]]
// CHECK: memref.load %A_crd1
// CHECK: arith.mulf
// CHECK: scf.for %[[Z:z[_0-9]*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK: %[[V:.*]] = memref.load %[[ROW]][%[[Z]]]
// CHECK: %[[R:.*]] = arith.maxnumf %[[V]], %{{.*}} : f32
// CHECK: memref.store %[[R]], %C_out[%[[I]], %[[Z]]]
// CHECK: func.return
func.func @sage_layer(%A: tensor<8x16xf32, #csr>, %Y: tensor<16x4xf32>, %D: tensor<8x4xf32>) -> tensor<8x4xf32> {
  %C = sparse.assign C(i, k) = relu(D(i, k) + sum[j](A(i, j) * Y(j, k))) where A = %A, Y = %Y, D = %D : tensor<8x16xf32, #csr>, tensor<16x4xf32>, tensor<8x4xf32> -> tensor<8x4xf32>
  func.return %C : tensor<8x4xf32>
}

// The addend alone (torch.sparse.addmm): rows start at D, no relu pass after them.
// CHECK-LABEL: func.func @addmm
// CHECK: scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK: %[[D:.*]] = memref.load %D_vals[%[[I]], %{{.*}}]
// CHECK: memref.store %[[D]], %row[%{{.*}}]
// CHECK-NOT: arith.maxnumf
// CHECK: func.return
func.func @addmm(%A: tensor<8x16xf32, #csr>, %Y: tensor<16x4xf32>, %D: tensor<8x4xf32>) -> tensor<8x4xf32> {
  %C = sparse.assign C(i, k) = sum[j](A(i, j) * Y(j, k)) + D(i, k) where A = %A, Y = %Y, D = %D : tensor<8x16xf32, #csr>, tensor<16x4xf32>, tensor<8x4xf32> -> tensor<8x4xf32>
  func.return %C : tensor<8x4xf32>
}
