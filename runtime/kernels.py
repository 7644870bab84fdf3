"""
Ready-made compiled kernels on numpy buffers: SpMM, SpMV, SDDMM, SpGEMM, sparse add, and the
dense-times-sparseᵀ product of a pruned linear layer.

Why: frontends (torch) call the same few statements with many shapes; building the statement
once per (kernel, formats, shapes, dtype) and reusing its compiled kernel keeps the per-call
overhead at a dictionary lookup plus the ctypes call. Sparse operands are `treadle.Tensor`s
whose arrays may alias torch's buffers (no copies).
"""

from __future__ import annotations

import functools

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import Float32Type, Float64Type, TensorType
from xdsl.ir import Block
from xdsl.parser import Parser

from treadle.dialects.sparse import AssignOp, EncodingAttr, ExprAttr, ScheduleAttr, parse_expression
from treadle.runtime.execute import CompiledStatement, compile_statement
from treadle.tensors import Tensor

STATEMENTS = {
    "spmm": "C(i, k) = A(i, j) * B(j, k)",
    "spmm-relu": "C(i, k) = relu(sum[j](A(i, j) * B(j, k)))",
    "spmm-add": "C(i, k) = D(i, k) + sum[j](A(i, j) * B(j, k))",
    "spmm-add-relu": "C(i, k) = relu(D(i, k) + sum[j](A(i, j) * B(j, k)))",
    "spmv": "y(i) = A(i, j) * x(j)",
    "sddmm": "C(i, j) = A(i, j) * D(i, k) * ET(j, k)",
    "sddmm-scaled": "C(i, j) = A(i, j) * D(i, k) * ET(j, k) * s()",
    "spgemm": "C(i, j) = A(i, k) * B(k, j)",
    "add": "C(i, j) = A(i, j) + B(i, j)",
    "sub": "C(i, j) = A(i, j) - B(i, j)",
    "mul": "C(i, j) = A(i, j) * B(i, j)",
    "scale": "C(i, j) = A(i, j) * s()",
    "relu": "C(i, j) = relu(A(i, j))",
    "linear": "C(b, o) = X(b, i) * A(o, i)",
    "bmm": "C(b, i, k) = A(b, i, j) * B(b, j, k)",
    "transpose": "T(j, k) = E(k, j)",
}
BATCHED_CSR = "(b : dense, i : dense, j : compressed)"
"""The format of bmm's sparse operand: a CSR matrix per batch (rows of all batches in one
row pointer), so the batch and row loops are dense and parallel."""

ROW_SCHEDULE = ("guided", 16)
"""The OpenMP schedule and chunk of a default schedule's parallel loop. Guided chunks start at
rows/threads and shrink to 16, so the two threads walk long contiguous row ranges (the hardware
prefetchers see whole streams of A, B and C) and the end still balances. `dynamic, 16` (one
atomic grab per 16 rows, neighbouring chunks on different cores) cost up to 1.6x on banded and
R-MAT SpMV and, measured on this suite's SpMM N = 32 / 128 (generated C, schedule changed
only): banded-100k 5.3 -> 2.6 ms and 9.5 -> 7.0 ms, rmat-s14 2.3 -> 1.5 ms, rmat-s17
15.8 -> 13.5 ms, the other seven matrices within 5%; SDDMM banded 8 -> 5.5 ms, uniform-2k
1.7 -> 1.25 ms, R-MAT within the noise."""

_OPS: dict[tuple, CompiledStatement] = {}
_BLOCKS: list[Block] = []


def _type(shape, dtype, encoding: EncodingAttr | None) -> TensorType:
    et = Float64Type() if np.dtype(dtype) == np.float64 else Float32Type()
    return TensorType(et, list(shape), encoding) if encoding is not None else TensorType(et, list(shape))


def statement(kernel: str, operands: dict[str, tuple[tuple[int, ...], EncodingAttr | None]], out_shape, out_enc, dtype,
              threads: int = 0, schedule: ScheduleAttr | None = None) -> CompiledStatement:
    """The compiled kernel of a named statement for these operand shapes and formats (with
    `default_schedule`, remembered on disk, unless a schedule is given)."""
    key = (kernel, tuple((n, s, e) for n, (s, e) in operands.items()), tuple(out_shape), out_enc, np.dtype(dtype).str,
           threads, schedule)
    hit = _OPS.get(key)
    if hit is not None:
        return hit
    out_name, out_idx, expr = _statement_parts(kernel)
    names = list(operands)
    block = Block(arg_types=[_type(s, dtype, e) for s, e in operands.values()])
    _BLOCKS.append(block)
    op = AssignOp(out_name, out_idx, expr, dict(zip(names, block.args)), _type(out_shape, dtype, out_enc), schedule)
    if schedule is None:
        op.schedule = stored_default_schedule(op)
    compiled = compile_statement(op)
    _OPS[key] = compiled
    return compiled


@functools.cache
def _statement_parts(kernel: str) -> tuple[str, list[str], ExprAttr]:
    """(output name, output indices, expression) of a named statement: only the index notation
    is parsed (a whole typed module took most of a disk-cached kernel's 5-15 ms)."""
    lhs, rhs = STATEMENTS[kernel].split(" = ", 1)
    out_name, out_idx = lhs[0], [i.strip() for i in lhs[2:-1].split(",")]
    parser = Parser(Context(), rhs, kernel)
    expr = parse_expression(parser)
    return out_name, out_idx, expr


def default_schedule(op: AssignOp) -> ScheduleAttr | None:
    """Concordant order; the outer loop parallel where race-free (ROW_SCHEDULE); the innermost sparse
    reduction unrolled-and-jammed by 4 where that applies."""
    from treadle.passes.sparse.order import choose_order
    from treadle.passes.sparse.parallelize import race_free_outer
    from treadle.passes.sparse.unroll import unroll_candidate

    order = choose_order(op).order
    probe = AssignOp(op.output_name.data, op.lhs_indices, op.expr, dict(zip(op.names, op.inputs)), op.result.type, ScheduleAttr(order))
    index, _ = race_free_outer(probe)
    unroll = 4 if unroll_candidate(probe)[0] else 1
    if not index:
        return ScheduleAttr(order, None, index, "static", 0, unroll)
    return ScheduleAttr(order, None, index, *ROW_SCHEDULE, unroll)


@functools.cache
def _scheduler_fingerprint() -> str:
    """A hash of the code that picks default schedules (this module and the sparse passes)."""
    from pathlib import Path

    from treadle.runtime.execute import files_fingerprint

    root = Path(__file__).resolve().parent.parent
    return files_fingerprint([Path(__file__).resolve(), *sorted((root / "passes" / "sparse").glob("*.py"))])


def stored_default_schedule(op: AssignOp) -> ScheduleAttr | None:
    """`default_schedule(op)`, remembered on disk beside the statement index (keyed by the
    statement and the scheduling code): a new process reusing a kernel then skips the order
    search and the race and unroll analyses, 1.2-1.6 ms of its 4-5 ms."""
    from treadle.runtime.execute import read_record, record_path, statement_key, write_json_atomically

    key = statement_key(op)
    path = record_path(key, _scheduler_fingerprint(), "scorch/schedules")
    record = read_record(path, key)
    try:
        if record is not None:
            s = record["schedule"]
            return None if s is None else ScheduleAttr(s["order"], s["tiles"], s["parallel"], s["omp"], s["chunk"], s["unroll"])
    except (KeyError, TypeError):
        pass
    schedule = default_schedule(op)
    fields = None if schedule is None else {
        "order": list(schedule.loop_order), "tiles": schedule.tile_sizes, "parallel": schedule.parallel.data,
        "omp": schedule.omp.data, "chunk": schedule.chunk.data, "unroll": schedule.unroll.data,
    }
    write_json_atomically(path, {"key": key, "schedule": fields})
    return schedule


def spmm(a: Tensor, b: np.ndarray, relu: bool = False, addend: np.ndarray | None = None) -> np.ndarray:
    """A (sparse, m×n) @ B (dense, n×k) → dense m×k; with `addend` (dense m×k), D + A @ B;
    with `relu`, relu of that. One kernel: each output row starts as D's row and the relu is
    applied to it as it is finished."""
    m, k = a.shape[0], b.shape[1]
    kernel = "spmm" + ("-add" if addend is not None else "") + ("-relu" if relu else "")
    operands = {"A": (a.shape, a.encoding), "B": (b.shape, None)}
    tensors = {"A": a, "B": Tensor(b.shape, None, [], np.ascontiguousarray(b).reshape(-1))}
    if addend is not None:
        operands["D"] = ((m, k), None)
        tensors["D"] = Tensor((m, k), None, [], np.ascontiguousarray(addend, dtype=a.dtype).reshape(-1))
    return statement(kernel, operands, (m, k), None, a.dtype)(tensors).values.reshape(m, k)


def spmv(a: Tensor, x: np.ndarray) -> np.ndarray:
    st = statement("spmv", {"A": (a.shape, a.encoding), "x": (x.shape, None)}, (a.shape[0],), None, a.dtype)
    return st({"A": a, "x": Tensor(x.shape, None, [], np.ascontiguousarray(x))}).values


def linear_t(x: np.ndarray, w: Tensor) -> np.ndarray:
    """X (dense, b×i) @ Wᵀ with W sparse (o×i, CSR): the pruned linear layer, computed as the
    SpMM W @ Xᵀ (contiguous inner loop over the batch) and returned transposed (a view)."""
    return spmm(w, np.ascontiguousarray(x.T)).T


_ROWS_PARALLEL = ScheduleAttr(("j", "k"), None, "j", "static", 0, 1)
TRANSPOSE_MIN_BYTES = 1 << 17


def transpose(e: np.ndarray) -> np.ndarray:
    """Eᵀ as a new row-major array, by a compiled loop over its rows in parallel; for f32 with
    extents that are multiples of 8, over 8x8 blocks (`cpu.transpose_block`). A 32 x n float32
    E here, n = 4096 / 16384 / 131072: 0.12 / 0.25 / 2.4 ms, numpy's strided copy
    (`np.ascontiguousarray(e.T)`) 0.5 / 1.4 / 12 ms, element by element 0.7 and 5.6 ms for the
    larger two."""
    k, n = e.shape
    st = statement("transpose", {"E": (e.shape, None)}, (n, k), None, e.dtype, schedule=_ROWS_PARALLEL)
    return st({"E": Tensor(e.shape, None, [], np.ascontiguousarray(e).reshape(-1))}).values.reshape(n, k)


def sddmm(a: Tensor, d: np.ndarray, e: np.ndarray, out_encoding, scale: float | None = None) -> Tensor:
    """A ∘ (D @ E) (times `scale`) kept in A's (CSR) pattern. E goes in transposed (row-major
    Eᵀ) so that each stored (i, j) is a contiguous length-K dot product of D(i, :) and Eᵀ(j, :);
    an E that is itself a transposed view of a row-major array costs no copy, another E one
    compiled transpose (numpy's copy below 128 KiB, where numpy is as fast and a new shape
    would otherwise pay a gcc run)."""
    if e.T.flags.c_contiguous:
        et_array = e.T
    elif e.nbytes < TRANSPOSE_MIN_BYTES:
        et_array = np.ascontiguousarray(e.T)
    else:
        et_array = transpose(e)
    operands = {"A": (a.shape, a.encoding), "D": (d.shape, None), "ET": (et_array.shape, None)}
    tensors = {
        "A": a,
        "D": Tensor(d.shape, None, [], np.ascontiguousarray(d).reshape(-1)),
        "ET": Tensor(et_array.shape, None, [], et_array.reshape(-1)),
    }
    kernel = "sddmm"
    if scale is not None:
        kernel = "sddmm-scaled"
        operands["s"] = ((), None)
        tensors["s"] = Tensor((), None, [], np.array([scale], dtype=a.dtype))
    return statement(kernel, operands, a.shape, out_encoding, a.dtype)(tensors)


def take_at_pattern(a: Tensor, g: np.ndarray) -> Tensor:
    """A ∘ G for a dense G, in A's (CSR) pattern: the last step of SDDMM's dense route,
    A ∘ (D @ E) with D @ E from BLAS (one compiled loop over A's entries)."""
    g = np.ascontiguousarray(g, dtype=a.dtype)
    st = statement("mul", {"A": (a.shape, a.encoding), "B": (g.shape, None)}, a.shape, a.encoding, a.dtype)
    return st({"A": a, "B": Tensor(g.shape, None, [], g.reshape(-1))})


def softmax(a: Tensor, dim: int, stored: bool = False) -> Tensor:
    """`sparse.softmax` of a matrix along `dim`, over its nonzeros or, with `stored`, over its
    stored entries (torch.sparse.softmax's rule; compiled; see the op)."""
    from treadle.dialects.sparse import SoftmaxOp
    from treadle.runtime.execute import run_softmax

    key = ("softmax", a.shape, a.encoding, np.dtype(a.dtype).str, dim, stored)
    op = _SOFTMAX_OPS.get(key)
    if op is None:
        block = Block(arg_types=[_type(a.shape, a.dtype, a.encoding)])
        _BLOCKS.append(block)
        op = _SOFTMAX_OPS[key] = SoftmaxOp(block.args[0], dim, stored)
    return run_softmax(op, a)


_SOFTMAX_OPS: dict[tuple, object] = {}


def elementwise(kernel: str, a: Tensor, b: Tensor | None = None, scalar: float | None = None) -> Tensor:
    """`add`/`sub`/`mul` of two CSR matrices (CSR result: union merge or intersection),
    `scale` by a scalar or `relu` of one (the result shares its operand's pattern)."""
    operands = {"A": (a.shape, a.encoding)}
    tensors = {"A": a}
    out = a.encoding
    if b is not None:
        operands["B"] = (b.shape, b.encoding)
        tensors["B"] = b
    if scalar is not None:
        operands["s"] = ((), None)
        tensors["s"] = Tensor((), None, [], np.array([scalar], dtype=a.dtype))
    return statement(kernel, operands, a.shape, out, a.dtype)(tensors)


def bmm(a: Tensor, b: np.ndarray) -> np.ndarray:
    """Batched SpMM: A (batch × m × n, one CSR matrix per batch) @ B (batch × n × k)."""
    batch, m, _ = a.shape
    k = b.shape[2]
    st = statement("bmm", {"A": (a.shape, a.encoding), "B": (b.shape, None)}, (batch, m, k), None, a.dtype)
    dense = Tensor(b.shape, None, [], np.ascontiguousarray(b).reshape(-1))
    return st({"A": a, "B": dense}).values.reshape(batch, m, k)
