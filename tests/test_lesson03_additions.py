"""``vae_course.experiments`` (lesson 03) against numerical integration, closed forms and the losses."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from vae_course import experiments, losses, models

TOY = experiments.LinearGaussian(a=2.0, b=0.5, noise_std=0.8)
X = np.array([-3.0, -0.4, 0.5, 1.2, 4.0])


def quad_kl(mean_q, std_q, mean_p, std_p):
    def integrand(z):
        return stats.norm.pdf(z, mean_q, std_q) * (stats.norm.logpdf(z, mean_q, std_q)
                                                   - stats.norm.logpdf(z, mean_p, std_p))
    return integrate.quad(integrand, mean_q - 12 * std_q, mean_q + 12 * std_q, epsabs=1e-13, epsrel=1e-11,
                          limit=200)[0]


@pytest.mark.parametrize("mean_q, std_q, mean_p, std_p", [
    (0.0, 1.0, 0.0, 1.0), (1.0, 0.5, 0.0, 1.0), (-5.0, 0.05, 0.0, 1.0), (5.0, 10.0, 0.0, 1.0),
    (2.0, 0.3, -1.0, 2.5), (0.1, 4.0, 0.2, 0.7),
])
def test_gaussian_kl_matches_numerical_integration(mean_q, std_q, mean_p, std_p):
    value = experiments.gaussian_kl([[mean_q]], [[2 * np.log(std_q)]], [[mean_p]], [[2 * np.log(std_p)]])
    assert value.shape == (1,)
    assert value[0] == pytest.approx(quad_kl(mean_q, std_q, mean_p, std_p), rel=1e-8, abs=1e-11)


def test_gaussian_kl_sums_dimensions_and_reduces_to_the_course_kl():
    rng = np.random.default_rng(0)
    z_mean, z_log_var = rng.normal(size=(6, 4)), rng.normal(size=(6, 4))
    np.testing.assert_allclose(experiments.gaussian_kl(z_mean, z_log_var, 0.0, 0.0),
                               np.asarray(losses.kl_divergence(z_mean, z_log_var)), rtol=1e-12)
    mean_p, log_var_p = rng.normal(size=(6, 4)), rng.normal(size=(6, 4))
    per_dimension = [
        experiments.gaussian_kl(z_mean[:, [j]], z_log_var[:, [j]], mean_p[:, [j]], log_var_p[:, [j]])
        for j in range(4)
    ]
    np.testing.assert_allclose(experiments.gaussian_kl(z_mean, z_log_var, mean_p, log_var_p),
                               np.sum(per_dimension, axis=0), rtol=1e-12)


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
    for q_mean, q_log_var in [(posterior_mean, posterior_log_var),
                              (posterior_mean + 0.6, posterior_log_var + 1.2),
                              (np.zeros_like(posterior_mean), np.zeros_like(posterior_log_var))]:
        kl_to_posterior = experiments.gaussian_kl(q_mean, q_log_var, posterior_mean, posterior_log_var)
        np.testing.assert_allclose(TOY.elbo(X, q_mean, q_log_var) + kl_to_posterior, TOY.log_evidence(X),
                                   rtol=1e-12)
    exact_q = TOY.elbo(X, posterior_mean, posterior_log_var)
    np.testing.assert_allclose(exact_q, TOY.log_evidence(X), rtol=1e-12)


def toy_log_weights(q_mean, q_log_var, repeats, k, seed):
    """``repeats * k`` log weights per example of X on the toy model, in one vectorised call."""
    log_weights = losses.log_importance_weights(TOY.log_likelihood(np.repeat(X, repeats)),
                                                np.repeat(q_mean, repeats, axis=0),
                                                np.repeat(q_log_var, repeats, axis=0), k=k, seed=seed)
    return log_weights.reshape(len(X), repeats * k)


def test_closed_form_elbo_matches_monte_carlo():
    q_mean, q_log_var = TOY.posterior(X)
    q_mean, q_log_var = q_mean - 0.5, q_log_var - 0.7
    log_weights = toy_log_weights(q_mean, q_log_var, repeats=100, k=40, seed=3)
    standard_error = log_weights.std(axis=1, ddof=1) / np.sqrt(log_weights.shape[1])
    assert np.all(np.abs(losses.elbo(log_weights) - TOY.elbo(X, q_mean, q_log_var)) < 5 * standard_error)


def test_samples_follow_the_marginal():
    x = TOY.sample(20_000, seed=4)
    assert stats.kstest(x, stats.norm(TOY.b, np.sqrt(TOY.a**2 + TOY.noise_std**2)).cdf).pvalue > 0.01


def test_linear_gaussian_needs_positive_noise():
    with pytest.raises(ValueError, match="noise_std must be positive"):
        experiments.LinearGaussian(noise_std=0.0)


def test_iwae_by_k_groups_the_draws():
    log_weights = np.random.default_rng(5).normal(-20.0, 3.0, size=(4, 12))
    result = experiments.iwae_by_k(log_weights, [1, 3, 12])
    assert result.shape == (4, 3)
    np.testing.assert_allclose(result[:, 0], losses.elbo(log_weights))
    np.testing.assert_allclose(result[:, 2], losses.iwae_bound(log_weights))
    by_hand = np.mean([losses.iwae_bound(log_weights[:, 3 * g:3 * g + 3]) for g in range(4)], axis=0)
    np.testing.assert_allclose(result[:, 1], by_hand)
    with pytest.raises(ValueError, match="divide"):
        experiments.iwae_by_k(log_weights, [5])


def test_iwae_by_k_grows_toward_the_evidence_on_the_toy_model():
    q_mean, q_log_var = TOY.posterior(X)
    log_weights = toy_log_weights(q_mean + 0.6, q_log_var + 1.2, repeats=20, k=100, seed=6)
    bounds = experiments.iwae_by_k(log_weights, [1, 10, 100, 1000]).mean(axis=0)
    assert np.all(np.diff(bounds) > 0)
    assert bounds[-1] < TOY.log_evidence(X).mean() < bounds[-1] + 0.1


def test_kl_per_dimension_adds_up_to_the_rate_and_finds_active_units():
    rng = np.random.default_rng(7)
    z_mean = np.concatenate([rng.normal(0, 2, size=(100, 2)), np.zeros((100, 2))], axis=1)
    z_log_var = np.concatenate([rng.normal(-3, 0.1, size=(100, 2)), np.zeros((100, 2))], axis=1)
    per_dimension = experiments.kl_per_dimension(z_mean, z_log_var)
    assert per_dimension.shape == (4,)
    rate = float(np.mean(losses.kl_divergence(z_mean, z_log_var)))
    assert per_dimension.sum() == pytest.approx(rate, rel=1e-12)
    np.testing.assert_array_equal(per_dimension[2:], 0.0)
    np.testing.assert_array_equal(experiments.active_units(per_dimension), [True, True, False, False])
    np.testing.assert_array_equal(experiments.active_units([0.005, 0.02], threshold=0.01), [False, True])
    np.testing.assert_array_equal(experiments.active_units([0.05, 0.2]), [False, True])  # default: 0.1 nats


@pytest.fixture(scope="module")
def tiny_sweep():
    images = np.random.default_rng(8).uniform(size=(40, 8, 8, 1)).astype(np.float32)
    runs = experiments.train_beta_sweep([0.5, 4.0], images, images[:20], latent_dim=3, epochs=1,
                                        batch_size=20, seed=1, verbose=False)
    return images, runs


def test_train_beta_sweep_builds_the_standard_form(tiny_sweep):
    _, runs = tiny_sweep
    assert [run.beta for run in runs] == [0.5, 4.0]
    for run in runs:
        assert run.vae.kl_weight == run.beta
        assert run.vae.reconstruction_weight == 64  # mean BCE x 64 pixels = summed BCE
        assert run.kl_per_dimension.shape == (3,)
        assert run.rate == pytest.approx(run.kl_per_dimension.sum())
        assert run.n_active == int(np.sum(run.kl_per_dimension > experiments.ACTIVE_UNIT_THRESHOLD))
        assert set(run.history) >= {"total_loss", "reconstruction_loss", "kl_loss"}


def test_rate_distortion_matches_the_losses(tiny_sweep):
    images, runs = tiny_sweep
    vae = runs[0].vae
    z_mean, z_log_var, _ = vae.encoder(images[:20])
    measured = experiments.rate_distortion(vae, images[:20], batch_size=7)
    z_mean, z_log_var = np.asarray(z_mean, dtype=np.float64), np.asarray(z_log_var, dtype=np.float64)
    # float32 encoder run on other batch sizes: agreement to float32 precision
    rate = float(np.mean(losses.kl_divergence(z_mean, z_log_var)))
    assert measured["rate"] == pytest.approx(rate, rel=1e-6)
    # the distortion decodes a sampled z: close to the cross-entropy of the decoded mean
    at_mean = float(np.mean(losses.binary_crossentropy(images[:20], vae.decoder(z_mean), reduction="sum")))
    assert measured["distortion"] == pytest.approx(at_mean, rel=0.05)
    assert measured["elbo"] == pytest.approx(-(measured["rate"] + measured["distortion"]))


def test_train_beta_sweep_rejects_a_non_positive_beta():
    images = np.zeros((4, 8, 8, 1), dtype=np.float32)
    with pytest.raises(ValueError, match="positive"):
        experiments.train_beta_sweep([0.0], images, images, latent_dim=2, verbose=False)


def test_sweep_models_start_from_the_same_weights():
    # With a vanishing learning rate training leaves the weights where they started: all runs must agree.
    images = np.random.default_rng(9).uniform(size=(20, 8, 8, 1)).astype(np.float32)
    runs = experiments.train_beta_sweep([1.0, 3.0], images, images, latent_dim=2, epochs=1, batch_size=10,
                                        learning_rate=1e-12, seed=0, verbose=False)
    for run in runs[1:]:
        for first, other in zip(runs[0].vae.get_weights(), run.vae.get_weights()):
            np.testing.assert_allclose(first, other, atol=1e-9)
    fresh = models.build_vae((8, 8, 1), latent_dim=2, seed=0)
    assert not all(np.allclose(a, b) for a, b in zip(fresh.get_weights(), runs[0].vae.get_weights()))
