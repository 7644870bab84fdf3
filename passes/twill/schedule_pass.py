"""`twill-schedule{arch=h100}`: solve SWP + WS for every `warp.loop` and record the schedule.

The solver's answer is re-verified by the independent checker before it is written; a schedule
that fails the checker is a bug and raises instead of being returned.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass

from treadle.dialects.warp import LoopOp, RoleAttr, ScheduleAttr, SlotAttr
from treadle.errors import PipelineError
from treadle.machines.loader import Machine, load_machine
from treadle.passes.twill.checker import buffers, check, role_usage
from treadle.passes.twill.problem import Problem, build_problem
from treadle.passes.twill.solver import Schedule, solve


def ii_cycles(p: Problem, sched: Schedule) -> int:
    """The II in machine cycles, read off the busiest unit (the one that binds the II): its raw
    cycles per iteration times II over its normalized occupancy."""
    occ: dict[str, tuple[int, int]] = {}
    for nd in p.nodes:
        raw, norm = occ.get(nd.unit, (0, 0))
        occ[nd.unit] = (raw + nd.cycles, norm + p.n(nd.cycles))
    top = max(norm for _, norm in occ.values())
    return round(max(raw * sched.ii / norm for raw, norm in occ.values() if norm == top))


def role_names(p: Problem, sched: Schedule) -> list[str]:
    """Readable names: the streaming-load role is the producer; the variable-latency role W_vl
    (or any thread-issued role) is "mma" when it issues tensor-core ops, "store" when it issues
    TMA stores; a role of in-place TMEM/FMA updates only is the correction role; the others are
    consumers numbered in order."""
    names = []
    consumers = 0
    for r in range(max(sched.role) + 1):
        members = [nd for k, nd in enumerate(p.nodes) if sched.role[k] == r]
        if members and all(nd.streaming for nd in members):
            names.append("producer")
        elif members and all(nd.thread_issued for nd in members):
            units = {nd.unit for nd in members}
            names.append("mma" if units == {"tc"} else "store" if units == {"tma"} else "issuer")
        elif members and all(nd.unit in ("tmem", "fma") and nd.nbytes == 0 for nd in members):
            names.append("correction")
        else:
            names.append(f"consumer{consumers}")
            consumers += 1
    return names


def schedule_loop(loop: LoopOp, machine: Machine, time_limit: float = 60.0, progress=None,
                  **problem_kw) -> tuple[Problem, Schedule]:
    """Solve one loop, check the answer, and write `#warp.schedule` / `#warp.slot` into the IR."""
    p = build_problem(loop, machine, **problem_kw)
    sched = solve(p, time_limit=time_limit, progress=progress)
    errs = check(p, sched.ii, sched.length, sched.start, sched.role)
    if errs:
        raise PipelineError(f"twill-schedule: checker rejected the solver's schedule of "
                            f"@{p.name}: " + "; ".join(errs))
    usage = role_usage(p, sched.start, sched.role, sched.ii)
    names = role_names(p, sched)
    roles = [RoleAttr(names[r], *usage[r]) if r in usage else RoleAttr(names[r], 1, 0)
             for r in range(len(names))]
    copies = buffers(p, sched.start, sched.ii)
    for k, task in enumerate(loop.tasks):
        task.slot = SlotAttr(sched.start[k], sched.start[k] // sched.ii, sched.role[k],
                             copies.get(p.storage_root(k), 1))
    loop.schedule = ScheduleAttr(machine.name, sched.ii, sched.length, ii_cycles(p, sched),
                                 sched.optimal, roles)
    return p, sched


@dataclass(frozen=True)
class TwillSchedulePass(ModulePass):
    """Optimal software pipelining + warp specialization of every `warp.loop` (Twill)."""

    name = "twill-schedule"
    arch: str = "h100"
    time_limit: float = 60.0
    max_warps: int = 0
    """0: the machine's warp budget; smaller values are the 'fewer warp groups' ablation"""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        machine = load_machine(self.arch)
        kw = {"max_warps": self.max_warps} if self.max_warps else {}
        for loop in [o for o in op.walk() if isinstance(o, LoopOp)]:
            schedule_loop(loop, machine, self.time_limit, **kw)
