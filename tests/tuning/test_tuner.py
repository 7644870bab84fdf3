import json
import pickle

import numpy as np
import pytest

from treadle.tuning import INFEASIBLE, Space, Tuner, TuningError, tune
from treadle.tuning.examples import LOOP_NEST_SPACE, loop_nest

SEED = 5
FAST = {"n_candidates": 200, "n_starts": 5}  # smaller acquisition search: quicker tests


def space() -> Space:
    return Space.from_json(LOOP_NEST_SPACE)


def drive(tuner: Tuner, until: int) -> None:
    while len(tuner.observations) < until:
        for c in tuner.ask():
            tuner.tell(c, loop_nest(c))


def test_killed_run_resumes_from_its_log_to_the_same_state(tmp_path):
    print(f"seed {SEED}")
    whole = Tuner(space(), seed=SEED, log=tmp_path / "whole.jsonl", **FAST)
    drive(whole, 13)
    whole.close()

    log = tmp_path / "killed.jsonl"
    killed = Tuner(space(), seed=SEED, log=log, **FAST)
    drive(killed, 9)
    killed.ask()  # asked, never told: the process dies during the evaluation ...
    killed.close()
    with log.open("a") as f:
        f.write('{"event":"tell","config":{"ord')  # ... or while writing a line
    resumed = Tuner(space(), seed=SEED, log=log, **FAST)
    assert len(resumed.observations) == 9 and len(resumed.pending) == 1 and resumed.n_asked == 10
    for c in list(resumed.pending.values()):  # re-run what was in flight
        resumed.tell(c, loop_nest(c))
    drive(resumed, 13)
    resumed.close()
    assert [(o.config, o.value) for o in resumed.observations] == [(o.config, o.value) for o in whole.observations]
    assert resumed.best == whole.best
    # the log is well-formed again and replays to the same state once more
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    assert lines[0]["event"] == "header" and sum(e["event"] == "tell" for e in lines) == 13
    again = Tuner.from_log(log)
    assert [(o.config, o.value) for o in again.observations] == [(o.config, o.value) for o in whole.observations]
    assert again.ask() == Tuner(space(), seed=SEED, log=tmp_path / "whole.jsonl", **FAST).ask()


def test_tune_resumes_and_counts_logged_evaluations(tmp_path):
    log = tmp_path / "run.jsonl"
    first = tune(loop_nest, space(), 6, seed=SEED, executor="serial", log=log, progress=False, **FAST)
    calls = []

    def counting(c):
        calls.append(c)
        return loop_nest(c)

    second = tune(counting, space(), 14, seed=SEED, executor="serial", log=log, progress=False, **FAST)
    assert len(first.observations) == 6 and len(second.observations) == 14 and len(calls) == 8
    straight = tune(loop_nest, space(), 14, seed=SEED, executor="serial", progress=False, **FAST)
    assert second.values == straight.values


def test_log_of_another_run_is_refused(tmp_path):
    log = tmp_path / "run.jsonl"
    Tuner(space(), seed=1, log=log).close()
    with pytest.raises(TuningError, match="different seed"):
        Tuner(space(), seed=2, log=log)


def test_seeded_runs_are_reproducible_and_seeds_differ():
    a = tune(loop_nest, space(), 9, seed=1, executor="serial", progress=False, **FAST).values
    b = tune(loop_nest, space(), 9, seed=1, executor="serial", progress=False, **FAST).values
    c = tune(loop_nest, space(), 9, seed=2, executor="serial", progress=False, **FAST).values
    assert a == b and a != c


def test_ask_many_gives_distinct_feasible_points():
    tuner = Tuner(space(), seed=0, **FAST)
    drive(tuner, 8)
    batch = tuner.ask(4)
    keys = {tuner.space.key(c) for c in batch}
    assert len(keys) == 4 and all(tuner.space.is_feasible(c) for c in batch)
    assert not keys & {tuner.space.key(o.config) for o in tuner.observations}


def test_tuner_beats_its_initial_design():
    tuner = Tuner(space(), seed=0, **FAST)
    drive(tuner, 22)
    design_best = min(o.value for o in tuner.observations[: tuner.n_initial] if o.feasible)
    assert tuner.best[1] < design_best and tuner.best[1] < 1.3


def test_bad_results_and_empty_best_raise():
    tuner = Tuner(space(), seed=0)
    c = tuner.ask()[0]
    with pytest.raises(TuningError, match="no feasible result"):
        tuner.best
    for bad in ("fast", float("nan"), None, True):
        with pytest.raises(TuningError):
            tuner.tell(c, bad)
    with pytest.raises(TuningError, match="tell"):
        tuner.tell({"tile": 3}, 1.0)
    tuner.tell(c, INFEASIBLE)
    assert not tuner.observations[0].feasible


def test_infeasible_is_a_singleton_across_pickling():
    assert pickle.loads(pickle.dumps(INFEASIBLE)) is INFEASIBLE


def test_log_transform_is_used_for_positive_costs():
    from treadle.tuning.surrogate import Surrogate

    X = np.random.default_rng(0).random((10, 2))
    y = np.exp(np.arange(10.0))
    s = Surrogate(seed=0).fit(X, y)
    assert s.log and np.allclose(s.train_targets.std(), 1.0)
    assert not Surrogate(seed=0).fit(X, y - 100).log
    constant = Surrogate(seed=0).fit(X, np.ones(10))  # must not divide by a zero deviation
    assert np.all(np.isfinite(constant.predict(X)[0]))
