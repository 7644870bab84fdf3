"""`sparse-order-loops`: pick each statement's loop order.

Why: iterating a compressed level against its level order needs a search per access (or is
impossible), so the order must be concordant with every sparse operand; `order.py` enumerates
orders, keeps the concordant ones and ranks them with a work estimate (`density` option). When
no order is concordant the pass inserts a `sparse.convert` of the offending operand to its
transposed format (CSR↔CSC, DCSR↔DCSC) and says so in a `sparse.note` attribute.
"""

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp, StringAttr, TensorType
from xdsl.passes import ModulePass
from xdsl.rewriter import InsertPoint
from xdsl.pattern_rewriter import PatternRewriter, PatternRewriteWalker, RewritePattern, op_type_rewrite_pattern

from treadle.dialects.sparse import AssignOp, ConvertOp, encoding_of
from treadle.passes.sparse.order import choose_order, statement_indices, tensor_type_with, transposed_encoding
from treadle.passes.sparse.schedule_util import with_schedule


class OrderLoops(RewritePattern):
    def __init__(self, density: float, keep: bool):
        self.density = density
        self.keep = keep

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: AssignOp, rewriter: PatternRewriter) -> None:
        if self.keep and op.schedule is not None and op.schedule.loop_order:
            return
        choice = choose_order(op, self.density)
        notes = []
        if not choice.concordant:
            for name in choice.transpose:
                value = op.operand_named(name)
                t = value.type
                assert isinstance(t, TensorType)
                enc = encoding_of(t)
                flipped = transposed_encoding(enc) if enc is not None else None
                if flipped is None:
                    notes.append(f"no concordant order for {name} and no transposed format")
                    continue
                conv = ConvertOp(value, tensor_type_with(t, flipped))
                rewriter.insert(conv, InsertPoint.before(op))
                operands = list(op.operands)
                operands[op.names.index(name)] = conv.result
                op.operands = operands
                notes.append(f"converted {name} to the transposed format for a concordant order")
            choice = choose_order(op, self.density)
        new = with_schedule(op, order=choice.order)
        if new == op.schedule and not notes:
            return
        op.schedule = new
        if notes:
            op.attributes["sparse.note"] = StringAttr("; ".join(notes))
        rewriter.notify_op_modified(op)


@dataclass(frozen=True)
class SparseOrderLoopsPass(ModulePass):
    """Set a concordant, cheapest loop order on every statement (converting operands if needed)."""

    name = "sparse-order-loops"

    density: float = 0.01
    """assumed fraction of stored entries per sparse level, for the work estimate"""
    keep: bool = False
    """leave statements that already have an order"""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(OrderLoops(self.density, self.keep), apply_recursively=False).rewrite_module(op)


def tunable_options(op: AssignOp) -> dict[str, dict]:
    """What a tuner may search for `op`, as plain data in the space-file format (docs/tuning.md;
    this module does not import the tuner): the loop order, a permutation of the statement's
    indices, applied through the `order` field of `#sparse.schedule` (`keep=true` then leaves it).
    The default is the order this pass picks. Orders discordant with a sparse operand's level
    order do not lower; the composer (treadle.kernel_tuning) writes that as a known constraint.
    `applies_to`: the value goes into the schedule's `order`, and the pass runs with `keep=true`."""
    return {
        "order": {
            "parameter_type": "permutation",
            "values": list(statement_indices(op)),
            "parameter_default": list(choose_order(op).order),
            "applies_to": {"pass": "sparse-order-loops", "option": "keep", "schedule": "order"},
        }
    }
