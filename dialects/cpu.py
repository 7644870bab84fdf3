"""The `cpu` dialect: loop-level CPU operations that MLIR has upstream and xDSL 0.74 lacks.

`cpu.prefetch %m[%i, %j] : memref<...>` asks the cache for the element's line ahead of its use
(MLIR's `memref.prefetch %m[...], read, locality<3>, data`). It has no result and does not
change memory, so a kernel's values never depend on it; the C backend emits `__builtin_prefetch`.
The sparse lowering uses it for rows that are gathered by coordinate (a row of B in SpMM, of Eᵀ
in SDDMM), whose addresses the hardware prefetcher cannot guess.
"""

from __future__ import annotations

from xdsl.dialects.builtin import IndexType, MemRefType
from xdsl.ir import Attribute, Dialect
from xdsl.irdl import IRDLOperation, irdl_op_definition, operand_def, var_operand_def
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


Cpu = Dialect("cpu", [PrefetchOp], [])
