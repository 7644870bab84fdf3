"""`treadle tune SPACE.json --objective MODULE:FUNCTION | --command CMD`: tune any objective."""

import argparse
from pathlib import Path

from treadle.tuning import journal
from treadle.tuning.errors import TuningError
from treadle.tuning.objectives import ShellObjective, import_objective
from treadle.tuning.plot import plot_convergence
from treadle.tuning.run import tune
from treadle.tuning.sampling import ConstrainedSampler
from treadle.tuning.space import Space

HELP = "tune a space file's parameters for an objective (Bayesian optimisation, BaCO-style)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("space", type=Path, help="space file (JSON; see docs/tuning.md)")
    hook = parser.add_mutually_exclusive_group(required=True)
    hook.add_argument("--objective", metavar="MODULE:FUNCTION",
                      help="Python function taking the configuration dict, returning a cost or None/raising if infeasible")
    hook.add_argument("--command", metavar="CMD", dest="shell_command",
                      help="shell command printing the cost on its last line; {name} placeholders, "
                           "JSON config on stdin and in $TREADLE_CONFIG; non-zero exit = infeasible")
    parser.add_argument("--budget", type=int, default=50, help="evaluations in all (default 50)")
    parser.add_argument("--seed", type=int, help="random seed (default 0, or the log's with --resume)")
    parser.add_argument("--log", type=Path, help="JSON-lines log (default SPACE.tune.jsonl)")
    parser.add_argument("--plot", type=Path, help="convergence PNG (default SPACE.convergence.png)")
    parser.add_argument("--resume", action="store_true", help="continue the run recorded in the log")
    parser.add_argument("--workers", type=int, default=1, help="evaluations in parallel (default 1)")
    parser.add_argument("--executor", default="process",
                        help="process (default), serial, dask (local cluster) or dask://HOST:PORT")
    parser.add_argument("--timeout", type=float, help="seconds before a --command evaluation counts as infeasible")
    parser.add_argument("--random-baseline", action="store_true",
                        help="also evaluate BUDGET uniform random configurations and plot them")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    space = Space.load(args.space)
    stem = args.space.with_suffix("")
    log = args.log or stem.with_name(stem.name + ".tune.jsonl")
    plot = args.plot or stem.with_name(stem.name + ".convergence.png")
    if log.exists() and log.stat().st_size and not args.resume:
        raise TuningError(f"log {log} exists; pass --resume to continue it or --log for a new one")
    seed = args.seed
    if seed is None:
        seed = journal.read(log)[0]["seed"] if args.resume and log.exists() and log.stat().st_size else 0
    objective = import_objective(args.objective) if args.objective else ShellObjective(args.shell_command, args.timeout)
    print(f"treadle tune: {args.space} ({len(space.parameters)} parameters, {len(space.constraints)} "
          f"constraints), budget {args.budget}, seed {seed}, log {log}")
    result = tune(objective, space, args.budget, seed=seed, executor=args.executor,
                  parallel=args.workers, log=log, progress=not args.quiet)
    runs = {"treadle tuner": [result.values]}
    if args.random_baseline:
        import numpy as np

        from treadle.tuning.run import evaluate

        configs = ConstrainedSampler(space).sample_distinct(args.budget, np.random.default_rng(seed))
        runs["uniform random"] = [[evaluate(objective, c)[0] for c in configs]]
    plot_convergence(runs, plot, title=f"{args.space.name}: best value vs evaluations")
    n_bad = sum(1 for o in result.observations if not o.feasible)
    print(f"{len(result.observations)} evaluations, {n_bad} infeasible; log {log}; plot {plot}")
    if result.best_config is None:
        print("no feasible configuration found")
        return 1
    shown = space.config_to_json(result.best_config)
    print(f"best {result.best_value:.6g} at {shown}")
    return 0
