"""
Parsing, verification and pass pipelines with MLIR-style located diagnostics.

Shared by `treadle-opt` and the Python API, so both accept the same pipeline strings and
report errors the same way: `file:line:col: error: message`, the source line, a caret.
Nothing here imports torch: the driver's start-up pays for every lit RUN line.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from xdsl.context import Context
from xdsl.dialects.builtin import FileLineColLoc, IntAttr, ModuleOp, StringAttr
from xdsl.ir import Attribute, Operation, TypeAttribute
from xdsl.parser import Parser
from xdsl.passes import ModulePass, PassPipeline
from xdsl.utils.exceptions import (
    ArgSpecParseError,
    DiagnosticException,
    ParseError as XdslParseError,
    VerifyException,
)

from treadle.errors import Error, ParseError, PipelineError, VerifyError
from treadle.tools.registry import DIALECTS, PASSES


@dataclass(frozen=True)
class Diagnostic:
    """One located error, printable the way MLIR prints it."""

    file: str
    line: int
    column: int
    message: str
    source_line: str = ""

    def __str__(self) -> str:
        if self.line <= 0:  # no source position (e.g. a pass failed on the whole module)
            return f"{self.file}: error: {self.message}"
        text = f"{self.file}:{self.line}:{self.column}: error: {self.message}"
        if self.source_line:
            text += f"\n{self.source_line}\n{' ' * max(self.column - 1, 0)}^"
        return text


class LocatedError(Error):
    """A treadle error that carries its Diagnostic."""

    def __init__(self, diagnostic: Diagnostic):
        super().__init__(str(diagnostic))
        self.diagnostic = diagnostic


class LocatedParseError(LocatedError, ParseError):
    pass


class LocatedVerifyError(LocatedError, VerifyError):
    pass


# ---------------------------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------------------------


def all_dialects() -> dict[str, Callable[[], Any]]:
    """xDSL's dialects and Treadle's, as lazy factories."""
    from xdsl.dialects import get_all_dialects

    return {**get_all_dialects(), **DIALECTS}


def all_passes() -> dict[str, Callable[[], type[ModulePass]]]:
    """xDSL's passes and Treadle's, as lazy factories (Treadle's win a name clash)."""
    from xdsl.transforms import get_all_passes

    return {**get_all_passes(), **PASSES}


def make_context() -> Context:
    ctx = Context()
    for name, factory in all_dialects().items():
        ctx.register_dialect(name, factory)
    return ctx


def passes() -> dict[str, dict[str, Any]]:
    """Treadle's passes: name -> {"description": one line, "options": {name: (type, default)}}."""
    return {name: describe_pass(factory()) for name, factory in sorted(PASSES.items())}


def describe_pass(pass_class: type[ModulePass]) -> dict[str, Any]:
    doc = inspect.getdoc(pass_class) or ""
    options = {
        f.name.replace("_", "-"): (_type_name(f.type), f.default)
        for f in fields(pass_class)  # type: ignore[arg-type]
        if f.init
    }
    return {"description": doc.split("\n")[0], "options": options}


def _type_name(t: Any) -> str:
    return t if isinstance(t, str) else getattr(t, "__name__", str(t))


# ---------------------------------------------------------------------------------------------
# Parsing with locations
# ---------------------------------------------------------------------------------------------


class LocatedParser(Parser):
    """xDSL's parser, stamping each operation with the file/line/column it was parsed at."""

    def __init__(self, ctx: Context, text: str, name: str, line_offset: int = 0):
        super().__init__(ctx, text, name)
        self._file_attr = StringAttr(name)
        self._line_offset = line_offset

    def parse_optional_operation(self) -> Operation | None:
        span = self._current_token.span
        self._op_start = span
        op = super().parse_optional_operation()
        if op is not None and not isinstance(op.location, FileLineColLoc):
            where = span.get_location()
            op.location = FileLineColLoc(
                self._file_attr, IntAttr(where.line + self._line_offset), IntAttr(where.col)
            )
        return op

    def parse_optional_attribute(self) -> Attribute | None:
        # An attribute verifies itself when built; locate its failure at the attribute.
        start = self.pos
        try:
            return super().parse_optional_attribute()
        except VerifyException as err:
            self.raise_error(_first_line(err), start, self.pos)

    def parse_optional_type(self) -> TypeAttribute | None:
        start = self.pos
        try:
            return super().parse_optional_type()
        except VerifyException as err:
            self.raise_error(_first_line(err), start, self.pos)

    def _get_op_by_name(self, name: str) -> type[Operation]:
        # Report an unknown operation at the operation, not at the token after its name.
        if self.ctx.get_optional_op(name, dialect_stack=self._parser_state.dialect_stack) is None:
            if not self.ctx.allow_unregistered:
                self.raise_error(f"Operation {name} is not registered", self._op_start)
        return super()._get_op_by_name(name)


def parse(text: str, name: str = "<string>", ctx: Context | None = None, line_offset: int = 0) -> ModuleOp:
    """Parse and verify IR text; errors raise a treadle.ParseError/VerifyError with a location."""
    ctx = ctx or make_context()
    try:
        module = LocatedParser(ctx, text, name, line_offset).parse_module()
    except XdslParseError as err:
        raise LocatedParseError(_diagnostic_from_parse_error(err, name, text, line_offset)) from None
    except VerifyException as err:  # an attribute that verifies itself while being parsed
        raise LocatedParseError(Diagnostic(name, 1 + line_offset, 1, str(err))) from None
    verify(module, text, line_offset)
    return module


def _diagnostic_from_parse_error(err: XdslParseError, name: str, text: str, line_offset: int) -> Diagnostic:
    where = err.span.get_location()
    line = where.line + line_offset
    return Diagnostic(name, line, where.col, err.msg, _line_of(text, where.line))


def _line_of(text: str, line: int) -> str:
    lines = text.splitlines()
    return lines[line - 1] if 0 < line <= len(lines) else ""


# ---------------------------------------------------------------------------------------------
# Verification
# ---------------------------------------------------------------------------------------------


def verify(module: ModuleOp, source: str | None = None, line_offset: int = 0) -> None:
    """Verify every operation; the first failure raises a VerifyError located at its op."""
    for op in module.walk():
        try:
            op.verify(verify_nested_ops=False)
        except (VerifyException, DiagnosticException) as err:
            raise LocatedVerifyError(located(op, _first_line(err), source, line_offset)) from None


def _first_line(err: Exception) -> str:
    return str(err.args[0]) if err.args else str(err)


def located(op: Operation, message: str, source: str | None = None, line_offset: int = 0) -> Diagnostic:
    loc = op.location
    if isinstance(loc, FileLineColLoc):
        line = loc.line.data
        source_line = _line_of(source, line - line_offset) if source is not None else ""
        return Diagnostic(loc.filename.data, line, loc.column.data, f"'{op.name}' op {message}", source_line)
    return Diagnostic("<unknown>", 0, 0, f"'{op.name}' op {message}")


# ---------------------------------------------------------------------------------------------
# Pipelines
# ---------------------------------------------------------------------------------------------


def parse_pipeline(spec: str, callback: Any = None) -> PassPipeline:
    """A PassPipeline from `pass-a,pass-b{opt=1}`; unknown passes/options raise PipelineError."""
    try:
        return PassPipeline.parse_spec(all_passes(), spec, callback)
    except ArgSpecParseError as err:
        raise PipelineError(str(err)) from None
    except (ValueError, TypeError) as err:
        raise PipelineError(f"pass pipeline '{spec}': {err}") from None


def run_pipeline(
    module: ModuleOp,
    spec: str,
    ctx: Context | None = None,
    source: str | None = None,
    line_offset: int = 0,
) -> ModuleOp:
    """Run a pipeline on `module` in place, verifying after every pass; returns the module."""
    ctx = ctx or make_context()

    def check(previous: ModulePass | None, m: ModuleOp, _next: ModulePass | None) -> None:
        try:
            verify(m, source, line_offset)
        except VerifyError as err:
            name = previous.name if previous is not None else "input"
            raise PipelineError(f"IR does not verify after '{name}': {err}") from None

    if not spec.strip():
        verify(module, source, line_offset)
        return module
    pipeline = parse_pipeline(spec, check)
    try:
        pipeline.apply(ctx, module)
    except DiagnosticException as err:
        raise PipelineError(_first_line(err)) from None
    return module
