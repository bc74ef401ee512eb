"""Bounds on the evidence ``log p(x)``: importance weights, the ELBO, the importance-weighted bound (IWAE).

Everything here is NumPy (float64) and in nats (natural log), per example:

* ``bernoulli_log_likelihood``: ``log p(x | z)`` of a decoder with Bernoulli pixels, ``z -> (batch,)``;
* ``log_importance_weights``: ``log w = log p(x | z) + log p(z) - log q(z | x)`` for k draws, ``(batch, k)``;
* ``elbo`` and ``iwae_bound``: ``(batch, k) -> (batch,)``, with ELBO <= IWAE_k <= log p(x);
* ``iwae_by_k``: IWAE_k for several k from one ``(batch, K)`` array of log weights, ``(batch, len(ks))``;
* ``LinearGaussian``: a one-dimensional model whose ``log p(x)`` and true posterior are known in closed
  form, so ``log p(x) = ELBO + KL(q || p(z | x))`` can be checked exactly.

Nothing is averaged over the batch here; the lessons average over images when they report a number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from vae_course.losses import binary_crossentropy, gaussian_kl, gaussian_log_density


def bernoulli_log_likelihood(decoder, x):
    """``log p(x | z)`` of a decoder with Bernoulli pixels: a function ``z -> (batch,)``, in nats.

    ``x``: images ``(batch, H, W, C)`` in [0, 1]; the function takes ``z`` of shape ``(batch, latent_dim)``.
    It equals minus the binary cross-entropy summed over the pixels of each image. With continuous
    pixel values in [0, 1] this is not a true log-likelihood (the Bernoulli is for 0/1 pixels); the
    course reports it as the VAE's objective, in nats per image, and says so.
    """
    x = np.asarray(x, dtype=np.float32)

    def log_likelihood(z):
        reconstruction = decoder(np.asarray(z, dtype=np.float32), training=False)
        return -np.asarray(binary_crossentropy(x, reconstruction, reduction="sum"), dtype=np.float64)

    return log_likelihood


def log_importance_weights(log_likelihood, z_mean, z_log_var, k: int, seed: int | None = None) -> np.ndarray:
    """``log w_i = log p(x|z_i) + log p(z_i) - log q(z_i|x)`` for ``k`` draws z_i ~ q(z|x) per example.

    ``log_likelihood``: function ``z (batch, d) -> (batch,)``; ``z_mean``, ``z_log_var``: ``(batch, d)``
    (q is the diagonal Gaussian; p(z) = N(0, I)). Returns ``(batch, k)`` in nats, float64.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    z_mean = np.asarray(z_mean, dtype=np.float64)
    z_log_var = np.asarray(z_log_var, dtype=np.float64)
    rng = np.random.default_rng(seed)
    columns = []
    for _ in range(k):
        z = z_mean + np.exp(0.5 * z_log_var) * rng.standard_normal(z_mean.shape)
        log_prior = np.asarray(gaussian_log_density(z, np.zeros_like(z), np.zeros_like(z)))
        log_posterior = np.asarray(gaussian_log_density(z, z_mean, z_log_var))
        columns.append(np.asarray(log_likelihood(z), dtype=np.float64) + log_prior - log_posterior)
    return np.stack(columns, axis=1)


def elbo(log_weights) -> np.ndarray:
    """Monte Carlo ELBO per example: the mean of the log weights over the k draws. ``(batch, k) -> (batch,)``."""
    return np.mean(np.asarray(log_weights), axis=1)


def iwae_bound(log_weights) -> np.ndarray:
    """Importance-weighted bound per example: ``log (1/k) sum_i w_i``, computed stably (log-sum-exp).

    ``(batch, k) -> (batch,)``, in nats. ELBO <= IWAE_k <= log p(x), and IWAE_k grows with k.
    """
    log_weights = np.asarray(log_weights, dtype=np.float64)
    return special.logsumexp(log_weights, axis=1) - np.log(log_weights.shape[1])


def iwae_by_k(log_weights, ks) -> np.ndarray:
    """IWAE_k per example for every k in ``ks``, from one ``(batch, K)`` array of log weights.

    The K columns are cut into ``K // k`` disjoint groups of k; the bound of each group is
    ``iwae_bound`` and the groups are averaged (an unbiased, lower-variance estimate of IWAE_k).
    k = 1 gives the ELBO. Every k must divide K. Returns ``(batch, len(ks))`` in nats.
    """
    log_weights = np.asarray(log_weights, dtype=np.float64)
    batch, total = log_weights.shape
    columns = []
    for k in ks:
        if k < 1 or total % k:
            raise ValueError(f"every k must divide the number of draws K={total}; got k={k}")
        groups = log_weights.reshape(batch * (total // k), k)
        columns.append(iwae_bound(groups).reshape(batch, total // k).mean(axis=1))
    return np.stack(columns, axis=1)


@dataclass(frozen=True)
class LinearGaussian:
    """A one-dimensional latent-variable model whose evidence is known in closed form.

    ``z ~ N(0, 1)`` and ``x | z ~ N(a * z + b, noise_std^2)``, so ``x ~ N(b, a^2 + noise_std^2)`` and the
    true posterior ``p(z | x)`` is Gaussian. Observations ``x`` have shape ``(batch,)``; latent codes
    ``z`` have shape ``(batch, 1)`` like a VAE's ``(batch, latent_dim)``. Everything is in nats.
    """

    a: float = 2.0
    b: float = 0.5
    noise_std: float = 0.8

    def __post_init__(self):
        if self.noise_std <= 0:
            raise ValueError(f"noise_std must be positive, got {self.noise_std}")

    def sample(self, n: int, seed: int | None = None) -> np.ndarray:
        """``n`` observations x from the model. Shape ``(n,)``."""
        rng = np.random.default_rng(seed)
        z = rng.standard_normal(n)
        return self.a * z + self.b + self.noise_std * rng.standard_normal(n)

    def log_evidence(self, x) -> np.ndarray:
        """Exact ``log p(x)`` (x ~ N(b, a^2 + noise_std^2)). Shape ``(batch,)``."""
        x = np.asarray(x, dtype=np.float64)
        variance = self.a**2 + self.noise_std**2
        return -0.5 * (math.log(2.0 * math.pi * variance) + np.square(x - self.b) / variance)

    def posterior(self, x) -> tuple[np.ndarray, np.ndarray]:
        """The true posterior ``p(z | x) = N(mean, exp(log_var))``: ``(mean, log_var)``, each ``(batch, 1)``.

        From Bayes' rule: ``1 / var = 1 + a^2 / noise_std^2`` and ``mean = var * a * (x - b) / noise_std^2``.
        """
        x = np.asarray(x, dtype=np.float64).reshape(-1, 1)
        precision = 1.0 + self.a**2 / self.noise_std**2
        mean = self.a * (x - self.b) / self.noise_std**2 / precision
        return mean, np.full_like(mean, -math.log(precision))

    def log_likelihood(self, x):
        """``log p(x | z)`` as a function ``z (batch, 1) -> (batch,)``, for ``log_importance_weights``."""
        x = np.asarray(x, dtype=np.float64).reshape(-1, 1)

        def log_likelihood(z):
            mean = self.a * np.asarray(z, dtype=np.float64) + self.b
            log_var = np.full_like(mean, 2.0 * math.log(self.noise_std))
            return np.asarray(gaussian_log_density(x, mean, log_var))

        return log_likelihood

    def elbo(self, x, q_mean, q_log_var) -> np.ndarray:
        """Exact ELBO of a Gaussian ``q(z | x) = N(q_mean, exp(q_log_var))``, each ``(batch, 1)``.

        Returns ``(batch,)``: ``E_q[log p(x | z)] - KL(q || N(0, 1))``, using
        ``E_q[(x - a z - b)^2] = (x - a m - b)^2 + a^2 v`` for q = N(m, v).
        """
        x = np.asarray(x, dtype=np.float64)
        q_mean = np.asarray(q_mean, dtype=np.float64)[:, 0]
        q_var = np.exp(np.asarray(q_log_var, dtype=np.float64))[:, 0]
        squared_error = np.square(x - self.a * q_mean - self.b) + self.a**2 * q_var
        expected_log_likelihood = -0.5 * (
            math.log(2.0 * math.pi * self.noise_std**2) + squared_error / self.noise_std**2
        )
        kl = gaussian_kl(q_mean[:, None], np.log(q_var)[:, None], 0.0, 0.0)
        return expected_log_likelihood - kl
