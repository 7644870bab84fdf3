"""`sparse-tile{index=k size=32}`: strip-mine a dense loop into tiles.

Why: in SpMM/SDDMM the dense operand's row (`B(j, :)`) is reused by every nonzero of a row of
A; tiling the dense index `k` puts the tile loop where `k` is in the order and the intra-tile
loop innermost, so the inner loop is a short contiguous (vectorizable) loop and a tile of the
dense operand stays in cache across rows. With no `index`, the pass tiles the statement's
innermost index that no sparse operand carries; a size at least the extent is dropped. A named
index that a sparse operand carries is not tiled, and `sparse.note` says so.
"""

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp, StringAttr
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import PatternRewriter, PatternRewriteWalker, RewritePattern, op_type_rewrite_pattern

from treadle.dialects.sparse import AssignOp
from treadle.errors import PipelineError
from treadle.passes.sparse.order import choose_order, sparse_accesses
from treadle.passes.sparse.schedule_util import schedule_of, with_schedule


def dense_indices(op: AssignOp) -> list[str]:
    carried = {i for a, _ in sparse_accesses(op) for i in a.index_names}
    order = schedule_of(op).loop_order or choose_order(op).order
    return [i for i in order if i not in carried]


class Tile(RewritePattern):
    def __init__(self, index: str, size: int):
        self.index, self.size = index, size

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: AssignOp, rewriter: PatternRewriter) -> None:
        candidates = dense_indices(op)
        index = self.index or (candidates[-1] if candidates else "")
        if index in op.index_ranges() and index not in candidates:
            note = StringAttr(f"not tiled: index {index} is carried by a sparse operand")
            if op.attributes.get("sparse.note") != note:
                op.attributes["sparse.note"] = note
                rewriter.notify_op_modified(op)
            return
        if not index:
            return
        if op.index_ranges().get(index, 0) <= self.size:
            return
        tiles = dict(schedule_of(op).tile_sizes)
        if tiles.get(index) == self.size:
            return
        tiles[index] = self.size
        op.schedule = with_schedule(op, tiles=tiles)
        rewriter.notify_op_modified(op)


@dataclass(frozen=True)
class SparseTilePass(ModulePass):
    """Tile one dense index of every statement (the intra-tile loop becomes innermost)."""

    name = "sparse-tile"

    index: str = ""
    """the index to tile; empty: the innermost index no sparse operand carries"""
    size: int = 32

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if self.size < 1:
            raise PipelineError(f"sparse-tile: size must be positive, got {self.size}")
        PatternRewriteWalker(Tile(self.index, self.size), apply_recursively=False).rewrite_module(op)


TILE_SIZES = (4, 8, 16, 32, 64, 128, 256, 512)
"""Candidate tile sizes a tuner may try; those below an index's extent are offered."""


def tunable_options(op: AssignOp) -> dict[str, dict]:
    """What a tuner may search for `op`, as plain data in the space-file format (docs/tuning.md;
    this module does not import the tuner): for each dense index (one no sparse operand carries),
    `tile_<index>` = this pass's `size` with `index=<index>`, an ordinal of the candidate sizes
    below the extent plus the extent itself, which means untiled (the pass drops a size at least
    the extent). Default: untiled. `applies_to` says which pass option a value sets."""
    out: dict[str, dict] = {}
    ranges = op.index_ranges()
    for index in dense_indices(op):
        extent = ranges.get(index, 0)
        sizes = [s for s in TILE_SIZES if s < extent]
        if not sizes:
            continue
        out[f"tile_{index}"] = {
            "parameter_type": "ordinal",
            "values": [*sizes, extent],
            "transform": "log",
            "parameter_default": extent,
            "applies_to": {"pass": "sparse-tile", "option": "size", "with": {"index": index}},
        }
    return out
