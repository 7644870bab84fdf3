"""Differential tests: compiled kernels against the numpy reference and scipy, every format."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from treadle.interpreters.sparse import run_reference
from treadle.runtime import execute
from treadle.pipeline import parse, run_pipeline
from tests.scorch.util import KERNELS, kernel_module, make_tensor, random_array

SPARSE = ["csr", "csc", "coo", "dcsr", "dcsc", "bsr:2x2", "dense"]
OUTPUTS = {"spmv": ["dense"], "spmm": ["dense"], "sddmm": ["dense", "csr", "coo"], "spgemm": ["dense", "csr", "csc"], "add": ["dense", "csr", "dcsr"]}


def run_both(kernel, sizes, formats, out_fmt, seed, density, schedule="", pipeline=""):
    module, shapes = kernel_module(kernel, sizes, formats, out_fmt, schedule)
    if pipeline:
        run_pipeline(module, pipeline)
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
    unroll=st.integers(1, 5),
)
def test_hypothesis(kernel, fa, fb, m, n, k, density, seed, out_pick, unroll):
    names = [nm for nm, _, r in KERNELS[kernel][1]]
    roles = {nm: r for nm, _, r in KERNELS[kernel][1]}
    sparse_names = [nm for nm in names if roles[nm] == "S"]
    formats = {nm: "dense" for nm in names}
    for nm, f in zip(sparse_names, [fa, fb]):
        formats[nm] = f
    even = any(f.startswith("bsr") for f in formats.values())
    outs = OUTPUTS[kernel]
    pipeline = f"sparse-order-loops,sparse-unroll{{factor={unroll}}}"
    run_both(kernel, _sizes(even, m, n, k), formats, outs[out_pick % len(outs)], seed, density, pipeline=pipeline)


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
        ("spmm", "#sparse.schedule<order = [i, j, k], parallel = i, unroll = 4>"),
        ("spmm", "#sparse.schedule<order = [i, j, k], tile = {k = 4}, unroll = 3>"),
        ("sddmm", "#sparse.schedule<order = [i, j, k], unroll = 2>"),
        ("spgemm", "#sparse.schedule<order = [i, k, j], unroll = 2>"),
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
    out = kernels.sddmm(at, d, e, at.encoding)  # E row-major, small: numpy's transpose
    np.testing.assert_allclose(out.to_numpy(), a * (d @ e), rtol=1e-5, atol=1e-5)
    big = rng.standard_normal((4, kernels.TRANSPOSE_MIN_BYTES // 16 + 30)).astype(np.float32)
    wide = make_tensor(random_array(rng, (40, big.shape[1]), 0.01).astype(np.float32), "csr")
    out = kernels.sddmm(wide, d, big, wide.encoding)  # large: the compiled transpose
    np.testing.assert_allclose(out.to_numpy(), wide.to_numpy() * (d @ big), rtol=1e-5, atol=1e-5)
    k_rows = rng.standard_normal((30, 4)).astype(np.float32)
    out = kernels.sddmm(at, d, k_rows.T, at.encoding, scale=0.5)  # Eᵀ row-major: no copy
    np.testing.assert_allclose(out.to_numpy(), 0.5 * a * (d @ k_rows.T), rtol=1e-5, atol=1e-5)


def _csr_tensor(a) -> "Tensor":
    """A scipy CSR matrix as a treadle CSR tensor of its dtype (int64 indices)."""
    from treadle.dialects.sparse import named_encoding
    from treadle.tensors import LevelStorage, Tensor

    levels = [LevelStorage(None, None), LevelStorage(a.indptr.astype(np.int64), a.indices.astype(np.int64))]
    return Tensor(a.shape, named_encoding("csr", 2), levels, np.ascontiguousarray(a.data))


@settings(max_examples=25, deadline=None)
@given(
    m=st.integers(1, 30),
    n=st.integers(1, 30),
    k=st.integers(1, 20) | st.sampled_from([8, 16, 32, 40]),
    density=st.sampled_from([0.0, 0.2, 0.7, 1.0]),
    f64=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_sddmm_matches_numpy(m, n, k, density, f64, seed):
    """The runtime's SDDMM (Eᵀ row-major, 4 positions per step as one `cpu.dots` over rows of
    k: AVX2 for f32 when 8 divides k, scalar sums otherwise; a remainder loop for the rest),
    against numpy, rows of every length and empty ones included."""
    from treadle.runtime import kernels

    rng = np.random.default_rng(seed)
    dt = np.float64 if f64 else np.float32
    a = random_array(rng, (m, n), density).astype(dt)
    d, e = rng.standard_normal((m, k)).astype(dt), rng.standard_normal((k, n)).astype(dt)
    import scipy.sparse as sp

    at = _csr_tensor(sp.csr_matrix(a))
    out = kernels.sddmm(at, d, e, at.encoding)
    tol = 1e-12 if f64 else 1e-4
    np.testing.assert_allclose(out.to_numpy(), a * (d.astype(np.float64) @ e), rtol=tol, atol=tol)


@settings(max_examples=25, deadline=None)
@given(lengths=st.lists(st.integers(0, 70), min_size=1, max_size=12), f64=st.booleans(), seed=st.integers(0, 2**16))
def test_spmv_every_row_length(lengths, f64, seed):
    """Rows of 0-70 entries take each version of the sum over a row's positions (plain below 8,
    4 partial sums below 32, from 32 the gathering loop in 8 (f32) or 4 (f64) vector lanes),
    against scipy."""
    import scipy.sparse as sp

    from treadle.runtime import kernels

    rng = np.random.default_rng(seed)
    dt = np.float64 if f64 else np.float32
    n = 80
    cols = [np.sort(rng.choice(n, size=k, replace=False)) for k in lengths]
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    indices = np.concatenate(cols).astype(np.int64) if sum(lengths) else np.zeros(0, np.int64)
    a = sp.csr_matrix((rng.standard_normal(indptr[-1]).astype(dt), indices, indptr), shape=(len(lengths), n))
    x = rng.standard_normal(n).astype(dt)
    got = kernels.spmv(_csr_tensor(a), x)
    tol = 1e-12 if f64 else 1e-4
    np.testing.assert_allclose(got, a @ x, rtol=tol, atol=tol)


_EXTENT = st.integers(1, 70) | st.integers(1, 9).map(lambda b: 8 * b)  # multiples of 8: f32 goes by 8x8 blocks


@settings(max_examples=30, deadline=None)
@given(k=_EXTENT, n=_EXTENT, f64=st.booleans(), seed=st.integers(0, 2**16))
def test_transpose_matches_numpy(k, n, f64, seed):
    from treadle.runtime import kernels

    e = np.random.default_rng(seed).standard_normal((k, n)).astype(np.float64 if f64 else np.float32)
    t = kernels.transpose(e)
    assert t.flags.c_contiguous and t.dtype == e.dtype
    np.testing.assert_array_equal(t, e.T)


@pytest.mark.parametrize("kernel", ["spgemm", "add"])
@pytest.mark.parametrize("parallel", [False, True])
def test_sparse_output_row_orderings(kernel, parallel):
    """Rows of every size, so the assembly orders columns each of its three ways: an empty row,
    a short row (insertion sort), a row with at most 16 bitmap words per entry (bitmap read in
    order) and a longer sparse row over 40000 columns (radix sort, two 8-bit digits); with the
    parallel schedule, blocks of 2 rows on threads."""
    rng = np.random.default_rng(11)
    n, counts = 40000, [0, 5, 200, 35, 1]
    rows = [np.sort(rng.choice(n, size=c, replace=False)) for c in counts]
    if kernel == "spgemm":  # C = A @ B with A selecting one row of B per row of C
        k = len(counts)
        a = np.eye(k)
        a[0, 0] = 0.0
        b = np.zeros((k, n))
        for r, cols in enumerate(rows):
            b[r, cols] = rng.standard_normal(len(cols))
        sizes, order = {"m": k, "n": n, "k": k}, "[i, k, j]"
    else:  # C = A * B + B with B holding every column of the row, A two thirds of them
        a, b = np.zeros((len(counts), n)), np.zeros((len(counts), n))
        for r, cols in enumerate(rows):
            a[r, cols[: 2 * len(cols) // 3]] = 1.0
            b[r, cols] = 2.0
        sizes, order = {"m": len(counts), "n": n}, "[i, j]"
    schedule = f"#sparse.schedule<order = {order}, parallel = i, omp = dynamic, chunk = 2>" if parallel else ""
    module, _ = kernel_module(kernel, sizes, {"A": "csr", "B": "csr"}, "csr", schedule)
    if kernel == "add":  # a product term keeps the sum off the merge route: the workspace sorts
        text = str(module).replace("A(i, j) + B(i, j)", "A(i, j) * B(i, j) + B(i, j)")
        module = parse(text)
    (got,) = execute(module, "f", [make_tensor(a, "csr"), make_tensor(b, "csr")])
    want = a @ b if kernel == "spgemm" else a * b + b
    assert list(np.diff(got.levels[1].pos)) == counts
    np.testing.assert_allclose(got.to_numpy(), want, rtol=1e-10, atol=1e-12)
    crd, pos = got.levels[1].crd, got.levels[1].pos
    for r in range(len(counts)):
        assert np.all(np.diff(crd[pos[r]:pos[r + 1]]) > 0)


@settings(max_examples=20, deadline=None)
@given(
    expr=st.sampled_from([
        "C(i, j) = A(i, j) + B(i, j)",
        "C(i, j) = A(i, j) - B(i, j) * D(i, j)",
        "C(i, j) = relu(A(i, j)) + 2.0 * B(i, j) + E(i, j)",
        "C(i, j) = neg(A(i, j))",
    ]),
    m=st.integers(1, 6),
    n=st.integers(1, 40),
    density=st.sampled_from([0.0, 0.05, 0.3, 1.0]),
    parallel=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_union_merge_of_sorted_rows(expr, m, n, density, parallel, seed):
    """Sums of CSR operands into CSR are merged row by row (no workspace): against numpy, with
    sorted unique columns, empty rows and operands with no nonzeros."""
    from treadle.pipeline import parse, run_pipeline
    from treadle.passes.sparse.lowering import StatementLowering
    from treadle.dialects.sparse import AssignOp

    rng = np.random.default_rng(seed)
    names = [x for x in "ABDE" if f"{x}(" in expr]
    arrays = {x: random_array(rng, (m, n), 1.0 if x == "D" else density) for x in names}
    fmt = {x: "dense" if x == "D" else "csr" for x in names}
    csr = '#sparse.encoding<"csr">'
    ty = {x: f"tensor<{m}x{n}xf64{'' if fmt[x] == 'dense' else ', ' + csr}>" for x in names}
    sched = f" schedule #sparse.schedule<order = [i, j], parallel = i, omp = dynamic>" if parallel else ""
    out = f"tensor<{m}x{n}xf64, {csr}>"
    module = parse(
        f"func.func @f({', '.join(f'%{x}: {ty[x]}' for x in names)}) -> {out} {{\n"
        f"  %r = sparse.assign {expr} where {', '.join(f'{x} = %{x}' for x in names)} : "
        f"{', '.join(ty[x] for x in names)} -> {out}{sched}\n  func.return %r : {out}\n}}"
    )
    op = next(o for o in module.walk() if isinstance(o, AssignOp))
    assert "memref<?xindex>" not in StatementLowering(op, "k").generate()  # no workspace
    (got,) = execute(module, "f", [make_tensor(arrays[x], fmt[x]) for x in names])
    (want,) = run_reference(module, "f", tuple(make_tensor(arrays[x], fmt[x]) for x in names))
    np.testing.assert_allclose(got.to_numpy(), want, rtol=1e-12, atol=1e-12)
    crd, pos = got.levels[1].crd, got.levels[1].pos
    for r in range(m):
        assert np.all(np.diff(crd[pos[r]:pos[r + 1]]) > 0)


def _softmax_module(fmt: str, m: int, n: int, dim: int, stored: bool = False):
    enc = "" if fmt == "dense" else f', #sparse.encoding<"{fmt}">'
    t = f"tensor<{m}x{n}xf64{enc}>"
    op = f"sparse.softmax %S {{dim = {dim}}}{' stored' if stored else ''} : {t}"
    return parse(f"func.func @f(%S: {t}) -> {t} {{\n  %P = {op}\n  func.return %P : {t}\n}}")


SOFTMAX_CASES = dict(fmt=st.sampled_from(SPARSE), dim=st.integers(0, 1), m=st.integers(1, 6), n=st.integers(1, 9),
                     seed=st.integers(0, 2**16))


@settings(max_examples=30, deadline=None)
@given(**SOFTMAX_CASES, density=st.sampled_from([0.0, 0.2, 0.6, 1.0]), scale=st.sampled_from([1.0, 100.0]))
def test_softmax_matches_reference_and_torch(fmt, dim, m, n, density, seed, scale):
    """sparse.softmax compiled, every format and both dims, against the numpy reference and
    torch.sparse.softmax (which normalizes over stored entries: here, the nonzeros); large
    scores check the max shift."""
    torch = pytest.importorskip("torch")
    if fmt.startswith("bsr"):
        m, n = 2 * m, 2 * n
    rng = np.random.default_rng(seed)
    a = random_array(rng, (m, n), density) * scale
    module = _softmax_module(fmt, m, n, dim)
    (got,) = execute(module, "f", [make_tensor(a, fmt)])
    (want,) = run_reference(module, "f", (make_tensor(a, fmt),))
    assert got.format == fmt
    np.testing.assert_allclose(got.to_numpy(), want, rtol=1e-12, atol=1e-14)
    peer = torch.sparse.softmax(torch.from_numpy(a).to_sparse(), dim).to_dense().numpy()
    np.testing.assert_allclose(want, peer, rtol=1e-12, atol=1e-14)


@settings(max_examples=30, deadline=None)
@given(**SOFTMAX_CASES, density=st.sampled_from([0.2, 0.6, 1.0]), zeros=st.sampled_from([0.0, 0.3, 1.0]))
def test_stored_softmax_counts_explicit_zeros_as_torch_does(fmt, dim, m, n, density, seed, zeros):
    """`sparse.softmax ... stored` normalizes over the stored entries, explicit zeros included
    (an SDDMM leaves one where a dot product cancels exactly): compiled, every format and both
    dims, against the reference interpreter and torch.sparse.softmax on the same stored entries."""
    torch = pytest.importorskip("torch")
    if fmt.startswith("bsr"):
        m, n = 2 * m, 2 * n
    rng = np.random.default_rng(seed)
    s = make_tensor(random_array(rng, (m, n), density), fmt)
    s.values[rng.random(s.values.size) < zeros] = 0.0
    module = _softmax_module(fmt, m, n, dim, stored=True)
    (got,) = execute(module, "f", [s])
    (want,) = run_reference(module, "f", (s,))
    np.testing.assert_allclose(got.to_numpy(), want, rtol=1e-12, atol=1e-14)
    coords, values = s.coordinates()
    stored = torch.sparse_coo_tensor(torch.from_numpy(coords), torch.from_numpy(values), (m, n), check_invariants=True).coalesce()
    np.testing.assert_allclose(want, torch.sparse.softmax(stored, dim).to_dense().numpy(), rtol=1e-12, atol=1e-14)


@settings(max_examples=40, deadline=None)
@given(
    fn=st.sampled_from(["", "relu", "exp", "abs", "neg"]),
    addend=st.sampled_from(["", "first", "last"]),
    fmt=st.sampled_from(SPARSE),
    m=st.integers(1, 5),
    n=st.integers(1, 5),
    k=st.integers(1, 4),
    density=st.sampled_from([0.0, 0.3, 1.0]),
    seed=st.integers(0, 2**16),
)
def test_row_start_and_epilogue(fn, addend, fmt, m, n, k, density, seed):
    """f(D(i, k) + sum[j](A(i, j) * B(j, k))), f and D each optional: rows that start at D's and
    end with f where rows are filled by the outer loop (CSR, dense), otherwise D as a term of
    its own and the reference for f; either way it matches the reference and numpy."""
    if fmt.startswith("bsr"):
        m, n = 2 * m, 2 * n
    rng = np.random.default_rng(seed)
    a, b, d = random_array(rng, (m, n), density), rng.standard_normal((n, k)), rng.standard_normal((m, k))
    enc = "" if fmt == "dense" else f', #sparse.encoding<"{fmt}">'
    ta, tb, tc = f"tensor<{m}x{n}xf64{enc}>", f"tensor<{n}x{k}xf64>", f"tensor<{m}x{k}xf64>"
    body = {"": "sum[j](A(i, j) * B(j, k))", "first": "D(i, k) + sum[j](A(i, j) * B(j, k))",
            "last": "sum[j](A(i, j) * B(j, k)) + D(i, k)"}[addend]
    params, binds, types = f"%A: {ta}, %B: {tb}", "A = %A, B = %B", f"{ta}, {tb}"
    if addend:
        params, binds, types = f"{params}, %D: {tc}", f"{binds}, D = %D", f"{types}, {tc}"
    module = parse(
        f"func.func @f({params}) -> {tc} {{\n  %C = sparse.assign C(i, k) = {fn}({body}) "
        f"where {binds} : {types} -> {tc}\n  func.return %C : {tc}\n}}"
    )
    import treadle

    tensors = (make_tensor(a, fmt), make_tensor(b, "dense")) + ((make_tensor(d, "dense"),) if addend else ())
    (got,) = treadle.run(module, *tensors, function="f")
    (want,) = run_reference(module, "f", tensors)
    np.testing.assert_allclose(got.to_numpy(), want, rtol=1e-12, atol=1e-12)
    oracle = (d if addend else 0) + a @ b
    oracle = {"": oracle, "relu": np.maximum(oracle, 0), "exp": np.exp(oracle), "abs": np.abs(oracle), "neg": -oracle}[fn]
    np.testing.assert_allclose(got.to_numpy(), oracle, rtol=1e-12, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    fn=st.sampled_from(["", "relu", "abs"]),
    addend=st.booleans(),
    bias=st.booleans(),
    fmt=st.sampled_from(SPARSE),
    m=st.integers(1, 5),
    n=st.integers(1, 5),
    k=st.integers(1, 4),
    o=st.integers(1, 3),
    density=st.sampled_from([0.0, 0.3, 1.0]),
    seed=st.integers(0, 2**16),
)
def test_row_epilogue_product(fn, addend, bias, fmt, m, n, k, o, density, seed):
    """Bias(o) + sum[k](f(D(i, k) + sum[j](A(i, j) * Y(j, k))) * W(k, o)) — a GCN layer and the
    next layer's linear in one statement: each finished row of the inner statement times W
    (CSR and dense A; other formats converted to CSR), against the reference and numpy."""
    if fmt.startswith("bsr"):
        m, n = 2 * m, 2 * n
    rng = np.random.default_rng(seed)
    a, y, d = random_array(rng, (m, n), density), rng.standard_normal((n, k)), rng.standard_normal((m, k))
    w, bv = rng.standard_normal((k, o)), rng.standard_normal(o)
    enc = "" if fmt == "dense" else f', #sparse.encoding<"{fmt}">'
    types = {"A": f"tensor<{m}x{n}xf64{enc}>", "Y": f"tensor<{n}x{k}xf64>", "D": f"tensor<{m}x{k}xf64>",
             "W": f"tensor<{k}x{o}xf64>", "B": f"tensor<{o}xf64>"}
    inner = ("D(i, k) + " if addend else "") + "sum[j](A(i, j) * Y(j, k))"
    expr = ("B(o) + " if bias else "") + f"sum[k]({fn}({inner}) * W(k, o))"
    names = ["A", "Y"] + (["D"] if addend else []) + ["W"] + (["B"] if bias else [])
    tc = f"tensor<{m}x{o}xf64>"
    module = parse(
        f"func.func @f({', '.join(f'%{x}: {types[x]}' for x in names)}) -> {tc} {{\n  %C = sparse.assign C(i, o) = {expr} "
        f"where {', '.join(f'{x} = %{x}' for x in names)} : {', '.join(types[x] for x in names)} -> {tc}\n"
        f"  func.return %C : {tc}\n}}"
    )
    import treadle

    arrays = {"A": (a, fmt), "Y": (y, "dense"), "D": (d, "dense"), "W": (w, "dense"), "B": (bv, "dense")}
    tensors = tuple(make_tensor(*arrays[x]) for x in names)
    (got,) = treadle.run(module, *tensors, function="f")
    (want,) = run_reference(module, "f", tensors)
    np.testing.assert_allclose(got.to_numpy(), want, rtol=1e-12, atol=1e-12)
    t = (d if addend else 0) + a @ y
    t = {"": t, "relu": np.maximum(t, 0), "abs": np.abs(t)}[fn]
    np.testing.assert_allclose(got.to_numpy(), (bv if bias else 0) + t @ w, rtol=1e-12, atol=1e-12)


def test_spmm_helper_with_addend_and_relu_matches_numpy():
    import scipy.sparse as sp

    from treadle.runtime import kernels
    from tests.scorch.util import make_tensor as mk

    rng = np.random.default_rng(7)
    a = sp.random(37, 23, density=0.1, random_state=7, format="csr").astype(np.float32)
    b = rng.standard_normal((23, 6)).astype(np.float32)
    d = rng.standard_normal((37, 6)).astype(np.float32)
    view = mk(a.toarray(), "csr")
    for relu in (False, True):
        want = d + a @ b
        want = np.maximum(want, 0) if relu else want
        np.testing.assert_allclose(kernels.spmm(view, b, relu=relu, addend=d), want, rtol=1e-5, atol=1e-5)


@settings(max_examples=20, deadline=None)
@given(m=st.integers(1, 9), n=st.integers(1, 9), density=st.sampled_from([0.0, 0.2, 1.0]), seed=st.integers(0, 2**16))
def test_take_at_pattern_matches_numpy(m, n, density, seed):
    """SDDMM's dense route ends with A ∘ G for a dense G, in A's pattern (empty rows included)."""
    from treadle.runtime import kernels

    rng = np.random.default_rng(seed)
    a, g = random_array(rng, (m, n), density), rng.standard_normal((m, n))
    out = kernels.take_at_pattern(make_tensor(a, "csr"), g)
    assert out.levels[1].crd.shape == (np.count_nonzero(a),)
    np.testing.assert_allclose(out.to_numpy(), a * g, rtol=1e-12, atol=0)


def test_default_schedule_takes_guided_row_chunks():
    from treadle.dialects.sparse import named_encoding
    from treadle.runtime import kernels

    csr = named_encoding("csr", 2)
    spmv = kernels.statement("spmv", {"A": ((40, 30), csr), "x": ((30,), None)}, (40,), None, np.float32)
    spmm = kernels.statement("spmm", {"A": ((40, 30), csr), "B": ((30, 8), None)}, (40, 8), None, np.float32)
    spgemm = kernels.statement("spgemm", {"A": ((40, 30), csr), "B": ((30, 20), csr)}, (40, 20), csr, np.float32)
    for st in (spmv, spmm, spgemm):
        assert (st.op.schedule.parallel.data, st.op.schedule.omp.data, st.op.schedule.chunk.data) == ("i", "guided", 16)
