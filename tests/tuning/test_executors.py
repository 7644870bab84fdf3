import pytest

from treadle.tuning import DaskExecutor, Space, TuningError, tune
from treadle.tuning.examples import LOOP_NEST_SPACE, crashing, loop_nest


def space() -> Space:
    return Space.from_json(LOOP_NEST_SPACE)


def test_process_pool_runs_evaluations_in_parallel():
    result = tune(loop_nest, space(), 8, seed=0, parallel=2, progress=False)
    assert len(result.values) == 8 and result.best_value >= 1.0


def test_crashing_objective_gives_infeasible_results():
    result = tune(crashing, space(), 12, seed=2, executor="serial", progress=False)
    failed = [o for o in result.observations if not o.feasible]
    assert all(o.config["tile"] >= 64 or o.config["unroll"] == 7 for o in failed)
    assert any("out of registers" in o.info for o in failed) or all(o.config["tile"] < 64 for o in result.observations)


def test_unpicklable_objective_is_a_clear_error():
    with pytest.raises(TuningError, match="module level"):
        tune(lambda c: 1.0, space(), 3, progress=False)


def test_dask_local_cluster():
    pytest.importorskip("distributed")
    with DaskExecutor(workers=2) as executor:
        result = tune(loop_nest, space(), 8, seed=1, executor=executor, parallel=2, progress=False)
    assert len(result.observations) == 8
    assert len({space().key(o.config) for o in result.observations}) == 8
    assert all(space().is_feasible(o.config) for o in result.observations)
