"""Treadle's autotuner: BaCO-style Bayesian optimisation over compiler search spaces.

Knows nothing of the compiler: it sees a `Space` (real, integer, ordinal, categorical and
permutation parameters with known constraints) and an objective that returns a cost or
`INFEASIBLE`. See docs/tuning.md.
"""

from treadle.tuning.constraints import Constraint
from treadle.tuning.errors import ConstraintError, SamplingError, SpaceError, TuningError
from treadle.tuning.executors import DaskExecutor, Executor, ProcessExecutor, SerialExecutor
from treadle.tuning.parameters import Categorical, Integer, Ordinal, Parameter, Permutation, Real
from treadle.tuning.plot import plot_convergence
from treadle.tuning.run import TuneResult, tune
from treadle.tuning.sampling import ConstrainedSampler
from treadle.tuning.space import Config, Space
from treadle.tuning.tuner import INFEASIBLE, Observation, Tuner

__all__ = [
    "Categorical", "Config", "ConstrainedSampler", "Constraint", "ConstraintError", "DaskExecutor",
    "Executor", "INFEASIBLE", "Integer", "Observation", "Ordinal", "Parameter", "Permutation",
    "ProcessExecutor", "Real", "SamplingError", "SerialExecutor", "Space", "SpaceError", "TuneResult",
    "Tuner", "TuningError", "plot_convergence", "tune",
]
