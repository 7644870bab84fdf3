"""Machine files are data: every number has a source, and one number can be swapped."""

import tomllib

import pytest

from treadle.errors import Error
from treadle.machines.loader import MACHINE_DIR, MachineError, available_machines, load_machine


@pytest.mark.parametrize("name", ["h100", "b200", "toy"])
def test_every_number_names_its_source(name):
    raw = tomllib.loads((MACHINE_DIR / f"{name}.toml").read_text())
    m = load_machine(name)

    def walk(table, prefix=""):
        for key, value in table.items():
            if isinstance(value, dict) and "value" in value:
                yield prefix + key, value
            elif isinstance(value, dict):
                yield from walk(value, prefix + key + ".")

    entries = list(walk(raw))
    assert len(entries) == len(m.sources) >= 20
    for key, entry in entries:
        assert entry["source"].strip(), key
        assert m.sources[key] == entry["source"]


def test_published_numbers():
    h100, b200 = load_machine("h100"), load_machine("b200")
    assert (h100.sms, h100.units["tc"].throughput, h100.units["mufu"].throughput) == (132, 4096, 16)
    assert (b200.sms, b200.units["tc"].throughput, b200.tmem_bytes) == (148, 8192, 256 * 1024)
    # 989 TFLOPs dense BF16 at the locked 1830 MHz.
    assert h100.sms * h100.units["tc"].throughput * h100.clock_hz == pytest.approx(989e12, rel=0.01)
    assert h100.units["tc"].cycles(2 * 64 * 128 * 128) == 512
    assert "tmem" not in h100.units and "tmem" in b200.units
    assert set(available_machines()) >= {"h100", "b200", "toy"}


def test_override_swaps_one_number(tmp_path):
    m = load_machine("h100", {"units.mufu.throughput": 32})
    assert m.units["mufu"].throughput == 32
    assert "override" in m.sources["units.mufu.throughput"]
    assert load_machine("h100").units["mufu"].throughput == 16
    # Loading from a path works the same way (a copy of the file with one number changed).
    text = (MACHINE_DIR / "h100.toml").read_text().replace("value = 132,", "value = 114,")
    (tmp_path / "h100_pcie.toml").write_text(text)
    assert load_machine(tmp_path / "h100_pcie.toml").sms == 114


def test_bad_machines_are_clear_errors(tmp_path):
    with pytest.raises(MachineError, match="unknown machine 'a100'"):
        load_machine("a100")
    text = (MACHINE_DIR / "toy.toml").read_text().replace(
        'sms = { value = 1, source = "Twill §3.1 toy machine" }', "sms = { value = 1 }")
    (tmp_path / "nosrc.toml").write_text(text)
    with pytest.raises(Error, match=r"chip.sms: a number must be \{ value = ..., source"):
        load_machine(tmp_path / "nosrc.toml")
    with pytest.raises(MachineError, match="no entry 'nope'"):
        load_machine("h100", {"units.mufu.nope": 1})
    with pytest.raises(MachineError, match="no unit 'tmem'"):
        load_machine("h100").unit("tmem")


def test_unit_properties_name_their_source_and_can_be_swapped(tmp_path):
    b200, h100 = load_machine("b200"), load_machine("h100")
    # tcgen05.mma completes through tcgen05.commit on an mbarrier and is variable latency;
    # Hopper's wgmma completes in its warp group (wgmma.wait_group) and is tied to it.
    assert (b200.units["tc"].completion, b200.units["tc"].variable_latency) == ("mbarrier", True)
    assert (h100.units["tc"].completion, h100.units["tc"].variable_latency) == ("local", False)
    assert h100.units["tma"].completion == b200.units["tma"].completion == "mbarrier"
    assert "tcgen05.commit" in b200.source("units.tc.completion")
    assert "Twill §5.3" in b200.source("units.tc.variable_latency")
    off = load_machine("b200", {"units.tc.variable_latency": False})
    assert not off.units["tc"].variable_latency
    assert "override" in off.source("units.tc.variable_latency")
    text = (MACHINE_DIR / "b200.toml").read_text().replace(
        'completion = { value = "mbarrier", source = "PTX ISA tcgen05.commit',
        'completion = { value = "interrupt", source = "PTX ISA tcgen05.commit', 1)
    (tmp_path / "bad.toml").write_text(text)
    with pytest.raises(MachineError, match="units.tc.completion must be one of local, mbarrier"):
        load_machine(tmp_path / "bad.toml")
