// RUN: treadle-opt %s -t c | filecheck %s

// scf.while: before-region values feed the condition, the after region runs while it holds;
// scf.if results are declared before the branch and assigned in each arm.
func.func @count_common(%a: memref<?xi32>, %b: memref<?xi32>) -> index {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %na = memref.dim %a, %c0 : memref<?xi32>
  %nb = memref.dim %b, %c0 : memref<?xi32>
  %r:3 = scf.while (%ia = %c0, %ib = %c0, %n = %c0) : (index, index, index) -> (index, index, index) {
    %more_a = arith.cmpi slt, %ia, %na : index
    %more_b = arith.cmpi slt, %ib, %nb : index
    %more = arith.andi %more_a, %more_b : i1
    scf.condition(%more) %ia, %ib, %n : index, index, index
  } do {
  ^bb0(%ia2: index, %ib2: index, %n2: index):
    %x = memref.load %a[%ia2] : memref<?xi32>
    %y = memref.load %b[%ib2] : memref<?xi32>
    %eq = arith.cmpi eq, %x, %y : i32
    %lt = arith.cmpi slt, %x, %y : i32
    %ia3, %ib3, %n3 = scf.if %eq -> (index, index, index) {
      %ia4 = arith.addi %ia2, %c1 : index
      %ib4 = arith.addi %ib2, %c1 : index
      %n4 = arith.addi %n2, %c1 : index
      scf.yield %ia4, %ib4, %n4 : index, index, index
    } else {
      %step_a = arith.extui %lt : i1 to i64
      %step_a_idx = arith.index_cast %step_a : i64 to index
      %ia5 = arith.addi %ia2, %step_a_idx : index
      %ib5 = arith.select %lt, %ib2, %ib2 : index
      %ib6 = arith.addi %ib5, %c1 : index
      %ib7 = arith.subi %ib6, %step_a_idx : index
      scf.yield %ia5, %ib7, %n2 : index, index, index
    }
    scf.yield %ia3, %ib3, %n3 : index, index, index
  }
  func.return %r#2 : index
}

// CHECK-LABEL: void count_common(int32_t* restrict a, int64_t a_dim0, int32_t* restrict b, int64_t b_dim0, int64_t* ret0) {
// CHECK-NEXT:    int64_t ia = 0;
// CHECK-NEXT:    int64_t ib = 0;
// CHECK-NEXT:    int64_t n = 0;
// CHECK-NEXT:    int64_t ia2;
// CHECK-NEXT:    int64_t ib2;
// CHECK-NEXT:    int64_t n2;
// CHECK-NEXT:    while (1) {
// CHECK-NEXT:      bool more_a = (ia < a_dim0);
// CHECK-NEXT:      bool more_b = (ib < b_dim0);
// CHECK-NEXT:      bool more = (more_a & more_b);
// CHECK-NEXT:      ia2 = ia;
// CHECK-NEXT:      ib2 = ib;
// CHECK-NEXT:      n2 = n;
// CHECK-NEXT:      if (!more) break;
// CHECK:           int64_t ia3;
// CHECK-NEXT:      int64_t ib3;
// CHECK-NEXT:      int64_t n3;
// CHECK-NEXT:      if (eq) {
// CHECK:           } else {
// CHECK:             int64_t step_a = ((int64_t)lt);
// CHECK:           }
// CHECK-NEXT:      ia = ia3;
// CHECK-NEXT:      ib = ib3;
// CHECK-NEXT:      n = n3;
// CHECK-NEXT:    }
// CHECK-NEXT:    *ret0 = n2;
// CHECK-NEXT:    return;
