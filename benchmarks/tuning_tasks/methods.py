"""The methods compared: this tuner and its peers, each run for a budget and returning the
sequence of results (None for an infeasible evaluation) in evaluation order.

Peers see the same space. Permutations become a categorical of the permutations that satisfy the
permutation-only constraints (as Ytopt did in BaCO's artifact); ordinals become an integer index.
skopt enforces the other known constraints natively (`space_constraint`). Optuna cannot: a trial
that violates a known constraint is told a penalty and marked infeasible through
`constraints_func`, without being counted as an evaluation (nothing was run), up to
2 x budget such trials (Optuna's GP sampler slows with every trial), after which the remaining
evaluations are uniform feasible samples.
Hidden failures are told to peers as the worst value seen so far (Ytopt's convention).
"""

import itertools
import warnings
from typing import Any

import numpy as np

from treadle.tuning import (INFEASIBLE, Categorical, ConstrainedSampler, Integer, Ordinal, Permutation,
                            Real, Space, Tuner)

from treadle.benchmarks.tuning_tasks.task import Task

FREE_TRIALS = 2  # known-infeasible Optuna trials allowed per evaluation of budget
METHODS = ("ours", "random", "skopt-gp", "optuna-tpe", "optuna-gp")


def n_initial(space: Space) -> int:
    return len(space.parameters) + 1


def run(method: str, task: Task, budget: int, seed: int) -> list[float | None]:
    return {"ours": run_ours, "random": run_random, "skopt-gp": run_skopt,
            "optuna-tpe": run_optuna_tpe, "optuna-gp": run_optuna_gp}[method](task, budget, seed)


def _value(result: Any) -> float | None:
    return None if result is INFEASIBLE else float(result)


def run_ours(task: Task, budget: int, seed: int, stop_at: float | None = None) -> list[float | None]:
    """`budget` evaluations, or fewer: the run ends at the first result <= `stop_at` (the tuner's
    proposals do not depend on the budget, so a shorter run is a prefix of a longer one)."""
    tuner = Tuner(task.space, seed=seed)
    out = []
    for _ in range(budget):
        config = tuner.ask()[0]
        result = task.objective(config)
        tuner.tell(config, result)
        out.append(_value(result))
        if stop_at is not None and out[-1] is not None and out[-1] <= stop_at:
            break
    return out


def run_random(task: Task, budget: int, seed: int) -> list[float | None]:
    """Uniform sampling of feasible configurations (distinct, as BaCO's DoE)."""
    sampler = _sampler(task.space)
    configs = sampler.sample_distinct(budget, np.random.default_rng(seed))
    return [_value(task.objective(c)) for c in configs]


_SAMPLERS: dict[int, ConstrainedSampler] = {}


def _sampler(space: Space) -> ConstrainedSampler:
    if id(space) not in _SAMPLERS:
        _SAMPLERS[id(space)] = ConstrainedSampler(space)
    return _SAMPLERS[id(space)]


class _Codec:
    """Maps between our configurations and a peer's flat parameter lists."""

    def __init__(self, space: Space):
        self.space = space
        self.perms: dict[str, list[tuple]] = {}
        for p in space.parameters:
            if isinstance(p, Permutation):
                own = [c for c in space.constraints if c.names == frozenset({p.name})]
                self.perms[p.name] = [q for q in itertools.permutations(p.items)
                                      if all(c({p.name: q}) for c in own)]

    def decode(self, values: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for p in self.space.parameters:
            v = values[p.name]
            if isinstance(p, Ordinal):
                v = p.values[int(v)]
            elif isinstance(p, Permutation):
                v = self.perms[p.name][int(v)]
            elif isinstance(p, Categorical):
                v = p.values[int(v)]
            elif isinstance(p, Integer):
                v = int(v)
            else:
                v = float(v)
            out[p.name] = v
        return out


class _Penalty:
    def __init__(self, task: Task):
        self.worst = None
        self.default = task.penalty

    def __call__(self, result: Any) -> float:
        if result is INFEASIBLE:
            return self.worst if self.worst is not None else self.default
        self.worst = max(self.worst or result, result)
        return float(result)


def run_skopt(task: Task, budget: int, seed: int) -> list[float | None]:
    from skopt import gp_minimize
    from skopt.space import Categorical as SkCat, Integer as SkInt, Real as SkReal

    codec = _Codec(task.space)
    dims = []
    for p in task.space.parameters:
        if isinstance(p, Real):
            dims.append(SkReal(p.low, p.high, prior="log-uniform" if p.log else "uniform", name=p.name))
        elif isinstance(p, Integer):
            dims.append(SkInt(p.low, p.high, prior="log-uniform" if p.log else "uniform", name=p.name))
        elif isinstance(p, Ordinal):
            dims.append(SkInt(0, len(p.values) - 1, name=p.name))
        elif isinstance(p, Categorical):
            dims.append(SkCat(list(range(len(p.values))), name=p.name))
        else:
            dims.append(SkCat(list(range(len(codec.perms[p.name]))), name=p.name))
    names = [p.name for p in task.space.parameters]

    def decode(x):
        return codec.decode(dict(zip(names, x)))

    penalty = _Penalty(task)
    out: list[float | None] = []

    def f(x):
        result = task.objective(decode(x))
        out.append(_value(result))
        return penalty(result)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gp_minimize(f, dims, n_calls=budget, n_initial_points=n_initial(task.space), random_state=seed,
                    n_points=500, space_constraint=lambda x: task.space.is_feasible(decode(x)))
    return out


def _run_optuna(task: Task, budget: int, seed: int, make_sampler) -> list[float | None]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    codec = _Codec(task.space)

    def constraints(trial):
        return (trial.user_attrs.get("violation", 0.0),)

    study = optuna.create_study(sampler=make_sampler(seed, constraints))
    penalty = _Penalty(task)
    out: list[float | None] = []
    free = 0
    fallback = _sampler(task.space)
    rng = np.random.default_rng(seed)
    while len(out) < budget:
        if free >= FREE_TRIALS * budget:  # the peer keeps proposing known-infeasible points
            result = task.objective(fallback.sample(rng))
            out.append(_value(result))
            continue
        trial = study.ask()
        values = {}
        for p in task.space.parameters:
            if isinstance(p, Real):
                values[p.name] = trial.suggest_float(p.name, p.low, p.high, log=p.log)
            elif isinstance(p, Integer):
                values[p.name] = trial.suggest_int(p.name, p.low, p.high, log=p.log)
            elif isinstance(p, Ordinal):
                values[p.name] = trial.suggest_int(p.name, 0, len(p.values) - 1)
            elif isinstance(p, Categorical):
                values[p.name] = trial.suggest_categorical(p.name, list(range(len(p.values))))
            else:
                values[p.name] = trial.suggest_categorical(p.name, list(range(len(codec.perms[p.name]))))
        config = codec.decode(values)
        if not task.space.is_feasible(config):
            trial.set_user_attr("violation", 1.0)
            study.tell(trial, penalty(INFEASIBLE))
            free += 1
            continue
        result = task.objective(config)
        trial.set_user_attr("violation", 1.0 if result is INFEASIBLE else 0.0)
        study.tell(trial, penalty(result))
        out.append(_value(result))
    return out


def run_optuna_tpe(task: Task, budget: int, seed: int) -> list[float | None]:
    import optuna

    return _run_optuna(task, budget, seed, lambda s, c: optuna.samplers.TPESampler(
        seed=s, n_startup_trials=n_initial(task.space), constraints_func=c))


def run_optuna_gp(task: Task, budget: int, seed: int) -> list[float | None]:
    import optuna

    return _run_optuna(task, budget, seed, lambda s, c: optuna.samplers.GPSampler(
        seed=s, n_startup_trials=n_initial(task.space), constraints_func=c))
