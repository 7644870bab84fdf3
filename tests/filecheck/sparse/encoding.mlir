// RUN: TREADLE_ROUNDTRIP
// RUN: TREADLE_GENERIC_ROUNDTRIP

// Every named format's encoding, and the level properties, print back as they were written.

// CHECK-LABEL: func.func @formats
// CHECK-SAME: tensor<8xf32, #sparse.encoding<{map = (i) -> (i : compressed)}>>
// CHECK-SAME: tensor<8x8xf32, #sparse.encoding<{map = (i, j) -> (i : dense, j : compressed)}>>
// CHECK-SAME: tensor<8x8xf32, #sparse.encoding<{map = (i, j) -> (j : dense, i : compressed)}>>
// CHECK-SAME: tensor<8x8xf32, #sparse.encoding<{map = (i, j) -> (i : compressed, j : compressed)}>>
// CHECK-SAME: tensor<8x8xf32, #sparse.encoding<{map = (i, j) -> (i : compressed(nonunique), j : singleton)}>>
// CHECK-SAME: tensor<4x4x4xf32, #sparse.encoding<{map = (i, j, k) -> (i : compressed(nonunique), j : singleton(nonunique), k : singleton)}>>
// CHECK-SAME: tensor<4x4x4xf32, #sparse.encoding<{map = (i, j, k) -> (i : compressed, j : compressed, k : compressed)}>>
// CHECK-SAME: tensor<8x8xf32, #sparse.encoding<{map = (i, j) -> (i floordiv 4 : dense, j floordiv 2 : compressed, i mod 4 : dense, j mod 2 : dense)}>>
// CHECK-SAME: tensor<8x8xf32, #sparse.encoding<{map = (i, j) -> (i floordiv 4 : compressed, j floordiv 4 : compressed, i mod 4 : dense, j mod 4 : dense)}>>
// CHECK-SAME: tensor<8x8xf32, #sparse.encoding<{map = (d0, d1) -> (d0 : dense, d1 : compressed(nonordered)), posWidth = 32, crdWidth = 16}>>
// CHECK-SAME: tensor<?x?xf64, #sparse.encoding<{map = (i, j) -> (i : dense, j : compressed)}>>
func.func @formats(
    %v: tensor<8xf32, #sparse.encoding<{map = (i) -> (i : compressed)}>>,
    %csr: tensor<8x8xf32, #sparse.encoding<{map = (i, j) -> (i : dense, j : compressed)}>>,
    %csc: tensor<8x8xf32, #sparse.encoding<{map = (i, j) -> (j : dense, i : compressed)}>>,
    %dcsr: tensor<8x8xf32, #sparse.encoding<{map = (i, j) -> (i : compressed, j : compressed)}>>,
    %coo: tensor<8x8xf32, #sparse.encoding<{map = (i, j) -> (i : compressed(nonunique), j : singleton)}>>,
    %coo3: tensor<4x4x4xf32, #sparse.encoding<{map = (i, j, k) -> (i : compressed(nonunique), j : singleton(nonunique), k : singleton)}>>,
    %csf: tensor<4x4x4xf32, #sparse.encoding<{map = (i, j, k) -> (i : compressed, j : compressed, k : compressed)}>>,
    %bsr: tensor<8x8xf32, #sparse.encoding<{map = (i, j) -> (i floordiv 4 : dense, j floordiv 2 : compressed, i mod 4 : dense, j mod 2 : dense)}>>,
    %bdcsr: tensor<8x8xf32, #sparse.encoding<{map = (i, j) -> (i floordiv 4 : compressed, j floordiv 4 : compressed, i mod 4 : dense, j mod 4 : dense)}>>,
    %unordered: tensor<8x8xf32, #sparse.encoding<{map = (d0, d1) -> (d0 : dense, d1 : compressed(nonordered)), posWidth = 32, crdWidth = 16}>>,
    %dynamic: tensor<?x?xf64, #sparse.encoding<{map = (i, j) -> (i : dense, j : compressed)}>>) {
  func.return
}
