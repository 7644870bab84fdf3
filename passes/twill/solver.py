"""Twill's two-phase search with Z3 (arXiv 2512.18134 §4-5, Algorithm 1), on integer issue times.

For I = lower bound, lower bound + 1, ...:
  1. modulo schedule: issue times t_v with dependences t_v + delta*I >= t_u + d and modulo
     capacity per unit; minimal length L0 (Z3 proves no shorter one exists);
  2. joint SWP + WS: for L = L0, L0+1, ... while ceil(L/I) is unchanged, ask whether issue times
     and a role per op exist with cross-role delays, register limits per role, SMEM/TMEM capacity,
     the warp budget, variable-latency ops on their own role and blocking-wait exclusion.
The first SAT (I, L) is optimal: every smaller I was refuted by the resource bound or by Z3.
Among schedules of that (I, L), a secondary search minimizes cross-role edges (barriers), which
the paper does not do. Everything is in normalized time units (normalize.py).

Instead of the paper's time-indexed booleans over ceil(L/I) unrolled copies we use integer issue
times t_v = k_v*I + r_v (r_v in [0, I)): copy i of v issues at t_v + i*I, so all copies are
identical by construction and the modulo constraints speak about r_v only.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import z3

from treadle.passes.twill.normalize import normalize_costs
from treadle.passes.twill.problem import Problem, ScheduleError


@dataclass
class Schedule:
    ii: int
    length: int
    start: list[int]
    role: list[int]
    optimal: bool
    scale: float
    cross_edges: int = 0
    cross_proven_min: bool = False
    busiest: int = 0
    """the largest synchronous busy time (normalized) of any role, minimized third"""
    busiest_proven_min: bool = False
    attempts: list[tuple[int, int, str]] = field(default_factory=list)
    """(I, L or -1 for phase 1, 'unsat' | 'sat' | 'unknown' | 'sat (rescue)') in search order;
    a joint 'unsat' (I, L) refutes every length of I's window up to L"""
    lower_bound: int = 0
    bound_reason: str = ""
    solve_seconds: float = 0.0

    @property
    def stages(self) -> list[int]:
        return [t // self.ii for t in self.start]


def normalize(problem: Problem, bound: int = 100) -> None:
    """Fill `problem.norm` with the normalized value of every raw duration it uses. A cross-role
    delay of an edge whose two ends VARIABLE LATENCY pins to the same role can never occur, so it
    takes no place among the durations (it would only coarsen the scale)."""
    fixed = designated_roles(problem)
    raw = [n.cycles for n in problem.nodes] + [n.busy for n in problem.nodes]
    raw += [e.delay for e in problem.edges]
    raw += [e.delay + e.spill for e in problem.edges
            if not (e.src in fixed and e.dst in fixed and fixed[e.src] == fixed[e.dst])]
    problem.norm = normalize_costs(raw, bound)
    big = max(problem.norm, default=1)
    problem.scale = big / problem.norm[big] if problem.norm else 1.0


def designated_roles(p: Problem) -> dict[int, int]:
    """Node -> its fixed role under VARIABLE LATENCY: streaming loads on role 0 (the producer),
    the other variable-latency ops on the next role (W_vl); compute roles follow."""
    streaming = [k for k, nd in enumerate(p.nodes) if nd.streaming]
    other = [k for k, nd in enumerate(p.nodes) if nd.variable_latency and not nd.streaming]
    fixed = {k: 0 for k in streaming}
    fixed.update({k: 1 if streaming else 0 for k in other})
    return fixed


def role_bound(p: Problem) -> int:
    """How many roles a schedule within the warp budget can use: the designated roles, then one
    per thread-issued op that may sit alone on a one-warp role, then one per warp group left.
    Roles are numbered in order of first use, so this only drops role numbers no schedule can
    reach: the answer of a feasibility query is the same, it comes sooner. (`solve` keeps the
    wider domain: Z3 then breaks ties between equally good schedules the way the tests pin.)"""
    m = p.machine
    fixed = designated_roles(p)
    designated = set(fixed.values())
    used = sum(1 if all(p.nodes[k].thread_issued for k in fixed if fixed[k] == r)
               else m.warps_per_group for r in designated)
    free = [k for k in range(len(p.nodes)) if k not in fixed]
    thin = sum(1 for k in free if p.nodes[k].thread_issued)
    left = max(0, p.max_warps - used)
    thin = min(thin, left)
    return len(designated) + min(len(free), thin + (left - thin) // m.warps_per_group)


def lower_bound(p: Problem) -> tuple[int, str]:
    """ResMII: per unit, the sum of occupancies (capacity is one SM-wide unit per kind)."""
    per_unit: dict[str, int] = {}
    for node in p.nodes:
        per_unit[node.unit] = per_unit.get(node.unit, 0) + p.n(node.cycles)
    unit, total = max(per_unit.items(), key=lambda kv: kv[1])
    return total, f"unit '{unit}' is busy {total} units per iteration (ResMII)"


def precheck(p: Problem) -> None:
    """Refuse, with the reason, a loop that no II can schedule: one op alone over a limit."""
    m = p.machine
    for nd in p.nodes:
        need = m.base_regs_per_thread + p.regs_resident + p.regs_per_thread(nd)
        if need > m.max_regs_per_thread:
            raise ScheduleError(
                f"loop @{p.name}: task @{nd.name} alone needs {need} registers per thread "
                f"(> {m.max_regs_per_thread} on {m.name}) at any II; split it into sub-tiles"
            )
        if nd.space == "smem" and nd.nbytes + p.smem_resident > m.smem_bytes:
            raise ScheduleError(f"loop @{p.name}: task @{nd.name} needs {nd.nbytes} B of "
                                f"shared memory (> {m.smem_bytes - p.smem_resident} B free)")
        if nd.space == "tmem" and nd.nbytes > m.tmem_bytes:
            raise ScheduleError(f"loop @{p.name}: task @{nd.name} needs {nd.nbytes} B of "
                                f"tensor memory (> {m.tmem_bytes} B on {m.name})")


def _nonoverlap(ra, ca, rb, cb, ii):
    """Intervals [ra, ra+ca) and [rb, rb+cb) do not meet modulo ii (ca, cb <= ii)."""
    return z3.Or(z3.And(ra + ca <= rb, rb + cb <= ra + ii), z3.And(rb + cb <= ra, ra + ca <= rb + ii))


def _not_executing(rv, ro, busy_o, ii):
    """At time rv (mod ii) the op issued at ro (mod ii) with duration busy_o is not running."""
    return z3.If(rv >= ro, rv - ro >= busy_o, rv - ro + ii >= busy_o)


class _Base:
    def __init__(self, p: Problem, ii: int, length: int | tuple[int, int] | None):
        """`length`: a fixed L, a window (lo, hi) with L a variable in it, or None (free)."""
        self.p, self.ii = p, ii
        n = len(p.nodes)
        # A fresh context per query: Z3's answers (and its speed) must not depend on what else
        # ran in this process, or equal-(I, L) schedules would differ from run to run.
        self.ctx = ctx = z3.Context()
        self.t = [z3.Int(f"t_{k}", ctx) for k in range(n)]
        self.r = [z3.Int(f"r_{k}", ctx) for k in range(n)]
        self.kk = [z3.Int(f"k_{k}", ctx) for k in range(n)]
        self.c = [p.n(node.cycles) for node in p.nodes]
        self.s = z3.Solver(ctx=ctx)
        s = self.s
        self.length = length
        if isinstance(length, tuple):
            self.length = z3.Int("L", ctx)
            s.add(self.length >= length[0], self.length <= length[1])
        for k in range(n):
            s.add(self.t[k] == self.kk[k] * ii + self.r[k], self.r[k] >= 0, self.r[k] < ii,
                  self.kk[k] >= 0)
            if length is not None:
                s.add(self.t[k] + self.c[k] <= self.length)
        # Some op issues at time 0 (removes the translation symmetry).
        s.add(z3.Or([tk == 0 for tk in self.t]))
        for a in range(n):
            for b in range(a + 1, n):
                if p.nodes[a].unit == p.nodes[b].unit:
                    s.add(_nonoverlap(self.r[a], self.c[a], self.r[b], self.c[b], ii))


def modulo_schedule(p: Problem, ii: int, timeout_ms: int) -> tuple[str, int, list[int]]:
    """Phase 1: minimal-length modulo schedule for `ii`; ('sat', L, t) or ('unsat'|'unknown', ...)."""
    if any(c > ii for c in (p.n(nd.cycles) for nd in p.nodes)):
        return "unsat", -1, []
    b = _Base(p, ii, None)
    for e in p.edges:
        b.s.add(b.t[e.dst] + e.distance * ii >= b.t[e.src] + p.n(e.delay))
    length = z3.Int("L", b.ctx)
    for k in range(len(p.nodes)):
        b.s.add(length >= b.t[k] + b.c[k])
    b.s.set("timeout", max(1, timeout_ms))
    res = b.s.check()
    if res != z3.sat:
        return str(res), -1, []
    m = b.s.model()
    best, best_t = m.eval(length).as_long(), [m.eval(x).as_long() for x in b.t]
    # Bisection between the critical path (no schedule is shorter) and the best found; every
    # probe below the answer is a Z3 UNSAT proof. On a time out, the best found so far stands.
    lo = _critical_path(p)
    while lo < best:
        probe = (lo + best) // 2
        b.s.push()
        b.s.add(length <= probe)
        res = b.s.check()
        if res == z3.sat:
            m = b.s.model()
            best, best_t = m.eval(length).as_long(), [m.eval(x).as_long() for x in b.t]
        b.s.pop()
        if res == z3.unsat:
            lo = probe + 1
        elif res != z3.sat:
            break
    return "sat", best, best_t


def _critical_path(p: Problem) -> int:
    """Longest chain of distance-0 dependences (delays plus the last op's cycles): a lower
    bound on the length of any modulo schedule. The verifier rejects distance-0 cycles."""
    n = len(p.nodes)
    reach = [0] * n
    for _ in range(n):
        for e in p.edges:
            if e.distance == 0 and e.src != e.dst:
                reach[e.dst] = max(reach[e.dst], reach[e.src] + p.n(e.delay))
    return max((reach[k] + p.n(nd.cycles) for k, nd in enumerate(p.nodes)), default=0)


class _Joint(_Base):
    """Phase 2: the SWP + WS satisfiability query for fixed (I, L)."""

    def __init__(self, p: Problem, ii: int, length: int, nroles: int):
        super().__init__(p, ii, length)
        s, n, m = self.s, len(p.nodes), p.machine
        ctx = self.ctx
        self.w = [z3.Int(f"w_{k}", ctx) for k in range(n)]
        fixed = designated_roles(p)
        first = len(set(fixed.values()))
        for k, nd in enumerate(p.nodes):
            s.add(self.w[k] >= 0, self.w[k] < nroles)
            # VARIABLE LATENCY (Twill §5.3, Fig. 6): streaming loads alone on the producer role,
            # every other variable-latency op alone on the one designated role W_vl.
            s.add(self.w[k] == fixed[k] if k in fixed else self.w[k] >= first)
        # Symmetry breaking: compute roles are numbered in order of first use.
        top = first - 1
        for k, nd in enumerate(p.nodes):
            if k in fixed:
                continue
            s.add(self.w[k] <= top + 1)
            new_top = z3.Int(f"top_{k}", ctx)
            s.add(new_top == z3.If(self.w[k] > top, self.w[k], top))
            top = new_top
        self.cross = []
        for j, e in enumerate(p.edges):
            x = z3.Bool(f"x_{j}", ctx)
            self.cross.append(x)
            s.add(x == (self.w[e.src] != self.w[e.dst]))
            pinned = e.src in fixed and e.dst in fixed and fixed[e.src] == fixed[e.dst]
            if e.src == e.dst or pinned:
                s.add(z3.Not(x))
            delay = p.n(e.delay) if pinned else z3.If(x, p.n(e.delay + e.spill), p.n(e.delay))
            s.add(self.t[e.dst] + e.distance * ii >= self.t[e.src] + delay)
            if not p.allow_cross_regs and p.nodes[e.src].space == "reg":
                s.add(z3.Not(x))
        # CONCURRENCY: a blocking waiter (async producer, or a cross-role receiver) stalls its
        # warps, so nothing else of its role may be executing when it issues.
        for v, nd in enumerate(p.nodes):
            ins = [j for j, e in enumerate(p.edges) if e.dst == v and e.src != v]
            if not ins:
                continue
            blocking = z3.Or([z3.BoolVal(nd.blocking_in, ctx)] + [self.cross[j] for j in ins])
            for o, od in enumerate(p.nodes):
                busy = p.n(od.busy)
                if o == v or busy == 0:
                    continue
                s.add(z3.Implies(z3.And(blocking, self.w[o] == self.w[v]),
                                 _not_executing(self.r[v], self.r[o], busy, ii)))
        # Exclusive ops (synchronous loads that wait for their own data) own their role.
        for v, nd in enumerate(p.nodes):
            if not nd.exclusive:
                continue
            for o, od in enumerate(p.nodes):
                busy = p.n(od.busy)
                if o == v or busy == 0 or (od.exclusive and o < v):
                    continue
                s.add(z3.Implies(self.w[o] == self.w[v],
                                 _nonoverlap(self.r[v], p.n(nd.busy), self.r[o], busy, ii)))
        self._memory(nroles)

    def _lifetimes(self):
        """copies[root] * I >= lifetime of the storage rooted at `root` (alias groups merged)."""
        p, ii = self.p, self.ii
        ends: dict[int, list] = {}
        for k in range(len(p.nodes)):
            ends.setdefault(p.storage_root(k), []).append(self.t[k] + self.c[k])
        for e in p.edges:
            if e.src == e.dst:
                continue  # an accumulator updated in place by its own next issue
            ends.setdefault(p.storage_root(e.src), []).append(
                self.t[e.dst] + e.distance * ii + self.c[e.dst])
        copies = {}
        for root, terms in ends.items():
            cp = z3.Int(f"copies_{root}", self.ctx)
            copies[root] = cp
            self.s.add(cp >= 1)
            for term in terms:
                self.s.add(cp * ii >= term - self.t[root])
        return copies

    def _memory(self, nroles: int) -> None:
        p, m, s = self.p, self.p.machine, self.s
        copies = self._lifetimes()
        self.copies = copies
        smem = [p.nodes[k].nbytes * copies[k] for k in copies if p.nodes[k].space == "smem"]
        if smem:
            s.add(z3.Sum(smem) + p.smem_resident <= m.smem_bytes)
        tmem = [p.nodes[k].nbytes * copies[k] for k in copies if p.nodes[k].space == "tmem"]
        if tmem:
            s.add(z3.Sum(tmem) <= m.tmem_bytes)
        total_regs = []
        total_warps = []
        for r in range(nroles):
            on = [self.w[k] == r for k in range(len(p.nodes))]
            used = z3.Or(on)
            wide = z3.Or([on[k] for k, nd in enumerate(p.nodes) if not nd.thread_issued]
                         or [z3.BoolVal(False, self.ctx)])
            warps = z3.If(wide, m.warps_per_group, z3.If(used, 1, 0))
            total_warps.append(warps)
            need = m.base_regs_per_thread + z3.Sum(
                [z3.IntVal(0, self.ctx)] + [z3.If(on[k], p.regs_per_thread(p.nodes[k]) * copies[k], 0)
                                  for k in copies if p.regs_per_thread(p.nodes[k])])
            need = need + z3.If(wide, p.regs_resident, 0)
            s.add(z3.Implies(used, need <= m.max_regs_per_thread))
            budget = z3.If(need > m.min_regs_per_thread, need, m.min_regs_per_thread)
            total_regs.append(z3.If(wide, 32 * m.warps_per_group * budget,
                                                z3.If(used, 32 * budget, 0)))
        s.add(z3.Sum(total_warps) <= p.max_warps)
        s.add(z3.Sum(total_regs) <= m.register_file)


def solve(p: Problem, time_limit: float = 60.0, minimize_cross: bool = True,
          progress=None, max_ii: int | None = None, resolution: int = 100) -> Schedule:
    """Run the search; raises ScheduleError if nothing is found within the limit."""
    t0 = time.monotonic()
    deadline = t0 + time_limit
    precheck(p)
    normalize(p, resolution)
    lb, why = lower_bound(p)
    attempts: list[tuple[int, int, str]] = []
    proven = True
    nroles = min(len(p.nodes), p.max_warps)
    upper = max_ii or sum(p.n(nd.cycles) for nd in p.nodes) + sum(p.n(e.delay + e.spill) for e in p.edges)

    def left_ms() -> int:
        return int(max(0.0, deadline - time.monotonic()) * 1000)

    def say(msg: str) -> None:
        if progress is not None:
            progress(f"[{time.monotonic() - t0:6.1f}s] {msg}")

    for ii in range(lb, upper + 1):
        if left_ms() <= 0:
            break
        status, l0, _ = modulo_schedule(p, ii, left_ms())
        attempts.append((ii, -1, status))
        say(f"I={ii}: modulo schedule {status}" + (f", L0={l0}" if status == "sat" else ""))
        if status != "sat":
            proven = proven and status == "unsat"
            continue
        # Algorithm 1's window: L = L0, L0+1, ... while ceil(L/I) is unchanged. One query with L
        # a variable in the window refutes all of it at once; a SAT answer is then pushed down
        # to the smallest L of the window (the first SAT of the paper's upward scan).
        hi = math.ceil(l0 / ii) * ii
        joint = _Joint(p, ii, (l0, hi), nroles)
        joint.s.set("timeout", max(1, left_ms()))
        res = joint.s.check()
        if res != z3.sat:
            attempts.append((ii, hi, str(res)))
            say(f"I={ii} L={l0}..{hi}: joint SWP+WS {res}")
            proven = proven and res == z3.unsat
            continue
        length = _shortest(joint, l0)
        if length > l0:
            attempts.append((ii, length - 1, "unsat"))
            say(f"I={ii} L={l0}..{length - 1}: joint SWP+WS unsat")
        # The schedule itself comes from a fresh query at the fixed (I, L), Algorithm 1's last
        # query, so it depends on (I, L) only and not on the proofs that found them.
        joint = _Joint(p, ii, length, nroles)
        joint.s.set("timeout", max(1, left_ms()))
        res = joint.s.check()
        if res != z3.sat:
            raise ScheduleError(f"loop @{p.name}: I = {ii}, L = {length} was SAT in its window "
                                f"but '{res}' alone (time limit too short?)")
        attempts.append((ii, length, "sat"))
        say(f"I={ii} L={length}: joint SWP+WS sat")
        sched = _extract(joint, ii, length, proven, p)
        if minimize_cross:
            _minimize_cross(joint, sched, left_ms, say)
            _minimize_busiest(joint, sched, left_ms, say)
        sched.attempts, sched.lower_bound, sched.bound_reason = attempts, lb, why
        sched.solve_seconds = time.monotonic() - t0
        return sched
    # Out of time before anything was found: a short rescue search at larger II, so the caller
    # gets a valid (checked) schedule marked "not proven optimal" instead of nothing.
    tried = attempts[-1][0] if attempts else lb
    for factor in (1.25, 1.5, 2.0, 3.0):
        ii = max(tried + 1, math.ceil(lb * factor))
        status, l0, _ = modulo_schedule(p, ii, 3000)
        if status != "sat":
            continue
        joint = _Joint(p, ii, l0 + ii, nroles)
        joint.s.set("timeout", 3000)
        if joint.s.check() == z3.sat:
            sched = _extract(joint, ii, l0 + ii, False, p)
            attempts.append((ii, l0 + ii, "sat (rescue)"))
            say(f"time limit reached; rescue schedule at I={ii} (not proven optimal)")
            sched.attempts, sched.lower_bound, sched.bound_reason = attempts, lb, why
            sched.solve_seconds = time.monotonic() - t0
            return sched
    raise ScheduleError(
        f"loop @{p.name}: no schedule found within {time_limit:.0f} s on '{p.machine.name}' "
        f"(tried I = {lb}..{attempts[-1][0] if attempts else lb}); raise --time-limit"
    )


def feasible_at(p: Problem, ii: int, timeout: float = 60.0, resolution: int = 100,
                constrain=None) -> str:
    """'sat' if some schedule with this II exists (any L of the search window), 'unsat' if Z3
    proves none does, 'unknown' on time out. Used by the ablation studies; `constrain(joint)` may
    add constraints over `joint.t` / `joint.w` (e.g. to force a hand-written role structure)."""
    return schedule_at(p, ii, timeout, resolution, constrain)[0]


def schedule_at(p: Problem, ii: int, timeout: float = 60.0, resolution: int = 100,
                constrain=None) -> tuple[str, Schedule | None]:
    """`feasible_at` with the witness: on 'sat', the schedule Z3 found (some L of the window,
    not optimized further, `optimal` False), for the independent checker to verify."""
    deadline = time.monotonic() + timeout
    if not p.norm:
        normalize(p, resolution)
    status, l0, _ = modulo_schedule(p, ii, int(timeout * 1000))
    if status != "sat":
        return status, None
    left = int(max(0.0, deadline - time.monotonic()) * 1000)
    if left <= 0:
        return "unknown", None
    joint = _Joint(p, ii, (l0, math.ceil(l0 / ii) * ii), role_bound(p))
    if constrain is not None:
        constrain(joint)
    joint.s.set("timeout", left)
    res = joint.s.check()
    if res != z3.sat:
        return str(res), None
    length = joint.s.model().eval(joint.length).as_long()
    sched = _extract(joint, ii, length, False, p)
    sched.lower_bound, sched.bound_reason = lower_bound(p)
    return "sat", sched


def _shortest(joint: _Joint, lo: int) -> int:
    """After a SAT check over a length window starting at `lo`: the smallest SAT L of the window
    (every smaller one refuted by Z3), by bisection, probing `lo` itself first."""
    s, L = joint.s, joint.length
    hi = s.model().eval(L).as_long()
    probe = lo
    while lo < hi:
        s.push()
        s.add(L <= probe)
        res = s.check()
        if res == z3.sat:
            hi = s.model().eval(L).as_long()
        s.pop()
        if res == z3.unsat:
            lo = probe + 1
        elif res != z3.sat:
            raise ScheduleError(f"loop @{joint.p.name}: Z3 answered '{res}' while shortening L "
                                "(time limit too short?)")
        probe = (lo + hi) // 2
    return hi


def role_busy(p: Problem, role: list[int]) -> dict[int, int]:
    """Per role: normalized cycles its warps spend executing synchronous ops per iteration."""
    busy: dict[int, int] = {}
    for k, nd in enumerate(p.nodes):
        busy[role[k]] = busy.get(role[k], 0) + p.n(nd.busy)
    return busy


def _extract(joint: _Joint, ii: int, length: int, proven: bool, p: Problem) -> Schedule:
    m = joint.s.model()
    start = [m.eval(x).as_long() for x in joint.t]
    role = [m.eval(x).as_long() for x in joint.w]
    cross = sum(1 for e in p.edges if role[e.src] != role[e.dst])
    return Schedule(ii, length, start, role, proven, p.scale, cross,
                    busiest=max(role_busy(p, role).values(), default=0))


def _minimize_busiest(joint: _Joint, sched: Schedule, left_ms, say) -> None:
    """Tertiary objective: among schedules of this (I, L) with the fewest barriers, the one whose
    busiest role has the most slack. Completions of variable-latency ops (TMA, UMMA) arrive when
    they arrive; a role's idle time is what absorbs a late one without delaying its next op, so
    a blocking rescale goes where it leaves the softmax warps their slack (FA4's reason for its
    correction warp group). Changes no II, length or barrier count."""
    p, s = joint.p, joint.s
    s.add(z3.Sum([z3.If(x, 1, 0) for x in joint.cross] or [z3.IntVal(0, joint.ctx)])
          <= sched.cross_edges)
    busy = [z3.Sum([z3.IntVal(0, joint.ctx)] + [z3.If(joint.w[k] == r, p.n(nd.busy), 0)
                                               for k, nd in enumerate(p.nodes) if nd.busy])
            for r in range(len(p.nodes))]
    while sched.busiest > 0 and left_ms() > 0:
        s.push()
        s.add(*[b < sched.busiest for b in busy])
        s.set("timeout", max(1, left_ms()))
        res = s.check()
        if res != z3.sat:
            s.pop()
            sched.busiest_proven_min = res == z3.unsat
            say(f"busiest role: {sched.busiest} units of {sched.ii} "
                f"({'minimal' if res == z3.unsat else 'time out'})")
            return
        new = _extract(joint, sched.ii, sched.length, sched.optimal, p)
        sched.start, sched.role, sched.busiest = new.start, new.role, new.busiest
        s.pop()


def _minimize_cross(joint: _Joint, sched: Schedule, left_ms, say) -> None:
    """Secondary objective: fewest cross-role edges (each one is a barrier hand-off)."""
    s = joint.s
    count = z3.Sum([z3.If(x, 1, 0) for x in joint.cross] or [z3.IntVal(0, joint.ctx)])
    while sched.cross_edges > 0 and left_ms() > 0:
        s.push()
        s.add(count < sched.cross_edges)
        s.set("timeout", max(1, left_ms()))
        res = s.check()
        if res != z3.sat:
            s.pop()
            sched.cross_proven_min = res == z3.unsat
            say(f"cross-role edges: {sched.cross_edges} ({'minimal' if res == z3.unsat else 'time out'})")
            return
        new = _extract(joint, sched.ii, sched.length, sched.optimal, joint.p)
        sched.start, sched.role, sched.cross_edges = new.start, new.role, new.cross_edges
        s.pop()
    sched.cross_proven_min = sched.cross_edges == 0 or sched.cross_proven_min
