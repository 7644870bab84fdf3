"""Feasible random configurations, also where feasible points are rare.

Parameters linked by known constraints form components (a chain of trees, as in BaCO/ATF). Within
a component, parameters are assigned one at a time and each constraint is checked as soon as all
its parameters are set, so infeasible prefixes are pruned instead of whole configurations being
rejected. A small component is enumerated once and sampled uniformly over its feasible leaves; a
large one is sampled by randomized depth-first search with backtracking, which finds a feasible
point whenever one exists within the search limit, and otherwise raises SamplingError.
"""

import math
from collections.abc import Iterable

import numpy as np

from treadle.tuning.constraints import Constraint
from treadle.tuning.errors import SamplingError
from treadle.tuning.parameters import Parameter
from treadle.tuning.space import Config, Space

ENUMERATION_LIMIT = 300_000  # constraint checks spent enumerating one component at most
SEARCH_LIMIT = 200_000       # values tried by one randomized depth-first search at most
_DRAWS_PER_LEVEL = 64        # values tried at a level whose domain is continuous or huge
_MEMO_LIMIT = 50_000      # memoised (level, prefix) entries at most
_FEW_DRAWS = 16          # random draws tried at a level before its whole domain


class _Component:
    """Parameters linked by constraints, ordered so constraints are checked early."""

    def __init__(self, params: list[Parameter], constraints: list[Constraint]):
        self.params, self.levels = _order(params, constraints)
        self.domains = [p.domain() for p in self.params]
        names = [p.name for p in self.params]
        self.reads = [sorted(set().union(*[c.names or set(names) for c in cs]) - {p.name}, key=names.index)
                      for p, cs in zip(self.params, self.levels)]
        self._memo: dict[tuple, list] = {}
        self.leaves = self._enumerate()

    def _enumerate(self) -> list[tuple] | None:
        domains = self.domains
        if any(d is None for d in domains):
            return None
        size = math.prod(len(d) for d in domains)
        if not self.levels or all(not cs for cs in self.levels):
            return None if size > ENUMERATION_LIMIT else _product(domains)
        leaves: list[tuple] = []
        partial: dict = {}
        budget = [ENUMERATION_LIMIT]

        def visit(level: int) -> bool:
            p = self.params[level]
            for v in domains[level]:
                budget[0] -= 1
                if budget[0] < 0:
                    return False
                partial[p.name] = v
                if all(c(partial) for c in self.levels[level]):
                    if level + 1 == len(self.params):
                        leaves.append(tuple(partial[q.name] for q in self.params))
                    elif not visit(level + 1):
                        return False
            partial.pop(p.name, None)
            return True

        return leaves if visit(0) else None

    def sample(self, rng: np.random.Generator) -> dict:
        if self.leaves is not None:
            if not self.leaves:
                raise SamplingError(_no_point(self))
            leaf = self.leaves[int(rng.integers(len(self.leaves)))]
            return dict(zip((p.name for p in self.params), leaf))
        return self._search(rng)

    def _search(self, rng: np.random.Generator) -> dict:
        partial: dict = {}
        budget = [SEARCH_LIMIT]

        def spend() -> None:
            budget[0] -= 1
            if budget[0] < 0:
                raise SamplingError(
                    f"no configuration of {[q.name for q in self.params]} satisfying "
                    f"{[c.text or c for cs in self.levels for c in cs]} found in {SEARCH_LIMIT} "
                    "steps of constrained search; the constraints may be unsatisfiable")

        def visit(level: int) -> bool:
            p = self.params[level]
            allowed = self._allowed(level, partial, spend)
            values = (allowed[i] for i in rng.permutation(len(allowed))) if allowed is not None \
                else _candidates(p, self.domains[level], rng)
            for v in values:
                spend()
                partial[p.name] = v
                if allowed is not None or all(c(partial) for c in self.levels[level]):
                    if level + 1 == len(self.params) or visit(level + 1):
                        return True
            partial.pop(p.name, None)
            return False

        if not visit(0):
            raise SamplingError(_no_point(self))
        return dict(partial)

    def _allowed(self, level: int, partial: dict, spend) -> list | None:
        """The values of a listable level that pass its constraints given the values they read
        (memoised per prefix, so rare-value levels are scanned once, not per sample)."""
        dom = self.domains[level]
        if dom is None or not self.levels[level] or len(self._memo) >= _MEMO_LIMIT:
            return None
        key = (level, tuple(partial.get(n) for n in self.reads[level]))
        found = self._memo.get(key)
        if found is None:
            name = self.params[level].name
            trial = dict(partial)
            found = []
            for v in dom:
                spend()
                trial[name] = v
                if all(c(trial) for c in self.levels[level]):
                    found.append(v)
            self._memo[key] = found
        return found


def _no_point(comp: _Component) -> str:
    return (f"the known constraints {[c.text or c for cs in comp.levels for c in cs]} admit no "
            f"configuration of {[p.name for p in comp.params]}")


def _product(domains: list[list]) -> list[tuple]:
    out: list[tuple] = [()]
    for d in domains:
        out = [t + (v,) for t in out for v in d]
    return out


def _candidates(p: Parameter, dom: list | None, rng: np.random.Generator) -> Iterable:
    """Values to try at one level, in random order: a few draws first (cheap when most values are
    fine), then, for a listable domain, all of it (so the search stays complete)."""
    if dom is not None and len(dom) <= _FEW_DRAWS:
        yield from (dom[i] for i in rng.permutation(len(dom)))
        return
    for _ in range(_FEW_DRAWS if dom is not None else _DRAWS_PER_LEVEL):
        yield p.sample(rng)
    if dom is not None:
        yield from (dom[i] for i in rng.permutation(len(dom)))


def _order(params: list[Parameter], constraints: list[Constraint]):
    """Greedy order: next the parameter that completes most constraints, then the most linked one,
    then the smallest domain; each constraint is attached to the level where it becomes complete."""
    names_of = {id(c): (c.names if c.names is not None else {p.name for p in params}) for c in constraints}
    remaining = list(params)
    assigned: set[str] = set()
    order, levels = [], []
    pending = list(constraints)
    while remaining:
        def score(p: Parameter):
            now = assigned | {p.name}
            completes = sum(1 for c in pending if names_of[id(c)] <= now)
            linked = sum(1 for c in pending if p.name in names_of[id(c)])
            dom = p.domain()
            return (completes, linked, -(len(dom) if dom is not None else 10**9))
        best = max(remaining, key=score)
        remaining.remove(best)
        assigned.add(best.name)
        done = [c for c in pending if names_of[id(c)] <= assigned]
        pending = [c for c in pending if not names_of[id(c)] <= assigned]
        order.append(best)
        levels.append(done)
    return order, levels


class ConstrainedSampler:
    """Draws configurations that satisfy every known constraint of `space`."""

    def __init__(self, space: Space):
        self.space = space
        parent = {p.name: p.name for p in space.parameters}

        def find(x: str) -> str:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for c in space.constraints:
            names = list(c.names if c.names is not None else space.names) or [space.names[0]]
            for n in names[1:]:
                parent[find(n)] = find(names[0])
        groups: dict[str, list[Parameter]] = {}
        for p in space.parameters:
            groups.setdefault(find(p.name), []).append(p)
        self.free: list[Parameter] = []
        self.components: list[_Component] = []
        for members in groups.values():
            names = {p.name for p in members}
            cons = [c for c in space.constraints
                    if (c.names if c.names is not None else set(space.names)) & names
                    or (not c.names and members[0].name == space.names[0])]
            if cons:
                self.components.append(_Component(members, cons))
            else:
                self.free.extend(members)

    def feasible_count(self) -> int | None:
        """Exact number of feasible configurations, when every constrained component was enumerated
        and the free parameters are discrete."""
        total = 1
        for comp in self.components:
            if comp.leaves is None:
                return None
            total *= len(comp.leaves)
        for p in self.free:
            dom = p.domain()
            if dom is None:
                return None
            total *= len(dom)
        return total

    def sample(self, rng: np.random.Generator) -> Config:
        values: dict = {p.name: p.sample(rng) for p in self.free}
        for comp in self.components:
            values.update(comp.sample(rng))
        return {n: values[n] for n in self.space.names}

    def sample_distinct(self, n: int, rng: np.random.Generator, exclude: Iterable[tuple] = ()) -> list[Config]:
        """Up to `n` distinct feasible configurations whose keys are not in `exclude`; fewer only
        when the space is (nearly) exhausted."""
        seen = set(exclude)
        out: list[Config] = []
        count = self.feasible_count()
        if count is not None:
            n = min(n, max(count - len(seen), 0))
        attempts = 0
        while len(out) < n and attempts < 20 * n + 100:
            attempts += 1
            c = self.sample(rng)
            k = self.space.key(c)
            if k not in seen:
                seen.add(k)
                out.append(c)
        return out
