"""Objective hooks for the command line: a Python function by import path, or a shell command.

A shell command gets the configuration three ways: `{name}` placeholders in the command text
(permutations as comma-separated items), JSON on stdin, and JSON in $TREADLE_CONFIG. It must print
the cost as the last line of stdout; a non-zero exit, a timeout or a non-number is infeasible.
"""

import importlib
import json
import os
import subprocess
from typing import Any, Callable

from treadle.tuning.errors import TuningError
from treadle.tuning.tuner import INFEASIBLE


def import_objective(path: str) -> Callable[[dict[str, Any]], Any]:
    """The callable named by `module.sub:function`."""
    module_name, sep, attr = path.partition(":")
    if not sep or not module_name or not attr:
        raise TuningError(f"objective {path!r} must look like `package.module:function`")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise TuningError(f"cannot import objective module `{module_name}`: {err}") from None
    fn = module
    for part in attr.split("."):
        fn = getattr(fn, part, None)
        if fn is None:
            raise TuningError(f"module `{module_name}` has no attribute `{attr}`")
    if not callable(fn):
        raise TuningError(f"objective `{path}` is not callable")
    return fn


class ShellObjective:
    """Runs `command` per configuration and reads the cost from its last line of output."""

    def __init__(self, command: str, timeout: float | None = None):
        self.command = command
        self.timeout = timeout

    def __call__(self, config: dict[str, Any]):
        text = json.dumps({k: list(v) if isinstance(v, tuple) else v for k, v in config.items()})
        fields = {k: ",".join(map(str, v)) if isinstance(v, tuple) else v for k, v in config.items()}
        try:
            command = self.command.format_map(fields)
        except (KeyError, IndexError, ValueError) as err:
            raise TuningError(f"command {self.command!r}: bad placeholder {err}") from None
        try:
            proc = subprocess.run(command, shell=True, input=text, capture_output=True, text=True,
                                  timeout=self.timeout, env={**os.environ, "TREADLE_CONFIG": text})
        except subprocess.TimeoutExpired:
            return INFEASIBLE
        if proc.returncode != 0:
            return INFEASIBLE
        lines = [ln for ln in proc.stdout.strip().splitlines() if ln.strip()]
        try:
            return float(lines[-1])
        except (IndexError, ValueError):
            return INFEASIBLE
