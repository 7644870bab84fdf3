"""PyTorch integration: `treadle.compile(model)` and `torch.compile(model, backend="treadle")`.

Import cost: this package imports torch, so nothing on `treadle-opt`'s path imports it.
"""

from treadle.frontends.torch.compile import compile, register_backend, treadle_backend

__all__ = ["compile", "register_backend", "treadle_backend"]
