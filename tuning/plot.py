"""Convergence plots: best-so-far against evaluations, one line per method (median over seeds with
an interquartile band when there are several runs)."""

from collections.abc import Mapping, Sequence
import warnings
from pathlib import Path

import numpy as np


def best_so_far(values: Sequence[float | None]) -> np.ndarray:
    """Running minimum of feasible values; NaN until the first feasible one."""
    out = np.full(len(values), np.nan)
    best = np.inf
    for i, v in enumerate(values):
        if v is not None and v < best:
            best = v
        out[i] = best if np.isfinite(best) else np.nan
    return out


def plot_convergence(runs: Mapping[str, Sequence[Sequence[float | None]]], path: str | Path, *,
                     optimum: float | None = None, title: str = "", log_y: bool = False) -> Path:
    """Write a PNG of best-so-far vs evaluations for each method in `runs` (method -> runs)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for name, method_runs in runs.items():
        curves = [best_so_far(r) for r in method_runs if len(r)]
        if not curves:
            continue
        n = max(len(c) for c in curves)
        grid = np.full((len(curves), n), np.nan)
        for i, c in enumerate(curves):
            grid[i, : len(c)] = c
            grid[i, len(c):] = c[-1]
        x = np.arange(1, n + 1)
        with warnings.catch_warnings():  # all-NaN columns before a method's first feasible result
            warnings.simplefilter("ignore", RuntimeWarning)
            med = np.nanmedian(grid, axis=0)
            lo, hi = np.nanpercentile(grid, 25, axis=0), np.nanpercentile(grid, 75, axis=0)
        line, = ax.plot(x, med, label=name if len(curves) == 1 else f"{name} (median of {len(curves)})")
        if len(curves) > 1:
            ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.2)
    if optimum is not None:
        ax.axhline(optimum, color="black", linestyle="--", linewidth=1, label="known optimum")
    if log_y:
        ax.set_yscale("log")
    ax.set_xlabel("evaluations")
    ax.set_ylabel("best value so far")
    if title:
        ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
