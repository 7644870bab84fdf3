"""C backend: loop IR (func/scf/arith/math/memref) → C99 → gcc → ctypes.

`emit_c` prints C (`treadle-opt -t c`), `compile_module` builds and loads it; the calling
convention is documented in `abi.py`, OpenMP requests in `omp.py`. Submodules load on first use
so that printing C never imports numpy.
"""

import importlib
from typing import Any

_EXPORTS = {
    "emit_c": "treadle.backends.c.emitter",
    "CSource": "treadle.backends.c.source",
    "CTarget": "treadle.backends.c.target",
    "compile_module": "treadle.backends.c.kernel",
    "compile_source": "treadle.backends.c.kernel",
    "CLibrary": "treadle.backends.c.kernel",
    "Kernel": "treadle.backends.c.kernel",
    "KernelArgumentError": "treadle.backends.c.kernel",
    "cache_dir": "treadle.backends.c.compile",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
