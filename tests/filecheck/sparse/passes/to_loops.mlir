// RUN: treadle-opt %s -p sparse-to-loops | filecheck %s
// RUN: treadle-opt %s -p sparse-to-loops -t c | filecheck %s --check-prefix=C

#csr = #sparse.encoding<{map = (i, j) -> (i : dense, j : compressed)}>
#csc = #sparse.encoding<{map = (i, j) -> (j : dense, i : compressed)}>
#dcsr = #sparse.encoding<{map = (i, j) -> (i : compressed, j : compressed)}>
#coo = #sparse.encoding<{map = (i, j) -> (i : compressed(nonunique), j : singleton)}>
#bsr = #sparse.encoding<{map = (i, j) -> (i floordiv 2 : dense, j floordiv 2 : compressed, i mod 2 : dense, j mod 2 : dense)}>

// SpMV over CSR: a dense row loop (which zeroes its own output row), a loop over the row's
// positions, x located by coordinate, summed in a scalar. The sum is versioned by row length:
// reassociable (vectorized, gathering x) for at least 32 entries, 4 partial sums (4 positions
// per step, the rest into the first, then a tree of adds) for at least 8, plain below.
// CHECK-LABEL: func.func @spmv(%A_pos1: memref<?xi64>, %A_crd1: memref<?xi64>, %A_vals: memref<?xf64>, %x_vals: memref<16xf64>, %y_out: memref<8xf64>)
// CHECK-DAG: %[[C32:.*]] = arith.constant 32 : index
// CHECK-DAG: %[[C8:.*]] = arith.constant 8 : index
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK: scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step
// CHECK: memref.store %{{.*}}, %y_out[%[[I]]]
// CHECK: %[[LO:.*]] = arith.index_cast {{.*}} : i64 to index
// CHECK: %[[HI:.*]] = arith.index_cast {{.*}} : i64 to index
// CHECK: %[[N:.*]] = arith.subi %[[HI]], %[[LO]] : index
// CHECK: %[[LONG:.*]] = arith.cmpi uge, %[[N]], %[[C32]] : index
// CHECK: %[[SUM:.*]] = scf.if %[[LONG]] -> (f64) {
// CHECK: scf.for %[[Q:.*]] = %[[LO]] to %[[HI]] step %{{.*}} iter_args(%[[ACC:.*]] = %{{.*}}) -> (f64) {
// CHECK: %[[J:.*]] = arith.index_cast {{.*}}
// CHECK: %[[A:.*]] = memref.load %A_vals[%[[Q]]]
// CHECK: %[[X:.*]] = memref.load %x_vals[%[[J]]]
// CHECK: %[[P:.*]] = arith.mulf %[[A]], %[[X]] : f64
// CHECK: arith.addf %[[ACC]], %[[P]] fastmath<reassoc> : f64
// CHECK: } else {
// CHECK: %[[MID:.*]] = arith.cmpi uge, %[[N]], %[[C8]] : index
// CHECK: scf.if %[[MID]] -> (f64) {
// CHECK: %[[STEPS:.*]] = arith.divui %[[N]], %[[C4]] : index
// CHECK: %[[MAINN:.*]] = arith.muli %[[STEPS]], %[[C4]] : index
// CHECK: %[[MAIN:.*]] = arith.addi %[[LO]], %[[MAINN]] : index
// CHECK: %[[PS0:[a-z0-9_]+]], %[[PS1:[a-z0-9_]+]], %[[PS2:[a-z0-9_]+]], %[[PS3:[a-z0-9_]+]] = scf.for %{{.*}} = %[[LO]] to %[[MAIN]] step %[[C4]] iter_args(%[[P0:[a-z0-9_]+]] = %{{.*}}, %[[P1:[a-z0-9_]+]] = %{{.*}}, %[[P2:[a-z0-9_]+]] = %{{.*}}, %[[P3:[a-z0-9_]+]] = %{{.*}}) -> (f64, f64, f64, f64) {
// CHECK: arith.addf %[[P0]], %{{.*}} : f64
// CHECK: arith.addf %[[P3]], %{{.*}} : f64
// CHECK: %[[REST:.*]] = scf.for %{{.*}} = %[[MAIN]] to %[[HI]] step %{{.*}} iter_args(%{{.*}} = %[[PS0]]) -> (f64) {
// CHECK: %[[S01:.*]] = arith.addf %[[REST]], %[[PS1]] : f64
// CHECK: %[[S23:.*]] = arith.addf %[[PS2]], %[[PS3]] : f64
// CHECK: arith.addf %[[S01]], %[[S23]] : f64
// CHECK: } else {
// CHECK: scf.for %[[Q2:.*]] = %[[LO]] to %[[HI]] step %{{.*}} iter_args(%[[ACC2:.*]] = %{{.*}}) -> (f64) {
// CHECK: arith.addf %[[ACC2]], %{{.*}} : f64
// CHECK: %[[OLD:.*]] = memref.load %y_out[%[[I]]]
// CHECK: %[[NEW:.*]] = arith.addf %[[OLD]], %[[SUM]] : f64
// CHECK: memref.store %[[NEW]], %y_out[%[[I]]]
// C: void spmv(int64_t* restrict A_pos1,
func.func @spmv(%A: tensor<8x16xf64, #csr>, %x: tensor<16xf64>) -> tensor<8xf64> {
  %y = sparse.assign y(i) = A(i, j) * x(j) where A = %A, x = %x : tensor<8x16xf64, #csr>, tensor<16xf64> -> tensor<8xf64>
  func.return %y : tensor<8xf64>
}

// SpMM CSR x dense: the dense k loop is innermost. C's row (32 f64, 256 bytes) accumulates in
// a buffer local to the row's iteration, stored into C when the row is done.
// CHECK-LABEL: func.func @spmm
// CHECK: %[[ROW:.*]] = memref.alloca() : memref<32xf64>
// CHECK: memref.store %{{.*}}, %[[ROW]]
// CHECK: memref.load %A_pos1
// CHECK: scf.for %[[Q:.*]] = %{{.*}} to %{{.*}} step
// CHECK: scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step
// CHECK: memref.load %A_vals[%[[Q]]]
// CHECK: memref.load %B_vals[%{{.*}}, %[[K]]]
// CHECK: memref.store %{{.*}}, %[[ROW]][%[[K]]]
// CHECK: %[[V:.*]] = memref.load %[[ROW]]
// CHECK-NEXT: memref.store %[[V]], %C_out
func.func @spmm(%A: tensor<8x16xf64, #csr>, %B: tensor<16x32xf64>) -> tensor<8x32xf64> {
  %C = sparse.assign C(i, k) = A(i, j) * B(j, k) where A = %A, B = %B : tensor<8x16xf64, #csr>, tensor<16x32xf64> -> tensor<8x32xf64>
  func.return %C : tensor<8x32xf64>
}

// SDDMM into the mask's (CSR) pattern: the output values sit at the mask's positions, so the
// kernel writes a values array and reuses the mask's pos/crd. M(i, j) does not depend on the
// summed k: it is loaded once and multiplies the finished dot product (one multiply per entry).
// The mask is the only sparse operand and k is summed inside each (i, j): every position is
// computed once, so its value is stored, with no zero fill before the loops and no load-add.
// CHECK-LABEL: func.func @sddmm(%M_pos1: memref<?xi64>, %M_crd1: memref<?xi64>, %M_vals: memref<?xf64>, %D_vals: memref<8x4xf64>, %E_vals: memref<4x16xf64>, %C_vals: memref<?xf64>)
// CHECK-NOT: memref.store
// CHECK: memref.load %M_pos1
// CHECK: scf.for %[[Q:.*]] = %{{.*}} to %{{.*}} step
// CHECK: memref.load %M_crd1[%[[Q]]]
// CHECK: %[[SUM:.*]] = scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step
// CHECK-NOT: %M_vals
// CHECK: memref.load %D_vals[%{{.*}}, %[[K]]]
// CHECK: memref.load %E_vals[%[[K]], %{{.*}}]
// CHECK-NOT: %M_vals
// CHECK: scf.yield
// CHECK: %[[MV:.*]] = memref.load %M_vals[%[[Q]]]
// CHECK: %[[PROD:.*]] = arith.mulf %[[MV]], %[[SUM]]
// CHECK-NEXT: memref.store %[[PROD]], %C_vals[%[[Q]]]
func.func @sddmm(%M: tensor<8x16xf64, #csr>, %D: tensor<8x4xf64>, %E: tensor<4x16xf64>) -> tensor<8x16xf64, #csr> {
  %C = sparse.assign C(i, j) = M(i, j) * D(i, k) * E(k, j) where M = %M, D = %D, E = %E : tensor<8x16xf64, #csr>, tensor<8x4xf64>, tensor<4x16xf64> -> tensor<8x16xf64, #csr>
  func.return %C : tensor<8x16xf64, #csr>
}

// The same with k outside j: each position is visited once per k, so the values are zeroed
// first and accumulated.
// CHECK-LABEL: func.func @sddmm_k_outside
// CHECK: scf.for %[[Z:.*]] = %{{.*}} to %{{.*}} step
// CHECK-NEXT: memref.store %{{.*}}, %C_vals[%[[Z]]]
// CHECK: %[[OLD:.*]] = memref.load %C_vals[%[[Q:.*]]]
// CHECK: arith.addf %[[OLD]], %{{.*}}
// CHECK: memref.store %{{.*}}, %C_vals[%[[Q]]]
func.func @sddmm_k_outside(%M: tensor<8x16xf64, #csr>, %D: tensor<8x4xf64>, %E: tensor<4x16xf64>) -> tensor<8x16xf64, #csr> {
  %C = sparse.assign C(i, j) = M(i, j) * D(i, k) * E(k, j) where M = %M, D = %D, E = %E : tensor<8x16xf64, #csr>, tensor<8x4xf64>, tensor<4x16xf64> -> tensor<8x16xf64, #csr> schedule #sparse.schedule<order = [i, k, j]>
  func.return %C : tensor<8x16xf64, #csr>
}

// Sparse add into CSR: the union merge lattice of sorted rows, with no workspace. Each row is
// one while loop that runs while either operand has entries; a finished operand stands at the
// sentinel column 8, the smallest column is emitted with the sum of the operands at it, and
// those advance. Counted in a first pass, written in a second after the prefix sum.
// CHECK-LABEL: func.func @add(%A_pos1: memref<?xi64>, %A_crd1: memref<?xi64>, %A_vals: memref<?xf64>, %B_pos1: memref<?xi64>, %B_crd1: memref<?xi64>, %B_vals: memref<?xf64>) -> (memref<?xi64>, memref<?xi64>, memref<?xf64>)
// CHECK-NOT: memref<?xindex>
// CHECK: %[[COLS:.*]] = arith.constant 8 : index
// CHECK: %[[POS:.*]] = memref.alloc(%{{.*}}) : memref<?xi64>
// CHECK: scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step
// CHECK: scf.while
// CHECK: arith.ori
// CHECK: scf.condition
// CHECK: memref.load %A_crd1
// CHECK: scf.yield %[[COLS]] : index
// CHECK: memref.load %B_crd1
// CHECK: arith.minui
// CHECK: memref.store %{{.*}}, %[[POS]]
// CHECK: %[[NNZ:.*]] = arith.index_cast {{.*}} : i64 to index
// CHECK: %[[CRD:.*]] = memref.alloc(%[[NNZ]]) : memref<?xi64>
// CHECK: %[[VALS:.*]] = memref.alloc(%[[NNZ]]) : memref<?xf64>
// CHECK: scf.while
// CHECK: memref.load %A_vals
// CHECK: memref.load %B_vals
// CHECK: arith.select
// CHECK: arith.select
// CHECK: memref.store %{{.*}}, %[[CRD]]
// CHECK: memref.store %{{.*}}, %[[VALS]]
// CHECK: func.return %[[POS]], %[[CRD]], %[[VALS]]
func.func @add(%A: tensor<8x8xf64, #csr>, %B: tensor<8x8xf64, #csr>) -> tensor<8x8xf64, #csr> {
  %C = sparse.assign C(i, j) = A(i, j) + B(i, j) where A = %A, B = %B : tensor<8x8xf64, #csr>, tensor<8x8xf64, #csr> -> tensor<8x8xf64, #csr>
  func.return %C : tensor<8x8xf64, #csr>
}

// SpGEMM CSR x CSR (Gustavson): two phases over blocks of rows, each block with its own
// workspace — count each row's columns (row tags in `mark`), prefix-sum the counts into the row
// pointer, allocate crd/vals, then scatter A(i, k) * B(k, j) into the dense row w (a bitmap of
// the row's columns deduplicates them), order the columns (bitmap read with cttz, insertion
// sort, or radix sort by row size) and gather.
// CHECK-LABEL: func.func @spgemm
// CHECK: memref.store %{{.*}}, %{{.*}}[%{{.*}}] : memref<?xi64>
// CHECK: scf.for %[[BLK:.*]] = %{{.*}} to %{{.*}} step
// CHECK: %[[LO:.*]] = arith.muli %[[BLK]], %{{.*}} : index
// CHECK: scf.for %[[I:.*]] = %[[LO]] to %{{.*}} step
// CHECK: scf.for %[[QA:.*]] = %{{.*}} to %{{.*}} step
// CHECK: memref.load %A_crd1[%[[QA]]]
// CHECK: scf.for %[[QB:.*]] = %{{.*}} to %{{.*}} step
// CHECK: memref.load %B_crd1[%[[QB]]]
// CHECK: %[[W:w[_0-9]*]] = memref.alloc(%{{.*}}) : memref<?xf64>
// CHECK: %[[BITS:bits[_0-9]*]] = memref.alloc(%{{.*}}) : memref<?xi64>
// CHECK: memref.load %[[BITS]]
// CHECK: arith.ori
// CHECK: math.cttz
// CHECK: arith.shrui
// CHECK: memref.load %[[W]]
func.func @spgemm(%A: tensor<8x8xf64, #csr>, %B: tensor<8x8xf64, #csr>) -> tensor<8x8xf64, #csr> {
  %C = sparse.assign C(i, j) = A(i, k) * B(k, j) where A = %A, B = %B : tensor<8x8xf64, #csr>, tensor<8x8xf64, #csr> -> tensor<8x8xf64, #csr>
  func.return %C : tensor<8x8xf64, #csr>
}

// Intersection of two compressed levels: a while loop that advances the smaller coordinate.
// CHECK-LABEL: func.func @dot
// CHECK: scf.while
// CHECK: arith.cmpi ult
// CHECK: arith.andi
// CHECK: scf.condition
// CHECK: arith.minui
// CHECK: scf.if
// CHECK: arith.select
func.func @dot(%A: tensor<8x8xf64, #dcsr>, %B: tensor<8x8xf64, #csr>) -> tensor<8xf64> {
  %y = sparse.assign y(i) = A(i, j) * B(i, j) where A = %A, B = %B : tensor<8x8xf64, #dcsr>, tensor<8x8xf64, #csr> -> tensor<8xf64>
  func.return %y : tensor<8xf64>
}

// COO: positions of the nonunique level, coordinates of the singleton at the same position.
// CHECK-LABEL: func.func @coo(%A_pos0: memref<?xi64>, %A_crd0: memref<?xi64>, %A_crd1: memref<?xi64>, %A_vals: memref<?xf64>
// CHECK: memref.store %{{.*}}, %y_out
// CHECK: scf.for %[[P:.*]] = %{{.*}} to %{{.*}} step
// CHECK: memref.load %A_crd0[%[[P]]]
// CHECK: memref.load %A_crd1[%[[P]]]
func.func @coo(%A: tensor<8x16xf64, #coo>, %x: tensor<16xf64>) -> tensor<8xf64> {
  %y = sparse.assign y(i) = A(i, j) * x(j) where A = %A, x = %x : tensor<8x16xf64, #coo>, tensor<16xf64> -> tensor<8xf64>
  func.return %y : tensor<8xf64>
}

// BSR: block row, block column positions, then the two intra-block loops; i = ib * 2 + ii.
// CHECK-LABEL: func.func @bsr
// CHECK: memref.store %{{.*}}, %y_out
// CHECK: scf.for %[[IB:.*]] = %{{.*}} to %{{.*}} step
// CHECK: scf.for %[[QB:.*]] = %{{.*}} to %{{.*}} step
// CHECK: scf.for %[[II:.*]] = %{{.*}} to %{{.*}} step
// CHECK: scf.for %[[JI:.*]] = %{{.*}} to %{{.*}} step
// CHECK: arith.muli %[[IB]], %{{.*}} : index
func.func @bsr(%A: tensor<8x16xf64, #bsr>, %x: tensor<16xf64>) -> tensor<8xf64> {
  %y = sparse.assign y(i) = A(i, j) * x(j) where A = %A, x = %x : tensor<8x16xf64, #bsr>, tensor<16xf64> -> tensor<8xf64>
  func.return %y : tensor<8xf64>
}

// A statement without a summed index writes each output point once: stored, not accumulated.
// With only dense operands every point is written, so there is no zero fill either.
// CHECK-LABEL: func.func @transpose(%E_vals: memref<4x8xf64>, %T_out: memref<8x4xf64>)
// CHECK-NOT: arith.constant 0.000000e+00
// CHECK: scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step
// CHECK: scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step
// CHECK: %[[A:.*]] = memref.load %E_vals[%[[K]], %[[J]]]
// CHECK-NEXT: memref.store %[[A]], %T_out[%[[J]], %[[K]]]
func.func @transpose(%E: tensor<4x8xf64>) -> tensor<8x4xf64> {
  %T = sparse.assign T(j, k) = E(k, j) where E = %E : tensor<4x8xf64> -> tensor<8x4xf64> schedule #sparse.schedule<order = [j, k]>
  func.return %T : tensor<8x4xf64>
}

// With a sparse operand the points it does not store stay zero (filled), the others are stored.
// CHECK-LABEL: func.func @scale_to_dense
// CHECK: memref.store %{{.*}}, %C_out
// CHECK: scf.for
// CHECK: %[[V:.*]] = arith.mulf
// CHECK-NOT: memref.load %C_out
// CHECK: memref.store %[[V]], %C_out
func.func @scale_to_dense(%A: tensor<8x16xf64, #csr>) -> tensor<8x16xf64> {
  %C = sparse.assign C(i, j) = A(i, j) * 2.0 where A = %A : tensor<8x16xf64, #csr> -> tensor<8x16xf64>
  func.return %C : tensor<8x16xf64>
}

// A dense f32 transposition whose extents are multiples of 8 goes by 8x8 blocks, in the
// schedule's order, the parallel loop keeping its OpenMP attribute; other extents keep one
// load and store per element.
// CHECK-LABEL: func.func @transpose_blocks(%E_vals: memref<32x64xf32>, %T_out: memref<64x32xf32>)
// CHECK: scf.for %[[JB:.*]] = %{{.*}} to %{{.*}} step %[[EIGHT:.*]] {
// CHECK-NEXT: scf.for %[[KB:.*]] = %{{.*}} to %{{.*}} step %[[EIGHT]] {
// CHECK-NEXT: cpu.transpose_block %E_vals[%[[KB]], %[[JB]]], %T_out[%[[JB]], %[[KB]]] {size = 8 : i64} : memref<32x64xf32>, memref<64x32xf32>
// CHECK-NEXT: }
// CHECK-NEXT: } {treadle.omp = {schedule = "static"}}
// C: treadle_transpose_block_float(&E_vals[
func.func @transpose_blocks(%E: tensor<32x64xf32>) -> tensor<64x32xf32> {
  %t = sparse.assign T(j, k) = E(k, j) where E = %E : tensor<32x64xf32> -> tensor<64x32xf32> schedule #sparse.schedule<order = [j, k], parallel = j>
  func.return %t : tensor<64x32xf32>
}

// CHECK-LABEL: func.func @transpose_odd(
// CHECK-NOT: cpu.transpose_block
// CHECK: memref.load %E_vals
// CHECK: memref.store
func.func @transpose_odd(%E: tensor<30x64xf32>) -> tensor<64x30xf32> {
  %t = sparse.assign T(j, k) = E(k, j) where E = %E : tensor<30x64xf32> -> tensor<64x30xf32>
  func.return %t : tensor<64x30xf32>
}
