"""Load a compiled library with ctypes and call its functions on numpy arrays without copies.

`compile_module(module)` emits C, builds it (or finds it in the cache), loads it and returns a
`CLibrary` whose attributes are callable `Kernel`s, one per function with a body.
"""

import ctypes
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from treadle.backends.c.abi import FunctionABI, ParamABI
from treadle.backends.c.compile import DEFAULT_FLAGS, build
from treadle.backends.c.source import CSource
from treadle.errors import CompileError

_CTYPES = {
    "int64_t": ctypes.c_int64,
    "int32_t": ctypes.c_int32,
    "int16_t": ctypes.c_int16,
    "int8_t": ctypes.c_int8,
    "bool": ctypes.c_bool,
    "float": ctypes.c_float,
    "double": ctypes.c_double,
}
_LOADED: dict[str, ctypes.CDLL] = {}


def _pointer_reader():
    """A function from a numpy array to the address of its data. `ndarray.ctypes.data` builds a
    ctypes wrapper per call (2-3 µs here, five of them per SpMV call); the address is the first
    field after the object header of numpy's array struct (`PyArrayObject_fields.data`), read in
    0.4 µs. The layout is checked on two arrays (one a view at an offset) at import; if it does
    not match (another Python build), the slow path is used."""
    offset = object.__basicsize__
    read = ctypes.c_void_p.from_address
    probes = [np.arange(8.0), np.arange(8.0)[3:]]
    if all(read(id(p) + offset).value == p.ctypes.data for p in probes):
        return lambda a: read(id(a) + offset).value
    return lambda a: a.ctypes.data


_data_pointer = _pointer_reader()


class KernelArgumentError(CompileError):
    """Arguments that do not fit a compiled function's signature."""


@dataclass(frozen=True)
class Timings:
    """Seconds spent getting from IR to a loaded library."""

    emit: float
    compile: float
    """in the C compiler; 0 on a cache hit"""
    load: float
    """hashing, cache lookup and dlopen"""
    cached: bool

    @property
    def excluding_compiler(self) -> float:
        return self.emit + self.load


class Kernel:
    """One compiled function; call it with numpy arrays (memrefs) and Python scalars."""

    def __init__(self, library: "CLibrary", abi: FunctionABI):
        self.abi = abi
        self._library = library
        self._fn = getattr(library.cdll, abi.name)
        argtypes: list[Any] = []
        for p in abi.args:
            argtypes += [ctypes.c_void_p, *[ctypes.c_int64] * len(p.shape)] if p.shape is not None else [_CTYPES[p.c_type]]
        for p in abi.results:
            argtypes += [ctypes.c_void_p] * (2 if p.shape else 1)
        self._fn.argtypes = argtypes
        self._fn.restype = None
        self._prepared = None if any(p.shape is None for p in abi.args) else tuple(
            (np.dtype(p.dtype), len(p.shape), tuple((d, w) for d, w in enumerate(p.shape) if w is not None),
             i in abi.written_args)
            for i, p in enumerate(abi.args)
        )
        """(dtype, rank, (dimension, static extent) pairs, written) per memref argument, for
        `call_prepared`; None when the function takes scalars"""

    def __repr__(self) -> str:
        return f"<treadle C kernel {self.abi.name}>"

    def __call__(self, *args: Any, convert: bool = False) -> Any:
        """Run the function. Memref arguments are numpy arrays (or DLPack CPU tensors such as
        torch's, viewed without a copy) of the memref's dtype, C-contiguous; with `convert=True`
        arguments the function only reads are converted (copied) instead of rejected."""
        abi = self.abi
        if len(args) != len(abi.args):
            raise KernelArgumentError(f"{abi.name}: expected {len(abi.args)} arguments, got {len(args)}")
        c_args: list[Any] = []
        arrays: dict[int, np.ndarray] = {}
        for i, (a, p) in enumerate(zip(args, abi.args)):
            if p.shape is None:
                c_args.append(_scalar(a, p, abi.name, i))
                continue
            arr = _array(a, p, abi.name, i, convert and i not in abi.written_args, i in abi.written_args)
            arrays[i] = arr
            c_args += [_data_pointer(arr), *arr.shape]
        if self._library.restrict:
            _check_no_overlap(arrays, abi)
        return self._run(c_args, arrays)

    def call_prepared(self, *arrays: np.ndarray) -> Any:
        """The same call for a caller that passes numpy arrays only and allocated the arrays the
        function writes itself (the runtime): dtype, layout and static shapes are checked, but
        nothing is converted and overlaps are not looked for (a fresh array overlaps nothing).
        On a small SpMV here it takes 8 µs against `__call__`'s 26 µs (the foreign call alone:
        2.5 µs). Anything unexpected goes through `__call__`, which says what is wrong."""
        specs = self._prepared
        if specs is None or len(arrays) != len(specs):
            return self(*arrays)
        c_args: list[Any] = []
        for a, (dtype, rank, static, written) in zip(arrays, specs):
            if type(a) is not np.ndarray or (a.dtype is not dtype and a.dtype != dtype) or a.ndim != rank:
                return self(*arrays)
            flags = a.flags
            if not (flags.c_contiguous and flags.aligned) or (written and not flags.writeable):
                return self(*arrays)
            shape = a.shape
            for d, w in static:
                if shape[d] != w:
                    return self(*arrays)
            c_args.append(_data_pointer(a))
            c_args.extend(shape)
        return self._run(c_args, dict(enumerate(arrays)))

    def _run(self, c_args: list[Any], arrays: dict[int, np.ndarray]) -> Any:
        outs: list[Any] = []
        for p in self.abi.results:
            if p.shape is None:
                out = _CTYPES[p.c_type]()
                outs.append(out)
                c_args.append(ctypes.addressof(out))
            else:
                ptr, sizes = ctypes.c_void_p(), (ctypes.c_int64 * max(len(p.shape), 1))()
                outs.append((ptr, sizes))
                c_args += [ctypes.addressof(ptr)] + ([ctypes.addressof(sizes)] if p.shape else [])
        self._fn(*c_args)
        results = tuple(
            out.value if p.shape is None else self._wrap_memref(out, p, arrays) for out, p in zip(outs, self.abi.results)
        )
        if not results:
            return None
        return results[0] if len(results) == 1 else results

    def _wrap_memref(self, out: tuple[ctypes.c_void_p, Any], p: ParamABI, arrays: dict[int, np.ndarray]) -> np.ndarray:
        """A numpy view of a returned buffer: of the argument it aliases, else owning the malloc'd memory."""
        ptr, sizes = out[0].value or 0, out[1]
        assert p.shape is not None
        shape = tuple(sizes[d] for d in range(len(p.shape)))
        dtype = np.dtype(p.dtype)
        count = int(np.prod(shape, dtype=np.int64))
        for arr in arrays.values():
            start = _data_pointer(arr)
            if start <= ptr < start + max(arr.nbytes, 1):
                flat = arr.reshape(-1)
                offset = (ptr - start) // dtype.itemsize
                return flat[offset : offset + count].reshape(shape)
        if ptr == 0:
            raise CompileError(f"{self.abi.name}: returned a null memref")
        buffer = (ctypes.c_char * (count * dtype.itemsize)).from_address(ptr)
        weakref.finalize(buffer, self._library.cdll.treadle_free, ctypes.c_void_p(ptr))
        return np.frombuffer(buffer, dtype=dtype, count=count).reshape(shape)


def _scalar(a: Any, p: ParamABI, name: str, i: int) -> Any:
    kind = np.dtype(p.dtype).kind
    if kind == "f":
        if not isinstance(a, int | float | np.integer | np.floating):
            raise KernelArgumentError(f"{name}: argument {i} must be a {p.dtype} scalar, got {type(a).__name__}")
        return float(a)
    if kind == "b":
        if not isinstance(a, bool | np.bool_ | int | np.integer) or int(a) not in (0, 1):
            raise KernelArgumentError(f"{name}: argument {i} must be a bool, got {a!r}")
        return bool(a)
    if not isinstance(a, int | np.integer) or isinstance(a, bool):
        raise KernelArgumentError(f"{name}: argument {i} must be an integer ({p.dtype}), got {type(a).__name__}")
    info = np.iinfo(p.dtype)
    if not info.min <= int(a) <= info.max:
        raise KernelArgumentError(f"{name}: argument {i} = {a} does not fit {p.dtype}")
    return int(a)


def _array(a: Any, p: ParamABI, name: str, i: int, convert: bool, written: bool) -> np.ndarray:
    assert p.shape is not None
    dtype = np.dtype(p.dtype)
    if not isinstance(a, np.ndarray) and hasattr(a, "__dlpack__"):
        try:  # torch/jax/cupy buffers on the CPU: a zero-copy view
            a = np.from_dlpack(a)
        except (BufferError, TypeError, RuntimeError, ValueError) as err:
            raise KernelArgumentError(f"{name}: argument {i} cannot be viewed as a numpy array: {err}") from None
    ok = isinstance(a, np.ndarray) and a.dtype == dtype and a.flags.c_contiguous and a.flags.aligned
    if not ok:
        if not convert:
            what = f"{a.dtype} array, contiguous={a.flags.c_contiguous}" if isinstance(a, np.ndarray) else type(a).__name__
            hint = " (it is written, so it cannot be converted)" if written else "; pass convert=True to copy"
            raise KernelArgumentError(f"{name}: argument {i} must be a C-contiguous {dtype} array, got {what}{hint}")
        a = np.ascontiguousarray(a, dtype=dtype)
    if a.ndim != len(p.shape):
        raise KernelArgumentError(f"{name}: argument {i} must have rank {len(p.shape)}, got shape {a.shape}")
    for d, (want, got) in enumerate(zip(p.shape, a.shape)):
        if want is not None and want != got:
            raise KernelArgumentError(f"{name}: argument {i} dimension {d} must be {want}, got {got}")
    if written and not a.flags.writeable:
        raise KernelArgumentError(f"{name}: argument {i} is written by the kernel but is read-only")
    return a


def _check_no_overlap(arrays: dict[int, np.ndarray], abi: FunctionABI) -> None:
    for i in abi.written_args:
        for j, other in arrays.items():
            if j != i and i in arrays and np.may_share_memory(arrays[i], other):
                raise KernelArgumentError(
                    f"{abi.name}: argument {i} is written and overlaps argument {j}; memref parameters are "
                    "`restrict` (compile with restrict=False to allow aliasing)"
                )


class CLibrary:
    """A loaded shared library; `lib.NAME` or `lib["NAME"]` is the Kernel for function @NAME."""

    def __init__(self, source: CSource, cdll: ctypes.CDLL, path: str, restrict: bool, timings: Timings):
        self.source = source
        self.cdll = cdll
        self.path = path
        self.restrict = restrict
        self.timings = timings
        self.cdll.treadle_free.argtypes = [ctypes.c_void_p]
        self.cdll.treadle_set_num_threads.argtypes = [ctypes.c_int]
        self.kernels = {name: Kernel(self, abi) for name, abi in source.functions.items() if hasattr(self.cdll, name)}

    def __getattr__(self, name: str) -> Kernel:
        kernels = self.__dict__.get("kernels", {})
        if name in kernels:
            return kernels[name]
        raise AttributeError(f"no compiled function {name!r}; have {sorted(kernels)}")

    def __getitem__(self, name: str) -> Kernel:
        return getattr(self, name)

    def set_num_threads(self, n: int) -> None:
        """OpenMP threads for later calls into this process's OpenMP runtime."""
        self.cdll.treadle_set_num_threads(int(n))

    def max_threads(self) -> int:
        return int(self.cdll.treadle_max_threads())


def compile_module(
    module: ModuleOp, *, restrict: bool = True, flags: Sequence[str] = DEFAULT_FLAGS
) -> CLibrary:
    """Emit, build (or reuse from the cache) and load a module of loop IR."""
    from treadle.backends.c.emitter import emit_c  # the loader alone does not need the dialects

    start = time.perf_counter()
    source = emit_c(module, restrict=restrict)
    emitted = time.perf_counter()
    return _load(source, restrict, flags, emitted - start)


def compile_source(source: CSource, *, restrict: bool = True, flags: Sequence[str] = DEFAULT_FLAGS) -> CLibrary:
    """Build and load already emitted C (for instance text edited by hand)."""
    return _load(source, restrict, flags, 0.0)


def _load(source: CSource, restrict: bool, flags: Sequence[str], emit_seconds: float) -> CLibrary:
    start = time.perf_counter()

    def origin(line: int) -> str | None:
        op = source.op_at_line(line)
        return None if op is None else str(op).splitlines()[0][:160]

    built = build(source.text, flags, origin)
    path = str(built.path)
    try:
        cdll = _LOADED.get(path) or _LOADED.setdefault(path, ctypes.CDLL(path))
    except OSError as err:
        raise CompileError(f"C backend: cannot load {path}: {err}") from None
    load = time.perf_counter() - start - built.compile_seconds
    return CLibrary(source, cdll, path, restrict, Timings(emit_seconds, built.compile_seconds, load, built.cached))
