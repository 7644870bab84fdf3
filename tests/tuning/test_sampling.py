import numpy as np
import pytest

from treadle.tuning import (INFEASIBLE, ConstrainedSampler, Integer, Ordinal, Permutation, Real,
                            SamplingError, Space, Tuner)


def rare_space() -> Space:
    # about 1 in 10^4 configurations is feasible: blind rejection would need ~10^4 draws per point
    return Space([Integer("x", 1, 1000), Integer("y", 1, 1000), Ordinal("v", [1, 2, 4, 8]),
                  Permutation("p", 4), Real("r", 0.0, 1.0)],
                 ["x % 97 == 0", "y == x + v", "p.index(3) == 0", "r < 0.5 or v == 8"])


def test_sampler_finds_rare_feasible_points():
    space = rare_space()
    sampler = ConstrainedSampler(space)
    rng = np.random.default_rng(0)
    configs = sampler.sample_distinct(50, rng)
    assert len(configs) == 50 and all(space.is_feasible(c) for c in configs)
    assert len({c["x"] for c in configs}) > 3  # not stuck in one corner


def test_enumerated_components_are_sampled_uniformly():
    # the root value a=1 has one feasible child, a=2 nine: uniform over leaves gives P(a=1) = 0.1
    space = Space([Integer("a", 1, 2), Integer("b", 1, 9)], ["a == 2 or b == 1"])
    sampler = ConstrainedSampler(space)
    assert sampler.feasible_count() == 10
    rng = np.random.default_rng(1)
    share = np.mean([sampler.sample(rng)["a"] == 1 for _ in range(4000)])
    assert 0.08 < share < 0.12


def test_unsatisfiable_constraints_raise():
    space = Space([Integer("a", 1, 10), Integer("b", 1, 10)], ["a + b > 30"])
    with pytest.raises(SamplingError, match="admit no configuration"):
        ConstrainedSampler(space).sample(np.random.default_rng(0))


def test_tuner_never_proposes_a_known_infeasible_point():
    space = rare_space()
    tuner = Tuner(space, seed=3, n_candidates=200)
    rng = np.random.default_rng(3)
    for i in range(16):
        for config in tuner.ask(2 if i % 3 == 0 else 1):
            assert space.is_feasible(config), config
            value = INFEASIBLE if config["v"] == 1 else config["x"] / 100 + rng.random()
            tuner.tell(config, value)
    keys = [space.key(o.config) for o in tuner.observations]
    assert len(keys) == len(set(keys))  # and never proposes the same point twice


def test_small_space_is_exhausted_then_reported():
    from treadle.tuning import TuningError

    space = Space([Permutation("p", 3)], ["p[0] != 0"])
    tuner = Tuner(space, seed=0, n_initial=2)
    seen = set()
    for _ in range(4):
        c = tuner.ask()[0]
        seen.add(c["p"])
        tuner.tell(c, float(c["p"][0]))
    assert len(seen) == 4
    with pytest.raises(TuningError, match="every feasible configuration"):
        tuner.ask()
