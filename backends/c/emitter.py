"""Print structured loop IR (func, scf, arith, math, memref) as C99.

SSA values become C variables declared where they are defined (so values defined inside an
OpenMP loop body are private to each iteration), constants become literals, and a memref value is
a data pointer plus one `int64_t` per dimension (a literal for a static one). The calling
convention is in `abi.py`; OpenMP requests in `omp.py`.
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from xdsl.dialects import arith, func, memref, scf
from xdsl.dialects.builtin import DYNAMIC_INDEX, IntegerAttr, MemRefType, ModuleOp
from xdsl.ir import Block, BlockArgument, Operation, SSAValue
from xdsl.traits import IsTerminator
from xdsl.utils.exceptions import VerifyException

from treadle.backends.c.abi import FunctionABI, ParamABI, param_abi, scalar_c_type
from treadle.backends.c.lanes import LanePlan, emit_lanes, lane_plan
from treadle.backends.c.omp import SIMD_ATTR, combiner_operator, omp_request, reduction_operator, simd_reductions
from treadle.backends.c.prelude import prelude
from treadle.backends.c.scalar import SCALAR_OPS, constant_expr
from treadle.backends.c.source import CSource
from treadle.dialects.cpu import DotsOp, PrefetchOp, TransposeBlockOp
from treadle.errors import CompileError

_C_KEYWORDS = frozenset(
    "auto break case char const continue default do double else enum extern float for goto if "
    "inline int long register restrict return short signed sizeof static struct switch typedef "
    "union unsigned void volatile while _Bool _Complex _Imaginary bool true false main".split()
)
_MATH_FUNCTIONS = (
    "acos asin atan atan2 cos sin tan acosh asinh atanh cosh sinh tanh exp exp2 expm1 frexp ilogb "
    "ldexp log log10 log1p log2 logb modf scalbn scalbln cbrt fabs hypot pow sqrt erf erfc lgamma "
    "tgamma ceil floor nearbyint rint lrint llrint round lround llround trunc fmod remainder remquo "
    "copysign nan nextafter nexttoward fdim fmax fmin fma"
).split()
_LIBRARY_NAMES = frozenset(
    [f + suffix for f in _MATH_FUNCTIONS for suffix in ("", "f", "l")]
    + "malloc calloc realloc free memcpy memmove memset memcmp strlen abort exit atexit abs labs "
    "llabs div qsort bsearch rand srand getenv system fprintf printf sprintf snprintf puts fputs "
    "stderr stdout stdin size_t NAN INFINITY isnan isinf isfinite signbit fpclassify "
    "omp_get_max_threads omp_set_num_threads omp_get_thread_num omp_get_num_threads".split()
)
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
# Names the C headers may define as macros or reserve (errno codes, limits, <math.h> constants).
_HEADER_NAMES = re.compile(
    r"(E[A-Z0-9]+|U?INT(8|16|32|64|PTR|MAX)?_\w+|(SIZE|PTRDIFF|INTPTR|INTMAX|WCHAR|WINT|SIG_ATOMIC|FLT|DBL|LDBL"
    r"|FP|M|MATH|RAND|SEEK|EXIT|L|TMP|FOPEN|FILENAME|BUFSIZ|HUGE|MB|CHAR|SCHAR|UCHAR|SHRT|USHRT|LONG|ULONG|LLONG"
    r"|ULLONG|WORD|BYTE|SIG|CLOCKS|TIME)_\w*|NULL|EOF|BUFSIZ|errno|assert|offsetof|stdin|stdout|stderr"
    r"|static_assert|alignas|alignof|noreturn|complex|imaginary|omp_\w*)\Z"
)


def emit_c(module: ModuleOp, *, restrict: bool = True) -> CSource:
    """The C source of a module; a CompileError names the first op or type it cannot print.

    With `restrict`, memref parameters are `restrict` pointers: the caller promises that a memref
    the function writes overlaps no other memref argument (the loader checks this).
    """
    try:
        module.verify()
    except VerifyException as err:
        raise CompileError(f"C backend: the module does not verify: {err}") from None
    return _ModuleEmitter(restrict).emit(module)


class _Namer:
    """Unique C identifiers from SSA name hints."""

    def __init__(self, taken: set[str]):
        self.taken = set(taken)

    def fresh(self, hint: str | None, *suffixes: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_]", "_", hint or "v").strip("_") or "v"
        base = re.sub(r"_+", "_", base)
        if not base[0].isalpha() or base.startswith("treadle") or _HEADER_NAMES.match(base):
            base = "v" + base
        candidate, n = base, 0
        while any(candidate + s in self.taken for s in ("", *suffixes)):
            n += 1
            candidate = f"{base}_{n}"
        self.taken.update(candidate + s for s in ("", *suffixes))
        return candidate


class _ModuleEmitter:
    def __init__(self, restrict: bool):
        self.restrict = restrict
        self.lines: list[str] = []
        self.origins: list[tuple[int, Operation]] = []
        self.abis: dict[str, FunctionABI] = {}
        self.uses_openmp = False
        self.lane_plans: dict[Operation, LanePlan] = {}
        """the sequential loops emitted in vector lanes (`lanes.py`), found once per module"""

    def emit(self, module: ModuleOp) -> CSource:
        funcs: list[func.FuncOp] = []
        for op in module.ops:
            if not isinstance(op, func.FuncOp):
                raise CompileError(f"C backend: unsupported top-level op {op.name} (only func.func)")
            funcs.append(op)
        for f in funcs:
            self.abis[f.sym_name.data] = _function_abi(f)
        used = {type(o) for f in funcs for o in f.walk()}
        self.lane_plans = {o: p for f in funcs for o in f.walk() if (p := lane_plan(o)) is not None and omp_request(o) is None}
        lanes = sorted({p.c_type for p in self.lane_plans.values()})
        self.lines += prelude(transpose_blocks=TransposeBlockOp in used, dots=DotsOp in used, lanes=lanes).splitlines()
        self.lines.append("")
        for f in funcs:
            self.lines.append(self._prototype(f) + ";")
        for f in funcs:
            if f.body.blocks:
                self.lines.append("")
                self.origins.append((len(self.lines) + 1, f))
                _FunctionEmitter(self, f).emit()
        text = "\n".join(self.lines) + "\n"
        return CSource(text, dict(self.abis), self.uses_openmp, self.origins)

    def _prototype(self, f: func.FuncOp, arg_names: Sequence[str] | None = None, ret_names: Sequence[str] | None = None) -> str:
        abi = self.abis[f.sym_name.data]
        params: list[str] = []
        for i, p in enumerate(abi.args):
            name = arg_names[i] if arg_names is not None else f"arg{i}"
            params += self._param_decls(p, name)
        for i, p in enumerate(abi.results):
            name = ret_names[i] if ret_names is not None else f"ret{i}"
            if p.is_memref:
                params.append(f"{p.c_type}** {name}")
                if p.shape:
                    params.append(f"int64_t* {name}_sizes")
            else:
                params.append(f"{p.c_type}* {name}")
        private = f.sym_visibility is not None and f.sym_visibility.data == "private" and f.body.blocks
        return f"{'static ' if private else ''}void {f.sym_name.data}({', '.join(params) or 'void'})"

    def _param_decls(self, p: ParamABI, name: str) -> list[str]:
        if not p.is_memref:
            return [f"{p.c_type} {name}"]
        qual = " restrict" if self.restrict else ""
        assert p.shape is not None
        return [f"{p.c_type}*{qual} {name}"] + [f"int64_t {name}_dim{d}" for d in range(len(p.shape))]


def _function_abi(f: func.FuncOp) -> FunctionABI:
    name = f.sym_name.data
    if (
        not _IDENTIFIER.match(name)
        or name in _C_KEYWORDS
        or name in _LIBRARY_NAMES
        or _HEADER_NAMES.match(name)
        or name.startswith("treadle")
    ):
        raise CompileError(
            f"C backend: function name @{name} is not usable as a C function name "
            "(needs letters, digits and '_'; must not be a C keyword or C library function, nor start with 'treadle')"
        )
    args = tuple(param_abi(t, f"argument {i} of @{name}") for i, t in enumerate(f.function_type.inputs.data))
    results = tuple(param_abi(t, f"result {i} of @{name}") for i, t in enumerate(f.function_type.outputs.data))
    if f.body.blocks and len(f.body.blocks) != 1:
        raise CompileError(f"C backend: @{name} has {len(f.body.blocks)} blocks; only structured control flow (one block) is supported")
    return FunctionABI(name, args, results, _written_args(f))


def _written_args(f: func.FuncOp) -> frozenset[int]:
    """Memref arguments the body may write; anything not traceable to one argument counts as all."""
    if not f.body.blocks:
        return frozenset(i for i, t in enumerate(f.function_type.inputs.data) if isinstance(t, MemRefType))
    entry = f.body.block
    all_memrefs = frozenset(i for i, a in enumerate(entry.args) if isinstance(a.type, MemRefType))
    written: set[int] = set()
    for op in f.walk():
        targets: list[SSAValue] = []
        if isinstance(op, memref.StoreOp):
            targets = [op.memref]
        elif isinstance(op, memref.CopyOp):
            targets = [op.destination]
        elif isinstance(op, TransposeBlockOp):
            targets = [op.dest]
        elif isinstance(op, memref.DeallocOp):
            targets = [op.memref]
        elif isinstance(op, func.CallOp):
            targets = [a for a in op.arguments if isinstance(a.type, MemRefType)]
        for t in targets:
            while isinstance(t.owner, memref.CastOp):
                t = t.owner.source
            if isinstance(t, BlockArgument) and t.block is entry:
                written.add(t.index)
            elif isinstance(t, BlockArgument) or isinstance(t.owner, scf.ForOp | scf.IfOp | scf.WhileOp | scf.ParallelOp | func.CallOp):
                return all_memrefs
    return frozenset(written)


class _FunctionEmitter:
    """Emits one function body; `values` maps each SSA value to its C parts."""

    def __init__(self, module: _ModuleEmitter, f: func.FuncOp):
        self.m = module
        self.f = f
        self.abi = module.abis[f.sym_name.data]
        self.namer = _Namer(set(_C_KEYWORDS) | set(_LIBRARY_NAMES) | set(module.abis))
        self.values: dict[SSAValue, tuple[str, ...]] = {}
        self.depth = 1

    # -- output helpers -------------------------------------------------------------------
    def line(self, text: str) -> None:
        self.m.lines.append("  " * self.depth + text)

    def expr(self, v: SSAValue) -> str:
        return self.values[v][0]

    def fresh_parts(self, v: SSAValue, hint: str | None = None) -> tuple[str, ...]:
        """Variable names for a value: one for a scalar; pointer + dynamic dims for a memref."""
        hint = hint or v.name_hint
        if not isinstance(v.type, MemRefType):
            return (self.namer.fresh(hint),)
        shape = v.type.get_shape()
        base = self.namer.fresh(hint, *(f"_dim{d}" for d in range(len(shape))))
        return (base, *(f"{base}_dim{d}" if s == DYNAMIC_INDEX else str(s) for d, s in enumerate(shape)))

    def declare(self, v: SSAValue, parts: tuple[str, ...], init: tuple[str, ...] | None = None) -> None:
        """Declare the variable parts of `v` (literal dims skipped), optionally initialised."""
        for k, (name, c_type) in enumerate(zip(parts, self.part_types(v))):
            if not _IDENTIFIER.match(name):
                continue
            self.line(f"{c_type} {name}" + (f" = {init[k]};" if init is not None else ";"))

    def assign(self, parts: tuple[str, ...], src: tuple[str, ...]) -> None:
        for name, s in zip(parts, src):
            if _IDENTIFIER.match(name) and name != s:
                self.line(f"{name} = {s};")

    @staticmethod
    def part_types(v: SSAValue) -> list[str]:
        if isinstance(v.type, MemRefType):
            return [scalar_c_type(v.type.element_type) + "*"] + ["int64_t"] * v.type.get_num_dims()
        return [scalar_c_type(v.type)]

    # -- function -------------------------------------------------------------------------
    def emit(self) -> None:
        entry = self.f.body.block
        names: list[str] = []
        for i, a in enumerate(entry.args):
            parts = self.fresh_parts(a, a.name_hint or f"arg{i}")
            self.values[a] = parts
            names.append(parts[0])
        self.ret_names = [self.namer.fresh(f"ret{i}", "_sizes") for i in range(len(self.abi.results))]
        self.m.lines.append(self.m._prototype(self.f, names, self.ret_names) + " {")
        self.emit_block(entry)
        self.m.lines.append("}")

    def emit_block(self, block: Block) -> None:
        for op in block.ops:
            self.m.origins.append((len(self.m.lines) + 1, op))
            self.emit_op(op)

    def emit_op(self, op: Operation) -> None:
        if isinstance(op, arith.ConstantOp):
            self.values[op.result] = (constant_expr(op.value, op.result.type),)
            return
        if (emit_scalar := SCALAR_OPS.get(type(op))) is not None:
            result = op.results[0]
            expr = emit_scalar(op, [self.expr(o) for o in op.operands])
            parts = self.fresh_parts(result)
            self.declare(result, parts, (expr,))
            self.values[result] = parts
            return
        handler = _HANDLERS.get(type(op))
        if handler is None:
            raise CompileError(f"C backend: unsupported op {op.name}")
        handler(self, op)

    # -- memref ---------------------------------------------------------------------------
    def element(self, ref: SSAValue, indices: Sequence[SSAValue]) -> str:
        return self.element_at(ref, [self.expr(i) for i in indices])

    def element_at(self, ref: SSAValue, indices: Sequence[str]) -> str:
        """The C lvalue of a memref element at index expressions (row-major, contiguous)."""
        parts = self.values[ref]
        if not indices:
            return f"{parts[0]}[0]"
        linear = indices[0]
        for d, idx in enumerate(indices[1:], start=1):
            linear = f"({linear}) * {parts[d + 1]} + {idx}"
        return f"{parts[0]}[{linear}]"

    def num_elements(self, ref: SSAValue) -> str:
        dims = self.values[ref][1:]
        return " * ".join(f"(size_t)({d})" for d in dims) or "(size_t)1"

    def emit_load(self, op: memref.LoadOp) -> None:
        parts = self.fresh_parts(op.res)
        self.declare(op.res, parts, (self.element(op.memref, op.indices),))
        self.values[op.res] = parts

    def emit_store(self, op: memref.StoreOp) -> None:
        self.line(f"{self.element(op.memref, op.indices)} = {self.expr(op.value)};")

    def emit_prefetch(self, op: PrefetchOp) -> None:
        self.line(f"__builtin_prefetch(&{self.element(op.memref, op.indices)}, 0, 3);")

    def emit_transpose_block(self, op: TransposeBlockOp) -> None:
        c = scalar_c_type(op.source.type.element_type)  # type: ignore[attr-defined]
        if c not in ("float", "double"):
            raise CompileError(f"C backend: cpu.transpose_block of {c} (f32 and f64 only)")
        src, dst = self.values[op.source], self.values[op.dest]
        self.line(
            f"treadle_transpose_block_{c}(&{self.element(op.source, op.source_indices)}, {src[2]}, "
            f"&{self.element(op.dest, op.dest_indices)}, {dst[2]}, {op.size.value.data});"
        )

    def emit_dots(self, op: DotsOp) -> None:
        c = scalar_c_type(op.lhs.type.element_type)  # type: ignore[attr-defined]  # f32 or f64: verified float
        names = []
        for r in op.sums:
            parts = self.fresh_parts(r)
            self.declare(r, parts)
            self.values[r] = parts
            names.append(parts[0])
        rows = ", ".join(f"&{self.element(op.rhs, (row, op.rhs_column))}" for row in op.rhs_rows)
        self.line(
            f"treadle_dots_{c}(&{self.element(op.lhs, op.lhs_indices)}, (const {c}*[]){{{rows}}}, {len(names)}, "
            f"{op.length.value.data}, ({c}*[]){{{', '.join('&' + n for n in names)}}});"
        )

    def emit_alloc(self, op: memref.AllocOp | memref.AllocaOp) -> None:
        result = op.memref
        assert isinstance(result.type, MemRefType)
        param_abi(result.type, f"{op.name} result")
        dynamic = iter(op.dynamic_sizes)
        dims = tuple(self.expr(next(dynamic)) if s == DYNAMIC_INDEX else str(s) for s in result.type.get_shape())
        name = self.namer.fresh(result.name_hint or "buf")
        self.values[result] = (name, *dims)
        c = scalar_c_type(result.type.element_type)
        count = self.num_elements(result)
        if isinstance(op, memref.AllocOp):
            self.line(f"{c}* {name} = ({c}*)treadle_alloc(sizeof({c}) * {count});")
        else:
            self.line(f"{c} {name}[({count}) > 0 ? ({count}) : 1];")

    def emit_dealloc(self, op: memref.DeallocOp) -> None:
        if isinstance(op.memref.owner, memref.AllocaOp):
            raise CompileError("C backend: memref.dealloc of a memref.alloca buffer")
        self.line(f"free({self.expr(op.memref)});")

    def emit_dim(self, op: memref.DimOp) -> None:
        dims = self.values[op.source][1:]
        idx = op.index.owner
        if isinstance(idx, arith.ConstantOp) and isinstance(idx.value, IntegerAttr):
            k = idx.value.value.data
            if not 0 <= k < len(dims):
                raise CompileError(f"C backend: memref.dim index {k} out of range for rank {len(dims)}")
            self.values[op.result] = (dims[k],)
            return
        name = self.namer.fresh(op.result.name_hint)
        self.line(f"int64_t {name} = ((int64_t[]){{{', '.join(dims)}}})[{self.expr(op.index)}];")
        self.values[op.result] = (name,)

    def emit_copy(self, op: memref.CopyOp) -> None:
        assert isinstance(op.source.type, MemRefType)
        c = scalar_c_type(op.source.type.element_type)
        self.line(f"memcpy({self.expr(op.destination)}, {self.expr(op.source)}, sizeof({c}) * {self.num_elements(op.source)});")

    def emit_cast(self, op: memref.CastOp) -> None:
        src = self.values[op.source]
        assert isinstance(op.dest.type, MemRefType)
        shape = op.dest.type.get_shape()
        self.values[op.dest] = (src[0], *(str(s) if s != DYNAMIC_INDEX else src[d + 1] for d, s in enumerate(shape)))

    # -- scf ------------------------------------------------------------------------------
    def carried_vars(self, block_args: Sequence[SSAValue], init: Sequence[SSAValue] | None) -> list[tuple[str, ...]]:
        out: list[tuple[str, ...]] = []
        for k, a in enumerate(block_args):
            parts = self.fresh_parts(a)
            if init is not None:
                src = self.values[init[k]]
                parts = tuple(p if _IDENTIFIER.match(p) else src[j] for j, p in enumerate(parts))
            self.declare(a, parts, self.values[init[k]] if init is not None else None)
            self.values[a] = parts
            out.append(parts)
        return out

    def yield_to(self, targets: list[tuple[str, ...]], values: Sequence[SSAValue], block: Block) -> None:
        for v in values:
            if isinstance(v.owner, memref.AllocaOp) and v.owner.parent_block() is block:
                raise CompileError("C backend: a memref.alloca buffer cannot leave the region that allocates it")
        sources = [self.values[v] for v in values]
        if _clobbers(targets, sources):
            temps: list[tuple[str, ...]] = []
            for v, src in zip(values, sources):
                parts = self.fresh_parts(v, "next")
                parts = tuple(p if _IDENTIFIER.match(p) else src[j] for j, p in enumerate(parts))
                self.declare(v, parts, src)
                temps.append(parts)
            sources = temps
        for t, s in zip(targets, sources):
            self.assign(t, s)

    def emit_for(self, op: scf.ForOp) -> None:
        body = op.body.block
        iv, *carried = body.args
        targets = self.carried_vars(carried, list(op.iter_args))
        for r, t in zip(op.res, targets):
            self.values[r] = t
        iv_name = self.fresh_parts(iv, iv.name_hint or "i")[0]
        self.values[iv] = (iv_name,)
        if (req := omp_request(op)) is not None:
            yielded = body.last_op.operands if body.last_op is not None else ()
            reductions = tuple(
                (reduction_operator(body, c, y), self._scalar_target(t, "scf.for"))
                for c, y, t in zip(carried, yielded, targets)
            )
            self.m.uses_openmp = True
            self.line(req.pragma(1, reductions))
        elif (plan := self.m.lane_plans.get(op)) is not None:
            emit_lanes(self, op, plan, self._scalar_target(targets[0], "lane reduction"), iv_name)
            self.line(f"for (; {iv_name} < {self.expr(op.ub)}; {iv_name} += 1) {{")
            self.nested(body, lambda y: self.yield_to(targets, y.operands, body))
            self.line("}")
            return
        elif (simd := simd_reductions(body, carried, body.last_op.operands if body.last_op else ())) is not None:
            clauses = " ".join(f"reduction({o}:{t[0]})" for o, t in zip(simd, targets))
            self.line(f"#pragma omp simd {clauses}")
        elif SIMD_ATTR in op.attributes and not carried:
            self.line("#pragma omp simd")
        c = scalar_c_type(iv.type)
        lb, ub, step = self.expr(op.lb), self.expr(op.ub), self.expr(op.step)
        self.line(f"for ({c} {iv_name} = {lb}; {iv_name} < {ub}; {iv_name} += {step}) {{")
        self.nested(body, lambda y: self.yield_to(targets, y.operands, body))
        self.line("}")

    @staticmethod
    def _scalar_target(parts: tuple[str, ...], where: str) -> str:
        if len(parts) != 1:
            raise CompileError(f"C backend: a memref cannot be carried by an OpenMP {where}")
        return parts[0]

    def nested(self, block: Block, terminator: Callable[[Operation], None]) -> None:
        """Emit a region body one level deeper, handing its terminator to `terminator`."""
        self.depth += 1
        for op in block.ops:
            self.m.origins.append((len(self.m.lines) + 1, op))
            if op is block.last_op and op.has_trait(IsTerminator):
                terminator(op)
            else:
                self.emit_op(op)
        self.depth -= 1

    def emit_if(self, op: scf.IfOp) -> None:
        targets = []
        for r in op.output:
            parts = self.fresh_parts(r)
            self.declare(r, parts)
            self.values[r] = parts
            targets.append(parts)
        self.line(f"if ({self.expr(op.cond)}) {{")
        self.nested(op.true_region.block, lambda y: self.yield_to(targets, y.operands, op.true_region.block))
        if op.false_region.blocks:
            self.line("} else {")
            self.nested(op.false_region.block, lambda y: self.yield_to(targets, y.operands, op.false_region.block))
        self.line("}")

    def emit_while(self, op: scf.WhileOp) -> None:
        if omp_request(op) is not None:
            raise CompileError("C backend: treadle.omp is only supported on scf.for and scf.parallel")
        before, after = op.before_region.block, op.after_region.block
        before_vars = self.carried_vars(before.args, list(op.arguments))
        after_vars = self.carried_vars(after.args, None)
        for r, t in zip(op.res, after_vars):
            self.values[r] = t

        def condition(c: Operation) -> None:
            assert isinstance(c, scf.ConditionOp)
            self.yield_to(after_vars, c.args, before)
            self.line(f"if (!{self.expr(c.condition)}) break;")

        self.line("while (1) {")
        self.nested(before, condition)
        self.nested(after, lambda y: self.yield_to(before_vars, y.operands, after))
        self.line("}")

    def emit_parallel(self, op: scf.ParallelOp) -> None:
        body = op.body.block
        targets = self.carried_vars([r for r in op.res], list(op.initVals))
        for r, t in zip(op.res, targets):
            self.values[r] = t
        reduce = body.last_op
        assert isinstance(reduce, scf.ReduceOp)
        ivs = [self.fresh_parts(a, a.name_hint or "i")[0] for a in body.args]
        for a, n in zip(body.args, ivs):
            self.values[a] = (n,)
        if (req := omp_request(op)) is not None:
            reductions = tuple(
                (combiner_operator(region.block), self._scalar_target(t, "scf.parallel"))
                for region, t in zip(reduce.reductions, targets)
            )
            self.m.uses_openmp = True
            self.line(req.pragma(len(ivs), reductions))
        for n, lb, ub, st in zip(ivs, op.lowerBound, op.upperBound, op.step):
            self.line(f"for (int64_t {n} = {self.expr(lb)}; {n} < {self.expr(ub)}; {n} += {self.expr(st)}) {{")
            self.depth += 1
        self.depth -= 1  # nested() indents the body itself
        self.nested(body, lambda r: self.emit_reduce(r, targets))
        for _ in ivs:
            self.line("}")
            self.depth -= 1
        self.depth += 1

    def emit_reduce(self, op: Operation, targets: list[tuple[str, ...]]) -> None:
        assert isinstance(op, scf.ReduceOp)
        for region, value, target in zip(op.reductions, op.args, targets):
            block = region.block
            lhs, rhs = block.args
            self.values[lhs] = target
            self.values[rhs] = self.values[value]
            self.line("{")
            self.nested(block, lambda ret, t=target: self.assign(t, self.values[ret.operands[0]]))
            self.line("}")

    # -- func -----------------------------------------------------------------------------
    def emit_return(self, op: func.ReturnOp) -> None:
        for i, v in enumerate(op.arguments):
            if isinstance(v.owner, memref.AllocaOp):
                raise CompileError("C backend: a function cannot return a memref.alloca buffer")
            parts, name = self.values[v], self.ret_names[i]
            self.line(f"*{name} = {parts[0]};")
            for d, dim in enumerate(parts[1:]):
                self.line(f"{name}_sizes[{d}] = {dim};")
        self.line("return;")

    def emit_call(self, op: func.CallOp) -> None:
        callee = op.callee.root_reference.data
        if (abi := self.m.abis.get(callee)) is None:
            raise CompileError(f"C backend: call to unknown function @{callee}")
        if self.m.restrict:
            memrefs = [a for a in op.arguments if isinstance(a.type, MemRefType)]
            if len(set(memrefs)) != len(memrefs) and abi.written_args:
                raise CompileError(
                    f"C backend: a call passes the same memref twice to @{callee}, which writes memrefs; "
                    "memref parameters are restrict pointers (emit with restrict=False)"
                )
        args = [p for a in op.arguments for p in self.values[a]]
        for r, p in zip(op.res, abi.results):
            name = self.namer.fresh(r.name_hint or "res", "_sizes")
            if p.is_memref:
                assert p.shape is not None
                self.line(f"{p.c_type}* {name};")
                if p.shape:
                    self.line(f"int64_t {name}_sizes[{len(p.shape)}];")
                args += [f"&{name}"] + ([f"{name}_sizes"] if p.shape else [])
                dims = tuple(str(s) if s is not None else f"{name}_sizes[{d}]" for d, s in enumerate(p.shape))
                self.values[r] = (name, *dims)
            else:
                self.line(f"{p.c_type} {name};")
                args.append(f"&{name}")
                self.values[r] = (name,)
        self.line(f"{callee}({', '.join(args)});")


def _clobbers(targets: list[tuple[str, ...]], sources: list[tuple[str, ...]]) -> bool:
    """Whether assigning targets in order would overwrite a variable a later source reads."""
    assigned: set[str] = set()
    for target, source in zip(targets, sources):
        if assigned.intersection(source):
            return True
        assigned.update(t for t, s in zip(target, source) if t != s)
    return False


_HANDLERS = {
    memref.LoadOp: _FunctionEmitter.emit_load,
    memref.StoreOp: _FunctionEmitter.emit_store,
    PrefetchOp: _FunctionEmitter.emit_prefetch,
    TransposeBlockOp: _FunctionEmitter.emit_transpose_block,
    DotsOp: _FunctionEmitter.emit_dots,
    memref.AllocOp: _FunctionEmitter.emit_alloc,
    memref.AllocaOp: _FunctionEmitter.emit_alloc,
    memref.DeallocOp: _FunctionEmitter.emit_dealloc,
    memref.DimOp: _FunctionEmitter.emit_dim,
    memref.CopyOp: _FunctionEmitter.emit_copy,
    memref.CastOp: _FunctionEmitter.emit_cast,
    scf.ForOp: _FunctionEmitter.emit_for,
    scf.IfOp: _FunctionEmitter.emit_if,
    scf.WhileOp: _FunctionEmitter.emit_while,
    scf.ParallelOp: _FunctionEmitter.emit_parallel,
    func.ReturnOp: _FunctionEmitter.emit_return,
    func.CallOp: _FunctionEmitter.emit_call,
}
