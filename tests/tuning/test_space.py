import json

import numpy as np
import pytest

from treadle.tuning import Categorical, Integer, Ordinal, Permutation, Real, Space, SpaceError
from treadle.tuning.sampling import ConstrainedSampler

SPACES = __import__("pathlib").Path(__file__).resolve().parents[2] / "benchmarks" / "spaces"


def example_space() -> Space:
    return Space([Permutation("order", ["i", "j", "k"]), Ordinal("tile", [8, 16, 32, 64]),
                  Categorical("sched", ["static", "dynamic"]), Integer("unroll", 1, 8),
                  Real("alpha", 1e-3, 1, log=True)],
                 constraints=["tile * unroll <= 256", "order.index('i') < order.index('k')"])


def test_json_round_trip(tmp_path):
    space = example_space()
    path = tmp_path / "space.json"
    space.save(path)
    again = Space.load(path)
    assert again.to_json() == space.to_json()
    rng = np.random.default_rng(0)
    for _ in range(200):
        c = {p.name: p.sample(rng) for p in space.parameters}
        assert again.is_feasible(c) == space.is_feasible(c)
        assert again.embed([c]).tolist() == space.embed([c]).tolist()


@pytest.mark.parametrize("name", ["spmm_2630", "spmv_2630", "mm_rtxtitan", "harris_rtxtitan"])
def test_shipped_catbench_spaces_load_and_round_trip(name):
    space = Space.load(SPACES / f"{name}.json")
    assert Space.from_json(json.loads(json.dumps(space.to_json()))).to_json() == space.to_json()
    assert space.default() is not None and space.is_feasible(space.default())


def test_catbench_spmm_feasible_count_matches_enumeration():
    # CATBench SpMM: 302,400 feasible of 5,745,600 configurations (12 of 120 permutations).
    sampler = ConstrainedSampler(Space.load(SPACES / "spmm_2630.json"))
    assert sampler.feasible_count() == 302_400


@pytest.mark.parametrize("data, message", [
    ({}, "parameters"),
    ({"parameters": {"x": {"parameter_type": "real"}}}, "values"),
    ({"parameters": {"x": {"parameter_type": "float", "values": [0, 1]}}}, "unknown parameter_type"),
    ({"parameters": {"x": {"parameter_type": "ordinal", "values": [4, 2]}}}, "sorted"),
    ({"parameters": {"x": {"parameter_type": "integer", "values": [1, 4], "colour": 1}}}, "unknown key"),
    ({"parameters": {"x": {"parameter_type": "real", "values": [0, 1], "transform": "log"}}}, "log scale"),
    ({"parameters": {"x": {"parameter_type": "integer", "values": [1, 4]}}, "constraints": ["y > 1"]}, "unknown parameter"),
])
def test_bad_space_files_raise_clear_errors(tmp_path, data, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(SpaceError, match=message):
        Space.load(path)


def test_invalid_json_reports_position(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"parameters": ')
    with pytest.raises(SpaceError, match=r"bad.json:1:\d+: error"):
        Space.load(path)


def test_validate_rejects_bad_configurations():
    space = example_space()
    good = {"order": ["j", "i", "k"], "tile": 16, "sched": "static", "unroll": 2, "alpha": 0.1}
    assert space.validate(good)["order"] == ("j", "i", "k")
    for bad in ({**good, "tile": 12}, {**good, "order": ["i", "i", "k"]}, {**good, "unroll": 9},
                {k: v for k, v in good.items() if k != "alpha"}, {**good, "extra": 1}):
        with pytest.raises(SpaceError):
            space.validate(bad)


def test_neighbours_are_feasible_and_skip_infeasible_steps():
    space = Space([Integer("x", 1, 64), Ordinal("v", [1, 2, 4, 8])], ["x % 4 == 0"])
    nbs = space.neighbours({"x": 8, "v": 2}, np.random.default_rng(0))
    assert {"x": 4, "v": 2} in nbs and {"x": 12, "v": 2} in nbs  # stepped over 5..7 and 9..11
    assert {"x": 8, "v": 1} in nbs and {"x": 8, "v": 4} in nbs
    assert all(space.is_feasible(n) for n in nbs)


def test_a_wide_integer_also_moves_far():
    """On 1..1024 a step of one changes nothing a table or a GP can see; the neighbourhood adds
    Gaussian steps (sd 0.03 of the range), still feasible and in range. A narrow range does not."""
    space = Space([Integer("x", 1, 1024), Integer("y", 1, 16)], ["x * y <= 1024", "x % 2 == 0"])
    rng = np.random.default_rng(0)
    xs, ys = set(), set()
    for _ in range(20):
        for n in space.neighbours({"x": 100, "y": 2}, rng):
            assert space.is_feasible(n) and 1 <= n["x"] <= 1024
            xs.add(n["x"]) if n["y"] == 2 else ys.add(n["y"])
    assert {98, 102} <= xs and max(abs(x - 100) for x in xs) > 10  # near and far moves
    assert ys == {1, 3}  # +-1 only on a range of 16 values


def test_permutation_neighbourhood_sizes():
    rng = np.random.default_rng(0)
    assert len(Permutation("p", 5).neighbours(tuple(range(5)), rng)) == 119
    six = Permutation("p", 6).neighbours(tuple(range(6)), rng)
    assert len(six) == len(set(six)) and all(sorted(p) == list(range(6)) for p in six)
    assert (1, 0, 2, 3, 4, 5) in six and (1, 2, 3, 4, 5, 0) in six  # a swap and an insert move
