// RUN: treadle-opt %s -p 'sparse-order-loops,sparse-to-loops' | filecheck %s

#csr = #sparse.encoding<{map = (i, j) -> (i : dense, j : compressed)}>

// relu of a sum (a GCN layer): the row loop zeroes row i, accumulates it, then applies relu to
// it before the next row — the epilogue fused into the loop, no second pass over C.
// CHECK-LABEL: func.func @gcn_layer
// CHECK: scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK: memref.store %{{.*}}, %C_out[%[[I]], %{{.*}}]
// CHECK: memref.load %A_crd1
// CHECK: arith.mulf
// CHECK: scf.for %[[Z:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK: %[[V:.*]] = memref.load %C_out[%[[I]], %[[Z]]]
// CHECK: %[[R:.*]] = arith.maxnumf %[[V]], %{{.*}} : f32
// CHECK: memref.store %[[R]], %C_out[%[[I]], %[[Z]]]
// CHECK: }
// CHECK: }
// CHECK: func.return
func.func @gcn_layer(%A: tensor<8x16xf32, #csr>, %H: tensor<16x4xf32>) -> tensor<8x4xf32> {
  %C = sparse.assign C(i, k) = relu(sum[j](A(i, j) * H(j, k))) where A = %A, H = %H : tensor<8x16xf32, #csr>, tensor<16x4xf32> -> tensor<8x4xf32>
  func.return %C : tensor<8x4xf32>
}
