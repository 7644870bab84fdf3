"""
Run `sparse` programs through compiled kernels.

Why statement by statement: each `sparse.assign` becomes one C function (see
`passes/sparse/lowering.py` for the memref convention); `sparse.convert` ops and format
conversions the loop generator asks for run in numpy between kernels. Kernels are cached in
memory by statement text and types, and on disk by the C backend's content hash.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import Float64Type, ModuleOp, TensorType
from xdsl.ir import BlockArgument
from xdsl.parser import Parser

from treadle.dialects.sparse import AssignOp, ConvertOp, SoftmaxOp, encoding_of, named_encoding
from treadle.errors import Error
from treadle.passes.sparse.lowering import NotSupportedError, StatementLowering, memref_signature
from treadle.tensors import LevelStorage, Tensor, from_coordinates


@dataclass
class CompiledStatement:
    """One statement's loaded kernel plus how long getting there took."""

    op: AssignOp
    kernel: Any
    text: str
    lower_seconds: float
    emit_load_seconds: float
    compile_seconds: float
    cached: bool
    signature: list[tuple[str, str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        rt = self.op.result.type
        assert isinstance(rt, TensorType)
        self.dtype = np.float64 if isinstance(rt.get_element_type(), Float64Type) else np.float32
        self.shape = tuple(rt.get_shape())
        self.out_encoding = encoding_of(rt)
        self.pattern_of = next((n for n, role, _ in self.signature if role == "outvals"), None)

    def __call__(self, tensors: dict[str, Tensor]) -> Tensor:
        args: list[np.ndarray] = []
        out = None
        dtype, shape = self.dtype, self.shape
        for name, role, _ in self.signature:
            if role == "out":
                out = np.empty(shape or (1,), dtype=dtype)
                args.append(out)
                continue
            if role == "outvals":
                out = np.empty(tensors[name].values.size, dtype=dtype)
                args.append(out)
                continue
            t = tensors[name]
            if role == "vals":
                v = np.ascontiguousarray(t.values, dtype=dtype)
                if t.encoding is None:
                    v = v.reshape(t.shape or (1,))
                args.append(v)
            else:
                storage = t.levels[int(role[3:])]
                args.append(storage.pos if role.startswith("pos") else storage.crd)
        result = self.kernel.call_prepared(*args)  # the written arrays are the fresh outputs above
        if self.pattern_of is not None:
            return Tensor(shape, self.out_encoding, tensors[self.pattern_of].levels, out)
        if out is not None:
            return Tensor(shape, None, [], out.reshape(-1))
        pos, crd, vals = result
        return Tensor(shape, self.out_encoding, [LevelStorage(None, None), LevelStorage(pos, crd)], vals)


_CACHE: dict[str, CompiledStatement] = {}
_CSR = named_encoding("csr", 2)


_TYPE_TEXT: dict = {}


def _type_text(t) -> str:
    """A type as printed, remembered (xDSL's printer took ~60 µs per tensor type, six per
    statement on a new process's reuse path: the key is built twice, types often repeat)."""
    text = _TYPE_TEXT.get(t)
    if text is None:
        if len(_TYPE_TEXT) >= 4096:
            _TYPE_TEXT.clear()
        text = _TYPE_TEXT[t] = str(t)
    return text


def statement_key(op: AssignOp) -> str:
    types = ", ".join(_type_text(v.type) for v in op.inputs)
    sched = str(op.schedule) if op.schedule is not None else ""
    return f"{op.statement()} | {', '.join(op.names)} | {types} -> {_type_text(op.result.type)} | {sched}"


def compile_statement(op: AssignOp) -> CompiledStatement:
    """Lower, emit, build (or reuse) and load the kernel of one statement."""
    key = statement_key(op)
    hit = _CACHE.get(key)
    if hit is not None:
        return hit
    from treadle.backends.c import compile_module, compile_source

    start = time.perf_counter()
    stored = _load_index(key)
    if stored is not None:
        text, source = stored
        lowered = time.perf_counter()
        library = compile_source(source)
    else:
        from treadle.pipeline import make_context

        text = StatementLowering(op, "kernel").generate()
        module = Parser(make_context(), text, "sparse-to-loops").parse_module()
        lowered = time.perf_counter()
        library = compile_module(module)
        _store_index(key, text, library.source)
    timings = library.timings
    compiled = CompiledStatement(
        op,
        library.kernel,
        text,
        lowered - start,
        timings.excluding_compiler,
        timings.compile,
        timings.cached,
        memref_signature(op),
    )
    _CACHE[key] = compiled
    return compiled


def files_fingerprint(files) -> str:
    """A hash of these source files' bytes: what an on-disk record was made by."""
    import hashlib
    from pathlib import Path

    digest = hashlib.sha256()
    for f in files:
        digest.update(Path(f).read_bytes())
    return digest.hexdigest()


@functools.cache
def _generator_fingerprint() -> str:
    """A hash of the code that turns a statement into C (the loop generator and the C
    backend), so the on-disk index never serves C from another version of them."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    return files_fingerprint([root / "passes" / "sparse" / "lowering.py", *sorted((root / "backends" / "c").glob("*.py"))])


def record_path(key: str, fingerprint: str, folder: str = "scorch"):
    """Where the on-disk record for `key`, made by code with `fingerprint`, lives."""
    import hashlib

    from treadle.backends.c import cache_dir

    digest = hashlib.sha256((fingerprint + key).encode()).hexdigest()[:32]
    return cache_dir().parent / folder / f"{digest}.json"


def read_record(path, key: str) -> dict | None:
    """The JSON record at `path` if it is the one for `key` (a missing or broken file: None)."""
    import json

    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("key") == key else None


def _index_path(key: str):
    return record_path(key, _generator_fingerprint())


def _store_index(key: str, loop_ir: str, source) -> None:
    """Remember statement → C source (and ABI), so a new process skips lowering and emitting.
    Written atomically (temp file + rename): safe when several processes compile at once."""
    path = _index_path(key)
    functions = {
        name: {
            "args": [[p.c_type, p.dtype, None if p.shape is None else list(p.shape)] for p in abi.args],
            "results": [[p.c_type, p.dtype, None if p.shape is None else list(p.shape)] for p in abi.results],
            "written": sorted(abi.written_args),
        }
        for name, abi in source.functions.items()
    }
    record = {"key": key, "loop_ir": loop_ir, "c": source.text, "openmp": source.uses_openmp, "functions": functions}
    write_json_atomically(path, record)


def write_json_atomically(path, record) -> None:
    """temp file + rename: safe when several processes write at once; an OSError is ignored
    (what is written here is an optimization only)."""
    import json
    import os
    import tempfile

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump(record, f)
        os.replace(tmp, path)
    except OSError:
        pass


def _load_index(key: str):
    from treadle.backends.c import CSource
    from treadle.backends.c.abi import FunctionABI, ParamABI

    record = read_record(_index_path(key), key)
    if record is None:
        return None

    def param(p):
        return ParamABI(p[0], p[1], None if p[2] is None else tuple(p[2]))

    functions = {
        name: FunctionABI(name, tuple(map(param, f["args"])), tuple(map(param, f["results"])), frozenset(f["written"]))
        for name, f in record["functions"].items()
    }
    return record["loop_ir"], CSource(record["c"], functions, record["openmp"])


def convert(t: Tensor, encoding, stored: bool = False) -> Tensor:
    """A tensor in another format (numpy; the same values): its nonzeros, or with `stored` its
    stored entries, explicit zeros included (duplicates summed), for ops whose result depends
    on which entries are stored (`sparse.softmax ... stored`)."""
    coords, values = t.coordinates()
    if stored:
        if t.encoding is not None and not all(lv.unique for lv in t.encoding.levels):
            flat, inverse = np.unique(np.ravel_multi_index(coords, t.shape), return_inverse=True)
            summed = np.zeros(flat.size, values.dtype)
            np.add.at(summed, inverse, values)
            coords, values = np.array(np.unravel_index(flat, t.shape), dtype=np.int64).reshape(t.ndim, -1), summed
        return from_coordinates(t.shape, coords, values, encoding)
    dense = t.encoding is None
    if dense:
        keep = values != 0
        coords, values = coords[:, keep], values[keep]
    elif t.encoding is not None and not all(lv.unique for lv in t.encoding.levels):
        arr = t.to_numpy()
        idx = np.nonzero(arr)
        coords, values = np.array(idx, dtype=np.int64).reshape(t.ndim, -1), arr[idx]
    return from_coordinates(t.shape, coords, values, encoding)


def run_assign(op: AssignOp, tensors: dict[str, Tensor]) -> Tensor:
    """One statement through a compiled kernel; when the loop generator cannot iterate an
    operand's format (COO intersections, compressed rows under a CSR output, ...), the sparse
    operands are converted to CSR (a compressed vector for rank 1) and the statement retried.
    Raises NotSupportedError when that fails too."""
    try:
        return compile_statement(op)(tensors)
    except NotSupportedError:
        pass
    converted = dict(tensors)
    inputs = {}
    changed = False
    for name, value in zip(op.names, op.inputs):
        enc = encoding_of(value.type)
        rank = len(value.type.get_shape())
        target = named_encoding("csr" if rank == 2 else "compressed", rank) if enc is not None and rank in (1, 2) else enc
        if target != enc:
            changed = True
            converted[name] = convert(tensors[name], target)
        inputs[name] = target
    if not changed:
        raise NotSupportedError(f"{op.statement()}: no compiled loop nest for these formats")
    key = statement_key(op) + repr(sorted((n, str(e)) for n, e in inputs.items()))
    new = _RETYPED.get(key)
    if new is None:
        new = _RETYPED[key] = _with_types(op, inputs, op.result.type)
    return compile_statement(new)(converted)


def execute(module: ModuleOp, func_name: str, tensors: list[Tensor] | tuple[Tensor, ...]) -> tuple[Tensor, ...]:
    """Run `@func_name` of a sparse module on `tensors`, every statement compiled."""
    target = next(
        (o for o in module.walk() if isinstance(o, func.FuncOp) and o.sym_name.data == func_name),
        None,
    )
    if target is None:
        raise Error(f"no function @{func_name} in the module")
    args = list(target.body.block.args)
    if len(tensors) != len(args):
        raise Error(f"@{func_name} takes {len(args)} tensors, got {len(tensors)}")
    env: dict[Any, Tensor] = {}
    for a, t in zip(args, tensors):
        shape = tuple(a.type.get_shape())
        if t.shape != shape:
            raise Error(f"@{func_name}: argument has shape {t.shape}, expected {shape}")
        want = encoding_of(a.type)
        env[a] = t if want == t.encoding else convert(t, want)
    for op in target.body.block.ops:
        if isinstance(op, ConvertOp):
            env[op.result] = convert(env[op.source], encoding_of(op.result.type))
        elif isinstance(op, AssignOp):
            named = {n: env[v] for n, v in zip(op.names, op.inputs)}
            dense = _dense_product(op, named)
            env[op.result] = dense if dense is not None else _assign_with_conversions(op, named)
        elif isinstance(op, SoftmaxOp):
            env[op.result] = run_softmax(op, env[op.source])
        elif isinstance(op, func.ReturnOp):
            return tuple(env[v] for v in op.operands)
        else:
            raise NotSupportedError(f"op {op.name} in a sparse program")
    raise Error(f"@{func_name} has no func.return")


_SOFTMAX: dict[str, CompiledStatement] = {}


def compile_softmax(op: SoftmaxOp) -> CompiledStatement:
    """Lower, emit, build (or reuse) and load the kernel of one `sparse.softmax`."""
    from treadle.backends.c import compile_module
    from treadle.passes.sparse.softmax_loops import lower_softmax, softmax_signature
    from treadle.pipeline import make_context

    key = f"softmax {op.axis} {op.over_stored} {op.source.type}"
    if (hit := _SOFTMAX.get(key)) is not None:
        return hit
    start = time.perf_counter()
    text = lower_softmax(op, "kernel")
    module = Parser(make_context(), text, "sparse-to-loops").parse_module()
    lowered = time.perf_counter()
    library = compile_module(module)
    t = library.timings
    _SOFTMAX[key] = CompiledStatement(
        op, library.kernel, text, lowered - start, t.excluding_compiler, t.compile, t.cached, softmax_signature(op)
    )
    return _SOFTMAX[key]


def run_softmax(op: SoftmaxOp, tensor: Tensor) -> Tensor:
    """The compiled softmax; an operand in another format is converted to the one whose
    compressed level stores `dim` (CSR for dim 1, CSC for dim 0) and the result back."""
    try:
        return compile_softmax(op)({"S": tensor})
    except NotSupportedError:
        pass
    rank = tensor.ndim
    if rank != 2:
        raise NotSupportedError(f"softmax of a rank-{rank} tensor")
    target = named_encoding("csr" if op.axis == 1 else "csc", 2)
    t = op.source.type
    stored = op.over_stored
    key = f"retyped {op.axis} {stored} {t}"
    retyped = _RETYPED.get(key)
    if retyped is None:
        from xdsl.ir import Block

        block = Block(arg_types=[TensorType(t.get_element_type(), t.get_shape(), target)])
        _KEEP.append(block)
        retyped = _RETYPED[key] = SoftmaxOp(block.args[0], op.axis, stored)
    result = compile_softmax(retyped)({"S": convert(tensor, target, stored)})
    return result if tensor.encoding == target else convert(result, tensor.encoding, stored)


def _assign_with_conversions(op: AssignOp, named: dict[str, Tensor]) -> Tensor:
    """Compile the statement; sparse outputs in formats other than CSR are converted after."""
    rt = op.result.type
    assert isinstance(rt, TensorType)
    out_enc = encoding_of(rt)
    if out_enc is not None and out_enc != _CSR:
        if len(rt.get_shape()) != 2 or out_enc.is_blocked:
            raise NotSupportedError("sparse outputs other than 2-D unblocked formats")
        key = "csr-output:" + statement_key(op)
        csr_op = _RETYPED.get(key)
        if csr_op is None:
            csr_op = _RETYPED[key] = _with_result_encoding(op, _CSR)
        return convert(run_assign(csr_op, named), out_enc)
    return run_assign(op, named)


def _with_result_encoding(op: AssignOp, encoding) -> AssignOp:
    rt = op.result.type
    return _with_types(op, {}, TensorType(rt.get_element_type(), rt.get_shape(), encoding))


def _with_types(op: AssignOp, encodings: dict, result_type) -> AssignOp:
    """A detached copy of `op` whose named operands have other encodings (block args stand in)."""
    from xdsl.ir import Block

    types = []
    for name, value in zip(op.names, op.inputs):
        t = value.type
        if name in encodings:
            enc = encodings[name]
            t = TensorType(t.get_element_type(), t.get_shape(), enc) if enc is not None else TensorType(t.get_element_type(), t.get_shape())
        types.append(t)
    block = Block(arg_types=types)
    _KEEP.append(block)
    return AssignOp(
        op.output_name.data,
        op.lhs_indices,
        op.expr,
        dict(zip(op.names, block.args)),
        result_type,
        op.schedule,
    )


_KEEP: list[Any] = []  # blocks owning the arguments of retyped statement copies
_RETYPED: dict[str, AssignOp] = {}


def spmm_shape(op: AssignOp) -> tuple[str, str, int] | None:
    """(sparse operand, dense operand, dense columns) when `op` is SpMM `C(i,k) = A(i,j) *
    B(j,k)` or SpMV `y(i) = A(i,j) * x(j)` with A a sparse matrix and the rest dense: the
    statements whose dense alternative the dispatcher's calibrated model prices."""
    from treadle.dialects.sparse import AccessAttr, BinaryAttr

    expr = op.expr
    if not isinstance(expr, BinaryAttr) or expr.operator.data != "mul" or encoding_of(op.result.type) is not None:
        return None
    if not isinstance(expr.lhs, AccessAttr) or not isinstance(expr.rhs, AccessAttr):
        return None
    for a, b in ((expr.lhs, expr.rhs), (expr.rhs, expr.lhs)):
        sa = encoding_of(op.operand_named(a.tensor.data).type)
        sb = encoding_of(op.operand_named(b.tensor.data).type)
        if sa is None or sb is not None or len(a.index_names) != 2:
            continue
        i, j = a.index_names
        if b.index_names == (j,) and op.lhs_indices == (i,):
            return a.tensor.data, b.tensor.data, 1
        if len(b.index_names) == 2 and b.index_names[0] == j and op.lhs_indices == (i, b.index_names[1]):
            return a.tensor.data, b.tensor.data, op.index_ranges()[b.index_names[1]]
    return None


def _dense_product(op: AssignOp, named: dict[str, Tensor]) -> Tensor | None:
    """The BLAS product (numpy's) of a SpMM/SpMV when the dispatcher says it beats the compiled
    sparse kernel (`dispatch.choose_spmm`: predicted, or measured near the boundary), else None."""
    shape = spmm_shape(op)
    if shape is None:
        return None
    from treadle.runtime import dispatch

    sparse, dense, k = shape

    def product() -> Tensor:
        out = named[sparse].to_numpy() @ named[dense].values.reshape(named[dense].shape)
        return Tensor(out.shape, None, [], np.ascontiguousarray(out).reshape(-1))

    decision = dispatch.choose_spmm(named[sparse], k, engine="numpy", run_sparse=lambda: _assign_with_conversions(op, named),
                                    run_dense=product)
    return product() if decision.use_dense else None


def explain(module: ModuleOp, func_name: str, tensors: list[Tensor] | tuple[Tensor, ...] | None = None) -> str:
    """What each statement of `@func_name` compiles to (loop order, formats, support); with the
    call's `tensors`, also which side the dense/sparse dispatcher takes for SpMM/SpMV and why."""
    from treadle.passes.sparse.order import choose_order

    target = next(
        (o for o in module.walk() if isinstance(o, func.FuncOp) and o.sym_name.data == func_name),
        None,
    )
    if target is None:
        raise Error(f"no function @{func_name} in the module")
    lines = []
    for op in target.walk():
        if not isinstance(op, AssignOp):
            continue
        choice = choose_order(op)
        order = op.schedule.loop_order if op.schedule is not None and op.schedule.loop_order else choice.order
        try:
            StatementLowering(op, "kernel").generate()
            status = "compiled (C)"
        except NotSupportedError as err:
            status = f"reference fallback: {err}"
        line = (
            f"{op.statement()}: loop order [{', '.join(order)}]"
            + ("" if choice.concordant else f", discordant for {', '.join(choice.transpose)}")
            + f"; {status}"
        )
        shape = spmm_shape(op)
        if tensors is not None and shape is not None and all(isinstance(v, BlockArgument) for v in op.inputs):
            from treadle.runtime import dispatch

            sparse, _, k = shape
            arg = op.operand_named(sparse)
            assert isinstance(arg, BlockArgument)
            line += f"; dispatch: {dispatch.choose_spmm(tensors[arg.index], k, engine='numpy').explain()}"
        lines.append(line)
    return "\n".join(lines)
