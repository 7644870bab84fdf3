"""The Scorch benchmark's own code (its timings are not checked: that is what it measures)."""

import json

import pytest

pytest.importorskip("torch")

from treadle.benchmarks import sparse_cpu  # noqa: E402


def test_interleaved_timing_takes_turns_and_drops_what_raises(monkeypatch):
    calls = {"a": 0, "b": 0}

    def a():
        calls["a"] += 1

    def b():
        calls["b"] += 1

    def broken():
        raise NotImplementedError

    monkeypatch.setattr(sparse_cpu, "ROUND_SECONDS", 0.0)
    times = sparse_cpu.interleaved_ms({"a": a, "b": b, "broken": broken, "missing": None}, repeats=7, rounds=3)
    # a warm-up and a timed probe call, then per round one untimed and ceil(7 / 3) = 3 timed calls
    assert calls == {"a": 2 + 3 * (1 + 3), "b": 2 + 3 * (1 + 3)}
    assert times["broken"] is None and times["missing"] is None and times["a"] >= 0 and times["b"] >= 0
    monkeypatch.setattr(sparse_cpu, "ROUND_SECONDS", 10.0)  # a short call gets more, up to ROUND_CALLS per round
    calls.update(a=0, b=0)
    sparse_cpu.interleaved_ms({"a": a, "b": b}, repeats=7, rounds=3)
    assert calls == {"a": 2 + 3 * (1 + sparse_cpu.ROUND_CALLS), "b": 2 + 3 * (1 + sparse_cpu.ROUND_CALLS)}


def test_quick_model_rows_run_and_report_their_ratio(tmp_path, capsys):
    import torch

    path = tmp_path / "rows.json"
    threads = torch.get_num_threads()
    try:
        assert sparse_cpu.main(["--quick", "--models-only", "--threads", "1", "--json", str(path)]) == 0
    finally:
        torch.set_num_threads(threads)  # main() sets the process's thread count
    rows = json.loads(path.read_text())["rows"]
    assert [r["case"] for r in rows] == ["model gcn", "model graphsage", "model bigbird-attention", "model pruned-mlp-90%"]
    for r in rows:
        assert r["ours_ms"] > 0 and r["torch.sparse_ms"] > 0
        assert r["vs_torch_sparse"] == pytest.approx(r["torch.sparse_ms"] / r["ours_ms"])
    assert "model graphsage" in capsys.readouterr().out


@pytest.mark.parametrize("mode", ["dense", "sparse"])
def test_kernel_rows_say_where_the_dispatcher_sent_them(mode, tmp_path, monkeypatch):
    import torch

    from treadle.runtime import dispatch

    monkeypatch.setattr(dispatch, "MODE", mode)
    path = tmp_path / "rows.json"
    threads = torch.get_num_threads()
    try:
        assert sparse_cpu.main(["--quick", "--only", "pruned24", "--threads", "1", "--repeats", "1", "--json", str(path)]) == 0
    finally:
        torch.set_num_threads(threads)
    rows = {r["case"].split(" pruned24")[0]: r for r in json.loads(path.read_text())["rows"]}
    assert set(rows) == {"spmv", "spmm N=32", "spmm N=128", "sddmm K=32"}
    assert {r["route"] for r in rows.values()} == {mode}
