"""Scorch runtime: compile sparse statements to C kernels, call them on `treadle.Tensor`s, and
dispatch between the compiled sparse kernel and a dense BLAS kernel (`execute`, `explain`)."""

from treadle.runtime.execute import CompiledStatement, compile_statement, execute, explain

__all__ = ["CompiledStatement", "compile_statement", "execute", "explain"]
