// RUN: treadle-opt %s -p sparse-explicit-reductions | filecheck %s

// Implicit sums go to the smallest term (operand of + or -) holding all uses of the index.

// CHECK-LABEL: func.func @placement
// CHECK: sparse.assign y(i) = sum[j](A(i, j) * x(j)) where
// CHECK: sparse.assign y(i) = sum[j](A(i, j) * x(j)) + z(i) where
// CHECK: sparse.assign y(i) = sum[j](A(i, j) * x(j)) - sum[k](B(i, k) * z(k)) where
// CHECK: sparse.assign y(i) = sum[j](A(i, j) + B(i, j)) where
// CHECK: sparse.assign y(i) = sum[j](exp(A(i, j))) where
// CHECK: sparse.assign C(i, l) = sum[j, k](A(i, j) * B(j, k) * D(k, l)) where
// CHECK: sparse.assign s = sum[i, j](A(i, j)) where
// Explicit sums are kept as they are.
// CHECK: sparse.assign y(i) = relu(sum[j](A(i, j) * x(j))) where
func.func @placement(%A: tensor<4x4xf64>, %B: tensor<4x4xf64>, %D: tensor<4x4xf64>, %x: tensor<4xf64>, %z: tensor<4xf64>) {
  %0 = sparse.assign y(i) = A(i, j) * x(j) where A = %A, x = %x : tensor<4x4xf64>, tensor<4xf64> -> tensor<4xf64>
  %1 = sparse.assign y(i) = A(i, j) * x(j) + z(i) where A = %A, x = %x, z = %z : tensor<4x4xf64>, tensor<4xf64>, tensor<4xf64> -> tensor<4xf64>
  %2 = sparse.assign y(i) = A(i, j) * x(j) - B(i, k) * z(k) where A = %A, x = %x, B = %B, z = %z : tensor<4x4xf64>, tensor<4xf64>, tensor<4x4xf64>, tensor<4xf64> -> tensor<4xf64>
  %3 = sparse.assign y(i) = A(i, j) + B(i, j) where A = %A, B = %B : tensor<4x4xf64>, tensor<4x4xf64> -> tensor<4xf64>
  %4 = sparse.assign y(i) = exp(A(i, j)) where A = %A : tensor<4x4xf64> -> tensor<4xf64>
  %5 = sparse.assign C(i, l) = A(i, j) * B(j, k) * D(k, l) where A = %A, B = %B, D = %D : tensor<4x4xf64>, tensor<4x4xf64>, tensor<4x4xf64> -> tensor<4x4xf64>
  %6 = sparse.assign s = A(i, j) where A = %A : tensor<4x4xf64> -> tensor<f64>
  %7 = sparse.assign y(i) = relu(sum[j](A(i, j) * x(j))) where A = %A, x = %x : tensor<4x4xf64>, tensor<4xf64> -> tensor<4xf64>
  func.return
}
