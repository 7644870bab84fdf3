"""OpenMP requests on loops: the `treadle.omp` discardable attribute and the pragma it becomes.

A pass asks for a parallel loop by attaching a dictionary to an `scf.for` or `scf.parallel`:

```mlir
scf.for %i = %c0 to %n step %c1 { ... } {treadle.omp = {schedule = "dynamic", chunk = 64}}
```

Keys (all optional): `schedule` ("static", "dynamic", "guided", "auto", "runtime"), `chunk`
(positive integer, not with auto/runtime), `num_threads` (positive integer). The backend adds
`collapse(n)` for an n-dimensional `scf.parallel` and `reduction(op:acc)` for loop-carried values
that are sum/product/min/max reductions; any other loop-carried value is an error, so the lowering
must keep other state in private per-iteration values. Race freedom of memory writes is the
lowering's promise, not checked here.

Independently, a sequential `scf.for` whose every loop-carried value is a float reduction by an
op marked `fastmath<reassoc>` (or `fast`) gets `#pragma omp simd reduction(...)`: the IR allowed
reassociation, so the vectorizer may split the sum into lanes. Such a sum that gathers (loads
through a loaded index) is written out in lanes instead (`lanes.py`).

A sequential `scf.for` without loop-carried values marked `{treadle.simd}` gets a plain
`#pragma omp simd`: the producer promises its iterations are independent, and the pragma
makes gcc vectorize that loop rather than an enclosing one (where, over a short inner loop
with strided accesses, it gathers).
"""

from collections.abc import Sequence
from dataclasses import dataclass

from xdsl.dialects import arith
from xdsl.dialects.builtin import DictionaryAttr, IntegerAttr, StringAttr
from xdsl.dialects.utils.fast_math import FastMathFlag
from xdsl.ir import Block, Operation, SSAValue

from treadle.errors import CompileError

OMP_ATTR = "treadle.omp"
SIMD_ATTR = "treadle.simd"
SCHEDULES = ("static", "dynamic", "guided", "auto", "runtime")

_REDUCTION_OPS: dict[type[Operation], str] = {
    arith.AddfOp: "+",
    arith.AddiOp: "+",
    arith.MulfOp: "*",
    arith.MuliOp: "*",
    arith.MaxSIOp: "max",
    arith.MinSIOp: "min",
    arith.AndIOp: "&",
    arith.OrIOp: "|",
    arith.XOrIOp: "^",
}


@dataclass(frozen=True)
class OmpRequest:
    """A validated `treadle.omp` attribute."""

    schedule: str | None = None
    chunk: int | None = None
    num_threads: int | None = None

    def pragma(self, collapse: int = 1, reductions: tuple[tuple[str, str], ...] = ()) -> str:
        parts = ["#pragma omp parallel for"]
        if self.schedule is not None:
            chunk = f", {self.chunk}" if self.chunk is not None else ""
            parts.append(f"schedule({self.schedule}{chunk})")
        if self.num_threads is not None:
            parts.append(f"num_threads({self.num_threads})")
        if collapse > 1:
            parts.append(f"collapse({collapse})")
        parts += [f"reduction({op}:{var})" for op, var in reductions]
        return " ".join(parts)


def omp_request(op: Operation) -> OmpRequest | None:
    """The OpenMP request on a loop op, None if it has none; a CompileError if malformed."""
    attr = op.attributes.get(OMP_ATTR)
    if attr is None:
        return None
    if not isinstance(attr, DictionaryAttr):
        raise CompileError(f"C backend: {OMP_ATTR} on {op.name} must be a dictionary, got {attr}")
    values = dict(attr.data)
    unknown = set(values) - {"schedule", "chunk", "num_threads"}
    if unknown:
        raise CompileError(f"C backend: unknown {OMP_ATTR} keys {sorted(unknown)} on {op.name}")
    schedule = _string(values.get("schedule"), "schedule", op)
    if schedule is not None and schedule not in SCHEDULES:
        raise CompileError(f"C backend: {OMP_ATTR} schedule must be one of {SCHEDULES}, got {schedule!r}")
    chunk = _positive(values.get("chunk"), "chunk", op)
    if chunk is not None and schedule in (None, "auto", "runtime"):
        raise CompileError(f"C backend: {OMP_ATTR} chunk needs schedule static, dynamic or guided")
    return OmpRequest(schedule, chunk, _positive(values.get("num_threads"), "num_threads", op))


def reduction_operator(body: Block, carried: SSAValue, yielded: SSAValue) -> str:
    """The OpenMP reduction operator for a loop-carried value, or a CompileError.

    The value qualifies when the loop yields `carried <op> x` and neither has another use, so
    per-thread partial values are never observed.
    """
    owner = yielded.owner
    op_str = _REDUCTION_OPS.get(type(owner)) if isinstance(owner, Operation) else None
    if (
        op_str is not None
        and isinstance(owner, Operation)
        and owner.parent_block() is body
        and carried in owner.operands
        and carried.has_one_use()
        and yielded.has_one_use()
        and not (owner.operands[0] is carried and owner.operands[1] is carried)
    ):
        return op_str
    raise CompileError(
        "C backend: a loop-carried value of an OpenMP loop must be a reduction (acc = acc + x, "
        "*, min, max, &, |, ^ with no other use of acc); keep other state in private values"
    )


def _string(attr, key: str, op: Operation) -> str | None:
    if attr is None:
        return None
    if not isinstance(attr, StringAttr):
        raise CompileError(f"C backend: {OMP_ATTR} {key} on {op.name} must be a string, got {attr}")
    return attr.data


def _positive(attr, key: str, op: Operation) -> int | None:
    if attr is None:
        return None
    if not isinstance(attr, IntegerAttr) or attr.value.data <= 0:
        raise CompileError(f"C backend: {OMP_ATTR} {key} on {op.name} must be a positive integer, got {attr}")
    return attr.value.data


def combiner_operator(region_block: Block) -> str:
    """The OpenMP reduction operator of an `scf.reduce` region, or a CompileError."""
    ops = list(region_block.ops)
    lhs, rhs = region_block.args
    if len(ops) == 2 and (op_str := _REDUCTION_OPS.get(type(ops[0]))) is not None:
        combine, ret = ops
        if set(combine.operands) == {lhs, rhs} and ret.operands[0] is combine.results[0]:
            return op_str
    raise CompileError(
        "C backend: an OpenMP scf.parallel reduction must be a single +, *, min, max, &, |, ^ "
        "of the two region arguments"
    )


def simd_reductions(body: Block, carried: Sequence[SSAValue], yielded: Sequence[SSAValue]) -> tuple[str, ...] | None:
    """The reduction operators of a loop whose carried values are all float reductions that
    allow reassociation, else None (no simd pragma)."""
    if not carried:
        return None
    ops: list[str] = []
    for c, y in zip(carried, yielded):
        owner = y.owner
        flags = getattr(owner, "fastmath", None)
        if not isinstance(owner, arith.AddfOp | arith.MulfOp) or flags is None or FastMathFlag.REASSOC not in flags.data:
            return None
        try:
            ops.append(reduction_operator(body, c, y))
        except CompileError:
            return None
    return tuple(ops)
