"""The GP surrogate: scikit-learn's GaussianProcessRegressor on BaCO's feature embedding, with
priors on the hyperparameters (maximum a posteriori instead of maximum likelihood) and a
noiseless posterior for the acquisition.

Kernel: `ConstantKernel * Matern(nu=2.5, ARD) + WhiteKernel`; on the space's features this is a
Matern kernel on (log-)numeric and ordinal values, a weighted Hamming kernel on categoricals and
a Spearman/Kendall/Hamming kernel on permutations. Targets are log-transformed when they are all
positive (times), then standardised. The fit's likelihood gradient for this kernel is computed
here with matrix products (`_mixed_lml_and_gradient`, equal to sklearn's to rounding).
"""

import math
import warnings

import numpy as np
from scipy.linalg import cho_solve, cholesky, solve_triangular
from scipy.spatial.distance import pdist, squareform
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Kernel, Matern, Product, Sum, WhiteKernel

# Lengthscale priors. Numeric and ordinal features: Gamma(3, 6), botorch's default that BaCO used
# (mode 0.33 on features scaled to [0, 1]). Categorical one-hot and permutation features instead
# get the dimension-scaled LogNormal(sqrt(2) + log(D)/2, sqrt(3)) over D features (Hvarfner et
# al., ICML 2024; botorch's default since 0.12): at a lengthscale of 0.33 two categories share
# nothing, so a category first seen with bad values of the other parameters stays at the prior
# mean and is never tried again, and orders one swap apart look unrelated (docs/tuning.md).
LENGTHSCALE_PRIOR = (3.0, 6.0)
COMBINATORIAL_LOG_LOC = math.sqrt(2.0)
COMBINATORIAL_LOG_SCALE = math.sqrt(3.0)
# Gamma(shape, rate) priors, botorch's defaults that BaCO used.
OUTPUTSCALE_PRIOR = (2.0, 0.15)
NOISE_PRIOR = (1.1, 0.05)
PRIOR_QUANTILE = 0.75  # the GP's prior mean: this quantile of the observed (log) objective
LENGTHSCALE_BOUNDS = (1e-2, 1e2)
OUTPUTSCALE_BOUNDS = (1e-2, 1e2)
NOISE_BOUNDS = (1e-6, 0.5)


def mixed_kernel(n_features: int) -> Kernel:
    """The default kernel over `n_features` embedded dimensions."""
    return (ConstantKernel(1.0, OUTPUTSCALE_BOUNDS)
            * Matern(np.full(n_features, 0.5), LENGTHSCALE_BOUNDS, nu=2.5)
            + WhiteKernel(1e-3, NOISE_BOUNDS))


def _gamma_log_prior(value: np.ndarray, shape: float, rate: float):
    """log density (up to a constant) of Gamma(shape, rate) at `value`, and its derivative with
    respect to log(value) (sklearn optimizes log-hyperparameters)."""
    return (shape - 1.0) * np.log(value) - rate * value, (shape - 1.0) - rate * value


def _lengthscale_log_prior(log_lengthscales: np.ndarray, combinatorial: np.ndarray):
    """log density (up to a constant) of the lengthscale priors at the log lengthscales, and its
    derivative: Gamma(3, 6) on numeric columns, the LogNormal (a normal in log space) on the
    `combinatorial` ones (categoricals' and permutations')."""
    logp, dlogp = _gamma_log_prior(np.exp(log_lengthscales), *LENGTHSCALE_PRIOR)
    loc = COMBINATORIAL_LOG_LOC + 0.5 * math.log(len(log_lengthscales))
    z = (log_lengthscales - loc) / COMBINATORIAL_LOG_SCALE
    return np.where(combinatorial, -0.5 * z * z, logp), np.where(combinatorial, -z / COMBINATORIAL_LOG_SCALE, dlogp)


def _is_mixed_kernel(kernel: Kernel) -> bool:
    """Whether `kernel` has `mixed_kernel`'s form, for which `_mixed_lml_and_gradient` holds."""
    return (isinstance(kernel, Sum) and isinstance(kernel.k1, Product) and isinstance(kernel.k2, WhiteKernel)
            and isinstance(kernel.k1.k1, ConstantKernel) and isinstance(kernel.k1.k2, Matern)
            and kernel.k1.k2.nu == 2.5 and np.ndim(kernel.k1.k2.length_scale) == 1)


def _mixed_lml_and_gradient(theta: np.ndarray, X: np.ndarray, y: np.ndarray, jitter: float):
    """The log marginal likelihood of `mixed_kernel` at theta and its gradient, as sklearn
    computes them, without the n x n x d kernel-gradient tensor: for lengthscale k the trace term
    sum_ij W_ij (x_ik - x_jk)^2 / l_k^2 is 2 (s . x_k^2 - x_k . W x_k) / l_k^2 with s = W 1, two
    matrix products instead of sklearn's einsum over n x n x d (most of a proposal's time at 300
    observations went there)."""
    c, ls, noise = np.exp(theta[0]), np.exp(theta[1:-1]), np.exp(theta[-1])
    r = math.sqrt(5.0) * squareform(pdist(X / ls, "euclidean"))  # as sklearn's Matern
    e = np.exp(-r)
    M = (1.0 + r + r * r / 3.0) * e
    K = c * M
    K[np.diag_indices_from(K)] += noise + jitter
    try:
        L = cholesky(K, lower=True, check_finite=False)
    except np.linalg.LinAlgError:
        return -np.inf, np.zeros_like(theta)
    alpha = cho_solve((L, True), y, check_finite=False)
    lml = -0.5 * float(y @ alpha) - float(np.log(np.diag(L)).sum()) - 0.5 * len(y) * math.log(2.0 * math.pi)
    T = np.outer(alpha, alpha) - cho_solve((L, True), np.eye(len(y)), check_finite=False)
    grad = np.empty(len(theta))
    grad[0] = 0.5 * float(np.sum(T * (c * M)))
    grad[-1] = 0.5 * noise * float(np.trace(T))
    W = 0.5 * c * (5.0 / 3.0) * T * (1.0 + r) * e  # dM/dlog l_k = 5/3 (1 + r) e^-r (x_ik - x_jk)^2 / l_k^2
    s_w = W.sum(1)
    grad[1:-1] = 2.0 * (s_w @ (X * X) - np.einsum("ik,ik->k", X, W @ X)) / (ls * ls)
    return lml, grad


class PriorGaussianProcess(GaussianProcessRegressor):
    """GaussianProcessRegressor whose fit maximises likelihood x priors on the default kernel's
    hyperparameters (theta = [log outputscale, log lengthscales..., log noise]); `combinatorial`
    marks the categorical and permutation feature columns (set before `fit`: sklearn's estimator
    API takes no extra constructor arguments)."""

    combinatorial: np.ndarray | None = None

    def log_marginal_likelihood(self, theta=None, eval_gradient=False, clone_kernel=True):
        if theta is not None and eval_gradient and _is_mixed_kernel(self.kernel_):
            if not clone_kernel:
                self.kernel_.theta = theta  # sklearn's side effect, which its fit relies on
            out = _mixed_lml_and_gradient(np.asarray(theta, float), self.X_train_, self.y_train_, self.alpha)
        else:
            out = super().log_marginal_likelihood(theta, eval_gradient, clone_kernel)
        if theta is None:
            return out
        value = np.exp(theta)
        logp, dlogp = np.empty(len(theta)), np.empty(len(theta))
        combinatorial = self.combinatorial if self.combinatorial is not None else np.zeros(len(theta) - 2, bool)
        logp[1:-1], dlogp[1:-1] = _lengthscale_log_prior(theta[1:-1], combinatorial)
        logp[0], dlogp[0] = _gamma_log_prior(value[0], *OUTPUTSCALE_PRIOR)
        logp[-1], dlogp[-1] = _gamma_log_prior(value[-1], *NOISE_PRIOR)
        if eval_gradient:
            lml, grad = out
            return lml + logp.sum(), grad + dlogp
        return out + logp.sum()


class Surrogate:
    """A GP fitted on feasible observations: `predict` gives mean and sd in the standardised
    (log-)objective space, and `transform` maps raw objective values into that space."""

    def __init__(self, seed: int, n_restarts: int = 1, log_transform: bool | None = None,
                 prior_quantile: float = PRIOR_QUANTILE, combinatorial: np.ndarray | None = None):
        self.seed = seed
        self.combinatorial = combinatorial
        self.prior_quantile = prior_quantile
        self.n_restarts = n_restarts
        self.log_transform = log_transform

    def fit(self, X: np.ndarray, y: np.ndarray) -> "Surrogate":
        y = np.asarray(y, dtype=float)
        self.log = self.log_transform if self.log_transform is not None else bool(np.all(y > 0))
        z = np.log(y) if self.log else y
        # The prior mean (where the GP has no data) is a pessimistic quantile of the observed
        # (log) values, not their mean: once the search concentrates on good regions the mean is
        # a good value, and every unexplored corner would look as promising as the incumbent.
        self.mean = float(np.quantile(z, self.prior_quantile))
        sd = float(z.std())
        self.scale = sd if sd > 1e-12 else 1.0  # a constant objective must not divide by zero
        target = (z - self.mean) / self.scale
        # No warm start from the previous fit: a resumed run must refit exactly as the original did.
        self.gp = PriorGaussianProcess(mixed_kernel(X.shape[1]), alpha=1e-8, normalize_y=False,
                                       n_restarts_optimizer=self.n_restarts, random_state=self.seed)
        self.gp.combinatorial = None if self.combinatorial is None else np.asarray(self.combinatorial, bool)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.gp.fit(X, target)
        self._signal = self.gp.kernel_.k1
        return self

    def refit_fixed(self, X: np.ndarray, target: np.ndarray) -> None:
        """Condition on new (already transformed) data keeping the hyperparameters (fantasies)."""
        gp = GaussianProcessRegressor(self.gp.kernel_, alpha=1e-8, optimizer=None, normalize_y=False)
        gp.fit(X, target)
        self.gp = gp

    def transform(self, y: np.ndarray | float) -> np.ndarray:
        y = np.asarray(y, dtype=float)
        z = np.log(np.maximum(y, 1e-300)) if self.log else y
        return (z - self.mean) / self.scale

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Noiseless posterior mean and standard deviation at the rows of X."""
        gp = self.gp
        K = self._signal(X, gp.X_train_)
        mu = K @ gp.alpha_
        v = solve_triangular(gp.L_, K.T, lower=True, check_finite=False)
        var = self._signal.diag(X) - np.einsum("ij,ij->j", v, v)
        return mu, np.sqrt(np.maximum(var, 1e-12))

    @property
    def train_targets(self) -> np.ndarray:
        return self.gp.y_train_
