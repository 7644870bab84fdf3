"""Every arith/math op the C backend prints, run elementwise and compared with a numpy reference."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from treadle.backends.c import compile_module
from treadle.tests.backends.util import parse

NP = {"i1": np.bool_, "i8": np.int8, "i16": np.int16, "i32": np.int32, "i64": np.int64, "index": np.int64, "f32": np.float32, "f64": np.float64}
BITS = {"i1": 1, "i8": 8, "i16": 16, "i32": 32, "i64": 64, "index": 64}


def wrap(v: int, t: str) -> int:
    """Two's complement value of v in type t (i1 as 0/1)."""
    bits = BITS[t]
    v &= (1 << bits) - 1
    if t == "i1":
        return v
    return v - (1 << bits) if v >= 1 << (bits - 1) else v


def unsigned(v: int, t: str) -> int:
    return int(v) & ((1 << BITS[t]) - 1)


def trunc_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def round_half_away(x):
    f = np.floor(np.abs(x))
    return np.copysign(f + (np.abs(x) - f >= 0.5), x)


def ints(f):
    """An elementwise reference on Python ints."""
    return lambda t, r, *xs: np.array([wrap(f(t, *map(int, v)), r) for v in zip(*xs)], dtype=NP[r]).reshape(-1)


CMPI = {
    "eq": lambda t, a, b: a == b, "ne": lambda t, a, b: a != b,
    "slt": lambda t, a, b: wrap(a, t) < wrap(b, t), "sle": lambda t, a, b: wrap(a, t) <= wrap(b, t),
    "sgt": lambda t, a, b: wrap(a, t) > wrap(b, t), "sge": lambda t, a, b: wrap(a, t) >= wrap(b, t),
    "ult": lambda t, a, b: unsigned(a, t) < unsigned(b, t), "ule": lambda t, a, b: unsigned(a, t) <= unsigned(b, t),
    "ugt": lambda t, a, b: unsigned(a, t) > unsigned(b, t), "uge": lambda t, a, b: unsigned(a, t) >= unsigned(b, t),
}
_LT, _GT, _EQ, _UN = np.less, np.greater, np.equal, lambda a, b: np.isnan(a) | np.isnan(b)
CMPF = {
    "false": lambda a, b: np.zeros(a.shape, bool), "true": lambda a, b: np.ones(a.shape, bool),
    "oeq": _EQ, "ogt": _GT, "oge": np.greater_equal, "olt": _LT, "ole": np.less_equal,
    "one": lambda a, b: _LT(a, b) | _GT(a, b), "ord": lambda a, b: ~_UN(a, b),
    "ueq": lambda a, b: _EQ(a, b) | _UN(a, b), "ugt": lambda a, b: _GT(a, b) | _UN(a, b),
    "uge": lambda a, b: np.greater_equal(a, b) | _UN(a, b), "ult": lambda a, b: _LT(a, b) | _UN(a, b),
    "ule": lambda a, b: np.less_equal(a, b) | _UN(a, b), "une": lambda a, b: ~_EQ(a, b), "uno": _UN,
}


def nan_max(a, b, pick_max):
    """arith.maximumf/minimumf: NaN-propagating, -0 < +0."""
    out = np.where(_GT(a, b) if pick_max else _LT(a, b), a, b)
    zeros = (a == 0) & (b == 0)
    signed = np.where(np.signbit(a) == pick_max, b, a)
    out = np.where(zeros, signed, out)
    return np.where(_UN(a, b), np.nan, out).astype(a.dtype)


# (name, IR op text with {x} {y} {z}, operand types, result type, reference, kind of inputs)
CASES: list[tuple[str, str, tuple[str, ...], str, object, str]] = []
for t in ("i8", "i32", "i64", "index"):
    CASES += [
        (f"addi_{t}", f"arith.addi {{x}}, {{y}} : {t}", (t, t), t, ints(lambda t, a, b: a + b), "any"),
        (f"subi_{t}", f"arith.subi {{x}}, {{y}} : {t}", (t, t), t, ints(lambda t, a, b: a - b), "any"),
        (f"muli_{t}", f"arith.muli {{x}}, {{y}} : {t}", (t, t), t, ints(lambda t, a, b: a * b), "any"),
        (f"divsi_{t}", f"arith.divsi {{x}}, {{y}} : {t}", (t, t), t, ints(lambda t, a, b: trunc_div(a, b)), "divisor"),
        (f"remsi_{t}", f"arith.remsi {{x}}, {{y}} : {t}", (t, t), t, ints(lambda t, a, b: a - b * trunc_div(a, b)), "divisor"),
        (f"floordivsi_{t}", f"arith.floordivsi {{x}}, {{y}} : {t}", (t, t), t, ints(lambda t, a, b: a // b), "divisor"),
        (f"ceildivsi_{t}", f"arith.ceildivsi {{x}}, {{y}} : {t}", (t, t), t, ints(lambda t, a, b: -((-a) // b)), "divisor"),
        (f"divui_{t}", f"arith.divui {{x}}, {{y}} : {t}", (t, t), t, ints(lambda t, a, b: unsigned(a, t) // unsigned(b, t)), "divisor"),
        (f"remui_{t}", f"arith.remui {{x}}, {{y}} : {t}", (t, t), t, ints(lambda t, a, b: unsigned(a, t) % unsigned(b, t)), "divisor"),
        (f"ceildivui_{t}", f"arith.ceildivui {{x}}, {{y}} : {t}", (t, t), t, ints(lambda t, a, b: -(-unsigned(a, t) // unsigned(b, t))), "divisor"),
        (f"minsi_{t}", f"arith.minsi {{x}}, {{y}} : {t}", (t, t), t, ints(lambda t, a, b: min(a, b)), "any"),
        (f"maxsi_{t}", f"arith.maxsi {{x}}, {{y}} : {t}", (t, t), t, ints(lambda t, a, b: max(a, b)), "any"),
        (f"minui_{t}", f"arith.minui {{x}}, {{y}} : {t}", (t, t), t, ints(lambda t, a, b: min(unsigned(a, t), unsigned(b, t))), "any"),
        (f"maxui_{t}", f"arith.maxui {{x}}, {{y}} : {t}", (t, t), t, ints(lambda t, a, b: max(unsigned(a, t), unsigned(b, t))), "any"),
        (f"andi_{t}", f"arith.andi {{x}}, {{y}} : {t}", (t, t), t, ints(lambda t, a, b: a & b), "any"),
        (f"ori_{t}", f"arith.ori {{x}}, {{y}} : {t}", (t, t), t, ints(lambda t, a, b: a | b), "any"),
        (f"xori_{t}", f"arith.xori {{x}}, {{y}} : {t}", (t, t), t, ints(lambda t, a, b: a ^ b), "any"),
        (f"shli_{t}", f"arith.shli {{x}}, {{y}} : {t}", (t, t), t, ints(lambda t, a, b: a << b), "shift"),
        (f"shrsi_{t}", f"arith.shrsi {{x}}, {{y}} : {t}", (t, t), t, ints(lambda t, a, b: a >> b), "shift"),
        (f"shrui_{t}", f"arith.shrui {{x}}, {{y}} : {t}", (t, t), t, ints(lambda t, a, b: unsigned(a, t) >> b), "shift"),
    ]
    CASES += [
        (f"cmpi_{p}_{t}", f"arith.cmpi {p}, {{x}}, {{y}} : {t}", (t, t), "i1", ints(lambda t, a, b, f=f: int(f(t, a, b))), "any")
        for p, f in CMPI.items()
    ]
for t in ("i8", "i32"):
    CASES += [
        (f"absi_{t}", f"math.absi {{x}} : {t}", (t,), t, ints(lambda t, a: abs(a)), "any"),
        (f"ctpop_{t}", f"math.ctpop {{x}} : {t}", (t,), t, ints(lambda t, a: bin(unsigned(a, t)).count("1")), "any"),
        (f"ctlz_{t}", f"math.ctlz {{x}} : {t}", (t,), t, ints(lambda t, a: BITS[t] - unsigned(a, t).bit_length()), "any"),
        (f"cttz_{t}", f"math.cttz {{x}} : {t}", (t,), t, ints(lambda t, a: (unsigned(a, t) & -unsigned(a, t)).bit_length() - 1 if a else BITS[t]), "any"),
    ]
CASES += [
    ("addi_i1", "arith.addi {x}, {y} : i1", ("i1", "i1"), "i1", ints(lambda t, a, b: a + b), "any"),
    ("muli_i1", "arith.muli {x}, {y} : i1", ("i1", "i1"), "i1", ints(lambda t, a, b: a * b), "any"),
    ("xori_i1", "arith.xori {x}, {y} : i1", ("i1", "i1"), "i1", ints(lambda t, a, b: a ^ b), "any"),
    ("cmpi_slt_i1", "arith.cmpi slt, {x}, {y} : i1", ("i1", "i1"), "i1", ints(lambda t, a, b: int(-a < -b)), "any"),
    ("select_i32", "arith.select {x}, {y}, {z} : i32", ("i1", "i32", "i32"), "i32", ints(lambda t, c, a, b: a if c else b), "any"),
    ("index_cast_i32_index", "arith.index_cast {x} : i32 to index", ("i32",), "index", ints(lambda t, a: a), "any"),
    ("index_cast_index_i32", "arith.index_cast {x} : index to i32", ("index",), "i32", ints(lambda t, a: a), "any"),
    ("index_cast_i1_index", "arith.index_cast {x} : i1 to index", ("i1",), "index", ints(lambda t, a: -a), "any"),
    ("extsi_i8_i32", "arith.extsi {x} : i8 to i32", ("i8",), "i32", ints(lambda t, a: a), "any"),
    ("extui_i8_i32", "arith.extui {x} : i8 to i32", ("i8",), "i32", ints(lambda t, a: a & 0xFF), "any"),
    ("extsi_i1_i32", "arith.extsi {x} : i1 to i32", ("i1",), "i32", ints(lambda t, a: -a), "any"),
    ("extui_i1_i64", "arith.extui {x} : i1 to i64", ("i1",), "i64", ints(lambda t, a: a), "any"),
    ("trunci_i32_i8", "arith.trunci {x} : i32 to i8", ("i32",), "i8", ints(lambda t, a: a), "any"),
    ("trunci_i32_i1", "arith.trunci {x} : i32 to i1", ("i32",), "i1", ints(lambda t, a: a & 1), "any"),
    ("sitofp_i32_f64", "arith.sitofp {x} : i32 to f64", ("i32",), "f64", lambda t, r, a: a.astype(np.float64), "any"),
    ("uitofp_i8_f32", "arith.uitofp {x} : i8 to f32", ("i8",), "f32", lambda t, r, a: a.view(np.uint8).astype(np.float32), "any"),
    ("fptosi_f64_i32", "arith.fptosi {x} : f64 to i32", ("f64",), "i32", lambda t, r, a: np.trunc(a).astype(np.int32), "int_range"),
    ("fptoui_f64_i8", "arith.fptoui {x} : f64 to i8", ("f64",), "i8", lambda t, r, a: np.trunc(a).astype(np.uint8).view(np.int8), "byte_range"),
    ("extf", "arith.extf {x} : f32 to f64", ("f32",), "f64", lambda t, r, a: a.astype(np.float64), "special"),
    ("truncf", "arith.truncf {x} : f64 to f32", ("f64",), "f32", lambda t, r, a: a.astype(np.float32), "special"),
    ("bitcast_f32_i32", "arith.bitcast {x} : f32 to i32", ("f32",), "i32", lambda t, r, a: a.view(np.int32), "special"),
    ("bitcast_i64_f64", "arith.bitcast {x} : i64 to f64", ("i64",), "f64", lambda t, r, a: a.view(np.float64), "any"),
]
for t in ("f32", "f64"):
    F = lambda f: (lambda t, r, *xs: f(*xs).astype(NP[r]))  # noqa: E731
    CASES += [
        (f"addf_{t}", f"arith.addf {{x}}, {{y}} : {t}", (t, t), t, F(np.add), "special"),
        (f"subf_{t}", f"arith.subf {{x}}, {{y}} : {t}", (t, t), t, F(np.subtract), "special"),
        (f"mulf_{t}", f"arith.mulf {{x}}, {{y}} : {t}", (t, t), t, F(np.multiply), "special"),
        (f"divf_{t}", f"arith.divf {{x}}, {{y}} : {t}", (t, t), t, F(np.divide), "special"),
        (f"negf_{t}", f"arith.negf {{x}} : {t}", (t,), t, F(np.negative), "special"),
        (f"maximumf_{t}", f"arith.maximumf {{x}}, {{y}} : {t}", (t, t), t, F(lambda a, b: nan_max(a, b, True)), "special"),
        (f"minimumf_{t}", f"arith.minimumf {{x}}, {{y}} : {t}", (t, t), t, F(lambda a, b: nan_max(a, b, False)), "special"),
        (f"maxnumf_{t}", f"arith.maxnumf {{x}}, {{y}} : {t}", (t, t), t, F(np.fmax), "nonzero_special"),
        (f"minnumf_{t}", f"arith.minnumf {{x}}, {{y}} : {t}", (t, t), t, F(np.fmin), "nonzero_special"),
        (f"absf_{t}", f"math.absf {{x}} : {t}", (t,), t, F(np.abs), "special"),
        (f"sqrt_{t}", f"math.sqrt {{x}} : {t}", (t,), t, F(np.sqrt), "special"),
        (f"rsqrt_{t}", f"math.rsqrt {{x}} : {t}", (t,), t, F(lambda a: 1 / np.sqrt(a)), "special"),
        (f"exp_{t}", f"math.exp {{x}} : {t}", (t,), t, F(np.exp), "moderate"),
        (f"exp2_{t}", f"math.exp2 {{x}} : {t}", (t,), t, F(np.exp2), "moderate"),
        (f"expm1_{t}", f"math.expm1 {{x}} : {t}", (t,), t, F(np.expm1), "moderate"),
        (f"log_{t}", f"math.log {{x}} : {t}", (t,), t, F(np.log), "positive"),
        (f"log2_{t}", f"math.log2 {{x}} : {t}", (t,), t, F(np.log2), "positive"),
        (f"log10_{t}", f"math.log10 {{x}} : {t}", (t,), t, F(np.log10), "positive"),
        (f"log1p_{t}", f"math.log1p {{x}} : {t}", (t,), t, F(np.log1p), "positive"),
        (f"sin_{t}", f"math.sin {{x}} : {t}", (t,), t, F(np.sin), "moderate"),
        (f"cos_{t}", f"math.cos {{x}} : {t}", (t,), t, F(np.cos), "moderate"),
        (f"tan_{t}", f"math.tan {{x}} : {t}", (t,), t, F(np.tan), "moderate"),
        (f"tanh_{t}", f"math.tanh {{x}} : {t}", (t,), t, F(np.tanh), "moderate"),
        (f"sinh_{t}", f"math.sinh {{x}} : {t}", (t,), t, F(np.sinh), "moderate"),
        (f"cosh_{t}", f"math.cosh {{x}} : {t}", (t,), t, F(np.cosh), "moderate"),
        (f"atan_{t}", f"math.atan {{x}} : {t}", (t,), t, F(np.arctan), "moderate"),
        (f"asin_{t}", f"math.asin {{x}} : {t}", (t,), t, F(np.arcsin), "unit"),
        (f"acos_{t}", f"math.acos {{x}} : {t}", (t,), t, F(np.arccos), "unit"),
        (f"atanh_{t}", f"math.atanh {{x}} : {t}", (t,), t, F(np.arctanh), "unit"),
        (f"asinh_{t}", f"math.asinh {{x}} : {t}", (t,), t, F(np.arcsinh), "moderate"),
        (f"acosh_{t}", f"math.acosh {{x}} : {t}", (t,), t, F(np.arccosh), "positive"),
        (f"erf_{t}", f"math.erf {{x}} : {t}", (t,), t, F(np.vectorize(math.erf, otypes=[float])), "moderate"),
        (f"cbrt_{t}", f"math.cbrt {{x}} : {t}", (t,), t, F(np.cbrt), "moderate"),
        (f"floor_{t}", f"math.floor {{x}} : {t}", (t,), t, F(np.floor), "special"),
        (f"ceil_{t}", f"math.ceil {{x}} : {t}", (t,), t, F(np.ceil), "special"),
        (f"trunc_{t}", f"math.trunc {{x}} : {t}", (t,), t, F(np.trunc), "special"),
        (f"round_{t}", f"math.round {{x}} : {t}", (t,), t, F(round_half_away), "halves"),
        (f"roundeven_{t}", f"math.roundeven {{x}} : {t}", (t,), t, F(np.rint), "halves"),
        (f"powf_{t}", f"math.powf {{x}}, {{y}} : {t}", (t, t), t, F(np.power), "positive"),
        (f"atan2_{t}", f"math.atan2 {{x}}, {{y}} : {t}", (t, t), t, F(np.arctan2), "moderate"),
        (f"copysign_{t}", f"math.copysign {{x}}, {{y}} : {t}", (t, t), t, F(np.copysign), "special"),
        (f"fma_{t}", f"math.fma {{x}}, {{y}}, {{z}} : {t}", (t, t, t), t, F(lambda a, b, c: a.astype(np.longdouble) * b + c), "moderate"),
        (f"fpowi_{t}", f"math.fpowi {{x}}, {{y}} : {t}, i32", (t, "i32"), t, F(lambda a, b: np.power(a.astype(np.float64), b.astype(np.float64))), "fpowi"),
    ]
    CASES += [
        (f"cmpf_{p}_{t}", f"arith.cmpf {p}, {{x}}, {{y}} : {t}", (t, t), "i1", lambda t, r, a, b, f=f: f(a, b), "special")
        for p, f in CMPF.items()
    ]
EXACT_KINDS = {"any", "divisor", "shift", "special", "nonzero_special", "halves", "int_range", "byte_range"}


def function(name: str, text: str, args: tuple[str, ...], result: str) -> str:
    params = ", ".join(f"%in{k}: memref<?x{t}>" for k, t in enumerate(args))
    loads = "\n".join(f"    %x{k} = memref.load %in{k}[%i] : memref<?x{t}>" for k, t in enumerate(args))
    op = text.format(**{v: f"%x{k}" for k, v in enumerate("xyz")})
    return f"""
func.func @op_{name}({params}, %out: memref<?x{result}>) {{
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %out, %c0 : memref<?x{result}>
  scf.for %i = %c0 to %n step %c1 {{
{loads}
    %r = {op}
    memref.store %r, %out[%i] : memref<?x{result}>
  }}
  func.return
}}"""


@pytest.fixture(scope="module")
def library():
    return compile_module(parse("\n".join(function(n, text, a, r) for n, text, a, r, _, _ in CASES)))


def elements(t: str, kind: str, position: int):
    if t == "i1":
        return st.booleans()
    if t in BITS:
        lo, hi = np.iinfo(NP[t]).min, np.iinfo(NP[t]).max
        if kind == "shift" and position == 1:
            return st.integers(0, BITS[t] - 1)
        if kind == "divisor" and position == 1:
            return st.integers(lo, hi).filter(lambda v: v not in (0, -1))
        if kind == "fpowi":
            return st.integers(-4, 4)
        return st.integers(lo, hi)
    width = 32 if t == "f32" else 64
    exact = (lambda v: float(np.float32(v))) if width == 32 else float
    finite = dict(allow_nan=False, allow_infinity=False, width=width)
    floats = st.floats

    def bounded(lo, hi, **kw):
        return floats(exact(lo), exact(hi), **kw)

    return {
        "special": st.floats(width=width) | st.sampled_from([0.0, -0.0, 1.0, -1.0]),
        "nonzero_special": st.floats(width=width).filter(lambda v: v != 0),
        "moderate": bounded(-20, 20, **finite),
        "positive": bounded(1e-3, 50, **finite),
        "unit": bounded(-0.999, 0.999, **finite),
        "fpowi": bounded(0.25, 8, **finite),
        "halves": st.integers(-100, 100).map(lambda v: v / 2) | bounded(-1e6, 1e6, **finite),
        "int_range": bounded(-2e9, 2e9, **finite),
        "byte_range": bounded(0, 255.9, **finite),
        "any": st.floats(width=width),
    }[kind]


@pytest.mark.parametrize("name,text,args,result,reference,kind", CASES, ids=[c[0] for c in CASES])
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_scalar_op_matches_numpy(library, name, text, args, result, reference, kind, data):
    n = data.draw(st.integers(0, 12))
    inputs = [data.draw(arrays(NP[t], n, elements=elements(t, kind, k))) for k, t in enumerate(args)]
    out = np.zeros(n, NP[result])
    library["op_" + name](*inputs, out)
    with np.errstate(all="ignore"):
        expected = np.asarray(reference(args[0], result, *inputs)).astype(NP[result])
    if kind in EXACT_KINDS or result not in ("f32", "f64"):
        np.testing.assert_array_equal(out, expected)
        if result in ("f32", "f64"):
            numbers = ~np.isnan(expected)  # the sign of a NaN carries no meaning
            np.testing.assert_array_equal(np.signbit(out[numbers]), np.signbit(expected[numbers]))
    else:
        tol = 2e-6 if result == "f32" else 1e-13
        np.testing.assert_allclose(out, expected, rtol=tol, atol=tol)


SWAP = """
func.func @fib(%n: index) -> (i64, i64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %a0 = arith.constant 0 : i64
  %b0 = arith.constant 1 : i64
  %r:2 = scf.for %i = %c0 to %n step %c1 iter_args(%a = %a0, %b = %b0) -> (i64, i64) {
    %s = arith.addi %a, %b : i64
    scf.yield %b, %s : i64, i64
  }
  func.return %r#0, %r#1 : i64, i64
}

func.func @swap_count(%n: index) -> (i64, i64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %a0 = arith.constant 3 : i64
  %b0 = arith.constant 7 : i64
  %r:2 = scf.for %i = %c0 to %n step %c1 iter_args(%a = %a0, %b = %b0) -> (i64, i64) {
    scf.yield %b, %a : i64, i64
  }
  func.return %r#0, %r#1 : i64, i64
}
"""


@settings(max_examples=20, deadline=None)
@given(n=st.integers(0, 90))
def test_loop_carried_values_are_assigned_in_parallel(n):
    lib = _swap_library()
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    assert lib.fib(n) == (a, b)
    assert lib.swap_count(n) == ((3, 7) if n % 2 == 0 else (7, 3))


_CACHE: dict[str, object] = {}


def _swap_library():
    if "lib" not in _CACHE:
        _CACHE["lib"] = compile_module(parse(SWAP))
    return _CACHE["lib"]
