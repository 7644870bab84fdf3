"""`sparse-parallelize{schedule=dynamic chunk=64}`: run the outer loop on OpenMP threads.

Why only there, and only sometimes: iterations of the outermost loop write disjoint output
elements exactly when that loop runs over an output index with unique coordinates and the
output is dense or in a mask's pattern; then no atomics are needed and reductions stay in
per-iteration (private) accumulators. Other sparse (CSR) outputs are assembled by blocks of
rows with a workspace per block, so their row loop is parallel too (the chunk is the block's
row count). Outer reduction loops stay sequential; the pass records why in `sparse.note`.
"""

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp, StringAttr, TensorType
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import PatternRewriter, PatternRewriteWalker, RewritePattern, op_type_rewrite_pattern

from treadle.dialects.sparse import OMP_SCHEDULES, AssignOp, encoding_of
from treadle.errors import PipelineError
from treadle.passes.sparse.order import choose_order, sparse_accesses
from treadle.passes.sparse.schedule_util import schedule_of, with_schedule


def race_free_outer(op: AssignOp) -> tuple[str, str]:
    """(index, "") when the outer loop may run in parallel, else ("", why not)."""
    rt = op.result.type
    assert isinstance(rt, TensorType)
    from treadle.passes.sparse.lowering import pattern_source

    if encoding_of(rt) is not None and pattern_source(op) is None:
        # Assembled row by row in blocks of rows, each block with its own workspace.
        return op.lhs_indices[0], ""
    order = schedule_of(op).loop_order or choose_order(op).order
    if not order:
        return "", "no loops"
    outer = order[0]
    if outer not in op.lhs_indices:
        return "", f"outer loop '{outer}' is a reduction"
    for access, enc in sparse_accesses(op):
        first = enc.levels.data[0]
        if access.index_names[first.dim.data] == outer and not first.unique:
            return "", f"{access.notation()} repeats '{outer}' coordinates (COO)"
    return outer, ""


class Parallelize(RewritePattern):
    def __init__(self, schedule: str, chunk: int):
        self.schedule, self.chunk = schedule, chunk

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: AssignOp, rewriter: PatternRewriter) -> None:
        index, why = race_free_outer(op)
        if not index:
            if op.attributes.get("sparse.note") != StringAttr(f"sequential: {why}"):
                op.attributes["sparse.note"] = StringAttr(f"sequential: {why}")
                rewriter.notify_op_modified(op)
            return
        order = schedule_of(op).loop_order or choose_order(op).order
        new = with_schedule(op, order=order, parallel=index, omp=self.schedule, chunk=self.chunk)
        if new != op.schedule:
            op.schedule = new
            rewriter.notify_op_modified(op)


@dataclass(frozen=True)
class SparseParallelizePass(ModulePass):
    """Mark the outer loop of every statement parallel where that is race-free."""

    name = "sparse-parallelize"

    schedule: str = "dynamic"
    """OpenMP schedule: static, dynamic or guided"""
    chunk: int = 64

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if self.schedule not in OMP_SCHEDULES:
            raise PipelineError(
                f"sparse-parallelize: unknown schedule '{self.schedule}', expected one of "
                f"{', '.join(OMP_SCHEDULES)}"
            )
        if self.chunk < 0:
            raise PipelineError(f"sparse-parallelize: chunk must be non-negative, got {self.chunk}")
        PatternRewriteWalker(Parallelize(self.schedule, self.chunk), apply_recursively=False).rewrite_module(op)


CHUNKS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
"""Candidate OpenMP chunk sizes a tuner may try (0, the OpenMP default, is left out so the
values can be searched on a log scale)."""


def tunable_options(op: AssignOp) -> dict[str, dict]:
    """What a tuner may search for `op`, as plain data in the space-file format (docs/tuning.md;
    this module does not import the tuner): `omp` = this pass's `schedule`, or `off` for not
    running the pass (a sequential kernel), and `chunk` = its `chunk`. Defaults: the pass's.
    `applies_to` says which pass option a value sets."""
    fields = SparseParallelizePass.__dataclass_fields__
    return {
        "omp": {
            "parameter_type": "categorical",
            "values": ["off", *OMP_SCHEDULES],
            "parameter_default": fields["schedule"].default,
            "applies_to": {"pass": "sparse-parallelize", "option": "schedule", "skip_pass_if": "off"},
        },
        "chunk": {
            "parameter_type": "ordinal",
            "values": list(CHUNKS),
            "transform": "log",
            "parameter_default": fields["chunk"].default,
            "applies_to": {"pass": "sparse-parallelize", "option": "chunk"},
        },
    }
