"""`treadle-opt FILE -t c`: the C backend as an xDSL target."""

from dataclasses import dataclass
from typing import IO

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.utils.target import Target

from treadle.backends.c.emitter import emit_c


@dataclass(frozen=True)
class CTarget(Target):
    """Prints loop IR as C99 (ABI in `treadle.backends.c.abi`); `c{restrict=false}` drops `restrict`."""

    name = "c"

    restrict: bool = True

    def emit(self, ctx: Context, module: ModuleOp, output: IO[str]) -> None:
        output.write(emit_c(module, restrict=self.restrict).text)
