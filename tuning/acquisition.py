"""The acquisition, EI x P(feasible), and BaCO's optimiser for it over mixed discrete spaces:
score many random feasible configurations, then hill-climb (best improvement over each
parameter's neighbourhood) from the best of them and from the best observations."""

from collections.abc import Callable, Sequence

import numpy as np
from scipy.stats import norm

from treadle.tuning.space import Config, Space

Score = Callable[[list[Config]], np.ndarray]
MAX_STEPS = 20  # hill-climbing steps per start at most (real parameters never stop improving)


def expected_improvement(mu: np.ndarray, sd: np.ndarray, best: float, xi: float = 1e-4) -> np.ndarray:
    """EI for minimisation of a GP posterior N(mu, sd^2) below the incumbent `best`."""
    improvement = best - mu - xi
    z = improvement / sd
    return np.maximum(improvement * norm.cdf(z) + sd * norm.pdf(z), 0.0)


def feasibility_limit(rng: np.random.Generator, threshold: float = 0.1) -> float:
    """BaCO's random feasibility cut: tau drawn from {0, 0.1 t, ..., t} each iteration."""
    return float(rng.integers(0, 11)) * threshold / 10.0


def constrained_ei(mu: np.ndarray, sd: np.ndarray, best: float, p_feasible: np.ndarray, tau: float) -> np.ndarray:
    """EI x P(feasible), zeroed where P(feasible) < tau."""
    return expected_improvement(mu, sd, best) * p_feasible * (p_feasible >= tau)


def local_search(score: Score, space: Space, starts: Sequence[Config], rng: np.random.Generator,
                 exclude: set[tuple]) -> tuple[Config | None, float]:
    """Best-improvement hill climbing from every start at once (one batched score call per step).

    Returns the best-scoring configuration visited that is not in `exclude` (already evaluated or
    pending), and its score; (None, -inf) when every visited point is excluded.
    """
    best_cfg, best_val = None, -np.inf
    current = list(starts)
    values = score(current) if current else np.zeros(0)
    visited: set[tuple] = set()

    def consider(cfgs: Sequence[Config], vals: np.ndarray) -> None:
        nonlocal best_cfg, best_val
        for c, v in zip(cfgs, vals):
            k = space.key(c)
            visited.add(k)
            if k not in exclude and v > best_val:
                best_cfg, best_val = c, float(v)

    consider(current, values)
    active = list(range(len(current)))
    for _ in range(MAX_STEPS):
        if not active:
            break
        batch, owner = [], []
        for i in active:
            for nb in space.neighbours(current[i], rng):
                if space.key(nb) not in visited:
                    batch.append(nb)
                    owner.append(i)
        if not batch:
            break
        scores = score(batch)
        consider(batch, scores)
        owner_arr = np.asarray(owner)
        still = []
        for i in active:
            mine = np.flatnonzero(owner_arr == i)
            if len(mine) == 0:
                continue
            j = mine[np.argmax(scores[mine])]
            if scores[j] > values[i]:
                current[i], values[i] = batch[j], scores[j]
                still.append(i)
        active = still
    return best_cfg, best_val
