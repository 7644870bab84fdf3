"""The scheduling problem Twill solves, extracted from a `warp.loop` and a machine file.

Raw costs are machine cycles; `normalize` (normalize.py) maps them to small integers before the
solver sees them. Both the solver and the independent checker read the same `Problem`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from treadle.dialects.warp import LoopOp, TaskOp
from treadle.errors import Error
from treadle.machines.loader import Machine


class ScheduleError(Error):
    """A loop that cannot be scheduled (unknown unit, infeasible within the limits, ...)."""


@dataclass
class Node:
    name: str
    unit: str
    cycles: int
    """how long the op holds its unit (and, if synchronous, its warps)"""
    busy: int
    """how long the op keeps its issuing warps busy: `cycles` if synchronous, 0 if async"""
    variable_latency: bool
    thread_issued: bool
    space: str
    nbytes: int
    alias: int | None
    """index of the node whose storage this result reuses at distance 0 (P written over S)"""
    exclusive: bool = False
    """a synchronous op that waits for its own data (TMEM load/store): it stalls its warps for its
    whole duration, so nothing else of its role may run meanwhile"""
    blocking_in: bool = False
    """some operand comes from an async unit whose consumer must do a blocking wait"""
    streaming: bool = False
    """a variable-latency op with no operands (a streaming TMA load, Twill §5.3): latency 0 to
    its consumers, issued by the producer role; other variable-latency ops go on role W_vl"""


@dataclass
class Edge:
    src: int
    dst: int
    delay: int
    """cycles after the source's issue before the destination may issue (same role)"""
    distance: int
    spill: int
    """extra delay when source and destination sit on different roles (0 when the source's unit
    signals completion through an mbarrier: every consumer already pays that wait in `delay`)"""


@dataclass
class Problem:
    name: str
    machine: Machine
    nodes: list[Node]
    edges: list[Edge]
    smem_resident: int = 0
    regs_resident: int = 0
    """per-thread registers every compute role holds outside the loop (Q fragments, indices)"""
    max_warps: int = 0
    allow_cross_regs: bool = True
    """False forbids handing register values to another role (the 'no cross-warp' ablation)"""
    scale: float = 1.0
    """raw cycles per normalized unit (set by normalize)"""
    norm: dict[int, int] = field(default_factory=dict)
    """raw duration -> normalized duration"""

    def index(self, name: str) -> int:
        for k, node in enumerate(self.nodes):
            if node.name == name:
                return k
        raise KeyError(name)

    def n(self, raw: int) -> int:
        """Normalized value of a raw duration."""
        return 0 if raw == 0 else self.norm.get(raw, max(1, round(raw / self.scale)))

    def regs_per_thread(self, node: Node) -> int:
        if node.space != "reg" or node.alias is not None or node.nbytes == 0:
            return 0
        return math.ceil(node.nbytes / 4 / self.machine.threads_per_group)

    def storage_root(self, k: int) -> int:
        seen = set()
        while self.nodes[k].alias is not None and k not in seen:
            seen.add(k)
            k = self.nodes[k].alias
        return k


def edge_cost(machine: Machine, snode: Node, src: int, dst: int, distance: int,
              dnode: Node | None = None) -> Edge:
    """Separation of a dependence, on one role and across roles.

    The source's own time: 0 for a streaming load (Twill §5.3: its depth is a buffer count),
    else its cycles plus its unit's latency. Then how the consumer learns the value is there:
    a unit with mbarrier completion (TMA, tcgen05.mma + tcgen05.commit) makes every consumer
    wait on that mbarrier, on the issuing role or not, so the wait is in `delay` and crossing
    roles adds nothing; a unit with local completion (wgmma.wait_group, synchronous ops) is free
    on its own role and needs a hand-off across roles: an mbarrier for SMEM/TMEM values, a
    register -> SMEM -> register copy plus the mbarrier for register values. An accumulator
    updated by its own next issue (a self edge) waits for nothing: successive tcgen05.mma into
    one accumulator from one thread execute in issue order (PTX ISA 9.7.16.6.2), and a self edge
    never crosses roles. The same holds for a later op of the same unit that accumulates into the
    source's result in place (`dnode.alias == src`: the second half of a P V split at FA4's
    split_P_arrive): from the same issuing thread it follows in issue order with no wait; from
    another role it still waits on the mbarrier.
    """
    unit = machine.units[snode.unit]
    own = 0 if snode.streaming else snode.cycles + unit.latency
    if src == dst:
        return Edge(src, dst, own, distance, 0)
    if (dnode is not None and dnode.alias == src and dnode.unit == snode.unit and unit.is_async
            and unit.completion == "mbarrier"):
        return Edge(src, dst, own, distance, machine.mbarrier_cycles)
    if unit.completion == "mbarrier":
        return Edge(src, dst, own + machine.mbarrier_cycles, distance, 0)
    if snode.space == "reg":
        return Edge(src, dst, own, distance, machine.spill_cycles(snode.nbytes))
    return Edge(src, dst, own, distance, machine.mbarrier_cycles)


def build_problem(loop: LoopOp, machine: Machine, *, max_warps: int | None = None,
                  allow_cross_regs: bool = True) -> Problem:
    tasks = loop.tasks
    index = {task: k for k, task in enumerate(tasks)}
    nodes: list[Node] = []
    for task in tasks:
        if task.unit.data not in machine.units:
            raise ScheduleError(
                f"task @{task.sym_name.data} runs on unit '{task.unit.data}', which machine "
                f"'{machine.name}' does not have (units: {', '.join(sorted(machine.units))})"
            )
        unit = machine.units[task.unit.data]
        cycles = unit.cycles(task.work.data)
        alias, nbytes = None, task.nbytes.data
        if task.alias is not None:
            owner = task.deps[task.alias.data].owner
            assert isinstance(owner, TaskOp)
            if task.distances[task.alias.data] == 0:
                alias = index[owner]
            # In-place update of an earlier iteration's value (O rescaled): no new storage, and
            # it ends the old version's life, so it never needs a second copy.
            nbytes = 0
        nodes.append(Node(
            name=task.sym_name.data, unit=unit.name, cycles=cycles,
            busy=0 if unit.is_async else cycles, variable_latency=unit.variable_latency,
            thread_issued=unit.issue == "thread", space=task.space.data,
            nbytes=nbytes, alias=alias,
            exclusive=not unit.is_async and unit.blocking_result,
        ))
    for task in tasks:
        node = nodes[index[task]]
        node.streaming = node.variable_latency and all(dep.owner is task for dep in task.deps)
    edges: list[Edge] = []
    for task in tasks:
        dst = index[task]
        for dep, dist in zip(task.deps, task.distances, strict=True):
            owner = dep.owner
            assert isinstance(owner, TaskOp)
            src = index[owner]
            edges.append(edge_cost(machine, nodes[src], src, dst, dist, nodes[dst]))
            if machine.units[owner.unit.data].blocking_result:
                nodes[dst].blocking_in = True
    attrs = loop.attributes
    smem_res = attrs["smem_resident"].value.data if "smem_resident" in attrs else 0
    regs_res = attrs["regs_resident"].value.data if "regs_resident" in attrs else 0
    return Problem(loop.sym_name.data, machine, nodes, edges, smem_res, regs_res,
                   machine.max_warps if max_warps is None else max_warps, allow_cross_regs)
