// RUN: treadle-opt %s | filecheck %s
// RUN: treadle-opt %s -t c | filecheck %s --check-prefix=C

// The op round-trips; the C backend declares one variable per sum and passes the row segments'
// first elements and the sums' addresses to the prelude's helper (AVX2: four rows at a time).
// CHECK: %s, %s_1 = cpu.dots %x[%i, %c0], %y[%r0, %r1] [%c0] {length = 32 : i64} : memref<8x32xf32>, memref<?x32xf32> -> f32, f32
// C: typedef float treadle_v8f __attribute__((vector_size(32)));
// C: static inline void treadle_dots_float(
// C: treadle_hadd8(treadle_hadd8(a0, a1), treadle_hadd8(a2, a3))
// C: void f(
// C: float s;
// C-NEXT: float s_1;
// C-NEXT: treadle_dots_float(&x[(i) * 32 + 0], (const float*[]){&y[(r0) * 32 + 0], &y[(r1) * 32 + 0]}, 2, 32, (float*[]){&s, &s_1});
func.func @f(%x: memref<8x32xf32>, %y: memref<?x32xf32>, %i: index, %r0: index, %r1: index) -> (f32, f32) {
  %c0 = arith.constant 0 : index
  %s:2 = cpu.dots %x[%i, %c0], %y[%r0, %r1] [%c0] {length = 32 : i64} : memref<8x32xf32>, memref<?x32xf32> -> f32, f32
  func.return %s#0, %s#1 : f32, f32
}
