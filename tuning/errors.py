"""The tuner's user errors, all `treadle.errors.Error` subclasses so drivers report them uniformly."""

from treadle.errors import Error


class SpaceError(Error):
    """A malformed parameter, space file or configuration."""


class ConstraintError(Error):
    """A known constraint that is not a safe expression, or that cannot be evaluated."""


class SamplingError(Error):
    """No configuration satisfying the known constraints could be found."""


class TuningError(Error):
    """Misuse of the tuner (bad result, unknown configuration, mismatched log, ...)."""
