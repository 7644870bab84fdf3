"""Every dialect, pass and target Treadle registers, as lazy factories.

`treadle-opt` and the Python API both read these tables, so a new pass is added in one place.
Factories import their module only when called: the driver must start fast (no torch, no z3 on
its path until a pass that needs them runs).
"""

from collections.abc import Callable
from typing import Any


def _sparse_dialect():
    from treadle.dialects.sparse import Sparse

    return Sparse


def _cpu_dialect():
    from treadle.dialects.cpu import Cpu

    return Cpu


def _warp_dialect():
    from treadle.dialects.warp import Warp

    return Warp


# name -> () -> xdsl Dialect
DIALECTS: dict[str, Callable[[], Any]] = {
    "sparse": _sparse_dialect,
    "cpu": _cpu_dialect,
    "warp": _warp_dialect,
}


def _sparse_explicit_reductions():
    from treadle.passes.sparse.explicit_reductions import SparseExplicitReductionsPass

    return SparseExplicitReductionsPass


def _sparse_pass(module: str, cls: str):
    def factory():
        import importlib

        return getattr(importlib.import_module(f"treadle.passes.sparse.{module}"), cls)

    return factory


def _twill_schedule():
    from treadle.passes.twill.schedule_pass import TwillSchedulePass

    return TwillSchedulePass


def _twill_materialize_roles():
    from treadle.passes.twill.materialize import TwillMaterializeRolesPass

    return TwillMaterializeRolesPass


# name -> () -> ModulePass subclass
PASSES: dict[str, Callable[[], Any]] = {
    "sparse-explicit-reductions": _sparse_explicit_reductions,
    "sparse-infer-formats": _sparse_pass("infer_formats", "SparseInferFormatsPass"),
    "sparse-order-loops": _sparse_pass("order_loops", "SparseOrderLoopsPass"),
    "sparse-tile": _sparse_pass("tile", "SparseTilePass"),
    "sparse-parallelize": _sparse_pass("parallelize", "SparseParallelizePass"),
    "sparse-unroll": _sparse_pass("unroll", "SparseUnrollPass"),
    "sparse-to-loops": _sparse_pass("to_loops", "SparseToLoopsPass"),
    "twill-schedule": _twill_schedule,
    "twill-materialize-roles": _twill_materialize_roles,
}


def _c_target():
    from treadle.backends.c.target import CTarget

    return CTarget


def _cuda_skeleton_target():
    from treadle.backends.cuda.target import CudaSkeletonTarget

    return CudaSkeletonTarget


# name -> () -> Target subclass
TARGETS: dict[str, Callable[[], Any]] = {
    "c": _c_target,
    "cuda-skeleton": _cuda_skeleton_target,
}
