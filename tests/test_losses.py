"""vae_course.losses against independent references: numerical integration, Monte Carlo, NumPy, SciPy."""

from __future__ import annotations

import functools
import math

import keras
import numpy as np
import pytest
from scipy import integrate, stats

from vae_course import losses

# (mu, sigma) pairs, including extreme ones: a very narrow and a very wide posterior, far-off means.
MU_SIGMA = [(0.0, 1.0), (0.5, 0.8), (-4.0, 0.05), (3.0, 5.0), (-4.0, 5.0), (3.0, 0.05), (1.0, 2.0)]


def _numpy(tensor):
    return np.asarray(keras.ops.convert_to_numpy(tensor))


_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


@functools.cache
def _kl_by_quadrature(mu: float, sigma: float) -> float:
    """KL(N(mu, sigma^2) || N(0, 1)) = integral of q(z) log(q(z) / p(z)) dz, by adaptive quadrature."""
    # The two normal log densities, written out (scipy.stats per-point calls are slow under quad).
    assert stats.norm.logpdf(0.3, loc=mu, scale=sigma) == pytest.approx(
        -0.5 * ((0.3 - mu) / sigma) ** 2 - math.log(sigma) - _LOG_SQRT_2PI, rel=1e-12
    )

    def integrand(z):
        log_q = -0.5 * ((z - mu) / sigma) ** 2 - math.log(sigma) - _LOG_SQRT_2PI
        log_p = -0.5 * z * z - _LOG_SQRT_2PI
        return math.exp(log_q) * (log_q - log_p)

    # q is negligible beyond 40 sigma; the mean is a breakpoint so the narrow peak is not missed.
    lower, upper = mu - 40 * sigma, mu + 40 * sigma
    value, error = integrate.quad(integrand, lower, upper, points=[mu], epsabs=0, epsrel=1e-11, limit=500)
    assert error < 1e-9 * max(1.0, abs(value))
    return value


@pytest.mark.parametrize(("mu", "sigma"), MU_SIGMA)
def test_kl_divergence_one_dimension_matches_quadrature(mu, sigma):
    z_mean = np.array([[mu]], dtype=np.float64)
    z_log_var = np.array([[2 * math.log(sigma)]], dtype=np.float64)
    kl = _numpy(losses.kl_divergence(z_mean, z_log_var))
    assert kl.shape == (1,)
    np.testing.assert_allclose(kl[0], _kl_by_quadrature(mu, sigma), rtol=1e-6)


def test_kl_divergence_sums_over_dimensions():
    mus = np.array([mu for mu, _ in MU_SIGMA])
    sigmas = np.array([sigma for _, sigma in MU_SIGMA])
    reference = sum(_kl_by_quadrature(mu, sigma) for mu, sigma in MU_SIGMA)
    kl = _numpy(losses.kl_divergence(mus[np.newaxis], 2 * np.log(sigmas)[np.newaxis]))
    np.testing.assert_allclose(kl, [reference], rtol=1e-6)


def test_kl_divergence_float32_inputs_match_quadrature():
    """What the models pass in: float32 tensors. Precision is then float32's, ~1e-6 relative."""
    mus = np.array([[0.5, -4.0, 3.0]], dtype=np.float32)
    sigmas = np.array([[0.8, 0.05, 5.0]], dtype=np.float32)
    reference = sum(_kl_by_quadrature(float(m), float(s)) for m, s in zip(mus[0], sigmas[0]))
    z_mean = keras.ops.convert_to_tensor(mus)
    z_log_var = keras.ops.convert_to_tensor(2 * np.log(sigmas))
    kl = _numpy(losses.kl_divergence(z_mean, z_log_var))
    assert kl.dtype == np.float32
    np.testing.assert_allclose(kl, [reference], rtol=1e-5)


def test_kl_divergence_monte_carlo():
    rng = np.random.default_rng(2024)
    z_mean = np.array([0.3, -1.2, 2.0, 0.0])
    sigma = np.array([0.5, 1.7, 0.9, 0.2])
    n = 200_000
    z = z_mean + sigma * rng.standard_normal((n, 4))
    # Per-sample log q(z) - log p(z), summed over the 4 independent dimensions.
    log_ratio = (stats.norm.logpdf(z, loc=z_mean, scale=sigma) - stats.norm.logpdf(z)).sum(axis=1)
    estimate = log_ratio.mean()
    standard_error = log_ratio.std(ddof=1) / math.sqrt(n)
    kl = _numpy(losses.kl_divergence(z_mean[np.newaxis], 2 * np.log(sigma)[np.newaxis]))[0]
    assert abs(kl - estimate) < 4 * standard_error
    assert standard_error < 0.01 * kl  # the check is tight enough to mean something


def test_kl_divergence_shape_and_zero():
    rng = np.random.default_rng(0)
    z_mean = rng.normal(size=(6, 5)).astype(np.float32)
    z_log_var = rng.normal(size=(6, 5)).astype(np.float32)
    kl = _numpy(losses.kl_divergence(z_mean, z_log_var))
    assert kl.shape == (6,)
    assert np.all(kl > 0)
    # Row by row it is the sum of the per-dimension closed form.
    per_dim = 0.5 * (np.exp(z_log_var) + z_mean**2 - 1 - z_log_var)
    np.testing.assert_allclose(kl, per_dim.sum(axis=1), rtol=1e-5)

    zero = _numpy(losses.kl_divergence(np.zeros((3, 4), np.float32), np.zeros((3, 4), np.float32)))
    np.testing.assert_array_equal(zero, np.zeros(3))


# --------------------------------------------------------------------------------------------
# Reconstruction losses
# --------------------------------------------------------------------------------------------


@pytest.fixture
def images():
    rng = np.random.default_rng(7)
    x = rng.random((4, 8, 6, 3))
    x[0] = (x[0] > 0.5).astype(np.float64)  # binary targets too
    x_reconstructed = rng.uniform(0.01, 0.99, size=x.shape)
    return x, x_reconstructed


def test_binary_crossentropy_by_hand(images):
    x, x_reconstructed = images
    per_pixel = -(x * np.log(x_reconstructed) + (1 - x) * np.log(1 - x_reconstructed))
    mean = _numpy(losses.binary_crossentropy(x, x_reconstructed))
    summed = _numpy(losses.binary_crossentropy(x, x_reconstructed, reduction="sum"))
    assert mean.shape == summed.shape == (4,)
    np.testing.assert_allclose(mean, per_pixel.reshape(4, -1).mean(axis=1), rtol=1e-12)
    np.testing.assert_allclose(summed, per_pixel.reshape(4, -1).sum(axis=1), rtol=1e-12)
    n_pixels = 8 * 6 * 3
    np.testing.assert_allclose(summed, n_pixels * mean, rtol=1e-12)


def test_binary_crossentropy_float32_matches_keras(images):
    x, x_reconstructed = (a.astype(np.float32) for a in images)
    ours = _numpy(losses.binary_crossentropy(x, x_reconstructed))
    # Keras' BCE averages over the last axis; flatten each image into that axis.
    theirs = _numpy(keras.losses.binary_crossentropy(x.reshape(4, -1), x_reconstructed.reshape(4, -1)))
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)


def test_binary_crossentropy_clips_predictions():
    x = np.array([[[[1.0], [0.0], [1.0], [0.0]]]])  # (1, 1, 4, 1)
    x_reconstructed = np.array([[[[0.0], [1.0], [1.0], [0.0]]]])
    summed = _numpy(losses.binary_crossentropy(x, x_reconstructed, reduction="sum"))
    # Two pixels wrong with full confidence, clipped to 1e-7: -log(1e-7) each; two right: -log(1 - 1e-7).
    expected = 2 * -math.log(1e-7) + 2 * -math.log(1 - 1e-7)
    np.testing.assert_allclose(summed, [expected], rtol=1e-7)
    assert np.isfinite(summed).all()


def test_binary_crossentropy_is_minimal_at_the_target():
    x = np.full((1, 4, 4, 1), 0.3)
    at_target = _numpy(losses.binary_crossentropy(x, x))[0]
    # The minimum of BCE over predictions is the entropy of Bernoulli(0.3).
    np.testing.assert_allclose(at_target, -(0.3 * math.log(0.3) + 0.7 * math.log(0.7)), rtol=1e-12)
    for other in (0.2, 0.4):
        assert _numpy(losses.binary_crossentropy(x, np.full_like(x, other)))[0] > at_target


def test_mean_squared_error_and_rmse(images):
    x, x_reconstructed = images
    squared = (x - x_reconstructed) ** 2
    mse = _numpy(losses.mean_squared_error(x, x_reconstructed))
    sse = _numpy(losses.mean_squared_error(x, x_reconstructed, reduction="sum"))
    rmse = _numpy(losses.root_mean_squared_error(x, x_reconstructed))
    assert mse.shape == sse.shape == rmse.shape == (4,)
    np.testing.assert_allclose(mse, squared.reshape(4, -1).mean(axis=1), rtol=1e-12)
    np.testing.assert_allclose(sse, squared.reshape(4, -1).sum(axis=1), rtol=1e-12)
    np.testing.assert_allclose(rmse, np.sqrt(squared.reshape(4, -1).mean(axis=1)), rtol=1e-12)
    np.testing.assert_allclose(sse, 144 * mse, rtol=1e-12)
    np.testing.assert_array_equal(_numpy(losses.mean_squared_error(x, x)), np.zeros(4))


@pytest.mark.parametrize("loss", [losses.binary_crossentropy, losses.mean_squared_error])
@pytest.mark.parametrize("reduction", ["none", "Mean", "avg", None])
def test_bad_reduction(loss, reduction, images):
    x, x_reconstructed = images
    with pytest.raises(ValueError, match="'mean' or 'sum'"):
        loss(x, x_reconstructed, reduction=reduction)


def test_reconstruction_losses_registry():
    assert losses.RECONSTRUCTION_LOSSES == {
        "bce": losses.binary_crossentropy,
        "mse": losses.mean_squared_error,
    }


# --------------------------------------------------------------------------------------------
# Unit conversions
# --------------------------------------------------------------------------------------------


def test_beta_from_weight():
    assert losses.beta_from_weight(500, 1024) == 2.048
    assert losses.beta_from_weight(1024, 1024) == 1.0
    assert losses.beta_from_weight(1, 784) == 784


@pytest.mark.parametrize(("weight", "n_pixels"), [(0, 1024), (-500, 1024), (500, 0), (500, -1)])
def test_beta_from_weight_invalid(weight, n_pixels):
    with pytest.raises(ValueError, match="positive"):
        losses.beta_from_weight(weight, n_pixels)


@pytest.mark.parametrize("mean_bce", [0.0, 0.25, 0.6931])
def test_weighted_to_nats(mean_bce):
    assert losses.weighted_to_nats(500 * mean_bce, 500, 1024) == pytest.approx(1024 * mean_bce, rel=1e-12)


def test_weighted_to_nats_agrees_with_beta():
    """weight x mean + KL, divided by weight / n_pixels, is sum + beta x KL (the docstring's identity)."""
    mean_bce, kl, weight, n_pixels = 0.3, 7.5, 500.0, 1024
    weighted_total = weight * mean_bce + kl
    standard_form = (
        losses.weighted_to_nats(weight * mean_bce, weight, n_pixels)
        + losses.beta_from_weight(weight, n_pixels) * kl
    )
    assert weighted_total / (weight / n_pixels) == pytest.approx(standard_form, rel=1e-12)
    assert losses.weighted_to_nats(weight * mean_bce, weight, n_pixels) == pytest.approx(n_pixels * mean_bce)


@pytest.mark.parametrize(("weight", "n_pixels"), [(0, 1024), (-500, 1024), (500, 0), (500, -1)])
def test_weighted_to_nats_invalid(weight, n_pixels):
    # Same contract as beta_from_weight: a learner's typo gives an actionable ValueError,
    # not a ZeroDivisionError or a silently negative number of nats.
    with pytest.raises(ValueError, match="positive"):
        losses.weighted_to_nats(100.0, weight, n_pixels)


def test_nats_to_bits_per_dim():
    assert losses.nats_to_bits_per_dim(1024 * math.log(2), 1024) == pytest.approx(1.0, rel=1e-12)
    assert losses.nats_to_bits_per_dim(0.0, 784) == 0.0
    # 784 pixels at 1 nat each is 1 / ln 2 bits each.
    assert losses.nats_to_bits_per_dim(784.0, 784) == pytest.approx(1 / math.log(2), rel=1e-12)
    assert losses.nats_to_bits_per_dim(2 * 1000.0, 1000) == pytest.approx(2 * math.log2(math.e), rel=1e-12)


# --------------------------------------------------------------------------------------------
# Gaussian log density
# --------------------------------------------------------------------------------------------


def test_gaussian_log_density_vs_scipy():
    rng = np.random.default_rng(3)
    batch, dim = 5, 4
    z = rng.normal(size=(batch, dim))
    mean = rng.normal(size=(batch, dim))
    log_var = rng.normal(scale=1.5, size=(batch, dim))
    ours = _numpy(losses.gaussian_log_density(z, mean, log_var))
    assert ours.shape == (batch,)
    reference = [
        stats.multivariate_normal.logpdf(z[i], mean=mean[i], cov=np.diag(np.exp(log_var[i])))
        for i in range(batch)
    ]
    np.testing.assert_allclose(ours, reference, rtol=1e-10)


def test_gaussian_log_density_standard_normal_and_broadcast():
    z = np.array([[0.0, 0.0], [1.0, -2.0]])
    ours = _numpy(losses.gaussian_log_density(z, np.zeros(2), np.zeros(2)))
    reference = stats.multivariate_normal.logpdf(z, mean=np.zeros(2), cov=np.eye(2))
    np.testing.assert_allclose(ours, reference, rtol=1e-12)
    np.testing.assert_allclose(ours[0], -math.log(2 * math.pi), rtol=1e-12)


def test_kl_equals_expected_log_density_ratio():
    """KL = E_q[log q(z) - log p(z)], with both densities from gaussian_log_density (Monte Carlo)."""
    rng = np.random.default_rng(11)
    z_mean = np.array([[0.7, -0.4, 1.5]])
    z_log_var = np.array([[-0.5, 0.3, -1.0]])
    n = 100_000
    z = z_mean + np.exp(0.5 * z_log_var) * rng.standard_normal((n, 3))
    log_ratio = _numpy(losses.gaussian_log_density(z, z_mean, z_log_var)) - _numpy(
        losses.gaussian_log_density(z, np.zeros(3), np.zeros(3))
    )
    kl = _numpy(losses.kl_divergence(z_mean, z_log_var))[0]
    assert abs(log_ratio.mean() - kl) < 4 * log_ratio.std(ddof=1) / math.sqrt(n)


def test_nats_to_bits_per_dim_rejects_no_dimensions():
    with pytest.raises(ValueError, match="n_dims must be positive"):
        losses.nats_to_bits_per_dim(10.0, 0)


def test_kl_divergence_per_dimension_adds_up_to_the_total():
    rng = np.random.default_rng(3)
    z_mean, z_log_var = rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
    per_dimension = np.asarray(losses.kl_divergence_per_dimension(z_mean, z_log_var))
    assert per_dimension.shape == (5, 4)
    np.testing.assert_allclose(
        per_dimension.sum(axis=1), np.asarray(losses.kl_divergence(z_mean, z_log_var)), rtol=1e-12
    )
    # one dimension against the textbook form with sigma instead of log variance
    sigma = np.exp(0.5 * z_log_var[0, 0])
    expected = np.log(1 / sigma) + (sigma**2 + z_mean[0, 0] ** 2) / 2 - 0.5
    assert per_dimension[0, 0] == pytest.approx(expected, rel=1e-12)


# --------------------------------------------------------------------------------------------
# KL between two Gaussians, and the scalar KL of one dimension
# --------------------------------------------------------------------------------------------


def quad_kl(mean_q, std_q, mean_p, std_p):
    def integrand(z):
        return stats.norm.pdf(z, mean_q, std_q) * (
            stats.norm.logpdf(z, mean_q, std_q) - stats.norm.logpdf(z, mean_p, std_p)
        )

    return integrate.quad(
        integrand, mean_q - 12 * std_q, mean_q + 12 * std_q, epsabs=1e-13, epsrel=1e-11, limit=200
    )[0]


@pytest.mark.parametrize(
    "mean_q, std_q, mean_p, std_p",
    [
        (0.0, 1.0, 0.0, 1.0),
        (1.0, 0.5, 0.0, 1.0),
        (-5.0, 0.05, 0.0, 1.0),
        (5.0, 10.0, 0.0, 1.0),
        (2.0, 0.3, -1.0, 2.5),
        (0.1, 4.0, 0.2, 0.7),
    ],
)
def test_gaussian_kl_matches_numerical_integration(mean_q, std_q, mean_p, std_p):
    value = losses.gaussian_kl([[mean_q]], [[2 * np.log(std_q)]], [[mean_p]], [[2 * np.log(std_p)]])
    assert value.shape == (1,)
    assert value[0] == pytest.approx(quad_kl(mean_q, std_q, mean_p, std_p), rel=1e-8, abs=1e-11)


def test_gaussian_kl_sums_dimensions_and_reduces_to_the_course_kl():
    rng = np.random.default_rng(0)
    z_mean, z_log_var = rng.normal(size=(6, 4)), rng.normal(size=(6, 4))
    np.testing.assert_allclose(
        losses.gaussian_kl(z_mean, z_log_var, 0.0, 0.0),
        np.asarray(losses.kl_divergence(z_mean, z_log_var)),
        rtol=1e-12,
    )
    mean_p, log_var_p = rng.normal(size=(6, 4)), rng.normal(size=(6, 4))
    per_dimension = [
        losses.gaussian_kl(z_mean[:, [j]], z_log_var[:, [j]], mean_p[:, [j]], log_var_p[:, [j]])
        for j in range(4)
    ]
    np.testing.assert_allclose(
        losses.gaussian_kl(z_mean, z_log_var, mean_p, log_var_p), np.sum(per_dimension, axis=0), rtol=1e-12
    )


def test_kl_to_standard_normal_matches_the_closed_form():
    for mean, std in [(0.0, 1.0), (1.0, 0.5), (-2.0, 3.0)]:
        expected = 0.5 * (std**2 + mean**2 - 1 - np.log(std**2))
        value = losses.kl_to_standard_normal(mean, std)
        assert isinstance(value, float)
        assert value == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert losses.kl_to_standard_normal(1.0, 0.5) == pytest.approx(quad_kl(1.0, 0.5, 0.0, 1.0), rel=1e-8)


@pytest.mark.parametrize("std", [0.0, -1.0, float("nan")])
def test_kl_to_standard_normal_needs_a_positive_std(std):
    with pytest.raises(ValueError, match="std must be positive"):
        losses.kl_to_standard_normal(0.0, std)
