"""`treadle schedule PROGRAM --arch h100|b200`: Twill's optimal SWP + WS for one loop, explained."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "schedule a warp loop with Twill (optimal software pipelining + warp specialization)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("program", help="built-in program (toy, gemm, fa-forward, "
                        "fa-forward-causal) or a .mlir file holding one warp.loop")
    parser.add_argument("--arch", default="h100",
                        help="machine name (h100, b200, toy) or a machine .toml file")
    parser.add_argument("--head-dim", type=int, default=128)
    parser.add_argument("--gantt", help="write a Gantt chart of the steady state (.png/.svg)")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds (default 60)")
    parser.add_argument("--max-warps", type=int, default=0, help="warp budget (0: machine's)")
    parser.add_argument("--quiet", action="store_true", help="no solver progress on stderr")
    parser.add_argument("--emit-ir", action="store_true", help="print the scheduled IR")


def run(args: argparse.Namespace) -> int:
    from treadle.errors import Error
    from treadle.machines.loader import load_machine
    from treadle.passes.twill import programs
    from treadle.passes.twill.report import gantt, table
    from treadle.passes.twill.schedule_pass import role_names, schedule_loop

    machine = load_machine(args.arch)
    if args.program.endswith(".mlir"):
        path = Path(args.program)
        if not path.exists():
            raise Error(f"{path}: no such file")
        try:
            module = programs.parse(path.read_text(), str(path))
        except Exception as err:  # xDSL parse/verify errors carry their own location
            raise Error(str(err)) from None
    else:
        module = programs.build(args.program, machine.name, args.head_dim)
    loop = programs.the_loop(module)
    progress = None if args.quiet else (lambda msg: print(msg, file=sys.stderr, flush=True))
    kw = {"max_warps": args.max_warps} if args.max_warps else {}
    p, sched = schedule_loop(loop, machine, args.time_limit, progress, **kw)
    names = role_names(p, sched)
    sa = loop.schedule
    print(f"loop @{p.name} on {machine.name} ({machine.description})")
    print(f"II = {sched.ii} (normalized) ≈ {sa.ii_cycles.data} cycles, L = {sched.length}, "
          f"stages = {max(sched.stages) + 1}")
    print(f"optimal: {'proven' if sched.optimal else 'NOT proven optimal'} "
          f"(lower bound {sched.lower_bound}: {sched.bound_reason}; "
          f"{sum(1 for a in sched.attempts if a[2] == 'unsat')} smaller (I, L window) queries "
          f"refuted by Z3, {sum(1 for a in sched.attempts if a[2] == 'unknown')} timed out)")
    print(f"cross-role edges: {sched.cross_edges}"
          f"{' (minimal)' if sched.cross_proven_min else ''}; busiest role: {sched.busiest} of "
          f"II = {sched.ii} units busy{' (minimal)' if sched.busiest_proven_min else ''}")
    print(f"solve time: {sched.solve_seconds:.2f} s")
    print("roles:")
    for r, role in enumerate(sa.roles.data):
        ops = [nd.name for k, nd in enumerate(p.nodes) if sched.role[k] == r]
        print(f"  {r}: {role.role_name.data:<11} warps={role.warps.data:<2} "
              f"regs/thread={role.regs.data:<4} ops: {', '.join(ops)}")
    print(table(p, sched, names))
    if args.gantt:
        gantt(p, sched, names, args.gantt, ii_cycles=sa.ii_cycles.data)
        print(f"gantt chart: {args.gantt}")
    if args.emit_ir:
        print(module)
    return 0
