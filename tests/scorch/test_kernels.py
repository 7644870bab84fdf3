"""Differential tests: compiled kernels against the numpy reference and scipy, every format."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from treadle.interpreters.sparse import run_reference
from treadle.runtime import execute
from tests.scorch.util import KERNELS, kernel_module, make_tensor, random_array

SPARSE = ["csr", "csc", "coo", "dcsr", "dcsc", "bsr:2x2", "dense"]
OUTPUTS = {"spmv": ["dense"], "spmm": ["dense"], "sddmm": ["dense", "csr", "coo"], "spgemm": ["dense", "csr", "csc"], "add": ["dense", "csr", "dcsr"]}


def run_both(kernel, sizes, formats, out_fmt, seed, density, schedule=""):
    module, shapes = kernel_module(kernel, sizes, formats, out_fmt, schedule)
    rng = np.random.default_rng(seed)
    arrays = {}
    for name, _, role in KERNELS[kernel][1]:
        arrays[name] = random_array(rng, shapes[name], density if role == "S" else 1.0)
    tensors = [make_tensor(arrays[n], formats[n]) for n, _, _ in KERNELS[kernel][1]]
    (got,) = execute(module, "f", tensors)
    (want,) = run_reference(module, "f", tuple(tensors))
    assert got.shape == want.shape
    np.testing.assert_allclose(got.to_numpy(), want, rtol=1e-10, atol=1e-12)
    return got, arrays


def _sizes(draw_even: bool, m, n, k):
    if draw_even:
        return {"m": 2 * m, "n": 2 * n, "k": 2 * k}
    return {"m": m, "n": n, "k": k}


@pytest.mark.parametrize("kernel", list(KERNELS))
@pytest.mark.parametrize("fmt", SPARSE)
def test_every_format(kernel, fmt):
    sparse_names = [n for n, _, r in KERNELS[kernel][1] if r == "S"]
    formats = {n: (fmt if n in sparse_names else "dense") for n, _, _ in KERNELS[kernel][1]}
    for out_fmt in OUTPUTS[kernel]:
        run_both(kernel, {"m": 6, "n": 8, "k": 4}, formats, out_fmt, seed=1, density=0.3)


@pytest.mark.parametrize("kernel", ["spgemm", "add"])
def test_mixed_formats(kernel):
    for fa, fb in [("csr", "csc"), ("coo", "csr"), ("dcsr", "dense"), ("bsr:2x2", "csr"), ("csc", "coo")]:
        run_both(kernel, {"m": 4, "n": 6, "k": 8}, {"A": fa, "B": fb}, "csr", seed=2, density=0.4)


@pytest.mark.parametrize("kernel", list(KERNELS))
def test_zero_nonzeros_and_empty_rows(kernel):
    for fmt in ["csr", "coo", "dcsr", "bsr:2x2"]:
        formats = {n: (fmt if r == "S" else "dense") for n, _, r in KERNELS[kernel][1]}
        got, _ = run_both(kernel, {"m": 4, "n": 6, "k": 2}, formats, OUTPUTS[kernel][-1], seed=3, density=0.0)
        assert not got.to_numpy().any()


@settings(max_examples=25, deadline=None)
@given(
    kernel=st.sampled_from(list(KERNELS)),
    fa=st.sampled_from(SPARSE),
    fb=st.sampled_from(SPARSE),
    m=st.integers(1, 4),
    n=st.integers(1, 4),
    k=st.integers(1, 3),
    density=st.sampled_from([0.0, 0.1, 0.5, 1.0]),
    seed=st.integers(0, 2**16),
    out_pick=st.integers(0, 2),
)
def test_hypothesis(kernel, fa, fb, m, n, k, density, seed, out_pick):
    names = [nm for nm, _, r in KERNELS[kernel][1]]
    roles = {nm: r for nm, _, r in KERNELS[kernel][1]}
    sparse_names = [nm for nm in names if roles[nm] == "S"]
    formats = {nm: "dense" for nm in names}
    for nm, f in zip(sparse_names, [fa, fb]):
        formats[nm] = f
    even = any(f.startswith("bsr") for f in formats.values())
    outs = OUTPUTS[kernel]
    run_both(kernel, _sizes(even, m, n, k), formats, outs[out_pick % len(outs)], seed, density)


def test_spmv_matches_scipy():
    import scipy.sparse as sp

    module, _ = kernel_module("spmv", {"m": 50, "n": 40}, {"A": "csr", "x": "dense"}, "dense")
    a = sp.random(50, 40, density=0.05, random_state=4, format="csr")
    x = np.random.default_rng(4).standard_normal(40)
    (y,) = execute(module, "f", [make_tensor(a.toarray(), "csr"), make_tensor(x, "dense")])
    np.testing.assert_allclose(y.to_numpy(), a @ x, rtol=1e-12)


@pytest.mark.parametrize(
    "kernel,schedule",
    [
        ("spmm", "#sparse.schedule<order = [i, j, k], tile = {k = 3}, parallel = i, omp = dynamic, chunk = 2>"),
        ("spmm", "#sparse.schedule<order = [k, i, j], tile = {k = 4}>"),
        ("spmv", "#sparse.schedule<order = [i, j], parallel = i, omp = guided, chunk = 1>"),
        ("sddmm", "#sparse.schedule<order = [i, j, k], tile = {k = 2}, parallel = i>"),
        ("spgemm", "#sparse.schedule<order = [i, k, j], parallel = i>"),
    ],
)
@pytest.mark.parametrize("fmt", ["csr", "bsr:2x2", "coo"])
def test_schedules(kernel, schedule, fmt):
    formats = {n: (fmt if r == "S" else "dense") for n, _, r in KERNELS[kernel][1]}
    for out_fmt in OUTPUTS[kernel][:2]:
        run_both(kernel, {"m": 8, "n": 6, "k": 10}, formats, out_fmt, seed=5, density=0.4, schedule=schedule)


def test_kernel_helpers_match_numpy():
    from treadle.runtime import kernels

    rng = np.random.default_rng(6)
    a = random_array(rng, (40, 30), 0.1).astype(np.float32)
    at = make_tensor(a, "csr")
    x = rng.standard_normal(30).astype(np.float32)
    b = rng.standard_normal((30, 7)).astype(np.float32)
    np.testing.assert_allclose(kernels.spmv(at, x), a @ x, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(kernels.spmm(at, b), a @ b, rtol=1e-5, atol=1e-5)
    xb = rng.standard_normal((5, 30)).astype(np.float32)
    np.testing.assert_allclose(kernels.linear_t(xb, make_tensor(a, "csr")), xb @ a.T, rtol=1e-5, atol=1e-5)
    d = rng.standard_normal((40, 4)).astype(np.float32)
    e = rng.standard_normal((4, 30)).astype(np.float32)
    out = kernels.sddmm(at, d, e, at.encoding)
    np.testing.assert_allclose(out.to_numpy(), a * (d @ e), rtol=1e-5, atol=1e-5)
