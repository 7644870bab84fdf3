// RUN: treadle-opt %s --split-input-file --verify-diagnostics

func.func @g(%m: memref<?x32xf32>, %i: index) {
  // expected-error @+1 {{'cpu.prefetch' op 1 indices for a rank-2 memref}}
  cpu.prefetch %m[%i] : memref<?x32xf32>
  func.return
}
