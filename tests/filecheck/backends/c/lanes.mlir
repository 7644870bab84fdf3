// RUN: treadle-opt %s -t c | filecheck %s

// A reassociable sum that gathers (x at a loaded coordinate) is written out as 8 f32 lanes: the
// values at consecutive positions one vector load, the gathered ones a scalar load per lane,
// the product a vector multiply, one vector accumulator reduced by a tree of adds; the last
// (fewer than 8) positions run the plain body.
func.func @spmv(%pos: memref<?xindex>, %crd: memref<?xindex>, %vals: memref<?xf32>, %x: memref<?xf32>, %y: memref<?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %m = memref.dim %y, %c0 : memref<?xf32>
  scf.for %i = %c0 to %m step %c1 {
    %i1 = arith.addi %i, %c1 : index
    %lo = memref.load %pos[%i] : memref<?xindex>
    %hi = memref.load %pos[%i1] : memref<?xindex>
    %sum = scf.for %q = %lo to %hi step %c1 iter_args(%acc = %zero) -> (f32) {
      %j = memref.load %crd[%q] : memref<?xindex>
      %a = memref.load %vals[%q] : memref<?xf32>
      %xv = memref.load %x[%j] : memref<?xf32>
      %p = arith.mulf %a, %xv : f32
      %s = arith.addf %acc, %p fastmath<reassoc> : f32
      scf.yield %s : f32
    }
    memref.store %sum, %y[%i] : memref<?xf32>
  }
  func.return
}

// CHECK: typedef float treadle_lanes_float __attribute__((vector_size(32)));
// CHECK-LABEL: void spmv(int64_t* restrict pos,
// CHECK:         float acc = 0.0f;
// CHECK-NEXT:    treadle_lanes_float lanes = {0};
// CHECK-NEXT:    int64_t q = lo;
// CHECK-NEXT:    for (; q + 8 <= hi; q += 8) {
// CHECK-NEXT:      int64_t j = crd[(q + 0)];
// CHECK:           int64_t j_7 = crd[(q + 7)];
// CHECK-NEXT:      treadle_lanes_float a; memcpy(&a, &vals[q], sizeof a);
// CHECK-NEXT:      float xv = x[j];
// CHECK:           float xv_7 = x[j_7];
// CHECK-NEXT:      treadle_lanes_float p = a * ((treadle_lanes_float){xv, xv_1, xv_2, xv_3, xv_4, xv_5, xv_6, xv_7});
// CHECK-NEXT:      lanes += p;
// CHECK-NEXT:    }
// CHECK-NEXT:    acc = acc + (((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7])));
// CHECK-NEXT:    for (; q < hi; q += 1) {
// CHECK-NEXT:      int64_t j_8 = crd[q];
// CHECK-NEXT:      float a_1 = vals[q];
// CHECK-NEXT:      float xv_8 = x[j_8];
// CHECK-NEXT:      float p_1 = (a_1 * xv_8);
// CHECK-NEXT:      float s = (acc + p_1);
// CHECK-NEXT:      acc = s;
// CHECK-NEXT:    }
// CHECK-NEXT:    y[i] = acc;

// A dense reassociable sum (no gather) keeps gcc's own vectorization.
func.func @dot(%x: memref<?xf32>, %w: memref<?xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %n = memref.dim %x, %c0 : memref<?xf32>
  %s = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %zero) -> (f32) {
    %a = memref.load %x[%i] : memref<?xf32>
    %b = memref.load %w[%i] : memref<?xf32>
    %p = arith.mulf %a, %b : f32
    %acc2 = arith.addf %acc, %p fastmath<reassoc> : f32
    scf.yield %acc2 : f32
  }
  func.return %s : f32
}

// CHECK-LABEL: void dot(float* restrict x,
// CHECK-NOT:     treadle_lanes
// CHECK:         #pragma omp simd reduction(+:acc)
