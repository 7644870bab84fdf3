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

// -----

func.func @dots_count(%x: memref<8x8xf32>, %i: index) {
  // expected-error @+1 {{'cpu.dots' op 2 rhs rows for 1 sums: expected one sum per row}}
  %s = cpu.dots %x[%i, %i], %x[%i, %i] [%i] {length = 8 : i64} : memref<8x8xf32>, memref<8x8xf32> -> f32
  func.return
}

// -----

func.func @dots_type(%x: memref<8x8xf32>, %y: memref<8x8xf64>, %i: index) {
  // expected-error @+1 {{'cpu.dots' op lhs and rhs must have the same float element type}}
  %s = cpu.dots %x[%i, %i], %y[%i] [%i] {length = 8 : i64} : memref<8x8xf32>, memref<8x8xf64> -> f32
  func.return
}

// -----

func.func @dots_rank(%x: memref<8xf32>, %y: memref<8x8xf32>, %i: index) {
  // expected-error @+1 {{'cpu.dots' op lhs: expected a rank-2 memref}}
  %s = cpu.dots %x[%i], %y[%i] [%i] {length = 8 : i64} : memref<8xf32>, memref<8x8xf32> -> f32
  func.return
}
