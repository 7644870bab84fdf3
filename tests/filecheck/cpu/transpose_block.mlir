// RUN: treadle-opt %s | filecheck %s
// RUN: treadle-opt %s -t c | filecheck %s --check-prefix=C

// The op round-trips; the C backend passes the two blocks' first elements and row lengths to
// the prelude's block transpose, which only files that use it carry
// (8 f32 in GCC vector extensions with AVX2; no intrinsics header).
// CHECK: cpu.transpose_block %e[%i, %j], %t[%j, %i] {size = 8 : i64} : memref<32x?xf32>, memref<?x32xf32>
// C-NOT: #include <immintrin.h>
// C: typedef float treadle_v8f __attribute__((vector_size(32)));
// C: static inline void treadle_transpose_block_float(
// C: __builtin_shufflevector(r[q], r[q + 1], 0, 8, 1, 9, 4, 12, 5, 13)
// C: void f(float* restrict e, int64_t e_dim0, int64_t e_dim1, float* restrict t, int64_t t_dim0, int64_t t_dim1, int64_t i, int64_t j) {
// C-NEXT: treadle_transpose_block_float(&e[(i) * e_dim1 + j], e_dim1, &t[(j) * 32 + i], 32, 8);
func.func @f(%e: memref<32x?xf32>, %t: memref<?x32xf32>, %i: index, %j: index) {
  cpu.transpose_block %e[%i, %j], %t[%j, %i] {size = 8 : i64} : memref<32x?xf32>, memref<?x32xf32>
  func.return
}
