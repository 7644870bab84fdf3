"""`sparse-explicit-reductions`: turn TACO's implicit sums into explicit `sum[...]` nodes.

Lowerings (loops, dataflow graphs) need to know where each reduction happens; this pass makes
the placement that the notation implies visible and editable in the IR.
"""

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)

from treadle.dialects.sparse import AssignOp, explicit_reductions


class MakeReductionsExplicit(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: AssignOp, rewriter: PatternRewriter) -> None:
        expr = explicit_reductions(op.expr, op.lhs_indices)
        if expr == op.expr:
            return
        op.expr = expr
        rewriter.notify_op_modified(op)


@dataclass(frozen=True)
class SparseExplicitReductionsPass(ModulePass):
    """Make every implicit sum of every statement an explicit sum[...] over the smallest term."""

    name = "sparse-explicit-reductions"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(MakeReductionsExplicit(), apply_recursively=False).rewrite_module(op)
