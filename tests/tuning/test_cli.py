import json
import subprocess
import sys

from treadle.tools.cli import main
from treadle.tuning.examples import LOOP_NEST_SPACE


def test_treadle_tune_end_to_end(tmp_path, capsys):
    space = tmp_path / "loop.json"
    space.write_text(json.dumps(LOOP_NEST_SPACE))
    rc = main(["tune", str(space), "--objective", "treadle.tuning.examples:loop_nest", "--budget", "12",
               "--seed", "4", "--executor", "serial", "--random-baseline"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert "seed 4" in out.out and "best " in out.out
    assert "12/12" in out.err  # the progress bar
    log = tmp_path / "loop.tune.jsonl"
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert sum(e["event"] == "tell" for e in events) == 12
    png = tmp_path / "loop.convergence.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # a second run refuses to overwrite the log, --resume extends it
    assert main(["tune", str(space), "--objective", "treadle.tuning.examples:loop_nest"]) == 1
    assert "--resume" in capsys.readouterr().err
    assert main(["tune", str(space), "--objective", "treadle.tuning.examples:loop_nest", "--budget", "14",
                 "--resume", "--executor", "serial", "--quiet"]) == 0
    assert sum('"tell"' in line for line in log.read_text().splitlines()) == 14


def test_shell_command_objective(tmp_path, capsys):
    space = tmp_path / "s.json"
    space.write_text(json.dumps({"parameters": {
        "x": {"parameter_type": "integer", "values": [0, 20]},
        "p": {"parameter_type": "permutation", "values": [3]}}}))
    cmd = "test {x} -ne 13 && python -c 'import json,sys; c=json.load(sys.stdin); print((c[\"x\"]-7)**2 + c[\"p\"][0])'"
    rc = main(["tune", str(space), "--command", cmd, "--budget", "10", "--executor", "serial", "--quiet",
               "--log", str(tmp_path / "l.jsonl"), "--plot", str(tmp_path / "p.png")])
    assert rc == 0
    events = [json.loads(line) for line in (tmp_path / "l.jsonl").read_text().splitlines()[1:]]
    tells = [e for e in events if e["event"] == "tell"]
    assert all((e["value"] is None) == (e["config"]["x"] == 13) for e in tells)
    assert all(e["value"] == (e["config"]["x"] - 7) ** 2 + e["config"]["p"][0] for e in tells if e["value"] is not None)


def test_user_errors_exit_1_with_a_message(tmp_path, capsys):
    assert main(["tune", str(tmp_path / "missing.json"), "--objective", "m:f"]) == 1
    assert "not found" in capsys.readouterr().err
    space = tmp_path / "s.json"
    space.write_text(json.dumps(LOOP_NEST_SPACE))
    assert main(["tune", str(space), "--objective", "no_such_module_xyz:f"]) == 1
    assert "cannot import" in capsys.readouterr().err


def test_killed_cli_run_resumes(tmp_path):
    space = tmp_path / "loop.json"
    space.write_text(json.dumps(LOOP_NEST_SPACE))
    log = tmp_path / "loop.tune.jsonl"
    cmd = [sys.executable, "-m", "treadle.tools.cli", "tune", str(space), "--command",
           "sleep 0.2; echo 1.5", "--budget", "30", "--executor", "serial", "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import time

    deadline = time.time() + 60
    while time.time() < deadline:
        if log.exists() and log.read_text().count('"tell"') >= 4:
            break
        time.sleep(0.1)
    proc.kill()
    proc.wait()
    logged = log.read_text().count('"tell"')
    assert 4 <= logged < 30
    subprocess.run(cmd + ["--resume", "--budget", str(logged + 3)], check=True, capture_output=True)
    assert log.read_text().count('"tell"') == logged + 3
