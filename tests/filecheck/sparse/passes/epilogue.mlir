// RUN: treadle-opt %s -p 'sparse-order-loops,sparse-to-loops' | filecheck %s
// RUN: treadle-opt %s -p 'sparse-order-loops,sparse-to-loops' -t c | filecheck %s --check-prefix=C

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

// A row epilogue product, Bias(o) + sum[k](relu(sum[j](A(i, j) * Y(j, k))) * W(k, o)) — a GCN
// layer and the next layer's linear: the inner statement's row i is built in a row buffer, gets
// the relu in place, and is multiplied by W into a second row buffer that starts at Bias; that
// one is stored into C's row i. relu(A Y) is never stored. The loop over o is marked
// `treadle.simd` (independent iterations) and becomes `#pragma omp simd`.
// CHECK-LABEL: func.func @gcn_then_linear
// CHECK: scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK-NEXT: %[[ROW:.*]] = memref.alloca() : memref<4xf32>
// CHECK: memref.load %A_crd1
// CHECK: memref.store %{{.*}}, %[[ROW]][%{{.*}}]
// CHECK: %[[T:.*]] = memref.load %[[ROW]][%{{.*}}]
// CHECK: %[[R:.*]] = arith.maxnumf %[[T]], %{{.*}} : f32
// CHECK: memref.store %[[R]], %[[ROW]]
// CHECK: %[[Z:.*]] = memref.alloca() : memref<3xf32>
// CHECK: %[[BIAS:.*]] = memref.load %Bias_vals
// CHECK: memref.store %[[BIAS]], %[[Z]]
// CHECK: scf.for %[[K:k[_0-9]*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK: %[[RK:.*]] = memref.load %[[ROW]][%[[K]]]
// CHECK: scf.for %[[O:o[_0-9]*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK: %[[W:.*]] = memref.load %W_vals[%[[K]], %[[O]]]
// CHECK: arith.mulf %[[RK]], %[[W]]
// CHECK: memref.store %{{.*}}, %[[Z]][%[[O]]]
// CHECK: } {treadle.simd}
// CHECK: memref.store %{{.*}}, %C_out[%[[I]], %{{.*}}]
// CHECK-NOT: memref.store %{{.*}}, %C_out
// CHECK: func.return
// C-LABEL: void gcn_then_linear(
// C: #pragma omp simd
// C-NEXT: for (int64_t o{{.*}} = 0; o{{.*}} < 3; o{{.*}} += 1) {
// C-NEXT: float w = W_vals[
func.func @gcn_then_linear(%A: tensor<8x16xf32, #csr>, %Y: tensor<16x4xf32>, %W: tensor<4x3xf32>, %Bias: tensor<3xf32>) -> tensor<8x3xf32> {
  %C = sparse.assign C(i, o) = Bias(o) + sum[k](relu(sum[j](A(i, j) * Y(j, k))) * W(k, o)) where A = %A, Y = %Y, W = %W, Bias = %Bias : tensor<8x16xf32, #csr>, tensor<16x4xf32>, tensor<4x3xf32>, tensor<3xf32> -> tensor<8x3xf32>
  func.return %C : tensor<8x3xf32>
}
