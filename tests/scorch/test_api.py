"""treadle.einsum through the compiled runtime, the reference fallback, explain, dispatch."""

import numpy as np
import pytest

import treadle
from treadle.interpreters import sparse as reference
from treadle.runtime import explain
from tests.scorch.util import kernel_module, make_tensor, random_array


def _no_reference(*_a, **_k):
    raise AssertionError("the reference ran, but this case compiles")


def test_einsum_compiles_spmv(monkeypatch):
    rng = np.random.default_rng(0)
    a = random_array(rng, (30, 20), 0.1)
    x = rng.standard_normal(20)
    monkeypatch.setattr(reference, "run_reference", _no_reference)
    y = treadle.einsum("y(i) = A(i, j) * x(j)", A=make_tensor(a, "csr"), x=x)
    np.testing.assert_allclose(y.to_numpy(), a @ x, rtol=1e-12)


def test_einsum_multi_statement_sparse_chain(monkeypatch):
    rng = np.random.default_rng(1)
    a, b, m = random_array(rng, (12, 9), 0.3), random_array(rng, (9, 12), 0.3), random_array(rng, (12, 12), 0.2)
    monkeypatch.setattr(reference, "run_reference", _no_reference)
    c = treadle.einsum(
        "T(i, j) = A(i, k) * B(k, j); C(i, j) = M(i, j) * T(i, j)",
        A=make_tensor(a, "csr"), B=make_tensor(b, "csc"), M=make_tensor(m, "coo"),
    )
    np.testing.assert_allclose(c.to_numpy(), m * (a @ b), rtol=1e-12, atol=1e-14)


def test_nonlinear_of_sum_falls_back_to_reference():
    rng = np.random.default_rng(2)
    a = random_array(rng, (8, 6), 0.4)
    x = rng.standard_normal(6)
    y = treadle.einsum("y(i) = relu(sum[j](A(i, j) * x(j)))", A=make_tensor(a, "csr"), x=x)
    np.testing.assert_allclose(y.to_numpy(), np.maximum(a @ x, 0), rtol=1e-12)


def test_explain_names_order_and_route():
    module, _ = kernel_module("spmm", {"m": 4, "n": 5, "k": 3}, {"A": "csr", "B": "dense"}, "dense")
    text = explain(module, "f")
    assert "loop order [i, j, k]" in text and "compiled (C)" in text


def test_dispatch_follows_its_cost_model(monkeypatch):
    """The decision is the cheaper prediction (a fixed calibration: no timing in the test)."""
    from treadle.runtime import dispatch

    cal = dispatch.Calibration(c_sparse=1e-9, c_out=1e-9, c_dense=1e-11, c_densify=1e-10)
    monkeypatch.setattr(dispatch, "_CAL", {(w, e): cal for w in (1, 64) for e in ("torch", "numpy")})
    rng = np.random.default_rng(3)
    full = make_tensor(rng.standard_normal((512, 512)).astype(np.float32), "csr")
    very_sparse = make_tensor(random_array(rng, (512, 512), 0.001).astype(np.float32), "csr")
    dense_side = dispatch.choose_spmm(full, 128, dense_available=True)
    assert dense_side.use_dense
    assert dense_side.sparse_seconds == pytest.approx(full.nnz * 128 * 1e-9 + 512 * 128 * 1e-9)
    assert dense_side.dense_seconds == pytest.approx(512 * 512 * 128 * 1e-11)
    sparse_side = dispatch.choose_spmm(very_sparse, 128)
    assert not sparse_side.use_dense
    assert "sparse (compiled treadle kernel): predicted sparse" in sparse_side.explain()
    monkeypatch.setattr(dispatch, "MODE", "dense")
    assert dispatch.choose_spmm(very_sparse, 128).use_dense


def test_dispatch_measures_a_prediction_near_the_boundary_once_per_operand(monkeypatch):
    """Near the boundary (within AMBIGUOUS of it) the decision is the side measured faster on
    the call's own operands (the kernel by MEASURED_MARGIN), remembered for operands of that
    shape and nnz; far from it, or without both runners, the prediction stands and nothing runs
    (fixed times: no timing in the test)."""
    from treadle.runtime import dispatch

    cal = dispatch.Calibration(c_sparse=1e-8, c_out=0.0, c_dense=1e-8, c_densify=0.0)
    monkeypatch.setattr(dispatch, "_CAL", {(64, "torch"): cal})
    monkeypatch.setattr(dispatch, "_MEASURED", {})
    measured, rounds = [], []

    def fake_probe_times(fns, repeats=15):
        measured.append(len(fns))
        rounds.append(repeats)
        return [3e-3, 1e-3]  # sparse 3 ms, dense 1 ms: the model's pick (sparse) is wrong

    monkeypatch.setattr(dispatch, "_probe_times", fake_probe_times)
    rng = np.random.default_rng(8)
    run = dict(run_sparse=lambda: None, run_dense=lambda: None)
    near = make_tensor(random_array(rng, (64, 64), 0.5).astype(np.float32), "csr")  # dense/sparse ≈ 2: ambiguous
    assert not dispatch.choose_spmm(near, 16, dense_available=True).use_dense  # no runners: the prediction
    first = dispatch.choose_spmm(near, 16, dense_available=True, **run)
    assert first.use_dense and first.measured and "measured" in first.explain() and measured == [2]
    low, high = dispatch.MEASURED_ROUNDS  # ~MEASURED_SECONDS per side (dense predicted 64·64·16·1e-8 s), bounded
    assert rounds == [min(high, max(low, int(dispatch.MEASURED_SECONDS / (64 * 64 * 16 * 1e-8))))]
    assert dispatch.choose_spmm(near, 16, dense_available=True, **run) == first and measured == [2]  # remembered
    assert dispatch.choose_spmm(near, 32, dense_available=True, **run).measured and measured == [2, 2]  # its own k
    again = make_tensor(near.to_numpy(), "csr")  # a fresh operand of the same shape and nnz
    assert dispatch.choose_spmm(again, 16, dense_available=True, **run) == first and measured == [2, 2]
    far = make_tensor(random_array(rng, (64, 64), 0.01).astype(np.float32), "csr")  # dense/sparse ≈ 100
    assert not dispatch.choose_spmm(far, 16, dense_available=True, **run).measured and measured == [2, 2]
    times = [1.1e-3, 1.2e-3]  # the kernel measured faster, but not by MEASURED_MARGIN: dense
    monkeypatch.setattr(dispatch, "_probe_times", lambda fns, repeats=15: times)
    assert dispatch.choose_spmm(near, 8, dense_available=True, **run).use_dense
    times = [0.9e-3, 1.2e-3]
    assert not dispatch.choose_spmm(near, 12, dense_available=True, **run).use_dense


def test_dispatch_prices_a_dense_operand_that_fits_in_cache_at_the_cached_rate(monkeypatch):
    from treadle.runtime import dispatch

    cal = dispatch.Calibration(c_sparse=1e-9, c_out=0.0, c_dense=1e-9, c_densify=1e-10, c_dense_cached=1e-10)
    monkeypatch.setattr(dispatch, "_CAL", {(1, "torch"): cal})
    rng = np.random.default_rng(5)
    half = make_tensor(random_array(rng, (1024, 1024), 0.5).astype(np.float32), "csr")
    small = dispatch.choose_spmm(half, 1, dense_available=True)
    assert small.dense_seconds == pytest.approx(1024 * 1024 * 1e-10) and small.use_dense
    big = make_tensor(random_array(rng, (1024, 1025), 0.5).astype(np.float32), "csr")
    streamed = dispatch.choose_spmm(big, 1, dense_available=True)
    assert streamed.dense_seconds == pytest.approx(1024 * 1025 * 1e-9) and not streamed.use_dense


def test_sddmm_dispatch_follows_its_cost_model(monkeypatch):
    """SDDMM goes dense (BLAS D @ E, its values at the pattern) when m·n·k·c_dense + m·n·c_densify
    + nnz·c_mask is below nnz·k·c_entry (fixed calibrations: no timing in the test)."""
    from treadle.runtime import dispatch

    cal = dispatch.Calibration(c_sparse=1e-9, c_out=1e-9, c_dense=1e-11, c_densify=1e-10)
    monkeypatch.setattr(dispatch, "_CAL", {(64, "torch"): cal})
    monkeypatch.setattr(dispatch, "_SDDMM_CAL", dispatch.SddmmCalibration(c_entry=1e-10, c_mask=1e-9))
    rng = np.random.default_rng(6)
    half = make_tensor(random_array(rng, (256, 256), 0.5).astype(np.float32), "csr")
    thin = make_tensor(random_array(rng, (256, 256), 0.002).astype(np.float32), "csr")
    dense_side = dispatch.choose_sddmm(half, 32)
    assert dense_side.use_dense
    assert dense_side.sparse_seconds == pytest.approx(half.nnz * 32 * 1e-10)
    assert dense_side.dense_seconds == pytest.approx(256 * 256 * 32 * 1e-11 + 256 * 256 * 1e-10 + half.nnz * 1e-9)
    assert not dispatch.choose_sddmm(thin, 32).use_dense
    big = make_tensor(random_array(rng, (1024, 1025), 0.5).astype(np.float32), "csr")
    assert "dense not modelled at this size" in dispatch.choose_sddmm(big, 32).explain()  # beyond the cached size
    monkeypatch.setattr(dispatch, "MODE", "sparse")
    assert not dispatch.choose_sddmm(half, 32).use_dense


def test_dispatch_needs_the_margin_to_go_sparse(monkeypatch):
    """Predicted dense 1.0 against sparse 0.9 runs dense (within DENSE_MARGIN = 1.5); against
    sparse 0.6 it runs sparse; a forced MODE ignores the prediction."""
    from treadle.runtime import dispatch

    monkeypatch.setattr(dispatch, "MODE", "auto")
    assert dispatch._dense_wins(1.0, 0.9) and not dispatch._dense_wins(1.0, 0.6)
    monkeypatch.setattr(dispatch, "MODE", "sparse")
    assert not dispatch._dense_wins(1.0, 2.0)
    monkeypatch.setattr(dispatch, "MODE", "dense")
    assert dispatch._dense_wins(2.0, 1.0)


def test_calibration_measures_positive_costs(monkeypatch):
    from treadle.runtime import dispatch

    monkeypatch.setattr(dispatch, "_CAL", {})
    monkeypatch.setattr(dispatch, "_SDDMM_CAL", None)
    sd = dispatch.calibrate_sddmm()
    assert sd.c_entry > 0 and sd.c_mask > 0 and dispatch.calibrate_sddmm() is sd
    for k in (1, 128):
        for engine in ("torch", "numpy"):
            cal = dispatch.calibrate(k, engine)
            assert all(np.isfinite(v) and v >= 0 for v in vars(cal).values())
            assert cal.c_sparse > 0 and cal.c_dense > 0
            assert dispatch.calibrate(k, engine) is cal  # once per process, width and engine
    assert dispatch.calibrate(1) is not dispatch.calibrate(64)


def test_unsupported_discordant_pass_error():
    from treadle.errors import PipelineError
    from treadle.pipeline import parse, run_pipeline

    module = parse(
        """
#csr = #sparse.encoding<{map = (i, j) -> (i : dense, j : compressed)}>
func.func @f(%A: tensor<4x4xf64, #csr>, %x: tensor<4xf64>) -> tensor<4xf64> {
  %y = sparse.assign y(j) = A(i, j) * x(i) where A = %A, x = %x : tensor<4x4xf64, #csr>, tensor<4xf64> -> tensor<4xf64> schedule #sparse.schedule<order = [j, i]>
  func.return %y : tensor<4xf64>
}"""
    )
    with pytest.raises(PipelineError, match="discordant"):
        run_pipeline(module, "sparse-to-loops")


def _new_process(monkeypatch) -> None:
    """Empty the in-memory kernel caches, as a new process starts (the disk cache stays)."""
    import sys

    from treadle.runtime import kernels

    monkeypatch.setattr(sys.modules["treadle.runtime.execute"], "_CACHE", {})
    monkeypatch.setattr(kernels, "_OPS", {})


def test_statement_index_reused_across_processes(tmp_path, monkeypatch):
    """A second 'process' (empty in-memory cache) loads the kernel from the on-disk index
    without lowering, and computes the same result."""
    import sys

    from treadle.runtime import kernels

    ex = sys.modules["treadle.runtime.execute"]
    monkeypatch.setenv("TREADLE_CACHE_DIR", str(tmp_path))
    _new_process(monkeypatch)
    rng = np.random.default_rng(7)
    a = make_tensor(random_array(rng, (13, 11), 0.3), "csr")
    b = rng.standard_normal((11, 3))
    first = kernels.spmm(a, b)
    assert list((tmp_path / "scorch").glob("*.json"))
    _new_process(monkeypatch)
    monkeypatch.setattr(ex, "StatementLowering", None)  # lowering must not run again
    np.testing.assert_array_equal(kernels.spmm(a, b), first)


def test_default_schedule_reused_across_processes(tmp_path, monkeypatch):
    """A second 'process' takes a statement's default schedule from disk (no order search),
    the same schedule the search gave."""
    from treadle.runtime import kernels

    monkeypatch.setenv("TREADLE_CACHE_DIR", str(tmp_path))
    _new_process(monkeypatch)
    rng = np.random.default_rng(9)
    a = make_tensor(random_array(rng, (21, 17), 0.2), "csr")
    b = rng.standard_normal((17, 5))
    searched = kernels.statement("spmm", {"A": (a.shape, a.encoding), "B": (b.shape, None)}, (21, 5), None, np.float64).op.schedule
    assert searched is not None and list((tmp_path / "scorch" / "schedules").glob("*.json"))
    _new_process(monkeypatch)

    def no_search(op):
        raise AssertionError("the default schedule was searched again")

    monkeypatch.setattr(kernels, "default_schedule", no_search)
    again = kernels.statement("spmm", {"A": (a.shape, a.encoding), "B": (b.shape, None)}, (21, 5), None, np.float64)
    assert again.op.schedule == searched
    np.testing.assert_allclose(kernels.spmm(a, b), a.to_numpy() @ b, rtol=1e-12)


def test_statement_index_is_keyed_by_the_generator(tmp_path, monkeypatch):
    """An index entry written by another version of the loop generator is not reused."""
    import sys

    from treadle.runtime import kernels

    ex = sys.modules["treadle.runtime.execute"]
    monkeypatch.setenv("TREADLE_CACHE_DIR", str(tmp_path))
    _new_process(monkeypatch)
    a = make_tensor(random_array(np.random.default_rng(8), (5, 4), 0.5), "csr")
    b = np.ones((4, 2))
    kernels.spmm(a, b)
    (entry,) = (tmp_path / "scorch").glob("*.json")
    _new_process(monkeypatch)
    monkeypatch.setattr(ex, "_generator_fingerprint", lambda: "another version")
    kernels.spmm(a, b)
    assert len(list((tmp_path / "scorch").glob("*.json"))) == 2 and entry.exists()


@pytest.mark.parametrize("mode", ["dense", "sparse"])
def test_einsum_dispatches_dense_products_to_blas(mode, monkeypatch):
    """treadle.einsum's SpMM goes to BLAS when the model says so (then no compiled kernel runs),
    and treadle.explain says which side and why."""
    import sys

    from treadle.api import build_program
    from treadle.runtime import dispatch

    rng = np.random.default_rng(9)
    a = make_tensor(rng.standard_normal((12, 10)), "csr")
    b = rng.standard_normal((10, 4))
    dispatch.calibrate(b.shape[1])  # its probe kernels compile (once per process) before compiling is forbidden
    monkeypatch.setattr(dispatch, "MODE", mode)
    if mode == "dense":
        monkeypatch.setattr(sys.modules["treadle.runtime.execute"], "compile_statement", _no_reference)
    y = treadle.einsum("C(i, k) = A(i, j) * B(j, k)", A=a, B=b)
    np.testing.assert_allclose(y.to_numpy(), a.to_numpy() @ b, rtol=1e-12)
    module = build_program("C(i, k) = A(i, j) * B(j, k)", {"A": a, "B": treadle.tensor(b)}, None)
    side = "dense (torch/BLAS)" if mode == "dense" else "sparse (compiled treadle kernel)"
    assert f"dispatch: {side}: predicted sparse" in treadle.explain(module, "main", [a, treadle.tensor(b)])
