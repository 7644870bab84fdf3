"""`sparse-infer-formats`: choose each statement's output format from its inputs and expression.

Why: a product's nonzeros lie inside the intersection of its sparse operands, a sum's in their
union; storing a structurally dense result sparsely (SpMM) wastes time, storing a sparse one
densely (SpGEMM) wastes memory. Rules, per additive term of the right-hand side:
- some output index is carried by no sparse operand of some term, or no output index is stored
  at a compressed level in some term → dense (SpMM; SpMV over CSR);
- one term whose sparse operand has exactly the output's indices in order → that operand's
  format (SDDMM → the mask's pattern);
- otherwise (SpGEMM, sums of sparse terms: the union pattern) → CSR (a compressed vector in 1-D).
Only statements whose result is dense are changed unless `all=true`.
"""

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import FunctionType, ModuleOp, TensorType
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import PatternRewriter, PatternRewriteWalker, RewritePattern, op_type_rewrite_pattern

from treadle.dialects.sparse import AssignOp, EncodingAttr, encoding_of, named_encoding
from treadle.passes.sparse.lowering import NotSupportedError, expand_terms


def infer_output_encoding(op: AssignOp) -> EncodingAttr | None:
    lhs = op.lhs_indices
    if not lhs:
        return None
    sparse = {n for n, v in zip(op.names, op.inputs) if encoding_of(v.type) is not None}
    try:
        terms = expand_terms(op.expr, sparse)
    except NotSupportedError:
        return None
    for term in terms:
        carried = {i for a in term.accesses() if a.tensor.data in sparse for i in a.index_names}
        if not set(lhs) <= carried:
            return None
    if len(terms) == 1:
        for a in terms[0].accesses():
            if a.tensor.data in sparse and a.index_names == lhs:
                return encoding_of(op.operand_named(a.tensor.data).type)
    for term in terms:
        compressed = set()
        for a in term.accesses():
            enc = encoding_of(op.operand_named(a.tensor.data).type) if a.tensor.data in sparse else None
            if enc is not None:
                compressed |= {a.index_names[lv.dim.data] for lv in enc.levels if not lv.is_dense}
        if not compressed & set(lhs):
            return None  # every output index is dense in some term (SpMV over CSR rows)
    if len(lhs) > 2:
        return named_encoding("csf", len(lhs))
    return named_encoding("csr" if len(lhs) == 2 else "compressed", len(lhs))


class InferOutputFormat(RewritePattern):
    def __init__(self, everything: bool):
        self.everything = everything

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: AssignOp, rewriter: PatternRewriter) -> None:
        rt = op.result.type
        assert isinstance(rt, TensorType)
        if encoding_of(rt) is not None and not self.everything:
            return
        enc = infer_output_encoding(op)
        if enc == encoding_of(rt):
            return
        new = TensorType(rt.get_element_type(), rt.get_shape(), enc) if enc is not None else TensorType(rt.get_element_type(), rt.get_shape())
        replacement = AssignOp(
            op.output_name.data, op.lhs_indices, op.expr, dict(zip(op.names, op.inputs)), new, op.schedule
        )
        replacement.attributes |= op.attributes
        rewriter.replace(op, replacement)
        for use in list(replacement.result.uses):
            user = use.operation
            if isinstance(user, func.ReturnOp):
                f = user.parent_op()
                if isinstance(f, func.FuncOp):
                    outputs = [v.type for v in user.operands]
                    f.function_type = FunctionType.from_lists(f.function_type.inputs.data, outputs)


@dataclass(frozen=True)
class SparseInferFormatsPass(ModulePass):
    """Set each statement's output encoding from its operands' formats and its expression."""

    name = "sparse-infer-formats"

    all: bool = False
    """also revisit outputs that already have a sparse format"""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(InferOutputFormat(self.all), apply_recursively=False).rewrite_module(op)


OPERAND_FORMATS: dict[int, tuple[str, ...]] = {
    1: ("compressed",),
    2: ("csr", "csc", "dcsr", "dcsc", "coo", "bsr:2x2", "bsr:4x4"),
    3: ("csf", "coo"),
}
"""Candidate storage formats of a sparse operand, by rank, that a tuner may try (`dense` is left
out: densifying a large sparse operand rarely pays and costs memory; ask for it explicitly)."""


def tunable_options(op: AssignOp) -> dict[str, dict]:
    """What a tuner may search for `op`, as plain data in the space-file format (docs/tuning.md;
    this module does not import the tuner): `format_<tensor>` for each sparse operand, a
    categorical of the candidate formats of its rank (its current format first, the default).
    This pass then infers the output format from the chosen ones. The composer keeps only the
    formats the loop generator handles for this statement. `applies_to` names the operand."""
    from treadle.dialects.sparse import format_name

    out: dict[str, dict] = {}
    for name, value in zip(op.names, op.inputs):
        enc = encoding_of(value.type)
        if enc is None:
            continue
        rank = len(value.type.get_shape())
        current = format_name(enc, rank) or str(enc)
        values = [current, *(f for f in OPERAND_FORMATS.get(rank, ()) if f != current)]
        if len(values) < 2:
            continue
        key = "format_" + "".join(c if c.isalnum() or c == "_" else "_" for c in name)
        out[key] = {"parameter_type": "categorical", "values": values, "parameter_default": current,
                    "applies_to": {"operand": name}}
    return out
