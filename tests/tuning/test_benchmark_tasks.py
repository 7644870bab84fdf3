"""The benchmark's known optima must be right, or its ratios mean nothing."""

from pathlib import Path

import numpy as np
import pytest

from treadle.benchmarks.tuning_tasks import catbench, synthetic
from treadle.tuning import INFEASIBLE, ConstrainedSampler

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "catbench"


def test_synthetic_optima_are_feasible_and_minimal():
    tasks = {t.name: t for t in synthetic.load()}
    loop = tasks["synthetic-loopnest"]
    assert synthetic.exhaustive_minimum_loop_nest() == loop.optimum
    for task in tasks.values():
        best = synthetic.optimum_config(task.name)
        assert task.space.is_feasible(best) and task.objective(best) == task.optimum
        rng = np.random.default_rng(0)
        values = [task.objective(c) for c in ConstrainedSampler(task.space).sample_distinct(2000, rng)]
        feasible = [v for v in values if v is not INFEASIBLE]
        assert min(feasible) >= task.optimum and len(feasible) < len(values)  # hidden failures exist


@pytest.mark.skipif(not DATA.is_dir(), reason="CATBench data not present")
def test_catbench_replay_returns_table_times():
    task = next(t for t in catbench.load(DATA) if t.name == "catbench-spmm_2630")
    replay = task.objective
    key, time = next(iter(replay.table.items()))
    config = dict(zip(task.space.names, key))
    assert replay(config) == time
    assert task.optimum == pytest.approx(32.1892935)  # the best row satisfying CATBench's constraints
    rng = np.random.default_rng(0)
    for c in ConstrainedSampler(task.space).sample_distinct(20, rng):
        assert replay(c) in set(replay.table.values())


def test_treadle_kernel_tables_replay_their_measurements():
    """Task (b): the committed tables replay their own rows, every feasible configuration of the
    space is in them, and their space is the one kernel_space builds today (else re-measure)."""
    import csv
    import json

    from treadle.benchmarks.tuning_tasks import treadle_kernels
    from treadle.kernel_tuning import all_configurations

    tasks = {t.name: t for t in treadle_kernels.load(treadle_kernels.DATA)}
    if not tasks:
        pytest.skip("no measured tables in benchmarks/data")
    for kernel in treadle_kernels.KERNELS:
        task = tasks[f"treadle-{kernel}"]
        meta = json.loads((treadle_kernels.DATA / f"treadle_{kernel}.json").read_text())
        with (treadle_kernels.DATA / f"treadle_{kernel}.csv").open() as f:
            rows = list(csv.DictReader(f))
        times = [float(r["compute_time"]) for r in rows]
        assert task.optimum == min(t for t in times if t > 0) == pytest.approx(meta["best_ms"])
        every = all_configurations(task.space)
        assert len(every) == len(rows) == len(task.objective.table)  # measured exhaustively
        for c in every[:50]:
            assert task.objective(c) in set(times) or task.objective(c) is INFEASIBLE
        default = task.space.validate(meta["default"])
        assert task.objective(default) == pytest.approx(meta["default_ms"])
        assert treadle_kernels.kernel_space(kernel).space.to_json() == meta["space"]


def test_a_run_stopped_at_a_threshold_is_a_prefix_of_the_full_run():
    from treadle.benchmarks.tuning_tasks import methods

    task = next(t for t in synthetic.load() if t.name == "synthetic-mixed")
    full = methods.run_ours(task, 14, seed=3)
    stop = sorted(v for v in full if v is not None)[2]  # the third-best value of the full run
    short = methods.run_ours(task, 14, seed=3, stop_at=stop)
    assert short == full[: len(short)] and short[-1] <= stop
    assert all(v is None or v > stop for v in short[:-1])


def test_evals_target_is_undecided_while_the_tuners_count_is_censored():
    from treadle.benchmarks.tuning import targets

    def row(task, ours, random, cap_ours=60):
        return {"task": task, "evals_to_10pct": {"ours": ours, "random": random},
                "evals_cap": {"ours": cap_ours, "random": 1000}}

    measured = [row("a", 10, 100), row("b", 20, 1001)]  # b: random censored, ratio an upper bound
    out = targets(measured, None, [20, 40, 60])
    assert out["evals ours/random mean"] == pytest.approx((0.1 + 20 / 1001) / 2)
    assert out["evals target met"] is True and out["evals censored (random)"] == ["b"]
    out = targets(measured + [row("c", 151, 300, cap_ours=150)], None, [20, 40, 60])
    assert out["evals target met"] is None and out["evals censored (ours)"] == ["c"]
