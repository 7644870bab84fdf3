"""Unknown constraints: a tree-ensemble classifier of P(feasible), trained on every outcome.

As in BaCO, it exists only once an infeasible result has been seen (before that every point is
presumed feasible) and its trees are unbootstrapped. Unlike BaCO's random forest (50 trees,
max_features 0.75) it uses extremely randomized trees: their random split points spread a
failure's influence over its neighbourhood instead of a sliver between two samples. On a test
where one categorical value always fails, BaCO's forest let 11-13 of the last 15 of 30 proposals
fail, these trees 4-5 (tests/tuning/test_feasibility.py).
"""

import numpy as np
from sklearn.ensemble import ExtraTreesClassifier


class FeasibilityModel:
    """P(feasible | features) from all observations so far."""

    def __init__(self, seed: int):
        self.seed = seed
        self.forest: ExtraTreesClassifier | None = None

    def fit(self, X: np.ndarray, feasible: np.ndarray) -> "FeasibilityModel":
        feasible = np.asarray(feasible, dtype=bool)
        if feasible.all() or len(feasible) == 0:
            self.forest = None
            self._constant = 1.0
            return self
        if not feasible.any():
            self.forest = None
            self._constant = 0.0
            return self
        self.forest = ExtraTreesClassifier(n_estimators=100, max_features=0.5, bootstrap=False,
                                           random_state=self.seed, n_jobs=1)
        self.forest.fit(X, feasible)
        return self

    def probability(self, X: np.ndarray) -> np.ndarray:
        """P(feasible) for each row of X (1 everywhere before any failure)."""
        if self.forest is None:
            return np.full(len(X), getattr(self, "_constant", 1.0))
        proba = self.forest.predict_proba(X)
        return proba[:, list(self.forest.classes_).index(True)]
