"""The one exception family of the Python API: every user-facing failure is a `treadle.Error`."""


class Error(Exception):
    """A Treadle error; its text is a complete diagnostic (location, what was expected)."""


class ParseError(Error):
    """Text that is not valid Treadle IR or index notation."""


class VerifyError(Error):
    """IR that parses but breaks an invariant of its dialect."""


class PipelineError(Error):
    """An unknown pass, a bad pass option, or a pass that failed."""


class CompileError(Error):
    """A backend could not build or load code (compiler missing, compile error)."""
