"""vae_course.diagnostics: per-dimension KL, active units, rate/distortion and the β sweep, against the losses."""

from __future__ import annotations

import numpy as np
import pytest

from vae_course import diagnostics, losses, models


def test_kl_per_dimension_adds_up_to_the_rate_and_finds_active_units():
    rng = np.random.default_rng(7)
    z_mean = np.concatenate([rng.normal(0, 2, size=(100, 2)), np.zeros((100, 2))], axis=1)
    z_log_var = np.concatenate([rng.normal(-3, 0.1, size=(100, 2)), np.zeros((100, 2))], axis=1)
    per_dimension = diagnostics.kl_per_dimension(z_mean, z_log_var)
    assert per_dimension.shape == (4,)
    rate = float(np.mean(losses.kl_divergence(z_mean, z_log_var)))
    assert per_dimension.sum() == pytest.approx(rate, rel=1e-12)
    np.testing.assert_array_equal(per_dimension[2:], 0.0)
    np.testing.assert_array_equal(diagnostics.active_units(per_dimension), [True, True, False, False])
    np.testing.assert_array_equal(diagnostics.active_units([0.005, 0.02], threshold=0.01), [False, True])
    np.testing.assert_array_equal(diagnostics.active_units([0.05, 0.2]), [False, True])  # default: 0.1 nats


@pytest.fixture(scope="module")
def tiny_sweep():
    images = np.random.default_rng(8).uniform(size=(40, 8, 8, 1)).astype(np.float32)
    runs = diagnostics.train_beta_sweep(
        [0.5, 4.0], images, images[:20], latent_dim=3, epochs=1, batch_size=20, seed=1, verbose=False
    )
    return images, runs


def test_train_beta_sweep_builds_the_standard_form(tiny_sweep):
    _, runs = tiny_sweep
    assert [run.beta for run in runs] == [0.5, 4.0]
    for run in runs:
        assert run.vae.kl_weight == run.beta
        assert run.vae.reconstruction_weight == 64  # mean BCE x 64 pixels = summed BCE
        assert run.kl_per_dimension.shape == (3,)
        assert run.rate == pytest.approx(run.kl_per_dimension.sum())
        assert run.n_active == int(np.sum(run.kl_per_dimension > diagnostics.ACTIVE_UNIT_THRESHOLD))
        assert set(run.history) >= {"total_loss", "reconstruction_loss", "kl_loss"}


def test_rate_distortion_matches_the_losses(tiny_sweep):
    images, runs = tiny_sweep
    vae = runs[0].vae
    z_mean, z_log_var, _ = vae.encoder(images[:20])
    measured = diagnostics.rate_distortion(vae, images[:20], batch_size=7)
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
        diagnostics.train_beta_sweep([0.0], images, images, latent_dim=2, verbose=False)


def test_sweep_models_start_from_the_same_weights():
    # With a vanishing learning rate training leaves the weights where they started: all runs must agree.
    images = np.random.default_rng(9).uniform(size=(20, 8, 8, 1)).astype(np.float32)
    runs = diagnostics.train_beta_sweep(
        [1.0, 3.0],
        images,
        images,
        latent_dim=2,
        epochs=1,
        batch_size=10,
        learning_rate=1e-12,
        seed=0,
        verbose=False,
    )
    for run in runs[1:]:
        for first, other in zip(runs[0].vae.get_weights(), run.vae.get_weights()):
            np.testing.assert_allclose(first, other, atol=1e-9)
    fresh = models.build_vae((8, 8, 1), latent_dim=2, seed=0)
    assert not all(np.allclose(a, b) for a, b in zip(fresh.get_weights(), runs[0].vae.get_weights()))


def test_active_units_by_variance_against_known_variances():
    rng = np.random.default_rng(3)
    n = 20_000
    # standard deviations 1, 0.3, 0.05 and 0: variances 1, 0.09, 0.0025 and 0 around different centres
    z_mean = np.stack(
        [rng.normal(2.0, 1.0, n), rng.normal(-1.0, 0.3, n), rng.normal(0.5, 0.05, n), np.full(n, 0.7)], axis=1
    )
    np.testing.assert_array_equal(diagnostics.active_units_by_variance(z_mean), [True, True, False, False])
    assert diagnostics.ACTIVE_UNIT_VARIANCE_THRESHOLD == 0.01
    # the threshold is a variance: 0.05**2 = 0.0025 passes 0.001 but not 0.01
    np.testing.assert_array_equal(
        diagnostics.active_units_by_variance(z_mean, threshold=0.001), [True, True, True, False]
    )
    np.testing.assert_array_equal(
        diagnostics.active_units_by_variance(z_mean, threshold=0.5), [True, False, False, False]
    )


def test_active_units_by_variance_ignores_the_kl_of_a_constant_code():
    # A dimension whose mean is far from 0 but the same for every input costs KL and carries nothing.
    z_mean = np.column_stack([np.full(100, 3.0), np.linspace(-1, 1, 100)])
    np.testing.assert_array_equal(diagnostics.active_units_by_variance(z_mean), [False, True])


@pytest.mark.parametrize("bad", [np.zeros(5), np.zeros((1, 4)), np.zeros((2, 3, 4))])
def test_active_units_by_variance_rejects_a_wrong_shape(bad):
    with pytest.raises(ValueError, match=r"\(N, latent_dim\) with N >= 2"):
        diagnostics.active_units_by_variance(bad)


def test_active_units_by_variance_rejects_a_negative_threshold():
    with pytest.raises(ValueError, match="non-negative"):
        diagnostics.active_units_by_variance(np.zeros((3, 2)), threshold=-0.1)


def test_top_kl_share_by_hand():
    kl = np.array([0.0, 1.0, 3.0, 0.0])
    assert diagnostics.top_kl_share(kl, 1) == pytest.approx(0.75)
    assert diagnostics.top_kl_share(kl, 2) == pytest.approx(1.0)
    assert diagnostics.top_kl_share(kl, 4) == pytest.approx(1.0)
    uniform = np.full(200, 0.5)
    assert diagnostics.top_kl_share(uniform, 20) == pytest.approx(0.1)


def test_top_kl_share_rejects_bad_arguments():
    with pytest.raises(ValueError, match="from 1 to 3"):
        diagnostics.top_kl_share([1.0, 2.0, 3.0], 0)
    with pytest.raises(ValueError, match="from 1 to 3"):
        diagnostics.top_kl_share([1.0, 2.0, 3.0], 4)
    with pytest.raises(ValueError, match="from 1 to 3"):
        diagnostics.top_kl_share([1.0, 2.0, 3.0], 1.5)
    with pytest.raises(ValueError, match="1-D"):
        diagnostics.top_kl_share(np.ones((2, 2)), 1)
    with pytest.raises(ValueError, match="positive"):
        diagnostics.top_kl_share(np.zeros(3), 1)
