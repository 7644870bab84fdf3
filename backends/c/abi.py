"""The C calling convention of compiled Treadle functions, shared by the emitter and the loader.

Every `func.func` becomes a C function returning `void`:

- a scalar argument (`index`, `i1`, `i8`..`i64`, `f32`, `f64`) is passed by value as
  `int64_t`, `bool`, `int8_t`..`int64_t`, `float`, `double`;
- a memref argument of rank r is passed as `T* data` (row-major, contiguous, identity layout)
  followed by r `int64_t` sizes, one per dimension, static dimensions included;
- after all arguments, each result i adds out-parameters: `T* res_i` for a scalar;
  `T** res_i` and `int64_t* res_i_sizes` (r entries, omitted when r == 0) for a memref. A
  returned memref that does not alias an argument was malloc'd and is released with the
  library's exported `treadle_free`.
"""

from dataclasses import dataclass

from xdsl.dialects.builtin import (
    DYNAMIC_INDEX,
    Float32Type,
    Float64Type,
    IndexType,
    IntegerType,
    MemRefType,
    NoneAttr,
    Signedness,
)
from xdsl.ir import Attribute

from treadle.errors import CompileError

_INT_WIDTHS = {1: "bool", 8: "int8_t", 16: "int16_t", 32: "int32_t", 64: "int64_t"}


def scalar_c_type(type_: Attribute) -> str:
    """The C type of a scalar IR type, or a CompileError naming the type."""
    if isinstance(type_, IndexType):
        return "int64_t"
    if isinstance(type_, Float32Type):
        return "float"
    if isinstance(type_, Float64Type):
        return "double"
    if isinstance(type_, IntegerType):
        if type_.signedness.data != Signedness.SIGNLESS:
            raise CompileError(f"C backend: only signless integers are supported, got {type_}")
        if (c := _INT_WIDTHS.get(type_.width.data)) is not None:
            return c
    raise CompileError(f"C backend: unsupported scalar type {type_}")


def unsigned_c_type(type_: Attribute) -> str:
    """The unsigned C type of the same width, for wrapping and unsigned arithmetic."""
    c = scalar_c_type(type_)
    return "bool" if c == "bool" else "u" + c


def int_width(type_: Attribute) -> int:
    if isinstance(type_, IntegerType):
        return type_.width.data
    return 64  # index


def numpy_dtype_name(type_: Attribute) -> str:
    """The numpy dtype a memref element or scalar of this type corresponds to."""
    return {
        "int64_t": "int64",
        "int32_t": "int32",
        "int16_t": "int16",
        "int8_t": "int8",
        "bool": "bool",
        "float": "float32",
        "double": "float64",
    }[scalar_c_type(type_)]


@dataclass(frozen=True)
class ParamABI:
    """How one argument or result crosses the C boundary."""

    c_type: str
    """element C type (memref) or value C type (scalar)"""
    dtype: str
    """numpy dtype name"""
    shape: tuple[int | None, ...] | None
    """None for a scalar; per-dimension static size or None (dynamic) for a memref"""

    @property
    def is_memref(self) -> bool:
        return self.shape is not None


@dataclass(frozen=True)
class FunctionABI:
    """The C-level signature of one function, enough for ctypes to call it."""

    name: str
    args: tuple[ParamABI, ...]
    results: tuple[ParamABI, ...]
    written_args: frozenset[int] = frozenset()
    """indices of memref arguments the function may write (stores, copies, calls)"""


def param_abi(type_: Attribute, what: str) -> ParamABI:
    """The ABI of an argument/result type; `what` names it in errors."""
    if isinstance(type_, MemRefType):
        if not isinstance(type_.layout, NoneAttr):
            raise CompileError(f"C backend: {what}: only identity-layout memrefs are supported, got {type_}")
        if not isinstance(type_.memory_space, NoneAttr):
            raise CompileError(f"C backend: {what}: memory spaces are not supported, got {type_}")
        element = type_.element_type
        shape = tuple(None if d == DYNAMIC_INDEX else d for d in type_.get_shape())
        return ParamABI(scalar_c_type(element), numpy_dtype_name(element), shape)
    try:
        return ParamABI(scalar_c_type(type_), numpy_dtype_name(type_), None)
    except CompileError as err:
        raise CompileError(f"{err} ({what})") from None
