"""The `cpu` dialect: loop-level CPU operations for what MLIR expresses with `memref.prefetch`
and its `vector` dialect (which our scalar loop IR and C backend do not model): a prefetch, an
8x8 block transpose and a batch of dot products, each with a portable scalar meaning.

`cpu.prefetch %m[%i, %j] : memref<...>` asks the cache for the element's line ahead of its use
(MLIR's `memref.prefetch %m[...], read, locality<3>, data`). It has no result and does not
change memory, so a kernel's values never depend on it; the C backend emits `__builtin_prefetch`.
The sparse lowering uses it for rows that are gathered by coordinate (a row of B in SpMM, of Eᵀ
in SDDMM), whose addresses the hardware prefetcher cannot guess.

`cpu.transpose_block %src[%i, %j], %dst[%k, %l] {size = 8 : i64} : memref<...>, memref<...>`
stores the transpose of src's size x size block at (i, j) into dst's block at (k, l):
`dst[k + p, l + q] = src[i + q, j + p]`; the two blocks must not overlap. MLIR reaches the
same code through `vector.transpose` and x86vector's AVX2 8x8 lowering; here the C backend
emits an in-register 8x8 shuffle for f32 on AVX2 (GCC vector extensions) and a scalar block
otherwise. A transpose by blocks reads
and writes whole lines; one element at a time (a loop nest of loads and stores) strides a
power-of-two row length through one cache set and ran 1.5-2.4x slower here (32 x 131072 f32:
5.6 ms against 2.4-3.6 ms).

`%s:4 = cpu.dots %x[%i, %k], %y[%r0, %r1, %r2, %r3] [%l] {length = 32 : i64} : memref<...>,
memref<...> -> f32, f32, f32, f32` is U dot products of one row segment of x with U row
segments of y, `s_u = sum[t < length] x[i, k + t] * y[r_u, l + t]`, summed in any order (as
`fastmath<reassoc>` adds). It is the loop that `sparse-unroll` jams for SDDMM, as one op so that
the C backend reduces the U vector accumulators together (a tree of pairwise horizontal adds
for f32 on AVX2, four rows at a time) instead of one after another: the suite's SDDMM kernels
(K = 32) ran 1.2-1.9x faster than with gcc's vectorization of the jammed loop, in a hand A/B.
"""

from __future__ import annotations

from xdsl.dialects.builtin import I64, AnyFloat, IndexType, IntegerAttr, MemRefType
from xdsl.ir import Attribute, Dialect
from xdsl.irdl import (
    AttrSizedOperandSegments,
    IRDLOperation,
    attr_def,
    irdl_op_definition,
    operand_def,
    var_operand_def,
    var_result_def,
)
from xdsl.utils.exceptions import VerifyException


@irdl_op_definition
class PrefetchOp(IRDLOperation):
    """Prefetch one element's cache line for reading."""

    name = "cpu.prefetch"

    memref = operand_def(MemRefType[Attribute])
    indices = var_operand_def(IndexType)

    assembly_format = "$memref `[` $indices `]` attr-dict `:` type($memref)"

    def __init__(self, memref, indices):
        super().__init__(operands=[memref, indices])

    def verify_(self) -> None:
        rank = self.memref.type.get_num_dims()  # type: ignore[attr-defined]
        if len(self.indices) != rank:
            raise VerifyException(f"{len(self.indices)} indices for a rank-{rank} memref")


@irdl_op_definition
class TransposeBlockOp(IRDLOperation):
    """Store the transpose of a square block of one rank-2 memref into another."""

    name = "cpu.transpose_block"

    source = operand_def(MemRefType[Attribute])
    source_indices = var_operand_def(IndexType)
    dest = operand_def(MemRefType[Attribute])
    dest_indices = var_operand_def(IndexType)
    size = attr_def(IntegerAttr[I64])

    assembly_format = (
        "$source `[` $source_indices `]` `,` $dest `[` $dest_indices `]` attr-dict `:` type($source) `,` type($dest)"
    )
    irdl_options = (AttrSizedOperandSegments(),)

    def __init__(self, source, source_indices, dest, dest_indices, size: int):
        super().__init__(
            operands=[source, source_indices, dest, dest_indices], attributes={"size": IntegerAttr(size, I64)}
        )

    def verify_(self) -> None:
        for what, ref, indices in (("source", self.source, self.source_indices), ("dest", self.dest, self.dest_indices)):
            rank = ref.type.get_num_dims()  # type: ignore[attr-defined]
            if rank != 2 or len(indices) != 2:
                raise VerifyException(f"{what}: expected a rank-2 memref and 2 indices, got rank {rank} and {len(indices)}")
        if self.source.type.element_type != self.dest.type.element_type:  # type: ignore[attr-defined]
            raise VerifyException("source and dest must have the same element type")
        if self.size.value.data <= 0:
            raise VerifyException(f"size must be positive, got {self.size.value.data}")


@irdl_op_definition
class DotsOp(IRDLOperation):
    """Dot products of one row segment with several, each result one sum."""

    name = "cpu.dots"

    lhs = operand_def(MemRefType[Attribute])
    lhs_indices = var_operand_def(IndexType)
    rhs = operand_def(MemRefType[Attribute])
    rhs_rows = var_operand_def(IndexType)
    rhs_column = operand_def(IndexType)
    sums = var_result_def()
    length = attr_def(IntegerAttr[I64])

    assembly_format = (
        "$lhs `[` $lhs_indices `]` `,` $rhs `[` $rhs_rows `]` `[` $rhs_column `]` attr-dict "
        "`:` type($lhs) `,` type($rhs) `->` type($sums)"
    )
    irdl_options = (AttrSizedOperandSegments(),)

    def __init__(self, lhs, lhs_indices, rhs, rhs_rows, rhs_column, length: int):
        et = lhs.type.element_type
        super().__init__(
            operands=[lhs, lhs_indices, rhs, rhs_rows, rhs_column],
            result_types=[[et] * len(rhs_rows)],
            attributes={"length": IntegerAttr(length, I64)},
        )

    def verify_(self) -> None:
        for what, ref in (("lhs", self.lhs), ("rhs", self.rhs)):
            if ref.type.get_num_dims() != 2:  # type: ignore[attr-defined]
                raise VerifyException(f"{what}: expected a rank-2 memref")
        if len(self.lhs_indices) != 2:
            raise VerifyException(f"lhs: expected 2 indices, got {len(self.lhs_indices)}")
        et = self.lhs.type.element_type  # type: ignore[attr-defined]
        if self.rhs.type.element_type != et or not isinstance(et, AnyFloat):  # type: ignore[attr-defined]
            raise VerifyException("lhs and rhs must have the same float element type")
        if not self.rhs_rows or len(self.sums) != len(self.rhs_rows):
            raise VerifyException(f"{len(self.rhs_rows)} rhs rows for {len(self.sums)} sums: expected one sum per row")
        if any(r.type != et for r in self.sums):
            raise VerifyException(f"sums must have the element type {et}")
        if self.length.value.data <= 0:
            raise VerifyException(f"length must be positive, got {self.length.value.data}")


Cpu = Dialect("cpu", [PrefetchOp, TransposeBlockOp, DotsOp], [])
