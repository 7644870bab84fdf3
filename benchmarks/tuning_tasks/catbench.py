"""CATBench tables replayed as objectives.

Every method proposes configurations of the full declared space (with CATBench's known
constraints). A configuration present in the table costs its measured time; one absent from it
costs the time of its nearest row (a 1-nearest-neighbour surrogate fitted on the table) under a
method-neutral distance: rank distance for ordinals, range-normalised distance for integers, 0/1
for categoricals and normalised Kendall distance for permutations, summed. Rows that violate the
known constraints are dropped; rows with time 0 (failed runs) are infeasible, as are their
neighbourhoods. The known optimum is the best remaining row.
"""

import ast
import csv
import itertools
from pathlib import Path

import numpy as np

from treadle.tuning import INFEASIBLE, Categorical, Integer, Ordinal, Permutation, Space

from treadle.benchmarks.tuning_tasks.task import Task

SPACES = Path(__file__).resolve().parent.parent / "spaces"
TABLES = ("spmm_2630", "spmv_2630", "mm_rtxtitan", "harris_rtxtitan")


def _parse(p, text: str):
    if isinstance(p, Permutation):
        return tuple(ast.literal_eval(text))
    if isinstance(p, Categorical):
        for value in p.values:  # string choices (formats, schedules) as written
            if str(value) == text:
                return value
    v = float(text)
    return int(v) if v.is_integer() else v


class TableReplay:
    """The objective of one table (picklable, so process pools and Dask can run it)."""

    def __init__(self, space: Space, csv_path: Path):
        """Rows of `csv_path`: one column per parameter (permutations as tuple literals) and
        `compute_time`; rows outside the declared space or violating its known constraints are
        dropped."""
        self.space = space
        self.table: dict[tuple, float] = {}
        rows, times = [], []
        with csv_path.open() as f:
            for row in csv.DictReader(f):
                cfg = {p.name: _parse(p, row[p.name]) for p in space.parameters}
                try:
                    cfg = space.validate(cfg)
                except Exception:
                    continue  # a value outside the declared space
                if not space.is_feasible(cfg):
                    continue
                key = space.key(cfg)
                t = float(row["compute_time"])
                if key in self.table:  # repeated measurement: keep the mean of feasible ones
                    continue
                self.table[key] = t
                rows.append(cfg)
                times.append(t)
        self.times = np.array(times)
        self.columns = [self._column(p, [r[p.name] for r in rows]) for p in space.parameters]

    def _column(self, p, values):
        if isinstance(p, Ordinal):
            return np.array([p.index(v) for v in values], float) / (len(p.values) - 1)
        if isinstance(p, Integer):
            return (np.array(values, float) - p.low) / (p.high - p.low)
        if isinstance(p, Categorical):
            return np.array([p.values.index(v) for v in values])
        pairs = list(itertools.combinations(p.items, 2))
        return np.array([[v.index(a) < v.index(b) for a, b in pairs] for v in values], float)

    def nearest(self, config) -> int:
        dist = np.zeros(len(self.times))
        for p, col in zip(self.space.parameters, self.columns):
            q = self._column(p, [config[p.name]])
            if isinstance(p, Categorical):
                dist += col != q[0]
            elif isinstance(p, Permutation):
                dist += np.abs(col - q[0]).sum(axis=1) / col.shape[1]
            else:
                dist += np.abs(col - q[0])
        return int(np.argmin(dist))

    def __call__(self, config):
        t = self.table.get(self.space.key(config))
        if t is None:
            t = float(self.times[self.nearest(config)])
        return INFEASIBLE if t <= 0 else t


def load(data_dir: Path) -> list[Task]:
    tasks = []
    for name in TABLES:
        path = data_dir / f"{name}.csv"
        if not path.exists():
            continue
        space = Space.load(SPACES / f"{name}.json")
        replay = TableReplay(space, path)
        ok = replay.times[replay.times > 0]
        tasks.append(Task(f"catbench-{name}", space, replay, float(ok.min()), float(ok.max()),
                          f"{len(replay.times)} feasible distinct rows, {int((replay.times <= 0).sum())} failed"))
    return tasks
