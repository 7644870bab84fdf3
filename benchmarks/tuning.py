"""Benchmark of treadle.tuning against random search, skopt gp_minimize, Optuna TPE and Optuna GP.

Tasks: (a) the CATBench tables (TACO SpMM/SpMV, RISE MM/Harris) replayed in their full declared
spaces with CATBench's known constraints (benchmarks/spaces/*.json; unlisted configurations cost
their nearest row, see benchmarks/tuning_tasks/catbench.py), skipped when the data directory is
absent; (c) two synthetic mixed/permutation tasks with known optima. Task (b), Treadle's own
SpMM/SDDMM/SpMV schedules, waits for the Scorch compiler and is not included yet.

Metric (BaCO's): median over seeds of best-found / known optimum after 20, 40 and 60 evaluations
(prefixes of one 60-evaluation run per seed: every method's initial design has a fixed size,
so a prefix is the run a smaller budget would make), and evaluations to come within 10% of the
optimum (median over seeds; random search is run further to measure it). Also measures the
tuner's overhead per proposal as the number of observations grows.

    python -m benchmarks.tuning --json tuning.json            # full run (~25 min on 2 cores)
    python -m benchmarks.tuning --quick                       # smoke run, well under a minute
"""

import argparse
import json
import multiprocessing as mp
import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from benchmarks.tuning_tasks import catbench, methods, synthetic

DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "catbench"
RANDOM_LONG = 1000  # evaluations random search gets to measure its evaluations-to-10%


def _tasks(data_dir: Path, quick: bool):
    tasks = []
    if data_dir.is_dir():
        tasks += catbench.load(data_dir)
    else:
        print(f"# CATBench data directory {data_dir} not found: skipping task (a)")
    tasks += synthetic.load()
    if quick:
        tasks = [t for t in tasks if t.name in ("catbench-spmm_2630", "synthetic-mixed")]
    return tasks


_TASKS: dict = {}


def _init(data_dir: str, quick: bool) -> None:
    import warnings

    warnings.filterwarnings("ignore")
    for t in _tasks(Path(data_dir), quick):
        _TASKS[t.name] = t


def _job(args):
    task_name, method, budget, seed = args
    t0 = time.perf_counter()
    values = methods.run(method, _TASKS[task_name], budget, seed)
    return task_name, method, seed, values, time.perf_counter() - t0


def best_ratio(values, optimum: float, n: int) -> float:
    feasible = [v for v in values[:n] if v is not None]
    return min(feasible) / optimum if feasible else float("inf")


def evals_to(values, optimum: float, tol: float = 0.10) -> int | None:
    best = float("inf")
    for i, v in enumerate(values):
        if v is not None:
            best = min(best, v)
        if best <= optimum * (1 + tol):
            return i + 1
    return None


def _median_evals(counts: list[int | None], cap: int) -> tuple[float, str]:
    """Median with unreached runs counted as cap+1; shown as '>cap' when the median is censored."""
    arr = np.array([c if c is not None else cap + 1 for c in counts], float)
    med = float(np.median(arr))
    return med, (f">{cap}" if med > cap else f"{med:g}")


def overhead(sizes=(100, 200, 300, 500), repeats: int = 3, seed: int = 0) -> list[dict]:
    """Seconds per proposal of the tuner with n observations on the synthetic loop-nest task."""
    from treadle.tuning import ConstrainedSampler, Tuner

    task = synthetic.load()[0]
    sampler = ConstrainedSampler(task.space)
    rng = np.random.default_rng(seed)
    configs = sampler.sample_distinct(max(sizes), rng)
    rows = []
    for n in sizes:
        tuner = Tuner(task.space, seed=seed)
        for c in configs[:n]:
            tuner.tell(c, task.objective(c))
        tuner.n_asked = n  # past the initial design: time real Bayesian proposals
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            tuner.ask(1)
            times.append(time.perf_counter() - t0)
            tuner.pending.clear()
        rows.append({"observations": n, "seconds_per_proposal": float(np.median(times))})
        print(f"overhead | {n} observations | {np.median(times):.3f} s/proposal", flush=True)
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="CATBench CSV directory (default %(default)s)")
    ap.add_argument("--seeds", type=int, default=10, help="seeds per task and method (default 10)")
    ap.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    ap.add_argument("--budgets", default="20,40,60", help="comma-separated budgets (default 20,40,60)")
    ap.add_argument("--methods", default=",".join(methods.METHODS), help="comma-separated methods")
    ap.add_argument("--workers", type=int, default=2, help="parallel processes (default 2)")
    ap.add_argument("--quick", action="store_true", help="2 tasks, 2 seeds, budgets 10,20; for CI")
    ap.add_argument("--no-overhead", action="store_true", help="skip the overhead measurement")
    ap.add_argument("--json", type=Path, help="write all rows as JSON here")
    ap.add_argument("--jobs-log", type=Path, help="append each finished run here as a JSON line; runs "
                    "already in it are not repeated (so an interrupted benchmark resumes)")
    ap.add_argument("--plot-dir", type=Path, help="write one convergence PNG per task here")
    args = ap.parse_args(argv)
    budgets = [10, 20] if args.quick else [int(b) for b in args.budgets.split(",")]
    n_seeds = 2 if args.quick else args.seeds
    seeds = list(range(args.seed, args.seed + n_seeds))
    wanted = args.methods.split(",")
    unknown = sorted(set(wanted) - set(methods.METHODS))
    if unknown:
        ap.error(f"unknown methods {unknown}; choose from {methods.METHODS}")
    print(f"# seeds {seeds}; budgets {budgets}; methods {wanted}; workers {args.workers} "
          f"(single-threaded evaluations)")
    tasks = _tasks(args.data, args.quick)
    budget = max(budgets)
    jobs = [(t.name, m, budget, s) for t in tasks for m in wanted for s in seeds]
    if "random" in wanted and not args.quick:
        jobs += [(t.name, "random-long", RANDOM_LONG, s) for t in tasks for s in seeds]
    jobs.sort(key=lambda j: (j[1] == "random-long", j[3]))  # seed by seed: a cut-off run stays balanced
    results: dict = {}
    seconds: dict = {}
    if args.jobs_log and args.jobs_log.exists():
        for line in args.jobs_log.read_text().splitlines():
            e = json.loads(line)
            results[(e["task"], e["method"], e["seed"])] = e["values"]
            seconds.setdefault((e["task"], e["method"]), []).append(e["seconds"])
    jobs = [j for j in jobs if (j[0], j[1], j[3]) not in results]
    with mp.get_context("fork").Pool(args.workers, _init, (str(args.data), args.quick)) as pool:
        for name, m, s, values, dt in tqdm(pool.imap_unordered(_job_any, jobs), total=len(jobs),
                                           desc="benchmark", file=sys.stderr):
            results[(name, m, s)] = values
            seconds.setdefault((name, m), []).append(dt)
            if args.jobs_log:
                with args.jobs_log.open("a") as f:
                    f.write(json.dumps({"task": name, "method": m, "seed": s, "values": values, "seconds": dt}) + "\n")
    rows = _report(tasks, wanted, seeds, budgets, results, seconds, args.quick)
    out = {"seeds": seeds, "budgets": budgets, "methods": wanted, "rows": rows,
           "task (b)": "not run: needs the Scorch compiler (Treadle's own SpMM/SDDMM/SpMV schedules)"}
    if not args.no_overhead:
        out["overhead"] = overhead(sizes=(50, 100) if args.quick else (100, 200, 300, 500))
    if args.plot_dir:
        from treadle.tuning import plot_convergence

        args.plot_dir.mkdir(parents=True, exist_ok=True)
        for t in tasks:
            plot_convergence({m: [results[(t.name, m, s)] for s in seeds] for m in wanted},
                             args.plot_dir / f"{t.name}.png", optimum=t.optimum, title=t.name, log_y=True)
        print(f"# plots in {args.plot_dir}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1) + "\n")
        print(f"# wrote {args.json}")
    return 0


def _job_any(args):
    task_name, method, budget, seed = args
    if method == "random-long":
        t0 = time.perf_counter()
        values = methods.run("random", _TASKS[task_name], budget, seed)
        return task_name, method, seed, values, time.perf_counter() - t0
    return _job(args)


def _report(tasks, wanted, seeds, budgets, results, seconds, quick) -> list[dict]:
    rows = []
    peers = [m for m in wanted if m != "ours"]
    print("case | ours | " + " | ".join(peers) + " | ratio (best peer / ours)")
    for t in tasks:
        for b in budgets:
            med = {m: float(np.median([best_ratio(results[(t.name, m, s)], t.optimum, b) for s in seeds]))
                   for m in wanted}
            best_peer = min((med[m] for m in peers), default=float("nan"))
            ratio = best_peer / med["ours"] if "ours" in med else float("nan")
            print(f"{t.name} @{b} | " + " | ".join(f"{med[m]:.3f}" for m in wanted) + f" | {ratio:.3f}")
            rows.append({"task": t.name, "budget": b, "median_best_over_optimum": med, "ratio": ratio})
        evals = {}
        for m in wanted:
            counts = [evals_to(results[(t.name, m, s)], t.optimum) for s in seeds]
            evals[m] = _median_evals(counts, max(budgets))
        if "random" in wanted and not quick:
            counts = [evals_to(results[(t.name, "random-long", s)], t.optimum) for s in seeds]
            evals["random"] = _median_evals(counts, RANDOM_LONG)
        print(f"{t.name} evals-to-10% | " + " | ".join(evals[m][1] for m in wanted))
        rows.append({"task": t.name, "evals_to_10pct": {m: evals[m][0] for m in wanted},
                     "evals_to_10pct_text": {m: evals[m][1] for m in wanted},
                     "seconds_per_run": {m: float(np.mean(seconds[(t.name, m)])) for m in wanted},
                     "optimum": t.optimum, "note": t.note})
    return rows


if __name__ == "__main__":
    sys.exit(main())
