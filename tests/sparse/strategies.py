"""Hypothesis strategies: sparse arrays with empty rows/columns, zero tensors, and formats."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

FORMATS_BY_RANK = {
    0: ["dense"],
    1: ["dense", "compressed", "coo"],
    2: ["dense", "csr", "csc", "coo", "dcsr", "dcsc", "bsr:1x1", "bsr:2x2", "bsr:1x3", "bsr:2x1"],
    3: ["dense", "coo", "csf"],
}


@st.composite
def sparse_arrays(draw, shape: tuple[int, ...], dtype=np.float64) -> np.ndarray:
    """An array of `shape` with a drawn density (0 to 1), so some rows/columns are empty."""
    density = draw(st.sampled_from([0.0, 0.1, 0.3, 0.7, 1.0]))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    values = rng.uniform(-2, 2, size=shape).astype(dtype)
    mask = rng.random(shape) < density
    return np.where(mask, values, 0).astype(dtype)


def formats_for(shape: tuple[int, ...]) -> list[str]:
    """Named formats valid for `shape` (block sizes must divide the dimensions)."""
    out = []
    for name in FORMATS_BY_RANK[len(shape)]:
        if name.startswith("bsr:"):
            r, c = (int(v) for v in name[4:].split("x"))
            if shape[0] % r or shape[1] % c:
                continue
        out.append(name)
    return out


@st.composite
def formatted(draw, shape: tuple[int, ...]) -> tuple[np.ndarray, str]:
    return draw(sparse_arrays(shape)), draw(st.sampled_from(formats_for(shape)))


dims = st.sampled_from([0, 1, 2, 3, 4, 6])
