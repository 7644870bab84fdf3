"""The `cpu` dialect: loop-level CPU operations that MLIR has upstream and xDSL 0.74 lacks.

`cpu.prefetch %m[%i, %j] : memref<...>` asks the cache for the element's line ahead of its use
(MLIR's `memref.prefetch %m[...], read, locality<3>, data`). It has no result and does not
change memory, so a kernel's values never depend on it; the C backend emits `__builtin_prefetch`.
The sparse lowering uses it for rows that are gathered by coordinate (a row of B in SpMM, of Eᵀ
in SDDMM), whose addresses the hardware prefetcher cannot guess.

`cpu.transpose_block %src[%i, %j], %dst[%k, %l] {size = 8 : i64} : memref<...>, memref<...>`
stores the transpose of src's size x size block at (i, j) into dst's block at (k, l):
`dst[k + p, l + q] = src[i + q, j + p]`. MLIR reaches the same code through `vector.transpose`
and x86vector's AVX2 8x8 lowering; here the C backend emits an in-register 8x8 shuffle for
f32 on AVX2 and a scalar block otherwise. A transpose by blocks reads and writes whole lines;
one element at a time (a loop nest of loads and stores) strides a power-of-two row length
through one cache set and ran 2-3x slower here (32 x 131072 f32: 5.6 ms against 2.9 ms).
"""

from __future__ import annotations

from xdsl.dialects.builtin import I64, IndexType, IntegerAttr, MemRefType
from xdsl.ir import Attribute, Dialect
from xdsl.irdl import AttrSizedOperandSegments, IRDLOperation, attr_def, irdl_op_definition, operand_def, var_operand_def
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


Cpu = Dialect("cpu", [PrefetchOp, TransposeBlockOp], [])
