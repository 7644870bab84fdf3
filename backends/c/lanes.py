"""A gathering float reduction loop as explicit vector lanes.

A sequential `scf.for` that sums (`fastmath<reassoc>`) a term that loads through a loaded index,
`acc += A_vals[q] * x[A_crd[q]]` (a row of SpMV), would get
`#pragma omp simd reduction(+:acc)` like any reassociable sum. gcc vectorizes that with
`vgatherqps` and keeps the vector accumulator in a stack slot, stored and reloaded every step:
on the suite's 2k x 2k 10% matrix (205 entries per row) 0.18-0.20 ms per SpMV, against
0.10-0.12 ms with the lanes written out, which gcc keeps in one register and fills with
scalar loads (a hand A/B at two threads; 82 entries per row: 0.37-0.46 vs 0.17-0.24 ms).

So such a loop is emitted as LANES (32 bytes of the element type) iterations at a time: every
value in the body is either uniform (the same in every lane, emitted once as usual), a list of
per-lane scalar expressions, or a GCC vector of them; a load whose last index is the induction
variable (plus a uniform offset) is one vector load, any other varying load is one scalar load
per lane, float `+ - * /` and negation are vector operations, anything else is computed per lane.
The lanes add into one vector accumulator, reduced by a tree of adds after the loop; the last
iterations (fewer than LANES) run the body as it is. Dense sums (no gather) keep the pragma:
there gcc's own vectorization was 3x faster than this form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from xdsl.dialects import arith, memref, scf
from xdsl.dialects.builtin import Float32Type, Float64Type, IndexType, IntegerAttr, IntegerType
from xdsl.dialects.utils.fast_math import FastMathFlag
from xdsl.ir import Block, Operation, SSAValue

from treadle.backends.c.abi import scalar_c_type
from treadle.backends.c.scalar import SCALAR_OPS

if TYPE_CHECKING:
    from treadle.backends.c.emitter import _FunctionEmitter

VECTOR_BYTES = 32
_VECTOR_OPS: dict[type[Operation], str] = {arith.AddfOp: "+", arith.SubfOp: "-", arith.MulfOp: "*", arith.DivfOp: "/"}


@dataclass(frozen=True)
class LanePlan:
    """What `emit_lanes` needs of a loop it applies to."""

    c_type: str
    """float or double"""
    lanes: int
    term: SSAValue
    """what each iteration adds to the accumulator"""
    consecutive: frozenset[SSAValue]
    """the body's values whose lane u is lane 0 plus u (the induction variable and what keeps it)"""


def lane_plan(op: Operation) -> LanePlan | None:
    """The plan for a loop this form applies to, else None: one carried float summed by a
    reassociable add of a term that nothing else uses, unit step, a body of loads and scalar
    ops only, and at least one load through a varying, non-consecutive index (a gather)."""
    if not isinstance(op, scf.ForOp) or len(op.iter_args) != 1:
        return None
    step = op.step.owner
    if not (isinstance(step, arith.ConstantOp) and isinstance(step.value, IntegerAttr) and step.value.value.data == 1):
        return None
    body = op.body.block
    iv, acc = body.args
    if not isinstance(acc.type, Float32Type | Float64Type) or not acc.has_one_use():
        return None
    yielded = body.last_op
    if not isinstance(yielded, scf.YieldOp) or len(yielded.operands) != 1:
        return None
    add = yielded.operands[0].owner
    if (
        not isinstance(add, arith.AddfOp)
        or add.parent_block() is not body
        or not yielded.operands[0].has_one_use()
        or FastMathFlag.REASSOC not in add.fastmath.data
        or acc not in add.operands
        or add.lhs is add.rhs
    ):
        return None
    term = add.rhs if add.lhs is acc else add.lhs
    varying: set[SSAValue] = {iv}
    consecutive: set[SSAValue] = {iv}
    gathers = False
    for o in body.ops:
        if o is add or o is yielded:
            continue
        if o.regions or not (isinstance(o, memref.LoadOp | arith.ConstantOp) or type(o) in SCALAR_OPS):
            return None
        if not any(v in varying for v in o.operands):
            continue
        varying.update(o.results)
        if isinstance(o, memref.LoadOp):
            *outer, last = o.indices
            if any(i in varying for i in outer) or last not in consecutive:
                gathers = True
        elif _keeps_consecutive(o, consecutive, varying):
            consecutive.add(o.results[0])
    if not gathers:
        return None
    c = scalar_c_type(acc.type)
    return LanePlan(c, VECTOR_BYTES // (4 if c == "float" else 8), term, frozenset(consecutive))


def _keeps_consecutive(o: Operation, consecutive: set[SSAValue], varying: set[SSAValue]) -> bool:
    """Lane u of the result is lane 0 plus u: a consecutive index plus a uniform one, or a
    same-width cast of a consecutive index."""
    if isinstance(o, arith.AddiOp) and isinstance(o.result.type, IndexType):
        a, b = o.lhs, o.rhs
        return (a in consecutive and b not in varying) or (b in consecutive and a not in varying)
    if isinstance(o, arith.IndexCastOp):
        t = o.results[0].type
        return o.operands[0] in consecutive and (isinstance(t, IndexType) or (isinstance(t, IntegerType) and t.width.data == 64))
    return False


class _Lanes:
    """The per-lane emission of one loop body."""

    def __init__(self, em: _FunctionEmitter, plan: LanePlan, start: str):
        self.em, self.plan = em, plan
        self.vector = f"treadle_lanes_{plan.c_type}"
        self.lanes: dict[SSAValue, list[str]] = {}
        self.vectors: dict[SSAValue, str] = {}
        self.start: dict[SSAValue, str] = {}
        """consecutive values: their lane-0 expression"""
        self.iv_start = start

    def lane_exprs(self, v: SSAValue) -> list[str]:
        if v in self.lanes:
            return self.lanes[v]
        if v in self.vectors:
            return [f"{self.vectors[v]}[{u}]" for u in range(self.plan.lanes)]
        return [self.em.expr(v)] * self.plan.lanes

    def vector_expr(self, v: SSAValue) -> str:
        if v in self.vectors:
            return self.vectors[v]
        if v in self.lanes:
            return f"(({self.vector}){{{', '.join(self.lanes[v])}}})"
        return self.em.expr(v)  # a uniform scalar: GCC broadcasts it in a vector operation

    def varying(self, v: SSAValue) -> bool:
        return v in self.lanes or v in self.vectors

    def emit_body(self, body: Block, iv: SSAValue) -> None:
        em = self.em
        self.lanes[iv] = [f"({self.iv_start} + {u})" for u in range(self.plan.lanes)]
        self.start[iv] = self.iv_start
        accumulate = body.last_op.operands[0].owner  # type: ignore[union-attr]  # acc + term
        for o in body.ops:
            if o is body.last_op or o is accumulate:
                continue
            em.m.origins.append((len(em.m.lines) + 1, o))
            result = o.results[0] if o.results else None
            if not any(self.varying(v) for v in o.operands):
                em.emit_op(o)
            elif isinstance(o, memref.LoadOp):
                self._load(o)
            elif result is not None and scalar_c_type(result.type) == self.plan.c_type and (
                type(o) in _VECTOR_OPS or isinstance(o, arith.NegfOp)
            ):
                name = em.namer.fresh(result.name_hint or "v")
                x = [self.vector_expr(v) for v in o.operands]
                value = f"-{x[0]}" if isinstance(o, arith.NegfOp) else f"{x[0]} {_VECTOR_OPS[type(o)]} {x[1]}"
                em.line(f"{self.vector} {name} = {value};")
                self.vectors[result] = name
            else:
                self._per_lane(o)

    def _load(self, o: memref.LoadOp) -> None:
        """One vector load where the last index is consecutive (and the element is the
        accumulator's type), else one scalar load per lane."""
        em = self.em
        *outer, last = o.indices
        c = scalar_c_type(o.res.type)
        name = em.namer.fresh(o.res.name_hint or "v")
        if last in self.start and not any(self.varying(i) for i in outer) and c == self.plan.c_type:
            ref = em.element_at(o.memref, [em.expr(i) for i in outer] + [self.start[last]])
            em.line(f"{self.vector} {name}; memcpy(&{name}, &{ref}, sizeof {name});")
            self.vectors[o.res] = name
            return
        per_lane = [self.lane_exprs(i) for i in o.indices]
        names = [name] + [em.namer.fresh(o.res.name_hint or "v") for _ in range(self.plan.lanes - 1)]
        for u, lane in enumerate(names):
            em.line(f"{c} {lane} = {em.element_at(o.memref, [x[u] for x in per_lane])};")
        self.lanes[o.res] = names

    def _per_lane(self, o: Operation) -> None:
        em = self.em
        emit_scalar = SCALAR_OPS[type(o)]
        operands = [self.lane_exprs(v) for v in o.operands]
        result = o.results[0]
        c = scalar_c_type(result.type)
        names = []
        for u in range(self.plan.lanes):
            name = em.namer.fresh(result.name_hint or "v")
            em.line(f"{c} {name} = {emit_scalar(o, [x[u] for x in operands])};")
            names.append(name)
        self.lanes[result] = names
        if result in self.plan.consecutive:  # an index cast of a consecutive value, or one plus a uniform value
            first = next(self.start[v] for v in o.operands if v in self.start)
            uniform = next((v for v in o.operands if v not in self.start), None)
            self.start[result] = first if uniform is None else f"({first} + {em.expr(uniform)})"


def emit_lanes(em: _FunctionEmitter, op: scf.ForOp, plan: LanePlan, acc: str, iv_name: str) -> None:
    """The vector part of the loop (LANES iterations per step) into `acc`; the caller emits the
    remaining iterations from `iv_name`, which this declares."""
    body = op.body.block
    vector = f"treadle_lanes_{plan.c_type}"
    total = em.namer.fresh("lanes")
    lb, ub = em.expr(op.lb), em.expr(op.ub)
    em.line(f"{vector} {total} = {{0}};")
    em.line(f"{scalar_c_type(body.args[0].type)} {iv_name} = {lb};")
    em.line(f"for (; {iv_name} + {plan.lanes} <= {ub}; {iv_name} += {plan.lanes}) {{")
    em.depth += 1
    lanes = _Lanes(em, plan, iv_name)
    lanes.emit_body(body, body.args[0])
    em.line(f"{total} += {lanes.vector_expr(plan.term)};")
    em.depth -= 1
    em.line("}")
    parts = [f"{total}[{u}]" for u in range(plan.lanes)]
    while len(parts) > 1:
        parts = [f"({a} + {b})" for a, b in zip(parts[::2], parts[1::2])]
    em.line(f"{acc} = {acc} + {parts[0]};")
