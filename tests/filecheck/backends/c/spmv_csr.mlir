// RUN: treadle-opt %s -t c | filecheck %s

// CSR SpMV: memref arguments become pointer + sizes, the row sum a scalar carried by the loop.
func.func @spmv(%pos: memref<?xindex>, %crd: memref<?xindex>, %vals: memref<?xf64>, %x: memref<?xf64>, %y: memref<?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f64
  %m = memref.dim %y, %c0 : memref<?xf64>
  scf.for %i = %c0 to %m step %c1 {
    %i1 = arith.addi %i, %c1 : index
    %lo = memref.load %pos[%i] : memref<?xindex>
    %hi = memref.load %pos[%i1] : memref<?xindex>
    %sum = scf.for %jj = %lo to %hi step %c1 iter_args(%acc = %zero) -> (f64) {
      %j = memref.load %crd[%jj] : memref<?xindex>
      %a = memref.load %vals[%jj] : memref<?xf64>
      %xv = memref.load %x[%j] : memref<?xf64>
      %p = arith.mulf %a, %xv : f64
      %s = arith.addf %acc, %p : f64
      scf.yield %s : f64
    }
    memref.store %sum, %y[%i] : memref<?xf64>
  }
  func.return
}

// CHECK:      void spmv(int64_t* restrict pos, int64_t pos_dim0, int64_t* restrict crd, int64_t crd_dim0, double* restrict vals, int64_t vals_dim0, double* restrict x, int64_t x_dim0, double* restrict y, int64_t y_dim0) {
// CHECK-NEXT:   for (int64_t i = 0; i < y_dim0; i += 1) {
// CHECK-NEXT:     int64_t i1 = (i + 1);
// CHECK-NEXT:     int64_t lo = pos[i];
// CHECK-NEXT:     int64_t hi = pos[i1];
// CHECK-NEXT:     double acc = 0.0;
// CHECK-NEXT:     for (int64_t jj = lo; jj < hi; jj += 1) {
// CHECK-NEXT:       int64_t j = crd[jj];
// CHECK-NEXT:       double a = vals[jj];
// CHECK-NEXT:       double xv = x[j];
// CHECK-NEXT:       double p = (a * xv);
// CHECK-NEXT:       double s = (acc + p);
// CHECK-NEXT:       acc = s;
// CHECK-NEXT:     }
// CHECK-NEXT:     y[i] = acc;
// CHECK-NEXT:   }
// CHECK-NEXT:   return;
// CHECK-NEXT: }
