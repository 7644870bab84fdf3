"""
`treadle-opt`: the opt-style driver (parse, run a pass pipeline, print a target).

It reuses xDSL's `xDSLOptMain` for its flags (`-p`, `-t`, `--split-input-file`,
`--print-op-generic`, ...) and replaces its run loop so that every failure is an MLIR-style
located diagnostic with a non-zero exit, never a traceback. `--verify-diagnostics` checks
`// expected-error @+N {{...}}` annotations as mlir-opt does.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from io import StringIO

from xdsl.xdsl_opt_main import xDSLOptMain

from treadle.errors import Error
from treadle.pipeline import (
    Diagnostic,
    LocatedError,
    all_dialects,
    all_passes,
    describe_pass,
    parse,
    parse_pipeline,
    run_pipeline,
)
from treadle.tools.registry import PASSES, TARGETS

_EXPECTED = re.compile(r"//\s*expected-error\s*(@(?P<rel>[+-]\d+|above|below))?\s*\{\{(?P<msg>.*?)\}\}")


class TreadleOptMain(xDSLOptMain):
    def __init__(self, args: list[str] | None = None):
        super().__init__(description="Treadle modular optimizer driver", args=args)

    def register_all_dialects(self) -> None:
        for name, factory in all_dialects().items():
            self.ctx.register_dialect(name, factory)

    def register_all_passes(self) -> None:
        for name, factory in all_passes().items():
            self.register_pass(name, factory)

    def register_all_targets(self) -> None:
        super().register_all_targets()
        self.available_targets.update(TARGETS)

    def register_all_arguments(self, arg_parser: argparse.ArgumentParser) -> None:
        super().register_all_arguments(arg_parser)
        arg_parser.add_argument(
            "--list-passes",
            action="store_true",
            help="List Treadle's passes with their options and one-line docs, then xDSL's",
        )

    def setup_pipeline(self) -> None:
        # The pipeline is built (and its errors reported) in run(), as a diagnostic.
        pass

    def run(self) -> int:  # type: ignore[override]
        if self.args.list_passes:
            print(list_passes())
            return 0
        try:
            parse_pipeline(self.args.passes)
            text = self._read_input()
        except Error as err:
            print(f"treadle-opt: error: {err}", file=sys.stderr)
            return 1
        name = self.args.input_file or "<stdin>"
        chunks = _split(text) if self.args.split_input_file else [(text, 0)]
        outputs: list[str] = []
        failed = False
        for chunk, offset in chunks:
            diagnostics, output = self._process(chunk, name, offset)
            if self.args.verify_diagnostics:
                for problem in _check_expectations(chunk, offset, diagnostics, name):
                    print(problem, file=sys.stderr)
                    failed = True
            else:
                for diagnostic in diagnostics:
                    print(diagnostic, file=sys.stderr)
                    failed = True
            if output is not None:
                outputs.append(output)
        result = "// -----\n".join(outputs)
        if self.args.output_file:
            with open(self.args.output_file, "w") as f:
                f.write(result)
        else:
            sys.stdout.write(result)
        return 1 if failed else 0

    def _read_input(self) -> str:
        if self.args.input_file is None:
            return sys.stdin.read()
        try:
            with open(self.args.input_file, encoding="utf-8") as f:
                return f.read()
        except OSError as err:
            raise Error(f"cannot read '{self.args.input_file}': {err.strerror}") from None

    def _process(self, text: str, name: str, offset: int) -> tuple[list[Diagnostic], str | None]:
        try:
            module = parse(text, name, self.ctx, offset)
            run_pipeline(module, self.args.passes, self.ctx, text, offset)
            return [], self.output_resulting_program(module)
        except LocatedError as err:
            return [err.diagnostic], None
        except Error as err:
            return [Diagnostic(name, 0, 0, str(err))], None
        except Exception as err:  # a bug in a pass or target: still a diagnostic, not a traceback
            return [Diagnostic(name, 0, 0, f"internal error: {type(err).__name__}: {err}")], None


def _split(text: str) -> list[tuple[str, int]]:
    chunks, offset = [], 0
    for chunk in text.split("// -----"):
        chunks.append((chunk, offset))
        offset += chunk.count("\n")
    return chunks


@dataclass(frozen=True)
class _Expectation:
    line: int
    """The line whose diagnostic is expected."""
    message: str
    annotation_line: int


def _check_expectations(text: str, offset: int, diagnostics: list[Diagnostic], name: str) -> list[str]:
    """Match diagnostics against `expected-error` annotations; return the mismatches."""
    expected: list[_Expectation] = []
    lines = text.splitlines()
    for k, line in enumerate(lines):
        for match in _EXPECTED.finditer(line):
            rel = match.group("rel")
            target = k + 1
            if rel in ("+1", "below") or (rel and rel.startswith("+")):
                target = k + 1 + (1 if rel == "below" else int(rel))
            elif rel == "above" or (rel and rel.startswith("-")):
                target = k + 1 - (1 if rel == "above" else -int(rel))
            expected.append(_Expectation(target + offset, match.group("msg").strip(), k + 1 + offset))
    problems: list[str] = []
    unmatched = list(diagnostics)
    for want in expected:
        hit = next((d for d in unmatched if d.line == want.line and want.message in d.message), None)
        if hit is None:
            problems.append(f"{name}:{want.annotation_line}: error: expected error \"{want.message}\" was not produced")
        else:
            unmatched.remove(hit)
    for diagnostic in unmatched:
        problems.append(f"unexpected error: {diagnostic}")
    return problems


def list_passes() -> str:
    out = StringIO()
    out.write("Treadle passes:\n")
    for name, factory in sorted(PASSES.items()):
        info = describe_pass(factory())
        out.write(f"  {name}: {info['description']}\n")
        for option, (type_name, default) in info["options"].items():
            out.write(f"      {option}: {type_name} = {default!r}\n")
    upstream = sorted(set(all_passes()) - set(PASSES))
    out.write(f"xDSL passes (see xdsl-opt): {', '.join(upstream)}\n")
    return out.getvalue()


def main(args: list[str] | None = None) -> None:
    sys.exit(TreadleOptMain(args=args).run())


if __name__ == "__main__":
    main()
