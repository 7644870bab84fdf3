"""The benchmark matrix generators: deterministic, canonical, and with the structure they claim."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from treadle.benchmarks import matrices as mx

SETTINGS = settings(max_examples=25, deadline=None)


def assert_canonical(m: sp.csr_matrix):
    assert isinstance(m, sp.csr_matrix)
    assert m.has_canonical_format and m.has_sorted_indices
    assert m.indptr.dtype == np.int32 and m.indices.dtype == np.int32
    assert np.all(m.data != 0), "no explicit zeros"


def same(a: sp.csr_matrix, b: sp.csr_matrix) -> bool:
    return (
        a.shape == b.shape
        and np.array_equal(a.indptr, b.indptr)
        and np.array_equal(a.indices, b.indices)
        and np.array_equal(a.data, b.data)
    )


@pytest.mark.parametrize("spec", mx.SUITE_QUICK, ids=lambda s: s.name)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_quick_suite_is_deterministic_and_canonical(spec, dtype):
    a, b = spec.build(dtype), spec.build(dtype)
    assert_canonical(a)
    assert a.dtype == dtype
    assert same(a, b)


def test_suite_names_are_unique_and_full_suite_stays_near_a_million_nonzeros():
    names = [s.name for s in mx.SUITE_QUICK + mx.SUITE_FULL]
    assert len(names) == len(set(names))
    kinds = {s.kind for s in mx.SUITE_FULL}
    assert kinds == {"rmat", "uniform", "banded", "bigbird", "pruned", "pruned24"}


@pytest.mark.parametrize("spec", mx.SUITE_FULL, ids=lambda s: s.name)
def test_full_suite_sizes(spec):
    m = spec.build()
    assert_canonical(m)
    assert 100_000 <= m.nnz <= 1_100_000


@SETTINGS
@given(seed=st.integers(0, 2**31), scale=st.integers(4, 11))
def test_rmat_seeded(seed, scale):
    a = mx.rmat(scale, 8, seed=seed)
    assert same(a, mx.rmat(scale, 8, seed=seed))
    assert a.shape == (2**scale, 2**scale)
    assert 0 < a.nnz <= 8 * 2**scale
    assert not same(a, mx.rmat(scale, 8, seed=seed + 1))


def test_rmat_follows_its_quadrant_probabilities_and_is_power_law():
    a = mx.rmat(14, 16, seed=3, permute=False, values="ones")
    n = a.shape[0] // 2
    quadrants = np.array([[a[:n, :n].nnz, a[:n, n:].nnz], [a[n:, :n].nnz, a[n:, n:].nnz]]) / a.nnz
    # duplicates collapse mostly in the dense quadrant a, so allow a little slack
    np.testing.assert_allclose(quadrants, [[0.57, 0.19], [0.19, 0.05]], atol=0.04)
    degrees = a.getnnz(axis=1)
    assert degrees.max() > 50 * np.median(degrees[degrees > 0])
    u = mx.uniform_random(a.shape[0], a.shape[1], a.nnz / a.shape[0] ** 2, seed=3)
    assert u.getnnz(axis=1).max() < 5 * (u.nnz / u.shape[0])


@SETTINGS
@given(m=st.integers(0, 300), n=st.integers(0, 300), density=st.sampled_from([0.0, 0.001, 0.01, 0.1, 0.6, 1.0]), seed=st.integers(0, 2**31))
def test_uniform_random_has_exact_density(m, n, density, seed):
    a = mx.uniform_random(m, n, density, seed=seed)
    assert_canonical(a)
    assert a.shape == (m, n)
    assert a.nnz == round(density * m * n)
    assert same(a, mx.uniform_random(m, n, density, seed=seed))


def test_uniform_random_positions_are_spread_out():
    a = mx.uniform_random(1000, 1000, 0.05, seed=9)
    rows, cols = a.getnnz(axis=1), a.getnnz(axis=0)
    assert abs(rows.mean() - 50) < 1e-9 and rows.std() < 12 and cols.std() < 12  # binomial std ≈ 6.9


@SETTINGS
@given(n=st.integers(1, 200), bw=st.integers(0, 10))
def test_banded_structure(n, bw):
    a = mx.banded(n, bw, seed=1)
    assert_canonical(a)
    coo = a.tocoo()
    assert np.all(np.abs(coo.row - coo.col) <= bw)
    i, j = np.indices((n, n))
    assert a.nnz == int((np.abs(i - j) <= bw).sum())


@SETTINGS
@given(num_blocks=st.integers(5, 40), seed=st.integers(0, 2**31))
def test_bigbird_block_pattern(num_blocks, seed):
    p = mx.bigbird_block_pattern(num_blocks, seed=seed)
    i, j = np.indices(p.shape)
    band = np.abs(i - j) <= 1
    assert p[band].all() and p[:2].all() and p[:, :2].all()
    base = band | (i < 2) | (j < 2)
    extra = (p & ~base).sum(axis=1)
    free = (~base).sum(axis=1)
    np.testing.assert_array_equal(extra[2:], np.minimum(2, free[2:]))
    assert extra[:2].sum() == 0


def test_bigbird_mask_is_made_of_full_tiles():
    a = mx.bigbird_mask(256, 16, seed=4)
    assert_canonical(a)
    dense = a.toarray() != 0
    tiles = dense.reshape(16, 16, 16, 16).transpose(0, 2, 1, 3).reshape(16, 16, 256)
    assert np.all(tiles.all(axis=2) | ~tiles.any(axis=2)), "every tile is all-on or all-off"
    np.testing.assert_array_equal(tiles.all(axis=2), mx.bigbird_block_pattern(16, seed=4))
    assert np.all(a.data == 1)


@SETTINGS
@given(m=st.integers(1, 60), n=st.integers(1, 60), sparsity=st.sampled_from([0.5, 0.9, 0.99]), seed=st.integers(0, 2**31))
def test_magnitude_pruning_keeps_the_largest(m, n, sparsity, seed):
    a = mx.pruned_weights(m, n, sparsity, seed=seed)
    assert a.nnz == round((1 - sparsity) * m * n)
    dense = np.random.default_rng(seed).standard_normal((m, n)).astype(np.float32)
    kept = a.toarray() != 0
    np.testing.assert_array_equal(a.toarray()[kept], dense[kept])
    if kept.any() and (~kept).any():
        assert np.abs(dense[kept]).min() >= np.abs(dense[~kept]).max()


@SETTINGS
@given(m=st.integers(1, 40), groups=st.integers(1, 16), seed=st.integers(0, 2**31))
def test_two_four_pruning(m, groups, seed):
    a = mx.pruned_2_4(m, 4 * groups, seed=seed)
    assert_canonical(a)
    nz = (a.toarray() != 0).reshape(m, groups, 4)
    assert np.all(nz.sum(axis=2) == 2)
    dense = np.abs(np.random.default_rng(seed).standard_normal((m, 4 * groups)).astype(np.float32)).reshape(m, groups, 4)
    assert np.all(np.where(nz, dense, np.inf).min(axis=2) >= np.where(nz, -np.inf, dense).max(axis=2))


def test_bad_arguments():
    with pytest.raises(ValueError, match="divisible by 4"):
        mx.pruned_2_4(4, 6)
    with pytest.raises(ValueError, match="multiple of block"):
        mx.bigbird_mask(100, 16)
    with pytest.raises(ValueError, match="density"):
        mx.uniform_random(4, 4, 1.5)


def test_npz_cache_round_trip(tmp_path, monkeypatch):
    monkeypatch.setenv("TREADLE_CACHE_DIR", str(tmp_path))
    spec = mx.SUITE_QUICK[0]
    first = mx.load(spec, np.float64)
    files = list((tmp_path / "matrices").glob("*.npz"))
    assert len(files) == 1
    second = mx.load(spec, np.float64)
    assert same(first, second) and second.dtype == np.float64
    assert same(first, spec.build(np.float64))
    assert_canonical(second)
