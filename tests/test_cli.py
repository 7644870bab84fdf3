"""The README's entry points: `treadle demo` runs and checks itself against numpy."""

import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def test_demo_runs_and_checks_against_numpy():
    result = subprocess.run(
        [str(BIN / "treadle"), "demo", "--size", "32"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "sparse.assign y(i) = A(i, j) * x(j)" in result.stdout
    assert "SpMV  y = A x       : matches numpy" in result.stdout
    assert "SDDMM S = A * (D E) : matches numpy" in result.stdout


def test_demo_reports_a_mismatch(monkeypatch):
    """The demo's check can fail: with broken compiled results it exits 1."""
    import treadle.runtime as runtime
    from treadle.tensors import Tensor
    from treadle.tools import cli

    real = runtime.execute

    def off_by_one(module, function, args):
        return tuple(Tensor(t.shape, t.encoding, t.levels, t.values + 1.0) for t in real(module, function, args))

    monkeypatch.setattr(runtime, "execute", off_by_one)
    assert cli.main(["demo", "--size", "8"]) == 1


def test_cli_without_a_command_prints_help():
    result = subprocess.run([str(BIN / "treadle")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "demo" in result.stdout
