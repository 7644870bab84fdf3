"""The surrogate's kernel must be positive semi-definite on every parameter type's embedding."""

import itertools

import numpy as np
import pytest

from treadle.tuning import Categorical, Integer, Ordinal, Permutation, Real, Space
from treadle.tuning.surrogate import mixed_kernel

EMBEDDINGS = ("spearman", "kendall", "hamming")


def _min_eigenvalue(X, rng) -> float:
    kernel = mixed_kernel(X.shape[1])
    low, high = kernel.bounds[:, 0], kernel.bounds[:, 1]
    kernel.theta = rng.uniform(np.maximum(low, -3), np.minimum(high, 3))  # random hyperparameters
    K = kernel.k1(X)  # the signal part; the noise term only adds to the diagonal
    return float(np.linalg.eigvalsh(K).min()) / float(np.abs(K).max())


@pytest.mark.parametrize("embedding", EMBEDDINGS)
def test_mixed_kernel_psd_on_random_samples(embedding):
    rng = np.random.default_rng(7)
    print("seed 7")
    space = Space([Real("a", 1e-3, 1, log=True), Integer("b", 1, 100), Ordinal("c", [1, 2, 4, 8, 16]),
                   Categorical("d", ["x", "y", "z"]), Categorical("e", [0, 1]),
                   Permutation("p", 6, embedding=embedding)])
    for _ in range(5):
        configs = [{p.name: p.sample(rng) for p in space.parameters} for _ in range(80)]
        assert _min_eigenvalue(space.embed(configs), rng) > -1e-8


@pytest.mark.parametrize("n", [2, 3, 4, 5])
@pytest.mark.parametrize("embedding", EMBEDDINGS)
def test_permutation_kernel_psd_exhaustively(n, embedding):
    p = Permutation("p", n, embedding=embedding)
    X = p.embed(p.domain())
    rng = np.random.default_rng(n)
    for lengthscale in (0.05, 0.5, 5.0):
        kernel = mixed_kernel(X.shape[1])
        kernel.theta = np.r_[0.0, np.full(X.shape[1], np.log(lengthscale)), np.log(1e-3)]
        eig = np.linalg.eigvalsh(kernel.k1(X))
        assert eig.min() > -1e-8 * eig.max(), (embedding, n, lengthscale, eig.min())
    assert _min_eigenvalue(X, rng) > -1e-8


def test_kendall_features_measure_kendall_distance():
    for n in (3, 4, 5):
        p = Permutation("p", n, embedding="kendall")
        perms = p.domain()
        X = p.embed(perms)
        for a, b in itertools.combinations(range(len(perms)), 2):
            discordant = sum(1 for i, j in itertools.combinations(range(n), 2)
                             if (perms[a].index(i) < perms[a].index(j)) != (perms[b].index(i) < perms[b].index(j)))
            assert np.sum((X[a] - X[b]) ** 2) == discordant
        assert max(np.sum((X[0] - x) ** 2) for x in X) == n * (n - 1) // 2


def test_hamming_features_count_positions_that_differ():
    p = Permutation("p", 5, embedding="hamming")
    perms = p.domain()
    X = p.embed(perms)
    d = {int(round(np.sum((X[0] - x) ** 2) / 2)) for x in X}
    assert d == {0, 2, 3, 4, 5}  # Hamming distance between permutations is never 1


def test_feature_ranges():
    space = Space([Ordinal("c", [1, 2, 4, 8, 1024]), Permutation("p", 4), Integer("b", 1, 100, log=True)])
    rng = np.random.default_rng(0)
    X = space.embed([{p.name: p.sample(rng) for p in space.parameters} for _ in range(50)])
    assert X.min() >= 0 and X.max() <= 1
    assert space.embed([{"c": 2, "p": (0, 1, 2, 3), "b": 1}])[0, 0] == pytest.approx(0.1)  # log scale


def test_spearman_features_are_both_readings_of_the_order():
    p = Permutation("order", ["i", "j", "k", "l"])
    f = p.embed([("k", "i", "l", "j")])[0] * 3
    assert list(f[:4]) == [1, 3, 0, 2]  # position of i, j, k, l
    assert list(f[4:]) == [2, 0, 3, 1]  # index in items of the item at positions 0..3
    perms = p.domain()
    X = p.embed(perms)  # rho distance of the order plus that of its inverse
    for a, b in itertools.combinations(range(len(perms)), 2):
        inv = lambda q: tuple(q.index(x) for x in p.items)
        rho = lambda s, t: sum((p.items.index(x) - p.items.index(y)) ** 2 for x, y in zip(s, t))
        pos = sum((perms[a].index(x) - perms[b].index(x)) ** 2 for x in p.items)
        assert np.sum((X[a] - X[b]) ** 2) * 9 == pytest.approx(pos + rho(perms[a], perms[b]))
        assert pos == sum((i - j) ** 2 for i, j in zip(inv(perms[a]), inv(perms[b])))


def test_categorical_and_permutation_columns_get_their_own_prior():
    from scipy.optimize import approx_fprime

    from treadle.tuning.surrogate import PriorGaussianProcess

    space = Space([Real("a", 0, 1), Categorical("d", ["x", "y", "z"]), Permutation("p", 3), Ordinal("o", [1, 2, 4])])
    assert list(space.combinatorial_features) == [False] + [True] * 3 + [True] * 6 + [False]
    rng = np.random.default_rng(1)
    X = space.embed([{p.name: p.sample(rng) for p in space.parameters} for _ in range(12)])
    y = rng.standard_normal(12)
    gp = PriorGaussianProcess(mixed_kernel(X.shape[1]), optimizer=None).fit(X, y)
    theta = rng.uniform(-1, 1, len(gp.kernel_.theta))
    plain = gp.log_marginal_likelihood(theta)
    gp.combinatorial = space.combinatorial_features
    value, grad = gp.log_marginal_likelihood(theta, eval_gradient=True)
    assert value != pytest.approx(plain)  # the categorical columns' prior differs
    numeric = approx_fprime(theta, lambda t: gp.log_marginal_likelihood(t), 1e-6)
    assert np.allclose(grad, numeric, rtol=1e-4, atol=1e-4)


def test_fast_likelihood_gradient_equals_sklearns():
    from sklearn.gaussian_process import GaussianProcessRegressor

    from treadle.tuning.surrogate import _mixed_lml_and_gradient

    rng = np.random.default_rng(3)
    X = rng.uniform(size=(60, 9))
    X[:, 4] = rng.integers(0, 2, 60)  # a binary categorical column
    X[7] = X[3]  # a repeated configuration
    y = rng.standard_normal(60)
    gp = GaussianProcessRegressor(mixed_kernel(9), alpha=1e-8, optimizer=None).fit(X, y)
    for _ in range(4):
        theta = rng.uniform(-2.5, 1.5, 11)
        value, grad = gp.log_marginal_likelihood(theta, eval_gradient=True)
        fast_value, fast_grad = _mixed_lml_and_gradient(theta, X, y, 1e-8)
        assert fast_value == pytest.approx(value, rel=1e-10, abs=1e-9)
        assert np.allclose(fast_grad, grad, rtol=1e-9, atol=1e-9)
