// RUN: treadle-opt %s -t c | filecheck %s

// treadle.omp on a loop becomes a pragma; a carried sum becomes an OpenMP reduction, and an
// n-dimensional scf.parallel a collapse(n) nest.
func.func @dot(%x: memref<?xf32>, %y: memref<?xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %n = memref.dim %x, %c0 : memref<?xf32>
  %s = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %zero) -> (f32) {
    %a = memref.load %x[%i] : memref<?xf32>
    %b = memref.load %y[%i] : memref<?xf32>
    %p = arith.mulf %a, %b : f32
    %acc2 = arith.addf %acc, %p : f32
    scf.yield %acc2 : f32
  } {treadle.omp = {schedule = "dynamic", chunk = 64}}
  func.return %s : f32
}

// CHECK-LABEL: void dot(float* restrict x, int64_t x_dim0, float* restrict y, int64_t y_dim0, float* ret0) {
// CHECK-NEXT:    float acc = 0.0f;
// CHECK-NEXT:    #pragma omp parallel for schedule(dynamic, 64) reduction(+:acc)
// CHECK-NEXT:    for (int64_t i = 0; i < x_dim0; i += 1) {
// CHECK:           acc = acc2;
// CHECK-NEXT:    }
// CHECK-NEXT:    *ret0 = acc;

func.func @scale(%A: memref<8x?xf64>, %k: f64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %n = memref.dim %A, %c1 : memref<8x?xf64>
  "scf.parallel"(%c0, %c0, %c8, %n, %c1, %c1) ({
  ^bb0(%i: index, %j: index):
    %a = memref.load %A[%i, %j] : memref<8x?xf64>
    %b = arith.mulf %a, %k : f64
    memref.store %b, %A[%i, %j] : memref<8x?xf64>
    scf.reduce
  }) {operandSegmentSizes = array<i32: 2, 2, 2, 0>, treadle.omp = {schedule = "static", num_threads = 4}} : (index, index, index, index, index, index) -> ()
  func.return
}

// CHECK-LABEL: void scale(double* restrict A, int64_t A_dim0, int64_t A_dim1, double k) {
// CHECK-NEXT:    #pragma omp parallel for schedule(static) num_threads(4) collapse(2)
// CHECK-NEXT:    for (int64_t i = 0; i < 8; i += 1) {
// CHECK-NEXT:      for (int64_t j = 0; j < A_dim1; j += 1) {
// CHECK-NEXT:        double a = A[(i) * A_dim1 + j];
// CHECK-NEXT:        double b = (a * k);
// CHECK-NEXT:        A[(i) * A_dim1 + j] = b;
// CHECK-NEXT:      }
// CHECK-NEXT:    }

// A float reduction whose add allows reassociation gets a simd reduction pragma.
func.func @sum(%x: memref<?xf64>) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f64
  %n = memref.dim %x, %c0 : memref<?xf64>
  %s = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %zero) -> (f64) {
    %a = memref.load %x[%i] : memref<?xf64>
    %acc2 = arith.addf %acc, %a fastmath<reassoc> : f64
    scf.yield %acc2 : f64
  }
  func.return %s : f64
}

// CHECK-LABEL: void sum(double* restrict x, int64_t x_dim0, double* ret0) {
// CHECK-NEXT:    double acc = 0.0;
// CHECK-NEXT:    #pragma omp simd reduction(+:acc)
// CHECK-NEXT:    for (int64_t i = 0; i < x_dim0; i += 1) {
