"""
Dense/sparse dispatch with a calibrated cost model, and `explain` for its decisions.

Why calibrated: whether a 10%-dense matrix is faster through BLAS or through a compiled sparse
kernel depends on the machine. On first use the model times probes — compiled CSR SpMMs at two
densities (seconds per stored entry × column, and per output row × column) and a dense torch
matmul (seconds per multiply-add), with 64 columns for products with 8 or more columns and
with 1 (SpMV and dense mv: memory-bound, so their costs differ) below — and predicts both sides
of each later call from nnz and shapes:

    sparse = nnz·k·c_sparse + m·k·c_out        dense = m·n·k·c_dense + m·n·c_densify

(for SpMV, c_dense from a matrix that stays in cache when the operand would too).

The dense side runs unless the sparse side is predicted DENSE_MARGIN times cheaper;
`explain_spmm` prints the numbers.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from treadle.tensors import Tensor


@dataclass(frozen=True)
class Calibration:
    c_sparse: float
    c_out: float
    c_dense: float
    c_densify: float
    c_dense_cached: float = 0.0
    """per multiply-add of a dense operand of at most CACHED_DENSE entries (0: as c_dense):
    a matrix-vector product over a matrix that stays in the last-level cache costs less per
    entry than one streamed from memory (here 1024²: 0.12-0.15 ms; 2048², four times the
    entries: 0.6-1 ms), and pricing both at the streamed rate sent SpMV on a 50%-dense
    1024² matrix to the sparse kernel at 2.6x the dense time"""

    def dense_per_entry(self, entries: int) -> float:
        return self.c_dense_cached if self.c_dense_cached and entries <= CACHED_DENSE else self.c_dense


DENSE_MARGIN = 1.5
"""The sparse kernel runs only when predicted this much faster than the dense side, whose cost is
regular (BLAS over m·n·k) where the sparse side's depends on the pattern and is priced from
uniform probes at 1-8% density. Near the boundary a wrong pick costs much more than the margin:
on the 50%-dense 1024² matrix (SpMM N = 32), with c_sparse between 4.0e-11 and 1.1e-10 s in five
processes (probes timed one after the other), one process picked the kernel at a predicted
0.75 ms (dense 1.08 ms), which took 2.9 ms against BLAS's 1.3 ms; timed in turns the probes
still spread 2.3x (3.8e-11 to 8.8e-11 s). A row near the boundary stays far ahead of
torch.sparse either way."""


def _dense_wins(dense: float, sparse: float) -> bool:
    return MODE == "dense" or (MODE == "auto" and dense < sparse * DENSE_MARGIN)


CACHED_DENSE = 1024 * 1024
"""Dense operands up to this many entries (4 MB of float32) are priced at the cached probe's rate."""
_CAL: dict[tuple[int, str], Calibration] = {}
"""Calibrations by probe width — 1 (SpMV, memory-bound) or 64 (SpMM) — and dense engine:
"torch" (the torch frontend's dense side) or "numpy" (treadle.einsum's, so that it needs no
torch)."""
MODE = "auto"
""""auto" (the model decides), "sparse" or "dense" (forced; for tests and benchmarks)."""


def _probe_time(fn, repeats: int = 15) -> float:
    """The median of `repeats` calls. Decisions compare typical times, so not the minimum:
    timed by their fastest call, the probes favoured the sparse kernel (its fastest call is
    further below its typical one than BLAS's) and sent SpMM on the 50%-dense pruned matrix to
    it at 0.87x of dense; 15 calls rather than 7 keep the median steady between processes."""
    return _probe_times([fn], repeats)[0]


def _probe_times(fns, repeats: int = 15) -> list[float]:
    """`_probe_time` of several callables timed in turns (one call of each per round), so that a
    slow spell of the machine falls on all of them: the per-entry cost is the difference of two
    probes, and timed one after the other it moved 15x between processes (7.7e-12 to 1.2e-10 s)."""
    for fn in fns:
        fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, ts in zip(fns, times):
            t = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t)
    return [float(np.median(ts)) for ts in times]


def probe_width(k: int) -> int:
    """The probe a product with `k` dense columns is predicted from."""
    return 1 if k < 8 else 64


def calibrate(k: int = 64, engine: str = "torch", force: bool = False) -> Calibration:
    """Time the probes for products with `k` columns once per process, probe width and dense
    engine (about 0.1 s after the probe kernels are cached)."""
    width = probe_width(k)
    if (width, engine) in _CAL and not force:
        return _CAL[width, engine]
    from treadle.dialects.sparse import named_encoding
    from treadle.runtime.kernels import spmm, spmv
    from treadle.tensors import from_coordinates

    rng = np.random.default_rng(0)
    # SpMV probes are larger: at 10k-80k entries an SpMV is tens of microseconds, about the
    # call overhead, and their difference (the per-entry cost) was mostly noise.
    m = n = 2048 if width == 1 else 1024
    small, large = (40_000, 320_000) if width == 1 else (10_000, 80_000)
    b = rng.random((n, width), dtype=np.float32)
    run = (lambda a: spmv(a, b[:, 0])) if width == 1 else (lambda a: spmm(a, b))

    def probe(nnz: int) -> Tensor:
        coords = np.unique(rng.integers(0, m, size=(nnz, 2)), axis=0).T
        values = rng.random(coords.shape[1]).astype(np.float32)
        return from_coordinates((m, n), coords, values, named_encoding("csr", 2))

    # Two probes that differ only in nnz separate the per-entry cost from the per-output-row cost.
    a1, a2 = probe(small), probe(large)
    t1, t2 = _probe_times([lambda: run(a1), lambda: run(a2)], 31)
    c_sparse = max(t2 - t1, 1e-9) / ((a2.nnz - a1.nnz) * width)
    c_out = max(t1 - c_sparse * a1.nnz * width, 0.0) / (m * width)
    # The dense side streams its matrix: a matrix-vector product is memory-bound, so it is
    # timed on a 2048² matrix (16 MB, beyond the caches' sweet spot); a matrix product is
    # compute-bound and timed at the probes' size.
    side = 2048 if width == 1 else m
    ad = rng.random((side, side), dtype=np.float32)
    bd = rng.random(side, dtype=np.float32) if width == 1 else b
    if engine == "torch":
        import torch

        ad, bd, zeros = torch.from_numpy(ad), torch.from_numpy(bd), torch.zeros
    else:
        zeros = np.zeros
    t_dense = _probe_time(lambda: ad @ bd)
    t_densify = _probe_time(lambda: zeros((m, n)))
    c_dense_cached = 0.0
    if width == 1:  # and on a matrix that stays in cache
        cached_side = math.isqrt(CACHED_DENSE)
        cached = ad[:cached_side, :cached_side]
        cached = cached.contiguous() if engine == "torch" else np.ascontiguousarray(cached)
        vector = bd[:cached_side]
        c_dense_cached = _probe_time(lambda: cached @ vector) / CACHED_DENSE
    _CAL[width, engine] = Calibration(
        c_sparse=c_sparse,
        c_out=c_out,
        c_dense=t_dense / (side * side * width),
        c_densify=t_densify / (m * n),
        c_dense_cached=c_dense_cached,
    )
    return _CAL[width, engine]


@dataclass(frozen=True)
class Decision:
    use_dense: bool
    sparse_seconds: float
    dense_seconds: float
    measured: bool = False
    """the times are medians measured on the call's own operands (see `AMBIGUOUS`), not predictions"""

    def explain(self) -> str:
        side = "dense (torch/BLAS)" if self.use_dense else "sparse (compiled treadle kernel)"
        dense = f"{self.dense_seconds * 1e3:.3f} ms" if self.dense_seconds != float("inf") else "not modelled at this size"
        how = "measured (the prediction was near the boundary)" if self.measured else "predicted"
        return f"{side}: {how} sparse {self.sparse_seconds * 1e3:.3f} ms, dense {dense}"


AMBIGUOUS = 3.0
"""A prediction within this factor of the boundary (dense = sparse · DENSE_MARGIN) is checked
when the caller can run both sides: each is timed on the call's own operands (about
MEASURED_SECONDS of calls each, in turns, after a warm-up) and the decision kept for operands of that shape and nnz (what the
model sees of them, so a product on fresh operands of one pattern each call, an attention
layer's probabilities, is measured once). Near the boundary the model's errors decide the pick
— it prices the sparse side from uniform probes (on the 50%-dense pruned matrix the kernel ran
2x its prediction) and the calibration moves between processes (one sent SpMM N = 32 on the
14%-dense bigbird-2k mask to BLAS at 4.6 ms, the kernel's 1.1 ms and torch.sparse's 2.0 ms) —
and a wrong pick costs more than the check."""
MEASURED_MARGIN = 1.2
"""Measured, the sparse kernel is taken only when this much faster than the dense side: medians
of three calls moved by 10-20% between checks here, and on near-equal sides (SpMM N = 32 on the
50%-dense pruned matrix: 1.0-1.6 ms against BLAS's 0.9-1.3 ms) the dense side's cost is the
steadier one."""
MEASURED_ROUNDS = (3, 15)
MEASURED_SECONDS = 0.02
"""A measured decision times each side for about this long (predicted), in 3 to 15 rounds: on
the 50%-dense 1024² matrix, where each side is within 20% of the other (SpMV 0.1-0.2 ms, SpMM
N = 128 2-3.5 ms), the medians of three calls swapped their order between checks here. Once per
operand shape and nnz: 15 calls per side of a product under 1.3 ms, ~40 ms of calls up to
6.7 ms, three calls per side beyond."""
MEASURED_MIN_SECONDS = 1e-4
"""Products predicted to take less on both sides are not measured: either pick costs little,
and timings that short are mostly call overhead."""
_MEASURED: dict[tuple, Decision] = {}
_MEASURED_ENTRIES = 4096


def _measured_key(operand: Tensor, key: tuple) -> tuple:
    return (operand.shape, operand.nnz, operand.values.dtype, *key)


def _remembered(operand: Tensor, key: tuple, run_sparse, run_dense) -> Decision | None:
    """A measured decision for this call, looked up before anything is predicted: the hot path
    of a product called again and again near the boundary (the prediction and the lookup of its
    calibration cost ~2 µs, 1-2% of a 0.13 ms SpMV on the 50%-dense pruned matrix, a row that
    sits within 10% of the dense side)."""
    if run_sparse is None or run_dense is None or MODE != "auto" or not _MEASURED:
        return None
    return _MEASURED.get(_measured_key(operand, key))


def _decide(sparse: float, dense: float, operand: Tensor, key: tuple, run_sparse, run_dense) -> Decision:
    """The predicted decision, or the measured one for `operand`'s shape and nnz and `key` when
    the prediction is ambiguous and both runners are given. On every product call: the
    measured decision is looked up before a Decision is built."""
    if (run_sparse is not None and run_dense is not None and MODE == "auto" and dense != float("inf") and sparse > 0
            and max(sparse, dense) >= MEASURED_MIN_SECONDS and 1 / AMBIGUOUS < dense / (sparse * DENSE_MARGIN) < AMBIGUOUS):
        full = _measured_key(operand, key)
        hit = _MEASURED.get(full)
        if hit is None:
            rounds = min(MEASURED_ROUNDS[1], max(MEASURED_ROUNDS[0], int(MEASURED_SECONDS / max(sparse, dense))))
            t_sparse, t_dense = _probe_times([run_sparse, run_dense], rounds)
            if len(_MEASURED) >= _MEASURED_ENTRIES:
                _MEASURED.pop(next(iter(_MEASURED)))
            hit = _MEASURED[full] = Decision(t_dense < t_sparse * MEASURED_MARGIN, t_sparse, t_dense, measured=True)
        return hit
    return Decision(_dense_wins(dense, sparse), sparse, dense)


def choose_spmm(a: Tensor, k: int, dense_available: bool = False, engine: str = "torch",
                run_sparse=None, run_dense=None) -> Decision:
    """SpMM A (m×n, nnz) @ B (n×k) (k = 1: SpMV): which side is cheaper, the dense side being
    `engine`'s matmul ("torch" or "numpy"). With `run_sparse` and `run_dense` (callables doing
    this call's product each way), an ambiguous prediction is measured (`AMBIGUOUS`)."""
    key = ("spmm", k, dense_available, engine)
    if (hit := _remembered(a, key, run_sparse, run_dense)) is not None:
        return hit
    cal = calibrate(k, engine)
    m, n = a.shape
    sparse = a.nnz * k * cal.c_sparse + m * k * cal.c_out
    dense = m * n * k * cal.dense_per_entry(m * n) + (0.0 if dense_available else m * n * cal.c_densify * 4)
    return _decide(sparse, dense, a, key, run_sparse, run_dense)


def explain_spmm(a: Tensor, k: int) -> str:
    return choose_spmm(a, k).explain()


@dataclass(frozen=True)
class SddmmCalibration:
    c_entry: float
    """seconds per stored entry × k of the compiled SDDMM (a gathered row of Eᵀ, a dot product)"""
    c_mask: float
    """seconds per stored entry of taking a dense matrix's values at a CSR pattern (compiled)"""


_SDDMM_CAL: SddmmCalibration | None = None


def calibrate_sddmm(force: bool = False) -> SddmmCalibration:
    """Time the SDDMM probes once per process (about 0.2 s): compiled SDDMMs (K = 32) at two densities (the
    cost per stored entry × k is their difference: SDDMM's dot products cost several times an
    SpMM's per-column update, so the SpMM probes do not predict it) and the compiled masked
    gather of a dense matrix the dense route ends with (both compiled: no dense engine)."""
    global _SDDMM_CAL
    if _SDDMM_CAL is not None and not force:
        return _SDDMM_CAL
    from treadle.dialects.sparse import named_encoding
    from treadle.runtime.kernels import sddmm, take_at_pattern
    from treadle.tensors import from_coordinates

    rng = np.random.default_rng(1)
    m = n = 1024
    k = 32
    d, e = rng.random((m, k), dtype=np.float32), rng.random((k, n), dtype=np.float32)
    g = rng.random((m, n), dtype=np.float32)
    csr = named_encoding("csr", 2)

    def pattern(density: float) -> Tensor:
        coords = np.array(np.nonzero(rng.random((m, n)) < density))
        return from_coordinates((m, n), coords, np.ones(coords.shape[1], np.float32), csr)

    # Dense probes (10% and 40%): the dense route only wins on dense masks, and there the
    # gather at the pattern streams G's rows (at 1-8% each entry touched its own cache line,
    # which priced the gather at twice its cost on a 50%-dense mask).
    small, large = pattern(0.1), pattern(0.4)
    t1, t2 = _probe_times([lambda a=a: sddmm(a, d, e, csr) for a in (small, large)])
    c_entry = max(t2 - t1, 1e-9) / ((large.nnz - small.nnz) * k)
    m1, m2 = _probe_times([lambda a=a: take_at_pattern(a, g) for a in (small, large)])
    c_mask = max(m2 - m1, 1e-9) / (large.nnz - small.nnz)
    _SDDMM_CAL = SddmmCalibration(c_entry, c_mask)
    return _SDDMM_CAL


def choose_sddmm(a: Tensor, k: int, engine: str = "torch", run_sparse=None, run_dense=None) -> Decision:
    """SDDMM A ∘ (D @ E) (A m×n with nnz stored entries, D m×k): the compiled kernel, or the
    dense route — `engine`'s matmul D @ E and its values taken at A's pattern — when that is
    predicted cheaper, which the model only considers while D @ E stays in cache (at most
    CACHED_DENSE entries, the probes' size): on 2048² matrices the dense route ran 2-3x
    slower than predicted (a 16 MB product written and read back) and lost to the kernel.
    With both runners, an ambiguous prediction is measured (`AMBIGUOUS`)."""
    key = ("sddmm", k, engine)
    if (hit := _remembered(a, key, run_sparse, run_dense)) is not None:
        return hit
    cal, sd = calibrate(64, engine), calibrate_sddmm()
    m, n = a.shape
    sparse = a.nnz * k * sd.c_entry
    dense = m * n * k * cal.c_dense + m * n * cal.c_densify + a.nnz * sd.c_mask
    modelled = m * n <= CACHED_DENSE
    return _decide(sparse, dense if modelled else float("inf"), a, key, run_sparse, run_dense)


_PRUNED: dict[int, tuple[Any, Tensor | None]] = {}


def pruned_view(weight: Any, batch: int) -> Tensor | None:
    """A CSR copy of a mostly-zero dense weight when the model says sparse wins, else None."""
    key = id(weight)
    version = getattr(weight, "_version", 0)
    hit = _PRUNED.get(key)
    if hit is not None and hit[0] == (weight, version, batch, MODE):
        return hit[1]
    import torch

    view = None
    if weight.layout == torch.strided and weight.dim() == 2:
        w = weight.detach().numpy()
        nnz = int(np.count_nonzero(w))
        cal = calibrate(batch)
        o, i = w.shape
        sparse = nnz * batch * cal.c_sparse + o * batch * cal.c_out
        dense = o * i * batch * cal.c_dense
        if not _dense_wins(dense, sparse):
            from treadle.dialects.sparse import named_encoding
            from treadle.tensors import from_coordinates

            idx = np.nonzero(w)
            view = from_coordinates(w.shape, np.array(idx), w[idx], named_encoding("csr", 2))
    _PRUNED[key] = ((weight, version, batch, MODE), view)
    return view
