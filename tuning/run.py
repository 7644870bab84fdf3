"""`tune`: the evaluation loop around a Tuner, with an executor, a log, a progress bar and a plot."""

import math
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from tqdm import tqdm

from treadle.tuning.errors import TuningError
from treadle.tuning.executors import Executor, SerialExecutor, make_executor
from treadle.tuning.plot import plot_convergence
from treadle.tuning.space import Config, Space
from treadle.tuning.tuner import INFEASIBLE, Observation, Tuner

Objective = Callable[[Config], Any]


@dataclass
class TuneResult:
    best_config: Config | None
    best_value: float | None
    observations: list[Observation] = field(default_factory=list)
    log: Path | None = None
    plot: Path | None = None

    @property
    def values(self) -> list[float | None]:
        return [o.value for o in self.observations]


def evaluate(objective: Objective, config: Config) -> tuple[float | None, str]:
    """Run one evaluation; failures of any kind come back as (None, why): an unknown constraint."""
    try:
        result = objective(config)
    except Exception as err:  # a crashing configuration is an infeasible one, not a tuner error
        return None, f"{type(err).__name__}: {err}"[:500]
    if result is None or result is INFEASIBLE:
        return None, "infeasible"
    try:
        if isinstance(result, (bool, str)):
            raise TypeError
        value = float(result)
    except (TypeError, ValueError):
        return None, f"objective returned {result!r}, not a number"
    if not math.isfinite(value):
        return None, f"objective returned {value}"
    return value, ""


def tune(objective: Objective, space: Space, budget: int, *, seed: int = 0,
         executor: str | Executor | None = None, parallel: int = 1, log: str | Path | None = None,
         plot: str | Path | None = None, progress: bool = True, **tuner_options: Any) -> TuneResult:
    """Minimise `objective(config)` over `space` with `budget` evaluations in all.

    The objective returns a number, or INFEASIBLE / None / raises for a failed configuration.
    With `log`, an existing log is resumed: its evaluations count toward the budget and
    configurations asked but never finished are evaluated first.
    """
    if budget < 1:
        raise TuningError(f"budget must be at least 1, got {budget}")
    if parallel < 1:
        raise TuningError(f"parallel must be at least 1, got {parallel}")
    runner = make_executor(executor, parallel)
    if not isinstance(runner, SerialExecutor):
        try:
            pickle.dumps(objective)
        except Exception as err:
            runner.close()
            raise TuningError(f"the objective cannot be sent to worker processes ({err}); define it at "
                              "module level, or use executor='serial'") from None
    tuner = Tuner(space, seed, log=log, **tuner_options)
    redo = list(tuner.pending.values())  # asked before a crash, never told
    inflight: dict[Any, Config] = {}
    done = len(tuner.observations)
    try:
        with tqdm(total=budget, initial=min(done, budget), desc="tune", unit="eval",
                  disable=not progress, dynamic_ncols=True) as bar:
            while done + len(inflight) < budget or inflight:
                while len(inflight) < parallel and done + len(inflight) < budget:
                    config = redo.pop(0) if redo else tuner.ask(1)[0]
                    inflight[runner.submit(evaluate, objective, config)] = config
                for handle in runner.wait_any(list(inflight)):
                    config = inflight.pop(handle)
                    value, info = runner.result(handle)
                    tuner.tell(config, INFEASIBLE if value is None else value, info)
                    done += 1
                    bar.update(1)
                    if any(o.feasible for o in tuner.observations):
                        bar.set_postfix(best=f"{tuner.best[1]:.4g}")
    finally:
        runner.close()
        tuner.close()
    feasible = any(o.feasible for o in tuner.observations)
    best_config, best_value = tuner.best if feasible else (None, None)
    result = TuneResult(best_config, best_value, list(tuner.observations), Path(log) if log else None)
    if plot is not None:
        result.plot = plot_convergence({"treadle tuner": [result.values]}, plot, title="tuning convergence")
    return result
