"""`sparse-to-loops`: sparsification of single-statement functions into scf/memref/arith loops.

Why a function-level rewrite: lowering changes the signature (each sparse tensor becomes its
pos/crd/values memrefs, see `lowering.py`), so the statement and its function go together.
A function whose body is one `sparse.assign` (or `sparse.softmax`, see `softmax_loops.py`) and
a `func.return` of it is replaced by the loop function of the same name; anything else is left
alone, or reported with `strict=true`.
"""

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.parser import Parser
from xdsl.passes import ModulePass

from treadle.dialects.sparse import AssignOp, SoftmaxOp
from treadle.errors import PipelineError
from treadle.passes.sparse.lowering import NotSupportedError, lower_statement
from treadle.passes.sparse.softmax_loops import lower_softmax


def single_statement(f: func.FuncOp) -> AssignOp | SoftmaxOp | None:
    """The op of a function `{ %r = sparse.assign/softmax ...; func.return %r }`, else None."""
    ops = list(f.body.ops) if f.body.blocks else []
    if len(ops) != 2 or not isinstance(ops[0], AssignOp | SoftmaxOp) or not isinstance(ops[1], func.ReturnOp):
        return None
    if tuple(ops[1].operands) != (ops[0].result,):
        return None
    return ops[0]


def lower_function(ctx: Context, f: func.FuncOp, op: AssignOp | SoftmaxOp) -> func.FuncOp:
    name = f.sym_name.data
    text = lower_softmax(op, name) if isinstance(op, SoftmaxOp) else lower_statement(op, name)
    parsed = Parser(ctx, text, "sparse-to-loops").parse_module()
    new = next(iter(parsed.body.ops))
    assert isinstance(new, func.FuncOp)
    new.detach()
    return new


@dataclass(frozen=True)
class SparseToLoopsPass(ModulePass):
    """Lower every single-statement sparse function to loops over its storage arrays."""

    name = "sparse-to-loops"

    strict: bool = True
    """raise on statements the generator does not handle (instead of leaving them)"""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for f in list(op.walk()):
            if not isinstance(f, func.FuncOp):
                continue
            stmt = single_statement(f)
            if stmt is None:
                if self.strict and any(isinstance(o, AssignOp | SoftmaxOp) for o in f.walk()):
                    raise PipelineError(
                        f"sparse-to-loops: @{f.sym_name.data} must hold one sparse.assign (or "
                        "sparse.softmax) and return its result (the runtime splits "
                        "multi-statement programs)"
                    )
                continue
            try:
                new = lower_function(ctx, f, stmt)
            except NotSupportedError as err:
                if self.strict:
                    raise PipelineError(f"sparse-to-loops: @{f.sym_name.data}: {err}") from None
                continue
            f.parent_block().insert_op_before(new, f)
            f.detach()
            f.erase()
