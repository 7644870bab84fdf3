"""Shared helpers for backend tests: parsing loop IR and building random CSR inputs."""

import numpy as np
import scipy.sparse as sp
from xdsl.context import Context
from xdsl.dialects import get_all_dialects
from xdsl.dialects.builtin import ModuleOp
from xdsl.parser import Parser


def parse(text: str) -> ModuleOp:
    ctx = Context()
    for name, factory in get_all_dialects().items():
        ctx.register_dialect(name, factory)
    return Parser(ctx, text).parse_module()


def random_csr(rng: np.random.Generator, m: int, n: int, density: float, dtype, index_dtype) -> sp.csr_matrix:
    """A random CSR matrix with sorted indices (empty rows and zero nonzeros happen)."""
    a = sp.random(m, n, density=density, format="csr", random_state=rng, dtype=np.float64)
    a.data = rng.uniform(-1, 1, a.nnz)
    a = a.astype(dtype)
    a.sort_indices()
    a.indptr = a.indptr.astype(index_dtype)
    a.indices = a.indices.astype(index_dtype)
    return a
