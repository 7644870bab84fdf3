"""
The `sparse` dialect: tensor algebra over tensors with per-level storage formats.

It is Treadle's common entry level. Formats use the level vocabulary and syntax of MLIR's
[sparse_tensor dialect](https://mlir.llvm.org/docs/Dialects/SparseTensorOps/) and are the
encoding of builtin `tensor` types; computations are index-notation statements in TACO's
notation, stored as an expression tree:

```mlir
#csr = #sparse.encoding<{map = (i, j) -> (i : dense, j : compressed)}>
func.func @spmv(%A: tensor<4x8xf64, #csr>, %x: tensor<8xf64>) -> tensor<4xf64> {
  %y = sparse.assign y(i) = A(i, j) * x(j) where A = %A, x = %x
         : tensor<4x8xf64, #csr>, tensor<8xf64> -> tensor<4xf64>
  func.return %y : tensor<4xf64>
}
```

A `func.func` holding several statements is a multi-statement program: statements are linked by
SSA values, which is what cross-statement fusion works on.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import ClassVar

from xdsl.dialects.builtin import (
    ArrayAttr,
    DictionaryAttr,
    Float32Type,
    Float64Type,
    FloatAttr,
    I64,
    IntAttr,
    IntegerAttr,
    NoneAttr,
    StringAttr,
    TensorType,
    UnitAttr,
)
from xdsl.ir import Attribute, Dialect, ParametrizedAttribute, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    VarConstraint,
    base,
    irdl_attr_definition,
    irdl_op_definition,
    operand_def,
    opt_prop_def,
    prop_def,
    result_def,
    traits_def,
    var_operand_def,
)
from xdsl.parser import AttrParser, Parser
from xdsl.printer import Printer
from xdsl.traits import Pure
from xdsl.utils.exceptions import VerifyException

# ---------------------------------------------------------------------------------------------
# Formats
# ---------------------------------------------------------------------------------------------

LEVEL_KINDS = ("dense", "compressed", "singleton")
LEVEL_PROPERTIES = ("nonunique", "nonordered")


@irdl_attr_definition
class LevelAttr(ParametrizedAttribute):
    """
    One storage level: which dimension it stores (optionally `floordiv`/`mod` a block size),
    its level type, and its properties. Printed only inside `#sparse.encoding`.
    """

    name = "sparse.level"

    dim: IntAttr
    kind: StringAttr
    block_op: StringAttr
    """"" for a plain dimension, "floordiv" or "mod" for one half of a blocked dimension."""
    block: IntAttr
    properties: ArrayAttr[StringAttr]

    def __init__(
        self,
        dim: int,
        kind: str,
        block_op: str = "",
        block: int = 1,
        properties: Sequence[str] = (),
    ):
        super().__init__(
            IntAttr(dim),
            StringAttr(kind),
            StringAttr(block_op),
            IntAttr(block),
            ArrayAttr(StringAttr(p) for p in properties),
        )

    def verify(self) -> None:
        if self.kind.data not in LEVEL_KINDS:
            raise VerifyException(
                f"unknown level type '{self.kind.data}', expected one of {', '.join(LEVEL_KINDS)}"
            )
        for prop in self.properties:
            if prop.data not in LEVEL_PROPERTIES:
                raise VerifyException(
                    f"unknown level property '{prop.data}', expected "
                    f"{' or '.join(LEVEL_PROPERTIES)}"
                )
        if self.block_op.data not in ("", "floordiv", "mod"):
            raise VerifyException(f"unknown level expression '{self.block_op.data}'")
        if self.block.data < 1:
            raise VerifyException(f"block size must be positive, got {self.block.data}")

    @property
    def unique(self) -> bool:
        return "nonunique" not in self.property_names

    @property
    def ordered(self) -> bool:
        return "nonordered" not in self.property_names

    @property
    def property_names(self) -> tuple[str, ...]:
        return tuple(p.data for p in self.properties)

    @property
    def is_dense(self) -> bool:
        return self.kind.data == "dense"

    def level_size(self, dim_size: int) -> int:
        """The number of coordinates of this level for a dimension of `dim_size`."""
        if self.block_op.data == "floordiv":
            return dim_size // self.block.data
        if self.block_op.data == "mod":
            return self.block.data
        return dim_size

    def spelling(self, dim_names: Sequence[str]) -> str:
        expr = dim_names[self.dim.data]
        if self.block_op.data:
            expr = f"{expr} {self.block_op.data} {self.block.data}"
        kind = self.kind.data
        if self.properties:
            kind += "(" + ", ".join(self.property_names) + ")"
        return f"{expr} : {kind}"


@irdl_attr_definition
class EncodingAttr(ParametrizedAttribute):
    """
    A tensor storage format as the encoding of a builtin tensor type, in MLIR's syntax:

    ```mlir
    #sparse.encoding<{map = (i, j) -> (i : dense, j : compressed)}>               // CSR
    #sparse.encoding<{map = (i, j) -> (i : compressed(nonunique), j : singleton)}> // COO
    #sparse.encoding<{map = (i, j) -> (i floordiv 4 : dense, j floordiv 4 : compressed,
                                        i mod 4 : dense, j mod 4 : dense)}>        // BSR 4x4
    ```
    """

    name = "sparse.encoding"

    dim_names: ArrayAttr[StringAttr]
    levels: ArrayAttr[LevelAttr]
    pos_width: IntAttr
    crd_width: IntAttr

    def __init__(
        self,
        dim_names: Sequence[str],
        levels: Sequence[LevelAttr],
        pos_width: int = 0,
        crd_width: int = 0,
    ):
        super().__init__(
            ArrayAttr(StringAttr(d) for d in dim_names),
            ArrayAttr(levels),
            IntAttr(pos_width),
            IntAttr(crd_width),
        )

    def __hash__(self) -> int:
        """Computed once: the runtime hashes the operands' encodings on every kernel lookup, and
        through the nested parameters that took 3 µs of a 40 µs SpMV call."""
        cached = self.__dict__.get("_hash")
        if cached is None:
            cached = hash((self.dim_names, self.levels, self.pos_width, self.crd_width))
            object.__setattr__(self, "_hash", cached)
        return cached

    def __getstate__(self) -> dict:
        """Without the cached hash: a string's hash differs between processes."""
        return {k: v for k, v in self.__dict__.items() if k != "_hash"}

    @property
    def rank(self) -> int:
        return len(self.dim_names)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(d.data for d in self.dim_names)

    def verify(self) -> None:
        rank = self.rank
        if len(set(self.names)) != rank:
            raise VerifyException(f"duplicate dimension name in ({', '.join(self.names)})")
        for width in (self.pos_width.data, self.crd_width.data):
            if width not in (0, 8, 16, 32, 64):
                raise VerifyException(f"bit width must be 0, 8, 16, 32 or 64, got {width}")
        uses: dict[int, list[LevelAttr]] = {d: [] for d in range(rank)}
        for level in self.levels:
            if not 0 <= level.dim.data < rank:
                raise VerifyException(f"level refers to dimension {level.dim.data} of {rank}")
            uses[level.dim.data].append(level)
        for d, levels in uses.items():  # each list is in level order
            name = self.names[d]
            ops = [level.block_op.data for level in levels]
            if ops == [""]:
                continue
            if ops == ["floordiv", "mod"] and levels[0].block == levels[1].block:
                continue
            if ops == ["mod", "floordiv"]:
                raise VerifyException(
                    f"dimension '{name}': the 'floordiv' level must come before the 'mod' level"
                )
            if not levels:
                raise VerifyException(f"dimension '{name}' is not stored by any level")
            raise VerifyException(
                f"dimension '{name}' must be stored by one level, or by a 'floordiv B' and a "
                f"'mod B' level with the same B"
            )
        for k, level in enumerate(self.levels):
            previous = self.levels.data[k - 1] if k else None
            if level.kind.data == "singleton" and (previous is None or previous.unique):
                raise VerifyException(
                    f"singleton level {k} must follow a nonunique level (as in COO)"
                )
            if not level.unique and (
                k + 1 == len(self.levels) or self.levels.data[k + 1].kind.data != "singleton"
            ):
                raise VerifyException(f"nonunique level {k} must be followed by a singleton level")
            if level.kind.data == "dense" and level.property_names:
                raise VerifyException(f"dense level {k} takes no properties")

    @property
    def is_all_dense_identity(self) -> bool:
        return all(
            lv.is_dense and not lv.block_op.data and lv.dim.data == k
            for k, lv in enumerate(self.levels)
        ) and len(self.levels) == self.rank

    @property
    def block_sizes(self) -> tuple[int, ...]:
        """Per dimension, its block size (1 when the dimension is not blocked)."""
        sizes = [1] * self.rank
        for level in self.levels:
            if level.block_op.data:
                sizes[level.dim.data] = level.block.data
        return tuple(sizes)

    @property
    def level_dims(self) -> tuple[int, ...]:
        return tuple(level.dim.data for level in self.levels)

    @property
    def is_blocked(self) -> bool:
        return any(level.block_op.data for level in self.levels)

    @property
    def map_spelling(self) -> str:
        names = self.names
        lhs = ", ".join(names)
        rhs = ", ".join(level.spelling(names) for level in self.levels)
        return f"({lhs}) -> ({rhs})"

    def print_parameters(self, printer: Printer) -> None:
        text = f"{{map = {self.map_spelling}"
        if self.pos_width.data:
            text += f", posWidth = {self.pos_width.data}"
        if self.crd_width.data:
            text += f", crdWidth = {self.crd_width.data}"
        printer.print_string(f"<{text}}}>")

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> list[Attribute]:
        start = parser.pos
        with parser.in_angle_brackets():
            if (name := parser.parse_optional_str_literal()) is not None:
                return _parse_named_encoding(parser, name, start)
            parser.parse_punctuation("{")
            parser.parse_keyword("map", " in a sparse encoding")
            parser.parse_punctuation("=")
            names, levels = _parse_level_map(parser)
            widths = {"posWidth": 0, "crdWidth": 0}
            while parser.parse_optional_punctuation(",") is not None:
                key = parser.parse_keyword_in(tuple(widths), " in a sparse encoding")
                parser.parse_punctuation("=")
                widths[key] = parser.parse_integer(allow_boolean=False, allow_negative=False)
            parser.parse_punctuation("}")
        try:
            encoding = EncodingAttr(names, levels, widths["posWidth"], widths["crdWidth"])
        except VerifyException as err:
            parser.raise_error(f"invalid sparse encoding: {err}", start, parser.pos)
        return list(encoding.parameters)


def _parse_named_encoding(parser: AttrParser, name: str, start: int) -> list[Attribute]:
    """`"csr"`, `"bsr:4x4"`, `"coo", rank = 3`: a shorthand (it prints in the full form)."""
    fixed_rank = NAMED_FORMATS.get(name.strip().lower(), (2, ""))[0]
    rank = 2 if fixed_rank is None else fixed_rank
    if parser.parse_optional_punctuation(",") is not None:
        parser.parse_keyword("rank", " after a named sparse encoding")
        parser.parse_punctuation("=")
        rank = parser.parse_integer(allow_boolean=False, allow_negative=False)
    try:
        return list(named_encoding(name, rank).parameters)
    except ValueError as err:
        parser.raise_error(str(err), start, parser.pos)


def _parse_level_map(parser: AttrParser) -> tuple[list[str], list[LevelAttr]]:
    """`(i, j) -> (i floordiv 4 : compressed, j : compressed(nonunique), ...)`"""
    names = parser.parse_comma_separated_list(
        parser.Delimiter.PAREN, lambda: parser.parse_identifier(" (a dimension name)")
    )
    for k, name in enumerate(names):
        if name in names[:k]:
            parser.raise_error(f"duplicate dimension name '{name}'")
    parser.parse_punctuation("->")

    def parse_level() -> LevelAttr:
        pos = parser.pos
        dim_name = parser.parse_identifier(" (a dimension of the map)")
        if dim_name not in names:
            parser.raise_error(
                f"unknown dimension '{dim_name}', expected one of {', '.join(names)}", pos, parser.pos
            )
        block_op = parser.parse_optional_keyword_in(("floordiv", "mod")) or ""
        block = 1
        if block_op:
            block = parser.parse_integer(allow_boolean=False, allow_negative=False)
            if block < 1:
                parser.raise_error(f"block size must be positive, got {block}")
        parser.parse_punctuation(":")
        kind_pos = parser.pos
        kind = parser.parse_identifier(" (a level type)")
        if kind not in LEVEL_KINDS:
            parser.raise_error(
                f"unknown level type '{kind}', expected one of {', '.join(LEVEL_KINDS)}",
                kind_pos,
                parser.pos,
            )
        props: list[str] = []
        if parser.parse_optional_punctuation("(") is not None:
            while True:
                prop_pos = parser.pos
                prop = parser.parse_identifier(" (a level property)")
                if prop not in LEVEL_PROPERTIES:
                    parser.raise_error(
                        f"unknown level property '{prop}', expected "
                        f"{' or '.join(LEVEL_PROPERTIES)}",
                        prop_pos,
                        parser.pos,
                    )
                props.append(prop)
                if parser.parse_optional_punctuation(",") is None:
                    break
            parser.parse_punctuation(")")
        return LevelAttr(names.index(dim_name), kind, block_op, block, props)

    levels = parser.parse_comma_separated_list(parser.Delimiter.PAREN, parse_level)
    return names, levels


# ---------------------------------------------------------------------------------------------
# Index-notation expressions
# ---------------------------------------------------------------------------------------------

UNARY_FUNCTIONS = ("relu", "exp", "neg", "abs", "sqrt")
BINARY_OPERATORS = {"add": "+", "sub": "-", "mul": "*", "div": "/"}
_PRECEDENCE = {"add": 1, "sub": 1, "mul": 2, "div": 2}
RESERVED_NAMES = frozenset(UNARY_FUNCTIONS) | {"sum", "where"}


class ExprAttr(ParametrizedAttribute):
    """An index-notation expression node. Subclasses are the node kinds."""

    def children(self) -> tuple[ExprAttr, ...]:
        return ()

    def walk(self) -> Iterator[ExprAttr]:
        yield self
        for child in self.children():
            yield from child.walk()

    def accesses(self) -> Iterator[AccessAttr]:
        return (node for node in self.walk() if isinstance(node, AccessAttr))

    def free_indices(self) -> tuple[str, ...]:
        """Index variables not bound by a `sum` inside, in order of first appearance."""
        seen: dict[str, None] = {}
        for child in self.children():
            seen.update(dict.fromkeys(child.free_indices()))
        return tuple(seen)

    def notation(self) -> str:
        raise NotImplementedError


@irdl_attr_definition
class AccessAttr(ExprAttr):
    """`A(i, j)`: a tensor read at index variables; `a` for a 0-d tensor."""

    name = "sparse.access"

    tensor: StringAttr
    indices: ArrayAttr[StringAttr]

    def __init__(self, tensor: str, indices: Sequence[str]):
        super().__init__(StringAttr(tensor), ArrayAttr(StringAttr(i) for i in indices))

    @property
    def index_names(self) -> tuple[str, ...]:
        return tuple(i.data for i in self.indices)

    def free_indices(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.index_names))

    def notation(self) -> str:
        if not self.indices:
            return self.tensor.data
        return f"{self.tensor.data}({', '.join(self.index_names)})"


@irdl_attr_definition
class ConstantAttr(ExprAttr):
    """A scalar constant, such as `0.5`."""

    name = "sparse.constant"

    value: FloatAttr

    def __init__(self, value: float):
        super().__init__(FloatAttr(float(value), Float64Type()))

    @property
    def number(self) -> float:
        return float(self.value.value.data)

    def verify(self) -> None:
        if not math.isfinite(self.number):
            raise VerifyException(f"constant must be finite, got {self.number}")

    def notation(self) -> str:
        text = repr(self.number)
        if "e" in text and "." not in text.split("e")[0]:
            mantissa, exponent = text.split("e")
            text = f"{mantissa}.0e{exponent}"
        return text


@irdl_attr_definition
class UnaryAttr(ExprAttr):
    """`relu(e)`, `exp(e)`, `abs(e)`, `sqrt(e)`, or `-e` (`neg`)."""

    name = "sparse.unary"

    function: StringAttr
    operand: ExprAttr

    def __init__(self, function: str, operand: ExprAttr):
        super().__init__(StringAttr(function), operand)

    def verify(self) -> None:
        if self.function.data not in UNARY_FUNCTIONS:
            raise VerifyException(
                f"unknown function '{self.function.data}', expected one of "
                f"{', '.join(UNARY_FUNCTIONS)}"
            )

    def children(self) -> tuple[ExprAttr, ...]:
        return (self.operand,)

    def notation(self) -> str:
        inner = self.operand.notation()
        if self.function.data == "neg":
            return f"-{_wrap(self.operand, 3)}"
        return f"{self.function.data}({inner})"


@irdl_attr_definition
class BinaryAttr(ExprAttr):
    """`lhs + rhs`, `lhs - rhs`, `lhs * rhs`, `lhs / rhs`."""

    name = "sparse.binary"

    operator: StringAttr
    lhs: ExprAttr
    rhs: ExprAttr

    def __init__(self, operator: str, lhs: ExprAttr, rhs: ExprAttr):
        super().__init__(StringAttr(operator), lhs, rhs)

    def verify(self) -> None:
        if self.operator.data not in BINARY_OPERATORS:
            raise VerifyException(f"unknown binary operator '{self.operator.data}'")

    def children(self) -> tuple[ExprAttr, ...]:
        return (self.lhs, self.rhs)

    def notation(self) -> str:
        prec = _PRECEDENCE[self.operator.data]
        # Parenthesize the right operand at equal precedence so the tree shape round-trips.
        return (
            f"{_wrap(self.lhs, prec)} {BINARY_OPERATORS[self.operator.data]} "
            f"{_wrap(self.rhs, prec + 1)}"
        )


@irdl_attr_definition
class ReduceAttr(ExprAttr):
    """`sum[j, k](e)`: an explicit sum over index variables (concrete index notation)."""

    name = "sparse.reduce"

    indices: ArrayAttr[StringAttr]
    body: ExprAttr

    def __init__(self, indices: Sequence[str], body: ExprAttr):
        super().__init__(ArrayAttr(StringAttr(i) for i in indices), body)

    @property
    def index_names(self) -> tuple[str, ...]:
        return tuple(i.data for i in self.indices)

    def verify(self) -> None:
        if not self.indices:
            raise VerifyException("sum must reduce at least one index")

    def children(self) -> tuple[ExprAttr, ...]:
        return (self.body,)

    def free_indices(self) -> tuple[str, ...]:
        return tuple(i for i in self.body.free_indices() if i not in self.index_names)

    def notation(self) -> str:
        return f"sum[{', '.join(self.index_names)}]({self.body.notation()})"


def _precedence(expr: ExprAttr) -> int:
    if isinstance(expr, BinaryAttr):
        return _PRECEDENCE[expr.operator.data]
    if isinstance(expr, UnaryAttr) and expr.function.data == "neg":
        return 3
    if isinstance(expr, ConstantAttr) and expr.number < 0:
        return 3
    return 4


def _wrap(expr: ExprAttr, min_precedence: int) -> str:
    text = expr.notation()
    return f"({text})" if _precedence(expr) < min_precedence else text


def parse_expression(parser: AttrParser) -> ExprAttr:
    """Parse index notation with the usual precedence: unary minus, then `* /`, then `+ -`."""

    def parse_sum() -> ExprAttr:
        expr = parse_product()
        while (op := parser.parse_optional_punctuation("+") or parser.parse_optional_punctuation("-")) is not None:
            expr = BinaryAttr("add" if op == "+" else "sub", expr, parse_product())
        return expr

    def parse_product() -> ExprAttr:
        expr = parse_factor()
        while (op := parser.parse_optional_punctuation("*") or parser.parse_optional_punctuation("/")) is not None:
            expr = BinaryAttr("mul" if op == "*" else "div", expr, parse_factor())
        return expr

    def parse_factor() -> ExprAttr:
        if parser.parse_optional_punctuation("-") is not None:
            number = _parse_optional_unsigned_number(parser)
            if number is not None:
                return ConstantAttr(-number)
            return UnaryAttr("neg", parse_factor())
        number = _parse_optional_unsigned_number(parser)
        if number is not None:
            return ConstantAttr(number)
        if parser.parse_optional_punctuation("(") is not None:
            expr = parse_sum()
            parser.parse_punctuation(")", " to close a parenthesized expression")
            return expr
        pos = parser.pos
        name = parser.parse_optional_identifier()
        if name is None:
            parser.raise_error(
                "expected an index-notation expression (a tensor access such as A(i, j), "
                "a number, a function call or a parenthesized expression)"
            )
        if name == "sum":
            indices = parser.parse_comma_separated_list(
                parser.Delimiter.SQUARE, lambda: parser.parse_identifier(" (an index variable)")
            )
            if not indices:
                parser.raise_error("sum must reduce at least one index", pos, parser.pos)
            parser.parse_punctuation("(", " after sum[...]")
            body = parse_sum()
            parser.parse_punctuation(")", " to close sum[...](")
            return ReduceAttr(indices, body)
        if name in UNARY_FUNCTIONS:
            parser.parse_punctuation("(", f" after function '{name}'")
            operand = parse_sum()
            parser.parse_punctuation(")", f" to close '{name}('")
            return UnaryAttr(name, operand)
        if name in RESERVED_NAMES:
            parser.raise_error(
                f"expected an index-notation expression, got '{name}' (a reserved word)",
                pos,
                parser.pos,
            )
        return AccessAttr(name, _parse_optional_index_list(parser))

    return parse_sum()


def _parse_optional_unsigned_number(parser: AttrParser) -> int | float | None:
    value = parser.parse_optional_integer(allow_boolean=False, allow_negative=False)
    if value is not None:
        return value
    return parser.parse_optional_float(allow_negative=False)


def _parse_optional_index_list(parser: AttrParser) -> list[str]:
    if parser.parse_optional_punctuation("(") is None:
        return []
    if parser.parse_optional_punctuation(")") is not None:
        return []
    indices = [parser.parse_identifier(" (an index variable)")]
    while parser.parse_optional_punctuation(",") is not None:
        indices.append(parser.parse_identifier(" (an index variable)"))
    parser.parse_punctuation(")", " to close an index list")
    return indices


def explicit_reductions(expr: ExprAttr, lhs_indices: Sequence[str]) -> ExprAttr:
    """
    Make TACO's implicit sums explicit: each index variable that is free on the right but not
    on the left is summed over the smallest term that holds all of its uses, where a term is
    an operand of `+`/`-` (so `y(i) = A(i,j)*x(j) + z(i)` sums `A*x` only, and
    `y(i) = exp(A(i,j))` sums `exp(A)`).
    """
    for index in expr.free_indices():
        if index not in lhs_indices:
            expr = _place_sum(expr, index)
    return expr


def _place_sum(expr: ExprAttr, index: str) -> ExprAttr:
    if isinstance(expr, BinaryAttr) and expr.operator.data in ("add", "sub"):
        in_lhs = index in expr.lhs.free_indices()
        in_rhs = index in expr.rhs.free_indices()
        if in_lhs and not in_rhs:
            return BinaryAttr(expr.operator.data, _place_sum(expr.lhs, index), expr.rhs)
        if in_rhs and not in_lhs:
            return BinaryAttr(expr.operator.data, expr.lhs, _place_sum(expr.rhs, index))
    if isinstance(expr, ReduceAttr):
        return ReduceAttr((*expr.index_names, index), expr.body)
    return ReduceAttr((index,), expr)


# ---------------------------------------------------------------------------------------------
# Schedules
# ---------------------------------------------------------------------------------------------

OMP_SCHEDULES = ("static", "dynamic", "guided")


@irdl_attr_definition
class ScheduleAttr(ParametrizedAttribute):
    """
    How a statement's loops run: loop order, tile sizes per index, the parallel loop and its
    OpenMP schedule and chunk, and the unroll-and-jam factor of the innermost sparse reduction
    loop. Scheduling passes fill it; every field is optional.

    ```mlir
    #sparse.schedule<order = [i, k, j], tile = {j = 32}, parallel = i, omp = dynamic, chunk = 64,
                     unroll = 4>
    ```
    """

    name = "sparse.schedule"

    order: ArrayAttr[StringAttr]
    tiles: DictionaryAttr
    parallel: StringAttr
    omp: StringAttr
    chunk: IntAttr
    unroll: IntAttr

    def __init__(
        self,
        order: Sequence[str] = (),
        tiles: dict[str, int] | None = None,
        parallel: str = "",
        omp: str = "static",
        chunk: int = 0,
        unroll: int = 1,
    ):
        super().__init__(
            ArrayAttr(StringAttr(i) for i in order),
            DictionaryAttr({k: IntAttr(v) for k, v in (tiles or {}).items()}),
            StringAttr(parallel),
            StringAttr(omp),
            IntAttr(chunk),
            IntAttr(unroll),
        )

    @property
    def loop_order(self) -> tuple[str, ...]:
        return tuple(i.data for i in self.order)

    @property
    def tile_sizes(self) -> dict[str, int]:
        return {k: v.data for k, v in self.tiles.data.items() if isinstance(v, IntAttr)}

    def verify(self) -> None:
        if len(set(self.loop_order)) != len(self.loop_order):
            raise VerifyException(f"loop order [{', '.join(self.loop_order)}] repeats an index")
        for index, size in self.tiles.data.items():
            if not isinstance(size, IntAttr) or size.data < 1:
                raise VerifyException(f"tile size of '{index}' must be a positive integer")
        if self.omp.data not in OMP_SCHEDULES:
            raise VerifyException(
                f"unknown OpenMP schedule '{self.omp.data}', expected one of {', '.join(OMP_SCHEDULES)}"
            )
        if self.chunk.data < 0:
            raise VerifyException(f"chunk must be non-negative, got {self.chunk.data}")
        if self.unroll.data < 1:
            raise VerifyException(f"unroll must be positive, got {self.unroll.data}")

    def print_parameters(self, printer: Printer) -> None:
        fields: list[str] = []
        if self.order:
            fields.append(f"order = [{', '.join(self.loop_order)}]")
        if self.tiles.data:
            fields.append(
                "tile = {" + ", ".join(f"{k} = {v}" for k, v in self.tile_sizes.items()) + "}"
            )
        if self.parallel.data:
            fields.append(f"parallel = {self.parallel.data}")
        if self.omp.data != "static":
            fields.append(f"omp = {self.omp.data}")
        if self.chunk.data:
            fields.append(f"chunk = {self.chunk.data}")
        if self.unroll.data != 1:
            fields.append(f"unroll = {self.unroll.data}")
        printer.print_string(f"<{', '.join(fields)}>")

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> list[Attribute]:
        order: list[str] = []
        tiles: dict[str, int] = {}
        parallel, omp, chunk, unroll = "", "static", 0, 1
        start = parser.pos
        with parser.in_angle_brackets():
            seen: set[str] = set()
            while True:
                pos = parser.pos
                key = parser.parse_optional_keyword_in(
                    ("order", "tile", "parallel", "omp", "chunk", "unroll")
                )
                if key is None:
                    break
                if key in seen:
                    parser.raise_error(f"schedule field '{key}' given twice", pos, parser.pos)
                seen.add(key)
                parser.parse_punctuation("=")
                if key == "order":
                    order = parser.parse_comma_separated_list(
                        parser.Delimiter.SQUARE, lambda: parser.parse_identifier(" (an index)")
                    )
                elif key == "tile":

                    def parse_tile() -> None:
                        index = parser.parse_identifier(" (an index)")
                        parser.parse_punctuation("=")
                        tiles[index] = parser.parse_integer(allow_boolean=False, allow_negative=False)

                    parser.parse_comma_separated_list(parser.Delimiter.BRACES, parse_tile)
                elif key == "parallel":
                    parallel = parser.parse_identifier(" (an index)")
                elif key == "omp":
                    omp = parser.parse_identifier(" (an OpenMP schedule)")
                elif key == "chunk":
                    chunk = parser.parse_integer(allow_boolean=False, allow_negative=False)
                else:
                    unroll = parser.parse_integer(allow_boolean=False, allow_negative=False)
                if parser.parse_optional_punctuation(",") is None:
                    break
        try:
            schedule = ScheduleAttr(order, tiles, parallel, omp, chunk, unroll)
        except VerifyException as err:
            parser.raise_error(f"invalid schedule: {err}", start, parser.pos)
        return list(schedule.parameters)


# ---------------------------------------------------------------------------------------------
# Operations
# ---------------------------------------------------------------------------------------------


def encoding_of(tensor_type: Attribute) -> EncodingAttr | None:
    """The sparse encoding of a tensor type, or None for a dense (row-major) tensor."""
    if isinstance(tensor_type, TensorType) and isinstance(tensor_type.encoding, EncodingAttr):
        return tensor_type.encoding
    return None


def _verify_tensor_type(what: str, tensor_type: TensorType) -> None:
    if not isinstance(tensor_type.encoding, EncodingAttr | NoneAttr):
        raise VerifyException(f"{what} has an encoding that is not a #sparse.encoding")
    encoding = encoding_of(tensor_type)
    if encoding is None:
        return
    shape = tensor_type.get_shape()
    if encoding.rank != len(shape):
        raise VerifyException(
            f"{what} has rank {len(shape)} but its encoding maps {encoding.rank} dimensions"
        )
    for d, block in enumerate(encoding.block_sizes):
        if block > 1 and shape[d] >= 0 and shape[d] % block:
            raise VerifyException(
                f"{what}: dimension {d} of size {shape[d]} is not a multiple of its block size {block}"
            )


@irdl_op_definition
class AssignOp(IRDLOperation):
    """
    One index-notation statement. The right-hand side names its tensors; `where` binds each
    name to an operand. Index variables only on the right are summed (see
    `explicit_reductions`). The result's type (its encoding) is the output format.

    ```mlir
    %C = sparse.assign C(i, j) = B(i, j) * sum[k](D(i, k) * E(k, j)) where B = %B, D = %D, E = %E
           : tensor<8x8xf64, #csr>, tensor<8x4xf64>, tensor<4x8xf64> -> tensor<8x8xf64, #csr>
    ```
    """

    name = "sparse.assign"

    inputs = var_operand_def(TensorType)
    result = result_def(TensorType)
    output_name = prop_def(StringAttr)
    output_indices = prop_def(ArrayAttr[StringAttr])
    expr = prop_def(ExprAttr)
    input_names = prop_def(ArrayAttr[StringAttr])
    schedule = opt_prop_def(ScheduleAttr)

    traits = traits_def(Pure())

    def __init__(
        self,
        output: str,
        output_indices: Sequence[str],
        expr: ExprAttr,
        inputs: dict[str, SSAValue],
        result_type: TensorType,
        schedule: ScheduleAttr | None = None,
    ):
        super().__init__(
            operands=[list(inputs.values())],
            result_types=[result_type],
            properties={
                "output_name": StringAttr(output),
                "output_indices": ArrayAttr(StringAttr(i) for i in output_indices),
                "expr": expr,
                "input_names": ArrayAttr(StringAttr(n) for n in inputs),
                "schedule": schedule,
            },
        )

    @property
    def lhs_indices(self) -> tuple[str, ...]:
        return tuple(i.data for i in self.output_indices)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(n.data for n in self.input_names)

    def operand_named(self, name: str) -> SSAValue:
        return self.inputs[self.names.index(name)]

    def statement(self) -> str:
        """The statement in index notation, e.g. `y(i) = A(i, j) * x(j)`."""
        lhs = self.output_name.data
        if self.output_indices:
            lhs += f"({', '.join(self.lhs_indices)})"
        return f"{lhs} = {self.expr.notation()}"

    def index_ranges(self) -> dict[str, int]:
        """Each index variable's extent (-1 when only dynamic dimensions carry it)."""
        ranges: dict[str, int] = {}
        for access in self.expr.accesses():
            shape = self.operand_named(access.tensor.data).type.get_shape()
            for index, size in zip(access.index_names, shape):
                if ranges.get(index, -1) < 0:
                    ranges[index] = size
        return ranges

    def verify_(self) -> None:
        names = self.names
        if len(names) != len(self.inputs):
            raise VerifyException(
                f"{len(names)} names bound by 'where' but {len(self.inputs)} operands"
            )
        for k, name in enumerate(names):
            if name in names[:k]:
                raise VerifyException(f"tensor '{name}' is bound twice")
            if name in RESERVED_NAMES:
                raise VerifyException(f"'{name}' is reserved and cannot name a tensor")
        out = self.output_name.data
        if out in names:
            raise VerifyException(f"output '{out}' is also an input; give the result a new name")
        lhs = self.lhs_indices
        if len(set(lhs)) != len(lhs):
            raise VerifyException(f"output '{out}' repeats an index in ({', '.join(lhs)})")

        used: set[str] = set()
        for access in self.expr.accesses():
            tensor = access.tensor.data
            if tensor not in names:
                raise VerifyException(
                    f"tensor '{tensor}' is not bound by 'where' (bound: {', '.join(names) or 'none'})"
                )
            used.add(tensor)
            tensor_type = self.operand_named(tensor).type
            assert isinstance(tensor_type, TensorType)
            rank = len(tensor_type.get_shape())
            if len(access.indices) != rank:
                raise VerifyException(
                    f"tensor '{tensor}' has rank {rank} but is accessed with "
                    f"{len(access.indices)} indices in {access.notation()}"
                )
            if len(set(access.index_names)) != rank:
                raise VerifyException(f"{access.notation()} repeats an index variable")
        for name in names:
            if name not in used:
                raise VerifyException(f"tensor '{name}' is bound by 'where' but never used")

        for k, operand in enumerate(self.inputs):
            _verify_tensor_type(f"tensor '{names[k]}'", operand.type)
        _verify_tensor_type(f"output '{out}'", self.result.type)

        element = self.result.type.get_element_type()
        for k, operand in enumerate(self.inputs):
            if operand.type.get_element_type() != element:
                raise VerifyException(
                    f"tensor '{names[k]}' has element type {operand.type.get_element_type()} "
                    f"but the output '{out}' has {element}"
                )

        self._verify_index_ranges()
        self._verify_sums()

        free = self.expr.free_indices()
        for index in lhs:
            if index not in free:
                raise VerifyException(
                    f"output index '{index}' of '{out}' does not appear on the right-hand side"
                )
        out_shape = self.result.type.get_shape()
        if len(out_shape) != len(lhs):
            raise VerifyException(
                f"output '{out}' has {len(lhs)} indices but its type has rank {len(out_shape)}"
            )
        ranges = self.index_ranges()
        for index, size in zip(lhs, out_shape):
            if size >= 0 and ranges.get(index, -1) >= 0 and ranges[index] != size:
                raise VerifyException(
                    f"shape mismatch: index '{index}' ranges over {ranges[index]} but output "
                    f"'{out}' has size {size} there"
                )
        if self.schedule is not None:
            self._verify_schedule(self.schedule)

    def _verify_index_ranges(self) -> None:
        seen: dict[str, tuple[int, str]] = {}
        for access in self.expr.accesses():
            shape = self.operand_named(access.tensor.data).type.get_shape()
            for d, (index, size) in enumerate(zip(access.index_names, shape)):
                if size < 0:
                    continue
                where = f"{access.tensor.data} dimension {d}"
                if index in seen and seen[index][0] != size:
                    raise VerifyException(
                        f"shape mismatch: index '{index}' ranges over {seen[index][0]} "
                        f"({seen[index][1]}) and {size} ({where})"
                    )
                seen.setdefault(index, (size, where))

    def _verify_sums(self) -> None:
        summed = {
            i for node in self.expr.walk() if isinstance(node, ReduceAttr) for i in node.index_names
        }

        def check(expr: ExprAttr, bound: tuple[str, ...]) -> None:
            if isinstance(expr, AccessAttr):
                for index in expr.index_names:
                    if index in summed and index not in bound:
                        raise VerifyException(
                            f"index '{index}' is summed by a sum[{index}](...) and also used "
                            f"outside it in {expr.notation()}; rename one of them"
                        )
            if isinstance(expr, ReduceAttr):
                for index in expr.index_names:
                    if index in self.lhs_indices:
                        raise VerifyException(
                            f"sum over '{index}', which is an index of the output"
                        )
                    if index in bound:
                        raise VerifyException(f"nested sums over the same index '{index}'")
                    if index not in expr.body.free_indices():
                        raise VerifyException(f"sum over '{index}', which its body does not use")
                bound = (*bound, *expr.index_names)
            for child in expr.children():
                check(child, bound)

        check(self.expr, ())

    def _verify_schedule(self, schedule: ScheduleAttr) -> None:
        indices = set(self.expr.free_indices()) | {
            i for node in self.expr.walk() if isinstance(node, ReduceAttr) for i in node.index_names
        }
        order = schedule.loop_order
        if order and set(order) != indices:
            raise VerifyException(
                f"schedule order [{', '.join(order)}] must be a permutation of the statement's "
                f"indices {{{', '.join(sorted(indices))}}}"
            )
        for index in schedule.tile_sizes:
            if index not in indices:
                raise VerifyException(f"schedule tiles unknown index '{index}'")
        if schedule.parallel.data and schedule.parallel.data not in indices:
            raise VerifyException(f"schedule parallelizes unknown index '{schedule.parallel.data}'")

    @classmethod
    def parse(cls, parser: Parser) -> AssignOp:
        out_pos = parser.pos
        output = parser.parse_identifier(" (the output tensor of a statement)")
        if output in RESERVED_NAMES:
            parser.raise_error(f"'{output}' is reserved and cannot name a tensor", out_pos, parser.pos)
        output_indices = _parse_optional_index_list(parser)
        parser.parse_punctuation("=", " after the statement's left-hand side")
        expr = parse_expression(parser)
        parser.parse_keyword("where", " (binding the statement's tensors, e.g. 'where A = %A')")

        def parse_binding() -> tuple[str, object, object]:
            pos = parser.pos
            name = parser.parse_identifier(" (a tensor name)")
            parser.parse_punctuation("=")
            return name, parser.parse_unresolved_operand(), pos

        bindings = [parse_binding()]
        while parser.parse_optional_punctuation(",") is not None:
            bindings.append(parse_binding())
            name, _, pos = bindings[-1]
            if any(b[0] == name for b in bindings[:-1]):
                parser.raise_error(f"tensor '{name}' is bound twice", pos, parser.pos)
        parser.parse_punctuation(":")
        types_pos = parser.pos
        types = [parser.parse_type()]
        while parser.parse_optional_punctuation(",") is not None:
            types.append(parser.parse_type())
        parser.parse_punctuation("->")
        result_type = parser.parse_type()
        if len(types) != len(bindings):
            parser.raise_error(
                f"{len(bindings)} tensors bound but {len(types)} operand types given",
                types_pos,
                parser.pos,
            )
        for t in (*types, result_type):
            if not isinstance(t, TensorType):
                parser.raise_error(f"expected a tensor type, got {t}", types_pos, parser.pos)
        schedule = None
        if parser.parse_optional_keyword("schedule") is not None:
            schedule = parser.parse_attribute()
            if not isinstance(schedule, ScheduleAttr):
                parser.raise_error("expected a #sparse.schedule attribute after 'schedule'")
        attributes = parser.parse_optional_attr_dict()
        operands = {
            name: parser.resolve_operand(value, t)  # type: ignore[arg-type]
            for (name, value, _), t in zip(bindings, types)
        }
        op = cls(output, output_indices, expr, operands, result_type, schedule)  # type: ignore[arg-type]
        op.attributes |= attributes
        return op

    def print(self, printer: Printer) -> None:
        printer.print_string(f" {self.statement()} where ")
        printer.print_list(
            zip(self.names, self.inputs),
            lambda pair: (printer.print_string(f"{pair[0]} = "), printer.print_operand(pair[1])),
        )
        printer.print_string(" : ")
        printer.print_list(self.inputs, lambda v: printer.print_attribute(v.type))
        printer.print_string(" -> ")
        printer.print_attribute(self.result.type)
        if self.schedule is not None:
            printer.print_string(" schedule ")
            printer.print_attribute(self.schedule)
        printer.print_op_attributes(self.attributes)


@irdl_op_definition
class ConvertOp(IRDLOperation):
    """
    Changes a tensor's storage format (e.g. CSR to CSC, to iterate it concordantly); the
    values are unchanged.

    ```mlir
    %B = sparse.convert %A : tensor<8x8xf64, #csr> to tensor<8x8xf64, #csc>
    ```
    """

    name = "sparse.convert"

    source = operand_def(TensorType)
    result = result_def(TensorType)

    traits = traits_def(Pure())

    assembly_format = "$source attr-dict `:` type($source) `to` type($result)"

    def __init__(self, source: SSAValue, result_type: TensorType):
        super().__init__(operands=[source], result_types=[result_type])

    def verify_(self) -> None:
        source, result = self.source.type, self.result.type
        assert isinstance(source, TensorType) and isinstance(result, TensorType)
        if source.get_shape() != result.get_shape():
            raise VerifyException(
                f"convert changes the shape from {list(source.get_shape())} to "
                f"{list(result.get_shape())}"
            )
        if source.get_element_type() != result.get_element_type():
            raise VerifyException(
                f"convert changes the element type from {source.get_element_type()} to "
                f"{result.get_element_type()}"
            )
        _verify_tensor_type("convert source", source)
        _verify_tensor_type("convert result", result)


@irdl_op_definition
class SoftmaxOp(IRDLOperation):
    """
    Softmax along one dimension: each slice along `dim` is normalized as
    `exp(x - max) / sum(exp(x - max))`. By default over the slice's nonzero entries (zeros stay
    zero: they count as -inf, as unstored entries do in `torch.sparse.softmax`); with `stored`,
    over its stored entries, explicit zeros included (exp(0 - max) like any value), which is
    `torch.sparse.softmax`'s own rule. The result has the operand's type, so its pattern is the
    operand's. This is the masked softmax of sparse attention; it is not index notation,
    because its normalization reads a whole slice.

    ```mlir
    %P = sparse.softmax %S {dim = 1} : tensor<64x64xf32, #csr>
    %Q = sparse.softmax %S {dim = 1} stored : tensor<64x64xf32, #csr>
    ```
    """

    name = "sparse.softmax"

    T: ClassVar = VarConstraint("T", base(TensorType))
    source = operand_def(T)
    result = result_def(T)
    dim = prop_def(IntegerAttr[I64])
    stored = opt_prop_def(UnitAttr)

    traits = traits_def(Pure())

    assembly_format = "$source ` ` `{` `dim` `=` $dim `}` (`stored` $stored^)? attr-dict `:` type($source)"

    def __init__(self, source: SSAValue, dim: int, stored: bool = False):
        properties: dict[str, Attribute] = {"dim": IntegerAttr(dim, 64)}
        if stored:
            properties["stored"] = UnitAttr()
        super().__init__(operands=[source], result_types=[source.type], properties=properties)

    @property
    def axis(self) -> int:
        return self.dim.value.data

    @property
    def over_stored(self) -> bool:
        return self.stored is not None

    def verify_(self) -> None:
        source, result = self.source.type, self.result.type
        assert isinstance(source, TensorType) and isinstance(result, TensorType)
        rank = len(source.get_shape())
        if not 0 <= self.axis < rank:
            raise VerifyException(f"softmax dim {self.axis} is out of range for rank {rank}")
        if not isinstance(source.get_element_type(), Float64Type | Float32Type):
            raise VerifyException(f"softmax needs f32 or f64 elements, got {source.get_element_type()}")
        _verify_tensor_type("softmax operand", source)


Sparse = Dialect(
    "sparse",
    [AssignOp, ConvertOp, SoftmaxOp],
    [
        LevelAttr,
        EncodingAttr,
        AccessAttr,
        ConstantAttr,
        UnaryAttr,
        BinaryAttr,
        ReduceAttr,
        ScheduleAttr,
    ],
)


# ---------------------------------------------------------------------------------------------
# Named formats (data): name -> per-level (dimension, level type, properties), for a rank.
# ---------------------------------------------------------------------------------------------

_Level = tuple[int, str, tuple[str, ...]]

NAMED_FORMATS: dict[str, tuple[int | None, str]] = {
    "dense": (None, "every level dense, row-major"),
    "compressed": (1, "a sparse vector"),
    "csr": (2, "compressed sparse rows: (i : dense, j : compressed)"),
    "csc": (2, "compressed sparse columns: (j : dense, i : compressed)"),
    "dcsr": (2, "doubly compressed rows: (i : compressed, j : compressed)"),
    "dcsc": (2, "doubly compressed columns: (j : compressed, i : compressed)"),
    "coo": (None, "coordinates: (compressed(nonunique), singleton, ...)"),
    "csf": (3, "compressed sparse fibers: every level compressed"),
    "bsr:RxC": (2, "block sparse rows with R x C dense blocks"),
}


def _named_levels(name: str, rank: int) -> list[_Level]:
    dims = list(range(rank))
    match name:
        case "dense":
            return [(d, "dense", ()) for d in dims]
        case "compressed" | "csf":
            return [(d, "compressed", ()) for d in dims]
        case "csr":
            return [(0, "dense", ()), (1, "compressed", ())]
        case "csc":
            return [(1, "dense", ()), (0, "compressed", ())]
        case "dcsr":
            return [(0, "compressed", ()), (1, "compressed", ())]
        case "dcsc":
            return [(1, "compressed", ()), (0, "compressed", ())]
        case "coo" if rank == 1:
            return [(0, "compressed", ())]
        case "coo":
            return [(0, "compressed", ("nonunique",))] + [
                (d, "singleton", ("nonunique",) if d + 1 < rank else ()) for d in dims[1:]
            ]
    raise KeyError(name)


def dim_names_for(rank: int) -> tuple[str, ...]:
    return tuple("ijkl"[:rank]) if rank <= 4 else tuple(f"d{d}" for d in range(rank))


def named_encoding(name: str, rank: int) -> EncodingAttr:
    """The encoding of a named format (`csr`, `coo`, `bsr:4x4`, ...) for a tensor of `rank`.

    Raises ValueError with the offending name when the name is unknown or the rank is wrong.
    """
    key = name.strip().lower()
    if key.startswith("bsr:"):
        return _bsr_encoding(key, rank)
    if key not in NAMED_FORMATS or key == "bsr:RxC":
        raise ValueError(
            f"unknown format '{name}', expected one of "
            f"{', '.join(NAMED_FORMATS)} or a #sparse.encoding"
        )
    fixed_rank = NAMED_FORMATS[key][0]
    if fixed_rank is not None and rank != fixed_rank:
        raise ValueError(f"format '{name}' is for rank {fixed_rank}, but the tensor has rank {rank}")
    levels = [LevelAttr(d, kind, "", 1, props) for d, kind, props in _named_levels(key, rank)]
    return EncodingAttr(dim_names_for(rank), levels)


def _bsr_encoding(key: str, rank: int) -> EncodingAttr:
    try:
        rows, cols = (int(v) for v in key[4:].split("x"))
    except ValueError:
        raise ValueError(f"format '{key}' must look like bsr:RxC, e.g. bsr:4x4") from None
    if rank != 2:
        raise ValueError(f"format '{key}' is for rank 2, but the tensor has rank {rank}")
    if rows < 1 or cols < 1:
        raise ValueError(f"format '{key}' needs positive block sizes")
    levels = [
        LevelAttr(0, "dense", "floordiv", rows),
        LevelAttr(1, "compressed", "floordiv", cols),
        LevelAttr(0, "dense", "mod", rows),
        LevelAttr(1, "dense", "mod", cols),
    ]
    return EncodingAttr(dim_names_for(2), levels)


def format_name(encoding: EncodingAttr | None, rank: int) -> str | None:
    """The shorthand of an encoding (`csr`, `bsr:2x2`, ...), or None if it has none."""
    if encoding is None:
        return "dense"
    candidates = [n for n, (r, _) in NAMED_FORMATS.items() if r in (None, rank) and ":" not in n]
    for name in candidates:
        if _same_levels(named_encoding(name, rank), encoding):
            return name
    if rank == 2 and encoding.is_blocked:
        rows, cols = encoding.block_sizes
        if _same_levels(named_encoding(f"bsr:{rows}x{cols}", 2), encoding):
            return f"bsr:{rows}x{cols}"
    return None


def _same_levels(a: EncodingAttr, b: EncodingAttr) -> bool:
    return a.levels == b.levels and a.pos_width == b.pos_width and a.crd_width == b.crd_width
