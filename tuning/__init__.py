"""Treadle's autotuner: BaCO-style Bayesian optimisation over compiler search spaces.

Knows nothing of the compiler: it sees a `Space` (real, integer, ordinal, categorical and
permutation parameters with known constraints) and an objective that returns a cost or
`INFEASIBLE`. See docs/tuning.md.

`tune_kernel` and `kernel_space` (tuning Treadle's own sparse kernels with compiled runs) live in
`treadle.kernel_tuning`, which composes the compiler with this package; they are loaded on first
use, so importing `treadle.tuning` imports nothing of the compiler (layering rule 5).
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
    "tune_kernel", "kernel_space", "KernelSpace", "KernelTuneResult",
]

_COMPOSED = ("tune_kernel", "kernel_space", "KernelSpace", "KernelTuneResult")


def __getattr__(name: str):
    if name in _COMPOSED:  # the compiler-side composer, imported only when asked for
        from importlib import import_module

        return getattr(import_module("treadle.kernel_tuning"), name)
    raise AttributeError(f"module 'treadle.tuning' has no attribute '{name}'")
