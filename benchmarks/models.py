"""The end-to-end models of the Scorch benchmark (and of tests/scorch/test_torch.py): a
2-layer GCN, GraphSAGE with mean aggregation, BigBird-style block-sparse attention and a
magnitude-pruned MLP, written as plain PyTorch modules (eager PyTorch is the peer)."""

import numpy as np
import torch


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
