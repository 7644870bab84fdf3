"""Differential tests: hand-written loop IR → C → gcc, against numpy/scipy on random inputs."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from treadle.backends.c import compile_module
from treadle.tests.backends.util import parse, random_csr

SETTINGS = settings(max_examples=40, deadline=None)
DTYPES = {"f32": np.float32, "f64": np.float64}
INDEX_DTYPES = {"i32": np.int32, "i64": np.int64}
TOL = {"f32": dict(rtol=1e-4, atol=1e-5), "f64": dict(rtol=1e-12, atol=1e-12)}

MATMUL = """
func.func @matmul(%A: memref<?x?x{T}>, %B: memref<?x?x{T}>, %C: memref<?x?x{T}>) {{
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : {T}
  %m = memref.dim %A, %c0 : memref<?x?x{T}>
  %k = memref.dim %A, %c1 : memref<?x?x{T}>
  %n = memref.dim %B, %c1 : memref<?x?x{T}>
  scf.for %i = %c0 to %m step %c1 {{
    scf.for %j = %c0 to %n step %c1 {{
      %s = scf.for %p = %c0 to %k step %c1 iter_args(%acc = %zero) -> ({T}) {{
        %a = memref.load %A[%i, %p] : memref<?x?x{T}>
        %b = memref.load %B[%p, %j] : memref<?x?x{T}>
        %ab = arith.mulf %a, %b : {T}
        %acc2 = arith.addf %acc, %ab : {T}
        scf.yield %acc2 : {T}
      }}
      memref.store %s, %C[%i, %j] : memref<?x?x{T}>
    }}
  }}
  func.return
}}
"""

STATIC_MATMUL = """
func.func @matmul_3x5x4(%A: memref<3x5xf32>, %B: memref<5x4xf32>) -> memref<3x4xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %c5 = arith.constant 5 : index
  %zero = arith.constant 0.0 : f32
  %C = memref.alloc() : memref<3x4xf32>
  scf.for %i = %c0 to %c3 step %c1 {
    scf.for %j = %c0 to %c4 step %c1 {
      %s = scf.for %p = %c0 to %c5 step %c1 iter_args(%acc = %zero) -> (f32) {
        %a = memref.load %A[%i, %p] : memref<3x5xf32>
        %b = memref.load %B[%p, %j] : memref<5x4xf32>
        %ab = arith.mulf %a, %b : f32
        %acc2 = arith.addf %acc, %ab : f32
        scf.yield %acc2 : f32
      }
      memref.store %s, %C[%i, %j] : memref<3x4xf32>
    }
  }
  func.return %C : memref<3x4xf32>
}
"""

SPMV = """
func.func @spmv(%pos: memref<?x{I}>, %crd: memref<?x{I}>, %vals: memref<?x{T}>, %x: memref<?x{T}>, %y: memref<?x{T}>) {{
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : {T}
  %m = memref.dim %y, %c0 : memref<?x{T}>
  scf.for %i = %c0 to %m step %c1 {{
    %i1 = arith.addi %i, %c1 : index
    %lo_raw = memref.load %pos[%i] : memref<?x{I}>
    %hi_raw = memref.load %pos[%i1] : memref<?x{I}>
    %lo = arith.index_cast %lo_raw : {I} to index
    %hi = arith.index_cast %hi_raw : {I} to index
    %sum = scf.for %jj = %lo to %hi step %c1 iter_args(%acc = %zero) -> ({T}) {{
      %j_raw = memref.load %crd[%jj] : memref<?x{I}>
      %j = arith.index_cast %j_raw : {I} to index
      %a = memref.load %vals[%jj] : memref<?x{T}>
      %xv = memref.load %x[%j] : memref<?x{T}>
      %p = arith.mulf %a, %xv : {T}
      %s = arith.addf %acc, %p : {T}
      scf.yield %s : {T}
    }}
    memref.store %sum, %y[%i] : memref<?x{T}>
  }} {OMP}
  func.return
}}
"""

SPMM = """
func.func @spmm(%pos: memref<?xi32>, %crd: memref<?xi32>, %vals: memref<?x{T}>, %B: memref<?x?x{T}>, %C: memref<?x?x{T}>) {{
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : {T}
  %m = memref.dim %C, %c0 : memref<?x?x{T}>
  %n = memref.dim %C, %c1 : memref<?x?x{T}>
  scf.for %i = %c0 to %m step %c1 {{
    scf.for %k0 = %c0 to %n step %c1 {{
      memref.store %zero, %C[%i, %k0] : memref<?x?x{T}>
    }}
    %i1 = arith.addi %i, %c1 : index
    %lo_raw = memref.load %pos[%i] : memref<?xi32>
    %hi_raw = memref.load %pos[%i1] : memref<?xi32>
    %lo = arith.index_cast %lo_raw : i32 to index
    %hi = arith.index_cast %hi_raw : i32 to index
    scf.for %jj = %lo to %hi step %c1 {{
      %j_raw = memref.load %crd[%jj] : memref<?xi32>
      %j = arith.index_cast %j_raw : i32 to index
      %a = memref.load %vals[%jj] : memref<?x{T}>
      scf.for %k = %c0 to %n step %c1 {{
        %c = memref.load %C[%i, %k] : memref<?x?x{T}>
        %b = memref.load %B[%j, %k] : memref<?x?x{T}>
        %ab = arith.mulf %a, %b : {T}
        %s = arith.addf %c, %ab : {T}
        memref.store %s, %C[%i, %k] : memref<?x?x{T}>
      }}
    }}
  }} {OMP}
  func.return
}}
"""

# c = a + b for sorted sparse vectors: a while loop over the intersection lattice point, then
# tail loops for a alone and b alone; returns the number of entries written.
SPARSE_ADD = """
func.func @sparse_add(%acrd: memref<?xindex>, %avals: memref<?xf64>, %bcrd: memref<?xindex>,
                      %bvals: memref<?xf64>, %ccrd: memref<?xindex>, %cvals: memref<?xf64>) -> index {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f64
  %na = memref.dim %acrd, %c0 : memref<?xindex>
  %nb = memref.dim %bcrd, %c0 : memref<?xindex>
  %r:3 = scf.while (%ia = %c0, %ib = %c0, %ic = %c0) : (index, index, index) -> (index, index, index) {
    %more_a = arith.cmpi ult, %ia, %na : index
    %more_b = arith.cmpi ult, %ib, %nb : index
    %both = arith.andi %more_a, %more_b : i1
    scf.condition(%both) %ia, %ib, %ic : index, index, index
  } do {
  ^bb0(%ia2: index, %ib2: index, %ic2: index):
    %ja = memref.load %acrd[%ia2] : memref<?xindex>
    %jb = memref.load %bcrd[%ib2] : memref<?xindex>
    %j = arith.minui %ja, %jb : index
    %at_a = arith.cmpi eq, %ja, %j : index
    %at_b = arith.cmpi eq, %jb, %j : index
    %va = memref.load %avals[%ia2] : memref<?xf64>
    %vb = memref.load %bvals[%ib2] : memref<?xf64>
    %sum, %na2, %nb2 = scf.if %at_a -> (f64, index, index) {
      %ia3 = arith.addi %ia2, %c1 : index
      %v, %ib3 = scf.if %at_b -> (f64, index) {
        %both_v = arith.addf %va, %vb : f64
        %ib4 = arith.addi %ib2, %c1 : index
        scf.yield %both_v, %ib4 : f64, index
      } else {
        scf.yield %va, %ib2 : f64, index
      }
      scf.yield %v, %ia3, %ib3 : f64, index, index
    } else {
      %ib5 = arith.addi %ib2, %c1 : index
      scf.yield %vb, %ia2, %ib5 : f64, index, index
    }
    memref.store %j, %ccrd[%ic2] : memref<?xindex>
    memref.store %sum, %cvals[%ic2] : memref<?xf64>
    %ic3 = arith.addi %ic2, %c1 : index
    scf.yield %na2, %nb2, %ic3 : index, index, index
  }
  %after_a = scf.for %p = %r#0 to %na step %c1 iter_args(%ic4 = %r#2) -> (index) {
    %j = memref.load %acrd[%p] : memref<?xindex>
    %v = memref.load %avals[%p] : memref<?xf64>
    memref.store %j, %ccrd[%ic4] : memref<?xindex>
    memref.store %v, %cvals[%ic4] : memref<?xf64>
    %ic5 = arith.addi %ic4, %c1 : index
    scf.yield %ic5 : index
  }
  %after_b = scf.for %p = %r#1 to %nb step %c1 iter_args(%ic6 = %after_a) -> (index) {
    %j = memref.load %bcrd[%p] : memref<?xindex>
    %v = memref.load %bvals[%p] : memref<?xf64>
    memref.store %j, %ccrd[%ic6] : memref<?xindex>
    memref.store %v, %cvals[%ic6] : memref<?xf64>
    %ic7 = arith.addi %ic6, %c1 : index
    scf.yield %ic7 : index
  }
  func.return %after_b : index
}
"""

OMP_REDUCTIONS = """
func.func @dot(%x: memref<?xf64>, %y: memref<?xf64>) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f64
  %n = memref.dim %x, %c0 : memref<?xf64>
  %s = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %zero) -> (f64) {
    %a = memref.load %x[%i] : memref<?xf64>
    %b = memref.load %y[%i] : memref<?xf64>
    %p = arith.mulf %a, %b : f64
    %acc2 = arith.addf %acc, %p : f64
    scf.yield %acc2 : f64
  } {treadle.omp = {schedule = "static"}}
  func.return %s : f64
}

func.func @scale_and_max(%A: memref<?x?xi64>, %B: memref<?x?xi64>) -> i64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %three = arith.constant 3 : i64
  %lowest = arith.constant -9223372036854775808 : i64
  %m = memref.dim %A, %c0 : memref<?x?xi64>
  %n = memref.dim %A, %c1 : memref<?x?xi64>
  %r = "scf.parallel"(%c0, %c0, %m, %n, %c1, %c1, %lowest) ({
  ^bb0(%i: index, %j: index):
    %a = memref.load %A[%i, %j] : memref<?x?xi64>
    %b = arith.muli %a, %three : i64
    memref.store %b, %B[%i, %j] : memref<?x?xi64>
    scf.reduce(%b : i64) {
    ^bb1(%l: i64, %r2: i64):
      %mx = arith.maxsi %l, %r2 : i64
      scf.reduce.return %mx : i64
    }
  }) {operandSegmentSizes = array<i32: 2, 2, 2, 1>, treadle.omp = {schedule = "dynamic", chunk = 3, num_threads = 2}} : (index, index, index, index, index, index, i64) -> i64
  func.return %r : i64
}
"""

OMP_ATTR = '{treadle.omp = {schedule = "dynamic", chunk = 4}}'


@pytest.fixture(scope="module", params=["f32", "f64"])
def matmul(request):
    return request.param, compile_module(parse(MATMUL.format(T=request.param))).matmul


@SETTINGS
@given(m=st.integers(0, 9), k=st.integers(0, 9), n=st.integers(0, 9), seed=st.integers(0, 2**32 - 1))
def test_dense_matmul(matmul, m, k, n, seed):
    t, kernel = matmul
    rng = np.random.default_rng(seed)
    a = rng.uniform(-1, 1, (m, k)).astype(DTYPES[t])
    b = rng.uniform(-1, 1, (k, n)).astype(DTYPES[t])
    c = np.full((m, n), np.nan, DTYPES[t])
    kernel(a, b, c)
    np.testing.assert_allclose(c, a @ b, **TOL[t])


def test_static_matmul_returns_a_fresh_buffer():
    kernel = compile_module(parse(STATIC_MATMUL)).matmul_3x5x4
    rng = np.random.default_rng(0)
    a, b = rng.random((3, 5), np.float32), rng.random((5, 4), np.float32)
    c = kernel(a, b)
    assert c.shape == (3, 4) and c.dtype == np.float32 and c.flags.owndata is False
    np.testing.assert_allclose(c, a @ b, rtol=1e-5)
    d = kernel(a, b)
    assert not np.shares_memory(c, d)


@pytest.fixture(scope="module", params=[(t, i, omp) for t in ("f32", "f64") for i in ("i32", "i64") for omp in ("", OMP_ATTR)])
def spmv(request):
    t, i, omp = request.param
    return t, i, compile_module(parse(SPMV.format(T=t, I=i, OMP=omp))).spmv


@SETTINGS
@given(m=st.integers(0, 30), n=st.integers(0, 30), density=st.sampled_from([0.0, 0.05, 0.3, 1.0]), seed=st.integers(0, 2**32 - 1))
def test_csr_spmv(spmv, m, n, density, seed):
    t, i, kernel = spmv
    rng = np.random.default_rng(seed)
    a = random_csr(rng, m, n, density, DTYPES[t], INDEX_DTYPES[i])
    x = rng.uniform(-1, 1, n).astype(DTYPES[t])
    y = np.full(m, np.nan, DTYPES[t])
    kernel(a.indptr, a.indices, a.data, x, y)
    np.testing.assert_allclose(y, a @ x, **TOL[t])


@pytest.fixture(scope="module", params=[(t, omp) for t in ("f32", "f64") for omp in ("", OMP_ATTR)])
def spmm(request):
    t, omp = request.param
    return t, compile_module(parse(SPMM.format(T=t, OMP=omp))).spmm


@SETTINGS
@given(
    m=st.integers(0, 25), k=st.integers(0, 25), n=st.sampled_from([0, 1, 7, 32]),
    density=st.sampled_from([0.0, 0.1, 0.5]), seed=st.integers(0, 2**32 - 1),
)
def test_csr_spmm(spmm, m, k, n, density, seed):
    t, kernel = spmm
    rng = np.random.default_rng(seed)
    a = random_csr(rng, m, k, density, DTYPES[t], np.int32)
    b = rng.uniform(-1, 1, (k, n)).astype(DTYPES[t])
    c = np.full((m, n), np.nan, DTYPES[t])
    kernel(a.indptr, a.indices, a.data, b, c)
    np.testing.assert_allclose(c, a @ b, **TOL[t])


@pytest.fixture(scope="module")
def sparse_add():
    return compile_module(parse(SPARSE_ADD)).sparse_add


@SETTINGS
@given(n=st.integers(0, 60), da=st.floats(0, 1), db=st.floats(0, 1), seed=st.integers(0, 2**32 - 1))
def test_sparse_vector_add_by_merge(sparse_add, n, da, db, seed):
    rng = np.random.default_rng(seed)
    a = sp.random(1, n, density=da, format="csr", random_state=rng)
    b = sp.random(1, n, density=db, format="csr", random_state=rng)
    a.sort_indices()
    b.sort_indices()
    cap = a.nnz + b.nnz
    ccrd, cvals = np.full(cap, -1, np.int64), np.full(cap, np.nan)
    count = sparse_add(a.indices.astype(np.int64), a.data, b.indices.astype(np.int64), b.data, ccrd, cvals)
    expected = (a + b).tocsr()
    expected.sort_indices()
    union = np.union1d(a.indices, b.indices)
    assert count == len(union)
    np.testing.assert_array_equal(ccrd[:count], union)
    dense = np.zeros(n)
    dense[union] = (a + b).toarray().ravel()[union] if n else []
    np.testing.assert_allclose(cvals[:count], dense[union], rtol=1e-15)


@pytest.fixture(scope="module")
def omp_lib():
    lib = compile_module(parse(OMP_REDUCTIONS))
    lib.set_num_threads(2)
    return lib


@SETTINGS
@given(n=st.integers(0, 3000), seed=st.integers(0, 2**32 - 1))
def test_openmp_sum_reduction(omp_lib, n, seed):
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(-1, 1, n), rng.uniform(-1, 1, n)
    assert omp_lib.dot(x, y) == pytest.approx(float(x @ y), rel=1e-12, abs=1e-12)


@SETTINGS
@given(m=st.integers(0, 40), n=st.integers(0, 40), seed=st.integers(0, 2**32 - 1))
def test_openmp_parallel_collapse_max_reduction(omp_lib, m, n, seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(-(2**40), 2**40, (m, n), dtype=np.int64)
    b = np.zeros_like(a)
    top = omp_lib.scale_and_max(a, b)
    np.testing.assert_array_equal(b, a * 3)
    assert top == (int((a * 3).max()) if a.size else -(2**63))


def test_openmp_pragmas_are_emitted(omp_lib):
    text = omp_lib.source.text
    assert "#pragma omp parallel for schedule(static) reduction(+:acc)" in text
    assert "#pragma omp parallel for schedule(dynamic, 3) num_threads(2) collapse(2) reduction(max:" in text
    assert omp_lib.source.uses_openmp


def test_openmp_runs_on_several_threads(omp_lib):
    omp_lib.set_num_threads(2)
    assert omp_lib.max_threads() == 2


@pytest.fixture(scope="module", params=["f32", "f64"])
def spmv_reassoc(request):
    t = request.param
    text = SPMV.format(T=t, I="i32", OMP="").replace(
        f"%s = arith.addf %acc, %p : {t}", f"%s = arith.addf %acc, %p fastmath<reassoc> : {t}"
    )
    lib = compile_module(parse(text))
    c = {"f32": "float", "f64": "double"}[t]
    assert f"treadle_lanes_{c} lanes = {{0}};" in lib.source.text  # a gathering sum: explicit lanes (backends/c/lanes.py)
    assert "omp simd" not in lib.source.text
    return t, lib.spmv


@SETTINGS
@given(m=st.integers(0, 30), n=st.integers(0, 60), density=st.sampled_from([0.0, 0.1, 0.5, 1.0]), seed=st.integers(0, 2**32 - 1))
def test_reassociable_gathering_reduction_in_lanes_is_correct(spmv_reassoc, m, n, density, seed):
    t, kernel = spmv_reassoc
    rng = np.random.default_rng(seed)
    a = random_csr(rng, m, n, density, DTYPES[t], np.int32)
    x = rng.uniform(-1, 1, n).astype(DTYPES[t])
    y = np.full(m, np.nan, DTYPES[t])
    kernel(a.indptr, a.indices, a.data, x, y)
    np.testing.assert_allclose(y, a @ x, **TOL[t])


def test_no_simd_pragma_without_reassoc():
    text = compile_module(parse(SPMV.format(T="f64", I="i32", OMP=""))).source.text
    assert "omp simd" not in text


GATHER_MIX = """
func.func @mix(%pos: memref<?xindex>, %crd: memref<?xi64>, %vals: memref<?x{T}>, %X: memref<?x?x{T}>, %B: memref<?x?x{T}>, %y: memref<?x{T}>) {{
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : {T}
  %two = arith.constant 2.0 : {T}
  %m = memref.dim %y, %c0 : memref<?x{T}>
  scf.for %i = %c0 to %m step %c1 {{
    %i1 = arith.addi %i, %c1 : index
    %lo = memref.load %pos[%i] : memref<?xindex>
    %hi = memref.load %pos[%i1] : memref<?xindex>
    %base = arith.subi %c0, %lo : index
    %sum = scf.for %q = %lo to %hi step %c1 iter_args(%acc = %zero) -> ({T}) {{
      %jr = memref.load %crd[%q] : memref<?xi64>
      %j = arith.index_cast %jr : i64 to index
      %a = memref.load %vals[%q] : memref<?x{T}>
      %xv = memref.load %X[%i, %j] : memref<?x?x{T}>
      %k = arith.addi %q, %base : index
      %bv = memref.load %B[%i, %k] : memref<?x?x{T}>
      %d = arith.subf %a, %xv : {T}
      %e = arith.maximumf %d, %bv : {T}
      %f = arith.negf %e : {T}
      %g = arith.divf %f, %two : {T}
      %s = arith.addf %acc, %g fastmath<reassoc> : {T}
      scf.yield %s : {T}
    }}
    memref.store %sum, %y[%i] : memref<?x{T}>
  }}
  func.return
}}
"""


@pytest.fixture(scope="module", params=["f32", "f64"])
def gather_mix(request):
    t = request.param
    lib = compile_module(parse(GATHER_MIX.format(T=t)))
    c = {"f32": "float", "f64": "double"}[t]
    text = lib.source.text
    assert f"treadle_lanes_{c} lanes = {{0}};" in text and "omp simd" not in text
    assert "memcpy(&a, &vals[q]" in text and "memcpy(&bv, &B[(i) * B_dim1 + (q + (0 - lo))]" in text.replace("base", "(0 - lo)")
    return t, lib.mix


@SETTINGS
@given(m=st.integers(0, 12), n=st.integers(1, 70), density=st.sampled_from([0.0, 0.3, 1.0]), seed=st.integers(0, 2**32 - 1))
def test_lanes_mix_vector_and_per_lane_ops_and_rank2_loads(gather_mix, m, n, density, seed):
    """Every kind of value of the lane form: consecutive loads (rank 1, and rank 2 at a uniform
    row with a shifted column), per-lane gathers, vector - * / and negation, a per-lane
    maximumf, a broadcast constant; rows of every length around the 8 / 4 lanes."""
    t, kernel = gather_mix
    rng = np.random.default_rng(seed)
    dt = DTYPES[t]
    a = random_csr(rng, m, n, density, dt, np.int64)
    X = rng.uniform(-1, 1, (m, n)).astype(dt)
    width = max(1, int(np.diff(a.indptr).max(initial=0)))
    B = rng.uniform(-1, 1, (m, width)).astype(dt)
    y = np.full(m, np.nan, dt)
    kernel(a.indptr.astype(np.int64), a.indices.astype(np.int64), a.data, X, B, y)
    want = np.zeros(m, dt)
    for i in range(m):
        lo, hi = a.indptr[i], a.indptr[i + 1]
        d = a.data[lo:hi] - X[i, a.indices[lo:hi]]
        want[i] = np.sum(-np.maximum(d, B[i, : hi - lo]) / 2)
    np.testing.assert_allclose(y, want, **TOL[t])
