"""vae_course.layers.Sampling: the reparameterisation trick as a layer."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from vae_course.layers import Sampling

N_SAMPLES = 200_000
Z_MEAN = np.array([1.5, -2.0, 0.0], dtype=np.float32)
Z_LOG_VAR = np.array([0.4, -1.2, 2.0], dtype=np.float32)


def _draw(layer, z_mean, z_log_var):
    inputs = [keras.ops.convert_to_tensor(z_mean), keras.ops.convert_to_tensor(z_log_var)]
    return keras.ops.convert_to_numpy(layer(inputs))


def _tiled(n=N_SAMPLES):
    return np.tile(Z_MEAN, (n, 1)), np.tile(Z_LOG_VAR, (n, 1))


def test_sample_mean_and_variance_match_the_distribution():
    z_mean, z_log_var = _tiled()
    z = _draw(Sampling(seed=1234), z_mean, z_log_var).astype(np.float64)
    assert z.shape == (N_SAMPLES, 3)

    variance = np.exp(Z_LOG_VAR.astype(np.float64))
    sigma = np.sqrt(variance)
    # Standard errors of the sample mean and of the sample variance of a normal sample.
    mean_se = sigma / np.sqrt(N_SAMPLES)
    var_se = variance * np.sqrt(2.0 / (N_SAMPLES - 1))
    # 5 standard errors: a correct sampler fails this with probability ~6e-7 per check.
    np.testing.assert_array_less(np.abs(z.mean(axis=0) - Z_MEAN), 5 * mean_se)
    np.testing.assert_array_less(np.abs(z.var(axis=0, ddof=1) - variance), 5 * var_se)

    # eps is drawn independently for each latent dimension: correlations ~ N(0, 1/n).
    eps = (z - Z_MEAN) / sigma
    correlation = np.corrcoef(eps, rowvar=False)
    off_diagonal = correlation[~np.eye(3, dtype=bool)]
    assert np.all(np.abs(off_diagonal) < 5 / np.sqrt(N_SAMPLES))
    # ... and is normal, not merely of the right mean and variance: P(|eps| < 1) = 0.6827.
    inside = np.mean(np.abs(eps) < 1.0, axis=0)
    p = 0.682689492
    np.testing.assert_array_less(np.abs(inside - p), 5 * np.sqrt(p * (1 - p) / N_SAMPLES))


def test_output_shape_and_dtype():
    layer = Sampling(seed=0)
    z = layer([keras.ops.zeros((7, 5)), keras.ops.zeros((7, 5))])
    assert tuple(z.shape) == (7, 5)
    assert keras.backend.standardize_dtype(z.dtype) == "float32"
    assert layer.compute_output_shape([(None, 5), (None, 5)]) == (None, 5)
    symbolic = layer([keras.Input((4,)), keras.Input((4,))])
    assert tuple(symbolic.shape) == (None, 4)


def test_zero_log_var_and_zero_mean_give_standard_normal_draws_of_the_same_seed():
    """With mu = 0 and log_var = 0 the layer returns eps itself; shift and scale are then exact."""
    eps = _draw(Sampling(seed=99), np.zeros((1000, 3), np.float32), np.zeros((1000, 3), np.float32))
    z_mean, z_log_var = _tiled(1000)
    z = _draw(Sampling(seed=99), z_mean, z_log_var)
    np.testing.assert_allclose(z, Z_MEAN + np.exp(0.5 * Z_LOG_VAR) * eps, rtol=1e-6, atol=1e-6)


def test_same_seed_same_draws_different_seed_different_draws():
    z_mean, z_log_var = _tiled(500)
    first = [_draw(Sampling(seed=7), z_mean, z_log_var) for _ in range(2)]
    np.testing.assert_array_equal(first[0], first[1])

    layer_a, layer_b = Sampling(seed=7), Sampling(seed=7)
    stream_a = [_draw(layer_a, z_mean, z_log_var) for _ in range(3)]
    stream_b = [_draw(layer_b, z_mean, z_log_var) for _ in range(3)]
    for a, b in zip(stream_a, stream_b):
        np.testing.assert_array_equal(a, b)
    # Successive calls of one layer draw new eps.
    assert not np.array_equal(stream_a[0], stream_a[1])

    other = _draw(Sampling(seed=8), z_mean, z_log_var)
    assert not np.allclose(other, first[0])


def test_config_round_trip_keeps_seed():
    layer = Sampling(seed=321, name="my_sampling")
    config = layer.get_config()
    assert config["seed"] == 321
    clone = Sampling.from_config(config)
    assert isinstance(clone, Sampling)
    assert clone.seed == 321 and clone.name == "my_sampling"
    z_mean, z_log_var = _tiled(100)
    np.testing.assert_array_equal(
        _draw(clone, z_mean, z_log_var), _draw(Sampling(seed=321), z_mean, z_log_var)
    )

    # Through Keras' serialisation (the path a .keras file takes), by its registered name.
    serialized = keras.saving.serialize_keras_object(layer)
    assert serialized["registered_name"] == "vae_course>Sampling"
    restored = keras.saving.deserialize_keras_object(serialized)
    assert isinstance(restored, Sampling) and restored.seed == 321


def test_unseeded_layers_differ():
    z_mean, z_log_var = _tiled(100)
    assert not np.array_equal(_draw(Sampling(), z_mean, z_log_var), _draw(Sampling(), z_mean, z_log_var))
    assert Sampling().get_config()["seed"] is None


def test_gradients_flow_through_mean_and_log_var():
    rng = np.random.default_rng(0)
    mu = tf.Variable(rng.normal(size=(64, 4)).astype(np.float32))
    log_var = tf.Variable(rng.normal(scale=1.5, size=(64, 4)).astype(np.float32))
    layer = Sampling(seed=5)

    with tf.GradientTape(persistent=True) as tape:
        z = layer([mu, log_var])
        # z is elementwise in mu and log_var, so the gradient of sum(z) is dz_i/dmu_i per element.
        total = tf.reduce_sum(z)
        weighted = tf.reduce_sum(3.0 * z)
    grad_mu, grad_log_var = tape.gradient(total, [mu, log_var])
    grad_mu3 = tape.gradient(weighted, mu)
    del tape

    assert grad_mu is not None and grad_log_var is not None
    np.testing.assert_allclose(grad_mu.numpy(), 1.0, rtol=0, atol=0)
    np.testing.assert_allclose(grad_mu3.numpy(), 3.0, rtol=0, atol=0)

    sigma = np.exp(0.5 * log_var.numpy().astype(np.float64))
    eps = (z.numpy().astype(np.float64) - mu.numpy()) / sigma  # recover this draw's eps
    expected = 0.5 * sigma * eps  # d/dlv (mu + exp(lv/2) eps) = 0.5 exp(lv/2) eps
    np.testing.assert_allclose(grad_log_var.numpy(), expected, rtol=1e-4, atol=1e-5)
    assert np.abs(grad_log_var.numpy()).max() > 0.1  # not trivially zero


def test_layer_has_no_trainable_weights():
    layer = Sampling(seed=1)
    layer([keras.ops.zeros((2, 2)), keras.ops.zeros((2, 2))])
    assert layer.trainable_weights == []


@pytest.mark.parametrize("latent_dim", [1, 2, 200])
def test_inside_a_functional_model(latent_dim):
    z_mean_in, z_log_var_in = keras.Input((latent_dim,)), keras.Input((latent_dim,))
    model = keras.Model([z_mean_in, z_log_var_in], Sampling(seed=3)([z_mean_in, z_log_var_in]))
    z_mean = np.full((8, latent_dim), 4.0, np.float32)
    z_log_var = np.full((8, latent_dim), -30.0, np.float32)  # sigma = exp(-15) ~ 3e-7
    out = model.predict([z_mean, z_log_var], verbose=0)
    assert out.shape == (8, latent_dim)
    np.testing.assert_allclose(out, 4.0, atol=1e-5)
