"""
Loop-order analysis shared by `sparse-order-loops` and `sparse-to-loops`.

Why: a sparse operand can only be iterated in its level order (a compressed level is reachable
only through its parent's position), so the loop order must be *concordant* with every sparse
operand. Among concordant orders a small cost model picks one: estimated loop-header work from
the index extents and an assumed density, plus a penalty when the innermost loop is not a dense,
contiguous (vectorizable) loop of the output or of a dense operand.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from xdsl.dialects.builtin import TensorType

from treadle.dialects.sparse import AccessAttr, AssignOp, EncodingAttr, ReduceAttr, encoding_of


@dataclass(frozen=True)
class OrderChoice:
    order: tuple[str, ...]
    concordant: bool
    """False when no order is concordant with every operand: `transpose` lists who to convert."""
    transpose: tuple[str, ...] = ()
    cost: float = 0.0


def statement_indices(op: AssignOp) -> tuple[str, ...]:
    seen: dict[str, None] = dict.fromkeys(op.lhs_indices)
    for node in op.expr.walk():
        if isinstance(node, AccessAttr):
            seen.update(dict.fromkeys(node.index_names))
        if isinstance(node, ReduceAttr):
            seen.update(dict.fromkeys(node.index_names))
    return tuple(seen)


def level_index_order(access: AccessAttr, encoding: EncodingAttr) -> list[str]:
    """The indices of an access in its operand's level order (blocked dims once, at the block)."""
    out: list[str] = []
    for level in encoding.levels:
        index = access.index_names[level.dim.data]
        if index not in out:
            out.append(index)
    return out


def sparse_accesses(op: AssignOp) -> list[tuple[AccessAttr, EncodingAttr]]:
    out = []
    for access in op.expr.accesses():
        enc = encoding_of(op.operand_named(access.tensor.data).type)
        if enc is not None:
            out.append((access, enc))
    return out


def is_concordant(order: tuple[str, ...], chain: list[str]) -> bool:
    positions = [order.index(i) for i in chain]
    return positions == sorted(positions)


def order_cost(op: AssignOp, order: tuple[str, ...], density: float = 0.01) -> float:
    ranges = op.index_ranges()
    sparse = sparse_accesses(op)
    trips = 1.0
    cost = 0.0
    for index in order:
        extent = max(ranges.get(index, 1), 1)
        driven = any(index in a.index_names for a, _ in sparse)
        trips *= max(extent * density, 1.0) if driven else extent
        cost += trips
    innermost = order[-1] if order else ""
    contiguous = innermost in op.lhs_indices[-1:] or any(
        a.index_names[-1:] == (innermost,)
        for a in op.expr.accesses()
        if encoding_of(op.operand_named(a.tensor.data).type) is None
    )
    if not contiguous:
        cost *= 1.5
    # Reductions inside output indices keep the output element in a register.
    for k, index in enumerate(order):
        if index not in op.lhs_indices and any(i in op.lhs_indices for i in order[k + 1 :]):
            cost *= 1.2
    return cost


def choose_order(op: AssignOp, density: float = 0.01) -> OrderChoice:
    indices = statement_indices(op)
    chains = [(a, level_index_order(a, e)) for a, e in sparse_accesses(op)]
    best: OrderChoice | None = None
    for order in itertools.permutations(indices) if len(indices) <= 6 else [indices]:
        bad = tuple(dict.fromkeys(a.tensor.data for a, chain in chains if not is_concordant(order, chain)))
        cost = order_cost(op, order, density)
        choice = OrderChoice(order, not bad, bad, cost)
        if best is None or (len(bad), cost) < (len(best.transpose), best.cost):
            best = choice
    assert best is not None
    return best


def transposed_encoding(encoding: EncodingAttr) -> EncodingAttr | None:
    """The same format with the level order of a 2-D tensor reversed (CSR↔CSC, DCSR↔DCSC)."""
    from treadle.dialects.sparse import LevelAttr

    if encoding.rank != 2 or encoding.is_blocked:
        return None
    levels = list(encoding.levels)
    swapped = [
        LevelAttr(1 - lv.dim.data, lv.kind.data, "", 1, lv.property_names) for lv in levels
    ]
    return EncodingAttr(encoding.names, swapped, encoding.pos_width.data, encoding.crd_width.data)


def tensor_type_with(t: TensorType, encoding: EncodingAttr) -> TensorType:
    return TensorType(t.get_element_type(), t.get_shape(), encoding)
