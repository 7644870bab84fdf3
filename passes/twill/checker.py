"""An independent checker for Twill schedules: plain Python, no solver, the constraints re-derived.

Every schedule the pass returns passes `check`; a hand-written wrong schedule (the toy's
P=1, O=2 at I=2) is rejected with the constraint it breaks.
"""

from __future__ import annotations

import math

from treadle.passes.twill.problem import Problem


def lifetimes(p: Problem, start: list[int], ii: int) -> dict[int, int]:
    """Storage root -> lifetime in normalized units (issue of the root to the end of its last use)."""
    end: dict[int, int] = {}
    for k, nd in enumerate(p.nodes):
        root = p.storage_root(k)
        end[root] = max(end.get(root, 0), start[k] + p.n(nd.cycles))
    for e in p.edges:
        if e.src == e.dst:
            continue  # an accumulator updated in place by its own next issue
        root = p.storage_root(e.src)
        end[root] = max(end[root], start[e.dst] + e.distance * ii + p.n(p.nodes[e.dst].cycles))
    return {root: end[root] - start[root] for root in end}


def buffers(p: Problem, start: list[int], ii: int) -> dict[int, int]:
    """Copies of each storage live at once: ceil(lifetime / II) (modulo variable expansion)."""
    return {root: max(1, math.ceil(life / ii)) for root, life in lifetimes(p, start, ii).items()}


def role_usage(p: Problem, start: list[int], role: list[int], ii: int):
    """Per role: (warps, registers per thread) under the schedule."""
    m = p.machine
    copies = buffers(p, start, ii)
    out = {}
    for r in sorted(set(role)):
        members = [k for k in range(len(p.nodes)) if role[k] == r]
        wide = any(not p.nodes[k].thread_issued for k in members)
        regs = m.base_regs_per_thread + (p.regs_resident if wide else 0)
        regs += sum(p.regs_per_thread(p.nodes[k]) * copies.get(k, 1) for k in members)
        out[r] = (m.warps_per_group if wide else 1, regs)
    return out


def streaming_ops(p: Problem) -> set[int]:
    """Variable-latency ops that consume nothing (streaming TMA loads, Twill §5.3)."""
    fed = {e.dst for e in p.edges if e.src != e.dst}
    return {k for k, nd in enumerate(p.nodes)
            if p.machine.units[nd.unit].variable_latency and k not in fed}


def separation(p: Problem, src: int, dst: int, cross: bool) -> int:
    """Normalized cycles from the issue of `src` to the earliest issue of `dst`, re-derived from
    the machine file: the source's own time (0 for a streaming load), then the wait for its
    completion: an mbarrier for a unit that completes through one, whichever role consumes it;
    for a unit that completes locally nothing on the same role, a hand-off across roles (an
    mbarrier for SMEM/TMEM values, reg -> SMEM -> reg plus the mbarrier for register values).
    A self edge (an accumulator updated by its own next issue) waits for nothing, and neither
    does a later op of the same async unit accumulating into the source's result in place when
    both are issued by one role (issue order); from another role it waits on the mbarrier."""
    m = p.machine
    nd = p.nodes[src]
    unit = m.units[nd.unit]
    raw = 0 if src in streaming_ops(p) else nd.cycles + unit.latency
    dn = p.nodes[dst]
    in_order = (src != dst and dn.alias == src and dn.unit == nd.unit and unit.is_async
                and unit.completion == "mbarrier")
    if in_order:
        raw += m.mbarrier_cycles if cross else 0
    elif src != dst:
        if unit.completion == "mbarrier":
            raw += m.mbarrier_cycles
        elif cross:
            raw += m.spill_cycles(nd.nbytes) if nd.space == "reg" else m.mbarrier_cycles
    return p.n(raw)


def check(p: Problem, ii: int, length: int, start: list[int], role: list[int]) -> list[str]:
    """All violated constraints, as readable messages (empty list: the schedule is valid)."""
    errs: list[str] = []
    n = len(p.nodes)
    names = [nd.name for nd in p.nodes]
    cyc = [p.n(nd.cycles) for nd in p.nodes]
    if len(start) != n or len(role) != n:
        return [f"schedule has {len(start)} starts / {len(role)} roles for {n} ops"]
    for k in range(n):
        if start[k] < 0 or start[k] + cyc[k] > length:
            errs.append(f"@{names[k]} runs [{start[k]}, {start[k] + cyc[k]}) outside [0, {length})")
    for e in p.edges:
        cross = role[e.src] != role[e.dst]
        if cross and not p.allow_cross_regs and p.nodes[e.src].space == "reg":
            errs.append(f"@{names[e.src]} -> @{names[e.dst]}: register value crosses roles")
        need = separation(p, e.src, e.dst, cross)
        if start[e.dst] + e.distance * ii < start[e.src] + need:
            errs.append(
                f"dependence @{names[e.src]} -> @{names[e.dst]} (distance {e.distance}): issue "
                f"{start[e.dst]} + {e.distance}*{ii} < {start[e.src]} + {need}"
            )
    # Modulo capacity: one SM-wide unit of each kind.
    table: dict[str, list[list[str]]] = {}
    for k, nd in enumerate(p.nodes):
        if cyc[k] > ii:
            errs.append(f"@{names[k]} holds unit '{nd.unit}' {cyc[k]} > II = {ii}")
            continue
        slots = table.setdefault(nd.unit, [[] for _ in range(ii)])
        for c in range(cyc[k]):
            slots[(start[k] + c) % ii].append(names[k])
    for unit, slots in table.items():
        for cycle, users in enumerate(slots):
            if len(users) > 1:
                errs.append(f"unit '{unit}' over capacity at cycle {cycle} mod {ii}: "
                            + ", ".join("@" + u for u in users))
                break
    # VARIABLE LATENCY (Twill §5.3, Fig. 6): streaming loads share one role, every other
    # variable-latency op shares one other role (W_vl), and nothing else runs on either.
    streaming = streaming_ops(p)
    other_vl = {k for k, nd in enumerate(p.nodes)
                if p.machine.units[nd.unit].variable_latency and k not in streaming}
    for group, what in ((streaming, "streaming loads"), (other_vl, "variable-latency ops")):
        if len({role[k] for k in group}) > 1:
            errs.append(f"{what} are split over roles "
                        + ", ".join(sorted({str(role[k]) for k in group})))
    if {role[k] for k in streaming} & {role[k] for k in other_vl}:
        errs.append("variable-latency ops share the streaming loads' role")
    vl_roles = {role[k]: "streaming loads" for k in streaming}
    vl_roles.update({role[k]: "variable-latency ops" for k in other_vl})
    for k in range(n):
        if k not in streaming and k not in other_vl and role[k] in vl_roles:
            errs.append(f"@{names[k]} shares role {role[k]} with {vl_roles[role[k]]}")
    # Blocking waits: nothing else of the role executes when a waiter issues.
    for v in range(n):
        ins = [e for e in p.edges if e.dst == v and e.src != v]
        blocking = p.nodes[v].blocking_in and bool(ins)
        blocking = blocking or any(role[e.src] != role[v] for e in ins)
        if not blocking:
            continue
        for o in range(n):
            busy = p.n(p.nodes[o].busy)
            if o == v or role[o] != role[v] or busy == 0:
                continue
            if (start[v] - start[o]) % ii < busy:
                errs.append(f"@{names[v]} blocks its role while @{names[o]} is executing "
                            f"(issue {start[v]} mod {ii} within [{start[o]}, +{busy}))")
    # Exclusive ops (synchronous TMEM traffic) stall their role for their whole duration.
    for v in range(n):
        if not p.nodes[v].exclusive:
            continue
        bv = p.n(p.nodes[v].busy)
        for o in range(n):
            bo = p.n(p.nodes[o].busy)
            if o == v or role[o] != role[v] or bo == 0:
                continue
            d = (start[o] - start[v]) % ii
            if d < bv or (ii - d) % ii < bo:
                errs.append(f"@{names[o]} runs while exclusive @{names[v]} stalls role {role[v]}")
    # Memory capacity.
    m = p.machine
    copies = buffers(p, start, ii)
    smem = p.smem_resident + sum(p.nodes[k].nbytes * c for k, c in copies.items()
                                 if p.nodes[k].space == "smem")
    if smem > m.smem_bytes:
        errs.append(f"shared memory {smem} B > {m.smem_bytes} B")
    tmem = sum(p.nodes[k].nbytes * c for k, c in copies.items() if p.nodes[k].space == "tmem")
    if tmem > m.tmem_bytes:
        errs.append(f"tensor memory {tmem} B > {m.tmem_bytes} B")
    usage = role_usage(p, start, role, ii)
    warps = sum(w for w, _ in usage.values())
    if warps > p.max_warps:
        errs.append(f"{warps} warps > {p.max_warps}")
    total = 0
    for r, (w, regs) in usage.items():
        if regs > m.max_regs_per_thread:
            errs.append(f"role {r} needs {regs} registers per thread > {m.max_regs_per_thread}")
        total += 32 * w * max(regs, m.min_regs_per_thread)
    if total > m.register_file:
        errs.append(f"register file: {total} > {m.register_file}")
    return errs
