"""Losses of the course, each with its reduction and unit stated.

Conventions used everywhere in the course:

* every function here returns one number **per example**, shape ``(batch,)``; averaging over the
  batch is left to the caller (the models average over the batch);
* KL divergence is **summed** over latent dimensions, in nats;
* reconstruction losses say whether they **average** (``reduction="mean"``) or **sum**
  (``reduction="sum"``) over the pixels of one image; sums of binary cross-entropy are in nats.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from keras import ops

_EPSILON = 1e-7


def kl_divergence_per_dimension(z_mean, z_log_var):
    """KL(N(z_mean_j, exp(z_log_var_j)) || N(0, 1)) of every latent dimension j, in nats.

    Shapes: (batch, latent_dim) -> (batch, latent_dim): 0.5 * (exp(z_log_var) + z_mean**2 - 1 - z_log_var).
    """
    return 0.5 * (ops.exp(z_log_var) + ops.square(z_mean) - 1.0 - z_log_var)


def kl_divergence(z_mean, z_log_var):
    """KL(N(z_mean, exp(z_log_var)) || N(0, I)) per example, in nats.

    Shapes: (batch, latent_dim) -> (batch,). Summed over latent dimensions:
    0.5 * sum(exp(z_log_var) + z_mean**2 - 1 - z_log_var).
    """
    return ops.sum(kl_divergence_per_dimension(z_mean, z_log_var), axis=-1)


def _pixel_reduce(per_pixel, reduction: str):
    if reduction not in ("mean", "sum"):
        raise ValueError(f"reduction must be 'mean' or 'sum' over the pixels of an image, got {reduction!r}")
    batch = ops.shape(per_pixel)[0]
    flat = ops.reshape(per_pixel, (batch, -1))
    return ops.mean(flat, axis=-1) if reduction == "mean" else ops.sum(flat, axis=-1)


def binary_crossentropy(x, x_reconstructed, reduction: str = "mean"):
    """Binary cross-entropy between images ``x`` and ``x_reconstructed`` (both in [0, 1]), per image.

    Shapes: (batch, H, W, C) -> (batch,). ``reduction="mean"`` averages over the H*W*C pixels
    (the "mean BCE" of Keras and of the source book); ``"sum"`` adds them up, in nats.
    Predictions are clipped to [1e-7, 1 - 1e-7] as Keras does.
    """
    p = ops.clip(x_reconstructed, _EPSILON, 1.0 - _EPSILON)
    per_pixel = -(x * ops.log(p) + (1.0 - x) * ops.log(1.0 - p))
    return _pixel_reduce(per_pixel, reduction)


def mean_squared_error(x, x_reconstructed, reduction: str = "mean"):
    """Squared error per image. Shapes: (batch, H, W, C) -> (batch,); mean or sum over pixels."""
    return _pixel_reduce(ops.square(x - x_reconstructed), reduction)


def root_mean_squared_error(x, x_reconstructed):
    """RMSE per image: sqrt of the mean squared error over pixels. Shapes: (batch, H, W, C) -> (batch,)."""
    return ops.sqrt(mean_squared_error(x, x_reconstructed, reduction="mean"))


RECONSTRUCTION_LOSSES = {"bce": binary_crossentropy, "mse": mean_squared_error}


def beta_from_weight(reconstruction_weight: float, n_pixels: int) -> float:
    """The standard-form beta implied by ``weight * mean_over_pixels(rec) + KL``.

    Dividing that loss by ``weight / n_pixels`` gives ``sum_over_pixels(rec) + beta * KL`` with
    ``beta = n_pixels / weight``. Example: 500 x mean BCE on 32x32 images -> beta = 1024 / 500 = 2.048.
    """
    if reconstruction_weight <= 0 or n_pixels <= 0:
        raise ValueError("reconstruction_weight and n_pixels must be positive")
    return n_pixels / reconstruction_weight


def weighted_to_nats(weighted_reconstruction: float, reconstruction_weight: float, n_pixels: int) -> float:
    """Turn ``weight x mean BCE`` (the number Keras prints) into summed BCE per image, in nats."""
    if reconstruction_weight <= 0 or n_pixels <= 0:
        raise ValueError(
            f"reconstruction_weight and n_pixels must be positive, got {reconstruction_weight} and {n_pixels}"
        )
    return weighted_reconstruction / reconstruction_weight * n_pixels


def nats_to_bits_per_dim(nats_per_image: float, n_dims: int) -> float:
    """Convert a per-image quantity in nats to bits per dimension (pixel): nats / (n_dims * ln 2)."""
    if n_dims <= 0:
        raise ValueError(f"n_dims must be positive (pixels x channels of one image), got {n_dims}")
    return nats_per_image / (n_dims * math.log(2.0))


def gaussian_log_density(z, mean, log_var):
    """log N(z; mean, exp(log_var)) summed over the last axis, in nats. NumPy or Keras tensors."""
    return -0.5 * ops.sum(
        math.log(2.0 * math.pi) + log_var + ops.square(z - mean) / ops.exp(log_var), axis=-1
    )



# --------------------------------------------------------------------------------------------
# Bounds on log p(x): ELBO and the importance-weighted bound (IWAE)
# --------------------------------------------------------------------------------------------


def bernoulli_log_likelihood(decoder, x):
    """``log p(x | z)`` of a decoder with Bernoulli pixels: a function ``z -> (batch,)``, in nats.

    It equals minus the summed binary cross-entropy. With continuous pixel values in [0, 1] this is
    not a true log-likelihood (the Bernoulli is for 0/1 pixels); the course reports it as the VAE's
    objective, in nats per image, and says so.
    """
    x = np.asarray(x, dtype=np.float32)

    def log_likelihood(z):
        reconstruction = decoder(np.asarray(z, dtype=np.float32), training=False)
        return -np.asarray(binary_crossentropy(x, reconstruction, reduction="sum"), dtype=np.float64)

    return log_likelihood


def log_importance_weights(log_likelihood, z_mean, z_log_var, k: int, seed: int | None = None):
    """``log w_i = log p(x|z_i) + log p(z_i) - log q(z_i|x)`` for ``k`` draws z_i ~ q(z|x) per example.

    ``log_likelihood``: function ``z (batch, d) -> (batch,)``; ``z_mean``, ``z_log_var``: ``(batch, d)``
    (q is the diagonal Gaussian; p(z) = N(0, I)). Returns ``(batch, k)`` in nats.
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


def elbo(log_weights):
    """Monte Carlo ELBO per example: the mean of the log weights over the k draws. ``(batch, k) -> (batch,)``."""
    return np.mean(np.asarray(log_weights), axis=1)


def iwae_bound(log_weights):
    """Importance-weighted bound per example: ``log (1/k) sum_i w_i``, computed stably.

    ``(batch, k) -> (batch,)``, in nats. ELBO <= IWAE_k <= log p(x), and IWAE_k grows with k.
    """
    log_weights = np.asarray(log_weights, dtype=np.float64)
    return special.logsumexp(log_weights, axis=1) - np.log(log_weights.shape[1])
