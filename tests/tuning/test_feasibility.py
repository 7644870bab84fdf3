import numpy as np

from treadle.tuning import INFEASIBLE, Categorical, Integer, Real, Space, Tuner
from treadle.tuning.feasibility import FeasibilityModel


def test_infeasible_results_lower_the_feasibility_estimate_around_them():
    space = Space([Real("x", 0, 1), Integer("n", 1, 10)])
    rng = np.random.default_rng(0)
    configs = [{"x": float(rng.random()), "n": int(rng.integers(1, 11))} for _ in range(60)]
    feasible = np.array([c["x"] < 0.7 for c in configs])
    before = FeasibilityModel(seed=0).fit(space.embed(configs), np.ones(len(configs), bool))
    after = FeasibilityModel(seed=0).fit(space.embed(configs), feasible)
    near = space.embed([{"x": x, "n": n} for x in (0.8, 0.9, 0.95) for n in (2, 5, 9)])
    far = space.embed([{"x": x, "n": n} for x in (0.1, 0.3, 0.5) for n in (2, 5, 9)])
    assert np.all(before.probability(near) == 1.0)
    assert after.probability(near).max() < 0.5 < after.probability(far).min()


def test_tuner_stops_proposing_a_failing_choice():
    # every run with mode "c" fails; the GP never sees it (it is fit on feasible results only), so
    # only the feasibility model can keep the tuner from proposing it again and again
    space = Space([Real("x", 0, 1), Categorical("mode", ["a", "b", "c"])])
    tuner = Tuner(space, seed=1)

    def f(c):
        return INFEASIBLE if c["mode"] == "c" else (c["x"] - 0.3) ** 2 + {"a": 0.5, "b": 0.6}[c["mode"]]

    for _ in range(30):
        c = tuner.ask()[0]
        tuner.tell(c, f(c))
    assert any(not o.feasible for o in tuner.observations[:15])
    # BaCO's random forest lets 11-13 of these 15 fail (see feasibility.py)
    assert sum(not o.feasible for o in tuner.observations[15:]) <= 6
    assert tuner.best[1] < 0.51
