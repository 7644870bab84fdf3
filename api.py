"""
The Python API: `treadle.einsum`, `treadle.run`, `treadle.parse`, `treadle.run_pipeline`,
`treadle.passes`. It builds `sparse` IR, runs a pipeline and executes the result.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from typing import Any

import numpy as np
from xdsl.builder import ImplicitBuilder
from xdsl.dialects import func
from xdsl.dialects.builtin import Float32Type, Float64Type, ModuleOp, NoneAttr, TensorType
from xdsl.ir import SSAValue

from treadle.dialects.sparse import (
    RESERVED_NAMES,
    AssignOp,
    EncodingAttr,
    ExprAttr,
    _parse_optional_index_list,
    parse_expression,
)
from treadle.errors import Error, ParseError
from treadle.pipeline import Diagnostic, LocatedParseError, make_context, run_pipeline, verify
from treadle.tensors import Tensor, resolve_encoding, tensor

DEFAULT_PIPELINE = ""
"""What `einsum` runs before executing; the Scorch pipeline extends it."""


def einsum(
    expression: str,
    *operands: Any,
    format: str | EncodingAttr | None = None,
    pipeline: str | None = None,
    **named: Any,
) -> Tensor:
    """
    Evaluate index notation on tensors and return a Treadle tensor.

    ```python
    y = treadle.einsum("y(i) = A(i,j) * x(j)", A=A, x=x)
    y = treadle.einsum("ij,j->i", A, x)                    # numpy's notation
    C = treadle.einsum("T(i,j) = A(i,k) * B(k,j); C(i,j) = M(i,j) * T(i,j)", A=A, B=B, M=M)
    ```

    Statements are separated by `;` or new lines; later ones may read earlier outputs. The
    last statement's output is returned in `format` (default: dense).
    """
    if "(" not in expression:
        expression, named = _from_numpy_notation(expression, operands), {
            f"T{k}": t for k, t in enumerate(operands)
        }
    elif operands:
        raise Error("index notation names its tensors: pass them as keywords, e.g. A=A, x=x")
    inputs = {name: value if isinstance(value, Tensor) else tensor(value) for name, value in named.items()}
    module = build_program(expression, inputs, format)
    run_pipeline(module, DEFAULT_PIPELINE if pipeline is None else pipeline)
    return _execute(module, "main", list(inputs.values()))[0]


def run(module: ModuleOp, *args: Any, function: str = "main") -> tuple[Tensor, ...]:
    """Execute `function` of a `sparse` program on tensors; results come in their IR formats."""
    expected = _function(module, function).function_type.inputs.data
    if len(args) != len(expected):
        raise Error(f"@{function} takes {len(expected)} arguments, {len(args)} given")
    tensors = [a if isinstance(a, Tensor) else tensor(a) for a in args]
    return _execute(module, function, tensors)


def _execute(module: ModuleOp, function: str, args: list[Tensor]) -> tuple[Tensor, ...]:
    """Run `function` on `args`: compiled C kernels (Scorch's runtime, `treadle.runtime`) where
    the loop generator and a C compiler handle the program, else the numpy reference."""
    from treadle.errors import CompileError
    from treadle.interpreters.sparse import run_reference
    from treadle.passes.sparse.lowering import NotSupportedError
    from treadle.runtime import execute

    try:
        return execute(module, function, args)
    except (NotSupportedError, CompileError):
        pass
    results = run_reference(module, function, tuple(args))
    outputs = _function(module, function).function_type.outputs.data
    return tuple(_as_tensor(array, result_type) for array, result_type in zip(results, outputs))


def _function(module: ModuleOp, name: str) -> func.FuncOp:
    for op in module.walk():
        if isinstance(op, func.FuncOp) and op.sym_name.data == name:
            return op
    raise Error(f"no function @{name} in the module")


def _as_tensor(array: np.ndarray, result_type: Any) -> Tensor:
    """A result array stored in the format its IR type names."""
    encoding = result_type.encoding if isinstance(result_type, TensorType) else None
    return tensor(array, encoding if isinstance(encoding, EncodingAttr) else "dense")


# ---------------------------------------------------------------------------------------------
# Building programs
# ---------------------------------------------------------------------------------------------


def _from_numpy_notation(spec: str, operands: Sequence[Any]) -> str:
    """`ij,j->i` to `out(i) = T0(i, j) * T1(j)`."""
    spec = spec.replace(" ", "")
    if "..." in spec:
        raise Error("einsum: ellipsis ('...') is not supported; name every index")
    inputs, arrow, output = spec.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(operands):
        raise Error(f"einsum '{spec}' names {len(terms)} operands but {len(operands)} were given")
    for term in [*terms, output]:
        bad = [c for c in term if c not in string.ascii_letters]
        if bad:
            raise Error(f"einsum '{spec}': '{bad[0]}' is not an index letter")
    if not arrow:
        counts = {c: inputs.count(c) for c in inputs if c in string.ascii_letters}
        output = "".join(sorted(c for c, n in counts.items() if n == 1))
    rhs = " * ".join(f"T{k}({', '.join(term)})" if term else f"T{k}" for k, term in enumerate(terms))
    lhs = f"out({', '.join(output)})" if output else "out"
    return f"{lhs} = {rhs}"


def build_program(
    source: str, inputs: dict[str, Tensor], output_format: str | EncodingAttr | None = None
) -> ModuleOp:
    """A `func.func @main` holding one `sparse.assign` per statement of `source`."""
    ctx = make_context()
    statements = [
        (m.group(), m.start()) for m in re.finditer(r"[^;\n]+", source) if m.group().strip()
    ]
    if not statements:
        raise Error("einsum: no statement given")
    parsed = [_parse_statement(ctx, text, offset, source) for text, offset in statements]

    for name in inputs:
        if name in RESERVED_NAMES or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$.]*", name):
            raise Error(f"'{name}' cannot name a tensor")
    dtype = np.result_type(*(t.dtype for t in inputs.values())) if inputs else np.dtype(np.float64)
    dtype = np.dtype(np.float32) if dtype == np.float32 else np.dtype(np.float64)
    element = Float32Type() if dtype == np.float32 else Float64Type()
    arg_types = [
        TensorType(element, t.shape, t.encoding if t.encoding is not None else NoneAttr())
        for t in inputs.values()
    ]
    main = func.FuncOp("main", (arg_types, []))
    values: dict[str, SSAValue] = dict(zip(inputs, main.body.block.args))
    for name, arg in values.items():
        arg.name_hint = name if name.isidentifier() else None
    shapes: dict[str, tuple[int, ...]] = {n: t.shape for n, t in inputs.items()}
    last: SSAValue | None = None
    with ImplicitBuilder(main.body):
        for k, (output, indices, expr, where) in enumerate(parsed):
            if output in values:
                raise _error_at(where, f"'{output}' is already defined; give the output a new name")
            used = list(dict.fromkeys(a.tensor.data for a in expr.accesses()))
            for name in used:
                if name not in values:
                    raise _error_at(where, f"tensor '{name}' is not given (pass it as {name}=...)")
            ranges: dict[str, int] = {}
            for access in expr.accesses():
                for index, size in zip(access.index_names, shapes[access.tensor.data]):
                    ranges.setdefault(index, size)
            shape = [ranges.get(i, -1) for i in indices]
            is_last = k + 1 == len(parsed)
            encoding = resolve_encoding(output_format, len(indices)) if is_last else None
            result_type = TensorType(element, shape, encoding if encoding is not None else NoneAttr())
            op = AssignOp(output, indices, expr, {n: values[n] for n in used}, result_type)
            op.result.name_hint = output if output.isidentifier() else None
            try:
                op.verify_()
            except Exception as err:  # noqa: BLE001 - reported as the statement's diagnostic
                raise _error_at(where, str(err.args[0] if err.args else err)) from None
            values[output] = op.result
            shapes[output] = tuple(shape)
            last = op.result
        assert last is not None
        func.ReturnOp(last)
    main.function_type = func.FunctionType.from_lists(arg_types, [last.type])
    module = ModuleOp([main])
    verify(module)
    return module


def _parse_statement(ctx: Any, text: str, offset: int, source: str):
    from xdsl.parser import Parser
    from xdsl.utils.exceptions import ParseError as XdslParseError

    where = (source, offset)
    try:
        parser = Parser(ctx, text, "<einsum>")
        output = parser.parse_identifier(" (the output tensor of a statement)")
        if output in RESERVED_NAMES:
            raise _error_at(where, f"'{output}' is reserved and cannot name a tensor")
        indices = _parse_optional_index_list(parser)
        parser.parse_punctuation("=", " after the statement's left-hand side")
        expr: ExprAttr = parse_expression(parser)
        if parser.pos < len(text.rstrip()):
            parser.raise_error("unexpected text after the statement")
    except XdslParseError as err:
        raise _error_at((source, offset + err.span.start), err.msg) from None
    return output, indices, expr, where


def _error_at(where: tuple[str, int], message: str) -> ParseError:
    """A diagnostic at character `offset` of the einsum source text."""
    source, offset = where
    line_start = source.rfind("\n", 0, offset) + 1
    line_end = source.find("\n", offset)
    line = source[line_start : line_end if line_end >= 0 else len(source)]
    number = source.count("\n", 0, offset) + 1
    return LocatedParseError(Diagnostic("<einsum>", number, offset - line_start + 1, message, line))
