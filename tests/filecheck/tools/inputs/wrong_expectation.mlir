// Inputs of opt_errors.mlir (not a test of its own).
func.func @f(%x: tensor<8xf64>) -> tensor<8xf64> {
  // expected-error @+1 {{rank 3}}
  %y = sparse.assign y(i) = x(i, j) where x = %x : tensor<8xf64> -> tensor<8xf64>
  func.return %y : tensor<8xf64>
}
