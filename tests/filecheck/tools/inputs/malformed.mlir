// Inputs of opt_errors.mlir (not a test of its own).
func.func @f(%x: tensor<8xf64>) -> tensor<8xf64> {
  %y = sparse.asign y(i) = x(i) where x = %x : tensor<8xf64> -> tensor<8xf64>
  func.return %y : tensor<8xf64>
}

// -----

func.func @g(%A: tensor<4x4xf64>, %x: tensor<5xf64>) -> tensor<4xf64> {
  %y = sparse.assign y(i) = A(i, j) * x(i) where A = %A, x = %x : tensor<4x4xf64>, tensor<5xf64> -> tensor<4xf64>
  func.return %y : tensor<4xf64>
}
