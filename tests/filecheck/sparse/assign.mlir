// RUN: TREADLE_ROUNDTRIP
// RUN: TREADLE_GENERIC_ROUNDTRIP

// The index-notation statements of the kernels Treadle's systems start from.

#csr = #sparse.encoding<{map = (i, j) -> (i : dense, j : compressed)}>
#csf = #sparse.encoding<{map = (i, j, k) -> (i : compressed, j : compressed, k : compressed)}>
#vec = #sparse.encoding<{map = (i) -> (i : compressed)}>

// CHECK-LABEL: func.func @spmv
// CHECK: %y = sparse.assign y(i) = A(i, j) * x(j) where A = %A, x = %x : tensor<4x8xf64, #sparse.encoding<{map = (i, j) -> (i : dense, j : compressed)}>>, tensor<8xf64> -> tensor<4xf64>
func.func @spmv(%A: tensor<4x8xf64, #csr>, %x: tensor<8xf64>) -> tensor<4xf64> {
  %y = sparse.assign y(i) = A(i,j) * x(j) where A = %A, x = %x : tensor<4x8xf64, #csr>, tensor<8xf64> -> tensor<4xf64>
  func.return %y : tensor<4xf64>
}

// CHECK-LABEL: func.func @spmm_sddmm_spgemm
// CHECK: %C = sparse.assign C(i, k) = A(i, j) * B(j, k) where A = %A, B = %B
// CHECK: %S = sparse.assign S(i, j) = A(i, j) * (D(i, k) * E(k, j)) where A = %A, D = %D, E = %E
// CHECK: %G = sparse.assign G(i, k) = A(i, j) * A2(j, k) where A = %A, A2 = %A2 : {{.*}} -> tensor<4x4xf64, #sparse.encoding<{map = (i, j) -> (i : dense, j : compressed)}>>
func.func @spmm_sddmm_spgemm(%A: tensor<4x8xf64, #csr>, %B: tensor<8x16xf64>, %D: tensor<4x3xf64>, %E: tensor<3x8xf64>, %A2: tensor<8x4xf64, #csr>) {
  %C = sparse.assign C(i, k) = A(i, j) * B(j, k) where A = %A, B = %B : tensor<4x8xf64, #csr>, tensor<8x16xf64> -> tensor<4x16xf64>
  %S = sparse.assign S(i, j) = A(i, j) * (D(i, k) * E(k, j)) where A = %A, D = %D, E = %E : tensor<4x8xf64, #csr>, tensor<4x3xf64>, tensor<3x8xf64> -> tensor<4x8xf64, #csr>
  %G = sparse.assign G(i, k) = A(i, j) * A2(j, k) where A = %A, A2 = %A2 : tensor<4x8xf64, #csr>, tensor<8x4xf64, #csr> -> tensor<4x4xf64, #csr>
  func.return
}

// CHECK-LABEL: func.func @elementwise_and_tensor3
// CHECK: %a = sparse.assign a(i) = b(i) + c(i) where b = %b, c = %c
// CHECK: %m = sparse.assign m(i) = b(i) * c(i) - 2.5 * b(i) where b = %b, c = %c
// CHECK: %t = sparse.assign t(i, j) = T(i, j, k) * c(k) where T = %T, c = %c
// CHECK: %k = sparse.assign k(i, r) = T(i, j, l) * U(j, r) * V(l, r) where T = %T, U = %U, V = %V
func.func @elementwise_and_tensor3(%b: tensor<4xf32, #vec>, %c: tensor<4xf32, #vec>, %T: tensor<4x4x4xf32, #csf>, %U: tensor<4x2xf32>, %V: tensor<4x2xf32>) {
  %a = sparse.assign a(i) = b(i) + c(i) where b = %b, c = %c : tensor<4xf32, #vec>, tensor<4xf32, #vec> -> tensor<4xf32, #vec>
  %m = sparse.assign m(i) = b(i) * c(i) - 2.5 * b(i) where b = %b, c = %c : tensor<4xf32, #vec>, tensor<4xf32, #vec> -> tensor<4xf32>
  %t = sparse.assign t(i, j) = T(i, j, k) * c(k) where T = %T, c = %c : tensor<4x4x4xf32, #csf>, tensor<4xf32, #vec> -> tensor<4x4xf32>
  %k = sparse.assign k(i, r) = T(i, j, l) * U(j, r) * V(l, r) where T = %T, U = %U, V = %V : tensor<4x4x4xf32, #csf>, tensor<4x2xf32>, tensor<4x2xf32> -> tensor<4x2xf32>
  func.return
}

// Unary functions, negation, constants, parentheses, explicit sums and 0-d results.
// CHECK-LABEL: func.func @expressions
// CHECK: %r = sparse.assign r(i) = relu(A(i, j) * x(j)) + exp(-x(i)) / sqrt(abs(x(i)) + 1.0) where A = %A, x = %x
// CHECK: %p = sparse.assign p(i) = sum[j](A(i, j) * x(j)) - (x(i) - (x(i) - 0.5)) where A = %A, x = %x
// CHECK: %s = sparse.assign s = sum[i, j](A(i, j)) * 1.0e-05 where A = %A : tensor<4x4xf64, #sparse.encoding<{map = (i, j) -> (i : dense, j : compressed)}>> -> tensor<f64>
// CHECK: %n = sparse.assign n = s where s = %s : tensor<f64> -> tensor<f64>
func.func @expressions(%A: tensor<4x4xf64, #csr>, %x: tensor<4xf64>) -> tensor<f64> {
  %r = sparse.assign r(i) = relu(A(i,j) * x(j)) + exp(-x(i)) / sqrt(abs(x(i)) + 1.0) where A = %A, x = %x : tensor<4x4xf64, #csr>, tensor<4xf64> -> tensor<4xf64>
  %p = sparse.assign p(i) = sum[j](A(i,j) * x(j)) - (x(i) - (x(i) - 0.5)) where A = %A, x = %x : tensor<4x4xf64, #csr>, tensor<4xf64> -> tensor<4xf64>
  %s = sparse.assign s() = sum[i, j](A(i, j)) * 0.00001 where A = %A : tensor<4x4xf64, #csr> -> tensor<f64>
  %n = sparse.assign n = s where s = %s : tensor<f64> -> tensor<f64>
  func.return %n : tensor<f64>
}

// Schedules and format conversion.
// CHECK-LABEL: func.func @scheduled
// CHECK: sparse.assign C(i, k) = A(i, j) * B(j, k) where A = %A, B = %B : {{.*}} schedule #sparse.schedule<order = [i, j, k], tile = {k = 32}, parallel = i, omp = dynamic, chunk = 16>
// CHECK: sparse.assign C(i, k) = A(i, j) * B(j, k) where A = %A, B = %B : {{.*}} schedule #sparse.schedule<parallel = i>
// CHECK: %T = sparse.convert %A : tensor<4x8xf64, #sparse.encoding<{map = (i, j) -> (i : dense, j : compressed)}>> to tensor<4x8xf64, #sparse.encoding<{map = (i, j) -> (j : dense, i : compressed)}>>
func.func @scheduled(%A: tensor<4x8xf64, #csr>, %B: tensor<8x64xf64>) {
  %C = sparse.assign C(i, k) = A(i, j) * B(j, k) where A = %A, B = %B : tensor<4x8xf64, #csr>, tensor<8x64xf64> -> tensor<4x64xf64> schedule #sparse.schedule<order = [i, j, k], tile = {k = 32}, parallel = i, omp = dynamic, chunk = 16>
  %C2 = sparse.assign C(i, k) = A(i, j) * B(j, k) where A = %A, B = %B : tensor<4x8xf64, #csr>, tensor<8x64xf64> -> tensor<4x64xf64> schedule #sparse.schedule<parallel = i, omp = static>
  %T = sparse.convert %A : tensor<4x8xf64, #csr> to tensor<4x8xf64, #sparse.encoding<{map = (i, j) -> (j : dense, i : compressed)}>>
  func.return
}
