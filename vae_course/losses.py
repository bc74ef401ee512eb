"""Losses of the course and their units: KL divergences, reconstruction losses, conversions to nats.

Every function states its shapes and its reduction. Conventions used everywhere in the course:

* KL divergence is **summed** over latent dimensions, in nats (natural log). ``kl_divergence`` and
  ``gaussian_kl`` return one number per example, ``(batch,)``; ``kl_divergence_per_dimension`` keeps
  the dimensions, ``(batch, latent_dim)``; ``kl_to_standard_normal`` is one Python float for one dimension;
* reconstruction losses return one number per image, ``(batch,)``, and say whether they **average**
  (``reduction="mean"``) or **sum** (``reduction="sum"``) over the pixels of that image; sums of binary
  cross-entropy are in nats. Averaging over the batch is left to the caller (``models.VAE`` averages);
* ``gaussian_log_density`` sums over the last axis: ``(..., d) -> (...)``, in nats;
* ``beta_from_weight``, ``weighted_to_nats`` and ``nats_to_bits_per_dim`` convert plain numbers
  (Python floats) between the source book's weighted losses, nats per image and bits per dimension.

The ELBO and the importance-weighted bound live in ``bounds``; per-dimension diagnostics in ``diagnostics``.
"""

from __future__ import annotations

import math

import numpy as np
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


def gaussian_kl(mean_q, log_var_q, mean_p, log_var_p) -> np.ndarray:
    """KL(N(mean_q, exp(log_var_q)) || N(mean_p, exp(log_var_p))) per example, in nats (NumPy, float64).

    Diagonal Gaussians; shapes ``(batch, d)`` (broadcastable) -> ``(batch,)``, summed over d:
    0.5 * sum(log_var_p - log_var_q + (exp(log_var_q) + (mean_q - mean_p)**2) / exp(log_var_p) - 1).
    With mean_p = 0 and log_var_p = 0 it is ``kl_divergence``.
    """
    mean_q, log_var_q, mean_p, log_var_p = (
        np.asarray(a, dtype=np.float64) for a in (mean_q, log_var_q, mean_p, log_var_p)
    )
    terms = log_var_p - log_var_q + (np.exp(log_var_q) + np.square(mean_q - mean_p)) / np.exp(log_var_p) - 1.0
    return 0.5 * np.sum(terms, axis=-1)


def kl_to_standard_normal(mean: float, std: float) -> float:
    """KL(N(mean, std^2) || N(0, 1)) in nats for one latent dimension, as a Python float.

    The scalar form of ``kl_divergence``: 0.5 * (std^2 + mean^2 - 1 - log std^2). ``std`` must be positive.
    """
    if not std > 0:
        raise ValueError(f"std must be positive (a standard deviation, not a log-variance), got {std}")
    z_mean = np.array([[mean]], dtype=np.float64)
    z_log_var = np.array([[2.0 * math.log(std)]], dtype=np.float64)
    return float(np.asarray(kl_divergence(z_mean, z_log_var))[0])
