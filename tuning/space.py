"""A search space: parameters plus known constraints, its embedding and its JSON file format.

The JSON format follows BaCO's scenario files (see docs/tuning.md):

    {"parameters": {"tile": {"parameter_type": "ordinal", "values": [8, 16, 32]},
                    "order": {"parameter_type": "permutation", "values": ["i", "j", "k"]}},
     "constraints": ["tile <= 16 or order[0] == 'i'"]}
"""

import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from treadle.tuning.constraints import Constraint
from treadle.tuning.errors import SpaceError
from treadle.tuning.parameters import Categorical, Integer, Ordinal, Parameter, Permutation, Real

Config = dict[str, Any]
_MAX_STEP_SCAN = 64  # how far an integer/ordinal neighbour may skip over infeasible values


class Space:
    """Parameters (in order) and the known constraints every proposal must satisfy."""

    def __init__(self, parameters: Sequence[Parameter],
                 constraints: Iterable[str | Callable[[Config], bool] | Constraint] = ()):
        self.parameters = list(parameters)
        if not self.parameters:
            raise SpaceError("a space needs at least one parameter")
        self.by_name = {p.name: p for p in self.parameters}
        if len(self.by_name) != len(self.parameters):
            raise SpaceError(f"repeated parameter names in {[p.name for p in self.parameters]}")
        self.constraints = [c if isinstance(c, Constraint) else Constraint(c) for c in constraints]
        for c in self.constraints:
            unknown = sorted((c.names or set()) - set(self.by_name))
            if unknown:
                raise SpaceError(f"constraint `{c.text}` names unknown parameter(s) {unknown}; "
                                 f"the space has {sorted(self.by_name)}")
        self.n_features = sum(p.n_features for p in self.parameters)
        self.combinatorial_features = np.array([p.kind in ("categorical", "permutation")
                                                for p in self.parameters for _ in range(p.n_features)], bool)
        """which embedded columns are a categorical's or a permutation's (the surrogate gives them
        their own lengthscale prior)"""

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.parameters]

    def validate(self, config: Config) -> Config:
        """The canonical form of `config` (tuples for permutations), or a SpaceError."""
        if not isinstance(config, dict):
            raise SpaceError(f"a configuration is a dict from parameter name to value, got {config!r}")
        missing = sorted(set(self.by_name) - set(config))
        extra = sorted(set(config) - set(self.by_name))
        if missing or extra:
            raise SpaceError(f"configuration {config} has missing {missing} / unknown {extra} parameters")
        return {p.name: p.validate(config[p.name]) for p in self.parameters}

    def is_feasible(self, config: Config) -> bool:
        """Whether `config` satisfies every known constraint."""
        return all(c(config) for c in self.constraints)

    def key(self, config: Config) -> tuple:
        """A hashable identity for a configuration."""
        return tuple(config[n] for n in self.names)

    def default(self) -> Config | None:
        """The configuration of all parameter defaults, when every parameter has one."""
        if any(p.default is None for p in self.parameters):
            return None
        return {p.name: p.default for p in self.parameters}

    def embed(self, configs: Sequence[Config]) -> np.ndarray:
        """Surrogate features, shape (len(configs), n_features), each column in [0, 1]."""
        if not configs:
            return np.zeros((0, self.n_features))
        return np.hstack([p.embed([c[p.name] for c in configs]) for p in self.parameters])

    def neighbours(self, config: Config, rng: np.random.Generator) -> list[Config]:
        """Feasible configurations one move away in one parameter (BaCO's local-search moves).

        Integer and ordinal steps go to the nearest *feasible* value up and down; a wide integer
        range also gets Gaussian steps (`Integer.far_neighbours`).
        """
        out = []
        for p in self.parameters:
            value = config[p.name]
            if isinstance(p, (Integer, Ordinal)):
                for direction in (-1, 1):
                    step = _step(p, value, direction)
                    for _ in range(_MAX_STEP_SCAN):
                        if step is None:
                            break
                        cand = {**config, p.name: step}
                        if self.is_feasible(cand):
                            out.append(cand)
                            break
                        step = _step(p, step, direction)
                if isinstance(p, Integer):
                    for v in p.far_neighbours(value, rng):
                        cand = {**config, p.name: v}
                        if self.is_feasible(cand):
                            out.append(cand)
                continue
            for v in p.neighbours(value, rng):
                cand = {**config, p.name: v}
                if self.is_feasible(cand):
                    out.append(cand)
        return out

    # JSON -------------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        texts = []
        for c in self.constraints:
            if c.text is None:
                raise SpaceError("a space with callable constraints cannot be written as JSON; "
                                 "write the constraint as an expression string")
            texts.append(c.text)
        params = {}
        for p in self.parameters:
            d = p.to_json()
            if p.default is not None:
                d["parameter_default"] = p.to_json_value(p.default)
            params[p.name] = d
        return {"parameters": params, "constraints": texts}

    def config_to_json(self, config: Config) -> dict[str, Any]:
        return {p.name: p.to_json_value(config[p.name]) for p in self.parameters}

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=2) + "\n")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Space":
        if not isinstance(data, dict) or "parameters" not in data:
            raise SpaceError("a space file is a JSON object with a `parameters` object")
        unknown = sorted(set(data) - {"parameters", "constraints", "name", "description"})
        if unknown:
            raise SpaceError(f"unknown top-level key(s) {unknown} in space file")
        params = data["parameters"]
        if not isinstance(params, dict) or not params:
            raise SpaceError("`parameters` must be a non-empty object of name -> parameter")
        constraints = data.get("constraints", [])
        if not isinstance(constraints, list) or not all(isinstance(c, str) for c in constraints):
            raise SpaceError("`constraints` must be a list of expression strings")
        return cls([_parameter_from_json(n, d) for n, d in params.items()], constraints)

    @classmethod
    def load(cls, path: str | Path) -> "Space":
        try:
            data = json.loads(Path(path).read_text())
        except FileNotFoundError:
            raise SpaceError(f"space file {path} not found") from None
        except json.JSONDecodeError as err:
            raise SpaceError(f"{path}:{err.lineno}:{err.colno}: error: invalid JSON: {err.msg}") from None
        try:
            return cls.from_json(data)
        except SpaceError as err:
            raise SpaceError(f"{path}: error: {err}") from None

    def __repr__(self) -> str:
        return f"Space({self.names}, {len(self.constraints)} constraints)"


def _step(p: Integer | Ordinal, value: Any, direction: int) -> Any:
    if isinstance(p, Integer):
        v = value + direction
        return v if p.low <= v <= p.high else None
    i = p.index(value) + direction
    return p.values[i] if 0 <= i < len(p.values) else None


_KEYS = {"parameter_type", "values", "transform", "parameter_default", "parametrization"}


def _parameter_from_json(name: str, d: Any) -> Parameter:
    if not isinstance(d, dict) or "parameter_type" not in d or "values" not in d:
        raise SpaceError(f"parameter `{name}` needs `parameter_type` and `values`")
    unknown = sorted(set(d) - _KEYS)
    if unknown:
        raise SpaceError(f"parameter `{name}`: unknown key(s) {unknown}; allowed {sorted(_KEYS)}")
    kind, values = d["parameter_type"], d["values"]
    transform = d.get("transform", "none")
    if transform not in ("none", "log"):
        raise SpaceError(f"parameter `{name}`: transform must be `none` or `log`, got {transform!r}")
    log = transform == "log"
    default = d.get("parameter_default")
    if not isinstance(values, list):
        raise SpaceError(f"parameter `{name}`: `values` must be a list")
    if kind in ("real", "integer"):
        if len(values) != 2:
            raise SpaceError(f"{kind} `{name}`: `values` must be [min, max], got {values}")
        cls = Real if kind == "real" else Integer
        return cls(name, values[0], values[1], log=log, default=default)
    if kind == "ordinal":
        return Ordinal(name, values, log=log if "transform" in d else None, default=default)
    if kind == "categorical":
        return Categorical(name, values, default=default)
    if kind == "permutation":
        items = values[0] if len(values) == 1 and isinstance(values[0], int) else values
        return Permutation(name, items, embedding=d.get("parametrization", "spearman"), default=default)
    raise SpaceError(f"parameter `{name}`: unknown parameter_type {kind!r}; expected real, integer, "
                     "ordinal, categorical or permutation")
