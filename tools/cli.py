"""`treadle`: the user-facing command line; one module per subcommand, imported on use.

A subcommand module exposes `HELP` (one line), `add_arguments(parser)` and `run(args) -> int`.
"""

import argparse
import importlib
import sys

SUBCOMMANDS: dict[str, str] = {
    "demo": "treadle.tools.demo",
    "schedule": "treadle.tools.schedule",
    "tune": "treadle.tuning.cli",
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="treadle", description="Treadle command line")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    wanted = argv[0] if argv and not argv[0].startswith("-") else None
    for name, module_name in SUBCOMMANDS.items():
        if wanted is not None and name != wanted:
            sub.add_parser(name, help="")
            continue
        module = importlib.import_module(module_name)
        module.add_arguments(sub.add_parser(name, help=module.HELP, description=module.HELP))
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    module = importlib.import_module(SUBCOMMANDS[args.command])
    from treadle.errors import Error

    try:
        return int(module.run(args) or 0)
    except Error as err:
        print(f"treadle {args.command}: error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
