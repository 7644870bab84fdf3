"""The five parameter types of a tuning space.

Each type knows its domain (for sampling and enumeration), its local-search neighbourhood and its
feature embedding for the surrogate: BaCO's approach, where one ARD Matern kernel acting on these
features gives a Matern kernel on (log-)numeric values, a weighted Hamming kernel on categoricals
and a Spearman/Kendall/Hamming kernel on permutations.
"""

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from treadle.tuning.errors import SpaceError

_ENUMERABLE = 4096  # an Integer range larger than this is sampled, not enumerated


class Parameter:
    """One named tunable value."""

    kind = ""
    name: str
    default: Any

    def domain(self) -> list[Any] | None:
        """All values in order, or None when the domain is continuous or too large to list."""
        return None

    def sample(self, rng: np.random.Generator) -> Any:
        raise NotImplementedError

    def neighbours(self, value: Any, rng: np.random.Generator) -> list[Any]:
        raise NotImplementedError

    @property
    def n_features(self) -> int:
        return 1

    def embed(self, values: Sequence[Any]) -> np.ndarray:
        """Features of many values, shape (len(values), n_features), each in [0, 1]."""
        raise NotImplementedError

    def validate(self, value: Any) -> Any:
        """The canonical form of `value`, or a SpaceError."""
        raise NotImplementedError

    def to_json_value(self, value: Any) -> Any:
        return value

    def to_json(self) -> dict[str, Any]:
        raise NotImplementedError

    def _check_default(self) -> None:
        if self.default is not None:
            self.default = self.validate(self.default)


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not name.isidentifier():
        raise SpaceError(f"parameter name {name!r} must be a Python identifier")
    return name


class Real(Parameter):
    """A real value in [low, high], optionally searched on a log scale."""

    kind = "real"

    def __init__(self, name: str, low: float, high: float, log: bool = False, default: float | None = None):
        self.name = _check_name(name)
        self.low, self.high, self.log = float(low), float(high), bool(log)
        if not self.low < self.high:
            raise SpaceError(f"real `{name}`: low {low} must be below high {high}")
        if log and self.low <= 0:
            raise SpaceError(f"real `{name}`: a log scale needs low > 0, got {low}")
        self.default = default
        self._check_default()

    def _to_unit(self, x: np.ndarray) -> np.ndarray:
        if self.log:
            return (np.log(x) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        return (x - self.low) / (self.high - self.low)

    def _from_unit(self, u: np.ndarray) -> np.ndarray:
        u = np.clip(u, 0.0, 1.0)
        if self.log:
            return np.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        return self.low + u * (self.high - self.low)

    def sample(self, rng):
        return float(self._from_unit(rng.random()))

    def neighbours(self, value, rng):
        """Six truncated-normal steps (sd 0.03 of the range, on the search scale), as in BaCO."""
        u = self._to_unit(np.asarray(value, dtype=float))
        steps = np.clip(u + rng.normal(0.0, 0.03, size=6), 0.0, 1.0)
        return [float(v) for v in self._from_unit(steps) if v != value]

    def embed(self, values):
        return self._to_unit(np.asarray(values, dtype=float)).reshape(-1, 1)

    def validate(self, value):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SpaceError(f"real `{self.name}`: {value!r} is not a number")
        if not self.low <= value <= self.high:
            raise SpaceError(f"real `{self.name}`: {value} outside [{self.low}, {self.high}]")
        return float(value)

    def to_json(self):
        d = {"parameter_type": "real", "values": [self.low, self.high]}
        if self.log:
            d["transform"] = "log"
        return d


WIDE = 64
"""An integer range with more values than this also gets far local-search moves."""


class Integer(Parameter):
    """An integer in [low, high] (both inclusive), optionally on a log scale."""

    kind = "integer"

    def __init__(self, name: str, low: int, high: int, log: bool = False, default: int | None = None):
        self.name = _check_name(name)
        if int(low) != low or int(high) != high:
            raise SpaceError(f"integer `{name}`: bounds must be integers, got {low}, {high}")
        self.low, self.high, self.log = int(low), int(high), bool(log)
        if not self.low < self.high:
            raise SpaceError(f"integer `{name}`: low {low} must be below high {high}")
        if log and self.low <= 0:
            raise SpaceError(f"integer `{name}`: a log scale needs low > 0, got {low}")
        self.default = default
        self._check_default()

    def domain(self):
        if self.high - self.low + 1 > _ENUMERABLE:
            return None
        return list(range(self.low, self.high + 1))

    def sample(self, rng):
        if self.log:
            u = rng.random()
            v = math.exp(math.log(self.low - 0.5) * (1 - u) + math.log(self.high + 0.5) * u)
            return int(min(max(round(v), self.low), self.high))
        return int(rng.integers(self.low, self.high + 1))

    def neighbours(self, value, rng):
        """The values one step up and down (the space widens the step past infeasible values)."""
        return [v for v in (value - 1, value + 1) if self.low <= v <= self.high]

    def far_neighbours(self, value, rng) -> list[int]:
        """On a wide range (more than WIDE values) a step of one is no move at all: also six
        truncated-normal steps on the search scale (sd 0.03 of the range, as a Real's), rounded."""
        if self.high - self.low + 1 <= WIDE:
            return []
        x = float(self.embed([value])[0, 0])
        u = np.clip(x + rng.normal(0.0, 0.03, size=6), 0.0, 1.0)
        if self.log:
            vals = np.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        else:
            vals = self.low + u * (self.high - self.low)
        out = sorted({int(round(v)) for v in vals} - {value - 1, value, value + 1})
        return [v for v in out if self.low <= v <= self.high]

    def embed(self, values):
        x = np.asarray(values, dtype=float)
        if self.log:
            u = (np.log(x) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        else:
            u = (x - self.low) / (self.high - self.low)
        return u.reshape(-1, 1)

    def validate(self, value):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer, float)) or int(value) != value:
            raise SpaceError(f"integer `{self.name}`: {value!r} is not an integer")
        if not self.low <= value <= self.high:
            raise SpaceError(f"integer `{self.name}`: {value} outside [{self.low}, {self.high}]")
        return int(value)

    def to_json(self):
        d = {"parameter_type": "integer", "values": [self.low, self.high]}
        if self.log:
            d["transform"] = "log"
        return d


class Ordinal(Parameter):
    """Ordered values, e.g. powers of two; embedded by value (log scale by default when all are > 0
    and span more than a factor of 8), so neighbours and distances follow the order."""

    kind = "ordinal"

    def __init__(self, name: str, values: Sequence[Any], log: bool | None = None, default: Any = None):
        self.name = _check_name(name)
        self.values = list(values)
        if len(self.values) < 2:
            raise SpaceError(f"ordinal `{name}` needs at least two values, got {self.values}")
        if len(set(self.values)) != len(self.values):
            raise SpaceError(f"ordinal `{name}` has repeated values: {self.values}")
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in self.values)
        if numeric and self.values != sorted(self.values):
            raise SpaceError(f"ordinal `{name}`: numeric values must be sorted ascending: {self.values}")
        if log is None:
            log = numeric and min(self.values) > 0 and max(self.values) / min(self.values) > 8
        if log and not (numeric and min(self.values) > 0):
            raise SpaceError(f"ordinal `{name}`: a log scale needs positive numeric values")
        self.log = bool(log)
        self._index = {v: i for i, v in enumerate(self.values)}
        if numeric:
            x = np.asarray(self.values, dtype=float)
            x = np.log(x) if self.log else x
            self._feature = (x - x[0]) / (x[-1] - x[0])
        else:
            self._feature = np.linspace(0.0, 1.0, len(self.values))
        self.default = default
        self._check_default()

    def domain(self):
        return list(self.values)

    def sample(self, rng):
        return self.values[int(rng.integers(len(self.values)))]

    def index(self, value) -> int:
        return self._index[value]

    def neighbours(self, value, rng):
        i = self._index[value]
        return [self.values[j] for j in (i - 1, i + 1) if 0 <= j < len(self.values)]

    def embed(self, values):
        return self._feature[[self._index[v] for v in values]].reshape(-1, 1)

    def validate(self, value):
        if isinstance(value, float) and value.is_integer() and int(value) in self._index:
            value = int(value)
        if value not in self._index:
            raise SpaceError(f"ordinal `{self.name}`: {value!r} is not one of {self.values}")
        return value

    def to_json(self):
        d = {"parameter_type": "ordinal", "values": list(self.values)}
        if self.log:
            d["transform"] = "log"
        return d


class Categorical(Parameter):
    """Unordered choices; one-hot features make the kernel a weighted Hamming kernel."""

    kind = "categorical"

    def __init__(self, name: str, values: Sequence[Any], default: Any = None):
        self.name = _check_name(name)
        self.values = list(values)
        if len(self.values) < 2:
            raise SpaceError(f"categorical `{name}` needs at least two values, got {self.values}")
        if len(set(map(repr, self.values))) != len(self.values):
            raise SpaceError(f"categorical `{name}` has repeated values: {self.values}")
        self._index = {v: i for i, v in enumerate(self.values)}
        self.default = default
        self._check_default()

    def domain(self):
        return list(self.values)

    def sample(self, rng):
        return self.values[int(rng.integers(len(self.values)))]

    def neighbours(self, value, rng):
        return [v for v in self.values if v != value]

    @property
    def n_features(self):
        return 1 if len(self.values) == 2 else len(self.values)

    def embed(self, values):
        idx = np.fromiter((self._index[v] for v in values), dtype=int, count=len(values))
        if len(self.values) == 2:
            return idx.astype(float).reshape(-1, 1)
        out = np.zeros((len(values), len(self.values)))
        out[np.arange(len(values)), idx] = 1.0
        return out

    def validate(self, value):
        if value not in self._index:
            raise SpaceError(f"categorical `{self.name}`: {value!r} is not one of {self.values}")
        return value

    def to_json(self):
        return {"parameter_type": "categorical", "values": list(self.values)}


_PERMUTATION_EMBEDDINGS = ("spearman", "kendall", "hamming")


class Permutation(Parameter):
    """An order of `items`; a value is a tuple of the items in position order.

    Constraints read it like a tuple: `order[0]` is the first item, `order.index('k')` the position
    of item k. `embedding` picks the kernel the features induce: `spearman` (Spearman's rho distance
    on both readings of the order, the position of each item and the item at each position, as its
    index in `items`; ARD lengthscales learn which one the objective follows), `kendall` (one bit
    per item pair: Kendall's tau distance, a Mallows kernel) or `hamming` (one-hot of item per
    position).
    """

    kind = "permutation"

    def __init__(self, name: str, items: Sequence[Any] | int, embedding: str = "spearman", default: Any = None):
        self.name = _check_name(name)
        self.items = list(range(items)) if isinstance(items, int) else list(items)
        n = len(self.items)
        if n < 2 or len(set(map(repr, self.items))) != n:
            raise SpaceError(f"permutation `{name}` needs at least two distinct items, got {self.items}")
        if embedding not in _PERMUTATION_EMBEDDINGS:
            raise SpaceError(f"permutation `{name}`: embedding must be one of {_PERMUTATION_EMBEDDINGS}")
        self.embedding = embedding
        self._pos = {item: i for i, item in enumerate(self.items)}
        self._pairs = list(itertools.combinations(range(n), 2))
        self._cache: dict[tuple, np.ndarray] = {}
        self.default = default
        self._check_default()

    def domain(self):
        if len(self.items) > 8:
            return None
        return [tuple(p) for p in itertools.permutations(self.items)]

    def sample(self, rng):
        return tuple(self.items[i] for i in rng.permutation(len(self.items)))

    def neighbours(self, value, rng):
        """All other orders for n <= 5 (as BaCO); otherwise every swap and every single-item move."""
        if len(self.items) <= 5:
            return [p for p in itertools.permutations(self.items) if p != value]
        seen = {value}
        out = []
        n = len(value)
        for i, j in itertools.combinations(range(n), 2):
            p = list(value)
            p[i], p[j] = p[j], p[i]
            out.append(tuple(p))
        for i in range(n):
            rest = value[:i] + value[i + 1:]
            for j in range(n):
                if j != i:
                    out.append(rest[:j] + (value[i],) + rest[j:])
        return [p for p in out if not (p in seen or seen.add(p))]

    @property
    def n_features(self):
        n = len(self.items)
        return {"spearman": 2 * n, "kendall": n * (n - 1) // 2, "hamming": n * n}[self.embedding]

    def _features(self, value: tuple) -> np.ndarray:
        f = self._cache.get(value)
        if f is not None:
            return f
        n = len(self.items)
        pos = np.empty(n)
        for p, item in enumerate(value):
            pos[self._pos[item]] = p
        if self.embedding == "spearman":
            f = np.concatenate([pos, [self._pos[item] for item in value]]) / (n - 1)
        elif self.embedding == "kendall":
            f = np.array([float(pos[a] < pos[b]) for a, b in self._pairs])
        else:
            f = np.zeros(n * n)
            f[np.arange(n) * n + pos.astype(int)] = 1.0
        if len(self._cache) < 100_000:
            self._cache[value] = f
        return f

    def embed(self, values):
        if not values:
            return np.zeros((0, self.n_features))
        return np.stack([self._features(v) for v in values])

    def validate(self, value):
        if isinstance(value, str) or not isinstance(value, Sequence):
            raise SpaceError(f"permutation `{self.name}`: {value!r} is not a sequence")
        value = tuple(value)
        if sorted(map(repr, value)) != sorted(map(repr, self.items)) or len(value) != len(self.items):
            raise SpaceError(f"permutation `{self.name}`: {value!r} is not an order of {self.items}")
        return value

    def to_json_value(self, value):
        return list(value)

    def to_json(self):
        d = {"parameter_type": "permutation", "values": list(self.items)}
        if self.embedding != "spearman":
            d["parametrization"] = self.embedding
        return d
