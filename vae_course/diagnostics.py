"""What a trained VAE spends on its code: per-dimension KL, active units, rate and distortion, a β sweep.

Units: every number is in nats (natural log) per image, averaged over the images given.
KL is summed over latent dimensions for the rate, as in ``losses.kl_divergence``; ``kl_per_dimension``
keeps the dimensions apart and averages over images. The distortion is the binary cross-entropy
summed over the pixels of an image (a Bernoulli decoder), averaged over images.

* ``kl_per_dimension``: ``(batch, d) -> (d,)``; its sum is the rate;
* ``active_units``: which dimensions carry information (average KL above ``ACTIVE_UNIT_THRESHOLD``);
* ``active_units_by_variance``: the literature's definition, ``Var_x(E[z_u | x]) > 0.01`` (lesson 04);
* ``top_kl_share``: the share of the total KL that the k largest dimensions carry;
* ``rate_distortion``: rate, distortion and a one-sample ELBO of a VAE on a set of images;
* ``train_beta_sweep``: the same VAE trained at several β of the standard form
  ``sum_over_pixels(BCE) + β * KL``, each measured with ``rate_distortion`` (one ``BetaRun`` per β).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import keras
import numpy as np

from vae_course import losses, models

ACTIVE_UNIT_THRESHOLD = 0.1
"""Average KL (nats) above which a latent dimension counts as active (see ``active_units``)."""


def kl_per_dimension(z_mean, z_log_var) -> np.ndarray:
    """Average KL of each latent dimension over the examples, in nats. ``(batch, d) -> (d,)``.

    The sum of the result is the average of ``losses.kl_divergence`` (the rate).
    """
    per_example = losses.kl_divergence_per_dimension(
        np.asarray(z_mean, dtype=np.float64), np.asarray(z_log_var, dtype=np.float64)
    )
    return np.mean(np.asarray(per_example, dtype=np.float64), axis=0)


def active_units(kl_per_dim, threshold: float = ACTIVE_UNIT_THRESHOLD) -> np.ndarray:
    """Boolean mask ``(d,)``: True where a dimension's average KL exceeds ``threshold`` nats.

    An inactive ("collapsed") dimension has q(z_j | x) = N(0, 1) for every x: it carries no
    information about x and costs no KL. After a short training run an unused dimension is still
    on its way there (average KL of a few hundredths of a nat), hence the default of 0.1 nats;
    a dimension the decoder really uses costs several tenths of a nat or more.
    """
    return np.asarray(kl_per_dim) > threshold


def rate_distortion(vae, images, batch_size: int = 500) -> dict[str, object]:
    """Rate, distortion and per-dimension KL of a Bernoulli-decoder VAE on ``images``, in nats per image.

    ``images``: ``(N, H, W, C)`` in [0, 1], encoded and decoded ``batch_size`` at a time.

    * ``"rate"``: average KL(q(z | x) || N(0, I)), summed over latent dimensions;
    * ``"distortion"``: average summed BCE of the decoded, *sampled* z (one draw per image);
    * ``"elbo"``: ``-(rate + distortion)``, a one-sample estimate of the (β = 1) ELBO;
    * ``"kl_per_dimension"``: array ``(latent_dim,)``.
    """
    z_means, z_log_vars, distortions = [], [], []
    for start in range(0, len(images), batch_size):
        batch = images[start : start + batch_size]
        z_mean, z_log_var, z = vae.encoder(batch, training=False)
        reconstruction = vae.decoder(z, training=False)
        distortions.append(np.asarray(losses.binary_crossentropy(batch, reconstruction, reduction="sum")))
        z_means.append(np.asarray(z_mean))
        z_log_vars.append(np.asarray(z_log_var))
    per_dimension = kl_per_dimension(np.concatenate(z_means), np.concatenate(z_log_vars))
    rate, distortion = float(per_dimension.sum()), float(np.mean(np.concatenate(distortions)))
    return {
        "rate": rate,
        "distortion": distortion,
        "elbo": -(rate + distortion),
        "kl_per_dimension": per_dimension,
    }


@dataclass
class BetaRun:
    """One model of a β sweep: its β (standard form), the trained VAE, what it spends (nats per image).

    ``seconds`` is the wall time of training; ``history`` is Keras' ``History.history`` dict.
    """

    beta: float
    vae: models.VAE
    rate: float
    distortion: float
    kl_per_dimension: np.ndarray
    seconds: float
    history: dict = field(default_factory=dict)

    @property
    def n_active(self) -> int:
        """Number of active units: average KL above ``ACTIVE_UNIT_THRESHOLD`` nats."""
        return int(active_units(self.kl_per_dimension).sum())


def train_beta_sweep(
    betas,
    train_images,
    eval_images,
    latent_dim: int = 16,
    epochs: int = 3,
    batch_size: int = 100,
    learning_rate: float = 5e-4,
    seed: int | None = None,
    verbose: bool = True,
) -> list[BetaRun]:
    """Train one VAE per β on ``train_images`` and measure it on ``eval_images`` (both ``(N, H, W, C)``).

    Loss: ``sum_over_pixels(BCE) + β * KL`` per image, averaged over the batch; that is
    ``models.build_vae(reconstruction_weight=n_pixels, kl_weight=β)`` (mean BCE times the number
    of pixels is the summed BCE). Every model starts from the **same** initial weights and its
    ``Sampling`` layer gets the same ``seed``, so β is the main difference between the runs.
    Returns one ``BetaRun`` per β, in order; ``verbose`` prints one line per β.
    """
    input_shape = tuple(train_images.shape[1:])
    n_pixels = int(np.prod(input_shape))
    initial_weights = None
    runs = []
    for beta in betas:
        if beta <= 0:
            raise ValueError(f"every β must be positive, got {beta}")
        vae = models.build_vae(
            input_shape,
            latent_dim=latent_dim,
            seed=seed,
            reconstruction_weight=n_pixels,
            kl_weight=float(beta),
        )
        if initial_weights is None:
            initial_weights = vae.get_weights()
        else:
            vae.set_weights(initial_weights)
        vae.compile(optimizer=keras.optimizers.Adam(learning_rate))
        start = time.perf_counter()
        history = vae.fit(train_images, epochs=epochs, batch_size=batch_size, verbose=0)
        seconds = time.perf_counter() - start
        measured = rate_distortion(vae, eval_images)
        run = BetaRun(
            float(beta),
            vae,
            measured["rate"],
            measured["distortion"],
            measured["kl_per_dimension"],
            seconds,
            dict(history.history),
        )
        if verbose:
            print(
                f"beta = {run.beta:6.3g}: rate {run.rate:7.2f} nats, "
                f"distortion {run.distortion:7.2f} nats, "
                f"active units {run.n_active:2d}/{latent_dim}  ({seconds:.0f} s)"
            )
        runs.append(run)
    return runs


ACTIVE_UNIT_VARIANCE_THRESHOLD = 0.01
"""Variance over the inputs of a dimension's posterior mean above which it counts as active
(Burda, Grosse & Salakhutdinov 2016; see ``active_units_by_variance``)."""


def active_units_by_variance(z_mean, threshold: float = ACTIVE_UNIT_VARIANCE_THRESHOLD) -> np.ndarray:
    """Boolean mask ``(d,)``: True where ``Var_x(E[z_u | x]) > threshold``, the active units of Burda et al.

    ``z_mean``: the encoder's posterior means ``(N, d)`` of N >= 2 inputs (``E[z_u | x]`` is ``z_mean[:, u]``).
    A dimension whose mean barely moves from input to input tells the decoder nothing about the input,
    whatever its KL. This is the usual definition in the literature (threshold 0.01); ``active_units``
    is the KL-based one (average KL above ``ACTIVE_UNIT_THRESHOLD`` nats). Unitless: variances of latent
    coordinates, whose prior variance is 1.
    """
    z_mean = np.asarray(z_mean, dtype=np.float64)
    if z_mean.ndim != 2 or len(z_mean) < 2:
        raise ValueError(
            f"z_mean must be the posterior means of at least 2 inputs, shape (N, latent_dim) with N >= 2; "
            f"got shape {z_mean.shape}. Encode a set of images first: z_mean = encoder.predict(x)[0]."
        )
    if not threshold >= 0:
        raise ValueError(f"threshold must be a non-negative variance, got {threshold}")
    return np.var(z_mean, axis=0) > threshold


def top_kl_share(kl_per_dim, k: int) -> float:
    """Share (0..1) of the total KL carried by the ``k`` dimensions with the largest KL.

    ``kl_per_dim``: ``(d,)`` non-negative per-dimension KL in nats (``kl_per_dimension``). Example: with
    ``[3, 1, 0, 0]`` the top 1 dimension carries 0.75 of the KL. A VAE that uses few of its dimensions
    has a share near 1 for a small ``k``.
    """
    kl_per_dim = np.asarray(kl_per_dim, dtype=np.float64)
    if kl_per_dim.ndim != 1 or len(kl_per_dim) == 0:
        raise ValueError(
            f"kl_per_dim must be a 1-D array of per-dimension KL (d,), got shape {kl_per_dim.shape}"
        )
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= len(kl_per_dim):
        raise ValueError(
            f"k must be an integer from 1 to {len(kl_per_dim)} (the number of dimensions), got {k!r}"
        )
    total = kl_per_dim.sum()
    if not total > 0:
        raise ValueError(f"the total KL must be positive to take shares of it, got {total}")
    return float(np.sort(kl_per_dim)[::-1][:k].sum() / total)
