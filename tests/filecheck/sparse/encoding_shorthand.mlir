// RUN: treadle-opt %s | filecheck %s

// Named formats are accepted as a string in #sparse.encoding<...> and print in the full form.
// `coo` and `dense` fit any rank (default 2; `rank = N` says otherwise).

// CHECK-LABEL: func.func @shorthands
// CHECK-SAME: tensor<8xf32, #sparse.encoding<{map = (i) -> (i : compressed)}>>
// CHECK-SAME: tensor<8x8xf32, #sparse.encoding<{map = (i, j) -> (i : dense, j : compressed)}>>
// CHECK-SAME: tensor<8x8xf32, #sparse.encoding<{map = (i, j) -> (j : dense, i : compressed)}>>
// CHECK-SAME: tensor<8x8xf32, #sparse.encoding<{map = (i, j) -> (i : compressed, j : compressed)}>>
// CHECK-SAME: tensor<8x8xf32, #sparse.encoding<{map = (i, j) -> (i : compressed(nonunique), j : singleton)}>>
// CHECK-SAME: tensor<4x4x4xf32, #sparse.encoding<{map = (i, j, k) -> (i : compressed(nonunique), j : singleton(nonunique), k : singleton)}>>
// CHECK-SAME: tensor<4x4x4xf32, #sparse.encoding<{map = (i, j, k) -> (i : compressed, j : compressed, k : compressed)}>>
// CHECK-SAME: tensor<8x8xf32, #sparse.encoding<{map = (i, j) -> (i floordiv 4 : dense, j floordiv 2 : compressed, i mod 4 : dense, j mod 2 : dense)}>>
func.func @shorthands(
    %v: tensor<8xf32, #sparse.encoding<"compressed">>,
    %csr: tensor<8x8xf32, #sparse.encoding<"csr">>,
    %csc: tensor<8x8xf32, #sparse.encoding<"csc">>,
    %dcsr: tensor<8x8xf32, #sparse.encoding<"dcsr">>,
    %coo: tensor<8x8xf32, #sparse.encoding<"coo">>,
    %coo3: tensor<4x4x4xf32, #sparse.encoding<"coo", rank = 3>>,
    %csf: tensor<4x4x4xf32, #sparse.encoding<"csf">>,
    %bsr: tensor<8x8xf32, #sparse.encoding<"bsr:4x2">>) {
  func.return
}
