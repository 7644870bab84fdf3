"""
Drop-in replacements for the torch ops Treadle compiles, each correct for *any* inputs.

Why wrappers instead of static rewriting: layouts, dtypes and densities are only known at call
time. Each wrapper checks its arguments; when they are a case Treadle compiles (a CSR/COO/BSR
operand, f32/f64, 2-D, inference) it runs the compiled kernel, otherwise it calls the original
torch op — so an unsupported case costs a check, never a wrong answer.
"""

from __future__ import annotations

import operator
import warnings
import weakref
from typing import Any

import numpy as np
import torch

from treadle.dialects.sparse import named_encoding
from treadle.tensors import LevelStorage, Tensor

_SPARSE = (torch.sparse_csr, torch.sparse_coo, torch.sparse_bsr, torch.sparse_csc)
_FLOATS = (torch.float32, torch.float64)
STATS = {"compiled": 0, "fallback": 0, "dense": 0}


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().numpy()


def to_treadle(t: torch.Tensor) -> Tensor | None:
    """A zero-copy treadle view of a torch sparse matrix (CSR/BSR as is; COO/CSC via CSR)."""
    if t.layout == torch.sparse_coo:
        t = t.coalesce().to_sparse_csr()
    elif t.layout == torch.sparse_csc:
        t = t.to_sparse_csr()
    if t.layout == torch.sparse_csr:
        pos, crd = t.crow_indices(), t.col_indices()
        enc = named_encoding("csr", 2)
        return Tensor(tuple(t.shape), enc, [LevelStorage(None, None), LevelStorage(_np(pos.long()), _np(crd.long()))], _np(t.values()))
    if t.layout == torch.sparse_bsr:
        r, c = t.values().shape[1:]
        enc = named_encoding(f"bsr:{r}x{c}", 2)
        pos, crd = _np(t.crow_indices().long()), _np(t.col_indices().long())
        none = LevelStorage(None, None)
        return Tensor(tuple(t.shape), enc, [none, LevelStorage(pos, crd), none, none], _np(t.values()).reshape(-1))
    return None


_CACHE: dict[int, tuple[weakref.ref, int, Tensor]] = {}


def _cached(t: torch.Tensor) -> Tensor | None:
    """Treadle views of sparse tensors that are used again (parameters, buffers), keyed by
    identity and version; an entry goes when its tensor is garbage-collected."""
    key = id(t)
    hit = _CACHE.get(key)
    version = getattr(t, "_version", 0)
    if hit is not None and hit[0]() is t and hit[1] == version:
        return hit[2]
    view = to_treadle(t)
    if view is not None:
        _CACHE[key] = (weakref.ref(t, lambda _, key=key: _CACHE.pop(key, None)), version, view)
    return view


def _compilable(a: torch.Tensor, b: torch.Tensor) -> bool:
    return (
        a.layout in _SPARSE and b.layout == torch.strided and a.dim() == 2 and b.dim() in (1, 2)
        and a.dtype in _FLOATS and b.dtype == a.dtype and not (torch.is_grad_enabled() and (a.requires_grad or b.requires_grad))
        and a.shape[1] == b.shape[0]
    )


def sparse_mm(a: Any, b: Any, original=None, relu: bool = False, addend: Any = None) -> Any:
    """`a @ b` with `a` sparse and `b` dense (with `addend`: addend + a @ b; with `relu`: relu
    of that): one compiled SpMM, the addend and the relu fused into it (or dense BLAS when the
    dispatcher says so)."""
    if (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and _compilable(a, b) and (b.dim() == 2 or not relu)
            and (addend is None or _dense_like(addend, (a.shape[0], b.shape[1]) if b.dim() == 2 else None, a.dtype))):
        from treadle.runtime.dispatch import choose_spmm

        view = _cached(a)
        if view is not None:
            from treadle.runtime.kernels import spmm, spmv

            def compiled():
                if b.dim() == 1:
                    return torch.from_numpy(spmv(view, _np(b.contiguous())))
                d = None if addend is None else _np(addend.expand(a.shape[0], b.shape[1]))
                return torch.from_numpy(spmm(view, _np(b.contiguous()), relu=relu, addend=d))

            def dense():
                return _epilogue(a.to_dense() @ b, addend, relu)

            if choose_spmm(view, b.shape[1] if b.dim() == 2 else 1, run_sparse=compiled, run_dense=dense).use_dense:
                STATS["dense"] += 1
                return dense()
            STATS["compiled"] += 1
            return compiled()
    STATS["fallback"] += 1
    return _epilogue((original or torch.mm)(a, b), addend, relu)


def _dense_like(t: Any, shape: tuple[int, int] | None, dtype: torch.dtype) -> bool:
    """A dense tensor of `dtype` that broadcasts to the 2-D `shape` (not to be recorded for autograd)."""
    return (
        shape is not None and isinstance(t, torch.Tensor) and t.layout == torch.strided and t.dtype == dtype
        and t.dim() <= 2 and all(d in (1, want) for d, want in zip(reversed(t.shape), reversed(shape)))
        and not (torch.is_grad_enabled() and t.requires_grad)
    )


def _epilogue(out: Any, addend: Any, relu: bool) -> Any:
    out = out if addend is None else addend + out
    return torch.relu(out) if relu else out


_PRODUCTS = {"mm": torch.mm, "sparse.mm": torch.sparse.mm, "matmul": torch.matmul}


def sparse_mm_relu(a: Any, b: Any, product: str) -> Any:
    """relu(a @ b) where the graph spelled the product `product` ("mm", "sparse.mm", "matmul")."""
    return sparse_mm(a, b, _PRODUCTS[product], relu=True)


def matmul(a: Any, b: Any) -> Any:
    return sparse_mm(a, b, operator.matmul)


def mm(a: Any, b: Any) -> Any:
    return sparse_mm(a, b, torch.mm)


def mv(a: Any, b: Any) -> Any:
    return sparse_mm(a, b, torch.mv)


def sparse_mm_op(a: Any, b: Any) -> Any:
    return sparse_mm(a, b, torch.sparse.mm)


def addmm(input: Any, a: Any, b: Any, *, beta: float = 1.0, alpha: float = 1.0) -> Any:
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and _compilable(a, b):
        if beta == 1 and alpha == 1 and b.dim() == 2 and _dense_like(input, (a.shape[0], b.shape[1]), a.dtype):
            return sparse_mm(a, b, addend=input)  # input + a @ b in the SpMM's rows
        return beta * input + alpha * sparse_mm(a, b)
    STATS["fallback"] += 1
    return torch.sparse.addmm(input, a, b, beta=beta, alpha=alpha) if a.layout in _SPARSE else torch.addmm(input, a, b, beta=beta, alpha=alpha)


_ONES: dict[int, Tensor] = {}
"""Per cached CSR view, the same pattern with all values 1 (SDDMM's mask operand)."""


def sampled_addmm(input: Any, mat1: Any, mat2: Any, *, beta: float = 1.0, alpha: float = 1.0) -> Any:
    """beta * input + alpha * (mat1 @ mat2) at input's CSR pattern: compiled SDDMM, or BLAS
    and a compiled gather at the pattern when the dispatcher predicts that cheaper."""
    ok = (
        isinstance(input, torch.Tensor) and input.layout == torch.sparse_csr and input.dtype in _FLOATS
        and mat1.layout == torch.strided and mat2.layout == torch.strided and mat1.dim() == 2
        and not torch.is_grad_enabled()
    )
    if ok:
        from treadle.runtime.dispatch import choose_sddmm
        from treadle.runtime.kernels import sddmm, take_at_pattern

        view = _cached(input)
        pattern = _ONES.get(id(view))
        if pattern is None or pattern.values.shape != view.values.shape:
            pattern = Tensor(view.shape, view.encoding, view.levels, np.ones_like(view.values))
            _ONES[id(view)] = pattern
            weakref.finalize(view, _ONES.pop, id(view), None)

        def dense():  # BLAS for D @ E, its values at the pattern
            out = take_at_pattern(pattern, _np(torch.mm(mat1, mat2)))
            return out.values if alpha == 1 else out.values * np.asarray(alpha, dtype=out.values.dtype)

        def compiled():  # Eᵀ of mat2: a free view when mat2 is itself a transpose (k.t() in attention)
            et = _np(mat2.t().contiguous())
            return sddmm(pattern, _np(mat1.contiguous()), et.T, view.encoding, scale=float(alpha)).values

        use_dense = choose_sddmm(view, mat1.shape[1], run_sparse=compiled, run_dense=dense).use_dense
        STATS["dense" if use_dense else "compiled"] += 1
        scaled = dense() if use_dense else compiled()
        vals = scaled if beta == 0 else beta * _np(input.values()) + scaled
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.sparse_csr_tensor(input.crow_indices(), input.col_indices(), torch.from_numpy(np.ascontiguousarray(vals, dtype=_np(input.values()).dtype)), tuple(input.shape))
    STATS["fallback"] += 1
    return torch.sparse.sampled_addmm(input, mat1, mat2, beta=beta, alpha=alpha)


def linear(x: Any, weight: Any, bias: Any = None) -> Any:
    """F.linear with a pruned (mostly zero) dense weight or a sparse weight: X @ Wᵀ compiled."""
    if (
        isinstance(weight, torch.Tensor) and isinstance(x, torch.Tensor) and x.dim() == 2
        and weight.dtype in _FLOATS and x.dtype == weight.dtype
        and not (torch.is_grad_enabled() and (x.requires_grad or weight.requires_grad))
    ):
        from treadle.runtime.dispatch import pruned_view

        view = pruned_view(weight, x.shape[0])
        if view is not None:
            from treadle.runtime.kernels import linear_t

            STATS["compiled"] += 1
            y = torch.from_numpy(linear_t(_np(x.contiguous()), view))
            return y + bias if bias is not None else y
        STATS["dense"] += 1  # the dispatcher chose BLAS
        return torch.nn.functional.linear(x, weight, bias)
    STATS["fallback"] += 1
    return torch.nn.functional.linear(x, weight, bias)


def linear_pair(x: Any, w1: Any, b1: Any, s: Any, c: Any, w2: Any, b2: Any, product: str, relu: bool) -> Any:
    """`linear(x, w1, b1) + linear(s @ c, w2, b2)` (with `relu`: relu of it), a GraphSAGE
    layer's self and neighbour terms, `product` being how the graph spelled `s @ c`. With `s`
    sparse this is s @ (c w2ᵀ) + (x w1ᵀ + b1 + b2): the neighbour product reassociated where
    that adds no work (w2 has no more rows than columns), then one `sparse_mm` whose rows
    start at the self term and end with the relu (compiled, or dense when the dispatcher says
    so), so neither the sum nor the relu is a pass of its own. Anything else runs the layer as
    written, through the other wrappers."""
    from treadle.runtime.dispatch import pruned_view

    weights = (w1, w2) + tuple(t for t in (b1, b2) if t is not None)
    if (
        isinstance(s, torch.Tensor) and isinstance(c, torch.Tensor) and isinstance(x, torch.Tensor)
        and _compilable(s, c) and c.dim() == 2 and x.dim() == 2 and x.shape[0] == s.shape[0]
        and all(isinstance(t, torch.Tensor) and t.layout == torch.strided and t.dtype == s.dtype for t in (x, *weights))
        and w1.dim() == w2.dim() == 2 and w2.shape[0] <= w2.shape[1] and w1.shape[0] == w2.shape[0]
        and not (torch.is_grad_enabled() and any(t.requires_grad for t in (x, c, *weights)))
        and pruned_view(w1, x.shape[0]) is None and pruned_view(w2, c.shape[0]) is None
    ):
        bias = b1 if b2 is None else (b2 if b1 is None else b1 + b2)
        self_term = x @ w1.t() if bias is None else torch.addmm(bias, x, w1.t())
        return sparse_mm(s, c @ w2.t(), _PRODUCTS[product], relu=relu, addend=self_term)
    return _epilogue(linear(sparse_mm(s, c, _PRODUCTS[product]), w2, b2), linear(x, w1, b1), relu)


def _batched_view(t: torch.Tensor) -> Tensor:
    """A 3-D sparse COO (or batched CSR) tensor as one CSR matrix per batch."""
    from treadle.dialects.sparse import EncodingAttr, LevelAttr
    from treadle.tensors import from_coordinates

    if t.layout == torch.sparse_csr:
        t = t.to_sparse_coo()
    t = t.coalesce()
    enc = EncodingAttr(("i", "j", "k"), [LevelAttr(0, "dense"), LevelAttr(1, "dense"), LevelAttr(2, "compressed")])
    return from_coordinates(tuple(t.shape), _np(t.indices()), _np(t.values()), enc)


def bmm(a: Any, b: Any) -> Any:
    """Batched `a @ b` with `a` sparse (3-D COO, or batched CSR, which torch.bmm rejects) and
    `b` dense: one compiled kernel over all batches."""
    if (
        isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)
        and a.layout in (torch.sparse_coo, torch.sparse_csr) and b.layout == torch.strided
        and a.dim() == 3 and b.dim() == 3 and a.dtype in _FLOATS and b.dtype == a.dtype
        and a.shape[0] == b.shape[0] and a.shape[2] == b.shape[1]
        and not (torch.is_grad_enabled() and (a.requires_grad or b.requires_grad))
    ):
        from treadle.runtime.kernels import bmm as compiled_bmm

        STATS["compiled"] += 1
        return torch.from_numpy(compiled_bmm(_batched_view(a), _np(b.contiguous())))
    STATS["fallback"] += 1
    return torch.bmm(a, b)


# -- elementwise ops on CSR matrices ----------------------------------------------------------


def _csr(t: Any) -> bool:
    return (
        isinstance(t, torch.Tensor) and t.layout == torch.sparse_csr and t.dim() == 2
        and t.dtype in _FLOATS and not (torch.is_grad_enabled() and t.requires_grad)
    )


def _to_torch_csr(t: Tensor) -> torch.Tensor:
    level = t.levels[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.sparse_csr_tensor(
            torch.from_numpy(level.pos), torch.from_numpy(level.crd), torch.from_numpy(t.values), t.shape
        )


def _elementwise(kernel: str, original: Any):
    """`a op b` compiled when both are CSR matrices of one shape and dtype (or, for `mul`, one
    is CSR and the other a Python number); anything else goes to `original`."""

    def op(a: Any, b: Any, *args: Any, **kwargs: Any) -> Any:
        from treadle.runtime.kernels import elementwise

        if not args and not kwargs:
            if _csr(a) and _csr(b) and a.shape == b.shape and a.dtype == b.dtype:
                STATS["compiled"] += 1
                return _to_torch_csr(elementwise(kernel, _cached(a), _cached(b)))
            sparse, number = (a, b) if _csr(a) else (b, a)
            if kernel == "mul" and _csr(sparse) and type(number) in (int, float):
                STATS["compiled"] += 1
                return _to_torch_csr(elementwise("scale", _cached(sparse), scalar=float(number)))
        STATS["fallback"] += 1
        return original(a, b, *args, **kwargs)

    op.__name__ = kernel
    return op


add = _elementwise("add", torch.add)
sub = _elementwise("sub", torch.sub)
mul = _elementwise("mul", torch.mul)
add_op = _elementwise("add", operator.add)
sub_op = _elementwise("sub", operator.sub)
mul_op = _elementwise("mul", operator.mul)


def relu(a: Any, *args: Any, **kwargs: Any) -> Any:
    if _csr(a) and not args and not kwargs.get("inplace", False):
        from treadle.runtime.kernels import elementwise

        STATS["compiled"] += 1
        return _to_torch_csr(elementwise("relu", _cached(a)))
    STATS["fallback"] += 1
    return torch.nn.functional.relu(a, *args, **kwargs)



# -- softmax over stored entries ------------------------------------------------------------


def _softmax_ok(t: Any, dim: Any, dtype: Any) -> bool:
    return (
        isinstance(t, torch.Tensor) and t.layout in (torch.sparse_csr, torch.sparse_coo) and t.dim() == 2
        and t.dtype in _FLOATS and dtype is None and isinstance(dim, int) and -2 <= dim < 2
        and not (torch.is_grad_enabled() and t.requires_grad)
    )


def _compiled_softmax(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Softmax of a CSR matrix (or of a COO one, through CSR) as a CSR tensor, over the stored
    entries as torch normalizes (`sparse.softmax ... stored`: an explicit zero, which an SDDMM
    leaves where a dot product cancels exactly, takes part like any value)."""
    from treadle.runtime.kernels import softmax

    STATS["compiled"] += 1
    view = _cached(t) if t.layout == torch.sparse_csr else to_treadle(t)
    return _to_torch_csr(softmax(view, dim % 2, stored=True))


def sparse_softmax(t: Any, dim: Any, dtype: Any = None) -> Any:
    """`torch.sparse.softmax` of a 2-D sparse matrix, compiled; a COO input gets a COO result
    (and CSR, which torch refuses, a CSR one)."""
    if _softmax_ok(t, dim, dtype):
        out = _compiled_softmax(t, dim)
        return out.to_sparse_coo() if t.layout == torch.sparse_coo else out
    STATS["fallback"] += 1
    return torch.sparse.softmax(t, dim, dtype=dtype)


def csr_softmax(t: Any, dim: Any) -> Any:
    """`torch.sparse.softmax(t.to_sparse_coo(), dim).to_sparse_csr()` (the layout round trip
    torch needs for a CSR matrix) in one compiled kernel, with no conversions."""
    if _softmax_ok(t, dim, None) and t.layout == torch.sparse_csr:
        return _compiled_softmax(t, dim)
    STATS["fallback"] += 1
    return torch.sparse.softmax(t.to_sparse_coo(), dim).to_sparse_csr()
