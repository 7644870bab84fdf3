"""`treadle schedule`: the command line prints II, optimality, roles, stages, time; writes a Gantt."""

from treadle.passes.twill import programs
from treadle.tools.cli import main


def test_schedule_builtin_with_gantt(tmp_path, capsys):
    png = tmp_path / "fa.png"
    assert main(["schedule", "fa-forward", "--arch", "h100", "--gantt", str(png), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "II = 52 (normalized) ≈ 2048 cycles" in out
    assert "optimal: proven" in out
    assert "0: producer    warps=1  regs/thread=24   ops: load_k, load_v" in out
    assert "solve time:" in out and "stage" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_schedule_mlir_file(tmp_path, capsys):
    f = tmp_path / "toy.mlir"
    f.write_text(programs.toy())
    assert main(["schedule", str(f), "--arch", "toy", "--quiet", "--emit-ir"]) == 0
    out = capsys.readouterr().out
    assert "II = 2 (normalized) ≈ 2 cycles, L = 4" in out
    assert "warp.loop @toy schedule #warp.schedule<" in out


def test_schedule_errors_are_one_line(tmp_path, capsys):
    assert main(["schedule", "nope", "--arch", "h100"]) == 1
    assert "unknown program 'nope' (built-in: toy, gemm, fa-forward" in capsys.readouterr().err
    assert main(["schedule", "toy", "--arch", "a100"]) == 1
    assert "unknown machine 'a100'" in capsys.readouterr().err
    bad = tmp_path / "bad.mlir"
    bad.write_text("warp.loop @l {\n %a = warp.task @a on tc work 1 -> vram 0\n}\n")
    assert main(["schedule", str(bad), "--arch", "toy"]) == 1
    assert "result space must be one of reg, smem, tmem" in capsys.readouterr().err
