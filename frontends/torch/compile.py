"""
`treadle.compile(model)` and the `"treadle"` backend of `torch.compile`.

Why two routes: TorchDynamo (torch 2.13) captures no graph for code that touches sparse
tensors — it runs such frames eagerly — so a dynamo backend alone never sees a sparse SpMM.
`treadle.compile` therefore traces the model with `torch.fx` (layouts do not matter to symbolic
tracing), replaces every supported call by a wrapper from `ops.py` (products, linear layers, and
the elementwise ops that may read a sparse value), and hands the result to
`torch.compile(..., backend="treadle")`; the backend applies the same replacement to whatever
dynamo does capture (dense graphs with pruned `linear` weights, for instance). Every wrapper
falls back to the original op for cases it does not compile.
"""

from __future__ import annotations

import operator
from typing import Any

import torch
import torch.fx

from treadle.frontends.torch import ops

def _opaque(fn):
    """Dynamo must not trace into a wrapper (numpy, ctypes): it calls it as a graph break."""
    wrapped = torch.compiler.disable(fn, recursive=True)
    wrapped.__name__ = fn.__name__
    return wrapped


_FUNCTIONS = {
    torch.mm: ops.mm,
    torch.mv: ops.mv,
    torch.matmul: ops.matmul,
    operator.matmul: ops.matmul,
    torch.sparse.mm: ops.sparse_mm_op,
    torch.sparse.addmm: ops.addmm,
    torch.addmm: ops.addmm,
    torch.sparse.sampled_addmm: ops.sampled_addmm,
    torch.nn.functional.linear: ops.linear,
    torch.bmm: ops.bmm,
    torch.sparse.softmax: ops.sparse_softmax,
}
_METHODS = {"mm": ops.mm, "mv": ops.mv, "matmul": ops.matmul, "__matmul__": ops.matmul, "bmm": ops.bmm}
_ELEMENTWISE = {
    operator.add: ops.add_op,
    operator.sub: ops.sub_op,
    operator.mul: ops.mul_op,
    torch.add: ops.add,
    torch.sub: ops.sub,
    torch.mul: ops.mul,
    torch.relu: ops.relu,
    torch.nn.functional.relu: ops.relu,
}
_ELEMENTWISE_METHODS = {"add": ops.add, "sub": ops.sub, "mul": ops.mul, "relu": ops.relu}
_FUNCTIONS = {k: _opaque(v) for k, v in _FUNCTIONS.items()}
_METHODS = {k: _opaque(v) for k, v in _METHODS.items()}
_ELEMENTWISE = {k: _opaque(v) for k, v in _ELEMENTWISE.items()}
_ELEMENTWISE_METHODS = {k: _opaque(v) for k, v in _ELEMENTWISE_METHODS.items()}
_LINEAR = _opaque(ops.linear)
_CSR_SOFTMAX = _opaque(ops.csr_softmax)


_SPMM_RELU = _opaque(ops.sparse_mm_relu)
_RELUS = {torch.relu, torch.nn.functional.relu, "relu"}
_MATRIX_PRODUCTS = {torch.mm: "mm", torch.sparse.mm: "sparse.mm", torch.matmul: "matmul",
                    operator.matmul: "matmul", "mm": "mm", "matmul": "matmul", "__matmul__": "matmul"}


def fuse_relu_of_products(gm: torch.fx.GraphModule) -> int:
    """`relu(a @ b)` (any matrix-product spelling, the product used only by the relu) becomes
    one `sparse_mm_relu(a, b, product)`: for a sparse `a` one compiled kernel applies the relu to
    each output row as it is finished (a GCN layer's aggregation); otherwise it calls the
    product and torch.relu. Returns how many were fused."""
    fused = 0
    for node in list(gm.graph.nodes):
        if node.op not in ("call_function", "call_method") or node.target not in _RELUS:
            continue
        if len(node.args) != 1 or node.kwargs.get("inplace", False) or set(node.kwargs) - {"inplace"}:
            continue
        src = node.args[0]
        if not (isinstance(src, torch.fx.Node) and src.op in ("call_function", "call_method")
                and src.target in _MATRIX_PRODUCTS and len(src.args) == 2 and not src.kwargs
                and len(src.users) == 1):
            continue
        with gm.graph.inserting_before(node):
            new = gm.graph.call_function(_SPMM_RELU, (*src.args, _MATRIX_PRODUCTS[src.target]))
        node.replace_all_uses_with(new)
        gm.graph.erase_node(node)
        gm.graph.erase_node(src)
        fused += 1
    return fused


_LINEAR_PAIR = _opaque(ops.linear_pair)
_ADDS = {operator.add, torch.add}


def _linear_module_params(gm: torch.fx.GraphModule, node: torch.fx.Node) -> tuple[str, str | None] | None:
    """The names of the weight and bias (None without one) of an `nn.Linear` module call."""
    if node.op != "call_module" or type(sub := gm.get_submodule(node.target)) is not torch.nn.Linear:
        return None
    return f"{node.target}.weight", f"{node.target}.bias" if sub.bias is not None else None


def _linear_parts(gm: torch.fx.GraphModule, node: Any) -> tuple[Any, Any, Any] | None:
    """(input, weight, bias) of a linear layer node (`nn.Linear` or `F.linear`, positional
    arguments) used once; weight and bias are nodes, or for a module the names of its
    parameters (str), the bias possibly None. Else None."""
    if not isinstance(node, torch.fx.Node) or len(node.users) != 1 or node.kwargs:
        return None
    params = _linear_module_params(gm, node)
    if params is not None and len(node.args) == 1:
        return node.args[0], *params
    if node.op == "call_function" and node.target is torch.nn.functional.linear and len(node.args) in (2, 3):
        return node.args[0], node.args[1], node.args[2] if len(node.args) == 3 else None
    return None


def fuse_linear_pairs(gm: torch.fx.GraphModule) -> int:
    """`linear(x) + linear(s @ c)` (either order; each value used once), optionally under a
    relu, becomes one `linear_pair(x, w1, b1, s, c, w2, b2, product, relu)`: a GraphSAGE
    layer's self and neighbour terms, which for a sparse `s` run as one compiled SpMM with the
    sum and the relu in its rows (`ops.linear_pair`). Returns how many were fused."""
    fused = 0
    for node in list(gm.graph.nodes):
        if node.op != "call_function" or node.target not in _ADDS or len(node.args) != 2 or node.kwargs:
            continue
        for self_node, neigh_node in (node.args, node.args[::-1]):
            own, neigh = _linear_parts(gm, self_node), _linear_parts(gm, neigh_node)
            src = neigh[0] if neigh else None
            if not (own and self_node is not neigh_node and isinstance(src, torch.fx.Node)
                    and src.op in ("call_function", "call_method") and src.target in _MATRIX_PRODUCTS
                    and len(src.args) == 2 and not src.kwargs and len(src.users) == 1):
                continue
            users = list(node.users)
            relu = (len(users) == 1 and users[0].op in ("call_function", "call_method") and users[0].target in _RELUS
                    and len(users[0].args) == 1 and not users[0].kwargs)
            last = users[0] if relu else node
            with gm.graph.inserting_before(last):
                x, w1, b1 = (gm.graph.get_attr(p) if isinstance(p, str) else p for p in own)
                w2, b2 = (gm.graph.get_attr(p) if isinstance(p, str) else p for p in neigh[1:])
                new = gm.graph.call_function(_LINEAR_PAIR, (x, w1, b1, *src.args, w2, b2, _MATRIX_PRODUCTS[src.target], relu))
            last.replace_all_uses_with(new)
            for dead in ((last, node) if relu else (node,)) + (self_node, neigh_node, src):
                gm.graph.erase_node(dead)
            fused += 1
            break
    return fused


def fuse_layout_round_trips(gm: torch.fx.GraphModule) -> int:
    """`x.to_sparse_coo()` → `torch.sparse.softmax(·, d)` → `.to_sparse_csr()`, each value used
    once, becomes one `csr_softmax(x, d)`: torch has no CSR softmax, so models convert to COO
    and back, which costs more than the softmax itself. Returns how many chains were fused."""
    fused = 0
    for node in list(gm.graph.nodes):
        if node.op != "call_function" or node.target is not torch.sparse.softmax:
            continue
        call = dict(zip(("input", "dim", "dtype"), node.args)) | dict(node.kwargs)
        if set(call) != {"input", "dim"}:
            continue
        src, users = call["input"], list(node.users)
        if not (isinstance(src, torch.fx.Node) and src.op == "call_method" and src.target in ("to_sparse_coo", "to_sparse")
                and len(src.args) == 1 and not src.kwargs and len(src.users) == 1):
            continue
        if not (len(users) == 1 and users[0].op == "call_method" and users[0].target == "to_sparse_csr"
                and len(users[0].args) == 1 and not users[0].kwargs):
            continue
        out = users[0]
        with gm.graph.inserting_before(out):
            new = gm.graph.call_function(_CSR_SOFTMAX, (src.args[0], call["dim"]))
        out.replace_all_uses_with(new)
        for dead in (out, node, src):
            gm.graph.erase_node(dead)
        fused += 1
    return fused
_PRODUCTS = {torch.mm, torch.mv, torch.matmul, operator.matmul, torch.sparse.mm, torch.bmm, "mm", "mv", "matmul", "__matmul__", "bmm"}
_DENSE_RESULTS = {torch.nn.functional.linear, torch.addmm, torch.sparse.addmm, "to_dense", _LINEAR_PAIR}


def maybe_sparse(gm: torch.fx.GraphModule) -> set[torch.fx.Node]:
    """Nodes whose value may be a sparse tensor: inputs (unknown until called), sparse
    parameters and buffers, products of two such values, and whatever else reads one (except
    ops whose result is always dense: linear layers, addmm, to_dense). Elementwise ops are
    replaced only where an operand may be sparse, so dense code keeps its plain torch calls."""
    out: set[torch.fx.Node] = set()
    for node in gm.graph.nodes:
        inputs = [a for a in node.all_input_nodes if a in out]
        if node.op == "placeholder":
            out.add(node)
        elif node.op == "get_attr":
            value = gm
            for part in str(node.target).split("."):
                value = getattr(value, part)
            if isinstance(value, torch.Tensor) and value.layout != torch.strided:
                out.add(node)
        elif node.op == "call_module" or node.target in _DENSE_RESULTS:
            continue
        elif node.target in _PRODUCTS:
            if all(isinstance(a, torch.fx.Node) and a in out for a in node.args[:2]):
                out.add(node)
        elif inputs:
            out.add(node)
    return out


def rewrite(gm: torch.fx.GraphModule) -> int:
    """Replace supported calls in place; returns how many were replaced."""
    count = fuse_layout_round_trips(gm) + fuse_relu_of_products(gm) + fuse_linear_pairs(gm)
    sparse = maybe_sparse(gm)
    for node in gm.graph.nodes:
        reads_sparse = any(a in sparse for a in node.all_input_nodes)
        if node.op == "call_function" and node.target in _ELEMENTWISE and reads_sparse:
            node.target = _ELEMENTWISE[node.target]
            count += 1
        elif node.op == "call_method" and node.target in _ELEMENTWISE_METHODS and reads_sparse:
            node.op, node.target = "call_function", _ELEMENTWISE_METHODS[node.target]
            count += 1
        elif node.op == "call_function" and node.target in _FUNCTIONS:
            node.target = _FUNCTIONS[node.target]
            count += 1
        elif node.op == "call_method" and node.target in _METHODS:
            node.op, node.target = "call_function", _METHODS[node.target]
            count += 1
        elif node.op == "call_module":
            params = _linear_module_params(gm, node)
            if params is not None:
                weight, bias = params
                with gm.graph.inserting_before(node):
                    w = gm.graph.get_attr(weight)
                    b = gm.graph.get_attr(bias) if bias else None
                    node.op, node.target = "call_function", _LINEAR
                    node.args = (node.args[0], w, b)
                count += 1
    gm.graph.lint()
    gm.recompile()
    return count


def treadle_backend(gm: torch.fx.GraphModule, example_inputs: list[Any]):
    """The `torch.compile` backend: replace supported ops, run the rest as PyTorch does."""
    rewrite(gm)
    return gm.forward


_REGISTERED = False


def register_backend() -> None:
    """Make `torch.compile(model, backend="treadle")` available."""
    global _REGISTERED
    if _REGISTERED:
        return
    from torch._dynamo import register_backend as _register

    _register(name="treadle")(treadle_backend)
    _REGISTERED = True


def compile(model: torch.nn.Module, *, dynamo: bool = True) -> Any:
    """Trace `model` with torch.fx, replace its sparse ops by compiled Treadle kernels, and
    (with `dynamo=True`) wrap it in `torch.compile(..., backend="treadle")`."""
    register_backend()
    gm = torch.fx.symbolic_trace(model)
    rewrite(gm)
    if not dynamo:
        return gm
    return torch.compile(gm, backend="treadle")
