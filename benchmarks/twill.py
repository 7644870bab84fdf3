"""Twill benchmarks: solve + optimality-proof time per program and architecture, and the GPU
timing model's FA3 forward table beside the published one (ratio per row).

    python -m treadle.benchmarks.twill [--quick] [--repeat N] [--json out.json]

Solve times are medians over --repeat runs (default 7; --quick: 1) on one process; Z3 is single
threaded. The FA3 rows are read off FA3's Fig. 5 (H100 SXM5, BF16, d = 128, non-causal, 16k
tokens, 16 heads, 1830 MHz); the model is the one machine file `machines/h100.toml`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from treadle.machines.loader import load_machine
from treadle.passes.twill import programs
from treadle.passes.twill.schedule_pass import schedule_loop
from treadle.simulators.gpu.timing import fa_forward_tflops

FA3_PUBLISHED = {512: 497, 1024: 574, 2048: 625, 4096: 638, 8192: 646, 16384: 648}
CASES = [("toy", "toy"), ("gemm", "h100"), ("fa-forward", "h100"), ("fa-forward-causal", "h100"),
         ("fa-backward", "h100"), ("gemm", "b200"), ("fa-forward", "b200")]


def solve_rows(repeat: int) -> list[dict]:
    rows = []
    for program, arch in CASES:
        machine = load_machine(arch)
        times, last = [], None
        for _ in range(repeat):
            loop = programs.the_loop(programs.build(program, arch))
            t0 = time.perf_counter()
            p, sched = schedule_loop(loop, machine, time_limit=120)
            times.append(time.perf_counter() - t0)
            last = (loop, p, sched)
        loop, p, sched = last
        rows.append({"program": program, "arch": arch, "seconds": statistics.median(times),
                     "ii": sched.ii, "ii_cycles": loop.schedule.ii_cycles.data,
                     "length": sched.length, "optimal": sched.optimal,
                     "roles": [r.role_name.data for r in loop.schedule.roles.data],
                     "refuted": sum(1 for a in sched.attempts if a[2] == "unsat")})
    return rows


def fa3_rows(head_dim: int = 128) -> list[dict]:
    machine = load_machine("h100")
    loop = programs.the_loop(programs.build("fa-forward", "h100", head_dim))
    schedule_loop(loop, machine)
    rows = []
    for seqlen, published in FA3_PUBLISHED.items():
        est = fa_forward_tflops(loop, machine, seqlen=seqlen, head_dim=head_dim, heads=16,
                                batch=16384 // seqlen, block_m=128, block_n=128)
        rows.append({"seqlen": seqlen, "model_tflops": est.tflops, "fa3_tflops": published,
                     "ratio": est.tflops / published,
                     "cycles_per_iteration": est.cycles_per_iteration})
    return rows


def predictions() -> list[dict]:
    """What the model was not fitted to: other head dims, causal, Blackwell."""
    out = []
    for arch, program, d in [("h100", "fa-forward", 64), ("h100", "fa-forward-causal", 128),
                             ("b200", "fa-forward", 128)]:
        machine = load_machine(arch)
        loop = programs.the_loop(programs.build(program, arch, d))
        schedule_loop(loop, machine)
        block_m = 256 if arch == "b200" else 128
        est = fa_forward_tflops(loop, machine, seqlen=16384, head_dim=d, heads=16, batch=1,
                                block_m=block_m, block_n=128, causal="causal" in program)
        out.append({"arch": arch, "program": program, "head_dim": d, "seqlen": 16384,
                    "model_tflops": est.tflops})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeat", type=int, default=None)
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    repeat = args.repeat or (1 if args.quick else 7)
    print(f"solve + proof time (median of {repeat}, 1 thread, Z3 {__import__('z3').get_version_string()})")
    print(f"{'program':<18} {'arch':<5} {'seconds':>8} {'II':>4} {'II cycles':>9} {'L':>4} "
          f"{'optimal':>7} {'refuted':>7}  roles")
    solves = solve_rows(repeat)
    for r in solves:
        print(f"{r['program']:<18} {r['arch']:<5} {r['seconds']:>8.2f} {r['ii']:>4} "
              f"{r['ii_cycles']:>9} {r['length']:>4} {str(r['optimal']):>7} {r['refuted']:>7}  "
              f"{', '.join(r['roles'])}")
    print("\nFA3 forward, H100, d=128, non-causal, 16k tokens, 16 heads: model vs published")
    print(f"{'seqlen':>6} | {'model TFLOPs':>12} | {'FA3 TFLOPs':>10} | {'ratio':>5}")
    fa3 = fa3_rows()
    for r in fa3:
        print(f"{r['seqlen']:>6} | {r['model_tflops']:>12.0f} | {r['fa3_tflops']:>10} | "
              f"{r['ratio']:>5.2f}")
    preds = [] if args.quick else predictions()
    if preds:
        print("\npredictions (not fitted), seqlen 16384:")
        for r in preds:
            print(f"  {r['arch']} {r['program']} d={r['head_dim']}: {r['model_tflops']:.0f} TFLOPs")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"solve": solves, "fa3": fa3, "predictions": preds}, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
