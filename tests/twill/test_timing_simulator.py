"""The GPU timing model against FA3's published H100 forward throughput, and its predictions."""

import pytest

from treadle.machines.loader import load_machine
from treadle.passes.twill import programs
from treadle.passes.twill.schedule_pass import schedule_loop
from treadle.simulators.gpu.timing import SimulationError, fa_forward_tflops, simulate

# FA3 (arXiv 2407.08608) Fig. 5, H100 SXM5, BF16, forward, non-causal, d = 128, 16k tokens,
# 16 heads, clock locked at 1830 MHz (values read off the figure, see shared/research/twill.md).
FA3_PUBLISHED = {512: 497, 1024: 574, 2048: 625, 4096: 638, 8192: 646, 16384: 648}


@pytest.fixture(scope="module")
def h100_loop():
    machine = load_machine("h100")
    loop = programs.the_loop(programs.build("fa-forward", "h100"))
    schedule_loop(loop, machine)
    return loop, machine


@pytest.mark.parametrize("seqlen", sorted(FA3_PUBLISHED))
def test_reproduces_fa3_forward_within_15_percent(h100_loop, seqlen):
    loop, machine = h100_loop
    est = fa_forward_tflops(loop, machine, seqlen=seqlen, head_dim=128, heads=16,
                            batch=16384 // seqlen, block_m=128, block_n=128)
    assert est.tflops / FA3_PUBLISHED[seqlen] == pytest.approx(1.0, abs=0.15)


def test_throughput_grows_with_seqlen_and_stays_below_peak(h100_loop):
    loop, machine = h100_loop
    got = [fa_forward_tflops(loop, machine, seqlen=s, head_dim=128, heads=16, batch=16384 // s,
                             block_m=128, block_n=128).tflops for s in sorted(FA3_PUBLISHED)]
    assert got == sorted(got)
    assert got[-1] < 989 * machine.units["tc"].sustained


def test_causal_is_slower_per_flop(h100_loop):
    loop, machine = h100_loop
    causal = programs.the_loop(programs.build("fa-forward-causal", "h100"))
    schedule_loop(causal, machine)
    kw = dict(seqlen=2048, head_dim=128, heads=16, batch=8, block_m=128, block_n=128)
    assert (fa_forward_tflops(causal, machine, causal=True, **kw).tflops
            < fa_forward_tflops(loop, machine, **kw).tflops)


def test_steady_state_is_tensor_core_bound(h100_loop):
    loop, machine = h100_loop
    trace = simulate(loop, machine, 16)
    # Four 512-cycle GEMMs at the sustained 73.7% rate: 2048 / 0.737 = 2779 cycles per trip.
    assert trace.cycles_per_iteration() == pytest.approx(2048 / 0.737, rel=0.03)
    assert trace.utilization()["tc"] > 0.9


def test_without_software_pipelining_is_slower(h100_loop):
    """Ablation (FA3 Table 2 reports double-digit losses): no overlap across iterations."""
    loop, machine = h100_loop
    swp = simulate(loop, machine, 16).cycles_per_iteration()
    no_swp = simulate(loop, machine, 16, pipelined=False).cycles_per_iteration()
    assert no_swp > 1.1 * swp


def test_unscheduled_loop_is_an_error():
    loop = programs.the_loop(programs.build("fa-forward", "h100"))
    with pytest.raises(SimulationError, match="has no #warp.schedule"):
        simulate(loop, load_machine("h100"), 4)
