"""Cost normalization (Twill §5.2): raw cycle costs -> small integers, order preserved.

Exact solvers slow down with large constants, so costs are mapped to integers C' >= 1 with a
bounded sum that keep the ratios: the paper minimizes F subject to |C_i C'_j - C_j C'_i| <= F
with a ZLP (SCIP). A Z3 `Optimize` version of that ZLP took 20-60 s here and, when cut off,
returned time-dependent answers, so we search instead: C' = max(1, round(C / s)) for every scale
s at which some cost crosses an integer (all breakpoints C_i / c, c = 1..bound), keep the C' whose
sum lies in [0.8 bound, bound] (F grows with the scale of C', so an unbounded-below sum would always
pick the coarsest scale) and minimize F; ties go to the finer scale. Rounding by one scale is
monotone, so the order of costs is kept. Deterministic, a few milliseconds.
"""

from __future__ import annotations

from math import gcd
from functools import reduce


def cross_error(values: list[int], scaled: list[int]) -> int:
    """F: the largest |C_i C'_j - C_j C'_i| over all pairs."""
    return max((abs(values[i] * scaled[j] - values[j] * scaled[i])
                for i in range(len(values)) for j in range(i + 1, len(values))), default=0)


def normalize_costs(raw: list[int], bound: int = 100) -> dict[int, int]:
    """Map each distinct positive raw cost to a small positive integer."""
    values = sorted({int(c) for c in raw if c > 0})
    if not values:
        return {}
    g = reduce(gcd, values)
    if sum(values) // g <= bound:
        return {v: v // g for v in values}  # exact already
    best: tuple[int, int, list[int]] | None = None
    for v in values:
        for c in range(1, bound + 1):
            scale = v / c
            scaled = [max(1, round(x / scale)) for x in values]
            total = sum(scaled)
            if not (4 * bound) // 5 <= total <= bound:
                continue
            key = (cross_error(values, scaled), -total)
            if best is None or key < best[:2]:
                best = (*key, scaled)
    if best is None:  # every scale overshoots: too many distinct costs for the bound
        scaled = [max(1, round(x * bound / sum(values))) for x in values]
    else:
        scaled = best[2]
    return dict(zip(values, scaled, strict=True))
