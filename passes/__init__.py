"""Treadle's passes, one module per pass (registered in `treadle.tools.registry`).

The package is also the public `treadle.passes()`: importing any pass makes `treadle.passes`
this package, so the package itself answers the call (name → description and options).
"""

import sys
from types import ModuleType
from typing import Any


class _PassesPackage(ModuleType):
    def __call__(self) -> dict[str, dict[str, Any]]:
        from treadle.pipeline import passes

        return passes()


sys.modules[__name__].__class__ = _PassesPackage
