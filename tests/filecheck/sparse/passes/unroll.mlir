// RUN: treadle-opt %s -p 'sparse-order-loops,sparse-unroll{factor=4}' | filecheck %s
// RUN: treadle-opt %s -p 'sparse-order-loops,sparse-unroll{factor=2},sparse-to-loops{strict=false}' | filecheck %s --check-prefix=LOOPS
// RUN: treadle-opt %s -p 'sparse-order-loops,sparse-unroll{factor=4},sparse-to-loops{strict=false}' | filecheck %s --check-prefix=PF
#csr = #sparse.encoding<{map = (i, j) -> (i : dense, j : compressed)}>
func.func @spmm(%A: tensor<8x16xf64, #csr>, %B: tensor<16x64xf64>) -> tensor<8x64xf64> {
  %C = sparse.assign C(i, k) = A(i, j) * B(j, k) where A = %A, B = %B : tensor<8x16xf64, #csr>, tensor<16x64xf64> -> tensor<8x64xf64>
  func.return %C : tensor<8x64xf64>
}
func.func @spmv(%A: tensor<8x16xf64, #csr>, %x: tensor<16xf64>) -> tensor<8xf64> {
  %y = sparse.assign y(i) = A(i, j) * x(j) where A = %A, x = %x : tensor<8x16xf64, #csr>, tensor<16xf64> -> tensor<8xf64>
  func.return %y : tensor<8xf64>
}
func.func @sddmm(%M: tensor<8x16xf64, #csr>, %D: tensor<8x4xf64>, %E: tensor<4x16xf64>) -> tensor<8x16xf64> {
  %C = sparse.assign C(i, j) = M(i, j) * D(i, k) * E(k, j) where M = %M, D = %D, E = %E : tensor<8x16xf64, #csr>, tensor<8x4xf64>, tensor<4x16xf64> -> tensor<8x16xf64>
  func.return %C : tensor<8x16xf64>
}

// SpMM sums over A's positions with a dense loop inside: unrolled. SpMV has no inner loop to
// jam into. SDDMM's sparse loop is an output index with one dense summed loop inside: unrolled
// (U dot products at once).
// CHECK-LABEL: func.func @spmm
// CHECK: schedule #sparse.schedule<order = [i, j, k], unroll = 4>
// CHECK-LABEL: func.func @spmv
// CHECK: sparse.note = "not unrolled: no dense loop inside 'j' to jam into (its scalar sum is vectorized)"
// CHECK-LABEL: func.func @sddmm
// CHECK: schedule #sparse.schedule<order = [i, j, k], unroll = 4>

// The position loop steps by 2, two coordinates are loaded, one k loop updates C(i, k) once
// with both products; a remainder loop takes the last position of an odd row.
// LOOPS-LABEL: func.func @spmm
// LOOPS: %[[SPAN:.*]] = arith.subi %[[HI:.*]], %[[LO:.*]] : index
// LOOPS: %[[MAIN:.*]] = arith.addi %[[LO]], %{{.*}} : index
// LOOPS: scf.for %[[Q:.*]] = %[[LO]] to %[[MAIN]] step %[[TWO:.*]] {
// LOOPS: memref.load %A_crd1[%[[Q]]]
// LOOPS: %[[Q1:.*]] = arith.addi %[[Q]], %{{.*}} : index
// LOOPS: memref.load %A_crd1[%[[Q1]]]
// LOOPS: scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// LOOPS: arith.mulf
// LOOPS: arith.mulf
// LOOPS: %[[BOTH:.*]] = arith.addf
// LOOPS: %[[OLD:.*]] = memref.load %C_out[%{{.*}}, %[[K]]]
// LOOPS: arith.addf %[[OLD]], %[[BOTH]]
// LOOPS: memref.store {{.*}}, %C_out
// LOOPS: scf.for %{{.*}} = %[[MAIN]] to %[[HI]] step

// SDDMM: the position loop steps by 2; both lanes' dot products are carried by one k loop
// (two accumulators, each reassociable), then each is scaled by its M value and added to the
// output at its column (here in the row buffer: a row of 16 f64 is 128 bytes); a remainder loop
// takes the last position of an odd row.
// LOOPS-LABEL: func.func @sddmm
// LOOPS: %[[SPAN:.*]] = arith.subi %[[HI:.*]], %[[LO:.*]] : index
// LOOPS: %[[MAIN:.*]] = arith.addi %[[LO]], %{{.*}} : index
// LOOPS: scf.for %[[Q:.*]] = %[[LO]] to %[[MAIN]] step %[[TWO:.*]] {
// LOOPS: %[[CR0:.*]] = memref.load %M_crd1[%[[Q]]]
// LOOPS: %[[C0:.*]] = arith.index_cast %[[CR0]]
// LOOPS: %[[Q1:.*]] = arith.addi %[[Q]], %{{.*}} : index
// LOOPS: %[[CR1:.*]] = memref.load %M_crd1[%[[Q1]]]
// LOOPS: %[[C1:.*]] = arith.index_cast %[[CR1]]
// LOOPS: %[[S0:.*]], %[[S1:.*]] = scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[A0:.*]] = %{{.*}}, %[[A1:.*]] = %{{.*}}) -> (f64, f64) {
// LOOPS: memref.load %E_vals[%[[K]], %[[C0]]]
// LOOPS: arith.addf %[[A0]], %{{.*}} fastmath<reassoc> : f64
// LOOPS: memref.load %E_vals[%[[K]], %[[C1]]]
// LOOPS: arith.addf %[[A1]], %{{.*}} fastmath<reassoc> : f64
// LOOPS: scf.yield
// LOOPS: %[[M0:.*]] = memref.load %M_vals[%[[Q]]]
// LOOPS: arith.mulf %[[M0]], %[[S0]]
// LOOPS: memref.store {{.*}}, %row[%[[C0]]]
// LOOPS: %[[M1:.*]] = memref.load %M_vals[%[[Q1]]]
// LOOPS: arith.mulf %[[M1]], %[[S1]]
// LOOPS: memref.store {{.*}}, %row[%[[C1]]]
// LOOPS: scf.for %{{.*}} = %[[MAIN]] to %[[HI]] step

// With f32 rows of 32 (128 bytes, two cache lines) gathered by A's coordinates, each unrolled
// step prefetches, for each lane, both lines of the row 8 positions ahead (clamped to the last
// stored entry); the dense row D(i, :) is not gathered and not prefetched.
// PF-LABEL: func.func @spmm32
// PF: scf.for %[[Q:qu[_0-9]*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// PF: %[[N:.*]] = memref.dim %A_crd1, %{{.*}} : memref<?xi64>
// PF: %[[LAST:.*]] = arith.subi %[[N]], %{{.*}} : index
// PF: %[[AHEAD:.*]] = arith.addi %[[Q]], %[[EIGHT:.*]] : index
// PF: %[[AT:.*]] = arith.minui %[[AHEAD]], %[[LAST]] : index
// PF: %[[CR:.*]] = memref.load %A_crd1[%[[AT]]]
// PF: %[[C:.*]] = arith.index_cast %[[CR]]
// PF: cpu.prefetch %B_vals[%[[C]], %{{.*}}] : memref<64x32xf32>
// PF: cpu.prefetch %B_vals[%[[C]], %{{.*}}] : memref<64x32xf32>
// PF-NOT: cpu.prefetch %B_vals[%[[C]]
// PF: scf.for %{{.*}} = %{{.*}} to %{{.*}} step
// SDDMM with Eᵀ row-major (the summed index last in both D and ET): the 4 lanes' dot products
// are one `cpu.dots` of D's row i with the 4 gathered rows of Eᵀ, each sum then scaled by its M
// value and stored at its position; the remainder loop keeps its scalar reduction.
// PF-LABEL: func.func @sddmm32
// PF: %[[CR0:.*]] = memref.load %M_crd1[%[[Q:.*]]]
// PF: %[[C0:.*]] = arith.index_cast %[[CR0]]
// PF: %[[C1:.*]] = arith.index_cast
// PF: %[[C2:.*]] = arith.index_cast
// PF: %[[C3:.*]] = arith.index_cast
// PF: cpu.prefetch %ET_vals
// PF-NOT: cpu.prefetch %D_vals
// PF: %[[DOT:.*]], %[[DOT1:.*]], %[[DOT2:.*]], %[[DOT3:.*]] = cpu.dots %D_vals[%[[I:.*]], %[[Z:.*]]], %ET_vals[%[[C0]], %[[C1]], %[[C2]], %[[C3]]] [%[[Z]]] {length = 32 : i64} : memref<8x32xf32>, memref<64x32xf32> -> f32, f32, f32, f32
// PF: %[[M0:.*]] = memref.load %M_vals[%[[Q]]]
// PF: arith.mulf %[[M0]], %[[DOT]]
// PF: memref.store {{.*}}, %C_vals[%[[Q]]]
// PF: arith.mulf {{.*}}, %[[DOT3]]
// PF: scf.for {{.*}} iter_args
// PF: arith.addf {{.*}} fastmath<reassoc> : f32
// PF: func.return
func.func @spmm32(%A: tensor<8x64xf32, #csr>, %B: tensor<64x32xf32>) -> tensor<8x32xf32> {
  %C = sparse.assign C(i, k) = A(i, j) * B(j, k) where A = %A, B = %B : tensor<8x64xf32, #csr>, tensor<64x32xf32> -> tensor<8x32xf32>
  func.return %C : tensor<8x32xf32>
}
func.func @sddmm32(%M: tensor<8x64xf32, #csr>, %D: tensor<8x32xf32>, %ET: tensor<64x32xf32>) -> tensor<8x64xf32, #csr> {
  %C = sparse.assign C(i, j) = M(i, j) * D(i, k) * ET(j, k) where M = %M, D = %D, ET = %ET : tensor<8x64xf32, #csr>, tensor<8x32xf32>, tensor<64x32xf32> -> tensor<8x64xf32, #csr>
  func.return %C : tensor<8x64xf32, #csr>
}
