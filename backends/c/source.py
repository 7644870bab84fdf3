"""An emitted C translation unit: what the loader needs, without the emitter (which imports the
xDSL dialects it prints), so a process reusing a cached kernel loads none of them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from treadle.backends.c.abi import FunctionABI

if TYPE_CHECKING:
    from xdsl.ir import Operation


@dataclass
class CSource:
    """An emitted C translation unit and what a loader needs to call into it."""

    text: str
    functions: dict[str, FunctionABI]
    uses_openmp: bool = False
    origins: list[tuple[int, Operation]] = field(default_factory=list)
    """(first C line, 1-based, IR op) in line order, to point compile errors at the IR"""

    def op_at_line(self, line: int) -> Operation | None:
        found = None
        for start, op in self.origins:
            if start > line:
                break
            found = op
        return found
