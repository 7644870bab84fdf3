"""C expressions for the scalar ops of `arith` and `math`.

Semantics follow MLIR: `iN` arithmetic wraps (computed in uint64_t and truncated), `index`
arithmetic is plain signed C (loop IR never overflows it, as in MLIR's sparsifier), float ops are
IEEE without reassociation, division by zero is undefined as in MLIR.
"""

import math
from collections.abc import Callable

from xdsl.dialects import arith
from xdsl.dialects import math as mathd
from xdsl.dialects.builtin import (
    Float32Type,
    FloatAttr,
    IndexType,
    IntegerAttr,
    IntegerType,
)
from xdsl.ir import Attribute, Operation

from treadle.backends.c.abi import int_width, scalar_c_type, unsigned_c_type
from treadle.errors import CompileError


def constant_expr(value: Attribute, type_: Attribute) -> str:
    """A C literal for an `arith.constant` value."""
    c = scalar_c_type(type_)
    if isinstance(value, FloatAttr):
        return float_literal(value.value.data, isinstance(type_, Float32Type))
    if isinstance(value, IntegerAttr):
        v = value.value.data
        if c == "bool":
            return "true" if v & 1 else "false"
        if c == "int64_t":
            if -(2**31) <= v < 2**31:
                return str(v) if v >= 0 else f"({v})"
            return "INT64_MIN" if v == -(2**63) else f"INT64_C({v})"
        return f"(({c}){v})"
    raise CompileError(f"C backend: unsupported constant {value} : {type_}")


def float_literal(v: float, single: bool) -> str:
    suffix = "f" if single else ""
    if math.isnan(v):
        return "NAN" if single else "((double)NAN)"
    if math.isinf(v):
        return ("" if v > 0 else "-") + ("INFINITY" if single else "((double)INFINITY)")
    return f"{v!r}{suffix}" if "e" in repr(v) or "." in repr(v) else f"{v!r}.0{suffix}"


def _wrap(op: str) -> Callable[[Operation, list[str]], str]:
    def emit(o: Operation, a: list[str]) -> str:
        t = o.results[0].type
        if isinstance(t, IndexType):
            return f"({a[0]} {op} {a[1]})"
        c = scalar_c_type(t)
        if c == "bool":
            return f"({a[0]} {'&' if op == '*' else '^'} {a[1]})"
        return f"(({c})((uint64_t){a[0]} {op} (uint64_t){a[1]}))"

    return emit


def _plain(op: str) -> Callable[[Operation, list[str]], str]:
    return lambda o, a: f"({a[0]} {op} {a[1]})"


def _unsigned(op: str) -> Callable[[Operation, list[str]], str]:
    def emit(o: Operation, a: list[str]) -> str:
        t = o.operands[0].type
        u = unsigned_c_type(t)
        return f"(({scalar_c_type(t)})(({u}){a[0]} {op} ({u}){a[1]}))"

    return emit


def _helper(name: str) -> Callable[[Operation, list[str]], str]:
    def emit(o: Operation, a: list[str]) -> str:
        c = scalar_c_type(o.results[0].type)
        if c == "bool":
            raise CompileError(f"C backend: {o.name} on i1 is not supported")
        return f"treadle_{name}_{c}({a[0]}, {a[1]})"

    return emit


def _select_minmax(cmp: str, unsigned: bool) -> Callable[[Operation, list[str]], str]:
    def emit(o: Operation, a: list[str]) -> str:
        t = o.operands[0].type
        x, y = (f"({unsigned_c_type(t)}){a[0]}", f"({unsigned_c_type(t)}){a[1]}") if unsigned else (a[0], a[1])
        return f"({x} {cmp} {y} ? {a[0]} : {a[1]})"

    return emit


def _ceildivui(o: Operation, a: list[str]) -> str:
    t = o.operands[0].type
    u = unsigned_c_type(t)
    return f"(({scalar_c_type(t)})(({u}){a[0]} / ({u}){a[1]} + (({u}){a[0]} % ({u}){a[1]} != 0)))"


def _shift(kind: str) -> Callable[[Operation, list[str]], str]:
    def emit(o: Operation, a: list[str]) -> str:
        t = o.results[0].type
        c, u = scalar_c_type(t), unsigned_c_type(t)
        if kind == "shl":
            return f"(({c})((uint64_t)({u}){a[0]} << {a[1]}))"
        if kind == "shru":
            return f"(({c})(({u}){a[0]} >> {a[1]}))"
        return f"(({c})({a[0]} >> {a[1]}))"

    return emit


_CMPI = {"eq": "==", "ne": "!=", "slt": "<", "sle": "<=", "sgt": ">", "sge": ">=", "ult": "<", "ule": "<=", "ugt": ">", "uge": ">="}


def _cmpi(o: Operation, a: list[str]) -> str:
    assert isinstance(o, arith.CmpiOp)
    pred = arith.CMPI_COMPARISON_OPERATIONS[o.predicate.value.data]
    t = o.lhs.type
    x, y = a
    if pred.startswith("u"):
        u = unsigned_c_type(t)
        x, y = f"({u}){x}", f"({u}){y}"
    elif pred.startswith("s") and scalar_c_type(t) == "bool":
        x, y = f"(-(int){x})", f"(-(int){y})"
    return f"({x} {_CMPI[pred]} {y})"


def _cmpf(o: Operation, a: list[str]) -> str:
    assert isinstance(o, arith.CmpfOp)
    pred = arith.CMPF_COMPARISON_OPERATIONS[o.predicate.value.data]
    x, y = a
    table = {
        "false": "false",
        "true": "true",
        "oeq": f"({x} == {y})",
        "ogt": f"({x} > {y})",
        "oge": f"({x} >= {y})",
        "olt": f"({x} < {y})",
        "ole": f"({x} <= {y})",
        "one": f"({x} < {y} || {x} > {y})",
        "ord": f"(!isnan({x}) && !isnan({y}))",
        "ueq": f"(!({x} < {y} || {x} > {y}))",
        "ugt": f"(!({x} <= {y}))",
        "uge": f"(!({x} < {y}))",
        "ult": f"(!({x} >= {y}))",
        "ule": f"(!({x} > {y}))",
        "une": f"({x} != {y})",
        "uno": f"(isnan({x}) || isnan({y}))",
    }
    return table[pred]


def _cast(o: Operation, a: list[str]) -> str:
    """Integer/float conversions; `unsigned` casts reinterpret the source as unsigned first."""
    src, dst = o.operands[0].type, o.results[0].type
    cs, cd = scalar_c_type(src), scalar_c_type(dst)
    x = a[0]
    if isinstance(o, arith.ExtUIOp | arith.UIToFPOp) and cs != "bool":
        x = f"({unsigned_c_type(src)}){x}"
    if isinstance(o, arith.FPToUIOp):
        return f"(({cd})({unsigned_c_type(dst)}){x})"
    if isinstance(o, arith.ExtSIOp) and cs == "bool":
        return f"(({cd})(-(int){x}))"
    if cd == "bool" and isinstance(src, IntegerType | IndexType):
        return f"((bool)({x} & 1))"
    if isinstance(o, arith.IndexCastOp) and cs == "bool":
        return f"(({cd})(-(int){x}))"
    return f"(({cd}){x})"


def _bitcast(o: Operation, a: list[str]) -> str:
    cs, cd = scalar_c_type(o.operands[0].type), scalar_c_type(o.results[0].type)
    return f"(((union {{ {cs} from; {cd} to; }}){{ .from = {a[0]} }}).to)"


def _math(fn: str) -> Callable[[Operation, list[str]], str]:
    def emit(o: Operation, a: list[str]) -> str:
        suffix = "f" if isinstance(o.results[0].type, Float32Type) else ""
        return f"{fn}{suffix}({', '.join(a)})"

    return emit


def _rsqrt(o: Operation, a: list[str]) -> str:
    f32 = isinstance(o.results[0].type, Float32Type)
    return f"(1.0{'f' if f32 else ''} / sqrt{'f' if f32 else ''}({a[0]}))"


def _fpowi(o: Operation, a: list[str]) -> str:
    f32 = isinstance(o.results[0].type, Float32Type)
    return f"pow{'f' if f32 else ''}({a[0]}, ({'float' if f32 else 'double'}){a[1]})"


def _absi(o: Operation, a: list[str]) -> str:
    c = scalar_c_type(o.results[0].type)
    return f"(({c})({a[0]} < 0 ? -(uint64_t){a[0]} : (uint64_t){a[0]}))"


def _bitcount(kind: str) -> Callable[[Operation, list[str]], str]:
    def emit(o: Operation, a: list[str]) -> str:
        t = o.results[0].type
        c, u, w = scalar_c_type(t), unsigned_c_type(t), int_width(t)
        x = f"(uint64_t)({u}){a[0]}"
        if kind == "pop":
            return f"(({c})__builtin_popcountll({x}))"
        if kind == "clz":
            return f"(({c})({a[0]} == 0 ? {w} : __builtin_clzll({x}) - {64 - w}))"
        return f"(({c})({a[0]} == 0 ? {w} : __builtin_ctzll({x})))"

    return emit


SCALAR_OPS: dict[type[Operation], Callable[[Operation, list[str]], str]] = {
    arith.AddiOp: _wrap("+"),
    arith.SubiOp: _wrap("-"),
    arith.MuliOp: _wrap("*"),
    arith.DivSIOp: _plain("/"),
    arith.RemSIOp: _plain("%"),
    arith.DivUIOp: _unsigned("/"),
    arith.RemUIOp: _unsigned("%"),
    arith.FloorDivSIOp: _helper("floordiv"),
    arith.CeilDivSIOp: _helper("ceildiv"),
    arith.CeilDivUIOp: _ceildivui,
    arith.MinSIOp: _select_minmax("<", False),
    arith.MaxSIOp: _select_minmax(">", False),
    arith.MinUIOp: _select_minmax("<", True),
    arith.MaxUIOp: _select_minmax(">", True),
    arith.AndIOp: _plain("&"),
    arith.OrIOp: _plain("|"),
    arith.XOrIOp: _plain("^"),
    arith.ShLIOp: _shift("shl"),
    arith.ShRUIOp: _shift("shru"),
    arith.ShRSIOp: _shift("shrs"),
    arith.CmpiOp: _cmpi,
    arith.CmpfOp: _cmpf,
    arith.SelectOp: lambda o, a: f"({a[0]} ? {a[1]} : {a[2]})",
    arith.AddfOp: _plain("+"),
    arith.SubfOp: _plain("-"),
    arith.MulfOp: _plain("*"),
    arith.DivfOp: _plain("/"),
    arith.NegfOp: lambda o, a: f"(-{a[0]})",
    arith.MaximumfOp: _helper("maximumf"),
    arith.MinimumfOp: _helper("minimumf"),
    arith.MaxnumfOp: _helper("maxnumf"),
    arith.MinnumfOp: _helper("minnumf"),
    arith.IndexCastOp: _cast,
    arith.ExtSIOp: _cast,
    arith.ExtUIOp: _cast,
    arith.TruncIOp: _cast,
    arith.SIToFPOp: _cast,
    arith.UIToFPOp: _cast,
    arith.FPToSIOp: _cast,
    arith.FPToUIOp: _cast,
    arith.ExtFOp: _cast,
    arith.TruncFOp: _cast,
    arith.BitcastOp: _bitcast,
    mathd.AbsFOp: _math("fabs"),
    mathd.AbsIOp: _absi,
    mathd.SqrtOp: _math("sqrt"),
    mathd.RsqrtOp: _rsqrt,
    mathd.CbrtOp: _math("cbrt"),
    mathd.ExpOp: _math("exp"),
    mathd.Exp2Op: _math("exp2"),
    mathd.ExpM1Op: _math("expm1"),
    mathd.LogOp: _math("log"),
    mathd.Log2Op: _math("log2"),
    mathd.Log10Op: _math("log10"),
    mathd.Log1pOp: _math("log1p"),
    mathd.SinOp: _math("sin"),
    mathd.CosOp: _math("cos"),
    mathd.TanOp: _math("tan"),
    mathd.AsinOp: _math("asin"),
    mathd.AcosOp: _math("acos"),
    mathd.AtanOp: _math("atan"),
    mathd.Atan2Op: _math("atan2"),
    mathd.SinhOp: _math("sinh"),
    mathd.CoshOp: _math("cosh"),
    mathd.TanhOp: _math("tanh"),
    mathd.AsinhOp: _math("asinh"),
    mathd.AcoshOp: _math("acosh"),
    mathd.AtanhOp: _math("atanh"),
    mathd.ErfOp: _math("erf"),
    mathd.PowFOp: _math("pow"),
    mathd.FPowIOp: _fpowi,
    mathd.FmaOp: _math("fma"),
    mathd.FloorOp: _math("floor"),
    mathd.CeilOp: _math("ceil"),
    mathd.RoundOp: _math("round"),
    mathd.RoundEvenOp: _math("rint"),
    mathd.TruncOp: _math("trunc"),
    mathd.CopySignOp: _math("copysign"),
    mathd.CtPopOp: _bitcount("pop"),
    mathd.CountLeadingZerosOp: _bitcount("clz"),
    mathd.CountTrailingZerosOp: _bitcount("ctz"),
}
