"""The measurements of lesson 03: exact bounds on a toy model, IWAE by k, the β sweep, active units.

Units: every number is in nats (natural log). Per-example quantities have shape ``(batch,)``;
"per image" averages are over images. KL is summed over latent dimensions, as in ``losses``.

* ``gaussian_kl``: KL between two diagonal Gaussians (the general closed form);
* ``LinearGaussian``: z ~ N(0, 1), x | z ~ N(a z + b, noise_std^2), where log p(x) and the true
  posterior p(z | x) are known exactly, so ``log p(x) = ELBO + KL(q || p(z | x))`` can be checked;
* ``iwae_by_k``: the importance-weighted bound for several k from one set of log weights;
* ``rate_distortion``, ``kl_per_dimension``, ``active_units``: what a trained VAE spends on its code;
* ``train_beta_sweep``: the same VAE trained at several β of the standard form
  ``sum_over_pixels(BCE) + β * KL``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import keras
import numpy as np

from vae_course import losses, models

ACTIVE_UNIT_THRESHOLD = 0.1
"""Average KL (nats) above which a latent dimension counts as active (see ``active_units``)."""

# --------------------------------------------------------------------------------------------
# Exact quantities
# --------------------------------------------------------------------------------------------


def gaussian_kl(mean_q, log_var_q, mean_p, log_var_p) -> np.ndarray:
    """KL(N(mean_q, exp(log_var_q)) || N(mean_p, exp(log_var_p))) per example, in nats.

    Diagonal Gaussians; shapes ``(batch, d)`` (broadcastable) -> ``(batch,)``, summed over d:
    0.5 * sum(log_var_p - log_var_q + (exp(log_var_q) + (mean_q - mean_p)**2) / exp(log_var_p) - 1).
    With mean_p = 0 and log_var_p = 0 it is ``losses.kl_divergence``.
    """
    mean_q, log_var_q, mean_p, log_var_p = (np.asarray(a, dtype=np.float64)
                                            for a in (mean_q, log_var_q, mean_p, log_var_p))
    terms = log_var_p - log_var_q + (np.exp(log_var_q) + np.square(mean_q - mean_p)) / np.exp(log_var_p) - 1.0
    return 0.5 * np.sum(terms, axis=-1)


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
            return np.asarray(losses.gaussian_log_density(x, mean, log_var))

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
        expected_log_likelihood = -0.5 * (math.log(2.0 * math.pi * self.noise_std**2)
                                          + squared_error / self.noise_std**2)
        kl = gaussian_kl(q_mean[:, None], np.log(q_var)[:, None], 0.0, 0.0)
        return expected_log_likelihood - kl


# --------------------------------------------------------------------------------------------
# Bounds for several k
# --------------------------------------------------------------------------------------------


def iwae_by_k(log_weights, ks) -> np.ndarray:
    """IWAE_k per example for every k in ``ks``, from one ``(batch, K)`` array of log weights.

    The K columns are cut into ``K // k`` disjoint groups of k; the bound of each group is
    ``losses.iwae_bound`` and the groups are averaged (an unbiased, lower-variance estimate of IWAE_k).
    k = 1 gives the ELBO. Every k must divide K. Returns ``(batch, len(ks))`` in nats.
    """
    log_weights = np.asarray(log_weights, dtype=np.float64)
    batch, total = log_weights.shape
    columns = []
    for k in ks:
        if k < 1 or total % k:
            raise ValueError(f"every k must divide the number of draws K={total}; got k={k}")
        groups = log_weights.reshape(batch * (total // k), k)
        columns.append(losses.iwae_bound(groups).reshape(batch, total // k).mean(axis=1))
    return np.stack(columns, axis=1)


# --------------------------------------------------------------------------------------------
# What a trained VAE spends on its code
# --------------------------------------------------------------------------------------------


def kl_per_dimension(z_mean, z_log_var) -> np.ndarray:
    """Average KL of each latent dimension over the examples, in nats. ``(batch, d) -> (d,)``.

    The sum of the result is the average of ``losses.kl_divergence`` (the rate).
    """
    per_example = losses.kl_divergence_per_dimension(np.asarray(z_mean, dtype=np.float64),
                                                     np.asarray(z_log_var, dtype=np.float64))
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

    * ``"rate"``: average KL(q(z | x) || N(0, I)), summed over latent dimensions;
    * ``"distortion"``: average summed BCE of the decoded, *sampled* z (one draw per image);
    * ``"elbo"``: ``-(rate + distortion)``, a one-sample estimate of the (β = 1) ELBO;
    * ``"kl_per_dimension"``: array ``(latent_dim,)``.
    """
    z_means, z_log_vars, distortions = [], [], []
    for start in range(0, len(images), batch_size):
        batch = images[start:start + batch_size]
        z_mean, z_log_var, z = vae.encoder(batch, training=False)
        reconstruction = vae.decoder(z, training=False)
        distortions.append(np.asarray(losses.binary_crossentropy(batch, reconstruction, reduction="sum")))
        z_means.append(np.asarray(z_mean))
        z_log_vars.append(np.asarray(z_log_var))
    per_dimension = kl_per_dimension(np.concatenate(z_means), np.concatenate(z_log_vars))
    rate, distortion = float(per_dimension.sum()), float(np.mean(np.concatenate(distortions)))
    return {"rate": rate, "distortion": distortion, "elbo": -(rate + distortion),
            "kl_per_dimension": per_dimension}


@dataclass
class BetaRun:
    """One model of a β sweep: its β (standard form), the trained VAE, what it spends (nats per image)."""

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


def train_beta_sweep(betas, train_images, eval_images, latent_dim: int = 16, epochs: int = 3,
                     batch_size: int = 100, learning_rate: float = 5e-4, seed: int | None = None,
                     verbose: bool = True) -> list[BetaRun]:
    """Train one VAE per β on ``train_images`` and measure it on ``eval_images``.

    Loss: ``sum_over_pixels(BCE) + β * KL`` per image, averaged over the batch; that is
    ``models.build_vae(reconstruction_weight=n_pixels, kl_weight=β)`` (mean BCE times the number
    of pixels is the summed BCE). Every model starts from the **same** initial weights and its
    ``Sampling`` layer gets the same ``seed``, so β is the main difference between the runs.
    Returns one ``BetaRun`` per β, in order.
    """
    input_shape = tuple(train_images.shape[1:])
    n_pixels = int(np.prod(input_shape))
    initial_weights = None
    runs = []
    for beta in betas:
        if beta <= 0:
            raise ValueError(f"every β must be positive, got {beta}")
        vae = models.build_vae(input_shape, latent_dim=latent_dim, seed=seed,
                               reconstruction_weight=n_pixels, kl_weight=float(beta))
        if initial_weights is None:
            initial_weights = vae.get_weights()
        else:
            vae.set_weights(initial_weights)
        vae.compile(optimizer=keras.optimizers.Adam(learning_rate))
        start = time.perf_counter()
        history = vae.fit(train_images, epochs=epochs, batch_size=batch_size, verbose=0)
        seconds = time.perf_counter() - start
        measured = rate_distortion(vae, eval_images)
        run = BetaRun(float(beta), vae, measured["rate"], measured["distortion"],
                      measured["kl_per_dimension"], seconds, dict(history.history))
        if verbose:
            print(f"beta = {run.beta:6.3g}: rate {run.rate:7.2f} nats, "
                  f"distortion {run.distortion:7.2f} nats, "
                  f"active units {run.n_active:2d}/{latent_dim}  ({seconds:.0f} s)")
        runs.append(run)
    return runs
