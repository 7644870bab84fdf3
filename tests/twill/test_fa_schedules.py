"""Flash Attention forward: the schedules Twill finds on H100 and B200, and the ablations."""

import math

import z3

import pytest

from treadle.machines.loader import load_machine
from treadle.passes.twill import programs
from treadle.passes.twill.checker import check
from treadle.passes.twill.materialize import TwillMaterializeRolesPass
from treadle.passes.twill.problem import build_problem
from treadle.passes.twill.schedule_pass import role_names, schedule_loop
from treadle.passes.twill.solver import feasible_at, normalize, precheck


def _solve(arch, machine=None, text=None, **kw):
    machine = machine or load_machine(arch)
    module = programs.parse(text or programs.fa_forward(arch))
    loop = programs.the_loop(module)
    p, sched = schedule_loop(loop, machine, time_limit=60, **kw)
    return module, loop, p, sched


@pytest.fixture(scope="module")
def h100():
    return _solve("h100")


@pytest.fixture(scope="module")
def b200():
    return _solve("b200")


def _ops(p, sched, role):
    return {nd.name for k, nd in enumerate(p.nodes) if sched.role[k] == role}


def _overlap(p, sched, a, b):
    """Do the unit intervals of ops a and b (any iterations) intersect in time?"""
    ii = sched.ii
    ka, kb = p.index(a), p.index(b)
    sa, da = sched.start[ka], p.n(p.nodes[ka].cycles)
    sb, db = sched.start[kb], p.n(p.nodes[kb].cycles)
    d = (sb - sa) % ii
    return d < da or (ii - d) % ii < db


def test_h100_ii_equals_the_hand_derived_bound(h100):
    _, loop, p, sched = h100
    m = load_machine("h100")
    # Hand derivation from machines/h100.toml, d = 128, 128 x 128 tile in two m64 sub-tiles:
    #   one GEMM (Q_s K^T or P_s V): 2 * 64 * 128 * 128 flop / 4096 flop/clk = 512 cycles;
    #   four GEMMs per iteration on the one SM-wide tensor core: 4 * 512 = 2048 cycles;
    #   MUFU: 2 * 64 * 128 exp / 16 per clk = 1024; FMA: 6 passes * 64*128/128 = 384;
    #   TMA: 2 * 32 KiB / 49.7 B/clk = 1319. So ResMII = 2048 cycles (the tensor core), and the
    #   claim to check is that SWP + WS hides softmax and loads completely at that bound.
    gemm = m.units["tc"].cycles(2 * 64 * 128 * 128)
    assert gemm == 512
    assert 2 * m.units["mufu"].cycles(64 * 128) == 1024 < 4 * gemm
    assert 2 * m.units["tma"].cycles(128 * 128 * 2) < 4 * gemm
    assert sched.ii == 4 * p.n(gemm)  # the same bound in normalized units
    assert loop.schedule.ii_cycles.data == 4 * gemm == 2048
    assert sched.optimal and loop.schedule.optimal.data == 1
    assert sched.solve_seconds < 60
    assert check(p, sched.ii, sched.length, sched.start, sched.role) == []


def test_h100_roles_producer_and_pingpong(h100):
    _, loop, p, sched = h100
    names = role_names(p, sched)
    assert names == ["producer", "consumer0", "consumer1"]
    assert _ops(p, sched, 0) == {"load_k", "load_v"}  # dedicated TMA producer
    sub0 = {"qk0", "max0", "exp0", "sum0", "rescale0", "pv0"}
    sub1 = {n.replace("0", "1") for n in sub0}
    assert {frozenset(_ops(p, sched, 1)), frozenset(_ops(p, sched, 2))} == {
        frozenset(sub0), frozenset(sub1)}
    # Registers per thread of a consumer: base 24 + S 64x128 fp32 (64) + m (1) + P bf16 (32)
    # + l (1) + O 64x128 fp32 (64) = 186, under FA3's 240; both sub-tiles would need 348.
    assert [r.regs.data for r in loop.schedule.roles.data][1:] == [186, 186]
    # Ping-pong: each warp group's exponentials run under the other group's GEMMs.
    for s, other in ((0, 1), (1, 0)):
        assert any(_overlap(p, sched, f"exp{s}", f"{g}{other}") for g in ("qk", "pv"))
        assert not _overlap(p, sched, f"exp{s}", f"qk{s}")


def test_h100_intra_warpgroup_overlap(h100):
    _, _, p, sched = h100
    stage = dict(zip((nd.name for nd in p.nodes), sched.stages, strict=True))
    # FA3's intra-warpgroup pipeline, as Twill defines it (toy §3.1, Hopper §6.2.1): Q K^T of
    # iteration i+1 is issued in the same steady-state trip as the softmax of iteration i, i.e.
    # the first GEMM is hoisted into the prologue (stage(qk) < stage(exp)). The paper's solve
    # applies it to one warp group only; so does ours.
    hoisted = [s for s in (0, 1) if stage[f"qk{s}"] < stage[f"exp{s}"]]
    assert len(hoisted) >= 1
    s = hoisted[0]
    trip = sched.start[p.index(f"exp{s}")] // sched.ii
    qk_next = sched.start[p.index(f"qk{s}")] + sched.ii
    assert qk_next // sched.ii == trip  # QK(i+1) and exp(i) share a steady-state trip


def test_h100_materialized_roles(h100):
    module, _, _, _ = h100
    clone = module.clone()
    TwillMaterializeRolesPass().apply(programs.context(), clone)
    clone.verify()
    text = str(clone)
    assert 'warp.role "producer" warps 1 regs 24' in text
    assert 'warp.barrier @load_k_to_consumer0 from "producer" to "consumer0"' in text
    assert str(programs.parse(text)) == text


def test_h100_swapping_one_number_changes_the_schedule():
    # Make the MUFU 4x slower: exp of one sub-tile becomes 64*128/4 = 2048 cycles, so the two
    # sub-tiles need 4096 MUFU cycles per iteration > 2048 tensor-core cycles: the model predicts
    # the II moves to 4096 cycles and is now bound by the MUFU. No code changes, one number.
    slow = load_machine("h100", {"units.mufu.throughput": 4})
    _, loop, p, sched = _solve("h100", machine=slow)
    assert "unit 'mufu'" in sched.bound_reason
    assert loop.schedule.ii_cycles.data == 2 * (64 * 128 // 4) == 4096
    assert sched.optimal


def test_b200_blackwell_structure(b200):
    _, loop, p, sched = b200
    names = role_names(p, sched)
    assert sched.optimal and sched.solve_seconds < 60
    assert check(p, sched.ii, sched.length, sched.start, sched.role) == []
    roles = {names[r]: _ops(p, sched, r) for r in range(len(names))}
    assert roles["producer"] == {"load_k", "load_v"}
    # One correction role rescales both O tiles (its blocking TMEM traffic stays off softmax).
    assert roles["correction"] == {"correct0", "correct1"}
    # The softmax of sub-tile 0 and of sub-tile 1 on two different warp groups.
    soft = [{f"ld_s{s}", f"max{s}", f"exp{s}", f"sum{s}", f"st_p{s}"} for s in (0, 1)]
    owners = [{r for r, ops in roles.items() if ops & soft[s]} for s in (0, 1)]
    assert all(len(o) == 1 for o in owners) and owners[0] != owners[1]
    # S, P and O live in tensor memory.
    spaces = {nd.name: nd.space for nd in p.nodes}
    assert all(spaces[f"{t}{s}"] == "tmem" for t in ("qk", "st_p", "pv") for s in (0, 1))
    # Exp of one sub-tile overlaps GEMMs of the other.
    assert any(_overlap(p, sched, "exp0", f"{g}1") for g in ("qk", "pv"))
    assert any(_overlap(p, sched, "exp1", f"{g}0") for g in ("qk", "pv"))
    assert len(names) == 4
    # The tensor core runs FA4's MMA order per KV block: S0, O1 (previous V), S1, O0.
    tc = sorted((sched.start[k] % sched.ii, nd.name) for k, nd in enumerate(p.nodes)
                if nd.unit == "tc")
    order = [n for _, n in tc]
    k = order.index("qk0")
    assert order[k:] + order[:k] == ["qk0", "pv1", "qk1", "pv0"]


def test_b200_ii_is_bound_by_the_tmem_lifetime_of_s_and_p(b200):
    """Hand derivation: TMEM (512 columns) holds exactly S0, S1, O0, O1 at d = 128, so S_s (with
    P_s written over it) has one copy and must die within one II: issue QK (512 cycles), load S
    (65536 B / 256 B/clk = 256), max (128), exp (1024), store P (128), PV (512) back to back is
    2560 raw cycles; in normalized units 7 + 3 + 2 + 13 + 2 + 7 = 34 = the II found."""
    _, loop, p, sched = b200
    chain = ["qk0", "ld_s0", "max0", "exp0", "st_p0", "pv0"]
    assert sum(p.nodes[p.index(n)].cycles for n in chain) == 2560
    assert sched.ii == sum(p.n(p.nodes[p.index(n)].cycles) for n in chain) == 34
    assert sched.ii > sched.lower_bound == 28  # the tensor core alone would allow 28


def _ii_budget(p, b200_sched, b200_cycles):
    """The largest normalized II of problem p that is no longer than B200's optimum in cycles."""
    normalize(p)
    tc = [nd for nd in p.nodes if nd.unit == "tc"]
    per_unit = sum(nd.cycles for nd in tc) / sum(p.n(nd.cycles) for nd in tc)
    return math.floor(b200_cycles / per_unit)


def test_b200_fewer_warps_is_infeasible_at_the_optimal_ii(b200):
    _, _, _, sched = b200
    p = build_problem(programs.the_loop(programs.parse(programs.fa_forward("b200"))),
                      load_machine("b200"), max_warps=12)
    assert feasible_at(p, sched.ii, timeout=120) == "unsat"


def test_b200_no_cross_warp_communication_is_infeasible(b200):
    _, _, _, sched = b200
    p = build_problem(programs.the_loop(programs.parse(programs.fa_forward("b200"))),
                      load_machine("b200"), allow_cross_regs=False)
    assert feasible_at(p, sched.ii, timeout=120) == "unsat"


def test_b200_no_subtiling_is_infeasible(b200):
    _, loop, _, sched = b200
    p = build_problem(programs.the_loop(programs.parse(programs.fa_forward_blackwell(subtiles=1))),
                      load_machine("b200"))
    # One 256-row tile: S alone is 256 registers per thread in its softmax warp group.
    with pytest.raises(Exception, match="alone needs 280 registers per thread"):
        precheck(p)
    budget = _ii_budget(p, sched, loop.schedule.ii_cycles.data)
    assert feasible_at(p, budget, timeout=60) == "unsat"


def test_h100_backward_is_register_bound_without_cross_iteration_overlap():
    # Twill §6.3 / FA3: the Hopper backward loop is register-bound and not pipelined across
    # iterations. Each consumer holds dK_s and dV_s (64 + 64 registers per thread) plus S_s and
    # dP_s (32 + 32): 216 of 240, so a second copy of anything in flight does not fit.
    module = programs.parse(programs.fa_backward_hopper())
    loop = programs.the_loop(module)
    p, sched = schedule_loop(loop, load_machine("h100"), time_limit=60)
    assert sched.optimal and max(sched.stages) == 0
    assert [r.regs.data for r in loop.schedule.roles.data] == [24, 216, 216]
    assert role_names(p, sched) == ["producer", "consumer0", "consumer1"]
    assert check(p, sched.ii, sched.length, sched.start, sched.role) == []


def test_b200_fa4_mma_warp_costs_two_ii_steps_in_this_model(b200):
    """FA4 issues all MMAs from one dedicated warp. Forcing that structure here: each S_s now
    crosses two roles on its single-buffered TMEM path (MMA warp -> softmax -> MMA warp), two
    mbarrier hops (92 cycles each) that push its lifetime past II = 34, so the best such schedule
    needs II = 36. This is why the solver's optimum keeps the MMAs on the softmax groups."""
    _, _, p, sched = b200
    mma = [p.index(n) for n in ("qk0", "qk1", "pv0", "pv1")]

    def fa4(joint):
        for k in range(len(p.nodes)):
            same = joint.w[k] == joint.w[mma[0]]
            joint.s.add(same if k in mma else z3.Not(same))

    assert feasible_at(p, sched.ii, constrain=fa4) == "unsat"
    assert feasible_at(p, sched.ii + 1, constrain=fa4) == "unsat"
    assert feasible_at(p, sched.ii + 2, constrain=fa4) == "sat"
