"""
Tune one sparse statement's schedule and operand formats with real compiled runs:
`treadle.tuning.tune_kernel(expr, tensors, budget=...)` and `treadle.tuning.kernel_space(...)`.

Why here, at the top of the package: `tuning/` knows nothing of the compiler (layering rule 5)
and the passes know nothing of the tuner (rule 2); this module composes both (rule 4). Each
tunable pass declares its options for a statement as plain data in the space-file format
(`tunable_options(op)` in passes/sparse/order_loops.py, tile.py, unroll.py, parallelize.py
and infer_formats.py, each entry saying in `applies_to` which pass option it sets). This module
turns those declarations into one `treadle.tuning.Space`, adds the known constraints the
compiler's own analyses give (loop orders concordant with each operand's level order; OpenMP
only where `sparse-parallelize` finds the outer loop race-free), and keeps only the operand
formats the loop generator handles. An evaluation builds the program, applies the
configuration through the passes, compiles it through the runtime (`runtime/execute.py`),
checks the result against the reference and times it; a compile error or a wrong answer is
INFEASIBLE (an unknown constraint), with the reason in the tuning log.
"""

from __future__ import annotations

import itertools
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from treadle.errors import Error
from treadle.tuning import INFEASIBLE, Observation, Space, TuneResult, tune

Config = dict[str, Any]

#: the pipeline whose schedule is "the default": the compiler's own choices, pass defaults
DEFAULT_PIPELINE = "sparse-order-loops,sparse-parallelize"


class WrongResult(Error):
    """A configuration compiled and ran but disagreed with the reference."""


# ---------------------------------------------------------------------------------------------
# The space
# ---------------------------------------------------------------------------------------------


@dataclass
class KernelSpace:
    """The tuning space of one statement on given tensors, and how to evaluate a configuration.

    `space` is a plain `treadle.tuning.Space` (save it with `space.save(path)`); `default` is the
    configuration the compiler picks by itself (`DEFAULT_PIPELINE`, operand formats as given);
    `declarations` are the passes' declarations the parameters came from.
    """

    expr: str
    tensors: dict[str, Any]
    output_format: str | None
    space: Space
    default: Config | None
    declarations: dict[str, dict]
    statement: str
    repeats: int = 7
    warmup: int = 1
    max_seconds: float = 2.0
    rtol: float | None = None
    reference: Any = None
    _converted: dict = field(default_factory=dict, repr=False)
    _encodings: dict = field(default_factory=dict, repr=False)

    # -- applying a configuration -------------------------------------------------------------

    def formats(self, config: Config) -> dict[str, Any]:
        """Operand name -> format name (or encoding) of this configuration."""
        out = {}
        for name, decl in self.declarations.items():
            operand = decl.get("applies_to", {}).get("operand")
            if operand is not None and name in config:
                out[operand] = config[name]
        return out

    def operands(self, config: Config) -> dict[str, Any]:
        """The tensors in this configuration's formats (conversions are cached)."""
        return _operands(self.tensors, self.formats(config), self._converted, self._encodings)

    def pipeline(self, config: Config) -> str:
        """The pass pipeline that applies `config` (the loop order goes into `#sparse.schedule`)."""
        passes: list[str] = []
        if self.output_format == "infer":
            passes.append("sparse-infer-formats")
        passes.append("sparse-order-loops{keep=true}")
        parallel: dict[str, Any] = {}
        skip_parallel = False
        for name, decl in self.declarations.items():
            target = decl.get("applies_to", {})
            if name not in config or "pass" not in target or target["pass"] == "sparse-order-loops":
                continue
            value = config[name]
            if target["pass"] == "sparse-tile":
                index = target["with"]["index"]
                if value < self.space.by_name[name].values[-1]:  # the extent: untiled
                    passes.append(f"sparse-tile{{index={index} size={value}}}")
            elif target["pass"] == "sparse-unroll":
                if value != target.get("skip_pass_if"):
                    passes.append(f"sparse-unroll{{factor={value}}}")
            elif target["pass"] == "sparse-parallelize":
                if value == target.get("skip_pass_if"):
                    skip_parallel = True
                parallel[target["option"]] = value
        if parallel and not skip_parallel:
            passes.append("sparse-parallelize{" + " ".join(f"{k}={v}" for k, v in parallel.items()) + "}")
        return ",".join(passes)

    def build(self, config: Config):
        """(module, the statement's `sparse.assign`, operands, pipeline) for `config`."""
        from treadle.api import build_program
        from treadle.dialects.sparse import ScheduleAttr
        from treadle.pipeline import run_pipeline

        config = self.space.validate(config)
        operands = self.operands(config)
        module = build_program(self.expr, operands, None if self.output_format == "infer" else self.output_format)
        spec = self.pipeline(config)
        if self.output_format == "infer":
            run_pipeline(module, "sparse-infer-formats")
            spec = spec.split(",", 1)[1]
        op = _assign(module)
        if "order" in config:
            op.schedule = ScheduleAttr(tuple(config["order"]))
        run_pipeline(module, spec)
        return module, _assign(module), operands, spec

    def compile(self, config: Config):
        """The loaded kernel of `config` (a `runtime.CompiledStatement`) and its operands."""
        from treadle.runtime.execute import compile_statement

        _, op, operands, _ = self.build(config)
        return compile_statement(op), operands

    def schedule(self, config: Config) -> str:
        """The `#sparse.schedule` attribute `config` compiles with."""
        _, op, _, _ = self.build(config)
        return str(op.schedule) if op.schedule is not None else ""

    # -- evaluating ---------------------------------------------------------------------------

    def expected(self):
        """The reference result (a dense array, or a scipy matrix when given one), computed once
        by the numpy reference interpreter unless given."""
        if self.reference is None:
            from treadle.api import build_program
            from treadle.interpreters.sparse import run_reference

            module = build_program(self.expr, self.tensors)
            self.reference = np.asarray(run_reference(module, "main", tuple(self.tensors.values()))[0])
        return self.reference

    def check(self, result: Any) -> None:
        """Raise WrongResult unless `result` matches the reference (max abs error at most
        rtol x the reference's largest magnitude; rtol 1e-4 for float32, 1e-9 for float64)."""
        import scipy.sparse as sp

        want = self.expected()
        values = getattr(result, "values", None)
        dtype = values.dtype if values is not None else np.asarray(result).dtype
        if sp.issparse(want):
            if getattr(result, "encoding", None) is not None and len(result.shape) == 2:
                coords, vals = result.coordinates()  # any format; CSR sums duplicates (COO)
                got = sp.csr_matrix((vals, (coords[0], coords[1])), shape=tuple(result.shape))
            else:
                got = sp.csr_matrix(result.to_numpy() if hasattr(result, "to_numpy") else np.asarray(result))
            if got.shape != want.shape:
                raise WrongResult(f"result has shape {got.shape}, expected {want.shape}")
            diff = abs(got.astype(np.float64) - want)
            err = float(diff.max()) if diff.nnz else 0.0
            scale = float(abs(want).max()) if want.nnz else 0.0
        else:
            got = result.to_numpy() if hasattr(result, "to_numpy") else np.asarray(result)
            if got.shape != want.shape:
                raise WrongResult(f"result has shape {got.shape}, expected {want.shape}")
            scale = float(np.max(np.abs(want))) if want.size else 0.0
            err = float(np.max(np.abs(got.astype(np.float64) - want))) if want.size else 0.0
        rtol = self.rtol if self.rtol is not None else (1e-4 if dtype == np.float32 else 1e-9)
        if not np.isfinite(err) or err > rtol * max(scale, 1e-30) + 1e-30:
            raise WrongResult(f"wrong result: max abs error {err:.3g} vs reference scale {scale:.3g}")

    def measure(self, config: Config) -> float:
        """Seconds per call of `config`'s kernel: median of `repeats` timed calls after
        `warmup` untimed ones, the first of which is checked against the reference. Raises
        (compile error, unsupported schedule, wrong result) for an infeasible configuration."""
        kernel, operands = self.compile(config)
        self.check(kernel(operands))
        return time_call(lambda: kernel(operands), self.repeats, self.warmup - 1, self.max_seconds)

    def __call__(self, config: Config) -> float:
        return self.measure(config)


def time_call(call: Callable[[], Any], repeats: int = 7, warmup: int = 0, max_seconds: float = 2.0) -> float:
    """Median seconds of `repeats` calls after `warmup` untimed ones; fewer timed calls (at
    least 3) when `repeats` of them would take more than `max_seconds`."""
    for _ in range(max(warmup, 0)):
        call()
    times = []
    start = time.perf_counter()
    for k in range(max(repeats, 1)):
        t = time.perf_counter()
        call()
        times.append(time.perf_counter() - t)
        if k >= 2 and time.perf_counter() - start > max_seconds:
            break
    return float(np.median(times))


def kernel_space(expr: str, tensors: Mapping[str, Any], *, format: str | None = None,
                 formats: bool | Mapping[str, Sequence[str]] = True, tile: bool = True,
                 parallel: bool = True, order: bool = True, unroll: bool = True, repeats: int = 7,
                 warmup: int = 1, max_seconds: float = 2.0, rtol: float | None = None,
                 reference: Any = None) -> KernelSpace:
    """The tuning space of the single statement `expr` on `tensors` (name -> array, scipy matrix
    or treadle.Tensor; sparse ones keep their format as the default).

    `format`: the output format (None: dense, as `treadle.einsum`; `"infer"`: what
    sparse-infer-formats picks for each configuration's operand formats; or a format name).
    `formats`: False keeps operand formats fixed; a dict names candidate formats per operand.
    `tile`, `parallel`, `order`, `unroll`: False leaves that pass's options out of the space.
    `reference`: the expected dense result (default: the numpy reference interpreter).
    """
    from treadle.api import build_program
    from treadle.passes.sparse import infer_formats, order_loops, parallelize
    from treadle.passes.sparse import tile as tile_pass
    from treadle.passes.sparse import unroll as unroll_pass
    from treadle.pipeline import run_pipeline
    from treadle.tensors import Tensor, tensor

    inputs = {n: t if isinstance(t, Tensor) else tensor(t) for n, t in tensors.items()}
    module = build_program(expr, inputs, None if format == "infer" else format)
    if format == "infer":
        run_pipeline(module, "sparse-infer-formats")
    op = _assign(module)
    statement = op.statement()

    decls: dict[str, dict] = {}
    if order:
        decls.update(order_loops.tunable_options(op))
    if tile:
        decls.update(tile_pass.tunable_options(op))
    if unroll:
        decls.update(unroll_pass.tunable_options(op))
    if parallel:
        decls.update(parallelize.tunable_options(op))
    format_decls = infer_formats.tunable_options(op) if formats is not False else {}
    if isinstance(formats, Mapping):
        for name, decl in format_decls.items():
            wanted = formats.get(decl["applies_to"]["operand"])
            if wanted is not None:
                decl["values"] = [decl["parameter_default"], *(f for f in wanted if f != decl["parameter_default"])]
    converted: dict = {}
    encodings: dict = {}
    for name, decl in format_decls.items():
        operand = decl["applies_to"]["operand"]
        ok = [v for v in decl["values"] if _format_lowers(expr, inputs, format, operand, v, converted, encodings)]
        if decl["parameter_default"] not in ok:
            ok.insert(0, decl["parameter_default"])
        if len(ok) >= 2:
            decl["values"] = ok
            decls[name] = decl

    constraints = _constraints(expr, inputs, format, op, decls, converted, encodings)
    if parallel and "omp" in decls and constraints.pop("no parallel loop", False):
        decls.pop("omp"), decls.pop("chunk")
        constraints = _constraints(expr, inputs, format, op, decls, converted, encodings)
        constraints.pop("no parallel loop", None)

    params = {n: {k: v for k, v in d.items() if k != "applies_to"} for n, d in decls.items()}
    space = Space.from_json({"parameters": params, "constraints": list(constraints.values())})
    ks = KernelSpace(expr, inputs, format, space, None, decls, statement, repeats, warmup, max_seconds, rtol,
                     None if reference is None else _dense(reference), converted, encodings)
    ks.default = _default_config(ks, op)
    return ks


def _dense(value: Any):
    """A reference as a dense array, or a scipy CSR matrix when it is sparse."""
    import scipy.sparse as sp

    if sp.issparse(value):
        return sp.csr_matrix(value)
    if hasattr(value, "to_numpy"):
        if getattr(value, "encoding", None) is not None and len(value.shape) == 2:
            return sp.csr_matrix(value.to_scipy())
        return np.asarray(value.to_numpy())
    return np.asarray(value)


def _assign(module):
    from treadle.dialects.sparse import AssignOp

    ops = [o for o in module.walk() if isinstance(o, AssignOp)]
    if len(ops) != 1:
        raise Error(f"tune_kernel tunes one statement; the expression has {len(ops)}")
    return ops[0]


def _encoding(fmt: Any, rank: int, cache: dict):
    from treadle.tensors import resolve_encoding

    key = (str(fmt), rank)
    if key not in cache:
        cache[key] = resolve_encoding(fmt, rank) if fmt != "dense" else None
    return cache[key]


def _operands(tensors: dict, formats: dict, converted: dict, encodings: dict) -> dict:
    from treadle.tensors import tensor

    out = {}
    for name, t in tensors.items():
        fmt = formats.get(name)
        if fmt is None:
            out[name] = t
            continue
        enc = _encoding(fmt, t.ndim, encodings)
        if enc == t.encoding:
            out[name] = t
            continue
        key = (name, str(fmt))
        if key not in converted:
            converted[key] = tensor(t, enc if enc is not None else "dense")
        out[name] = converted[key]
    return out


def _statement_for(expr, inputs, output_format, formats, converted, encodings):
    """The statement built with some operands in other formats (and its output inferred)."""
    from treadle.api import build_program
    from treadle.pipeline import run_pipeline

    operands = _operands(inputs, formats, converted, encodings)
    module = build_program(expr, operands, None if output_format == "infer" else output_format)
    if output_format == "infer":
        run_pipeline(module, "sparse-infer-formats")
    return module, _assign(module)


def _format_lowers(expr, inputs, output_format, operand, fmt, converted, encodings) -> bool:
    """Whether the loop generator handles the statement with `operand` stored as `fmt` (with the
    order sparse-order-loops picks for it): the formats the compiler handles."""
    from treadle.dialects.sparse import ScheduleAttr
    from treadle.passes.sparse.lowering import NotSupportedError, StatementLowering
    from treadle.passes.sparse.order import choose_order

    try:
        _, op = _statement_for(expr, inputs, output_format, {operand: fmt}, converted, encodings)
        choice = choose_order(op)
        if not choice.concordant:
            return False
        op.schedule = ScheduleAttr(choice.order)
        StatementLowering(op, "kernel").generate()
        return True
    except (NotSupportedError, Error, ValueError):
        return False


def _format_params(decls: dict) -> list[tuple[str, str, list]]:
    return [(n, d["applies_to"]["operand"], d["values"]) for n, d in decls.items() if "operand" in d.get("applies_to", {})]


def _constraints(expr, inputs, output_format, op, decls, converted, encodings) -> dict[str, Any]:
    """Known constraints from the compiler's analyses: concordant orders, race-free OpenMP."""
    from treadle.dialects.sparse import ScheduleAttr, encoding_of
    from treadle.passes.sparse.order import level_index_order
    from treadle.passes.sparse.parallelize import race_free_outer

    out: dict[str, Any] = {}
    fparams = _format_params(decls)
    by_operand = {operand: (name, values) for name, operand, values in fparams}
    if "order" in decls:
        for k, access in enumerate(op.expr.accesses()):
            tname = access.tensor.data
            value = op.operand_named(tname)
            rank = len(value.type.get_shape())
            if tname in by_operand:
                pname, values = by_operand[tname]
                choices = [(v, _encoding(v, rank, encodings)) for v in values]
            elif encoding_of(value.type) is not None:
                pname, choices = None, [(None, encoding_of(value.type))]
            else:
                continue
            chains: dict[tuple, list] = {}
            for v, enc in choices:
                chain = tuple(level_index_order(access, enc)) if enc is not None else ()
                chains.setdefault(chain, []).append(v)
            for chain, values in chains.items():
                if len(chain) < 2:
                    continue
                rule = " and ".join(f"order.index({a!r}) < order.index({b!r})" for a, b in zip(chain, chain[1:]))
                if pname is not None and len(values) < len(choices):
                    rule = f"{pname} not in {values!r} or ({rule})"
                out[f"concordant {access.notation()} {chain}"] = rule
    if "omp" in decls:
        indices = list(decls["order"]["values"]) if "order" in decls else list(op.schedule.loop_order if op.schedule else ())
        if not indices:
            from treadle.passes.sparse.order import choose_order

            indices = list(choose_order(op).order)
        combos = list(itertools.product(*[values for _, _, values in fparams])) if fparams else [()]
        firsts = indices if "order" in decls else indices[:1]
        allowed = []
        for combo in combos:
            formats = {operand: v for (_, operand, _), v in zip(fparams, combo)}
            _, probe = _statement_for(expr, inputs, output_format, formats, converted, encodings)
            for first in firsts:
                probe.schedule = ScheduleAttr((first, *[i for i in indices if i != first]))
                index, _ = race_free_outer(probe)
                if index:
                    allowed.append((first, *combo))
        total = len(combos) * len(firsts)
        if not allowed:
            out["no parallel loop"] = True
        elif len(allowed) < total:
            if not fparams:
                lhs = "order[0]"
                items = [a[0] for a in allowed]
            else:
                lhs = "(" + ", ".join(["order[0]" if "order" in decls else repr(firsts[0]),
                                       *[n for n, _, _ in fparams]]) + ")"
                items = allowed
            out["race-free"] = f"omp == 'off' or {lhs} in {items!r}"
        default_chunk = decls["chunk"]["parameter_default"]
        out["chunk unused"] = f"omp != 'off' or chunk == {default_chunk!r}"
    return out


def _default_config(ks: KernelSpace, op) -> Config | None:
    """What the compiler picks by itself: DEFAULT_PIPELINE's schedule, formats as given."""
    from treadle.passes.sparse.parallelize import race_free_outer
    from treadle.pipeline import run_pipeline

    config: Config = {}
    for name, decl in ks.declarations.items():
        config[name] = decl["parameter_default"]
    module, _ = _statement_for(ks.expr, ks.tensors, ks.output_format, {}, ks._converted, ks._encodings)
    run_pipeline(module, DEFAULT_PIPELINE)
    chosen = _assign(module)
    if "order" in config and chosen.schedule is not None and chosen.schedule.loop_order:
        config["order"] = tuple(chosen.schedule.loop_order)
    if "omp" in config:
        index, _ = race_free_outer(chosen)
        if not index:
            config["omp"] = "off"
            config["chunk"] = ks.declarations["chunk"]["parameter_default"]
    try:
        config = ks.space.validate(config)
    except Exception:
        return None
    return config if ks.space.is_feasible(config) else None


# ---------------------------------------------------------------------------------------------
# Tuning
# ---------------------------------------------------------------------------------------------


@dataclass
class KernelTuneResult:
    """What `tune_kernel` found. Times are seconds per kernel call (median of timed calls)."""

    best_config: Config | None
    best_seconds: float | None
    default_config: Config | None
    default_seconds: float | None
    best_schedule: str
    best_pipeline: str
    best_formats: dict[str, Any]
    observations: list[Observation]
    space: KernelSpace
    seed: int
    confirmed: dict[str, float] = field(default_factory=dict)
    log: Path | None = None
    plot: Path | None = None

    @property
    def speedup(self) -> float | None:
        """Default time / best time, from the back-to-back re-measurement when there is one."""
        best = self.confirmed.get("best", self.best_seconds)
        default = self.confirmed.get("default", self.default_seconds)
        if best is None or default is None or best <= 0:
            return None
        return default / best

    def summary(self) -> str:
        def ms(v):
            return "-" if v is None else f"{1e3 * v:.3f} ms"

        lines = [f"{self.space.statement}  (seed {self.seed}, {len(self.observations)} evaluations, "
                 f"{sum(not o.feasible for o in self.observations)} infeasible, "
                 f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')})",
                 f"  default {self.default_config}: {ms(self.confirmed.get('default', self.default_seconds))}",
                 f"  best    {self.best_config}: {ms(self.confirmed.get('best', self.best_seconds))}",
                 f"  best schedule {self.best_schedule}; formats {self.best_formats}; pipeline {self.best_pipeline}"]
        if self.speedup is not None:
            lines.append(f"  speedup over the default schedule: {self.speedup:.2f}x")
        return "\n".join(lines)


def tune_kernel(expr: str, tensors: Mapping[str, Any], budget: int = 40, *, seed: int = 0,
                format: str | None = None, formats: bool | Mapping[str, Sequence[str]] = True,
                tile: bool = True, parallel: bool = True, order: bool = True, unroll: bool = True,
                repeats: int = 7,
                warmup: int = 1, max_seconds: float = 2.0, rtol: float | None = None,
                reference: Any = None, confirm: int = 3, log: str | Path | None = None,
                plot: str | Path | None = None, progress: bool = True,
                space: KernelSpace | None = None, **tuner_options: Any) -> KernelTuneResult:
    """Tune the loop order, tile sizes, unroll factor, OpenMP schedule/chunk and operand formats
    of the single statement `expr` on `tensors` with `budget` compiled, checked and timed runs.

    ```python
    A = treadle.tensor(scipy_csr_matrix)
    r = treadle.tuning.tune_kernel("C(i,k) = A(i,j) * B(j,k)", {"A": A, "B": B}, budget=30, seed=0)
    print(r.summary())     # best config, its #sparse.schedule, time vs the default schedule
    ```

    Each evaluation compiles the configuration with gcc (cached on disk), checks its first call
    against the reference (a compile error or a wrong answer is INFEASIBLE, the reason logged),
    then times the median of `repeats` calls after `warmup`. Evaluations run one at a time in
    this process, so timings do not compete with each other. The default schedule (what the
    compiler picks alone) is evaluated first; with `confirm` > 0, the best and the default are
    re-timed back to back `confirm` times at the end and `speedup` uses those medians. Other
    keywords (`log`, `plot`, `n_initial`, ...) go to `treadle.tuning.tune` / `Tuner`.
    """
    ks = space if space is not None else kernel_space(
        expr, tensors, format=format, formats=formats, tile=tile, parallel=parallel, order=order,
        unroll=unroll, repeats=repeats, warmup=warmup, max_seconds=max_seconds, rtol=rtol, reference=reference)
    if progress:
        print(f"# tune_kernel: {ks.statement}; seed {seed}; budget {budget}; {len(ks.space.parameters)} "
              f"parameters {ks.space.names}; OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")
    result: TuneResult = tune(ks.measure, ks.space, budget, seed=seed, executor="serial", log=log,
                              plot=plot, progress=progress, **tuner_options)
    default_seconds = None
    if ks.default is not None:
        key = ks.space.key(ks.default)
        for o in result.observations:
            if ks.space.key(o.config) == key:
                default_seconds = o.value
                break
        if default_seconds is None:
            try:
                default_seconds = ks.measure(ks.default)
            except Exception:  # the compiler's own default fails: report it as missing
                default_seconds = None
    best = result.best_config
    confirmed: dict[str, float] = {}
    if best is not None and confirm > 0:
        kernels = {"best": ks.compile(best)}
        if ks.default is not None and default_seconds is not None:
            kernels["default"] = ks.compile(ks.default)
        samples: dict[str, list[float]] = {k: [] for k in kernels}
        for _ in range(confirm):
            for k, (kernel, operands) in kernels.items():
                samples[k].append(time_call(lambda: kernel(operands), ks.repeats, 1, ks.max_seconds))
        confirmed = {k: float(np.median(v)) for k, v in samples.items()}
    out = KernelTuneResult(
        best, result.best_value, ks.default, default_seconds,
        ks.schedule(best) if best is not None else "",
        ks.pipeline(best) if best is not None else "",
        ks.formats(best) if best is not None else {},
        result.observations, ks, seed, confirmed, result.log, result.plot)
    if progress:
        print(out.summary())
    return out


def all_configurations(space: Space, limit: int = 1_000_000) -> list[Config] | None:
    """Every feasible configuration of a small discrete space (None when it has more than
    `limit` candidate points or a continuous parameter)."""
    domains = [p.domain() for p in space.parameters]
    if any(d is None for d in domains) or math.prod(len(d) for d in domains) > limit:
        return None
    out = []
    for values in itertools.product(*domains):
        config = dict(zip(space.names, values))
        if space.is_feasible(config):
            out.append(config)
    return out
