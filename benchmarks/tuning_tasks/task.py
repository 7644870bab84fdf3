"""A benchmark task: a space, an objective with a known optimum, and a penalty for peers."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from treadle.tuning import Space


@dataclass
class Task:
    name: str
    space: Space
    objective: Callable[[dict[str, Any]], Any]  # a value, or treadle.tuning.INFEASIBLE
    optimum: float
    penalty: float  # what peers without a feasibility model are told before any feasible result
    note: str = ""
