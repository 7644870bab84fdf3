// RUN: treadle-opt %s --split-input-file --verify-diagnostics

func.func @g(%m: memref<?x32xf32>, %i: index) {
  // expected-error @+1 {{'cpu.prefetch' op 1 indices for a rank-2 memref}}
  cpu.prefetch %m[%i] : memref<?x32xf32>
  func.return
}

// -----

func.func @rank(%m: memref<64xf32>, %t: memref<8x8xf32>, %i: index) {
  // expected-error @+1 {{'cpu.transpose_block' op source: expected a rank-2 memref and 2 indices, got rank 1 and 1}}
  cpu.transpose_block %m[%i], %t[%i, %i] {size = 8 : i64} : memref<64xf32>, memref<8x8xf32>
  func.return
}

// -----

func.func @types(%m: memref<8x8xf64>, %t: memref<8x8xf32>, %i: index) {
  // expected-error @+1 {{'cpu.transpose_block' op source and dest must have the same element type}}
  cpu.transpose_block %m[%i, %i], %t[%i, %i] {size = 8 : i64} : memref<8x8xf64>, memref<8x8xf32>
  func.return
}

// -----

func.func @size(%m: memref<8x8xf32>, %t: memref<8x8xf32>, %i: index) {
  // expected-error @+1 {{'cpu.transpose_block' op size must be positive, got 0}}
  cpu.transpose_block %m[%i, %i], %t[%i, %i] {size = 0 : i64} : memref<8x8xf32>, memref<8x8xf32>
  func.return
}
