"""The ask/tell Bayesian tuner (BaCO's loop).

Initial design: the default configuration (if complete and feasible), then distinct uniform
feasible samples, `n_initial` in all (BaCO: number of parameters + 1). Afterwards each proposal
maximises EI x P(feasible) of a GP on the feasible results and a random-forest feasibility model
on all results. Proposals asked but not yet told are treated as fantasies at the posterior mean
(Kriging believer), so `ask(n)` gives n different, complementary points.

Every ask k draws from its own generator seeded by (seed, k), so the run is a pure function of
the seed and the results told, and replaying the log recreates it exactly.
"""

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from treadle.tuning import journal
from treadle.tuning.acquisition import constrained_ei, feasibility_limit, local_search
from treadle.tuning.errors import SpaceError, TuningError
from treadle.tuning.feasibility import FeasibilityModel
from treadle.tuning.sampling import ConstrainedSampler
from treadle.tuning.space import Config, Space
from treadle.tuning.surrogate import PRIOR_QUANTILE, Surrogate


class _Infeasible:
    """The result of an evaluation that failed (compile error, crash, timeout, wrong answer)."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "INFEASIBLE"

    def __reduce__(self):
        return "INFEASIBLE"


INFEASIBLE = _Infeasible()


@dataclass
class Observation:
    config: Config
    value: float | None  # None: infeasible
    info: str = ""

    @property
    def feasible(self) -> bool:
        return self.value is not None


class Tuner:
    """Bayesian optimisation over a `Space`: `ask(n)` proposes, `tell(config, result)` learns."""

    def __init__(self, space: Space, seed: int = 0, *, n_initial: int | None = None,
                 log: str | Path | None = None, log_transform: bool | None = None,
                 n_candidates: int = 1000, n_starts: int = 10, feasibility_threshold: float = 0.1,
                 prior_quantile: float = PRIOR_QUANTILE):
        if not isinstance(space, Space):
            raise TuningError(f"Tuner needs a treadle.tuning.Space, got {type(space).__name__}")
        self.space = space
        self.seed = int(seed)
        self.options = {"n_initial": n_initial if n_initial is not None else len(space.parameters) + 1,
                        "log_transform": log_transform, "n_candidates": n_candidates,
                        "n_starts": n_starts, "feasibility_threshold": feasibility_threshold,
                        "prior_quantile": prior_quantile}
        self.n_initial = self.options["n_initial"]
        self.sampler = ConstrainedSampler(space)
        self.observations: list[Observation] = []
        self.pending: dict[tuple, Config] = {}
        self.n_asked = 0
        self._design: list[Config] | None = None
        self._journal: journal.Journal | None = None
        if log is not None:
            self._open_log(Path(log))

    # public API ---------------------------------------------------------------------------------

    def ask(self, n: int = 1) -> list[Config]:
        """`n` new configurations to evaluate, all satisfying the known constraints."""
        if n < 1:
            raise TuningError(f"ask(n) needs n >= 1, got {n}")
        out = []
        for _ in range(n):
            rng = np.random.default_rng([self.seed, self.n_asked])
            config = self._propose(rng)
            self.pending[self.space.key(config)] = config
            self.n_asked += 1
            self._write({"event": "ask", "config": self.space.config_to_json(config)})
            out.append(config)
        return out

    def tell(self, config: Config, result: Any, info: str = "") -> None:
        """Record `result` (a number to minimise, or INFEASIBLE) for `config`."""
        try:
            config = self.space.validate(config)
        except SpaceError as err:
            raise TuningError(f"tell: {err}") from None
        value = _check_result(result)
        self.pending.pop(self.space.key(config), None)
        self.observations.append(Observation(config, value, info))
        self._write({"event": "tell", "config": self.space.config_to_json(config), "value": value,
                     **({"info": info} if info else {})})

    @property
    def best(self) -> tuple[Config, float]:
        """The best feasible (configuration, value) told so far."""
        feasible = [o for o in self.observations if o.feasible]
        if not feasible:
            raise TuningError(f"no feasible result among {len(self.observations)} observations yet")
        o = min(feasible, key=lambda o: o.value)
        return o.config, o.value

    def close(self) -> None:
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    @classmethod
    def from_log(cls, path: str | Path, space: Space | None = None) -> "Tuner":
        """Resume the run recorded in `path` (the space is read from the log unless given)."""
        path = Path(path)
        if not path.exists():
            raise TuningError(f"log {path} not found")
        events = journal.read(path)
        if not events:
            raise TuningError(f"log {path} is empty")
        header = events[0]
        if space is None:
            if header.get("space") is None:
                raise TuningError(f"{path}: the space has callable constraints; pass it to from_log")
            space = Space.from_json(header["space"])
        return cls(space, header["seed"], log=path, **header["options"])

    # proposal -----------------------------------------------------------------------------------

    def _propose(self, rng: np.random.Generator) -> Config:
        exclude = {self.space.key(o.config) for o in self.observations} | set(self.pending)
        design = self._initial_design()
        if self.n_asked < len(design) and self.space.key(design[self.n_asked]) not in exclude:
            return design[self.n_asked]
        feasible = [o for o in self.observations if o.feasible]
        if self.n_asked >= len(design) and len(feasible) >= 2:
            config = self._bayesian_proposal(rng, feasible, exclude)
            if config is not None:
                return config
        return self._random_proposal(rng, exclude)

    def _initial_design(self) -> list[Config]:
        if self._design is None:
            rng = np.random.default_rng([self.seed, 2**32 - 1])
            design = []
            default = self.space.default()
            if default is not None and self.space.is_feasible(default):
                design.append(default)
            design += self.sampler.sample_distinct(self.n_initial - len(design), rng,
                                                   exclude={self.space.key(c) for c in design})
            self._design = design
        return self._design

    def _random_proposal(self, rng: np.random.Generator, exclude: set[tuple]) -> Config:
        found = self.sampler.sample_distinct(1, rng, exclude)
        if not found:
            raise TuningError("every feasible configuration of the space has been evaluated")
        return found[0]

    def _bayesian_proposal(self, rng, feasible: list[Observation], exclude: set[tuple]) -> Config | None:
        space = self.space
        X = space.embed([o.config for o in feasible])
        y = np.array([o.value for o in feasible])
        surrogate = Surrogate(seed=int(rng.integers(2**31)), log_transform=self.options["log_transform"],
                              prior_quantile=self.options["prior_quantile"],
                              combinatorial=space.combinatorial_features)
        surrogate.fit(X, y)
        if self.pending:  # Kriging believer: pretend pending points returned the posterior mean
            Xp = space.embed(list(self.pending.values()))
            mu_p, _ = surrogate.predict(Xp)
            surrogate.refit_fixed(np.vstack([X, Xp]), np.concatenate([surrogate.train_targets, mu_p]))
        incumbent = float(surrogate.transform(y.min()))
        feas_model = FeasibilityModel(seed=int(rng.integers(2**31))).fit(
            space.embed([o.config for o in self.observations]),
            np.array([o.feasible for o in self.observations]))
        tau = feasibility_limit(rng, self.options["feasibility_threshold"])

        def score(configs: list[Config]) -> np.ndarray:
            Z = space.embed(configs)
            mu, sd = surrogate.predict(Z)
            return constrained_ei(mu, sd, incumbent, feas_model.probability(Z), tau)

        candidates = self.sampler.sample_distinct(self.options["n_candidates"], rng, exclude)
        starts: list[Config] = []
        if candidates:
            s = score(candidates)
            starts = [candidates[i] for i in np.argsort(-s)[: self.options["n_starts"]]]
        starts += [o.config for o in sorted(feasible, key=lambda o: o.value)[:3]]
        config, _ = local_search(score, space, starts, rng, exclude)
        return config

    # log ----------------------------------------------------------------------------------------

    def _header(self) -> dict[str, Any]:
        try:
            space_json = self.space.to_json()
        except SpaceError:
            space_json = None
        return {"event": "header", "version": journal.VERSION, "seed": self.seed,
                "names": self.space.names, "space": space_json, "options": self.options}

    def _open_log(self, path: Path) -> None:
        header = self._header()
        if path.exists() and path.stat().st_size:
            events = journal.read(path)
            if events:
                old = events[0]
                for field in ("seed", "names", "space", "options"):
                    if old.get(field) != header[field]:
                        raise TuningError(f"{path}: the log was written with a different {field} "
                                          f"({old.get(field)!r}); use a new log or the same settings")
                self._replay(events[1:])
                self._journal = journal.Journal(path)
                return
        self._journal = journal.Journal(path)
        self._journal.write(header)

    def _replay(self, events: list[dict[str, Any]]) -> None:
        for e in events:
            config = self.space.validate(e["config"])
            if e["event"] == "ask":
                self.pending[self.space.key(config)] = config
                self.n_asked += 1
            elif e["event"] == "tell":
                self.pending.pop(self.space.key(config), None)
                self.observations.append(Observation(config, e["value"], e.get("info", "")))

    def _write(self, event: dict[str, Any]) -> None:
        if self._journal is not None:
            self._journal.write(event)


def _check_result(result: Any) -> float | None:
    if result is INFEASIBLE:
        return None
    if isinstance(result, bool) or not isinstance(result, (int, float, np.integer, np.floating)):
        raise TuningError(f"a result is a number to minimise or treadle.tuning.INFEASIBLE, got {result!r}")
    value = float(result)
    if not math.isfinite(value):
        raise TuningError(f"result {value} is not finite; report a failed evaluation as INFEASIBLE")
    return value
