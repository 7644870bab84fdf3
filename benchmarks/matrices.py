"""Reproducible sparse matrices for Scorch's benchmarks, generated offline from a seed.

No real SuiteSparse/SNAP data can be downloaded here, so each family stands in for one kind of
real input: R-MAT power-law graphs (adjacency of GCN/GraphSAGE), uniform random matrices at a
fixed density, banded matrices (PDE stencils), BigBird block-sparse attention masks and
magnitude-pruned weights (unstructured 90% and 2:4). Every generator returns a canonical
`scipy.sparse.csr_matrix` (sorted indices, no duplicates, int32 indices) and is a pure function
of its arguments and seed. `SUITE_QUICK` and `SUITE_FULL` name the benchmark matrices; `load`
caches the larger ones as .npz files.
"""

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

_CACHE_VERSION = 1


def _finish(coo_rows: np.ndarray, coo_cols: np.ndarray, values: np.ndarray, shape: tuple[int, int], dtype) -> sp.csr_matrix:
    """A canonical CSR matrix (duplicates must already be removed by the caller)."""
    m = sp.csr_matrix((values.astype(dtype), (coo_rows, coo_cols)), shape=shape)
    m.sum_duplicates()
    m.sort_indices()
    m.indptr = m.indptr.astype(np.int32)
    m.indices = m.indices.astype(np.int32)
    return m


def _values(rng: np.random.Generator, count: int, values: str) -> np.ndarray:
    if values == "ones":
        return np.ones(count)
    if values == "uniform":
        # Bounded away from zero so that no stored entry is an explicit zero.
        return rng.uniform(0.1, 1.0, count) * rng.choice([-1.0, 1.0], count)
    raise ValueError(f"values must be 'ones' or 'uniform', got {values!r}")


def rmat(
    scale: int,
    edge_factor: int = 16,
    *,
    a: float = 0.57,
    b: float = 0.19,
    c: float = 0.19,
    seed: int = 0,
    permute: bool = True,
    values: str = "uniform",
    dtype=np.float32,
) -> sp.csr_matrix:
    """A 2**scale square R-MAT (Kronecker) graph with about edge_factor * 2**scale edges.

    Each edge picks one quadrant per level with probabilities a, b, c, d = 1 - a - b - c
    (Graph500 parameters by default); duplicate edges collapse, so nnz is a little below the
    edge count. `permute` relabels vertices randomly, as Graph500 does, so that the high-degree
    vertices are not all at index 0.
    """
    if not 0 < scale <= 30:
        raise ValueError(f"scale must be in 1..30, got {scale}")
    d = 1.0 - a - b - c
    if min(a, b, c, d) < 0:
        raise ValueError("R-MAT probabilities must be non-negative and sum to at most 1")
    rng = np.random.default_rng(seed)
    n, edges = 1 << scale, edge_factor << scale
    rows = np.zeros(edges, np.int64)
    cols = np.zeros(edges, np.int64)
    for level in range(scale):
        u = rng.random(edges)
        down = u >= a + b  # quadrants c and d: the lower half
        right = ((u >= a) & (u < a + b)) | (u >= a + b + c)  # quadrants b and d: the right half
        rows |= down.astype(np.int64) << level
        cols |= right.astype(np.int64) << level
    if permute:
        relabel = rng.permutation(n)
        rows, cols = relabel[rows], relabel[cols]
    keys = np.unique(rows * n + cols)
    return _finish(keys // n, keys % n, _values(rng, len(keys), values), (n, n), dtype)


def uniform_random(
    m: int, n: int, density: float, *, seed: int = 0, values: str = "uniform", dtype=np.float32
) -> sp.csr_matrix:
    """An m×n matrix with exactly round(density·m·n) nonzeros at uniformly random positions."""
    if not 0 <= density <= 1:
        raise ValueError(f"density must be in [0, 1], got {density}")
    rng = np.random.default_rng(seed)
    total = m * n
    nnz = int(round(density * total))
    if nnz > total // 2:
        keys = np.sort(rng.permutation(total)[:nnz])
    else:
        keys = np.empty(0, np.int64)
        while len(keys) < nnz:  # rejection of repeats; few rounds since density <= 1/2
            keys = np.unique(np.concatenate([keys, rng.integers(0, total, int((nnz - len(keys)) * 1.1) + 16)]))
        keys = np.sort(rng.permutation(keys)[:nnz])
    return _finish(keys // max(n, 1), keys % max(n, 1), _values(rng, nnz, values), (m, n), dtype)


def banded(n: int, bandwidth: int, *, seed: int = 0, values: str = "uniform", dtype=np.float32) -> sp.csr_matrix:
    """An n×n matrix with every entry |i - j| <= bandwidth stored."""
    rng = np.random.default_rng(seed)
    offsets = np.arange(-bandwidth, bandwidth + 1)
    rows = np.repeat(np.arange(n), len(offsets))
    cols = rows + np.tile(offsets, n)
    keep = (cols >= 0) & (cols < n)
    rows, cols = rows[keep], cols[keep]
    return _finish(rows, cols, _values(rng, len(rows), values), (n, n), dtype)


def bigbird_block_pattern(
    num_blocks: int, *, window: int = 1, global_blocks: int = 2, random_blocks: int = 2, seed: int = 0
) -> np.ndarray:
    """The block-level BigBird mask: a ±window band, `global_blocks` full rows and columns, and
    `random_blocks` extra random blocks per non-global row (chosen among its empty blocks)."""
    rng = np.random.default_rng(seed)
    i, j = np.indices((num_blocks, num_blocks))
    pattern = (np.abs(i - j) <= window) | (i < global_blocks) | (j < global_blocks)
    for row in range(global_blocks, num_blocks):
        free = np.flatnonzero(~pattern[row])
        pattern[row, rng.choice(free, min(random_blocks, len(free)), replace=False)] = True
    return pattern


def bigbird_mask(
    seq_len: int,
    block: int,
    *,
    window: int = 1,
    global_blocks: int = 2,
    random_blocks: int = 2,
    seed: int = 0,
    values: str = "ones",
    dtype=np.float32,
) -> sp.csr_matrix:
    """A seq_len×seq_len attention mask made of dense block×block tiles (BigBird layout)."""
    if seq_len % block:
        raise ValueError(f"seq_len {seq_len} must be a multiple of block {block}")
    pattern = bigbird_block_pattern(
        seq_len // block, window=window, global_blocks=global_blocks, random_blocks=random_blocks, seed=seed
    )
    tiles = sp.kron(sp.csr_matrix(pattern.astype(np.float64)), np.ones((block, block)), format="coo")
    rng = np.random.default_rng(seed + 1)
    return _finish(tiles.row, tiles.col, _values(rng, tiles.nnz, values), (seq_len, seq_len), dtype)


def pruned_weights(m: int, n: int, sparsity: float = 0.9, *, seed: int = 0, dtype=np.float32) -> sp.csr_matrix:
    """Gaussian m×n weights with the smallest-magnitude `sparsity` fraction set to zero (global
    magnitude pruning); keeps exactly round((1 - sparsity)·m·n) entries."""
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((m, n)).astype(dtype)
    keep = int(round((1 - sparsity) * m * n))
    flat = np.abs(w).ravel()
    chosen = np.argpartition(-flat, keep - 1)[:keep] if 0 < keep < flat.size else np.arange(keep)
    mask = np.zeros(flat.size, bool)
    mask[chosen] = True
    return sp.csr_matrix(np.where(mask.reshape(m, n), w, 0), dtype=dtype) if keep else sp.csr_matrix((m, n), dtype=dtype)


def pruned_2_4(m: int, n: int, *, seed: int = 0, dtype=np.float32) -> sp.csr_matrix:
    """Gaussian m×n weights pruned 2:4: in each row, of every 4 consecutive columns the 2 of
    largest magnitude are kept (the NVIDIA structured-sparsity pattern)."""
    if n % 4:
        raise ValueError(f"2:4 pruning needs a column count divisible by 4, got {n}")
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((m, n)).astype(dtype)
    groups = np.abs(w).reshape(m, n // 4, 4)
    order = np.argsort(-groups, axis=2, kind="stable")
    mask = np.zeros_like(groups, bool)
    np.put_along_axis(mask, order[:, :, :2], True, axis=2)
    return sp.csr_matrix(np.where(mask.reshape(m, n), w, 0), dtype=dtype)


_GENERATORS = {
    "rmat": rmat,
    "uniform": uniform_random,
    "banded": banded,
    "bigbird": bigbird_mask,
    "pruned": pruned_weights,
    "pruned24": pruned_2_4,
}


@dataclass(frozen=True)
class MatrixSpec:
    """A named benchmark matrix: a generator and its arguments (seed included)."""

    name: str
    kind: str
    params: dict[str, Any] = field(default_factory=dict[str, Any])

    def build(self, dtype=np.float32) -> sp.csr_matrix:
        return _GENERATORS[self.kind](**self.params, dtype=dtype)

    def key(self, dtype) -> str:
        text = repr((_CACHE_VERSION, self.kind, sorted(self.params.items()), np.dtype(dtype).str))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


SUITE_QUICK: tuple[MatrixSpec, ...] = (
    MatrixSpec("rmat-s10", "rmat", dict(scale=10, edge_factor=8, seed=1)),
    MatrixSpec("uniform-512-1%", "uniform", dict(m=512, n=512, density=0.01, seed=2)),
    MatrixSpec("uniform-256-10%", "uniform", dict(m=256, n=256, density=0.10, seed=3)),
    MatrixSpec("banded-2k-b3", "banded", dict(n=2048, bandwidth=3, seed=4)),
    MatrixSpec("bigbird-512-b16", "bigbird", dict(seq_len=512, block=16, seed=5)),
    MatrixSpec("pruned90-256x512", "pruned", dict(m=256, n=512, sparsity=0.9, seed=6)),
    MatrixSpec("pruned24-128x256", "pruned24", dict(m=128, n=256, seed=7)),
)

SUITE_FULL: tuple[MatrixSpec, ...] = (
    MatrixSpec("rmat-s14", "rmat", dict(scale=14, edge_factor=16, seed=11)),
    MatrixSpec("rmat-s16", "rmat", dict(scale=16, edge_factor=8, seed=12)),
    MatrixSpec("rmat-s17", "rmat", dict(scale=17, edge_factor=8, seed=13)),
    MatrixSpec("uniform-16k-0.1%", "uniform", dict(m=16384, n=16384, density=0.001, seed=14)),
    MatrixSpec("uniform-8k-1%", "uniform", dict(m=8192, n=8192, density=0.01, seed=15)),
    MatrixSpec("uniform-2k-10%", "uniform", dict(m=2048, n=2048, density=0.10, seed=16)),
    MatrixSpec("banded-100k-b4", "banded", dict(n=100_000, bandwidth=4, seed=17)),
    MatrixSpec("bigbird-2k-b32", "bigbird", dict(seq_len=2048, block=32, seed=18)),
    MatrixSpec("bigbird-4k-b16", "bigbird", dict(seq_len=4096, block=16, seed=19)),
    MatrixSpec("pruned90-1024x4096", "pruned", dict(m=1024, n=4096, sparsity=0.9, seed=20)),
    MatrixSpec("pruned24-1024x1024", "pruned24", dict(m=1024, n=1024, seed=21)),
)


def matrix_cache_dir() -> Path:
    if root := os.environ.get("TREADLE_CACHE_DIR"):
        return Path(root) / "matrices"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "treadle" / "matrices"


def load(spec: MatrixSpec, dtype=np.float32, *, cache: bool = True) -> sp.csr_matrix:
    """The matrix of `spec`, read from the .npz cache when present, else built (and stored)."""
    if not cache:
        return spec.build(dtype)
    path = matrix_cache_dir() / f"{spec.name}-{spec.key(dtype)}.npz"
    if path.exists():
        m = sp.load_npz(path).tocsr()
        m.indptr, m.indices = m.indptr.astype(np.int32), m.indices.astype(np.int32)
        return m
    m = spec.build(dtype)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz")
    os.close(fd)
    sp.save_npz(tmp, m, compressed=False)
    os.replace(tmp, path)
    return m
