"""
Sparsification: one `sparse.assign` statement → a `func.func` of scf/memref/arith loops.

Why a separate module: the pass (`to_loops.py`) only swaps functions; this file holds the code
generator, shared by the pass and by the runtime (which lowers one statement at a time).

## How a tensor becomes memref arguments (the calling convention)
For each bound tensor, in `where` order:
- dense tensor (no encoding): one `memref<d0 x ... x T>` (row-major; rank 0 → `memref<1xT>`);
- sparse tensor: for each level k in level order, a compressed level adds `memref<?xI>` `pos_k`
  then `memref<?xI>` `crd_k`; a singleton level adds `crd_k`; a dense level adds nothing; then
  one `memref<?xT>` of values. `I` is `i64` (or `i<posWidth>`/`i<crdWidth>`).
Shapes are static (the runtime specializes a kernel per shape). The output comes last:
- dense output: one `memref<shape x T>` argument that the kernel overwrites;
- sparse output (rank-2 `(dense, compressed)`, i.e. CSR): no argument; the function returns
  `(pos: memref<?xi64>, crd: memref<?xi64>, vals: memref<?xT>)`, assembled in two phases
  (symbolic count per row, then numeric through a dense workspace row).

## Co-iteration
The right-hand side is expanded into additive terms (products distribute over `+`/`-`, sums
are linear). Each term is a product, so its iteration space is the *intersection* of its sparse
operands: at each loop variable one compressed level drives a `scf.for` over its positions,
several compressed levels are intersected by a `scf.while` merge (advance the smaller
coordinate), dense levels and dense tensors are located (random access). The *union* points of
the merge lattice of `a + b` are the separate terms' nests accumulating into the same dense
output or dense workspace row. Blocked levels (`i floordiv R`, `i mod R`) split an index into a
block and an intra-block loop variable.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field

from xdsl.dialects.builtin import Float32Type, Float64Type, TensorType

from treadle.dialects.sparse import (
    AccessAttr,
    AssignOp,
    BinaryAttr,
    ConstantAttr,
    EncodingAttr,
    ExprAttr,
    ReduceAttr,
    ScheduleAttr,
    UnaryAttr,
    encoding_of,
)
from treadle.errors import Error

ZERO_PRESERVING = ("relu", "neg", "abs", "sqrt")
PREFETCH_AHEAD = 8
"""How many positions ahead an unrolled position loop prefetches a gathered row (two steps at U = 4;
8 and 16 measured the same on SpMM N = 32 and SDDMM K = 32 here)."""
PREFETCH_ROW_BYTES = 256
"""Gathered rows up to this long are prefetched (4 cache lines). Rows of 512 bytes (SpMM N = 128)
gained nothing: after a row's first line the hardware prefetcher follows it."""
CACHE_LINE_BYTES = 64
GATHER_VECTOR_MIN = 32
"""A sum over a compressed level's positions with at least this many entries is a reassociable
loop (vectorized: the dense operand gathered 4-8 entries at a time)."""
PARTIAL_SUMS_MIN = 8
PARTIAL_SUMS = 4
"""Shorter ones of at least PARTIAL_SUMS_MIN entries step by PARTIAL_SUMS with as many partial sums
(independent chains of adds instead of one), the shortest are one plain loop. SpMV here, against
gathers from 16 entries and plain below: uniform-16k-0.1% (16 per row) 0.27 -> 0.20 ms, banded (9
per row) 0.82 -> 0.55 ms, R-MAT the same."""
ROW_BUFFER_BYTES = 256
"""Dense output rows up to this long (SpMM with N <= 64 in f32) accumulate in a row buffer (8 AVX2
registers at most); longer rows accumulate in the output itself: with 512-byte rows (N = 128) in a buffer
the compiler spilled it and SpMM ran 2-4x slower on the suite."""


class NotSupportedError(Error):
    """A statement the loop generator does not handle (the runtime falls back to the reference)."""


# ---------------------------------------------------------------------------------------------
# Terms
# ---------------------------------------------------------------------------------------------


def expand_terms(expr: ExprAttr, sparse: set[str]) -> list[ExprAttr]:
    """The additive terms of `expr`: products distributed over sums, sums dropped (linear)."""
    match expr:
        case BinaryAttr() if expr.operator.data == "add":
            return expand_terms(expr.lhs, sparse) + expand_terms(expr.rhs, sparse)
        case BinaryAttr() if expr.operator.data == "sub":
            return expand_terms(expr.lhs, sparse) + [
                UnaryAttr("neg", t) for t in expand_terms(expr.rhs, sparse)
            ]
        case BinaryAttr() if expr.operator.data == "mul":
            return [
                BinaryAttr("mul", a, b)
                for a in expand_terms(expr.lhs, sparse)
                for b in expand_terms(expr.rhs, sparse)
            ]
        case BinaryAttr():  # div
            if any(a.tensor.data in sparse for a in expr.rhs.accesses()):
                raise NotSupportedError("division by a sparse operand (0/0 outside its pattern)")
            if any(isinstance(n, ReduceAttr) for n in expr.rhs.walk()):
                raise NotSupportedError("a sum in a denominator")
            return [BinaryAttr("div", t, expr.rhs) for t in expand_terms(expr.lhs, sparse)]
        case ReduceAttr():
            return expand_terms(expr.body, sparse)
        case UnaryAttr() if expr.function.data == "neg":
            return [UnaryAttr("neg", t) for t in expand_terms(expr.operand, sparse)]
        case UnaryAttr():
            inner = expr.operand
            has_sparse = any(a.tensor.data in sparse for a in inner.accesses())
            if any(isinstance(n, ReduceAttr) for n in inner.walk()) or (
                has_sparse and len(expand_terms(inner, sparse)) > 1
            ):
                raise NotSupportedError(
                    f"{expr.function.data}(...) of a sum is not linear; it needs a temporary"
                )
            if has_sparse and expr.function.data not in ZERO_PRESERVING:
                raise NotSupportedError(
                    f"{expr.function.data}(0) != 0, so {expr.function.data} of a sparse operand "
                    "is dense"
                )
            return [expr]
    return [expr]


# ---------------------------------------------------------------------------------------------
# Text builder
# ---------------------------------------------------------------------------------------------


class _Builder:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.consts: dict[tuple[str, str], str] = {}
        self.const_lines: list[str] = []
        self.depth = 1
        self.n = 0

    def fresh(self, hint: str = "v") -> str:
        self.n += 1
        return f"%{hint}_{self.n}"

    def line(self, text: str) -> None:
        self.lines.append("  " * self.depth + text)

    def op(self, text: str, hint: str = "v") -> str:
        name = self.fresh(hint)
        self.line(f"{name} = {text}")
        return name

    @contextlib.contextmanager
    def loop(self, extent: int, hint: str, attributes: str = "", step: int = 1):
        """`scf.for %iv = 0 to extent step step { ... } attributes` around the body; yields %iv."""
        iv = self.fresh(hint)
        self.line(f"scf.for {iv} = {self.const(0)} to {self.const(extent)} step {self.const(step)} {{")
        self.depth += 1
        yield iv
        self.depth -= 1
        self.line("}" + (f" {attributes}" if attributes else ""))

    def function(self, name: str, params: list[str], ret_types: str = "") -> str:
        """The text of `func.func @name(params) ret_types` with the constants and lines built."""
        body = "\n".join(self.const_lines + self.lines)
        return f"func.func @{name}({', '.join(params)}){ret_types} {{\n{body}\n}}\n"

    def if_else(self, cond: str, et: str, then, otherwise) -> str:
        """`%r = scf.if cond -> (et) { then() } else { otherwise() }`; each emits its branch
        and returns the value it yields. Returns %r."""
        result = self.fresh("sum")
        self.line(f"{result} = scf.if {cond} -> ({et}) {{")
        for i, branch in enumerate((then, otherwise)):
            if i:
                self.line("} else {")
            self.depth += 1
            self.line(f"scf.yield {branch()} : {et}")
            self.depth -= 1
        self.line("}")
        return result

    def accumulate(self, ref: str, value: str, et: str) -> None:
        """ref += value, `ref` being `memref[indices] : type`."""
        old = self.op(f"memref.load {ref}", "o")
        self.line(f"memref.store {self.op(f'arith.addf {old}, {value} : {et}', 'o')}, {ref}")

    def const(self, value: int | float, type_: str = "index") -> str:
        key = (repr(value), type_)
        if key not in self.consts:
            name = f"%c{len(self.consts)}"
            lit = repr(float(value)) if type_.startswith("f") else str(int(value))
            if type_.startswith("f") and "e" in lit and "." not in lit.split("e")[0]:
                lit = lit.replace("e", ".0e")
            self.consts[key] = name
            self.const_lines.append(f"  {name} = arith.constant {lit} : {type_}")
        return self.consts[key]


@dataclass
class _Arg:
    """The memref arguments of one tensor."""

    name: str
    type: TensorType
    encoding: EncodingAttr | None
    pos: dict[int, str] = field(default_factory=dict)
    crd: dict[int, str] = field(default_factory=dict)
    vals: str = ""
    pos_type: str = "i64"
    crd_type: str = "i64"


def _int_type(width: int) -> str:
    return f"i{width or 64}"


def _elem(t: TensorType) -> str:
    e = t.get_element_type()
    if isinstance(e, Float64Type):
        return "f64"
    if isinstance(e, Float32Type):
        return "f32"
    raise NotSupportedError(f"element type {e} (only f32/f64 are compiled)")


def _dense_memref(shape: tuple[int, ...], et: str) -> str:
    dims = "x".join(str(s) for s in shape) if shape else "1"
    return f"memref<{dims}x{et}>"


def pattern_source(op: AssignOp) -> str | None:
    """The operand whose pattern a sparse output takes as is (SDDMM's mask), if any: the
    statement is one product holding a sparse access with exactly the output's indices and
    the output's encoding, so every output entry is at one of that operand's positions."""
    rt = op.result.type
    enc = encoding_of(rt)
    if enc is None:
        return None
    sparse = {n for n, v in zip(op.names, op.inputs) if encoding_of(v.type) is not None}
    try:
        terms = expand_terms(op.expr, sparse)
    except NotSupportedError:
        return None
    if len(terms) != 1:
        return None
    for a in terms[0].accesses():
        t = op.operand_named(a.tensor.data).type
        if a.index_names == op.lhs_indices and encoding_of(t) == enc and tuple(t.get_shape()) == tuple(rt.get_shape()):
            if all(lv.unique for lv in enc.levels):
                return a.tensor.data
    return None


def memref_signature(op: AssignOp) -> list[tuple[str, str, str]]:
    """(tensor, role, memref type) for each argument of the lowered function, in order."""
    sig: list[tuple[str, str, str]] = []
    for name, value in zip(op.names, op.inputs):
        t = value.type
        assert isinstance(t, TensorType)
        et = _elem(t)
        enc = encoding_of(t)
        if enc is None:
            sig.append((name, "vals", _dense_memref(tuple(t.get_shape()), et)))
            continue
        for k, level in enumerate(enc.levels):
            if level.kind.data == "compressed":
                sig.append((name, f"pos{k}", f"memref<?x{_int_type(enc.pos_width.data)}>"))
            if level.kind.data in ("compressed", "singleton"):
                sig.append((name, f"crd{k}", f"memref<?x{_int_type(enc.crd_width.data)}>"))
        sig.append((name, "vals", f"memref<?x{et}>"))
    rt = op.result.type
    assert isinstance(rt, TensorType)
    if encoding_of(rt) is None:
        sig.append((op.output_name.data, "out", _dense_memref(tuple(rt.get_shape()), _elem(rt))))
    elif (source := pattern_source(op)) is not None:
        sig.append((source, "outvals", f"memref<?x{_elem(rt)}>"))
    return sig


# ---------------------------------------------------------------------------------------------
# Loop variables
# ---------------------------------------------------------------------------------------------


@dataclass
class _Var:
    name: str  # "i", "i.b", "i.i", "k.t"
    index: str
    extent: int
    kind: str = "plain"  # plain | block | inner | tile | tiled
    block: int = 1


TRANSPOSE_BLOCK = 8
"""Side of the blocks of a dense transposition (`cpu.transpose_block`): 8 f32 fill an AVX2
register."""


def _tile_stop(b: _Builder, start: str, var: _Var) -> str:
    """The end of the tile that begins at `start`: `start + block`, clamped to the extent
    unless the block divides it (a constant trip count that gcc unrolls and vectorizes)."""
    end = b.op(f"arith.addi {start}, {b.const(var.block)} : index", "e")
    if var.extent % var.block == 0:
        return end
    return b.op(f"arith.minui {end}, {b.const(var.extent)} : index", "e")


@dataclass
class _Cursor:
    """Where one access stands: its next level and the position in the level before it."""

    access: AccessAttr
    arg: _Arg
    level: int = 0
    pos: str = ""


class StatementLowering:
    """Generates the text of one `func.func` of loops for one statement."""

    def __init__(self, op: AssignOp, func_name: str, order: tuple[str, ...] | None = None):
        self.op = op
        self.func_name = func_name
        rt = op.result.type
        assert isinstance(rt, TensorType)
        self.et = _elem(rt)
        self.esize = rt.get_element_type().bitwidth // 8  # type: ignore[attr-defined]
        self.out_enc = encoding_of(rt)
        self.out_shape = tuple(rt.get_shape())
        for v in op.inputs:
            if any(s < 0 for s in v.type.get_shape()):
                raise NotSupportedError("dynamic shapes (the runtime specializes per shape)")
        self.ranges = op.index_ranges()
        self.schedule = op.schedule
        self.b = _Builder()
        self.args: dict[str, _Arg] = {}
        self.sparse_names = {n for n, v in zip(op.names, op.inputs) if encoding_of(v.type)}
        sched_order = self.schedule.loop_order if self.schedule is not None else ()
        self.order = tuple(order or sched_order or default_order(op))
        self.tiles = self.schedule.tile_sizes if self.schedule is not None else {}
        self.parallel = self.schedule.parallel.data if self.schedule is not None else ""
        self.omp = self.schedule.omp.data if self.schedule is not None else "static"
        self.chunk = self.schedule.chunk.data if self.schedule is not None else 0
        self.unroll = self.schedule.unroll.data if self.schedule is not None else 1
        self.pattern = pattern_source(op)
        self._use_row_buffer = False
        self._row_buffer = ""
        self.row_store = None
        """When set, `row_store(iv, buffer, buffer_type, f)` stores a finished row buffer instead
        of the plain store into the output (the row epilogue product, `_lower_row_linear`)."""
        if self.out_enc is not None and self.pattern is None:
            levels = [(lv.dim.data, lv.kind.data, lv.block_op.data) for lv in self.out_enc.levels]
            if levels != [(0, "dense", ""), (1, "compressed", "")]:
                raise NotSupportedError(
                    "sparse outputs are assembled as CSR; convert other output formats afterwards"
                )

    # -- arguments -----------------------------------------------------------------------

    def signature(self) -> list[str]:
        params = []
        for tensor, role, mtype in memref_signature(self.op):
            ssa = f"%{tensor}_{role}"
            params.append(f"{ssa}: {mtype}")
            if role == "out":
                self.out = ssa
                self.out_type = mtype
                continue
            if role == "outvals":
                self.out = f"%{self.op.output_name.data}_vals"
                params[-1] = f"{self.out}: {mtype}"
                self.out_type = mtype
                continue
            arg = self.args.setdefault(
                tensor,
                _Arg(tensor, self.op.operand_named(tensor).type, encoding_of(self.op.operand_named(tensor).type)),
            )
            if arg.encoding is not None:
                arg.pos_type = _int_type(arg.encoding.pos_width.data)
                arg.crd_type = _int_type(arg.encoding.crd_width.data)
            if role.startswith("pos"):
                arg.pos[int(role[3:])] = ssa
            elif role.startswith("crd"):
                arg.crd[int(role[3:])] = ssa
            else:
                arg.vals = ssa
                arg.vals_type = mtype  # type: ignore[attr-defined]
        return params

    # -- entry ---------------------------------------------------------------------------


    def generate(self) -> str:
        params = self.signature()
        if self._is_block_transpose():
            self._lower_block_transpose()
            self.b.line("func.return")
            return self.b.function(self.func_name, params)
        linear = self._row_linear()
        if linear is not None:
            self._lower_row_linear(*linear)
            self.b.line("func.return")
            return self.b.function(self.func_name, params)
        self._epilogue, self._addend, expr = self._row_parts()
        terms = expand_terms(expr, self.sparse_names)
        if self.out_enc is None or self.pattern is not None:
            once = self.pattern is None and self._addend is None and self._writes_each_point_once(terms)
            needs_fill = not (once and all(arg.encoding is None for arg in self.args.values()))
            if self.pattern is not None and self._visits_each_pattern_position_once():
                needs_fill = False
            self._row_fill = needs_fill and self._fills_by_row()
            row_bytes = math.prod(self.out_shape[1:]) * self.esize
            self._use_row_buffer = self._row_fill and not once and len(terms) == 1 and len(self.out_shape) >= 2 \
                and row_bytes <= ROW_BUFFER_BYTES
            if needs_fill and not self._row_fill:
                self._fill_zero()
            if self.pattern is not None:
                sink = self._accumulate_pattern if needs_fill else self._store_pattern
            else:
                sink = self._store_dense if once else self._accumulate_dense
            for term in terms:
                self._term_nest(term, sink, bound={})
            ret_types = ""
            self.b.line("func.return")
        else:
            ret_types = self._sparse_output(terms)
        return self.b.function(self.func_name, params, ret_types)

    # -- dense transposition -------------------------------------------------------------

    def _is_block_transpose(self) -> bool:
        """`T(j, k) = E(k, j)`, dense f32, both extents multiples of TRANSPOSE_BLOCK."""
        expr = self.op.expr
        if self.out_enc is not None or len(self.out_shape) != 2 or self.et != "f32" or not isinstance(expr, AccessAttr):
            return False
        j, k = self.op.lhs_indices
        return (
            j != k
            and expr.tensor.data not in self.sparse_names
            and expr.index_names == (k, j)
            and all(extent % TRANSPOSE_BLOCK == 0 for extent in self.out_shape)
        )

    def _lower_block_transpose(self) -> None:
        """Loops over the blocks in the schedule's order, one `cpu.transpose_block` each; the
        parallel loop keeps its OpenMP schedule (tiles do not apply: a block is the tile)."""
        b, (j, k) = self.b, self.op.lhs_indices
        src = self.args[self.op.expr.tensor.data]  # type: ignore[attr-defined]
        order = [i for i in self.order if i in (j, k)]
        ivs: dict[str, str] = {}
        with contextlib.ExitStack() as loops:
            for index in order:
                omp = self._omp_attr(self.chunk).strip() if index == order[0] == self.parallel else ""
                ivs[index] = loops.enter_context(b.loop(self.ranges[index], index + "b", omp, step=TRANSPOSE_BLOCK))
            b.line(
                f"cpu.transpose_block {src.vals}[{ivs[k]}, {ivs[j]}], {self.out}[{ivs[j]}, {ivs[k]}] "
                f"{{size = {TRANSPOSE_BLOCK} : i64}} : {src.vals_type}, {self.out_type}"
            )

    # -- row epilogue product ------------------------------------------------------------

    def _row_linear(self) -> tuple[AssignOp, AccessAttr, AccessAttr | None] | None:
        """`Bias(o) + sum[k](g(i, k) * W(k, o))` into a dense `C(i, o)`, where g holds a sum
        (`relu(sum[j](A(i, j) * Y(j, k)))`: a GCN layer followed by the next layer's linear):
        (the statement T(i, k) = g, W's access, Bias's access or None), else None. W and Bias
        are dense; g must not use o."""
        if self.out_enc is not None or len(self.out_shape) != 2:
            return None
        i, o = self.op.lhs_indices
        expr, bias = self.op.expr, None
        if isinstance(expr, BinaryAttr) and expr.operator.data == "add":
            for b_, rest in ((expr.lhs, expr.rhs), (expr.rhs, expr.lhs)):
                if isinstance(b_, AccessAttr) and b_.index_names == (o,) and b_.tensor.data not in self.sparse_names:
                    bias, expr = b_, rest
                    break
        if not (isinstance(expr, ReduceAttr) and len(expr.index_names) == 1):
            return None
        k = expr.index_names[0]
        body = expr.body
        if not (isinstance(body, BinaryAttr) and body.operator.data == "mul"):
            return None
        for w, g in ((body.rhs, body.lhs), (body.lhs, body.rhs)):
            if isinstance(w, AccessAttr) and w.index_names == (k, o) and w.tensor.data not in self.sparse_names:
                break
        else:
            return None
        if o in {x for a in g.accesses() for x in a.index_names} or not any(isinstance(n, ReduceAttr) for n in g.walk()):
            return None
        if set(g.free_indices()) != {i, k}:
            return None
        names = list(dict.fromkeys(a.tensor.data for a in g.accesses()))
        et = self.op.result.type.get_element_type()  # type: ignore[attr-defined]
        schedule = self.schedule
        if schedule is not None:
            schedule = ScheduleAttr([x for x in schedule.loop_order if x != o],
                                    {x: v for x, v in schedule.tile_sizes.items() if x != o}, schedule.parallel.data,
                                    schedule.omp.data, schedule.chunk.data, schedule.unroll.data)
        inner = AssignOp("T", [i, k], g, {n: self.op.operand_named(n) for n in names},
                         TensorType(et, [self.out_shape[0], self.ranges[k]]), schedule)
        return inner, w, bias

    def _lower_row_linear(self, inner_op: AssignOp, w: AccessAttr, bias: AccessAttr | None) -> None:
        """The statement T(i, k) = g(i, k) lowered with its rows in a buffer, each finished row
        then multiplied by W into C's row i (starting at Bias): C(i, :) = Bias + f(T(i, :)) W.
        T is never stored; per row the product is K broadcasts of T(i, k) times W's row k,
        vectorized over o."""
        try:
            inner = StatementLowering(inner_op, self.func_name)
            inner.b = self.b
            inner.signature()
            inner.row_store = lambda iv, buf, buf_type, f: self._store_row_product(iv, buf, buf_type, f, w, bias)
            inner._epilogue, inner._addend, expr = inner._row_parts()
            terms = expand_terms(expr, inner.sparse_names)
            if len(terms) != 1:
                raise NotSupportedError("a row epilogue product of several terms")
            inner._row_fill = inner._fills_by_row()
            inner._use_row_buffer = inner._row_fill
            if not inner._row_fill:
                raise NotSupportedError("a row epilogue product needs the rows filled one at a time (row index "
                                        "first, sparse operands storing it in a dense level)")
            inner._term_nest(terms[0], inner._accumulate_dense, bound={})
        finally:
            inner_op.drop_all_references()

    def _store_row_product(self, iv: str, buf: str, buf_type: str, f: str, w: AccessAttr, bias: AccessAttr | None) -> None:
        """C(iv, :) = Bias + f(row) W: f applied to the row buffer in place, then for each k
        the broadcast row[k] times W's row k added into an output row buffer, the loop over o
        marked `treadle.simd` (its iterations are independent)."""
        b = self.b
        width, depth = self.out_shape[1], self.ranges[w.index_names[0]]
        if f:
            with b.loop(depth, "k") as k:
                b.line(f"memref.store {self._unary(f, b.op(f'memref.load {buf}[{k}] : {buf_type}', 't'))}, {buf}[{k}] : {buf_type}")
        out_row_type = f"memref<{width}x{self.et}>"
        row = b.op(f"memref.alloca() : {out_row_type}", "zrow")
        with b.loop(width, "o") as o:
            start = b.const(0.0, self.et)
            if bias is not None:
                arg = self.args[bias.tensor.data]
                start = b.op(f"memref.load {arg.vals}[{o}] : {arg.vals_type}", "bias")  # type: ignore[attr-defined]
            b.line(f"memref.store {start}, {row}[{o}] : {out_row_type}")
        warg = self.args[w.tensor.data]
        with b.loop(depth, "k") as k:
            t = b.op(f"memref.load {buf}[{k}] : {buf_type}", "t")
            with b.loop(width, "o", "{treadle.simd}") as o:
                wv = b.op(f"memref.load {warg.vals}[{k}, {o}] : {warg.vals_type}", "w")  # type: ignore[attr-defined]
                b.accumulate(f"{row}[{o}] : {out_row_type}", b.op(f"arith.mulf {t}, {wv} : {self.et}", "f"), self.et)
        with b.loop(width, "o") as o:
            v = b.op(f"memref.load {row}[{o}] : {out_row_type}", "z")
            b.line(f"memref.store {v}, {self.out}[{iv}, {o}] : {self.out_type}")

    # -- dense output --------------------------------------------------------------------

    def _row_parts(self) -> tuple[str, AccessAttr | None, ExprAttr]:
        """(f, D, sum) for `f(D(i, ...) + sum[...](term))` — f and D each optional, one product
        term — into a dense output filled row by row (`_fills_by_row`): each row starts as D's
        row instead of zeros (`torch.sparse.addmm`, a residual) and is complete when its
        iteration of the outer loop ends, so `f` is applied to it there (an epilogue fused
        into the loop), e.g. relu(A @ H) of a GCN layer or relu(X Wₛ + A (X Wₙ)) of a
        GraphSAGE layer. Otherwise ("", None, the whole expression)."""
        whole = expr = self.op.expr
        fn, addend = "", None
        if isinstance(expr, UnaryAttr):
            fn, expr = expr.function.data, expr.operand
        if isinstance(expr, BinaryAttr) and expr.operator.data == "add":
            for d, rest in ((expr.lhs, expr.rhs), (expr.rhs, expr.lhs)):
                if (isinstance(d, AccessAttr) and isinstance(rest, ReduceAttr) and d.tensor.data not in self.sparse_names
                        and list(d.index_names) == list(self.op.lhs_indices)):
                    addend, expr = d, rest
                    break
        if not isinstance(expr, ReduceAttr) or not (fn or addend):
            return "", None, whole
        if self.out_enc is not None or not self._fills_by_row():
            return "", None, whole
        try:
            if len(expand_terms(expr, self.sparse_names)) != 1:
                return "", None, whole  # each term's nest ends a row: only one nest may apply f
        except NotSupportedError:
            return "", None, whole
        return fn, addend, expr

    def _over_row(self, iv: str, body) -> None:
        """Loops over the output row `iv`'s other dimensions, with `body(ref, ivs)` inside,
        `ref` being the `out[iv, ...] : type` reference of one element at indices `ivs`."""
        b = self.b
        ivs = [iv]
        for extent in self.out_shape[1:]:
            z = b.fresh("z")
            b.line(f"scf.for {z} = {b.const(0)} to {b.const(extent)} step {b.const(1)} {{")
            b.depth += 1
            ivs.append(z)
        body(self._dense_ref(ivs), ivs)
        for _ in self.out_shape[1:]:
            b.depth -= 1
            b.line("}")

    def _dense_ref(self, idx: list[str]) -> str:
        """`memref[indices] : type` of a dense output element; in the row buffer while one is
        open (the row index dropped)."""
        if self._row_buffer:
            return f"{self._row_buffer}[{', '.join(idx[1:])}] : {self._row_buffer_type}"
        return f"{self.out}[{', '.join(idx)}] : {self.out_type}"

    def _open_row_buffer(self) -> None:
        """A row of at most ROW_BUFFER_BYTES is accumulated in a buffer local to the row's
        iteration (`memref.alloca`, a C array the compiler keeps in registers) instead of in
        the output, then stored once: the output row is not loaded and stored per update (SpMM
        with N = 32 loads and stores C(i, :) once per U nonzeros otherwise)."""
        shape = "x".join(str(d) for d in self.out_shape[1:])
        self._row_buffer_type = f"memref<{shape}x{self.et}>"
        self._row_buffer = self.b.op(f"memref.alloca() : {self._row_buffer_type}", "row")

    def _close_row_buffer(self, iv: str) -> None:
        """Store the finished row buffer into the output's row `iv`, applying the row
        epilogue's `f` on the way (one pass over the row)."""
        if self.row_store is not None:
            self.row_store(iv, self._row_buffer, self._row_buffer_type, self._epilogue)
            self._row_buffer = ""
            return

        def store(ref: str, ivs: list[str]) -> None:
            value = self.b.op(f"memref.load {ref}", "o")
            if self._epilogue:
                value = self._unary(self._epilogue, value)
            self.b.line(f"memref.store {value}, {self.out}[{', '.join(ivs)}] : {self.out_type}")

        self._over_row(iv, store)
        self._row_buffer = ""

    def _apply_epilogue(self, iv: str) -> None:
        """out[iv, ...] = f(out[iv, ...]) over the row (all its other dimensions)."""

        def apply(ref: str, ivs: list[str]) -> None:
            value = self.b.op(f"memref.load {ref}", "o")
            self.b.line(f"memref.store {self._unary(self._epilogue, value)}, {ref}")

        self._over_row(iv, apply)

    def _fills_by_row(self) -> bool:
        """A dense output whose first index is the first loop, a plain dense loop over every
        row (each sparse operand stores that index, if at all, in a dense first level): then
        iteration i zeroes row i itself, in the same (parallel) loop, just before using it."""
        if self.out_enc is not None or not self.out_shape:
            return False
        row = self.op.lhs_indices[0]
        if not self.order or self.order[0] != row or row in self.tiles:
            return False
        for name, arg in self.args.items():
            if arg.encoding is None:
                continue
            for access in self.op.expr.accesses():
                if access.tensor.data != name:
                    continue
                for k, lv in enumerate(arg.encoding.levels):
                    if access.index_names[lv.dim.data] == row and (k > 0 or not lv.is_dense or lv.block_op.data):
                        return False
        return True

    def _fill_row(self, iv: str) -> None:
        """Start the output's row `iv` (all its other dimensions) at zero, or at the addend's row."""
        addend = self.args[self._addend.tensor.data] if self._addend is not None else None

        def start(ref: str, ivs: list[str]) -> None:
            value = self.b.const(0.0, self.et)
            if addend is not None:
                value = self.b.op(f"memref.load {addend.vals}[{', '.join(ivs)}] : {addend.vals_type}", "d")  # type: ignore[attr-defined]
            self.b.line(f"memref.store {value}, {ref}")

        self._over_row(iv, start)

    def _fill_zero(self) -> None:
        b = self.b
        if self.pattern is not None:
            n = b.op(f"memref.dim {self.out}, {b.const(0)} : {self.out_type}", "n")
            iv = b.fresh("z")
            b.line(f"scf.for {iv} = {b.const(0)} to {n} step {b.const(1)} {{")
            b.line(f"  memref.store {b.const(0.0, self.et)}, {self.out}[{iv}] : {self.out_type}")
            b.line("}")
            return
        shape = self.out_shape or (1,)
        zero = b.const(0.0, self.et)
        ivs = []
        for extent in shape:
            iv = b.fresh("z")
            b.line(f"scf.for {iv} = {b.const(0)} to {b.const(extent)} step {b.const(1)} {{")
            b.depth += 1
            ivs.append(iv)
        b.line(f"memref.store {zero}, {self.out}[{', '.join(ivs)}] : {self.out_type}")
        for k in range(len(shape)):
            b.depth -= 1
            # The fill is as parallel as the kernel (large outputs: a serial fill dominates).
            parallel = k == len(shape) - 1 and self.parallel and shape[0] > 1
            b.line("}" + (' {treadle.omp = {schedule = "static"}}' if parallel else ""))

    def _accumulate_pattern(self, value: str, index_values: dict[str, str]) -> None:
        """Output values live at the pattern operand's last-level position."""
        b = self.b
        b.accumulate(f"{self.out}[{self._pattern_pos}] : {self.out_type}", value, self.et)

    def _store_pattern(self, value: str, index_values: dict[str, str]) -> None:
        self.b.line(f"memref.store {value}, {self.out}[{self._pattern_pos}] : {self.out_type}")

    def _visits_each_pattern_position_once(self) -> bool:
        """The pattern operand is the only sparse one (no intersection skips a position), it
        is unblocked, no loop is tiled, and the output's indices are the outer loops (every
        summed loop runs inside one position): then each output value is computed exactly
        once and stored, with no zero fill before and no load-add-store (SDDMM)."""
        if self.sparse_names != {self.pattern} or self.tiles:
            return False
        if any(lv.block_op.data for lv in self.args[self.pattern].encoding.levels):  # type: ignore[union-attr]
            return False
        lhs = self.op.lhs_indices
        return set(self.order[: len(lhs)]) == set(lhs)

    def _writes_each_point_once(self, terms: list[ExprAttr]) -> bool:
        """One term, no summed index and no sparse operand that may repeat a coordinate: each
        output point is written at most once, so it is stored, not accumulated (and with only
        dense operands every point is written, so the output needs no zero fill either)."""
        if len(terms) != 1 or self._epilogue:
            return False
        lhs = set(self.op.lhs_indices)
        if any(i not in lhs for a in terms[0].accesses() for i in a.index_names):
            return False
        return all(arg.encoding is None or all(lv.unique for lv in arg.encoding.levels) for arg in self.args.values())

    def _store_dense(self, value: str, index_values: dict[str, str]) -> None:
        b = self.b
        idx = [index_values[i] for i in self.op.lhs_indices] or [b.const(0)]
        b.line(f"memref.store {value}, {self._dense_ref(idx)}")

    def _accumulate_dense(self, value: str, index_values: dict[str, str]) -> None:
        b = self.b
        idx = [index_values[i] for i in self.op.lhs_indices] or [b.const(0)]
        b.accumulate(self._dense_ref(idx), value, self.et)

    # -- sparse output (CSR, two phases through a dense workspace row) ------------------

    def _merge_terms(self, terms: list[ExprAttr]) -> list[AccessAttr] | None:
        """Per term, its one sparse operand, when every term is a CSR operand at the output's
        indices times dense factors: then the union is a merge of sorted rows (no workspace)."""
        out = []
        for term in terms:
            accesses = list(term.accesses())
            sparse = [a for a in accesses if self.args[a.tensor.data].encoding is not None]
            if len(sparse) != 1 or sparse[0].index_names != self.op.lhs_indices:
                return None
            if any(i not in self.op.lhs_indices for a in accesses for i in a.index_names):
                return None
            levels = self.args[sparse[0].tensor.data].encoding.levels.data  # type: ignore[union-attr]
            shape = [(lv.dim.data, lv.kind.data, lv.block_op.data, lv.unique, lv.ordered) for lv in levels]
            if shape != [(0, "dense", "", True, True), (1, "compressed", "", True, True)]:
                return None
            out.append(sparse[0])
        return out

    def _merge_output(self, terms: list[ExprAttr], sparse: list[AccessAttr]) -> str:
        """The union merge lattice of sorted rows in one loop: each term's cursor yields its
        next column or `cols` when done; the smallest column is emitted with the sum of the
        terms standing at it, and those advance. Counted in a first pass, written in a second;
        rows are independent, so the row loop is parallel."""
        b = self.b
        rows, cols = self.out_shape
        row_index, col_index = self.op.lhs_indices
        c0, c1, end = b.const(0), b.const(1), b.const(cols)
        omp = self._omp_attr(self.chunk or 64) if self.parallel == row_index else ""
        pos = b.op(f"memref.alloc({b.const(rows + 1)}) : memref<?xi64>", "opos")
        b.line(f"memref.store {b.const(0, 'i64')}, {pos}[{c0}] : memref<?xi64>")
        n_terms = len(terms)
        ts = ", ".join(["index"] * (n_terms + 1))

        def row_loop(phase: int, crd: str = "", vals: str = "") -> None:
            iv = b.fresh(row_index)
            b.line(f"scf.for {iv} = {c0} to {b.const(rows)} step {c1} {{")
            b.depth += 1
            args = [self.args[a.tensor.data] for a in sparse]
            cursors = [_Cursor(a, arg, 1, iv) for a, arg in zip(sparse, args)]
            los, his = [], []
            for c in cursors:
                los.append(self._load_pos(c, iv))
                his.append(self._load_pos(c, b.op(f"arith.addi {iv}, {c1} : index", "p")))
            base = c0
            if phase == 1:
                base64 = b.op(f"memref.load {pos}[{iv}] : memref<?xi64>", "base")
                base = b.op(f"arith.index_cast {base64} : i64 to index", "base")
            ps, n = [b.fresh("p") for _ in terms], b.fresh("n")
            inits = ", ".join(f"{p} = {lo}" for p, lo in zip(ps, los))
            res = b.fresh("m")
            b.line(f"{res}:{n_terms + 1} = scf.while ({inits}, {n} = {c0}) : ({ts}) -> ({ts}) {{")
            b.depth += 1
            live = [b.op(f"arith.cmpi ult, {p}, {hi} : index", "c") for p, hi in zip(ps, his)]
            cond = live[0]
            for other in live[1:]:
                cond = b.op(f"arith.ori {cond}, {other} : i1", "c")
            b.line(f"scf.condition({cond}) {', '.join(ps)}, {n} : {ts}")
            b.depth -= 1
            qs, m = [b.fresh("q") for _ in terms], b.fresh("n")
            b.line("} do {")
            b.line(f"^bb0({', '.join(f'{q}: index' for q in [*qs, m])}):")
            b.depth += 1
            # Each cursor's column (and, when writing, value) or the sentinel `cols`: loads
            # only under the well-predicted "not done" branch; the rest is branch-free.
            crds, svals = [], []
            for c, q, hi in zip(cursors, qs, his):
                more = b.op(f"arith.cmpi ult, {q}, {hi} : index", "c")
                col, sval = b.fresh("col"), b.fresh("sv")
                vt = f"index, {self.et}" if phase == 1 else "index"
                b.line(f"{col}{':2' if phase == 1 else ''} = scf.if {more} -> ({vt}) {{")
                b.depth += 1
                loaded = self._load_crd(c, q)
                if phase == 1:
                    value = b.op(f"memref.load {c.arg.vals}[{q}] : memref<?x{self.et}>", "a")
                    b.line(f"scf.yield {loaded}, {value} : {vt}")
                else:
                    b.line(f"scf.yield {loaded} : {vt}")
                b.depth -= 1
                b.line("} else {")
                zero = f", {b.const(0.0, self.et)}" if phase == 1 else ""
                b.line(f"  scf.yield {end}{zero} : {vt}")
                b.line("}")
                crds.append(f"{col}#0" if phase == 1 else col)
                svals.append(f"{col}#1")
            u = crds[0]
            for other in crds[1:]:
                u = b.op(f"arith.minui {u}, {other} : index", "u")
            hits = [b.op(f"arith.cmpi eq, {x}, {u} : index", "hit") for x in crds]
            if phase == 1:
                total = b.const(0.0, self.et)
                for term, sval, hit in zip(terms, svals, hits):
                    value = self._term_value(term, sval, {row_index: iv, col_index: u})
                    part = b.op(f"arith.select {hit}, {value}, {b.const(0.0, self.et)} : {self.et}", "t")
                    total = b.op(f"arith.addf {total}, {part} : {self.et}", "v")
                at = b.op(f"arith.addi {base}, {m} : index", "at")
                u64 = b.op(f"arith.index_cast {u} : index to i64", "j")
                b.line(f"memref.store {u64}, {crd}[{at}] : memref<?xi64>")
                b.line(f"memref.store {total}, {vals}[{at}] : memref<?x{self.et}>")
            nexts = []
            for q, hit in zip(qs, hits):
                inc = b.op(f"arith.addi {q}, {c1} : index", "q")
                nexts.append(b.op(f"arith.select {hit}, {inc}, {q} : index", "q"))
            m1 = b.op(f"arith.addi {m}, {c1} : index", "n")
            b.line(f"scf.yield {', '.join(nexts)}, {m1} : {ts}")
            b.depth -= 1
            b.line("}")
            if phase == 0:
                tag = b.op(f"arith.addi {iv}, {c1} : index", "p")
                n64 = b.op(f"arith.index_cast {res}#{n_terms} : index to i64", "p")
                b.line(f"memref.store {n64}, {pos}[{tag}] : memref<?xi64>")
            b.depth -= 1
            b.line("}" + omp)

        row_loop(0)
        crd, vals = self._row_pointer(pos, rows)
        row_loop(1, crd, vals)
        b.line(
            f"func.return {pos}, {crd}, {vals} : memref<?xi64>, memref<?xi64>, memref<?x{self.et}>"
        )
        return f" -> (memref<?xi64>, memref<?xi64>, memref<?x{self.et}>)"

    def _term_value(self, term: ExprAttr, sparse_value: str, values: dict[str, str]) -> str:
        """A term's value from its sparse operand's (loaded) value and dense ones at `values`."""
        cursors, loaded = [], {}
        for a in term.accesses():
            arg = self.args[a.tensor.data]
            cursors.append(_Cursor(a, arg))
            if arg.encoding is not None:
                loaded[id(a)] = sparse_value
                continue
            idx = [values[i] for i in a.index_names] or [self.b.const(0)]
            ref = f"{arg.vals}[{', '.join(idx)}] : {arg.vals_type}"  # type: ignore[attr-defined]
            loaded[id(a)] = self.b.op(f"memref.load {ref}", "a")
        return self._value(term, cursors, loaded, values)

    def _row_pointer(self, pos: str, rows: int) -> tuple[str, str]:
        """Row counts in pos[1..rows] → the row pointer (a sequential prefix sum); then the
        output's crd and vals arrays of the total size."""
        b = self.b
        c0, c1 = b.const(0), b.const(1)
        iv = b.fresh("s")
        b.line(f"scf.for {iv} = {c0} to {b.const(rows)} step {c1} {{")
        b.depth += 1
        nxt = b.op(f"arith.addi {iv}, {c1} : index", "s")
        before = b.op(f"memref.load {pos}[{iv}] : memref<?xi64>", "s")
        count = b.op(f"memref.load {pos}[{nxt}] : memref<?xi64>", "s")
        total = b.op(f"arith.addi {before}, {count} : i64", "s")
        b.line(f"memref.store {total}, {pos}[{nxt}] : memref<?xi64>")
        b.depth -= 1
        b.line("}")
        total64 = b.op(f"memref.load {pos}[{b.const(rows)}] : memref<?xi64>", "nnz")
        total = b.op(f"arith.index_cast {total64} : i64 to index", "nnz")
        crd = b.op(f"memref.alloc({total}) : memref<?xi64>", "ocrd")
        vals = b.op(f"memref.alloc({total}) : memref<?x{self.et}>", "ovals")
        return crd, vals

    def _sparse_output(self, terms: list[ExprAttr]) -> str:
        """Two phases over blocks of rows, each block with its own workspace (so blocks may
        run on different threads): count each row's entries (symbolic), prefix-sum the counts
        into the row pointer, allocate, then scatter each row into a dense row `w`, order its
        touched columns and gather (numeric)."""
        b = self.b
        if (sparse := self._merge_terms(terms)) is not None:
            return self._merge_output(terms, sparse)
        rows, cols = self.out_shape
        row_index, col_index = self.op.lhs_indices
        c0, c1 = b.const(0), b.const(1)
        per_block = self._rows_per_block(rows, cols)
        blocks = -(-rows // per_block)
        parallel = self.parallel == row_index and blocks > 1
        omp = self._omp_attr(None) if parallel else ""
        pos = b.op(f"memref.alloc({b.const(rows + 1)}) : memref<?xi64>", "opos")
        b.line(f"memref.store {b.const(0, 'i64')}, {pos}[{c0}] : memref<?xi64>")

        words = -(-cols // 64)

        def block_loop(phase: int, body_end) -> None:
            """Phase 0 dedups columns by row tags in `mark`; phase 1 by a bitmap of the row's
            columns (`bits`, kept clear between rows), which also orders them cheaply."""
            blk = b.fresh("blk")
            b.line(f"scf.for {blk} = {c0} to {b.const(blocks)} step {c1} {{")
            b.depth += 1
            ws: dict[str, tuple[str, str, int]] = {}

            def buffer(key: str, et: str, size: int) -> str:
                ws[key] = (et, b.op(f"memref.alloc({b.const(size)}) : memref<?x{et}>", key), size)
                return ws[key][1]

            if phase == 0:
                mark = buffer("mark", "index", cols)
            else:
                w = buffer("w", self.et, cols)
                bits = buffer("bits", "i64", words)
                buffer("list", "index", cols)
                buffer("tmp", "index", cols)
            zeros = {"mark": c0, "w": b.const(0.0, self.et), "bits": b.const(0, "i64")}
            for key, (et, buf, size) in ws.items():
                if key in zeros:
                    zi = b.fresh("zi")
                    b.line(f"scf.for {zi} = {c0} to {b.const(size)} step {c1} {{")
                    b.line(f"  memref.store {zeros[key]}, {buf}[{zi}] : memref<?x{et}>")
                    b.line("}")
            cnt = b.op("memref.alloca() : memref<1xindex>", "cnt")
            first = b.op(f"arith.muli {blk}, {b.const(per_block)} : index", "lo")
            past = b.op(f"arith.addi {first}, {b.const(per_block)} : index", "hi")
            last = b.op(f"arith.minui {past}, {b.const(rows)} : index", "hi")
            iv = b.fresh(row_index)
            b.line(f"scf.for {iv} = {first} to {last} step {c1} {{")
            b.depth += 1
            tag = b.op(f"arith.addi {iv}, {c1} : index", "tag")
            b.line(f"memref.store {c0}, {cnt}[{c0}] : memref<1xindex>")

            def visit(value: str, index_values: dict[str, str]) -> None:
                j = index_values[col_index]
                if phase == 0:
                    seen = b.op(f"memref.load {mark}[{j}] : memref<?xindex>", "m")
                    new = b.op(f"arith.cmpi ne, {seen}, {tag} : index", "new")
                else:
                    word = b.op(f"arith.shrui {j}, {b.const(6)} : index", "wd")
                    j64 = b.op(f"arith.index_cast {j} : index to i64", "wd")
                    low = b.op(f"arith.andi {j64}, {b.const(63, 'i64')} : i64", "wd")
                    bit = b.op(f"arith.shli {b.const(1, 'i64')}, {low} : i64", "bit")
                    have = b.op(f"memref.load {bits}[{word}] : memref<?xi64>", "wd")
                    both = b.op(f"arith.andi {have}, {bit} : i64", "wd")
                    new = b.op(f"arith.cmpi eq, {both}, {b.const(0, 'i64')} : i64", "new")
                b.line(f"scf.if {new} {{")
                b.depth += 1
                if phase == 0:
                    b.line(f"memref.store {tag}, {mark}[{j}] : memref<?xindex>")
                else:
                    set_ = b.op(f"arith.ori {have}, {bit} : i64", "wd")
                    b.line(f"memref.store {set_}, {bits}[{word}] : memref<?xi64>")
                n = b.op(f"memref.load {cnt}[{c0}] : memref<1xindex>", "n")
                if phase == 1:
                    b.line(f"memref.store {j}, {ws['list'][1]}[{n}] : memref<?xindex>")
                n1 = b.op(f"arith.addi {n}, {c1} : index", "n")
                b.line(f"memref.store {n1}, {cnt}[{c0}] : memref<1xindex>")
                b.depth -= 1
                b.line("}")
                if phase == 1:
                    old = b.op(f"memref.load {w}[{j}] : memref<?x{self.et}>", "o")
                    acc = b.op(f"arith.addf {old}, {value} : {self.et}", "o")
                    b.line(f"memref.store {acc}, {w}[{j}] : memref<?x{self.et}>")

            for term in terms:
                self._term_nest(term, visit, bound={row_index: iv}, symbolic=phase == 0)
            n = b.op(f"memref.load {cnt}[{c0}] : memref<1xindex>", "n")
            body_end(iv, n, tag, {k: v for k, (_, v, _) in ws.items()})
            b.depth -= 1
            b.line("}")
            for et, buf, _ in ws.values():
                b.line(f"memref.dealloc {buf} : memref<?x{et}>")
            b.depth -= 1
            b.line("}" + omp)

        def count_end(iv: str, n: str, tag: str, ws: dict[str, str]) -> None:
            n64 = b.op(f"arith.index_cast {n} : index to i64", "p")
            b.line(f"memref.store {n64}, {pos}[{tag}] : memref<?xi64>")

        block_loop(0, count_end)
        crd, vals = self._row_pointer(pos, rows)

        def gather_end(iv: str, n: str, tag: str, ws: dict[str, str]) -> None:
            base64 = b.op(f"memref.load {pos}[{iv}] : memref<?xi64>", "base")
            base = b.op(f"arith.index_cast {base64} : i64 to index", "base")
            self._order_columns(ws["list"], ws["tmp"], ws["bits"], n, cols)
            q = b.fresh("q")
            b.line(f"scf.for {q} = {c0} to {n} step {c1} {{")
            b.depth += 1
            j = b.op(f"memref.load {ws['list']}[{q}] : memref<?xindex>", "j")
            at = b.op(f"arith.addi {base}, {q} : index", "at")
            j64 = b.op(f"arith.index_cast {j} : index to i64", "j")
            b.line(f"memref.store {j64}, {crd}[{at}] : memref<?xi64>")
            v = b.op(f"memref.load {ws['w']}[{j}] : memref<?x{self.et}>", "wv")
            b.line(f"memref.store {v}, {vals}[{at}] : memref<?x{self.et}>")
            b.line(f"memref.store {b.const(0.0, self.et)}, {ws['w']}[{j}] : memref<?x{self.et}>")
            b.depth -= 1
            b.line("}")

        block_loop(1, gather_end)
        b.line(
            f"func.return {pos}, {crd}, {vals} : memref<?xi64>, memref<?xi64>, memref<?x{self.et}>"
        )
        return f" -> (memref<?xi64>, memref<?xi64>, memref<?x{self.et}>)"

    def _rows_per_block(self, rows: int, cols: int) -> int:
        """Rows sharing one workspace: the schedule's chunk (default 64), but few enough blocks
        that clearing their workspaces (cols entries each) stays within ~4M stores."""
        chunk = self.chunk or 64
        max_blocks = max(1, (1 << 22) // max(cols, 1))
        return max(1, chunk, -(-rows // max_blocks))

    def _order_columns(self, lst: str, tmp: str, bits: str, n: str, cols: int) -> None:
        """Sort list[0..n) (the row's distinct columns) ascending and clear the row's bitmap.
        Three ways, by the row's size: read the bitmap in order when it has at most 16 words
        per entry (O(cols/64 + n)); else insertion sort for at most 32 entries, an LSD radix
        sort on 8-bit digits for more (O(n) per digit)."""
        b = self.b
        c0, c1 = b.const(0), b.const(1)
        words = -(-cols // 64)
        entries = b.op(f"arith.muli {n}, {b.const(16)} : index", "d")
        scan = b.op(f"arith.cmpi uge, {entries}, {b.const(words)} : index", "scan")
        b.line(f"scf.if {scan} {{")
        b.depth += 1
        wd, k_ = b.fresh("wd"), b.fresh("k")
        b.line(f"{b.fresh('k')} = scf.for {wd} = {c0} to {b.const(words)} step {c1} iter_args({k_} = {c0}) -> (index) {{")
        b.depth += 1
        x = b.op(f"memref.load {bits}[{wd}] : memref<?xi64>", "x")
        nz = b.op(f"arith.cmpi ne, {x}, {b.const(0, 'i64')} : i64", "nz")
        k2 = b.fresh("k")
        b.line(f"{k2} = scf.if {nz} -> (index) {{")
        b.depth += 1
        b.line(f"memref.store {b.const(0, 'i64')}, {bits}[{wd}] : memref<?xi64>")
        base = b.op(f"arith.shli {wd}, {b.const(6)} : index", "cb")
        y, kk, res = b.fresh("y"), b.fresh("k"), b.fresh("bw")
        b.line(f"{res}:2 = scf.while ({y} = {x}, {kk} = {k_}) : (i64, index) -> (i64, index) {{")
        b.depth += 1
        more = b.op(f"arith.cmpi ne, {y}, {b.const(0, 'i64')} : i64", "c")
        b.line(f"scf.condition({more}) {y}, {kk} : i64, index")
        b.depth -= 1
        y2, kk2 = b.fresh("y"), b.fresh("k")
        b.line("} do {")
        b.line(f"^bb0({y2}: i64, {kk2}: index):")
        b.depth += 1
        tz = b.op(f"math.cttz {y2} : i64", "tz")
        tzi = b.op(f"arith.index_cast {tz} : i64 to index", "tz")
        col = b.op(f"arith.addi {base}, {tzi} : index", "j")
        b.line(f"memref.store {col}, {lst}[{kk2}] : memref<?xindex>")
        less = b.op(f"arith.subi {y2}, {b.const(1, 'i64')} : i64", "y")
        rest = b.op(f"arith.andi {y2}, {less} : i64", "y")
        kk3 = b.op(f"arith.addi {kk2}, {c1} : index", "k")
        b.line(f"scf.yield {rest}, {kk3} : i64, index")
        b.depth -= 1
        b.line("}")
        b.line(f"scf.yield {res}#1 : index")
        b.depth -= 1
        b.line("} else {")
        b.line(f"  scf.yield {k_} : index")
        b.line("}")
        b.line(f"scf.yield {k2} : index")
        b.depth -= 1
        b.line("}")
        b.depth -= 1
        b.line("} else {")
        b.depth += 1
        q = b.fresh("q")
        b.line(f"scf.for {q} = {c0} to {n} step {c1} {{")
        b.depth += 1
        j = b.op(f"memref.load {lst}[{q}] : memref<?xindex>", "j")
        word = b.op(f"arith.shrui {j}, {b.const(6)} : index", "wd")
        b.line(f"memref.store {b.const(0, 'i64')}, {bits}[{word}] : memref<?xi64>")
        b.depth -= 1
        b.line("}")
        short = b.op(f"arith.cmpi ule, {n}, {b.const(32)} : index", "short")
        b.line(f"scf.if {short} {{")
        b.depth += 1
        self._insertion_sort(lst, n)
        b.depth -= 1
        b.line("} else {")
        b.depth += 1
        self._radix_sort(lst, tmp, n, cols)
        b.depth -= 1
        b.line("}")
        b.depth -= 1
        b.line("}")

    def _radix_sort(self, lst: str, tmp: str, n: str, cols: int) -> None:
        """LSD radix sort of list[0..n) on 8-bit digits, through tmp; the result is in list."""
        b = self.b
        c0, c1 = b.const(0), b.const(1)
        t = "memref<?xindex>"
        digits = max(1, -(-max(cols - 1, 1).bit_length() // 8))
        count = b.op("memref.alloca() : memref<257xindex>", "count")
        src, dst = lst, tmp

        def digit(buf: str, q: str, shift: str) -> tuple[str, str]:
            key = b.op(f"memref.load {buf}[{q}] : {t}", "key")
            shifted = b.op(f"arith.shrui {key}, {shift} : index", "dg")
            return key, b.op(f"arith.andi {shifted}, {b.const(255)} : index", "dg")

        for d in range(digits):
            shift = b.const(8 * d)
            z = b.fresh("z")
            b.line(f"scf.for {z} = {c0} to {b.const(257)} step {c1} {{")
            b.line(f"  memref.store {c0}, {count}[{z}] : memref<257xindex>")
            b.line("}")
            q = b.fresh("q")
            b.line(f"scf.for {q} = {c0} to {n} step {c1} {{")
            b.depth += 1
            key, dg = digit(src, q, shift)
            slot = b.op(f"arith.addi {dg}, {c1} : index", "dg")
            old = b.op(f"memref.load {count}[{slot}] : memref<257xindex>", "ct")
            inc = b.op(f"arith.addi {old}, {c1} : index", "ct")
            b.line(f"memref.store {inc}, {count}[{slot}] : memref<257xindex>")
            b.depth -= 1
            b.line("}")
            g = b.fresh("g")
            b.line(f"scf.for {g} = {c1} to {b.const(257)} step {c1} {{")
            b.depth += 1
            prev_at = b.op(f"arith.subi {g}, {c1} : index", "ct")
            prev = b.op(f"memref.load {count}[{prev_at}] : memref<257xindex>", "ct")
            here = b.op(f"memref.load {count}[{g}] : memref<257xindex>", "ct")
            run = b.op(f"arith.addi {prev}, {here} : index", "ct")
            b.line(f"memref.store {run}, {count}[{g}] : memref<257xindex>")
            b.depth -= 1
            b.line("}")
            q = b.fresh("q")
            b.line(f"scf.for {q} = {c0} to {n} step {c1} {{")
            b.depth += 1
            key, dg = digit(src, q, shift)
            at = b.op(f"memref.load {count}[{dg}] : memref<257xindex>", "at")
            b.line(f"memref.store {key}, {dst}[{at}] : {t}")
            nxt = b.op(f"arith.addi {at}, {c1} : index", "at")
            b.line(f"memref.store {nxt}, {count}[{dg}] : memref<257xindex>")
            b.depth -= 1
            b.line("}")
            src, dst = dst, src
        if src != lst:
            q = b.fresh("q")
            b.line(f"scf.for {q} = {c0} to {n} step {c1} {{")
            b.line(f"  %{q[1:]}_v = memref.load {src}[{q}] : {t}")
            b.line(f"  memref.store %{q[1:]}_v, {lst}[{q}] : {t}")
            b.line("}")

    def _insertion_sort(self, lst: str, n: str) -> None:
        """Sort list[0..n) ascending: rows of a workspace are short, so insertion sort."""
        b = self.b
        c0, c1 = b.const(0), b.const(1)
        t = "memref<?xindex>"
        s = b.fresh("s")
        b.line(f"scf.for {s} = {c1} to {n} step {c1} {{")
        b.depth += 1
        key = b.op(f"memref.load {lst}[{s}] : {t}", "key")
        h = b.fresh("h")
        res = b.fresh("hole")
        b.line(f"{res} = scf.while ({h} = {s}) : (index) -> index {{")
        b.depth += 1
        pos_ok = b.op(f"arith.cmpi ugt, {h}, {c0} : index", "c")
        prev_i = b.op(f"arith.select {pos_ok}, {h}, {c1} : index", "c")
        prev_at = b.op(f"arith.subi {prev_i}, {c1} : index", "c")
        prev = b.op(f"memref.load {lst}[{prev_at}] : {t}", "c")
        bigger = b.op(f"arith.cmpi ugt, {prev}, {key} : index", "c")
        go = b.op(f"arith.andi {pos_ok}, {bigger} : i1", "c")
        b.line(f"scf.condition({go}) {h} : index")
        b.depth -= 1
        h2 = b.fresh("h")
        b.line(f"}} do {{")
        b.line(f"^bb0({h2}: index):")
        b.depth += 1
        pm = b.op(f"arith.subi {h2}, {c1} : index", "c")
        pv = b.op(f"memref.load {lst}[{pm}] : {t}", "c")
        b.line(f"memref.store {pv}, {lst}[{h2}] : {t}")
        b.line(f"scf.yield {pm} : index")
        b.depth -= 1
        b.line("}")
        b.line(f"memref.store {key}, {lst}[{res}] : {t}")
        b.depth -= 1
        b.line("}")

    # -- one term ------------------------------------------------------------------------

    def _term_nest(self, term: ExprAttr, sink, bound: dict[str, str], symbolic: bool = False) -> None:
        accesses = list(term.accesses())
        indices = list(dict.fromkeys([*self.op.lhs_indices, *(i for a in accesses for i in a.index_names)]))
        blocks: dict[str, int] = {}
        for a in accesses:
            arg = self.args[a.tensor.data]
            if arg.encoding is None:
                continue
            for lv in arg.encoding.levels:
                if lv.block_op.data:
                    index = a.index_names[lv.dim.data]
                    if blocks.setdefault(index, lv.block.data) != lv.block.data:
                        raise NotSupportedError(f"index '{index}' blocked by two block sizes")
        variables = self._variables(indices, blocks, bound)
        cursors = []
        for a in accesses:
            arg = self.args[a.tensor.data]
            if arg.encoding is not None:
                for lv in arg.encoding.levels:
                    index = a.index_names[lv.dim.data]
                    if not lv.block_op.data and index in blocks:
                        raise NotSupportedError(
                            f"{a.notation()} stores '{index}' unblocked while another operand blocks it"
                        )
                    if index in bound and lv.kind.data != "dense":
                        raise NotSupportedError(
                            f"{a.notation()}: compressed level on the output's row index '{index}' "
                            "(convert to CSR first)"
                        )
            cursors.append(_Cursor(a, arg, 0, self.b.const(0)))
        values = dict(bound)
        # Dense levels of sparse operands on already bound indices are located first.
        for c in cursors:
            self._locate_bound(c, values)
        self._nest(term, variables, 0, cursors, values, sink, symbolic, outer=True)

    def _variables(self, indices: list[str], blocks: dict[str, int], bound: dict[str, str]) -> list[_Var]:
        order = [i for i in self.order if i in indices and i not in bound]
        order += [i for i in indices if i not in order and i not in bound]
        head: list[_Var] = []
        inner: list[_Var] = []
        tail: list[_Var] = []
        last_split = max((k for k, i in enumerate(order) if i in blocks), default=-1)
        for k, i in enumerate(order):
            extent = self.ranges[i]
            if i in blocks:
                b = blocks[i]
                head.append(_Var(f"{i}.b", i, extent // b, "block", b))
                inner.append(_Var(f"{i}.i", i, b, "inner", b))
            elif k > last_split and last_split >= 0:
                tail.append(_Var(i, i, extent))
            else:
                head.append(_Var(i, i, extent))
        variables = head + inner + tail
        out: list[_Var] = []
        deferred: list[_Var] = []
        for v in variables:
            size = self.tiles.get(v.index, 0)
            if v.kind == "plain" and size and size < v.extent:
                out.append(_Var(f"{v.index}.t", v.index, v.extent, "tile", size))
                deferred.append(_Var(v.index, v.index, v.extent, "tiled", size))
            else:
                out.append(v)
        return out + deferred

    def _level_var(self, c: _Cursor) -> str | None:
        enc = c.arg.encoding
        if enc is None or c.level >= len(enc.levels):
            return None
        lv = enc.levels.data[c.level]
        index = c.access.index_names[lv.dim.data]
        return {"floordiv": f"{index}.b", "mod": f"{index}.i"}.get(lv.block_op.data, index)

    def _locate_bound(self, c: _Cursor, values: dict[str, str]) -> None:
        enc = c.arg.encoding
        while enc is not None and c.level < len(enc.levels):
            lv = enc.levels.data[c.level]
            name = self._level_var(c)
            if lv.kind.data != "dense" or name not in values:
                return
            size = lv.level_size(c.arg.type.get_shape()[lv.dim.data])
            b = self.b
            scaled = b.op(f"arith.muli {c.pos}, {b.const(size)} : index", "l")
            c.pos = b.op(f"arith.addi {scaled}, {values[name]} : index", "l")
            c.level += 1

    def _load_crd(self, c: _Cursor, p: str) -> str:
        raw = self.b.op(f"memref.load {c.arg.crd[c.level]}[{p}] : memref<?x{c.arg.crd_type}>", "cr")
        if c.arg.crd_type == "index":
            return raw
        return self.b.op(f"arith.index_cast {raw} : {c.arg.crd_type} to index", "c")

    def _load_pos(self, c: _Cursor, p: str) -> str:
        raw = self.b.op(f"memref.load {c.arg.pos[c.level]}[{p}] : memref<?x{c.arg.pos_type}>", "pr")
        return self.b.op(f"arith.index_cast {raw} : {c.arg.pos_type} to index", "p")

    def _omp_attr(self, chunk: int | None) -> str:
        fields = [f'schedule = "{self.omp}"'] + ([f"chunk = {chunk}"] if chunk else [])
        return f" {{treadle.omp = {{{', '.join(fields)}}}}}"

    def _omp(self, var: _Var, outer: bool, iterators: list[_Cursor]) -> str:
        if not (outer and self.parallel and var.index == self.parallel and (self.out_enc is None or self.pattern is not None)):
            return ""
        if var.index not in self.op.lhs_indices or var.kind in ("inner", "tiled"):
            return ""
        if any(not c.arg.encoding.levels.data[c.level].unique for c in iterators):  # type: ignore[union-attr]
            return ""
        return self._omp_attr(self.chunk)

    def _nest(self, term, variables, k, cursors, values, sink, symbolic, outer=False) -> None:
        b = self.b
        self._pending = (term, values, sink)
        if k == len(variables):
            self._innermost(term, cursors, values, sink, symbolic)
            return
        var = variables[k]
        if k == len(variables) - 1 and not symbolic and self._reduction_loop(var, cursors):
            return
        if var.kind == "tile":
            iv = b.fresh(var.index + "t")
            b.line(f"scf.for {iv} = {b.const(0)} to {b.const(var.extent)} step {b.const(var.block)} {{")
            b.depth += 1
            self._nest(term, variables, k + 1, cursors, {**values, var.name: iv}, sink, symbolic)
            b.depth -= 1
            b.line("}" + self._omp(var, outer, []))
            return
        here = [c for c in cursors if self._level_var(c) == var.name]
        iterators = [c for c in here if c.arg.encoding.levels.data[c.level].kind.data != "dense"]  # type: ignore[union-attr]
        for c in cursors:
            enc = c.arg.encoding
            if enc is None:
                continue
            later = [self._level_var(_Cursor(c.access, c.arg, lvl)) for lvl in range(c.level + 1, len(enc.levels))]
            if var.name in later:
                raise NotSupportedError(
                    f"loop order visits '{var.name}' before earlier levels of {c.access.notation()} "
                    "(discordant; run sparse-order-loops to insert a conversion)"
                )
        saved = [(c.level, c.pos) for c in cursors]
        suffix = ""
        if not iterators:
            iv = b.fresh(var.index)
            if var.kind == "tiled":
                start = values[f"{var.index}.t"]
                b.line(f"scf.for {iv} = {start} to {_tile_stop(b, start, var)} step {b.const(1)} {{")
            else:
                b.line(f"scf.for {iv} = {b.const(0)} to {b.const(var.extent)} step {b.const(1)} {{")
            suffix = self._omp(var, outer, [])
            closers = 1
            b.depth += 1
            values = {**values, var.name: iv}
            if outer and getattr(self, "_row_fill", False) and var.index == self.op.lhs_indices[0]:
                if self._use_row_buffer:
                    self._open_row_buffer()
                self._fill_row(iv)
                self._row_fill = False  # later terms accumulate into the zeroed rows
        elif len(iterators) == 1 and iterators[0].arg.encoding.levels.data[iterators[0].level].kind.data == "singleton":  # type: ignore[union-attr]
            c = iterators[0]
            values = {**values, var.name: self._load_crd(c, c.pos)}
            c.level += 1
            closers = 0
        elif len(iterators) == 1:
            c = iterators[0]
            lo = self._load_pos(c, c.pos)
            nxt = b.op(f"arith.addi {c.pos}, {b.const(1)} : index", "p")
            hi = self._load_pos(c, nxt)
            unrolled = None
            if self._unrollable(var, variables[k + 1 :], cursors, symbolic):
                unrolled = self._unrolled_positions
            elif self._jams_into_reduction(var, variables[k + 1 :], cursors, c, symbolic):
                unrolled = self._unrolled_dot_products
            if unrolled is not None:
                lo = unrolled(term, variables, k, cursors, values, sink, c, lo, hi)
                for cur, (lvl, pos) in zip(cursors, saved):
                    cur.level, cur.pos = lvl, pos
            q = b.fresh("q")
            b.line(f"scf.for {q} = {lo} to {hi} step {b.const(1)} {{")
            suffix = self._omp(var, outer, iterators)
            closers = 1
            b.depth += 1
            values = {**values, var.name: self._load_crd(c, q)}
            c.pos = q
            c.level += 1
        else:
            for c in iterators:
                lv = c.arg.encoding.levels.data[c.level]  # type: ignore[union-attr]
                if lv.kind.data != "compressed" or not lv.unique or not lv.ordered:
                    raise NotSupportedError(
                        f"intersecting {c.access.notation()} at '{var.name}' needs unique ordered "
                        "compressed levels"
                    )
            los, his = [], []
            for c in iterators:
                los.append(self._load_pos(c, c.pos))
                nxt = b.op(f"arith.addi {c.pos}, {b.const(1)} : index", "p")
                his.append(self._load_pos(c, nxt))
            ps = [b.fresh("p") for _ in iterators]
            ts = ", ".join(["index"] * len(ps))
            res = b.fresh("w")
            inits = ", ".join(f"{p} = {lo}" for p, lo in zip(ps, los))
            b.line(f"{res}:{len(ps)} = scf.while ({inits}) : ({ts}) -> ({ts}) {{")
            b.depth += 1
            conds = [b.op(f"arith.cmpi ult, {p}, {hi} : index", "c") for p, hi in zip(ps, his)]
            cond = conds[0]
            for other in conds[1:]:
                cond = b.op(f"arith.andi {cond}, {other} : i1", "c")
            b.line(f"scf.condition({cond}) {', '.join(ps)} : {ts}")
            b.depth -= 1
            qs = [b.fresh("q") for _ in iterators]
            b.line("} do {")
            b.line(f"^bb0({', '.join(f'{q}: index' for q in qs)}):")
            b.depth += 1
            crds = []
            for c, q in zip(iterators, qs):
                crds.append(self._load_crd(c, q))
            u = crds[0]
            for other in crds[1:]:
                u = b.op(f"arith.minui {u}, {other} : index", "u")
            eqs = [b.op(f"arith.cmpi eq, {x}, {u} : index", "e") for x in crds]
            both = eqs[0]
            for other in eqs[1:]:
                both = b.op(f"arith.andi {both}, {other} : i1", "e")
            b.line(f"scf.if {both} {{")
            b.depth += 1
            for c, q in zip(iterators, qs):
                c.pos = q
                c.level += 1
            values = {**values, var.name: u}
            self._after_bind(term, variables, k, cursors, values, sink, symbolic)
            for c, (lvl, pos) in zip(cursors, saved):
                c.level, c.pos = lvl, pos
            b.depth -= 1
            b.line("}")
            nexts = []
            for q, e in zip(qs, eqs):
                inc = b.op(f"arith.addi {q}, {b.const(1)} : index", "n")
                nexts.append(b.op(f"arith.select {e}, {inc}, {q} : index", "n"))
            b.line(f"scf.yield {', '.join(nexts)} : {ts}")
            b.depth -= 1
            b.line("}")
            return
        self._after_bind(term, variables, k, cursors, values, sink, symbolic)
        for c, (lvl, pos) in zip(cursors, saved):
            c.level, c.pos = lvl, pos
        if outer and not iterators and (self._row_buffer or self._epilogue) and var.index == self.op.lhs_indices[0]:
            if self._row_buffer:
                self._close_row_buffer(values[var.name])
            elif self._epilogue:
                self._apply_epilogue(values[var.name])
        for _ in range(closers):
            b.depth -= 1
            b.line("}" + suffix)

    # -- unroll-and-jam of the innermost sparse reduction loop ---------------------------

    def _unrollable(self, var: _Var, later: list[_Var], cursors: list[_Cursor], symbolic: bool) -> bool:
        """Unroll-and-jam applies to a loop over one compressed level's positions that sums
        (its index is not an output index) with only dense loops inside it: then U positions
        share one pass over the inner loops and one update of the output per inner point."""
        if self.unroll < 2 or symbolic or var.kind != "plain" or var.index in self.op.lhs_indices:
            return False
        if self.out_enc is not None and self.pattern is None:
            return False
        inner = {v.name for v in later}
        for c in cursors:
            enc = c.arg.encoding
            if enc is None:
                continue
            for lvl in range(c.level, len(enc.levels)):
                name = self._level_var(_Cursor(c.access, c.arg, lvl))
                if enc.levels.data[lvl].kind.data != "dense" and name in inner:
                    return False
        return True

    def _jams_into_reduction(self, var: _Var, later: list[_Var], cursors: list[_Cursor], c: _Cursor, symbolic: bool) -> bool:
        """The other unroll-and-jam: a loop over the last level's positions of one sparse
        operand whose index is an output index, with one summed loop over dense operands only
        inside it (SDDMM's `k`). Each position is then one dot product with a single
        accumulator — a chain of dependent adds; U positions per step give U independent
        accumulators in one pass over `k` (and share the loads of the row's dense factor)."""
        if self.unroll < 2 or symbolic or var.kind != "plain" or var.index not in self.op.lhs_indices:
            return False
        if self.out_enc is not None and self.pattern is None:
            return False
        if len(later) != 1 or later[0].kind != "plain" or later[0].index in self.op.lhs_indices:
            return False
        if c.level + 1 != len(c.arg.encoding.levels):  # type: ignore[union-attr]
            return False
        summed = later[0].index
        return not any(x.arg.encoding is not None and summed in x.access.index_names for x in cursors)

    def _lanes(self, var: _Var, cursors: list[_Cursor], values: dict[str, str], c: _Cursor, q: str) -> list:
        """The U lanes of an unrolled position loop's step at `q`: for each, copies of the
        cursors with `c` on position q + lane, and the index values there."""
        b = self.b
        lanes = []
        level = c.level
        for lane in range(self.unroll):
            at = q if lane == 0 else b.op(f"arith.addi {q}, {b.const(lane)} : index", "qu")
            c.pos, c.level = at, level
            coordinate = self._load_crd(c, at)
            copies = [_Cursor(x.access, x.arg, x.level + (x is c), at if x is c else x.pos) for x in cursors]
            lane_values = {**values, var.name: coordinate}
            for x in copies:
                self._locate_bound(x, lane_values)
            lanes.append((copies, lane_values))
        c.pos, c.level = q, level
        self._prefetch_gathered_rows(var, cursors, c, q)
        return lanes

    def _prefetch_gathered_rows(self, var: _Var, cursors: list[_Cursor], c: _Cursor, q: str) -> None:
        """Prefetch, PREFETCH_AHEAD positions ahead of each lane, the rows of dense operands that
        are gathered by this loop's coordinate (row-major, first index = the loop's index) and
        short (at most PREFETCH_ROW_BYTES): rows at random addresses, of a few cache lines, that
        the hardware prefetcher cannot predict (SpMM's B with N = 32, SDDMM's Eᵀ with K = 32).
        The position is clamped to the last stored entry."""
        b = self.b
        rows = []
        for x in cursors:
            shape = tuple(x.arg.type.get_shape())
            if x.arg.encoding is None and len(shape) == 2 and x.access.index_names[0] == var.index \
                    and 0 < shape[1] * self.esize <= PREFETCH_ROW_BYTES and x.arg.name not in {r.arg.name for r in rows}:
                rows.append(x)
        if not rows:
            return
        crd = c.arg.crd[c.level]
        n = b.op(f"memref.dim {crd}, {b.const(0)} : memref<?x{c.arg.crd_type}>", "n")
        last = b.op(f"arith.subi {n}, {b.const(1)} : index", "n")
        per_line = CACHE_LINE_BYTES // self.esize
        for lane in range(self.unroll):
            ahead = b.op(f"arith.addi {q}, {b.const(PREFETCH_AHEAD + lane)} : index", "pf")
            at = b.op(f"arith.minui {ahead}, {last} : index", "pf")
            coordinate = self._load_crd(c, at)
            for x in rows:
                for offset in range(0, x.arg.type.get_shape()[1], per_line):
                    b.line(f"cpu.prefetch {x.arg.vals}[{coordinate}, {b.const(offset)}] : {x.arg.vals_type}")  # type: ignore[attr-defined]

    def _unrolled_main_loop(self, lo: str, hi: str) -> tuple[str, str]:
        """Opens `scf.for q = lo to main_hi step U` over the whole steps of [lo, hi); returns
        (q, main_hi), main_hi being where the remainder loop starts."""
        b, u = self.b, self.unroll
        span = b.op(f"arith.subi {hi}, {lo} : index", "span")
        whole = b.op(f"arith.divui {span}, {b.const(u)} : index", "span")
        covered = b.op(f"arith.muli {whole}, {b.const(u)} : index", "span")
        main_hi = b.op(f"arith.addi {lo}, {covered} : index", "span")
        q = b.fresh("qu")
        b.line(f"scf.for {q} = {lo} to {main_hi} step {b.const(u)} {{")
        b.depth += 1
        return q, main_hi

    def _unrolled_dot_products(self, term, variables, k, cursors, values, sink, c: _Cursor, lo: str, hi: str) -> str:
        """U positions per step, their U sums over the inner loop carried together (marked
        reassociable: the C backend vectorizes each), then each lane's factors that do not
        depend on the summed index and its output."""
        b, u = self.b, self.unroll
        q, main_hi = self._unrolled_main_loop(lo, hi)
        lanes = self._lanes(variables[k], cursors, values, c, q)
        summed = variables[k + 1]
        varying, invariant = _split_invariant(term, summed.index)
        dots = self._dots(varying, summed, lanes)
        if dots is not None:
            for lane, (copies, lane_values) in enumerate(lanes):
                self._finish_sum(f"{dots}#{lane}", invariant, copies, dict(lane_values), sink)
            b.depth -= 1
            b.line("}")
            return main_hi
        zero = b.const(0.0, self.et)
        accs = [b.fresh("acc") for _ in range(u)]
        sums = b.fresh("sum")
        iv = b.fresh(summed.index)
        inits = ", ".join(f"{a} = {zero}" for a in accs)
        types = ", ".join([self.et] * u)
        b.line(f"{sums}:{u} = scf.for {iv} = {b.const(0)} to {b.const(summed.extent)} step {b.const(1)} iter_args({inits}) -> ({types}) {{")
        b.depth += 1
        totals = []
        for acc, (copies, lane_values) in zip(accs, lanes):
            inner = {**lane_values, summed.name: iv}
            captured: list[str] = []
            self._innermost(varying, copies, inner, lambda v, _vals: captured.append(v), False)
            totals.append(b.op(f"arith.addf {acc}, {captured[0]} fastmath<reassoc> : {self.et}", "s"))
        b.line(f"scf.yield {', '.join(totals)} : {types}")
        b.depth -= 1
        b.line("}")
        for lane, (copies, lane_values) in enumerate(lanes):
            self._finish_sum(f"{sums}#{lane}", invariant, copies, dict(lane_values), sink)
        b.depth -= 1
        b.line("}")
        return main_hi

    def _dots(self, varying: ExprAttr, summed: _Var, lanes: list) -> str | None:
        """`X(r, k) * Y(s, k)` summed over the whole dense k, with r the same in every lane and s
        not (SDDMM's D(i, k) * ET(j, k)): the lanes' sums as one `cpu.dots`, whose result (a
        multi-result SSA name) is returned; else None."""
        if summed.kind != "plain" or self.et not in ("f32", "f64"):
            return None
        if not (isinstance(varying, BinaryAttr) and varying.operator.data == "mul"):
            return None
        accesses = (varying.lhs, varying.rhs)
        for a in accesses:
            if not (isinstance(a, AccessAttr) and a.tensor.data not in self.sparse_names and len(a.index_names) == 2
                    and a.index_names[1] == summed.index and a.index_names[0] != summed.index):
                return None
        if any(a.index_names[0] not in lane_values for a in accesses for _, lane_values in lanes):  # type: ignore[union-attr]
            return None  # a blocked index: not a plain row
        rows = [[lane_values[a.index_names[0]] for _, lane_values in lanes] for a in accesses]  # type: ignore[union-attr]
        shared = [len(set(r)) == 1 for r in rows]
        if shared.count(True) != 1:
            return None
        x, y = (0, 1) if shared[0] else (1, 0)
        lhs, rhs = self.args[accesses[x].tensor.data], self.args[accesses[y].tensor.data]  # type: ignore[union-attr]
        b, zero = self.b, self.b.const(0)
        name = b.fresh("dot")
        b.line(
            f"{name}:{len(lanes)} = cpu.dots {lhs.vals}[{rows[x][0]}, {zero}], {rhs.vals}[{', '.join(rows[y])}] [{zero}] "
            f"{{length = {summed.extent} : i64}} : {lhs.vals_type}, {rhs.vals_type} -> {', '.join([self.et] * len(lanes))}"
        )
        return name

    def _unrolled_positions(self, term, variables, k, cursors, values, sink, c: _Cursor, lo: str, hi: str) -> str:
        """The main loop over positions [lo, lo + U*floor((hi-lo)/U)) in steps of U, each step
        U lanes; returns where the remainder loop starts."""
        b = self.b
        var = variables[k]
        q, main_hi = self._unrolled_main_loop(lo, hi)
        lanes = self._lanes(var, cursors, values, c, q)
        self._lanes_nest(term, variables, k + 1, lanes, sink)
        b.depth -= 1
        b.line("}")
        return main_hi

    def _lanes_nest(self, term, variables, k, lanes, sink) -> None:
        """The dense loops inside an unrolled position loop, shared by all lanes; at the
        innermost point the lanes' values are summed and the output updated once."""
        b = self.b
        if k == len(variables):
            parts: list[str] = []
            for copies, lane_values in lanes:
                self._innermost(term, copies, lane_values, lambda v, _vals: parts.append(v), False)
            total = parts[0]
            for part in parts[1:]:
                total = b.op(f"arith.addf {total}, {part} : {self.et}", "f")
            values = dict(lanes[0][1])
            for index in self.op.lhs_indices:
                self._index_value(index, values)
            sink(total, values)
            return
        var = variables[k]
        iv = b.fresh(var.index + ("t" if var.kind == "tile" else ""))
        if var.kind == "tile":
            b.line(f"scf.for {iv} = {b.const(0)} to {b.const(var.extent)} step {b.const(var.block)} {{")
        elif var.kind == "tiled":
            start = lanes[0][1][f"{var.index}.t"]
            b.line(f"scf.for {iv} = {start} to {_tile_stop(b, start, var)} step {b.const(1)} {{")
        else:
            b.line(f"scf.for {iv} = {b.const(0)} to {b.const(var.extent)} step {b.const(1)} {{")
        b.depth += 1
        inner = []
        for copies, lane_values in lanes:
            lane_values = {**lane_values, var.name: iv}
            copies = [_Cursor(x.access, x.arg, x.level, x.pos) for x in copies]
            if var.kind != "tile":
                for x in copies:
                    self._locate_bound(x, lane_values)
            inner.append((copies, lane_values))
        self._lanes_nest(term, variables, k + 1, inner, sink)
        b.depth -= 1
        b.line("}")

    def _reduction_loop(self, var, cursors) -> bool:
        """An innermost loop over a summed index accumulates in a scalar (`iter_args`, marked
        reassociable so the C backend may vectorize it) and writes the output once."""
        if var.kind != "plain" or var.index in self.op.lhs_indices:
            return False
        if self.out_enc is not None and self.pattern is None:
            return False
        return self._emit_reduction(var, cursors)

    def _emit_reduction(self, var, cursors) -> bool:
        """A summed innermost loop into one scalar. Over a dense index it is marked
        reassociable (the C backend vectorizes it); over a compressed level's positions the
        vector form gathers, which pays only on long rows, so the loop is versioned by the
        row's length: reassociable from GATHER_VECTOR_MIN entries, PARTIAL_SUMS partial sums
        from PARTIAL_SUMS_MIN, a plain loop below."""
        b = self.b
        here = [c for c in cursors if self._level_var(c) == var.name]
        iterators = [c for c in here if c.arg.encoding.levels.data[c.level].kind.data != "dense"]  # type: ignore[union-attr]
        if len(iterators) > 1 or (iterators and iterators[0].arg.encoding.levels.data[iterators[0].level].kind.data != "compressed"):  # type: ignore[union-attr]
            return False
        if any(c.arg.encoding is not None and c.level + 1 < len(c.arg.encoding.levels) for c in here):
            return False
        term, values, sink = self._pending
        term, invariant = _split_invariant(term, var.index)
        saved = [(c.level, c.pos) for c in cursors]
        zero = b.const(0.0, self.et)

        def term_at(iv: str) -> tuple[str, dict[str, str]]:
            """The summed term at position (or index value) iv, and the values there."""
            inner = dict(values)
            if iterators:
                c = iterators[0]
                inner[var.name] = self._load_crd(c, iv)
                c.pos, c.level = iv, c.level + 1
            else:
                inner[var.name] = iv
            for cur in cursors:
                self._locate_bound(cur, inner)
            captured: list[str] = []
            self._innermost(term, cursors, inner, lambda v, _vals: captured.append(v), False)
            for cur, (lvl, pos) in zip(cursors, saved):
                cur.level, cur.pos = lvl, pos
            return captured[0], inner

        def loop(lo: str, hi: str, reassoc: bool, init: str = zero) -> tuple[str, dict[str, str]]:
            acc_in, acc_out = b.fresh("acc"), b.fresh("sum")
            iv = b.fresh("q" if iterators else var.index)
            b.line(f"{acc_out} = scf.for {iv} = {lo} to {hi} step {b.const(1)} iter_args({acc_in} = {init}) -> ({self.et}) {{")
            b.depth += 1
            value, inner = term_at(iv)
            flags = " fastmath<reassoc>" if reassoc else ""
            b.line(f"scf.yield {b.op(f'arith.addf {acc_in}, {value}{flags} : {self.et}', 's')} : {self.et}")
            b.depth -= 1
            b.line("}")
            return acc_out, inner

        def partial_sums(lo: str, hi: str, span: str) -> str:
            """PARTIAL_SUMS positions per step into as many sums, the rest into the first."""
            n = PARTIAL_SUMS
            steps = b.op(f"arith.divui {span}, {b.const(n)} : index", "span")
            main = b.op(f"arith.addi {lo}, {b.op(f'arith.muli {steps}, {b.const(n)} : index', 'span')} : index", "span")
            accs, sums, q = [b.fresh("acc") for _ in range(n)], b.fresh("sum"), b.fresh("qu")
            b.line(f"{sums}:{n} = scf.for {q} = {lo} to {main} step {b.const(n)} "
                   f"iter_args({', '.join(f'{a} = {zero}' for a in accs)}) -> ({', '.join([self.et] * n)}) {{")
            b.depth += 1
            totals = []
            for lane, acc in enumerate(accs):
                at = q if lane == 0 else b.op(f"arith.addi {q}, {b.const(lane)} : index", "qu")
                totals.append(b.op(f"arith.addf {acc}, {term_at(at)[0]} : {self.et}", "s"))
            b.line(f"scf.yield {', '.join(totals)} : {', '.join([self.et] * n)}")
            b.depth -= 1
            b.line("}")
            rest, _ = loop(main, hi, False, f"{sums}#0")
            parts = [rest] + [f"{sums}#{lane}" for lane in range(1, n)]
            while len(parts) > 1:  # a balanced tree of adds
                parts = [b.op(f"arith.addf {x}, {y} : {self.et}", "s") for x, y in zip(parts[::2], parts[1::2])] + parts[len(parts) & ~1:]
            return parts[0]

        if iterators:
            c = iterators[0]
            lo = self._load_pos(c, c.pos)
            hi = self._load_pos(c, b.op(f"arith.addi {c.pos}, {b.const(1)} : index", "p"))
            span = b.op(f"arith.subi {hi}, {lo} : index", "n")
            at_least = lambda n: b.op(f"arith.cmpi uge, {span}, {b.const(n)} : index", "long")  # noqa: E731
            found: list[dict[str, str]] = []

            def gathered() -> str:
                acc, inner = loop(lo, hi, True)
                found.append(inner)
                return acc

            def shorter() -> str:
                return b.if_else(at_least(PARTIAL_SUMS_MIN), self.et, lambda: partial_sums(lo, hi, span), lambda: loop(lo, hi, False)[0])

            acc = b.if_else(at_least(GATHER_VECTOR_MIN), self.et, gathered, shorter)
            values_in = found[0]
        else:
            acc, values_in = loop(b.const(0), b.const(var.extent), True)
        outer_values = {k2: v for k2, v in values_in.items() if k2 != var.name and k2 != var.index}
        self._finish_sum(acc, invariant, cursors, outer_values, sink)
        return True

    def _finish_sum(self, acc: str, invariant: list[ExprAttr], cursors, values: dict[str, str], sink) -> None:
        """A finished sum times the factors that do not depend on its index (sum_k(a * f(k)) =
        a * sum_k f(k): one multiply per sum), into the output at the cursors' point."""
        if self.pattern is not None:
            self._pattern_pos = next(c.pos for c in cursors if c.access.tensor.data == self.pattern)
        for index in self.op.lhs_indices:
            self._index_value(index, values)
        for factor in invariant:
            acc = self.b.op(f"arith.mulf {self._invariant_value(factor, cursors, values)}, {acc} : {self.et}", "f")
        sink(acc, values)

    def _invariant_value(self, factor: ExprAttr, cursors, values: dict[str, str]) -> str:
        """A factor of a reduced product that does not depend on the summed index, loaded
        once outside the reduction loop (its cursor's position is bound there)."""
        if isinstance(factor, ConstantAttr):
            return self.b.const(factor.number, self.et)
        return self._load(next(c for c in cursors if c.access is factor), values)

    def _load(self, c: _Cursor, values: dict[str, str]) -> str:
        """The value of cursor `c`'s access: a dense operand at its indices, a sparse one at
        the position its cursor stands on."""
        if c.arg.encoding is not None:
            return self.b.op(f"memref.load {c.arg.vals}[{c.pos}] : memref<?x{self.et}>", "a")
        idx = [self._index_value(i, values) for i in c.access.index_names] or [self.b.const(0)]
        return self.b.op(f"memref.load {c.arg.vals}[{', '.join(idx)}] : {c.arg.vals_type}", "a")  # type: ignore[attr-defined]

    def _after_bind(self, term, variables, k, cursors, values, sink, symbolic) -> None:
        for c in cursors:
            self._locate_bound(c, values)
        self._nest(term, variables, k + 1, cursors, values, sink, symbolic)

    def _index_value(self, index: str, values: dict[str, str]) -> str:
        if index in values:
            return values[index]
        blk, inner = values[f"{index}.b"], values[f"{index}.i"]
        # block size from any variable of this index
        size = self._block_of[index]
        scaled = self.b.op(f"arith.muli {blk}, {self.b.const(size)} : index", "x")
        values[index] = self.b.op(f"arith.addi {scaled}, {inner} : index", "x")
        return values[index]

    @property
    def _block_of(self) -> dict[str, int]:
        sizes: dict[str, int] = {}
        for a in self.op.expr.accesses():
            enc = self.args[a.tensor.data].encoding
            if enc is not None:
                for lv in enc.levels:
                    if lv.block_op.data:
                        sizes[a.index_names[lv.dim.data]] = lv.block.data
        return sizes

    def _innermost(self, term, cursors, values, sink, symbolic) -> None:
        values = dict(values)
        needed = set(self.op.lhs_indices) | {i for a in term.accesses() for i in a.index_names}
        for index in needed:
            self._index_value(index, values)
        if symbolic:
            sink("", values)
            return
        if self.pattern is not None:
            self._pattern_pos = next(c.pos for c in cursors if c.access.tensor.data == self.pattern)
        loaded = {}
        used = {id(a) for a in term.accesses()}
        for c in cursors:
            if id(c.access) not in used:
                continue  # e.g. a factor taken out of a reduction (`_split_invariant`)
            loaded[id(c.access)] = self._load(c, values)
        value = self._value(term, cursors, loaded, values)
        sink(value, values)

    def _unary(self, fn: str, x: str) -> str:
        return _unary_text(self.b, fn, x, self.et)

    def _value(self, expr: ExprAttr, cursors, loaded, values) -> str:
        b, et = self.b, self.et
        match expr:
            case AccessAttr():
                for c in cursors:
                    if c.access is expr:
                        return loaded[id(c.access)]
                raise AssertionError("access without a cursor")
            case ConstantAttr():
                return b.const(expr.number, et)
            case BinaryAttr():
                lhs = self._value(expr.lhs, cursors, loaded, values)
                rhs = self._value(expr.rhs, cursors, loaded, values)
                return b.op(f"arith.{expr.operator.data}f {lhs}, {rhs} : {et}", "f")
            case UnaryAttr():
                return self._unary(expr.function.data, self._value(expr.operand, cursors, loaded, values))
        raise NotSupportedError(f"expression {expr.notation()}")


def _split_invariant(term: ExprAttr, index: str) -> tuple[ExprAttr, list[ExprAttr]]:
    """(the factors of a product that depend on `index`, as a product; the accesses and
    constants that do not). A term that is not a pure product, or whose factors all depend on
    `index`, comes back whole with no invariant factors."""
    factors: list[ExprAttr] = []

    def flatten(e: ExprAttr) -> None:
        if isinstance(e, BinaryAttr) and e.operator.data == "mul":
            flatten(e.lhs)
            flatten(e.rhs)
        else:
            factors.append(e)

    flatten(term)
    invariant = [f for f in factors if isinstance(f, ConstantAttr)
                 or (isinstance(f, AccessAttr) and index not in f.index_names)]
    varying = [f for f in factors if not any(f is g for g in invariant)]
    if not invariant or not varying:
        return term, []
    product = varying[0]
    for f in varying[1:]:
        product = BinaryAttr("mul", product, f)
    return product, invariant


def _unary_text(b: _Builder, fn: str, x: str, et: str) -> str:
    if fn == "neg":
        return b.op(f"arith.negf {x} : {et}", "f")
    if fn == "relu":
        return b.op(f"arith.maxnumf {x}, {b.const(0.0, et)} : {et}", "f")
    if fn == "abs":
        return b.op(f"math.absf {x} : {et}", "f")
    return b.op(f"math.{fn} {x} : {et}", "f")


def default_order(op: AssignOp) -> tuple[str, ...]:
    """A concordant loop order (see `order.py`), falling back to first appearance."""
    from treadle.passes.sparse.order import choose_order

    return choose_order(op).order


def lower_statement(op: AssignOp, func_name: str) -> str:
    """The text of a `func.func` of loops computing `op` (see the module docstring)."""
    return StatementLowering(op, func_name).generate()
