"""vae_course.models: shapes of the builders, the VAE's losses, training, saving and reloading."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path
from types import SimpleNamespace

import keras
import numpy as np
import pytest

from vae_course import losses, models
from vae_course.layers import Sampling

KL_WEIGHT = 0.5
RECONSTRUCTION_WEIGHT = 500.0


def _images(n, shape=(32, 32, 1), seed=0):
    return np.random.default_rng(seed).random((n, *shape)).astype(np.float32)


def _numpy(tensor):
    return np.asarray(keras.ops.convert_to_numpy(tensor))


# --------------------------------------------------------------------------------------------
# Builders: shapes
# --------------------------------------------------------------------------------------------


def test_autoencoder_encoder_shapes():
    encoder = models.build_encoder()
    assert tuple(encoder.output.shape) == (None, 2)
    expected = {"conv_1": (None, 16, 16, 32), "conv_2": (None, 8, 8, 64), "conv_3": (None, 4, 4, 128)}
    for name, shape in expected.items():
        assert tuple(encoder.get_layer(name).output.shape) == shape
    assert tuple(encoder.get_layer("flatten").output.shape) == (None, 4 * 4 * 128)
    embedding = encoder.predict(_images(5), verbose=0)
    assert embedding.shape == (5, 2)
    assert np.all(np.isfinite(embedding))


def test_variational_encoder_outputs():
    encoder = models.build_encoder(latent_dim=3, variational=True, seed=1)
    assert [tuple(t.shape) for t in encoder.outputs] == [(None, 3)] * 3
    assert isinstance(encoder.get_layer("sampling"), Sampling)
    z_mean, z_log_var, z = encoder.predict(_images(4), verbose=0)
    assert z_mean.shape == z_log_var.shape == z.shape == (4, 3)
    assert not np.allclose(z, z_mean)  # z is a draw around z_mean, not z_mean itself
    # z is z_mean + exp(z_log_var / 2) * eps with |eps| of order 1.
    eps = (z - z_mean) / np.exp(0.5 * z_log_var)
    assert np.all(np.abs(eps) < 6)


def test_decoder_output_shape_and_range():
    decoder = models.build_decoder()
    assert tuple(decoder.output.shape) == (None, 32, 32, 1)
    assert tuple(decoder.get_layer("reshape").output.shape) == (None, 4, 4, 128)
    for index, (size, channels) in enumerate([(8, 128), (16, 64), (32, 32)], start=1):
        layer = decoder.get_layer(f"conv_transpose_{index}")
        assert tuple(layer.output.shape) == (None, size, size, channels)
    z = np.random.default_rng(1).normal(scale=3.0, size=(6, 2)).astype(np.float32)
    images = decoder.predict(z, verbose=0)
    assert images.shape == (6, 32, 32, 1)
    assert images.min() > 0.0 and images.max() < 1.0


def test_builders_for_faces():
    """The face lessons: 64x64 RGB, latent 200, four blocks (32, 64, 64, 64)."""
    filters = (32, 64, 64, 64)
    encoder = models.build_encoder((64, 64, 3), latent_dim=200, filters=filters, variational=True, seed=0)
    for index, (size, channels) in enumerate([(32, 32), (16, 64), (8, 64), (4, 64)], start=1):
        assert tuple(encoder.get_layer(f"conv_{index}").output.shape) == (None, size, size, channels)
    assert [tuple(t.shape) for t in encoder.outputs] == [(None, 200)] * 3

    decoder = models.build_decoder(200, (64, 64, 3), tuple(reversed(filters)))
    assert tuple(decoder.get_layer("reshape").output.shape) == (None, 4, 4, 64)
    assert tuple(decoder.output.shape) == (None, 64, 64, 3)

    vae = models.build_vae((64, 64, 3), latent_dim=200, filters=filters, seed=0)
    out = vae.predict(_images(2, (64, 64, 3)), verbose=0)
    assert out.shape == (2, 64, 64, 3)
    assert out.min() > 0.0 and out.max() < 1.0


def test_fashion_models_keep_their_layer_names_and_parameter_counts():
    """Saved lesson-01/02 models must still load: the default builders may not change a layer."""
    vae = models.build_vae(seed=0)
    assert [(layer.name, layer.count_params()) for layer in vae.encoder.layers] == [
        ("encoder_input", 0),
        ("conv_1", 320),
        ("conv_2", 18_496),
        ("conv_3", 73_856),
        ("flatten", 0),
        ("z_mean", 4_098),
        ("z_log_var", 4_098),
        ("sampling", 0),
    ]
    assert [(layer.name, layer.count_params()) for layer in vae.decoder.layers] == [
        ("decoder_input", 0),
        ("dense", 6_144),
        ("reshape", 0),
        ("conv_transpose_1", 147_584),
        ("conv_transpose_2", 73_792),
        ("conv_transpose_3", 18_464),
        ("decoder_output", 289),
    ]
    assert vae.encoder.get_layer("conv_1").get_config()["activation"] == "relu"
    assert isinstance(vae.decoder.get_layer("decoder_output"), keras.layers.Conv2D)
    assert not isinstance(vae.decoder.get_layer("decoder_output"), keras.layers.Conv2DTranspose)


def _layer_kinds(model):
    return [type(layer).__name__ for layer in model.layers]


def test_face_builders_follow_the_book():
    """Issue 8: 5 x [Conv2D 64, stride 2 -> BN -> LeakyReLU], Dense 200; the decoder mirrors it."""
    vae = models.build_face_vae(seed=0)
    encoder, decoder = vae.encoder, vae.decoder
    assert encoder.count_params() == 253_584
    assert decoder.count_params() == 240_131
    assert tuple(encoder.input.shape) == (None, 64, 64, 3)
    assert [tuple(t.shape) for t in encoder.outputs] == [(None, 200)] * 3
    assert tuple(decoder.input.shape) == (None, 200)
    assert tuple(decoder.output.shape) == (None, 64, 64, 3)
    block = ["Conv2D", "BatchNormalization", "LeakyReLU"]
    assert _layer_kinds(encoder) == ["InputLayer", *block * 5, "Flatten", "Dense", "Dense", "Sampling"]
    assert _layer_kinds(decoder) == [
        "InputLayer",
        "Dense",
        "BatchNormalization",
        "LeakyReLU",
        "Reshape",
        *["Conv2DTranspose", "BatchNormalization", "LeakyReLU"] * 5,
        "Conv2DTranspose",
    ]
    for index, size in enumerate([32, 16, 8, 4, 2], start=1):
        conv = encoder.get_layer(f"conv_{index}")
        assert tuple(conv.output.shape) == (None, size, size, 64)
        assert (conv.get_config()["strides"], conv.get_config()["activation"]) == ((2, 2), "linear")
    assert tuple(decoder.get_layer("reshape").output.shape) == (None, 2, 2, 64)
    output = decoder.get_layer("decoder_output").get_config()
    assert (output["filters"], output["kernel_size"], output["strides"], output["activation"]) == (
        3,
        (3, 3),
        (1, 1),
        "sigmoid",
    )
    assert (vae.reconstruction_loss, vae.reconstruction_weight, vae.kl_weight) == ("mse", 2000.0, 1.0)
    images = vae.predict(_images(2, (64, 64, 3)), verbose=0)
    assert images.shape == (2, 64, 64, 3)
    assert images.min() > 0.0 and images.max() < 1.0


def test_builder_options_compose_for_grey_images():
    """The options are independent: batch norm with ReLU, or LeakyReLU without batch norm."""
    encoder = models.build_encoder(normalization="batch", activation="relu")
    assert _layer_kinds(encoder)[1:4] == ["Conv2D", "BatchNormalization", "ReLU"]
    decoder = models.build_decoder(activation="leaky_relu", output_layer="conv_transpose")
    assert _layer_kinds(decoder) == [
        "InputLayer",
        "Dense",
        "Reshape",
        *["Conv2DTranspose", "LeakyReLU"] * 3,
        "Conv2DTranspose",
    ]
    assert tuple(decoder.output.shape) == (None, 32, 32, 1)


@pytest.mark.parametrize(
    "builder, options, message",
    [
        (models.build_encoder, {"normalization": "layer"}, "normalization must be one of"),
        (models.build_encoder, {"activation": "tanh"}, "activation must be one of"),
        (models.build_decoder, {"normalization": "Batch"}, "normalization must be one of"),
        (models.build_decoder, {"output_layer": "dense"}, "output_layer must be one of"),
    ],
)
def test_unknown_builder_options_are_named(builder, options, message):
    with pytest.raises(ValueError, match=message) as info:
        builder(**options)
    assert repr(next(iter(options.values()))) in str(info.value)


def test_face_vae_image_size_must_be_halvable_five_times():
    with pytest.raises(ValueError, match="multiples of 32"):
        models.build_face_vae(image_size=48)


@pytest.fixture(scope="module")
def face_vae_after_one_step():
    keras.utils.set_random_seed(0)
    vae = models.build_face_vae(seed=0)
    images = _images(8, (64, 64, 3), seed=3)
    conv_1 = keras.Model(vae.encoder.input, vae.encoder.get_layer("conv_1").output)
    batch_mean_before = _numpy(keras.ops.mean(conv_1(images), axis=(0, 1, 2)))
    moving_mean_before = _numpy(vae.encoder.get_layer("conv_1_batch_norm").moving_mean).copy()
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    history = vae.fit(images, epochs=1, batch_size=8, verbose=0)
    return SimpleNamespace(
        vae=vae,
        history=history.history,
        images=images,
        moving_mean_before=moving_mean_before,
        batch_mean_before=batch_mean_before,
    )


def test_face_vae_trains_one_step_without_nan(face_vae_after_one_step):
    history = face_vae_after_one_step.history
    assert set(history) == {"total_loss", "reconstruction_loss", "kl_loss"}
    assert all(np.isfinite(values[0]) for values in history.values())
    # Uniform pixels against an untrained decoder near 0.5: mean MSE about 1/12, times 2000.
    assert 50.0 < history["reconstruction_loss"][0] < 1000.0


def test_train_step_updates_batch_norm_moving_statistics(face_vae_after_one_step):
    """train_step runs the encoder with training=True, so BN updates its moving averages.

    After one step from zero, Keras' rule ``moving = 0.99 * moving + 0.01 * batch_mean`` gives
    0.01 x the per-channel mean of the first convolution's outputs on that batch.
    """
    batch_norm = face_vae_after_one_step.vae.encoder.get_layer("conv_1_batch_norm")
    np.testing.assert_array_equal(face_vae_after_one_step.moving_mean_before, 0.0)
    expected = 0.01 * face_vae_after_one_step.batch_mean_before
    assert np.abs(expected).max() > 1e-4  # the check below can tell a step from no step
    np.testing.assert_allclose(_numpy(batch_norm.moving_mean), expected, rtol=1e-3, atol=1e-7)
    decoder_norm = face_vae_after_one_step.vae.decoder.get_layer("dense_batch_norm")
    assert np.abs(_numpy(decoder_norm.moving_mean)).max() > 0.0


def test_face_vae_round_trips_through_a_keras_file(face_vae_after_one_step, tmp_path):
    vae = face_vae_after_one_step.vae
    path = tmp_path / "face_vae.keras"
    vae.save(path)
    reloaded = keras.models.load_model(path)
    assert isinstance(reloaded, models.VAE)
    assert (reloaded.reconstruction_loss, reloaded.reconstruction_weight) == ("mse", 2000.0)
    images = face_vae_after_one_step.images
    np.testing.assert_allclose(reloaded.predict(images, verbose=0), vae.predict(images, verbose=0), atol=1e-6)
    for name in ("conv_1_batch_norm", "conv_5_batch_norm"):
        np.testing.assert_array_equal(
            _numpy(reloaded.encoder.get_layer(name).moving_variance),
            _numpy(vae.encoder.get_layer(name).moving_variance),
        )


def test_non_square_images():
    encoder = models.build_encoder((32, 64, 1), latent_dim=4)
    assert tuple(encoder.get_layer("conv_3").output.shape) == (None, 4, 8, 128)
    decoder = models.build_decoder(4, (32, 64, 1))
    assert tuple(decoder.output.shape) == (None, 32, 64, 1)


@pytest.mark.parametrize("shape", [(30, 30, 1), (28, 28, 1), (32, 36, 1)])
def test_bad_image_shape_is_actionable(shape):
    with pytest.raises(ValueError) as info:
        models.build_encoder(input_shape=shape)
    message = str(info.value)
    assert f"{shape[0]}x{shape[1]}" in message
    assert "multiples of 8" in message
    assert "pad 28x28 images to 32x32" in message
    with pytest.raises(ValueError, match="multiples of 8"):
        models.build_decoder(output_shape=shape)
    with pytest.raises(ValueError, match="multiples of 8"):
        models.build_vae(input_shape=shape)


def test_bad_image_shape_depends_on_number_of_blocks():
    # 48 = 16 x 3 can be halved 4 times; 40 cannot.
    encoder = models.build_encoder((48, 48, 1), filters=(8, 8, 8, 8))
    assert tuple(encoder.get_layer("conv_4").output.shape) == (None, 3, 3, 8)
    with pytest.raises(ValueError, match="multiples of 16"):
        models.build_encoder((40, 40, 1), filters=(8, 8, 8, 8))


def test_image_shape_without_channels():
    with pytest.raises(ValueError, match=r"\(height, width, channels\)"):
        models.build_encoder(input_shape=(32, 32))


def test_build_autoencoder_shares_weights():
    autoencoder, encoder, decoder = models.build_autoencoder(latent_dim=2)
    assert tuple(autoencoder.output.shape) == (None, 32, 32, 1)
    ids = {id(v) for v in autoencoder.weights}
    assert ids == {id(v) for v in encoder.weights} | {id(v) for v in decoder.weights}
    n_trainable = len(encoder.trainable_weights) + len(decoder.trainable_weights)
    assert len(autoencoder.trainable_weights) == n_trainable

    x = _images(3)
    before = autoencoder.predict(x, verbose=0)
    np.testing.assert_allclose(before, decoder.predict(encoder.predict(x, verbose=0), verbose=0), atol=1e-6)

    # Change the encoder and the decoder: the autoencoder sees both changes.
    conv = encoder.get_layer("conv_1")
    conv.kernel.assign(conv.kernel * 1.5)
    out_layer = decoder.get_layer("decoder_output")
    out_layer.bias.assign(out_layer.bias + 0.25)
    after = autoencoder.predict(x, verbose=0)
    assert not np.allclose(after, before)
    np.testing.assert_allclose(after, decoder.predict(encoder.predict(x, verbose=0), verbose=0), atol=1e-6)


# --------------------------------------------------------------------------------------------
# VAE
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["BCE", "l2", "mae", ""])
def test_vae_invalid_reconstruction_loss(name):
    encoder = models.build_encoder(variational=True)
    decoder = models.build_decoder()
    with pytest.raises(ValueError) as info:
        models.VAE(encoder, decoder, reconstruction_loss=name)
    assert "'bce'" in str(info.value) and "'mse'" in str(info.value) and repr(name) in str(info.value)
    with pytest.raises(ValueError, match="reconstruction_loss"):
        models.build_vae(reconstruction_loss=name)


def test_vae_call_is_deterministic_and_decodes_the_mean():
    vae = models.build_vae(seed=3)
    x = _images(8)
    first, second = _numpy(vae(x)), _numpy(vae(x))
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(vae.predict(x, verbose=0), vae.predict(x, verbose=0))
    z_mean, _, _ = vae.encoder(x)
    np.testing.assert_allclose(first, _numpy(vae.decoder(z_mean)), atol=1e-6)
    # In training mode the sampled z is decoded: two calls differ.
    assert not np.array_equal(_numpy(vae(x, training=True)), _numpy(vae(x, training=True)))


def _freeze_sampling(vae):
    """Make the posterior a near-point mass: z_log_var = -40, so z = z_mean + ~2e-9 * eps.

    The reconstruction term then no longer depends on the random draw and can be checked exactly.
    """
    layer = vae.encoder.get_layer("z_log_var")
    layer.kernel.assign(keras.ops.zeros_like(layer.kernel))
    layer.bias.assign(keras.ops.full_like(layer.bias, -40.0))


@pytest.mark.parametrize("reconstruction_loss", ["bce", "mse"])
def test_vae_evaluate_matches_losses_by_hand(reconstruction_loss):
    vae = models.build_vae(
        seed=4,
        reconstruction_loss=reconstruction_loss,
        reconstruction_weight=RECONSTRUCTION_WEIGHT,
        kl_weight=KL_WEIGHT,
    )
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    _freeze_sampling(vae)
    x = _images(16, seed=5)

    result = vae.evaluate(x, batch_size=16, return_dict=True, verbose=0)
    assert set(result) == {"total_loss", "reconstruction_loss", "kl_loss"}

    z_mean, z_log_var, _ = (_numpy(t) for t in vae.encoder(x))
    np.testing.assert_array_equal(z_log_var, -40.0)
    kl = _numpy(losses.kl_divergence(z_mean, z_log_var)).mean()
    reconstruction = _numpy(vae.decoder(z_mean))
    per_image = losses.RECONSTRUCTION_LOSSES[reconstruction_loss](x, reconstruction, reduction="mean")
    rec = RECONSTRUCTION_WEIGHT * _numpy(per_image).mean()
    # Independent NumPy versions of the per-image terms.
    if reconstruction_loss == "bce":
        p = np.clip(reconstruction, 1e-7, 1 - 1e-7).astype(np.float64)
        by_numpy = -(x * np.log(p) + (1 - x) * np.log(1 - p)).reshape(16, -1).mean(axis=1)
    else:
        by_numpy = ((x - reconstruction.astype(np.float64)) ** 2).reshape(16, -1).mean(axis=1)
    np.testing.assert_allclose(rec, RECONSTRUCTION_WEIGHT * by_numpy.mean(), rtol=1e-5)
    kl_by_numpy = 0.5 * (np.exp(-40.0) + z_mean.astype(np.float64) ** 2 - 1 + 40.0).sum(axis=1).mean()
    np.testing.assert_allclose(kl, kl_by_numpy, rtol=1e-5)

    np.testing.assert_allclose(result["kl_loss"], kl, rtol=1e-5)
    np.testing.assert_allclose(result["reconstruction_loss"], rec, rtol=1e-5)
    np.testing.assert_allclose(result["total_loss"], rec + KL_WEIGHT * kl, rtol=1e-5)

    # compute_vae_losses is what test_step records.
    total, rec_direct, kl_direct = (float(_numpy(t)) for t in vae.compute_vae_losses(x))
    np.testing.assert_allclose([total, rec_direct, kl_direct], [rec + KL_WEIGHT * kl, rec, kl], rtol=1e-5)


def test_vae_evaluate_kl_exact_and_total_relation_with_sampling():
    vae = models.build_vae(seed=6, kl_weight=KL_WEIGHT)
    vae.compile(optimizer="adam")
    # Spread the posterior so the KL term is far from zero.
    layer = vae.encoder.get_layer("z_log_var")
    layer.bias.assign(keras.ops.convert_to_tensor(np.array([1.0, -2.0], np.float32)))
    x = _images(32, seed=7)

    result = vae.evaluate(x, batch_size=32, return_dict=True, verbose=0)
    z_mean, z_log_var, _ = (_numpy(t) for t in vae.encoder(x))
    kl = (0.5 * (np.exp(z_log_var) + z_mean**2 - 1 - z_log_var).sum(axis=1)).mean()
    assert kl > 0.5
    np.testing.assert_allclose(result["kl_loss"], kl, rtol=1e-5)
    np.testing.assert_allclose(
        result["total_loss"], result["reconstruction_loss"] + KL_WEIGHT * result["kl_loss"], rtol=1e-6
    )
    # The reconstruction term is 500 x a mean BCE: at most 500 x (BCE of a 0.5 guess) ~ 347 when untrained.
    assert 0 < result["reconstruction_loss"] < RECONSTRUCTION_WEIGHT * 1.0


# --------------------------------------------------------------------------------------------
# Training, saving, reloading (one small training run shared by the tests below)
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("trained_vae")
    keras.utils.set_random_seed(0)
    vae = models.build_vae(seed=0, kl_weight=KL_WEIGHT, reconstruction_weight=RECONSTRUCTION_WEIGHT)
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    x_train, x_val = _images(64, seed=1), _images(32, seed=2)
    weights_before = [np.array(w) for w in vae.get_weights()]
    checkpoint_path = folder / "best.keras"
    # Keras >= 3.6 cannot tell whether a custom metric such as val_total_loss should go down or up
    # ("auto" mode raises ValueError); a lesson has to say mode="min".
    checkpoint = keras.callbacks.ModelCheckpoint(
        str(checkpoint_path), monitor="val_total_loss", save_best_only=True, mode="min"
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = vae.fit(
            x_train, epochs=2, batch_size=32, validation_data=(x_val,), callbacks=[checkpoint], verbose=0
        )
    return SimpleNamespace(
        vae=vae,
        history=history.history,
        x_train=x_train,
        x_val=x_val,
        weights_before=weights_before,
        checkpoint_path=checkpoint_path,
        warnings=[str(w.message) for w in caught],
        folder=folder,
    )


def test_fit_history_has_all_losses_and_val_twins(trained):
    names = {"total_loss", "reconstruction_loss", "kl_loss"}
    assert set(trained.history) == names | {f"val_{name}" for name in names}
    for name, values in trained.history.items():
        assert len(values) == 2, name
        assert np.all(np.isfinite(values)), name
    for prefix in ("", "val_"):
        total = np.array(trained.history[f"{prefix}total_loss"])
        rec = np.array(trained.history[f"{prefix}reconstruction_loss"])
        kl = np.array(trained.history[f"{prefix}kl_loss"])
        assert np.all(kl >= 0) and np.all(rec > 0)
        np.testing.assert_allclose(total, rec + KL_WEIGHT * kl, rtol=1e-5)


def test_fit_updates_encoder_and_decoder_weights(trained):
    after = trained.vae.get_weights()
    assert len(after) == len(trained.weights_before)
    changed = [not np.array_equal(a, b) for a, b in zip(after, trained.weights_before)]
    # Every trainable weight moved (the Sampling layer's seed state is not trainable).
    trainable_ids = {id(w) for w in trained.vae.trainable_weights}
    for weight, moved in zip(trained.vae.weights, changed):
        if id(weight) in trainable_ids:
            assert moved, weight.path


def test_model_checkpoint_writes_the_best_model(trained):
    assert trained.checkpoint_path.is_file()
    assert trained.checkpoint_path.stat().st_size > 0
    assert not [m for m in trained.warnings if "val_total_loss" in m], trained.warnings
    best = keras.models.load_model(trained.checkpoint_path)
    assert isinstance(best, models.VAE)
    # The best epoch's model: its validation KL (deterministic) is one of the recorded ones.
    result = best.evaluate(trained.x_val, batch_size=32, return_dict=True, verbose=0)
    best_epoch = int(np.argmin(trained.history["val_total_loss"]))
    np.testing.assert_allclose(result["kl_loss"], trained.history["val_kl_loss"][best_epoch], rtol=1e-4)


_RELOAD_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import keras
    from vae_course import losses, models  # registers VAE and Sampling

    model_path, input_path, output_path, info_path = sys.argv[1:5]
    vae = keras.models.load_model(model_path)
    x = np.load(input_path)
    np.save(output_path, vae.predict(x, verbose=0))
    z_mean, z_log_var, _ = vae.encoder(x)
    info = {
        "class": type(vae).__name__,
        "reconstruction_loss": vae.reconstruction_loss,
        "reconstruction_weight": vae.reconstruction_weight,
        "kl_weight": vae.kl_weight,
        "sampling_seed": vae.encoder.get_layer("sampling").seed,
        "kl": float(keras.ops.convert_to_numpy(keras.ops.mean(losses.kl_divergence(z_mean, z_log_var)))),
        "compiled": vae.compiled,
    }
    with open(info_path, "w") as handle:
        json.dump(info, handle)
    """
)


def test_keras_file_reloads_in_a_fresh_process(trained, tmp_path):
    model_path = tmp_path / "vae.keras"
    trained.vae.save(model_path)
    x = trained.x_val[:8]
    np.save(tmp_path / "x.npy", x)
    expected = trained.vae.predict(x, verbose=0)
    z_mean, z_log_var, _ = trained.vae.encoder(x)
    expected_kl = float(_numpy(keras.ops.mean(losses.kl_divergence(z_mean, z_log_var))))

    script = tmp_path / "reload.py"
    script.write_text(_RELOAD_SCRIPT)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONHASHSEED": "0"}
    completed = subprocess.run(
        [
            sys.executable,
            str(script),
            str(model_path),
            str(tmp_path / "x.npy"),
            str(tmp_path / "out.npy"),
            str(tmp_path / "info.json"),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=240,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]

    reloaded = np.load(tmp_path / "out.npy")
    assert reloaded.shape == expected.shape == (8, 32, 32, 1)
    np.testing.assert_allclose(reloaded, expected, atol=1e-6, rtol=0)
    info = json.loads(Path(tmp_path / "info.json").read_text())
    assert info == {
        "class": "VAE",
        "reconstruction_loss": "bce",
        "reconstruction_weight": RECONSTRUCTION_WEIGHT,
        "kl_weight": KL_WEIGHT,
        "sampling_seed": 0,
        "kl": pytest.approx(expected_kl, rel=1e-5),
        "compiled": True,
    }


def test_keras_file_reloads_in_process_and_keeps_training(trained, tmp_path):
    model_path = tmp_path / "vae.keras"
    trained.vae.save(model_path)
    reloaded = keras.models.load_model(model_path)
    assert isinstance(reloaded, models.VAE)
    x = trained.x_val[:8]
    np.testing.assert_allclose(reloaded.predict(x, verbose=0), trained.vae.predict(x, verbose=0), atol=1e-6)
    # Compiled state came back: it trains on without compile() and reports the same metrics.
    history = reloaded.fit(trained.x_train[:32], epochs=1, batch_size=32, verbose=0)
    assert set(history.history) == {"total_loss", "reconstruction_loss", "kl_loss"}
    assert np.isfinite(history.history["total_loss"][0])


def test_weights_file_round_trip_into_fresh_vae(trained, tmp_path):
    weights_path = tmp_path / "vae.weights.h5"
    trained.vae.save_weights(weights_path)
    assert weights_path.is_file()
    fresh = models.build_vae(seed=0, kl_weight=KL_WEIGHT, reconstruction_weight=RECONSTRUCTION_WEIGHT)
    x = trained.x_val[:8]
    expected = trained.vae.predict(x, verbose=0)
    assert not np.allclose(fresh.predict(x, verbose=0), expected, atol=1e-6)  # different initial weights
    fresh.load_weights(weights_path)
    np.testing.assert_allclose(fresh.predict(x, verbose=0), expected, atol=1e-6, rtol=0)
    for a, b in zip(fresh.get_weights(), trained.vae.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_vae_config_round_trip(trained):
    config = trained.vae.get_config()
    assert config["reconstruction_loss"] == "bce"
    assert config["reconstruction_weight"] == RECONSTRUCTION_WEIGHT
    assert config["kl_weight"] == KL_WEIGHT
    clone = models.VAE.from_config(config)
    assert isinstance(clone, models.VAE)
    assert (clone.reconstruction_loss, clone.reconstruction_weight, clone.kl_weight) == (
        "bce",
        RECONSTRUCTION_WEIGHT,
        KL_WEIGHT,
    )
    assert clone.encoder.get_layer("sampling").seed == 0
    assert [tuple(t.shape) for t in clone.encoder.outputs] == [(None, 2)] * 3
    assert tuple(clone.decoder.output.shape) == (None, 32, 32, 1)
