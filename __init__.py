"""Treadle: tensor programs to fast code and faithful performance predictions, on xDSL.

The public names load on first use, so `treadle-opt` (which imports this package) starts
without numpy, torch or the solvers.
"""

from importlib import import_module
from typing import Any

from treadle.errors import CompileError, Error, ParseError, PipelineError, VerifyError

_LAZY = {
    "tensor": "treadle.tensors",
    "Tensor": "treadle.tensors",
    "einsum": "treadle.api",
    "run": "treadle.api",
    "build_program": "treadle.api",
    "parse": "treadle.pipeline",
    "run_pipeline": "treadle.pipeline",
    "explain": "treadle.runtime",
}

__all__ = [*_LAZY, "passes", "CompileError", "Error", "ParseError", "PipelineError", "VerifyError"]


def __getattr__(name: str) -> Any:
    if name == "passes":  # the package `treadle.passes` is callable: treadle.passes()
        return import_module("treadle.passes")
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'treadle' has no attribute '{name}'")
