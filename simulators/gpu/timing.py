"""Event-driven timing of a scheduled `warp.loop` on one SM, and of a whole FA kernel on a GPU.

The simulator reads only the IR (tasks, dependences, `#warp.slot`s) and the machine file; it does
not reuse the solver's model, so a schedule is checked against a second, more detailed model:
raw cycles (no normalization) with the tensor core at its sustained rate, in-order issue per role
(a blocking wait stalls the role until the data is there; a synchronous op keeps its warps busy),
one SM-wide unit per kind taken first-come first-served, cross-role hand-offs paying the mbarrier
or register->SMEM->register cost (and every consumer of a unit that completes through an mbarrier,
TMA or tcgen05.commit, paying that mbarrier on any role), and buffer rings: instance i of a value reuses the slot of
instance i - buffers, so its producer waits until every consumer of that instance is done.

Instances are processed in the order of their scheduled issue time (copy i of task v at
start(v) + i*II): every event an instance waits for belongs to an instance earlier in that order,
so one pass computes the actual times (a discrete-event simulation with a static event order).

`fa_forward_tflops` turns cycles per CTA into kernel throughput: CTAs of batch x heads x
seqlen/block_m, dealt longest first onto the SMs (wave quantization), each paying the first-load
latency, its loop (simulated with exactly its number of KV blocks) and the O store.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

from treadle.dialects.warp import LoopOp, TaskOp
from treadle.errors import Error
from treadle.machines.loader import Machine


class SimulationError(Error):
    """A loop the simulator cannot run (not scheduled, unknown unit)."""


@dataclass
class Trace:
    iterations: int
    start: dict[tuple[str, int], float]
    end: dict[tuple[str, int], float]
    role_of: dict[str, int]
    unit_of: dict[str, str]
    busy: dict[str, float] = field(default_factory=dict)

    @property
    def makespan(self) -> float:
        return max(self.end.values(), default=0.0)

    def cycles_per_iteration(self) -> float:
        """Steady-state rate: the second half of the run, where the pipeline is full."""
        n = self.iterations
        if n < 4:
            return self.makespan / max(n, 1)
        first = {k: v for k, v in self.end.items() if k[1] == n // 2 - 1}
        last = {k: v for k, v in self.end.items() if k[1] == n - 1}
        return (max(last.values()) - max(first.values())) / (n - n // 2)

    def utilization(self) -> dict[str, float]:
        span = self.makespan or 1.0
        return {u: b / span for u, b in sorted(self.busy.items())}


def _duration(machine: Machine, task: TaskOp) -> float:
    unit = machine.units.get(task.unit.data)
    if unit is None:
        raise SimulationError(f"task @{task.sym_name.data}: machine '{machine.name}' has no unit "
                              f"'{task.unit.data}'")
    return task.work.data / (unit.throughput * unit.sustained)


def simulate(loop: LoopOp, machine: Machine, iterations: int, pipelined: bool = True) -> Trace:
    """Run `iterations` trips of a scheduled loop on one SM.

    `pipelined=False` is the no-software-pipelining ablation: iteration i starts only when
    iteration i-1 has completely finished (roles and units still overlap within an iteration).
    """
    if loop.schedule is None:
        raise SimulationError(f"loop @{loop.sym_name.data} has no #warp.schedule; run "
                              "twill-schedule first")
    ii = loop.schedule.ii.data
    tasks = loop.tasks
    order = {t: k for k, t in enumerate(tasks)}
    dur = {t: _duration(machine, t) for t in tasks}
    consumers: dict[TaskOp, list[tuple[TaskOp, int]]] = {t: [] for t in tasks}
    for t in tasks:
        for dep, dist in zip(t.deps, t.distances, strict=True):
            consumers[dep.owner].append((t, dist))  # type: ignore[index]
    span = max(t.slot.start.data for t in tasks) + 1
    events = [((t.slot.start.data + i * (ii if pipelined else span)), order[t], i, t)
              for t in tasks for i in range(iterations)]
    heapq.heapify(events)
    start: dict[tuple[str, int], float] = {}
    end: dict[tuple[str, int], float] = {}
    ready: dict[tuple[str, int], float] = {}  # when a value can be consumed by its own role
    role_free: dict[int, float] = {}
    unit_free: dict[str, float] = {}
    busy: dict[str, float] = {}
    done: dict[int, float] = {}  # iteration -> when its last op ended (for pipelined=False)
    while events:
        _, _, i, t = heapq.heappop(events)
        name, role = t.sym_name.data, t.slot.role.data
        unit = machine.units[t.unit.data]
        at = role_free.get(role, 0.0)
        accumulates = (t.deps[t.alias.data].owner
                       if t.alias is not None and t.distances[t.alias.data] == 0 else None)
        for dep, dist in zip(t.deps, t.distances, strict=True):
            src = dep.owner
            j = i - dist
            if j < 0:
                continue  # loop-carried value from before the loop: ready at entry
            key = (src.sym_name.data, j)
            when = ready[key]
            sunit = machine.units[src.unit.data]
            if src is t:
                pass  # an accumulator updated by its own next issue: in issue order, no wait
            elif (accumulates is src and src.unit.data == t.unit.data and sunit.is_async
                  and sunit.completion == "mbarrier" and src.slot.role.data == role):
                pass  # a later MMA into the same accumulator from the same thread: issue order
            elif sunit.completion == "mbarrier":
                when += machine.mbarrier_cycles  # TMA / tcgen05.commit: every consumer waits
            elif src.slot.role.data != role:
                when += (machine.spill_cycles(src.nbytes.data) if src.space.data == "reg"
                         else machine.mbarrier_cycles)
            at = max(at, when)
        # Buffer ring: reuse the slot of instance i - buffers once its consumers are done.
        j = i - t.slot.buffers.data
        if j >= 0:
            for user, dist in consumers[t]:
                if (user.sym_name.data, j + dist) in end:
                    at = max(at, end[(user.sym_name.data, j + dist)])
        at = max(at, unit_free.get(unit.name, 0.0))
        if not pipelined and i > 0:
            at = max(at, done[i - 1])
        finish = at + dur[t]
        start[(name, i)], end[(name, i)] = at, finish
        ready[(name, i)] = finish + unit.latency
        unit_free[unit.name] = finish
        busy[unit.name] = busy.get(unit.name, 0.0) + dur[t]
        done[i] = max(done.get(i, 0.0), finish)
        role_free[role] = at + (unit.issue_cycles if unit.is_async else dur[t])
    return Trace(iterations, start, end, {t.sym_name.data: t.slot.role.data for t in tasks},
                 {t.sym_name.data: t.unit.data for t in tasks}, busy)


@dataclass
class KernelEstimate:
    seqlen: int
    tflops: float
    cycles_per_iteration: float
    waves: float
    utilization: dict[str, float]


def fa_forward_tflops(loop: LoopOp, machine: Machine, *, seqlen: int, head_dim: int, heads: int,
                      batch: int, block_m: int, block_n: int, causal: bool = False,
                      elem: int = 2) -> KernelEstimate:
    """FA forward throughput (FLOPs = 4 seqlen^2 d heads batch, halved when causal)."""
    n_m = math.ceil(seqlen / block_m)
    n_kv_full = math.ceil(seqlen / block_n)
    cache: dict[int, Trace] = {}

    def trace(n: int) -> Trace:
        if n not in cache:
            cache[n] = simulate(loop, machine, n)
        return cache[n]

    o_store = block_m * head_dim * elem / machine.hbm_share_bytes_per_cycle
    q_load = block_m * head_dim * elem / machine.hbm_share_bytes_per_cycle
    fixed = machine.load_latency_cycles + q_load + o_store
    ctas: list[float] = []
    for m in range(n_m):
        n_kv = min(n_kv_full, math.ceil((m + 1) * block_m / block_n)) if causal else n_kv_full
        ctas += [trace(n_kv).makespan + fixed] * (batch * heads)
    # Longest first onto the SMs (a persistent-kernel tile scheduler, as FA3 uses).
    sms = [0.0] * (machine.sms * machine.groups_per_sm)
    heapq.heapify(sms)
    for c in sorted(ctas, reverse=True):
        heapq.heappush(sms, heapq.heappop(sms) + c)
    cycles = max(sms) + machine.kernel_launch_cycles
    flops = 4 * seqlen * seqlen * head_dim * heads * batch / (2 if causal else 1)
    seconds = cycles / machine.clock_hz
    full = trace(n_kv_full)
    return KernelEstimate(seqlen, flops / seconds / 1e12, full.cycles_per_iteration(),
                          len(ctas) / (machine.sms * machine.groups_per_sm), full.utilization())
