"""End-to-end models through torch.compile(backend="treadle") / treadle.compile vs eager."""

import operator
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from treadle.benchmarks.models import GCN, SAGE, BlockSparseAttention, PrunedMLP, bigbird_mask  # noqa: E402
from treadle.frontends.torch import compile as treadle_compile  # noqa: E402
from treadle.frontends.torch import ops  # noqa: E402

warnings.filterwarnings("ignore", message="Sparse CSR tensor support")


def graph(n: int, avg_degree: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    rows = torch.randint(0, n, (n * avg_degree,), generator=g)
    cols = torch.randint(0, n, (n * avg_degree,), generator=g)
    a = torch.zeros(n, n)
    a[rows, cols] = 1.0
    a[torch.arange(n), torch.arange(n)] = 1.0
    a = a / a.sum(1, keepdim=True)
    return a.to_sparse_csr()


def check(model, x):
    with torch.no_grad():
        want = model(x)
        before = ops.STATS["compiled"] + ops.STATS["dense"]
        got = treadle_compile(model)(x)
        assert ops.STATS["compiled"] + ops.STATS["dense"] > before, "nothing went through treadle"
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mode", ["sparse", "dense"])
def test_gcn(mode, monkeypatch):
    from treadle.runtime import dispatch

    monkeypatch.setattr(dispatch, "MODE", mode)
    torch.manual_seed(0)
    check(GCN(graph(300, 5, 1), 16, 32, 4), torch.randn(300, 16))


@pytest.mark.parametrize("f_in,out", [(8, 16), (16, 16), (24, 8)])
@pytest.mark.parametrize("mode", ["sparse", "dense"])
def test_graphsage(f_in, out, mode, monkeypatch):
    """Both linears, the add and the relu become one `linear_pair`; where the neighbour linear
    does not widen (out <= f_in) it runs as A @ (X Wₙᵀ) in one SpMM whose rows start at the
    self term, else (and when the dispatcher picks dense) as written."""
    from treadle.runtime import dispatch, kernels

    monkeypatch.setattr(dispatch, "MODE", mode)
    monkeypatch.setattr(dispatch, "pruned_view", lambda weight, batch: None)  # the weights are dense
    dispatch.calibrate(out)  # before counting: the calibration's own probes are SpMMs too
    calls = []
    spmm = kernels.spmm
    monkeypatch.setattr(kernels, "spmm", lambda *a, **k: calls.append(k.get("addend") is not None) or spmm(*a, **k))
    torch.manual_seed(1)
    model = SAGE(graph(200, 4, 2), f_in, out)
    names = [getattr(n.target, "__name__", "") for n in treadle_compile(model, dynamo=False).graph.nodes if n.op == "call_function"]
    assert names == ["linear_pair"]
    check(model, torch.randn(200, f_in))
    if mode == "dense":
        assert calls == []
    else:
        assert calls == ([True] if out <= f_in else [False])


class _SharedProduct(torch.nn.Module):
    """relu(a(A x) + b(A x)): the product has two users, so no linear_pair; the add and the
    relu read only dense values."""

    def __init__(self, adj):
        super().__init__()
        self.adj, self.a, self.b = adj, torch.nn.Linear(4, 8), torch.nn.Linear(4, 8)

    def forward(self, x):
        h = self.adj @ x
        return torch.relu(self.a(h) + self.b(h))


def test_linear_pair_keeps_what_it_cannot_fuse():
    """A linear of a product that is used twice: left as written (and still right)."""
    torch.manual_seed(3)
    model = _SharedProduct(graph(40, 3, 4))
    names = [getattr(n.target, "__name__", "") for n in treadle_compile(model, dynamo=False).graph.nodes if n.op == "call_function"]
    assert "linear_pair" not in names and "matmul" in names
    check(model, torch.randn(40, 4))


def test_sparse_addmm_starts_rows_at_the_input(monkeypatch):
    """torch.sparse.addmm(D, A, B) (beta = alpha = 1, D of the output's shape or a row to
    broadcast) is one compiled SpMM; other betas and alphas scale around it."""
    from treadle.runtime import dispatch

    monkeypatch.setattr(dispatch, "MODE", "sparse")
    torch.manual_seed(4)
    a, b = graph(50, 3, 5), torch.randn(50, 7)
    for d, kw in [(torch.randn(50, 7), {}), (torch.randn(7), {}), (torch.randn(50, 7), {"beta": 0.5, "alpha": 2.0})]:
        with torch.no_grad():
            before = ops.STATS["compiled"]
            got = ops.addmm(d, a, b, **kw)
            assert ops.STATS["compiled"] == before + 1
        torch.testing.assert_close(got, torch.sparse.addmm(d, a, b, **kw), rtol=1e-5, atol=1e-5)


def test_block_sparse_attention():
    torch.manual_seed(2)
    check(BlockSparseAttention(bigbird_mask(8, 8, 3), 16), torch.randn(64, 16))


@pytest.mark.parametrize("mode", ["auto", "sparse", "dense"])
def test_pruned_mlp(mode, monkeypatch):
    from treadle.runtime import dispatch

    monkeypatch.setattr(dispatch, "MODE", mode)
    before = ops.STATS["compiled"]
    check(PrunedMLP(256, 512, 10, 0.9, 4), torch.randn(64, 256))
    if mode == "sparse":
        assert ops.STATS["compiled"] >= before + 2


def test_unsupported_falls_back():
    a = graph(20, 3, 5)
    x = torch.randn(20, 3, dtype=torch.float64)  # dtype mismatch → PyTorch
    before = ops.STATS["fallback"]
    with pytest.raises(RuntimeError):
        torch.sparse.mm(a, x)  # eager refuses too
    assert ops.sparse_mm(torch.eye(3), torch.eye(3)).equal(torch.eye(3))
    assert ops.STATS["fallback"] > before


def test_backend_registered():
    from treadle.frontends.torch import register_backend

    register_backend()
    assert "treadle" in torch._dynamo.list_backends(exclude_tags=())


class SparseChain(torch.nn.Module):
    """Elementwise ops on sparse CSR inputs chained into products (every op compiled)."""

    def forward(self, a, b, x):
        c = torch.relu(a - b) * 0.5 + a * b
        return torch.sparse.mm(c, x) + torch.sparse.mm(a + b, x)


class BatchedSpMM(torch.nn.Module):
    def __init__(self, adj):
        super().__init__()
        self.adj = adj

    def forward(self, x):
        return torch.relu(torch.bmm(self.adj, x))


def test_elementwise_chain_compiles_every_op(monkeypatch):
    from treadle.runtime import dispatch

    monkeypatch.setattr(dispatch, "MODE", "sparse")  # the SpMMs too, whatever the calibration
    torch.manual_seed(3)
    a, b = graph(40, 4, 6), graph(40, 3, 7)
    model, x = SparseChain(), torch.randn(40, 5)
    gm = treadle_compile(model, dynamo=False)
    replaced = [n.target.__name__ for n in gm.graph.nodes if n.op == "call_function"]
    assert replaced.count("add") == 3 and replaced.count("mul") == 2  # x may be sparse too and {"sub", "relu"} <= set(replaced)
    before = ops.STATS["compiled"]
    with torch.no_grad():
        got = gm(a, b, x)
    assert ops.STATS["compiled"] == before + 8  # sub, relu, scale, mul, add, add, 2 SpMMs
    ad, bd = a.to_dense(), b.to_dense()  # eager torch has no CSR - CSR: the oracle is dense
    want = (torch.relu(ad - bd) * 0.5 + ad * bd) @ x + (ad + bd) @ x
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
    with torch.no_grad():
        torch.testing.assert_close(treadle_compile(model)(a, b, x), want, rtol=1e-5, atol=1e-5)


def test_dense_elementwise_ops_stay_with_torch():
    """Ops on values that cannot be sparse (linear layers' outputs) are not wrapped."""
    gm = treadle_compile(_SharedProduct(graph(30, 3, 8)), dynamo=False)
    targets = [n.target for n in gm.graph.nodes if n.op == "call_function"]
    assert torch.relu in targets and operator.add in targets  # relu(dense + dense): untouched
    assert any(getattr(t, "__name__", "") == "matmul" for t in targets)


def test_relu_of_a_sparse_product_is_one_kernel(monkeypatch):
    """GCN's relu(A @ H) becomes one compiled SpMM with the relu applied per finished row."""
    from treadle.runtime import dispatch

    monkeypatch.setattr(dispatch, "MODE", "sparse")
    model = GCN(graph(30, 3, 8), 4, 8, 2)
    gm = treadle_compile(model, dynamo=False)
    names = [getattr(n.target, "__name__", "") for n in gm.graph.nodes if n.op == "call_function"]
    assert names.count("sparse_mm_relu") == 1 and "relu" not in names
    before = ops.STATS["compiled"]
    check(model, torch.randn(30, 4))
    assert ops.STATS["compiled"] >= before + 2


@pytest.mark.parametrize("layout", ["coo", "csr"])
def test_bmm_with_sparse_batches(layout):
    torch.manual_seed(4)
    dense = torch.stack([graph(12, 3, s).to_dense() for s in range(3)])
    x = torch.randn(3, 12, 6)
    check(BatchedSpMM(dense.to_sparse()), x)
    if layout == "csr":  # batched CSR: torch.bmm refuses it; the compiled kernel does not
        csr = torch.sparse_csr_tensor(*_batched_csr(dense), size=dense.shape)
        with torch.no_grad():
            torch.testing.assert_close(ops.bmm(csr, x), torch.bmm(dense, x), rtol=1e-5, atol=1e-5)


def _batched_csr(dense):
    counts = (dense != 0).sum((1, 2))
    width = int(counts.max())
    crow, col, val = [], [], []
    for m in dense:  # pad each batch to the same nnz with explicit zeros (torch's requirement)
        r, c = m.nonzero(as_tuple=True)
        extra = width - len(r)
        r = torch.cat([r, torch.full((extra,), m.shape[0] - 1)])
        c = torch.cat([c, torch.arange(extra) + 0])
        order = torch.argsort(r * m.shape[1] + c)
        r, c = r[order], c[order]
        crow.append(torch.cat([torch.zeros(1, dtype=torch.long), torch.bincount(r, minlength=m.shape[0]).cumsum(0)]))
        col.append(c)
        val.append(m[r, c])
    return torch.stack(crow), torch.stack(col), torch.stack(val)


def test_softmax_round_trip_is_fused_and_matches_torch():
    """`softmax(S.to_sparse_coo()).to_sparse_csr()` becomes one compiled CSR softmax, over the
    stored entries as torch normalizes: a stored explicit zero takes part (exp(0 - max))."""
    torch.manual_seed(5)
    model = BlockSparseAttention(bigbird_mask(4, 8, 6), 16)
    gm = treadle_compile(model, dynamo=False)
    names = [getattr(n.target, "__name__", str(n.target)) for n in gm.graph.nodes]
    assert "csr_softmax" in names and "to_sparse_coo" not in names
    s = (torch.randn(6, 7) * (torch.rand(6, 7) < 0.5)).to_sparse_csr()
    with torch.no_grad():
        want = torch.sparse.softmax(s.to_sparse_coo(), 1).to_sparse_csr().to_dense()
        before = ops.STATS["compiled"]
        torch.testing.assert_close(ops.csr_softmax(s, 1).to_dense(), want)
        torch.testing.assert_close(ops.sparse_softmax(s.to_sparse_coo(), -1).to_dense(), want)
        assert ops.STATS["compiled"] == before + 2
        zero = torch.sparse_csr_tensor(s.crow_indices(), s.col_indices(), torch.where(torch.arange(s.values().numel()) == 0, 0.0, s.values()), s.shape)
        before = ops.STATS["compiled"]
        got = ops.csr_softmax(zero, 1)
        torch.testing.assert_close(got.to_dense(), torch.sparse.softmax(zero.to_sparse_coo(), 1).to_dense())
        assert ops.STATS["compiled"] == before + 1 and got.values()[0] > 0


def test_sparse_matrix_vector_products(monkeypatch):
    from treadle.runtime import dispatch

    monkeypatch.setattr(dispatch, "MODE", "sparse")
    a, x = graph(30, 4, 9), torch.randn(30)
    before = ops.STATS["compiled"]
    with torch.no_grad():
        for op in (ops.mv, ops.matmul):
            torch.testing.assert_close(op(a, x), a.to_dense() @ x, rtol=1e-5, atol=1e-5)
    assert ops.STATS["compiled"] == before + 2
