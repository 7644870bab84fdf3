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
    """The demo's check can fail: with a broken reference it exits 1."""
    from treadle.tools import cli
    import treadle.interpreters.sparse as reference

    real = reference.evaluate_assign
    monkeypatch.setattr(reference, "evaluate_assign", lambda op, arrays: real(op, arrays) + 1.0)
    assert cli.main(["demo", "--size", "8"]) == 1


def test_cli_without_a_command_prints_help():
    result = subprocess.run([str(BIN / "treadle")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "demo" in result.stdout
