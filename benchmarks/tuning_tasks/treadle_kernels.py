"""Task (b): Treadle's own SpMM, SDDMM and SpMV schedule spaces, measured on this machine.

`measure(out_dir)` (run by `python -m treadle.benchmarks.tuning --measure-treadle DIR`) builds
each kernel's space with `treadle.tuning.kernel_space` on one fixed generated matrix, and times
every feasible configuration (or a seeded sample of `limit` when there are more) with the real
compiled kernels: the configurations are compiled first by `workers` processes (filling the
on-disk kernel caches), then timed one at a time in fresh processes (`chunk` configurations
each), in a seeded random order so that load from other programs on the machine spreads over the
space instead of biasing one region. Each configuration's first call is checked against scipy;
a compile error or wrong answer is stored with time 0 (infeasible). Then `refine` re-times the
best 5% (and the default; every row of a table of at most 500) 5 times each and keeps the median
of those 5. It writes `treadle_<kernel>.csv` (one row per
configuration: its parameters, `compute_time` in ms, `status`, `info`) and
`treadle_<kernel>.json` (the space, the matrix, the default configuration, the machine, the
seed) into `out_dir`.

`load(data_dir)` replays those tables like the CATBench ones (benchmarks/tuning_tasks/catbench.py):
a configuration costs its measured time; the known optimum is the best measured row. The replay
needs neither the compiler nor gcc.
"""

from __future__ import annotations

import csv
import json
import multiprocessing as mp
import os
import platform
import time
from pathlib import Path

import numpy as np

from treadle.tuning import Space

from treadle.benchmarks.tuning_tasks.catbench import TableReplay, _parse
from treadle.benchmarks.tuning_tasks.task import Task

DATA = Path(__file__).resolve().parent.parent / "data"
KERNELS = ("spmm", "sddmm", "spmv")
SEED = 0
SMALL_TABLE = 500  # a table this small is re-timed entirely

# One fixed generated matrix per kernel (benchmarks/matrices.py), sized so the default schedule
# runs in about a millisecond here; R-MAT's skewed rows make the OpenMP schedule matter.
SETUP = {
    "spmm": {"expr": "C(i,k) = A(i,j) * B(j,k)", "matrix": dict(scale=13, edge_factor=16, seed=31),
             "dense": 64, "format": None},
    "sddmm": {"expr": "C(i,j) = A(i,j) * D(i,k) * ET(j,k)", "matrix": dict(scale=13, edge_factor=16, seed=32),
              "dense": 32, "format": "infer"},
    "spmv": {"expr": "y(i) = A(i,j) * x(j)", "matrix": dict(scale=16, edge_factor=8, seed=33),
             "dense": 1, "format": None},
}


def problem(kernel: str):
    """(expr, tensors, output format, scipy reference, description) of one benchmark kernel."""
    from treadle.benchmarks.matrices import rmat

    s = SETUP[kernel]
    a = rmat(**s["matrix"])  # float32 CSR
    rng = np.random.default_rng(SEED)
    n, k = a.shape[0], s["dense"]
    if kernel == "spmm":
        b = rng.standard_normal((a.shape[1], k)).astype(np.float32)
        tensors, ref = {"A": a, "B": b}, a @ b
    elif kernel == "sddmm":
        d = rng.standard_normal((n, k)).astype(np.float32)
        et = rng.standard_normal((a.shape[1], k)).astype(np.float32)
        ref = _sddmm_reference(a, d, et)
        tensors = {"A": a, "D": d, "ET": et}
    else:
        x = rng.standard_normal(a.shape[1]).astype(np.float32)
        tensors, ref = {"A": a, "x": x}, a @ x
    desc = (f"R-MAT scale {s['matrix']['scale']} edge factor {s['matrix']['edge_factor']} seed "
            f"{s['matrix']['seed']}: {a.shape[0]}x{a.shape[1]}, nnz {a.nnz}, float32, CSR"
            + (f"; dense operand width {k}" if kernel != "spmv" else ""))
    return s["expr"], tensors, s["format"], ref, desc


def _sddmm_reference(a, d, et):
    """A ∘ (D @ ETᵀ) evaluated only at A's nonzeros (float64 accumulation)."""
    import scipy.sparse as sp

    coo = a.tocoo()
    vals = np.einsum("nk,nk->n", d[coo.row].astype(np.float64), et[coo.col].astype(np.float64)) * coo.data
    return sp.csr_matrix((vals, (coo.row, coo.col)), shape=a.shape)


def kernel_space(kernel: str):
    from treadle.tuning import kernel_space as make

    expr, tensors, fmt, ref, _ = problem(kernel)
    # unroll=False: the tables in benchmarks/data were measured before sparse-unroll declared its
    # factor; re-measure (--measure-treadle) to include it.
    return make(expr, tensors, format=fmt, reference=ref, unroll=False, repeats=7, warmup=1, max_seconds=1.0)


def _points(space: Space, limit: int, seed: int) -> list[dict]:
    from treadle.kernel_tuning import all_configurations
    from treadle.tuning import ConstrainedSampler

    every = all_configurations(space)
    if every is not None and len(every) <= limit:
        points = every
    else:
        points = ConstrainedSampler(space).sample_distinct(limit, np.random.default_rng(seed))
    order = np.random.default_rng([seed, 1]).permutation(len(points))
    return [points[i] for i in order]


def _compile_chunk(args):
    kernel, configs = args
    import warnings

    warnings.filterwarnings("ignore")
    ks = kernel_space(kernel)
    failed = {}
    for k, c in configs:
        try:
            ks.compile(c)
        except Exception as err:  # recorded; timed (and failing again) in phase 2
            failed[k] = f"{type(err).__name__}: {err}"[:300]
    return failed


def _time_chunk(args):
    kernel, configs, repeat = args
    import warnings

    warnings.filterwarnings("ignore")
    ks = kernel_space(kernel)
    out = []
    for k, c in configs:
        t0 = time.time()
        try:
            seconds = ks.measure(c) if not repeat else _retime(ks, c)
            out.append((k, seconds, "ok", "", t0))
        except Exception as err:
            out.append((k, 0.0, "infeasible", f"{type(err).__name__}: {err}"[:300], t0))
    return out


def _retime(ks, config) -> float:
    from treadle.kernel_tuning import time_call

    kernel, operands = ks.compile(config)
    return time_call(lambda: kernel(operands), ks.repeats, ks.warmup, ks.max_seconds)


def measure(out_dir: Path, kernels=KERNELS, *, limit: int = 3000, workers: int = 2, chunk: int = 400,
            seed: int = SEED, refine_rounds: int = 5, refine_fraction: float = 0.05) -> list[Path]:
    """Measure each kernel's space into `out_dir` (see the module docstring); returns the CSVs."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ctx = mp.get_context("spawn")
    written = []
    print(f"# measuring Treadle kernel spaces: seed {seed}; OMP_NUM_THREADS="
          f"{os.environ.get('OMP_NUM_THREADS', 'unset')}; OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')}",
          flush=True)
    for kernel in kernels:
        start = time.time()
        expr, _, fmt, _, desc = problem(kernel)
        ks = kernel_space(kernel)
        space = ks.space
        points = _points(space, limit, seed)
        keyed = list(enumerate(points))
        print(f"# {kernel}: {expr}; {desc}; {len(points)} configurations; parameters {space.names}", flush=True)
        pieces = [keyed[i:i + 50] for i in range(0, len(keyed), 50)]
        failed: dict = {}
        with ctx.Pool(workers) as pool:
            for f in pool.imap_unordered(_compile_chunk, [(kernel, p) for p in pieces]):
                failed.update(f)
        compiled = time.time()
        print(f"#   compiled in {compiled - start:.0f} s ({len(failed)} failed)", flush=True)
        rows: dict[int, tuple] = {}
        with ctx.Pool(1, maxtasksperchild=1) as pool:
            for res in pool.imap(_time_chunk, [(kernel, keyed[i:i + chunk], False) for i in range(0, len(keyed), chunk)]):
                for k, seconds, status, info, t0 in res:
                    rows[k] = (seconds, status, info, t0)
        timed = time.time()
        csv_path = out_dir / f"treadle_{kernel}.csv"
        with csv_path.open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow([*space.names, "compute_time", "status", "info"])
            for k, config in enumerate(points):
                seconds, status, info, _ = rows[k]
                w.writerow([_cell(config[n]) for n in space.names] + [f"{1e3 * seconds:.6g}", status, info])
        default_row = next((rows[k] for k, c in enumerate(points) if space.key(c) == space.key(ks.default)), None)
        meta = {
            "kernel": kernel, "expr": expr, "output_format": fmt, "input": desc, "seed": seed,
            "space": space.to_json(), "default": space.config_to_json(ks.default) if ks.default else None,
            "default_ms": None if default_row is None else 1e3 * default_row[0],
            "configurations": len(points), "feasible_space_size": len(points) if len(points) < limit else None,
            "infeasible": sum(1 for v in rows.values() if v[1] != "ok"),
            "best_ms": 1e3 * min(v[0] for v in rows.values() if v[1] == "ok"),
            "timing": f"median of {ks.repeats} calls after {ks.warmup} warm-up call (fewer when over "
                      f"{ks.max_seconds} s, at least 3)",
            "threads": os.environ.get("OMP_NUM_THREADS", f"unset ({os.cpu_count()} cores)"),
            "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "unset"),
            "machine": f"{platform.machine()} {platform.processor() or ''} {os.cpu_count()} cores, shared".strip(),
            "measured": time.strftime("%Y-%m-%d %H:%M:%S"),
            "seconds": {"compile": compiled - start, "time": timed - compiled},
        }
        (out_dir / f"treadle_{kernel}.json").write_text(json.dumps(meta, indent=1) + "\n")
        print(f"#   timed in {timed - compiled:.0f} s; best {meta['best_ms']:.4f} ms, default "
              f"{meta['default_ms']} ms; wrote {csv_path}", flush=True)
        refine(out_dir, kernel, rounds=refine_rounds, seed=seed, fraction=refine_fraction)
        written.append(csv_path)
    return written


def refine(out_dir: Path, kernel: str, *, rounds: int = 5, fraction: float = 0.05, seed: int = SEED) -> None:
    """Re-time the best `fraction` of a measured table (all of a table of at most SMALL_TABLE rows)
    and the default configuration `rounds` times each, in fresh processes and a shuffled order each
    round, and keep the median of those timings; repeat while rows not yet re-timed are among the
    best `fraction` (one re-timed slower drops out, one timed luckier in the first pass moves in),
    at most 4 passes. Without this, one lucky timing would become the table's optimum and every
    method's target."""
    out_dir = Path(out_dir)
    csv_path = out_dir / f"treadle_{kernel}.csv"
    meta_path = out_dir / f"treadle_{kernel}.json"
    meta = json.loads(meta_path.read_text())
    space = Space.from_json(meta["space"])
    with csv_path.open() as f:
        reader = csv.reader(f)
        header = next(reader)
        lines = list(reader)
    t_col, i_col = header.index("compute_time"), header.index("info")
    if len(lines) <= SMALL_TABLE:
        fraction = 1.0
    parsed = [space.validate({n: _parse(space.by_name[n], line[header.index(n)]) for n in space.names})
              for line in lines]
    default = space.validate(meta["default"]) if meta.get("default") else None
    d = None
    if default is not None:
        d = next((k for k, c in enumerate(parsed) if space.key(c) == space.key(default)), None)
    start = time.time()
    ctx = mp.get_context("spawn")
    done = {k for k, line in enumerate(lines) if line[i_col].startswith("re-timed")}
    for passes in range(1, 5):
        times = np.array([float(line[t_col]) for line in lines])
        ok = np.flatnonzero(times > 0)
        top = [int(k) for k in ok[np.argsort(times[ok], kind="stable")][: max(1, int(round(fraction * len(ok))))]]
        if d is not None and d not in top:
            top.append(d)
        todo = [k for k in top if k not in done]
        if not todo:
            break
        samples: dict[int, list[float]] = {k: [] for k in todo}
        with ctx.Pool(1, maxtasksperchild=1) as pool:
            for r in range(rounds):
                order = np.random.default_rng([seed, 2, passes, r]).permutation(len(todo))
                batch = [(todo[i], parsed[todo[i]]) for i in order]
                for res in pool.imap(_time_chunk, [(kernel, batch, True)]):
                    for k, seconds, status, _, _ in res:
                        if status == "ok":
                            samples[k].append(seconds)
        for k, ts in samples.items():
            if ts:
                lines[k][t_col] = f"{1e3 * float(np.median(ts)):.6g}"
                lines[k][i_col] = f"re-timed: median of {len(ts)} timings"
        done |= set(todo)
        print(f"#   {kernel}: pass {passes}: re-timed {len(todo)} rows x {rounds}", flush=True)
    with csv_path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(lines)
    new_times = np.array([float(line[t_col]) for line in lines])
    meta["best_ms"] = float(new_times[new_times > 0].min())
    if d is not None:
        meta["default_ms"] = float(new_times[d])
    meta["refined"] = (f"{len(done)} rows re-timed {rounds} times each in fresh processes, shuffled each round "
                       f"(seed {seed}), keeping the median, until the best {fraction:.0%} and the default "
                       "were all re-timed")
    meta.setdefault("seconds", {})["refine"] = meta.get("seconds", {}).get("refine", 0.0) + time.time() - start
    meta_path.write_text(json.dumps(meta, indent=1) + "\n")
    print(f"# {kernel}: {len(done)} rows re-timed in all; best {meta['best_ms']:.4f} ms, default "
          f"{meta.get('default_ms')} ms ({time.time() - start:.0f} s)", flush=True)


def _cell(value) -> str:
    return repr(tuple(value)) if isinstance(value, tuple) else str(value)


def load(data_dir: Path = DATA) -> list[Task]:
    """Replay tasks of the measured tables in `data_dir` (none when they are absent)."""
    tasks = []
    for kernel in KERNELS:
        csv_path = data_dir / f"treadle_{kernel}.csv"
        meta_path = data_dir / f"treadle_{kernel}.json"
        if not (csv_path.exists() and meta_path.exists()):
            continue
        meta = json.loads(meta_path.read_text())
        space = Space.from_json(meta["space"])
        replay = TableReplay(space, csv_path)
        ok = replay.times[replay.times > 0]
        tasks.append(Task(f"treadle-{kernel}", space, replay, float(ok.min()), float(ok.max()),
                          f"{len(replay.times)} measured configurations, {int((replay.times <= 0).sum())} "
                          f"failed; {meta['input']}"))
    return tasks
