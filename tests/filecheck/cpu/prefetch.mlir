// RUN: treadle-opt %s | filecheck %s
// RUN: treadle-opt %s -t c | filecheck %s --check-prefix=C

// The op round-trips, and the C backend emits a read prefetch with high locality of the element.
// CHECK: cpu.prefetch %m[%i, %j] : memref<?x32xf32>
// C: void f(float* restrict m, int64_t m_dim0, int64_t m_dim1, int64_t i, int64_t j) {
// C-NEXT: __builtin_prefetch(&m[(i) * 32 + j], 0, 3);
func.func @f(%m: memref<?x32xf32>, %i: index, %j: index) {
  cpu.prefetch %m[%i, %j] : memref<?x32xf32>
  func.return
}
