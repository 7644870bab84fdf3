"""Twill's running example (Fig. 1): I = 2 proven optimal; the invalid alternative is rejected."""

import pytest

from treadle.machines.loader import load_machine
from treadle.passes.twill import programs
from treadle.passes.twill.checker import check
from treadle.passes.twill.normalize import cross_error, normalize_costs
from treadle.passes.twill.problem import ScheduleError, build_problem
from treadle.passes.twill.schedule_pass import schedule_loop
from treadle.passes.twill.solver import modulo_schedule, normalize, solve


@pytest.fixture
def toy_problem():
    return build_problem(programs.the_loop(programs.parse(programs.toy())), load_machine("toy"))


def test_toy_is_two_proven(toy_problem):
    sched = solve(toy_problem, time_limit=10)
    assert (sched.ii, sched.length, sched.optimal) == (2, 4, True)
    # Two GEMMs on one tensor core: ResMII = 2 refutes I = 1 ...
    assert sched.lower_bound == 2 and "unit 'tc'" in sched.bound_reason
    # ... and Z3 agrees independently that no modulo schedule exists at I = 1.
    assert modulo_schedule(toy_problem, 1, 5000)[0] == "unsat"
    s, p, o = sched.start
    assert o % 2 != s % 2  # the two GEMMs never share the tensor core
    # Steady state: S of iteration i+1 overlaps EXP of iteration i (first GEMM hoisted).
    assert sched.stages[0] == 0 and sched.stages[2] == 1
    assert check(toy_problem, 2, 4, sched.start, sched.role) == []


def test_checker_rejects_the_invalid_alternative(toy_problem):
    normalize(toy_problem)
    # The paper's valid schedule M(S)=0, M(P)=2, M(O)=3 ...
    assert check(toy_problem, 2, 4, [0, 2, 3], [0, 0, 0]) == []
    # ... and the dependence-legal but invalid one M(P)=1, M(O)=2: O collides with S on the TC.
    errs = check(toy_problem, 2, 4, [0, 1, 2], [0, 0, 0])
    assert errs == ["unit 'tc' over capacity at cycle 0 mod 2: @S, @O"]
    # Dependences are checked too (P before S finishes).
    assert any("dependence @S -> @P" in e for e in check(toy_problem, 2, 4, [0, 0, 3], [0, 0, 0]))


def test_toy_pass_writes_the_schedule():
    module = programs.parse(programs.toy())
    loop = programs.the_loop(module)
    schedule_loop(loop, load_machine("toy"))
    module.verify()
    text = str(module)
    assert 'schedule #warp.schedule<arch = "toy", ii = 2, length = 4, ii_cycles = 2, optimal = 1' in text
    assert str(programs.parse(text)) == text


def test_normalization_keeps_order_and_bound():
    raw = [64, 92, 217, 221, 512, 659, 923, 1180]
    norm = normalize_costs(raw, 100)
    values = sorted(norm)
    scaled = [norm[v] for v in values]
    assert all(c >= 1 for c in scaled) and 80 <= sum(scaled) <= 100
    assert scaled == sorted(scaled)
    # No other single scale inside the bound has a smaller cross-ratio error.
    best = cross_error(values, scaled)
    for total in range(80, 101):
        alt = [max(1, round(v * total / sum(values))) for v in values]
        if 80 <= sum(alt) <= 100:
            assert cross_error(values, alt) >= best
    assert normalize_costs([1, 2, 3]) == {1: 1, 2: 2, 3: 3}  # already small: exact
    assert normalize_costs([512, 1024]) == {512: 1, 1024: 2}  # gcd is exact


def test_unschedulable_loop_is_a_clear_error():
    text = programs.gemm(subtiles=1)
    p = build_problem(programs.the_loop(programs.parse(text)), load_machine("h100"))
    with pytest.raises(ScheduleError, match=r"task @mma0 alone needs 280 registers per thread "
                                            r"\(> 240 on h100\) at any II; split it into sub-tiles"):
        solve(p)
    loop = programs.the_loop(programs.parse(programs.toy()))
    with pytest.raises(ScheduleError, match="runs on unit 'exp', which machine 'h100' does not have"):
        build_problem(loop, load_machine("h100"))


def test_time_limit_returns_a_checked_unproven_schedule():
    import time

    p = build_problem(programs.the_loop(programs.parse(programs.fa_forward_blackwell())),
                      load_machine("b200"))
    t0 = time.monotonic()
    sched = solve(p, time_limit=1.0, minimize_cross=False)
    # 1 s of search + at most four 3 s + 3 s rescue queries: bounded, never a hang.
    assert time.monotonic() - t0 < 30
    assert not sched.optimal and sched.attempts[-1][2] == "sat (rescue)"
    assert check(p, sched.ii, sched.length, sched.start, sched.role) == []
