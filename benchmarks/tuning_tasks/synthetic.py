"""Two synthetic mixed/permutation tasks whose optimum is known by construction.

Each cost is a product (or sum) of terms that are all at their minimum at one feasible
configuration, so the optimum value is exact; tests check it by enumeration/search.
"""

import math

import numpy as np

from treadle.tuning import INFEASIBLE, Categorical, Integer, Ordinal, Permutation, Real, Space

from treadle.benchmarks.tuning_tasks.task import Task

LOOPS = ("i", "j", "k", "l", "m", "n")
LOOP_TARGET = ("j", "i", "l", "k", "n", "m")
MIXED_TARGET = (2, 0, 4, 1, 3)


def kendall(a: tuple, b: tuple) -> int:
    """Number of item pairs ordered differently in a and b."""
    pos = {x: i for i, x in enumerate(b)}
    r = [pos[x] for x in a]
    return sum(1 for i in range(len(r)) for j in range(i + 1, len(r)) if r[i] > r[j])


def loop_nest_space() -> Space:
    return Space([
        Permutation("order", list(LOOPS)),
        Ordinal("tile_i", [4, 8, 16, 32, 64, 128, 256]),
        Ordinal("tile_j", [4, 8, 16, 32, 64, 128, 256]),
        Categorical("sched", ["static", "dynamic", "guided"]),
        Integer("unroll", 1, 16),
    ], constraints=["tile_i * tile_j <= 4096", "order.index('i') < order.index('k')"])


def loop_nest(c) -> float:
    """A loop nest: order, coupled tile sizes, schedule and unroll; unroll*tile_j > 1024 crashes."""
    if c["unroll"] * c["tile_j"] > 1024:
        return INFEASIBLE
    li, lj = math.log2(c["tile_i"]), math.log2(c["tile_j"])
    order = 1 + 0.15 * kendall(c["order"], LOOP_TARGET)
    tiles = 1 + 0.08 * (li - 5) ** 2 + 0.08 * (lj - 6) ** 2 + 0.1 * (li + lj - 11) ** 2
    sched = {"static": 1.3, "dynamic": 1.0, "guided": 1.1}[c["sched"]]
    unroll = 1 + 0.02 * (c["unroll"] - 8) ** 2 + (0.2 if c["unroll"] % 2 else 0.0)
    return 10.0 * order * tiles * sched * unroll


def mixed_space() -> Space:
    return Space([
        Real("alpha", 1e-3, 1.0, log=True),
        Real("beta", 0.0, 1.0),
        Permutation("perm", 5),
        Categorical("algo", ["a", "b", "c", "d"]),
        Ordinal("vec", [1, 2, 4, 8, 16]),
    ], constraints=["perm[0] != 0", "vec <= 8 or algo != 'a'"])


_BEST_VEC = {"a": 2, "b": 8, "c": 16, "d": 4}
_ALGO = {"a": 0.6, "b": 0.3, "c": 0.0, "d": 0.45}


def mixed(c) -> float:
    """Reals on log and linear scale, a permutation, and an algorithm whose best vector width
    differs; algo d with beta > 0.85 fails."""
    if c["algo"] == "d" and c["beta"] > 0.85:
        return INFEASIBLE
    a = math.log10(c["alpha"]) + 1.5
    perm = sum(abs(p - q) for p, q in zip(c["perm"], MIXED_TARGET))
    vec = abs(math.log2(c["vec"]) - math.log2(_BEST_VEC[c["algo"]]))
    return 1.0 + 0.8 * a * a + 2.0 * (c["beta"] - 0.3) ** 2 + 0.1 * perm + _ALGO[c["algo"]] + 0.15 * vec


def load() -> list[Task]:
    return [
        Task("synthetic-loopnest", loop_nest_space(), loop_nest, 10.0, 100.0,
             "perm of 6 + 2 coupled ordinals + categorical + integer; 2 known, 1 hidden constraint"),
        Task("synthetic-mixed", mixed_space(), mixed, 1.0, 5.0,
             "log real + real + perm of 5 + categorical + ordinal; 2 known, 1 hidden constraint"),
    ]


def optimum_config(name: str) -> dict:
    if name == "synthetic-loopnest":
        return {"order": LOOP_TARGET, "tile_i": 32, "tile_j": 64, "sched": "dynamic", "unroll": 8}
    return {"alpha": 10 ** -1.5, "beta": 0.3, "perm": MIXED_TARGET, "algo": "c", "vec": 16}


def exhaustive_minimum_loop_nest() -> float:
    """Minimum of loop_nest over its whole feasible space (for the test of the known optimum)."""
    space = loop_nest_space()
    best = np.inf
    order_p = space.by_name["order"]
    for order in order_p.domain():
        if order.index("i") > order.index("k"):
            continue
        for ti in space.by_name["tile_i"].values:
            for tj in space.by_name["tile_j"].values:
                if ti * tj > 4096:
                    continue
                for s in ("static", "dynamic", "guided"):
                    for u in range(1, 17):
                        v = loop_nest({"order": order, "tile_i": ti, "tile_j": tj, "sched": s, "unroll": u})
                        if v is not INFEASIBLE:
                            best = min(best, v)
    return float(best)
