"""vae_course.bounds: importance weights, ELBO, IWAE, ``iwae_by_k`` and the ``LinearGaussian`` model,
against a model where log p(x) is known exactly (closed forms, numerical integration, Monte Carlo).

The linear-Gaussian model is written out here with scipy, independently of the package:
z ~ N(0, 1), x | z ~ N(a z + b, s^2)  =>  x ~ N(b, a^2 + s^2), and the posterior p(z | x) is
N(m, v) with 1 / v = 1 + a^2 / s^2 and m = v a (x - b) / s^2.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from vae_course import bounds, losses, models

A, B, S = 2.0, 0.5, 0.8
X = np.array([-3.0, -0.4, 0.5, 1.2, 4.0])
TOY = bounds.LinearGaussian(a=A, b=B, noise_std=S)


def log_evidence(x):
    return stats.norm.logpdf(x, B, np.sqrt(A**2 + S**2))


def exact_posterior(x):
    variance = 1.0 / (1.0 + A**2 / S**2)
    mean = variance * A * (np.asarray(x) - B) / S**2
    return mean[:, None], np.full((len(x), 1), np.log(variance))


def log_likelihood_of(x):
    def log_likelihood(z):
        return stats.norm.logpdf(x, A * z[:, 0] + B, S)

    return log_likelihood


def wrong_posterior(x):
    mean, log_var = exact_posterior(x)
    return mean + 0.6, log_var + 1.2  # shifted and three times too wide


def reference_elbo(x, q_mean, q_log_var):
    """E_q[log p(x|z)] + E_q[log p(z)] - E_q[log q(z)] by numerical integration, per example."""
    values = []
    for xi, m, lv in zip(x, q_mean[:, 0], q_log_var[:, 0]):
        sd = np.exp(0.5 * lv)

        def integrand(z, xi=xi, m=m, sd=sd):
            return stats.norm.pdf(z, m, sd) * (
                stats.norm.logpdf(xi, A * z + B, S) + stats.norm.logpdf(z) - stats.norm.logpdf(z, m, sd)
            )

        values.append(integrate.quad(integrand, m - 12 * sd, m + 12 * sd, epsabs=1e-12, epsrel=1e-12)[0])
    return np.array(values)


def test_the_reference_model_is_consistent():
    # log p(x) = log of the integral of p(x|z) p(z) dz, by quadrature
    for xi in X:
        evidence = integrate.quad(
            lambda z, xi=xi: stats.norm.pdf(xi, A * z + B, S) * stats.norm.pdf(z),
            -12,
            12,
            epsabs=0,
            epsrel=1e-12,
        )[0]
        assert np.log(evidence) == pytest.approx(log_evidence(xi), rel=1e-10)


def test_with_the_exact_posterior_every_weight_is_the_evidence():
    # w = p(x, z) / p(z | x) = p(x) for every z: ELBO = IWAE_k = log p(x) exactly, with no noise.
    z_mean, z_log_var = exact_posterior(X)
    log_weights = bounds.log_importance_weights(log_likelihood_of(X), z_mean, z_log_var, k=20, seed=0)
    assert log_weights.shape == (len(X), 20)
    np.testing.assert_allclose(log_weights, np.tile(log_evidence(X)[:, None], (1, 20)), rtol=0, atol=1e-10)
    np.testing.assert_allclose(bounds.elbo(log_weights), log_evidence(X), rtol=0, atol=1e-10)
    np.testing.assert_allclose(bounds.iwae_bound(log_weights), log_evidence(X), rtol=0, atol=1e-10)


def many_log_weights(q, repeats, k, seed):
    """``repeats * k`` log weights per example of X, in one vectorised call. Shape (len(X), repeats * k)."""
    z_mean, z_log_var = q(X)
    log_weights = bounds.log_importance_weights(
        log_likelihood_of(np.repeat(X, repeats)),
        np.repeat(z_mean, repeats, axis=0),
        np.repeat(z_log_var, repeats, axis=0),
        k=k,
        seed=seed,
    )
    return log_weights.reshape(len(X), repeats * k)


def test_monte_carlo_elbo_matches_numerical_integration():
    log_weights = many_log_weights(wrong_posterior, repeats=200, k=100, seed=1)
    standard_error = log_weights.std(axis=1, ddof=1) / np.sqrt(log_weights.shape[1])
    reference = reference_elbo(X, *wrong_posterior(X))
    assert np.all(np.abs(bounds.elbo(log_weights) - reference) < 5 * standard_error)
    # the gap is KL(q || p(z|x)) > 0 for this wrong q
    assert np.all(log_evidence(X) - reference > 0.1)


def test_wrong_posterior_gives_ordered_bounds_that_grow_with_k():
    ks = (1, 2, 5, 20, 100, 1000)
    log_weights = many_log_weights(wrong_posterior, repeats=400, k=500, seed=2)  # 200,000 draws per example
    estimates, errors = [], []
    for k in ks:
        # independent IWAE_k estimates from disjoint groups of k draws, per example
        per_group = bounds.iwae_bound(log_weights.reshape(-1, k)).reshape(len(X), -1)
        estimates.append(per_group.mean(axis=1))
        errors.append(per_group.std(axis=1, ddof=1) / np.sqrt(per_group.shape[1]))
    estimates, errors = np.array(estimates), np.array(errors)  # (len(ks), batch)
    np.testing.assert_allclose(estimates[0], bounds.elbo(log_weights), rtol=1e-12)  # IWAE_1 is the ELBO
    tolerance = 5 * np.sqrt(errors[1:] ** 2 + errors[:-1] ** 2)
    assert np.all(np.diff(estimates, axis=0) > -tolerance), "IWAE_k must not decrease with k"
    assert np.all(estimates <= log_evidence(X) + 5 * errors), "IWAE_k is a lower bound on log p(x)"
    gaps = log_evidence(X) - estimates
    assert np.all(gaps[-1] < 0.1 * gaps[0]), "with k = 1000 most of the ELBO's gap is closed"
    assert np.all(np.diff(gaps.mean(axis=1)) < 0)


def test_iwae_is_at_least_the_elbo_for_any_weights():
    log_weights = np.random.default_rng(3).normal(-50.0, 4.0, size=(7, 13))
    assert np.all(bounds.iwae_bound(log_weights) >= bounds.elbo(log_weights))
    np.testing.assert_allclose(bounds.iwae_bound(log_weights[:, :1]), log_weights[:, 0])


def test_iwae_bound_is_stable_for_large_log_weights():
    log_weights = np.array([[-10_000.0, -10_001.0, -10_002.0], [800.0, 800.0, 800.0]])
    expected_first = -10_000.0 + np.log((1 + np.exp(-1) + np.exp(-2)) / 3)
    np.testing.assert_allclose(bounds.iwae_bound(log_weights), [expected_first, 800.0], rtol=1e-12)


def test_log_importance_weights_is_seeded_and_checks_k():
    z_mean, z_log_var = wrong_posterior(X)
    first = bounds.log_importance_weights(log_likelihood_of(X), z_mean, z_log_var, k=4, seed=5)
    again = bounds.log_importance_weights(log_likelihood_of(X), z_mean, z_log_var, k=4, seed=5)
    other = bounds.log_importance_weights(log_likelihood_of(X), z_mean, z_log_var, k=4, seed=6)
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)
    with pytest.raises(ValueError, match="k must be at least 1"):
        bounds.log_importance_weights(log_likelihood_of(X), z_mean, z_log_var, k=0)


class SigmoidDecoder:
    """A decoder with known outputs: pixel probabilities sigmoid(z @ W), as (batch, 4, 4, 1) images."""

    def __init__(self, latent_dim=3, seed=0):
        self.weights = np.random.default_rng(seed).normal(size=(latent_dim, 16))

    def __call__(self, z, training=False):
        return (1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64) @ self.weights))).reshape(-1, 4, 4, 1)


def test_bernoulli_log_likelihood_is_minus_the_summed_cross_entropy():
    rng = np.random.default_rng(8)
    x = rng.uniform(size=(5, 4, 4, 1))
    x[0] = x[0] > 0.5  # one binary image, the others continuous in [0, 1]
    z = rng.normal(size=(5, 3))
    decoder = SigmoidDecoder()
    p = decoder(z)
    by_hand = np.sum(x * np.log(p) + (1 - x) * np.log(1 - p), axis=(1, 2, 3))
    log_likelihood = bounds.bernoulli_log_likelihood(decoder, x)
    np.testing.assert_allclose(log_likelihood(z), by_hand, rtol=1e-5)
    # for the binary image it is the log-probability of those exact pixels under independent Bernoullis
    binary = stats.bernoulli.logpmf(x[0].ravel(), p[0].ravel()).sum()
    np.testing.assert_allclose(log_likelihood(z)[0], binary, rtol=1e-5)


def test_bernoulli_log_likelihood_with_a_keras_decoder():
    decoder = models.build_decoder(latent_dim=2, output_shape=(8, 8, 1), filters=(4, 4, 4))
    x = np.random.default_rng(0).uniform(size=(3, 8, 8, 1)).astype(np.float32)
    z = np.random.default_rng(1).normal(size=(3, 2)).astype(np.float32)
    p = np.asarray(decoder(z), dtype=np.float64)
    by_hand = np.sum(x * np.log(p) + (1 - x) * np.log(1 - p), axis=(1, 2, 3))
    result = bounds.bernoulli_log_likelihood(decoder, x)(z)
    assert result.shape == (3,) and result.dtype == np.float64
    np.testing.assert_allclose(result, by_hand, rtol=1e-5)


# --------------------------------------------------------------------------------------------
# The LinearGaussian class and iwae_by_k
# --------------------------------------------------------------------------------------------


def test_linear_gaussian_evidence_is_the_integral_of_the_joint():
    for xi in X:

        def joint(z, xi=xi):
            return stats.norm.pdf(xi, TOY.a * z + TOY.b, TOY.noise_std) * stats.norm.pdf(z)

        evidence = integrate.quad(joint, -12, 12, epsabs=0, epsrel=1e-12)[0]
        assert TOY.log_evidence([xi])[0] == pytest.approx(np.log(evidence), rel=1e-10)


def test_linear_gaussian_posterior_has_the_moments_of_the_normalised_joint():
    mean, log_var = TOY.posterior(X)
    assert mean.shape == log_var.shape == (len(X), 1)
    for xi, m, lv in zip(X, mean[:, 0], log_var[:, 0]):

        def joint(z, power, xi=xi):
            return z**power * stats.norm.pdf(xi, TOY.a * z + TOY.b, TOY.noise_std) * stats.norm.pdf(z)

        norm = integrate.quad(joint, -12, 12, args=(0,), epsabs=0, epsrel=1e-12)[0]
        first = integrate.quad(joint, -12, 12, args=(1,), epsabs=1e-14, epsrel=1e-12)[0] / norm
        second = integrate.quad(joint, -12, 12, args=(2,), epsabs=1e-14, epsrel=1e-12)[0] / norm
        assert m == pytest.approx(first, rel=1e-9, abs=1e-12)
        assert np.exp(lv) == pytest.approx(second - first**2, rel=1e-9)


def test_linear_gaussian_log_likelihood_matches_scipy():
    z = np.random.default_rng(1).normal(size=(len(X), 1))
    expected = stats.norm.logpdf(X, TOY.a * z[:, 0] + TOY.b, TOY.noise_std)
    np.testing.assert_allclose(TOY.log_likelihood(X)(z), expected, rtol=1e-12)


def test_evidence_is_elbo_plus_kl_to_the_true_posterior():
    posterior_mean, posterior_log_var = TOY.posterior(X)
    for q_mean, q_log_var in [
        (posterior_mean, posterior_log_var),
        (posterior_mean + 0.6, posterior_log_var + 1.2),
        (np.zeros_like(posterior_mean), np.zeros_like(posterior_log_var)),
    ]:
        kl_to_posterior = losses.gaussian_kl(q_mean, q_log_var, posterior_mean, posterior_log_var)
        np.testing.assert_allclose(
            TOY.elbo(X, q_mean, q_log_var) + kl_to_posterior, TOY.log_evidence(X), rtol=1e-12
        )
    exact_q = TOY.elbo(X, posterior_mean, posterior_log_var)
    np.testing.assert_allclose(exact_q, TOY.log_evidence(X), rtol=1e-12)


def toy_log_weights(q_mean, q_log_var, repeats, k, seed):
    """``repeats * k`` log weights per example of X on the toy model, in one vectorised call."""
    log_weights = bounds.log_importance_weights(
        TOY.log_likelihood(np.repeat(X, repeats)),
        np.repeat(q_mean, repeats, axis=0),
        np.repeat(q_log_var, repeats, axis=0),
        k=k,
        seed=seed,
    )
    return log_weights.reshape(len(X), repeats * k)


def test_closed_form_elbo_matches_monte_carlo():
    q_mean, q_log_var = TOY.posterior(X)
    q_mean, q_log_var = q_mean - 0.5, q_log_var - 0.7
    log_weights = toy_log_weights(q_mean, q_log_var, repeats=100, k=40, seed=3)
    standard_error = log_weights.std(axis=1, ddof=1) / np.sqrt(log_weights.shape[1])
    assert np.all(np.abs(bounds.elbo(log_weights) - TOY.elbo(X, q_mean, q_log_var)) < 5 * standard_error)


def test_samples_follow_the_marginal():
    x = TOY.sample(20_000, seed=4)
    assert stats.kstest(x, stats.norm(TOY.b, np.sqrt(TOY.a**2 + TOY.noise_std**2)).cdf).pvalue > 0.01


def test_linear_gaussian_needs_positive_noise():
    with pytest.raises(ValueError, match="noise_std must be positive"):
        bounds.LinearGaussian(noise_std=0.0)


def test_iwae_by_k_groups_the_draws():
    log_weights = np.random.default_rng(5).normal(-20.0, 3.0, size=(4, 12))
    result = bounds.iwae_by_k(log_weights, [1, 3, 12])
    assert result.shape == (4, 3)
    np.testing.assert_allclose(result[:, 0], bounds.elbo(log_weights))
    np.testing.assert_allclose(result[:, 2], bounds.iwae_bound(log_weights))
    by_hand = np.mean([bounds.iwae_bound(log_weights[:, 3 * g : 3 * g + 3]) for g in range(4)], axis=0)
    np.testing.assert_allclose(result[:, 1], by_hand)
    with pytest.raises(ValueError, match="divide"):
        bounds.iwae_by_k(log_weights, [5])


def test_iwae_by_k_grows_toward_the_evidence_on_the_toy_model():
    q_mean, q_log_var = TOY.posterior(X)
    log_weights = toy_log_weights(q_mean + 0.6, q_log_var + 1.2, repeats=20, k=100, seed=6)
    by_k = bounds.iwae_by_k(log_weights, [1, 10, 100, 1000]).mean(axis=0)
    assert np.all(np.diff(by_k) > 0)
    assert by_k[-1] < TOY.log_evidence(X).mean() < by_k[-1] + 0.1
