"""Small importable objectives for trying the tuner (`treadle tune ... --objective
treadle.tuning.examples:loop_nest`) and for tests that run in worker processes."""

import math

from treadle.tuning.tuner import INFEASIBLE

LOOP_NEST_SPACE = {
    "parameters": {
        "order": {"parameter_type": "permutation", "values": ["i", "j", "k"]},
        "tile": {"parameter_type": "ordinal", "values": [8, 16, 32, 64, 128]},
        "sched": {"parameter_type": "categorical", "values": ["static", "dynamic"]},
        "unroll": {"parameter_type": "integer", "values": [1, 8]},
        "alpha": {"parameter_type": "real", "values": [0.001, 1.0], "transform": "log"},
    },
    "constraints": ["tile * unroll <= 256", "order.index('i') < order.index('k')"],
}


def loop_nest(config: dict) -> float:
    """A loop-nest-like cost with its minimum 1.0 at order (j, i, k), tile 32, dynamic, unroll 4,
    alpha 0.05; unroll 7 'fails to compile' (an unknown constraint)."""
    if config["unroll"] == 7:
        return INFEASIBLE
    order = 0.3 * sum(1 for a, b in zip(config["order"], ("j", "i", "k")) if a != b)
    tile = 0.1 * (math.log2(config["tile"]) - 5) ** 2
    sched = 0.0 if config["sched"] == "dynamic" else 0.4
    unroll = 0.05 * abs(config["unroll"] - 4)
    alpha = 0.2 * math.log10(config["alpha"] / 0.05) ** 2
    return 1.0 + order + tile + sched + unroll + alpha


def crashing(config: dict) -> float:
    """Raises for large tiles, to show that a crash is an infeasible result, not a tuner error."""
    if config["tile"] >= 64:
        raise RuntimeError("tile too large: out of registers")
    return loop_nest(config)
