"""Loops for `sparse.softmax`: one pass per slice over the compressed level that stores `dim`.

Why its own generator: a softmax slice is normalized by its own max and sum, which index
notation cannot say; the loops are three sweeps over the slice's positions (max, exp and sum,
scale), with the result written in the operand's pattern (values only, the `outvals` role of
`lowering.py`'s calling convention). Handled: a 2-level `(dense, compressed)` unblocked format
whose compressed level stores `dim` (CSR with dim = 1, CSC with dim = 0); the runtime converts
other formats to one of those.
"""

from __future__ import annotations

from xdsl.dialects.builtin import TensorType

from treadle.dialects.sparse import SoftmaxOp, encoding_of
from treadle.passes.sparse.lowering import NotSupportedError, _Builder, _elem, _int_type


def softmax_signature(op: SoftmaxOp) -> list[tuple[str, str, str]]:
    """(tensor, role, memref type) of each argument: the operand's pos/crd/vals, then the
    result's values (in the operand's pattern)."""
    t = op.source.type
    assert isinstance(t, TensorType)
    enc = encoding_of(t)
    et = _elem(t)
    kinds = None if enc is None else [(lv.kind.data, lv.block_op.data) for lv in enc.levels]
    if enc is None or kinds != [("dense", ""), ("compressed", "")] or enc.levels.data[1].dim.data != op.axis:
        raise NotSupportedError("softmax loops need a (dense, compressed) format whose compressed level stores dim")
    pos, crd = f"memref<?x{_int_type(enc.pos_width.data)}>", f"memref<?x{_int_type(enc.crd_width.data)}>"
    return [("S", "pos1", pos), ("S", "crd1", crd), ("S", "vals", f"memref<?x{et}>"), ("S", "outvals", f"memref<?x{et}>")]


def lower_softmax(op: SoftmaxOp, func_name: str, parallel: bool = True) -> str:
    """The text of a `func.func` computing `op` (see the module docstring). Zeros count as
    -inf (skipped by the max and the sum, they come out as zeros) unless the op is `stored`,
    whose sweeps take every stored entry as it is (no compare and select per entry)."""
    sig = softmax_signature(op)
    t = op.source.type
    assert isinstance(t, TensorType)
    enc = encoding_of(t)
    assert enc is not None
    et = _elem(t)
    slices = t.get_shape()[enc.levels.data[0].dim.data]
    b = _Builder()
    c0, c1 = b.const(0), b.const(1)
    lowest = -3.4028234663852886e38 if et == "f32" else -1.7976931348623157e308
    zero, ninf = b.const(0.0, et), b.const(lowest, et)
    pos_t = sig[0][2]
    iv = b.fresh("i")
    b.line(f"scf.for {iv} = {c0} to {b.const(slices)} step {c1} {{")
    b.depth += 1

    def load_pos(at: str) -> str:
        raw = b.op(f"memref.load %S_pos1[{at}] : {pos_t}", "pr")
        return b.op(f"arith.index_cast {raw} : {pos_t[9:-1]} to index", "p")

    lo = load_pos(iv)
    hi = load_pos(b.op(f"arith.addi {iv}, {c1} : index", "p"))

    def sweep(init: str, body) -> str:
        q, acc, res = b.fresh("q"), b.fresh("acc"), b.fresh("r")
        b.line(f"{res} = scf.for {q} = {lo} to {hi} step {c1} iter_args({acc} = {init}) -> ({et}) {{")
        b.depth += 1
        v = b.op(f"memref.load %S_vals[{q}] : memref<?x{et}>", "v")
        nz = None if op.over_stored else b.op(f"arith.cmpf one, {v}, {zero} : {et}", "nz")
        b.line(f"scf.yield {body(q, v, nz, acc)} : {et}")
        b.depth -= 1
        b.line("}")
        return res

    def keep_max(q, v, nz, acc):
        bigger = b.op(f"arith.maximumf {acc}, {v} : {et}", "m")
        return bigger if nz is None else b.op(f"arith.select {nz}, {bigger}, {acc} : {et}", "m")

    top = sweep(ninf, keep_max)

    def exp_sum(q, v, nz, acc):
        shifted = b.op(f"arith.subf {v}, {top} : {et}", "e")
        e = b.op(f"math.exp {shifted} : {et}", "e")
        kept = e if nz is None else b.op(f"arith.select {nz}, {e}, {zero} : {et}", "e")
        b.line(f"memref.store {kept}, %P_vals[{q}] : memref<?x{et}>")
        return b.op(f"arith.addf {acc}, {kept} : {et}", "s")

    total = sweep(zero, exp_sum)
    empty = b.op(f"arith.cmpf oeq, {total}, {zero} : {et}", "inv")  # every entry zero
    safe = b.op(f"arith.select {empty}, {b.const(1.0, et)}, {total} : {et}", "inv")
    inv = b.op(f"arith.divf {b.const(1.0, et)}, {safe} : {et}", "inv")
    q = b.fresh("q")
    b.line(f"scf.for {q} = {lo} to {hi} step {c1} {{")
    b.depth += 1
    e = b.op(f"memref.load %P_vals[{q}] : memref<?x{et}>", "e")
    b.line(f"memref.store {b.op(f'arith.mulf {e}, {inv} : {et}', 'p')}, %P_vals[{q}] : memref<?x{et}>")
    b.depth -= 1
    b.line("}")
    b.depth -= 1
    omp = ' {treadle.omp = {schedule = "dynamic", chunk = 16}}' if parallel and slices > 1 else ""
    b.line("}" + omp)
    b.line("func.return")
    params = [f"%{'P' if role == 'outvals' else name}_{'vals' if role == 'outvals' else role}: {mtype}" for name, role, mtype in sig]
    return b.function(func_name, params)
