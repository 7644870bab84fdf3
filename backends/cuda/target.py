"""`treadle-opt FILE -p twill-schedule{arch=h100},twill-materialize-roles -t cuda-skeleton`."""

from dataclasses import dataclass
from typing import IO

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.utils.target import Target

from treadle.backends.cuda.skeleton import emit
from treadle.dialects.warp import SpecializedOp
from treadle.errors import CompileError


@dataclass(frozen=True)
class CudaSkeletonTarget(Target):
    """Prints each `warp.specialized` loop as a CUDA C++ kernel skeleton."""

    name = "cuda-skeleton"

    def emit(self, ctx: Context, module: ModuleOp, output: IO[str]) -> None:
        specs = [op for op in module.walk() if isinstance(op, SpecializedOp)]
        if not specs:
            raise CompileError("cuda-skeleton: no warp.specialized op; run "
                               "twill-schedule and twill-materialize-roles first")
        for spec in specs:
            output.write(emit(spec))
