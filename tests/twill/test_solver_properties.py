"""Random small loops on the toy machine: the solver's schedule passes the checker, and a brute
force over all issue times confirms that no smaller II admits any valid schedule."""

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from treadle.machines.loader import load_machine
from treadle.passes.twill import programs
from treadle.passes.twill.checker import check
from treadle.passes.twill.problem import build_problem
from treadle.passes.twill.solver import solve


@st.composite
def loops(draw):
    n = draw(st.integers(2, 4))
    lines = []
    for k in range(n):
        unit = draw(st.sampled_from(["tc", "exp"]))
        work = draw(st.integers(1, 3))
        deps = []
        for j in range(k):  # forward edges: distance 0
            if draw(st.booleans()):
                deps.append(f"%v{j}")
        for j in range(k, n):  # backward or self edges: loop-carried
            if draw(st.integers(0, 3)) == 0:
                deps.append(f"%v{j}[{draw(st.integers(1, 2))}]")
        args = f" ({', '.join(deps)})" if deps else ""
        lines.append(f"%v{k} = warp.task @t{k} on {unit} work {work}{args} -> reg 0")
    return "warp.loop @rand {\n" + "\n".join(lines) + "\n}\n"


def _any_valid(p, ii, horizon):
    n = len(p.nodes)
    for starts in itertools.product(range(horizon), repeat=n):
        if min(starts) != 0:
            continue
        length = max(s + p.n(nd.cycles) for s, nd in zip(starts, p.nodes, strict=True))
        if not check(p, ii, length, list(starts), [0] * n):
            return True
    return False


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(loops())
def test_random_loops_are_checked_and_optimal(text):
    p = build_problem(programs.the_loop(programs.parse(text)), load_machine("toy"))
    sched = solve(p, time_limit=20)
    assert sched.optimal
    assert check(p, sched.ii, sched.length, sched.start, sched.role) == []
    assert sched.ii >= sched.lower_bound
    # Brute force: no schedule at all (any length within the horizon) for the next smaller II.
    if sched.ii - 1 >= 1:
        horizon = sum(p.n(nd.cycles) for nd in p.nodes) * 2 + 2
        assert not _any_valid(p, sched.ii - 1, min(horizon, 10))
