"""tune_kernel / kernel_space: Treadle's own kernels tuned with compiled, checked runs.

Small tensors and budgets; these tests check correctness and behaviour, never timings.
"""

import itertools
import json
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

from treadle.tuning import Space
from treadle.tuning.run import evaluate

SEED = 5
SPMM = "C(i,k) = A(i,j) * B(j,k)"
SDDMM = "C(i,j) = A(i,j) * D(i,k) * ET(j,k)"


def _spmm_inputs(n=96, k=16, dtype=np.float64):
    print(f"seed {SEED}")
    rng = np.random.default_rng(SEED)
    a = sp.random(n, n, density=0.06, format="csr", random_state=SEED, dtype=dtype)
    b = rng.standard_normal((n, k)).astype(dtype)
    return {"A": a, "B": b}


def test_tuning_imports_nothing_of_the_compiler():
    code = ("import sys, treadle.tuning as t\n"
            "bad = [m for m in sys.modules if m == 'xdsl' or m.startswith(('xdsl.', 'treadle.dialects', "
            "'treadle.passes', 'treadle.runtime', 'treadle.backends', 'treadle.api', 'treadle.kernel_tuning'))]\n"
            "assert not bad, bad\n"
            "assert callable(t.tune_kernel) and callable(t.kernel_space)\n"
            "assert 'treadle.kernel_tuning' in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_pass_declarations_are_plain_data():
    from treadle.api import build_program
    from treadle.dialects.sparse import AssignOp
    from treadle.passes.sparse import infer_formats, order_loops, parallelize, tile, unroll
    from treadle.tensors import tensor

    inputs = {n: tensor(v) for n, v in _spmm_inputs().items()}
    op = next(o for o in build_program(SPMM, inputs).walk() if isinstance(o, AssignOp))
    params = {}
    for module in (order_loops, tile, unroll, parallelize, infer_formats):
        decl = module.tunable_options(op)
        assert decl and json.loads(json.dumps(decl)) == decl  # plain JSON data
        for d in decl.values():
            assert "applies_to" in d and d["parameter_default"] is not None
        params.update({n: {k: v for k, v in d.items() if k != "applies_to"} for n, d in decl.items()})
    assert set(params) == {"order", "tile_k", "unroll", "omp", "chunk", "format_A"}
    assert params["tile_k"]["values"] == [4, 8, 16]  # sizes below the extent 16, then the extent
    assert sorted(params["order"]["values"]) == ["i", "j", "k"]
    space = Space.from_json({"parameters": params})
    assert space.default() is not None


def test_known_constraints_match_the_lowering():
    """A loop order is feasible in the space exactly when the loop generator accepts it for the
    chosen operand format, and OpenMP is allowed exactly when sparse-parallelize parallelizes."""
    from treadle.passes.sparse.lowering import NotSupportedError, StatementLowering
    from treadle.tuning import kernel_space

    ks = kernel_space(SPMM, _spmm_inputs())
    assert ks.space.names == ["order", "tile_k", "unroll", "omp", "chunk", "format_A"]
    formats = ks.space.by_name["format_A"].values
    assert {"csr", "csc", "coo"} <= set(formats)
    feasible_orders = 0
    for order, fmt in itertools.product(itertools.permutations("ikj"), formats):
        config = {**ks.default, "order": order, "format_A": fmt, "omp": "off", "chunk": 64}
        in_space = ks.space.is_feasible(config)
        _, op, _, _ = ks.build(config)
        try:
            StatementLowering(op, "kernel").generate()
            lowers = True
        except NotSupportedError:
            lowers = False
        assert in_space == lowers, (order, fmt)
        feasible_orders += in_space
        if in_space:
            par = {**config, "omp": "dynamic"}
            _, op, _, _ = ks.build(par)
            assert ks.space.is_feasible(par) == bool(op.schedule.parallel.data), (order, fmt)
    assert feasible_orders == 3 * len(formats)  # half the orders are concordant for each format


def test_configuration_becomes_pass_options_and_schedule():
    from treadle.tuning import kernel_space

    ks = kernel_space(SPMM, _spmm_inputs(k=32))
    config = {"order": ("k", "i", "j"), "tile_k": 8, "unroll": 1, "omp": "static", "chunk": 4,
              "format_A": "csr"}
    assert ks.space.is_feasible(config)
    assert ks.pipeline(config) == ("sparse-order-loops{keep=true},sparse-tile{index=k size=8},"
                                   "sparse-parallelize{schedule=static chunk=4}")
    assert ks.schedule(config) == "#sparse.schedule<order = [k, i, j], tile = {k = 8}, parallel = k, chunk = 4>"
    off = {**config, "tile_k": 32, "omp": "off", "chunk": 64}
    assert ks.schedule(off) == "#sparse.schedule<order = [k, i, j]>"  # untiled, sequential
    assert not ks.space.is_feasible({**off, "chunk": 8})  # chunk is pinned when sequential
    assert ks.default == {"order": ks.default["order"], "tile_k": 32, "unroll": 1, "omp": "dynamic",
                          "chunk": 64, "format_A": "csr"}
    unrolled = {**off, "order": ("i", "j", "k"), "unroll": 4}
    assert ks.pipeline(unrolled) == "sparse-order-loops{keep=true},sparse-unroll{factor=4}"
    assert "unroll = 4" in ks.schedule(unrolled)
    kernel, operands = ks.compile(unrolled)  # unrolled by 4 over A's positions, still A @ B
    a, b = _spmm_inputs(k=32).values()
    np.testing.assert_allclose(kernel(operands).to_numpy(), a @ b, rtol=1e-10, atol=1e-12)


def test_flags_leave_passes_out():
    from treadle.tuning import kernel_space

    ks = kernel_space(SPMM, _spmm_inputs(), formats=False, tile=False, unroll=False)
    assert ks.space.names == ["order", "omp", "chunk"]
    ks = kernel_space(SPMM, _spmm_inputs(), formats={"A": ["csc"]}, parallel=False)
    assert ks.space.by_name["format_A"].values == ["csr", "csc"]
    assert "omp" not in ks.space.names


def test_tune_kernel_finds_a_correct_configuration(tmp_path, capsys):
    from treadle.tuning import Tuner, tune_kernel

    inputs = _spmm_inputs()
    log = tmp_path / "spmm.jsonl"
    r = tune_kernel(SPMM, inputs, budget=8, seed=3, log=log, repeats=3, confirm=1)
    out = capsys.readouterr().out
    assert "seed 3" in out and "speedup" in out
    assert len(r.observations) == 8
    assert r.observations[0].config == r.default_config  # the compiler's own choice comes first
    assert r.default_seconds == r.observations[0].value > 0
    assert all(o.feasible for o in r.observations), [o.info for o in r.observations if not o.feasible]
    assert r.best_seconds == min(o.value for o in r.observations)
    assert r.space.space.is_feasible(r.best_config)
    assert set(r.confirmed) == {"best", "default"} and r.speedup > 0
    # the best configuration, compiled again, computes A @ B (checked independently of the tuner)
    kernel, operands = r.space.compile(r.best_config)
    got = kernel(operands).to_numpy()
    np.testing.assert_allclose(got, inputs["A"] @ inputs["B"], rtol=1e-10, atol=1e-12)
    assert r.best_schedule.startswith("#sparse.schedule<order = [")
    tells = [json.loads(line) for line in log.read_text().splitlines() if '"tell"' in line]
    assert len(tells) == 8
    # the log resumes: a new Tuner on it knows all 8 observations
    assert len(Tuner(r.space.space, seed=3, log=log).observations) == 8


def test_wrong_results_and_compile_errors_are_infeasible():
    from treadle.tuning import kernel_space, tune_kernel

    inputs = _spmm_inputs()
    wrong = kernel_space(SPMM, inputs, reference=2 * (inputs["A"] @ inputs["B"]), formats=False)
    value, info = evaluate(wrong.measure, wrong.default)
    assert value is None and "wrong result" in info
    r = tune_kernel(SPMM, inputs, budget=3, space=wrong, progress=False, confirm=0)
    assert r.best_config is None and all("wrong result" in o.info for o in r.observations)

    ks = kernel_space(SPMM, inputs)
    discordant = {**ks.default, "order": ("j", "i", "k"), "format_A": "csr", "omp": "off"}
    assert not ks.space.is_feasible(discordant)  # a known constraint ...
    value, info = evaluate(ks.measure, discordant)  # ... because the lowering refuses it
    assert value is None and "NotSupportedError" in info and "discordant" in info
    assert evaluate(ks.measure, ks.default)[0] is not None


def test_sddmm_output_follows_the_mask_format():
    from treadle.tuning import kernel_space

    rng = np.random.default_rng(SEED)
    print(f"seed {SEED}")
    a = sp.random(64, 80, density=0.1, format="csr", random_state=SEED, dtype=np.float32)
    d = rng.standard_normal((64, 8)).astype(np.float32)
    et = rng.standard_normal((80, 8)).astype(np.float32)
    ks = kernel_space(SDDMM, {"A": a, "D": d, "ET": et}, format="infer")
    want = a.toarray() * (d @ et.T)
    for fmt in ("csr", "dcsc"):
        order = ("i", "j", "k") if fmt == "csr" else ("j", "i", "k")
        config = {**ks.default, "format_A": fmt, "order": order}
        assert ks.space.is_feasible(config)
        kernel, operands = ks.compile(config)
        result = kernel(operands)
        assert result.format == fmt  # written in the mask's pattern
        np.testing.assert_allclose(result.to_numpy(), want, rtol=1e-4, atol=1e-5)
        assert ks.measure(config) > 0


def test_space_file_round_trip_keeps_the_feasible_set():
    from treadle.kernel_tuning import all_configurations
    from treadle.tuning import kernel_space

    ks = kernel_space(SPMM, _spmm_inputs())
    again = Space.from_json(json.loads(json.dumps(ks.space.to_json())))
    assert len(all_configurations(again)) == len(all_configurations(ks.space)) > 100
    assert again.default() is not None
