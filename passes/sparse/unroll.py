"""`sparse-unroll{factor=4}`: unroll-and-jam the innermost sparse loop.

Why: in SpMM `C(i, k) += A(i, j) * B(j, k)` each stored A(i, j) updates the whole output row
C(i, :) — a load and a store per element of the row per nonzero. Unrolling the loop over A's
positions by U and jamming the copies into the dense `k` loop does U multiply-adds per load and
store of C(i, k) and gives the vectorizer U independent streams of B. It applies where the loop
runs over one compressed level's positions, its index is summed (not an output index) and one
or more dense loops, and only dense loops, are inside it.

In SDDMM `C(i, j) = A(i, j) * D(i, k) * E(j, k)` the innermost sparse loop is an output index
and each position is one dot product over `k`: one accumulator, a chain of dependent adds.
Unrolling the position loop by U and jamming the copies into the `k` loop carries U
independent sums and loads D(i, k) once for all of them. It applies where one dense summed loop,
over dense operands only, is inside. Elsewhere the statement keeps its loops and `sparse.note`
says why.
"""

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp, StringAttr
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import PatternRewriter, PatternRewriteWalker, RewritePattern, op_type_rewrite_pattern

from treadle.dialects.sparse import AssignOp, encoding_of
from treadle.errors import PipelineError
from treadle.passes.sparse.lowering import pattern_source
from treadle.passes.sparse.order import choose_order, sparse_accesses
from treadle.passes.sparse.schedule_util import schedule_of, with_schedule


def sparse_iterated(op: AssignOp) -> list[str]:
    """The index of every non-dense level of every sparse operand (repeated when several
    levels co-iterate one index)."""
    return [
        access.index_names[level.dim.data]
        for access, enc in sparse_accesses(op)
        for level in enc.levels
        if level.kind.data != "dense"
    ]


def unroll_candidate(op: AssignOp) -> tuple[str, str]:
    """(index, "") of the loop unroll-and-jam would apply to, else ("", why not)."""
    order = schedule_of(op).loop_order or choose_order(op).order
    iterated = sparse_iterated(op)
    driven = [i for i in order if i in iterated]
    if not driven:
        return "", "no sparse loop"
    index = driven[-1]
    if sum(i == index for i in iterated) > 1:
        return "", f"'{index}' co-iterates several sparse levels"
    inner = order[order.index(index) + 1 :]
    if index in op.lhs_indices:
        sparse_indices = {i for access, _ in sparse_accesses(op) for i in access.index_names}
        if pattern_source(op) is None and encoding_of(op.result.type) is not None:
            return "", f"the innermost sparse loop '{index}' is an output index of an assembled sparse output"
        if len(inner) != 1 or inner[0] in op.lhs_indices or inner[0] in sparse_indices:
            return "", f"the innermost sparse loop '{index}' is an output index without one dense summed loop inside"
        return index, ""
    if not inner:
        return "", f"no dense loop inside '{index}' to jam into (its scalar sum is vectorized)"
    return index, ""


class Unroll(RewritePattern):
    def __init__(self, factor: int):
        self.factor = factor

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: AssignOp, rewriter: PatternRewriter) -> None:
        index, why = unroll_candidate(op)
        if not index:
            note = StringAttr(f"not unrolled: {why}")
            if op.attributes.get("sparse.note") != note:
                op.attributes["sparse.note"] = note
                rewriter.notify_op_modified(op)
            return
        order = schedule_of(op).loop_order or choose_order(op).order
        new = with_schedule(op, order=order, unroll=self.factor)
        if new != op.schedule:
            op.schedule = new
            rewriter.notify_op_modified(op)


@dataclass(frozen=True)
class SparseUnrollPass(ModulePass):
    """Unroll-and-jam the innermost sparse reduction loop of every statement by `factor`."""

    name = "sparse-unroll"

    factor: int = 4
    """positions of the sparse level handled per step (1: no unrolling)"""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if self.factor < 1:
            raise PipelineError(f"sparse-unroll: factor must be positive, got {self.factor}")
        PatternRewriteWalker(Unroll(self.factor), apply_recursively=False).rewrite_module(op)


FACTORS = (1, 2, 4, 8)
"""Candidate unroll factors a tuner may try (1: not unrolled)."""


def tunable_options(op: AssignOp) -> dict[str, dict]:
    """What a tuner may search for `op`, as plain data in the space-file format (docs/tuning.md;
    this module does not import the tuner): `unroll` = this pass's `factor`, offered when the
    statement has a loop to unroll-and-jam under its default order (under another order the
    pass leaves the loops and notes why, so the value then has no effect). Default: 1, the pass
    not run. `applies_to` says which pass option a value sets."""
    if not unroll_candidate(op)[0]:
        return {}
    return {
        "unroll": {
            "parameter_type": "ordinal",
            "values": list(FACTORS),
            "parameter_default": 1,
            "applies_to": {"pass": "sparse-unroll", "option": "factor", "skip_pass_if": 1},
        }
    }
