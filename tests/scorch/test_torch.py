"""End-to-end models through torch.compile(backend="treadle") / treadle.compile vs eager."""

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

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


class GCN(torch.nn.Module):
    def __init__(self, adj, f_in, hidden, classes):
        super().__init__()
        self.adj = adj
        self.l1 = torch.nn.Linear(f_in, hidden)
        self.l2 = torch.nn.Linear(hidden, classes)

    def forward(self, x):
        h = torch.relu(torch.sparse.mm(self.adj, self.l1(x)))
        return torch.sparse.mm(self.adj, self.l2(h))


class SAGE(torch.nn.Module):
    def __init__(self, adj, f_in, out):
        super().__init__()
        self.adj = adj  # row-normalized: mean aggregation
        self.self_lin = torch.nn.Linear(f_in, out)
        self.neigh_lin = torch.nn.Linear(f_in, out)

    def forward(self, x):
        return torch.relu(self.self_lin(x) + self.neigh_lin(self.adj @ x))


class BlockSparseAttention(torch.nn.Module):
    def __init__(self, mask_csr, d):
        super().__init__()
        self.mask = mask_csr
        self.q = torch.nn.Linear(d, d)
        self.k = torch.nn.Linear(d, d)
        self.v = torch.nn.Linear(d, d)

    def forward(self, x):
        q, k, v = self.q(x), self.k(x), self.v(x)
        scores = torch.sparse.sampled_addmm(self.mask, q, k.t(), beta=0.0, alpha=1.0 / q.shape[1] ** 0.5)
        probs = torch.sparse.softmax(scores.to_sparse_coo(), dim=1).to_sparse_csr()
        return torch.sparse.mm(probs, v)


class PrunedMLP(torch.nn.Module):
    def __init__(self, d, hidden, out, sparsity, seed):
        super().__init__()
        torch.manual_seed(seed)
        self.l1 = torch.nn.Linear(d, hidden)
        self.l2 = torch.nn.Linear(hidden, out)
        with torch.no_grad():
            for lin in (self.l1, self.l2):
                w = lin.weight
                cut = w.abs().flatten().kthvalue(int(sparsity * w.numel())).values
                w[w.abs() <= cut] = 0.0

    def forward(self, x):
        return self.l2(torch.relu(self.l1(x)))


def bigbird_mask(n_blocks: int, block: int, seed: int) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    m = np.zeros((n_blocks, n_blocks), dtype=bool)
    for b in range(n_blocks):
        m[b, max(0, b - 1) : b + 2] = True
        m[b, rng.choice(n_blocks, 2, replace=False)] = True
    m[:2, :] = m[:, :2] = True
    dense = np.kron(m, np.ones((block, block), dtype=bool)).astype(np.float32)
    return torch.from_numpy(dense).to_sparse_csr()


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


def test_graphsage():
    torch.manual_seed(1)
    check(SAGE(graph(200, 4, 2), 8, 16), torch.randn(200, 8))


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
