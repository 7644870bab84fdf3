"""Machine descriptions as data: read `machines/<name>.toml` into a frozen `Machine`.

Passes (Twill's solver), simulators and backends all read machines through this module, so a new
GPU is a new file. Every number in a file is `{value = ..., source = "..."}`; the loader keeps the
sources so reports can cite them, and refuses a number without one.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from treadle.errors import Error

MACHINE_DIR = Path(__file__).resolve().parent


class MachineError(Error):
    """A machine file that is missing, malformed, or lacks the source of a number."""


@dataclass(frozen=True)
class Unit:
    """A functional-unit kind of one SM; all SM-wide capacity is one unit of this kind."""

    name: str
    throughput: float
    """work per clock per SM (flop, exponentials, lane-ops or bytes)"""
    latency: int
    issue: str
    """"thread" (one elected thread issues: TMA, UMMA) or "warpgroup" (wgmma, MUFU, FMA)"""
    is_async: bool
    """completes in the background; the issuing warp only pays `issue_cycles`"""
    blocking_result: bool
    """a consumer must do a blocking wait (mbarrier / wgmma.wait / tcgen05.wait) for the result"""
    variable_latency: bool = False
    """Twill §5.3 / Fig. 6 VARIABLE LATENCY: a static schedule cannot rely on when the op
    completes, so its issuer is a designated role (streaming TMA loads: the producer; other
    variable-latency ops: the one role W_vl) that holds nothing else"""
    completion: str = "local"
    """how a consumer learns that the result is there: "local" (the issuing warps wait for it
    themselves: wgmma.wait_group, tcgen05.wait::ld, a synchronous op's own end) or "mbarrier"
    (the unit arrives on an mbarrier: TMA complete_tx, tcgen05.commit), which every consumer,
    on the issuing role or not, waits on"""
    issue_cycles: int = 0
    hbm_fraction: float = 0.0
    sustained: float = 1.0
    """fraction of peak throughput a long stream of these ops reaches (timing model only)"""

    def cycles(self, work: float) -> int:
        """Cycles one SM's units of this kind need for `work` (at least 1 for non-empty work)."""
        if work <= 0:
            return 0
        return max(1, round(work / self.throughput))


@dataclass(frozen=True)
class Machine:
    name: str
    description: str
    cuda_arch: str
    sms: int
    clock_mhz: float
    hbm_bytes_per_s: float
    l2_bytes_per_s: float
    kernel_launch_cycles: int
    warps_per_group: int
    max_warps: int
    register_file: int
    max_regs_per_thread: int
    min_regs_per_thread: int
    base_regs_per_thread: int
    smem_bytes: int
    tmem_bytes: int
    groups_per_sm: int
    mbarrier_cycles: int
    named_barrier_cycles: int
    spill_base_cycles: float
    spill_cycles_per_kb: float
    units: dict[str, Unit]
    load_latency_cycles: int = 0
    hbm_share_bytes_per_cycle: float = 0.0
    sources: dict[str, str] = field(default_factory=dict, compare=False)
    path: str = ""

    @property
    def clock_hz(self) -> float:
        return self.clock_mhz * 1e6

    @property
    def threads_per_group(self) -> int:
        return 32 * self.warps_per_group

    def unit(self, name: str) -> Unit:
        if name not in self.units:
            raise MachineError(
                f"machine '{self.name}' has no unit '{name}' (units: {', '.join(sorted(self.units))})"
            )
        return self.units[name]

    def spill_cycles(self, nbytes: int) -> int:
        """Register value handed to another warp through SMEM, plus the mbarrier signal."""
        return round(
            self.spill_base_cycles + self.spill_cycles_per_kb * nbytes / 1024 + self.mbarrier_cycles
        )

    def source(self, key: str) -> str:
        return self.sources.get(key, "")


_SCALARS = {
    "chip": ("sms", "clock_mhz", "hbm_bytes_per_s", "l2_bytes_per_s", "kernel_launch_cycles"),
    "cta": (
        "warps_per_group", "max_warps", "register_file", "max_regs_per_thread",
        "min_regs_per_thread", "base_regs_per_thread", "smem_bytes", "tmem_bytes", "groups_per_sm",
    ),
    "comm": ("mbarrier_cycles", "named_barrier_cycles", "spill_base_cycles", "spill_cycles_per_kb"),
}
_UNIT_NUMBERS = ("throughput", "latency", "issue_cycles", "hbm_fraction", "sustained")
_COMPLETIONS = ("local", "mbarrier")


def _flag(table: dict[str, Any], key: str, where: str, sources: dict[str, str], default, kind):
    """A non-numeric unit property: a bare value, or `{ value = ..., source = "..." }` (the
    form new properties use, so a reader can tell a documented fact from an assumption)."""
    if key not in table:
        return default
    entry = table[key]
    if isinstance(entry, dict):
        if "value" not in entry or not str(entry.get("source", "")).strip():
            raise MachineError(f"{where}.{key}: must be {{ value = ..., source = \"...\" }}")
        sources[f"{where}.{key}"] = entry["source"]
        entry = entry["value"]
    if not isinstance(entry, kind):
        raise MachineError(f"{where}.{key}: expected a {kind.__name__}, got {entry!r}")
    return entry


def _number(table: dict[str, Any], key: str, where: str, sources: dict[str, str], required=True):
    if key not in table:
        if required:
            raise MachineError(f"{where}: missing '{key}'")
        return None
    entry = table[key]
    if not isinstance(entry, dict) or "value" not in entry or not str(entry.get("source", "")).strip():
        raise MachineError(f"{where}.{key}: a number must be {{ value = ..., source = \"...\" }}")
    value = entry["value"]
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise MachineError(f"{where}.{key}: value must be a number, got {value!r}")
    sources[f"{where}.{key}"] = entry["source"]
    return value


def _apply_overrides(raw: dict[str, Any], overrides: dict[str, Any]) -> None:
    for dotted, value in overrides.items():
        *path, last = dotted.split(".")
        table = raw
        for part in path:
            if part not in table:
                raise MachineError(f"override '{dotted}': no table '{part}'")
            table = table[part]
        if last not in table:
            raise MachineError(f"override '{dotted}': no entry '{last}'")
        old = table[last]["value"] if isinstance(table[last], dict) else table[last]
        table[last] = {"value": value, "source": f"override of {dotted} (was {old})"}


def parse_machine(raw: dict[str, Any], where: str = "<machine>") -> Machine:
    sources: dict[str, str] = {}
    values: dict[str, Any] = {}
    for section, keys in _SCALARS.items():
        table = raw.get(section)
        if not isinstance(table, dict):
            raise MachineError(f"{where}: missing table [{section}]")
        for key in keys:
            values[key] = _number(table, key, section, sources)
    units: dict[str, Unit] = {}
    for uname, table in raw.get("units", {}).items():
        nums = {k: _number(table, k, f"units.{uname}", sources, required=k in ("throughput", "latency"))
                for k in _UNIT_NUMBERS}
        if nums["throughput"] <= 0:
            raise MachineError(f"{where}: units.{uname}.throughput must be positive")
        completion = _flag(table, "completion", f"units.{uname}", sources, "local", str)
        if completion not in _COMPLETIONS:
            raise MachineError(f"{where}: units.{uname}.completion must be one of "
                               f"{', '.join(_COMPLETIONS)}, got '{completion}'")
        issue = table.get("issue", "warpgroup")
        if issue not in ("thread", "warpgroup"):
            raise MachineError(f"{where}: units.{uname}.issue must be 'thread' or 'warpgroup'")
        units[uname] = Unit(
            name=uname,
            throughput=float(nums["throughput"]),
            latency=int(nums["latency"]),
            issue=issue,
            is_async=bool(table.get("async", False)),
            blocking_result=bool(table.get("blocking_result", False)),
            variable_latency=_flag(table, "variable_latency", f"units.{uname}", sources, False,
                                   bool),
            completion=completion,
            issue_cycles=int(nums["issue_cycles"] or 0),
            hbm_fraction=float(nums["hbm_fraction"] or 0.0),
            sustained=float(nums["sustained"] or 1.0),
        )
    if not units:
        raise MachineError(f"{where}: no [units.*] tables")
    mem = raw.get("memory", {})
    for key in ("load_latency_cycles", "hbm_share_bytes_per_cycle"):
        v = _number(mem, key, "memory", sources, required=False)
        values[key] = 0 if v is None else v
    for key in ("name",):
        if not isinstance(raw.get(key), str):
            raise MachineError(f"{where}: missing string '{key}'")
    return Machine(
        name=raw["name"],
        description=str(raw.get("description", raw["name"])),
        cuda_arch=str(raw.get("cuda_arch", "")),
        units=units,
        sources=sources,
        path=where,
        **{k: (int(v) if k not in ("clock_mhz", "hbm_bytes_per_s", "l2_bytes_per_s",
                                   "spill_base_cycles", "spill_cycles_per_kb",
                                   "hbm_share_bytes_per_cycle") else float(v))
           for k, v in values.items()},
    )


def available_machines() -> list[str]:
    return sorted(p.stem for p in MACHINE_DIR.glob("*.toml"))


def load_machine(name_or_path: str | Path, overrides: dict[str, Any] | None = None) -> Machine:
    """Load a built-in machine by name (`"h100"`) or a machine file by path.

    `overrides` maps dotted keys (`"units.mufu.throughput"`, `"units.tc.variable_latency"`) to
    new values, so a test or a what-if study can swap one number or property without editing the
    file.
    """
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = MACHINE_DIR / f"{name_or_path}.toml"
        if not path.exists():
            raise MachineError(
                f"unknown machine '{name_or_path}' (known: {', '.join(available_machines())})"
            )
    if not path.exists():
        raise MachineError(f"machine file '{path}' does not exist")
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise MachineError(f"{path}: {err}") from None
    if overrides:
        _apply_overrides(raw, overrides)
    return parse_machine(raw, str(path))
