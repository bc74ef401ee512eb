"""Checkers for the code a learner writes in lesson 02: ``Sampling.call``, the KL divergence and ``train_step``.

Each checker runs the learner's code on small, fixed inputs, compares it with the course's reference
(``layers.Sampling``, ``losses.kl_divergence``, ``models.VAE``) and either prints one ``OK: ...`` line or
raises ``CheckFailed`` with a message that names the likely mistake and what to change, for example::

    CheckFailed: your samples have standard deviation 2.72 where exp(z_log_var / 2) = 1.65 was expected:
    did you use exp(z_log_var) instead of exp(z_log_var / 2)?

``CheckFailed`` is an ``AssertionError``: in a notebook it reads as a failed self-check, and pytest/nbval
count it as a failure. Arguments of the wrong kind (not a class, not callable) raise ``TypeError``.

The checkers leave the lesson's random streams as they found them: Python's and NumPy's global random
states are saved and restored around each check, and every random draw inside uses its own seed.
"""

from __future__ import annotations

import contextlib
import inspect
import random

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from vae_course import losses, models

_CHECK_SEED = 1234


class CheckFailed(AssertionError):
    """The learner's code does not do what the lesson asks; the message says what differs and what to try."""


@contextlib.contextmanager
def _preserved_random_state():
    """Run a block without disturbing Python's and NumPy's global random streams."""
    python_state = random.getstate()
    numpy_state = np.random.get_state()
    try:
        yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)


def _to_numpy(value) -> np.ndarray:
    return np.asarray(ops.convert_to_numpy(value), dtype=np.float64)


def _call_learner(what: str, function, *args):
    """Call the learner's code; turn any exception into a CheckFailed that says which call failed."""
    try:
        return function(*args)
    except CheckFailed:
        raise
    except Exception as error:  # the learner's code may raise anything; report it, keep the traceback
        raise CheckFailed(f"{what} raised {type(error).__name__}: {error}") from error


# ---------------------------------------------------------------------------------------------------------
# Sampling
# ---------------------------------------------------------------------------------------------------------

# Two latent dimensions with different spreads: sigma = exp(1 / 2) = 1.65 and exp(-2 / 2) = 0.37.
_SAMPLING_MEAN = np.array([1.0, -2.0], dtype="float32")
_SAMPLING_LOG_VAR = np.array([1.0, -2.0], dtype="float32")
_SAMPLING_DRAWS = 20_000


def _sampling_layer(layer_class_or_instance, seed: int):
    if isinstance(layer_class_or_instance, keras.layers.Layer):
        return layer_class_or_instance
    if not (
        inspect.isclass(layer_class_or_instance) and issubclass(layer_class_or_instance, keras.layers.Layer)
    ):
        raise TypeError(
            "check_sampling expects your layer class (for example MySampling) or an instance of it, "
            f"got {layer_class_or_instance!r}. Pass the class itself: checks.check_sampling(MySampling)."
        )
    try:
        return layer_class_or_instance(seed=seed)
    except TypeError:  # a layer whose __init__ takes no seed
        return layer_class_or_instance()


def _describe_spread(sample_std: np.ndarray) -> str | None:
    """Name the usual mistake behind a wrong standard deviation, or None when it is not recognised."""
    expected = np.exp(_SAMPLING_LOG_VAR / 2)
    guesses = [
        (np.exp(_SAMPLING_LOG_VAR), "did you use exp(z_log_var) instead of exp(z_log_var / 2)?"),
        (
            np.abs(_SAMPLING_LOG_VAR),
            "did you multiply epsilon by z_log_var itself? The standard deviation is exp(z_log_var / 2).",
        ),
        (
            np.ones_like(expected),
            "your samples ignore z_log_var: multiply epsilon by exp(z_log_var / 2).",
        ),
        (
            np.exp(_SAMPLING_LOG_VAR / 2) ** 0.5,
            "did you take exp(z_log_var / 4)? The standard deviation is exp(z_log_var / 2).",
        ),
    ]
    for candidate, advice in guesses:
        if np.allclose(sample_std, candidate, rtol=0.05):
            return advice
    return None


def check_sampling(layer_class_or_instance) -> None:
    """Check a reparameterisation layer against ``layers.Sampling``; print ``OK: ...`` or raise CheckFailed.

    ``layer_class_or_instance``: a Keras layer class (built here with ``seed=...`` when its ``__init__``
    takes one) or an instance. Its ``call([z_mean, z_log_var])`` must return ``z`` of the same shape
    ``(batch, latent_dim)``, drawn as ``z_mean + exp(z_log_var / 2) * epsilon`` with ``epsilon ~ N(0, I)``.
    Checked: the shape, the mean and standard deviation of 20,000 draws, that every row and every call
    draws a fresh epsilon, that the same seed gives the same draws, and that gradients reach
    ``z_mean`` and ``z_log_var`` with the values the trick predicts.
    """
    with _preserved_random_state():
        layer = _sampling_layer(layer_class_or_instance, seed=_CHECK_SEED)
        z_mean = np.tile(_SAMPLING_MEAN, (_SAMPLING_DRAWS, 1))
        z_log_var = np.tile(_SAMPLING_LOG_VAR, (_SAMPLING_DRAWS, 1))
        inputs = [ops.convert_to_tensor(z_mean), ops.convert_to_tensor(z_log_var)]
        what = f"calling your layer on [z_mean, z_log_var] of shape {z_mean.shape}"
        first = _to_numpy(_call_learner(what, layer, inputs))

        if first.shape != z_mean.shape:
            raise CheckFailed(
                f"your layer returned shape {first.shape} for z_mean and z_log_var of shape {z_mean.shape}: "
                "return one z per row, with the shape of z_mean (draw epsilon with keras.ops.shape(z_mean))."
            )
        if not np.all(np.isfinite(first)):
            raise CheckFailed("your layer returned NaN or inf for finite z_mean and z_log_var.")
        if np.allclose(first, first[:1], atol=1e-6):
            if np.allclose(first[0], _SAMPLING_MEAN, atol=1e-6):
                raise CheckFailed(
                    "all your samples are the same point, z_mean: z did not vary at all. Did you return "
                    "z_mean, or forget to multiply a random epsilon by the standard deviation?"
                )
            raise CheckFailed(
                "every row of your samples is the same: one epsilon was shared by the whole batch. "
                "Draw epsilon with the shape of z_mean: keras.random.normal(keras.ops.shape(z_mean), ...)."
            )
        sample_std = first.std(axis=0)

        expected_std = np.exp(_SAMPLING_LOG_VAR / 2)
        if not np.allclose(sample_std, expected_std, rtol=0.05):
            shown = ", ".join(f"{value:.2f}" for value in sample_std)
            wanted = ", ".join(f"{value:.2f}" for value in expected_std)
            advice = _describe_spread(sample_std) or "compute z = z_mean + exp(z_log_var / 2) * epsilon."
            raise CheckFailed(
                f"your samples have standard deviation ({shown}) where exp(z_log_var / 2) = ({wanted}) was "
                f"expected for z_log_var = {_SAMPLING_LOG_VAR.tolist()}: {advice}"
            )
        sample_mean = first.mean(axis=0)
        tolerance = 5 * expected_std / np.sqrt(_SAMPLING_DRAWS)
        if not np.all(np.abs(sample_mean - _SAMPLING_MEAN) < tolerance):
            shown = ", ".join(f"{value:.2f}" for value in sample_mean)
            advice = (
                "did you forget to add z_mean?"
                if np.all(np.abs(sample_mean) < tolerance)
                else "z must be centred on z_mean: z = z_mean + exp(z_log_var / 2) * epsilon."
            )
            raise CheckFailed(
                f"your samples have mean ({shown}) where z_mean = {_SAMPLING_MEAN.tolist()} was expected: "
                f"{advice}"
            )

        second = _to_numpy(_call_learner(what, layer, inputs))
        if np.allclose(first, second):
            raise CheckFailed(
                "two calls of your layer returned the same samples: epsilon must be new at every call. "
                "Draw it with keras.random.normal(shape, seed=self.seed_generator), not with a fixed integer seed."
            )

        if inspect.isclass(layer_class_or_instance):
            twin_a = _sampling_layer(layer_class_or_instance, seed=7)
            twin_b = _sampling_layer(layer_class_or_instance, seed=7)
            small = [ops.convert_to_tensor(z_mean[:64]), ops.convert_to_tensor(z_log_var[:64])]
            draws_a = _to_numpy(_call_learner(what, twin_a, small))
            draws_b = _to_numpy(_call_learner(what, twin_b, small))
            if not np.allclose(draws_a, draws_b):
                raise CheckFailed(
                    "two layers built with seed=7 drew different samples, so a run cannot be repeated. "
                    "Pass the layer's generator: keras.random.normal(shape, seed=self.seed_generator)."
                )

        # Gradients of E[z1^2 + z2^2]: exactly 2 * mu for z_mean and sigma^2 for z_log_var.
        mean_variable = tf.Variable(_SAMPLING_MEAN[None, :])
        log_var_variable = tf.Variable(_SAMPLING_LOG_VAR[None, :])
        with tf.GradientTape() as tape:
            rows = [
                ops.repeat(mean_variable, _SAMPLING_DRAWS, axis=0),
                ops.repeat(log_var_variable, _SAMPLING_DRAWS, axis=0),
            ]
            objective = ops.mean(ops.sum(ops.square(layer(rows)), axis=1))
        gradient_mean, gradient_log_var = tape.gradient(objective, [mean_variable, log_var_variable])
        if gradient_mean is None or gradient_log_var is None:
            missing = " and ".join(
                name
                for name, gradient in [("z_mean", gradient_mean), ("z_log_var", gradient_log_var)]
                if gradient is None
            )
            raise CheckFailed(
                f"no gradient reaches {missing} through your layer. Compute z with keras.ops from the "
                "inputs (no NumPy on z_mean or z_log_var, no .numpy()), so the tape can follow it."
            )
        gradient_mean, gradient_log_var = _to_numpy(gradient_mean)[0], _to_numpy(gradient_log_var)[0]
        if not np.allclose(gradient_mean, 2 * _SAMPLING_MEAN, rtol=0.05, atol=0.05) or not np.allclose(
            gradient_log_var, np.exp(_SAMPLING_LOG_VAR), rtol=0.1, atol=0.05
        ):
            raise CheckFailed(
                f"the gradients through your layer are {gradient_mean.round(2).tolist()} for z_mean and "
                f"{gradient_log_var.round(2).tolist()} for z_log_var, where {(2 * _SAMPLING_MEAN).tolist()} "
                f"and {np.exp(_SAMPLING_LOG_VAR).round(2).tolist()} were expected: compute "
                "z = z_mean + exp(z_log_var / 2) * epsilon with keras.ops, with epsilon independent of both."
            )
    print(
        f"OK: {type(layer).__name__} draws z = z_mean + exp(z_log_var / 2) * epsilon "
        f"(mean {np.round(sample_mean, 2).tolist()}, std {np.round(sample_std, 2).tolist()} over "
        f"{_SAMPLING_DRAWS:,} draws), fresh and seeded, with the right gradients."
    )


# ---------------------------------------------------------------------------------------------------------
# KL divergence
# ---------------------------------------------------------------------------------------------------------

_KL_BATCH, _KL_LATENT_DIM = 8, 2


def _kl_inputs() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(_CHECK_SEED)
    z_mean = rng.normal(0.0, 1.5, size=(_KL_BATCH, _KL_LATENT_DIM)).astype("float32")
    z_log_var = rng.normal(-0.5, 1.5, size=(_KL_BATCH, _KL_LATENT_DIM)).astype("float32")
    return z_mean, z_log_var


def _kl_per_dimension_probes(function) -> dict[tuple[float, float], float]:
    """The learner's KL for one latent dimension at a few (mu, log_var), the other dimension kept at (0, 0)."""
    probes = [(0.0, 0.0), (0.0, 1.0), (0.0, -1.0), (1.0, 0.0), (-1.0, 0.0), (0.0, 2.0)]
    z_mean = np.array([[mu, 0.0] for mu, _ in probes], dtype="float32")
    z_log_var = np.array([[log_var, 0.0] for _, log_var in probes], dtype="float32")
    values = _to_numpy(function(ops.convert_to_tensor(z_mean), ops.convert_to_tensor(z_log_var)))
    return {probe: float(value) for probe, value in zip(probes, values.reshape(-1))}


def _reference_kl_1d(mu: float, log_var: float) -> float:
    return 0.5 * (np.exp(log_var) + mu**2 - 1.0 - log_var)


def _diagnose_kl(function, result: np.ndarray, reference: np.ndarray) -> str:
    ratio = result / np.where(np.abs(reference) > 1e-6, reference, np.nan)
    if np.nanstd(ratio) < 1e-3:
        factor = float(np.nanmean(ratio))
        if np.isclose(factor, -1.0, rtol=1e-3):
            return (
                "your KL is the negative of the expected one, so it is negative for every area that breaks a "
                "rule: flip the overall sign, KL = -0.5 * sum(1 + z_log_var - z_mean**2 - exp(z_log_var))."
            )
        if np.isclose(factor, 1.0 / _KL_LATENT_DIM, rtol=1e-3):
            return (
                f"your KL is {_KL_LATENT_DIM} times too small: you averaged over the latent dimensions "
                "(mean); the KL of independent dimensions adds up, so sum them (keras.ops.sum(..., axis=-1))."
            )
        if np.isclose(factor, 2.0, rtol=1e-3):
            return "your KL is twice the expected one: did you forget the factor 0.5 in front of the sum?"
        return f"your KL is {factor:.3g} times the expected one: check the constant factors (0.5, the sum)."
    probe = _kl_per_dimension_probes(function)
    if abs(probe[(0.0, 0.0)]) > 1e-4:
        return (
            f"your KL is {probe[(0.0, 0.0)]:.3f} for mu=0, log_var=0, an area that keeps both rules, where 0 "
            "was expected: check the '- 1' (one per latent dimension) and the other constant terms."
        )
    sigma_instead = 0.5 * (np.exp(1.0 / 2) - 1.0 - 1.0)
    if np.isclose(probe[(0.0, 1.0)], sigma_instead, atol=1e-3):
        return (
            "your KL uses exp(z_log_var / 2), the standard deviation, where the variance exp(z_log_var) "
            "belongs: KL = 0.5 * sum(exp(z_log_var) + z_mean**2 - 1 - z_log_var)."
        )
    for log_var in (1.0, -1.0, 2.0):
        if probe[(0.0, log_var)] < -1e-6:
            return (
                f"your KL is negative ({probe[(0.0, log_var)]:.3f}) for mu=0, log_var={log_var:g}: "
                "check the sign of the log-variance term (it is - z_log_var inside 0.5 * sum(...))."
            )
    if probe[(1.0, 0.0)] < -1e-6 or probe[(-1.0, 0.0)] < -1e-6 or abs(probe[(1.0, 0.0)] - 0.5) > 1e-3:
        return (
            f"your KL is {probe[(1.0, 0.0)]:.3f} for mu=1 and {probe[(-1.0, 0.0)]:.3f} for mu=-1 (log_var=0), "
            "where 0.5 was expected for both: check the mean term, it is + z_mean**2 (squared)."
        )
    wrong = [
        (mu, log_var, probe[(mu, log_var)], _reference_kl_1d(mu, log_var))
        for (mu, log_var) in probe
        if not np.isclose(probe[(mu, log_var)], _reference_kl_1d(mu, log_var), atol=1e-4)
    ]
    if wrong:
        mu, log_var, got, expected = wrong[0]
        return (
            f"your KL is {got:.4f} for mu={mu:g}, log_var={log_var:g} where {expected:.4f} was expected: "
            "compare your formula with 0.5 * sum(exp(z_log_var) + z_mean**2 - 1 - z_log_var)."
        )
    return (
        "your KL is right for one latent dimension but not for several: sum the per-dimension terms over "
        "the last axis (keras.ops.sum(..., axis=-1)), one KL per example."
    )


def check_kl_divergence(function) -> None:
    """Check a KL function against ``losses.kl_divergence``; print ``OK: ...`` or raise CheckFailed.

    ``function(z_mean, z_log_var)`` receives two tensors of shape ``(batch, latent_dim)`` and must return
    KL(N(z_mean, exp(z_log_var)) || N(0, I)) of every example, shape ``(batch,)``, in nats: summed over
    the latent dimensions, not averaged over the batch (the model averages over the batch itself).
    """
    if not callable(function):
        raise TypeError(
            f"check_kl_divergence expects your KL function, got {function!r}. "
            "Pass the function itself, without calling it: checks.check_kl_divergence(my_kl_divergence)."
        )
    with _preserved_random_state():
        z_mean, z_log_var = _kl_inputs()
        what = f"calling your function on z_mean and z_log_var of shape {z_mean.shape}"
        result = _call_learner(
            what, function, ops.convert_to_tensor(z_mean), ops.convert_to_tensor(z_log_var)
        )
        result = _to_numpy(result)
        reference = _to_numpy(losses.kl_divergence(z_mean, z_log_var))
        expected_shape = (_KL_BATCH,)
        if result.shape != expected_shape:
            if result.shape == z_mean.shape:
                advice = (
                    "sum over the latent dimensions (keras.ops.sum(..., axis=-1)) to get one KL per example."
                )
            elif result.shape == ():
                advice = (
                    "return one KL per example: do not reduce over the batch here, the model averages over "
                    "the batch itself."
                )
            elif result.shape == (_KL_LATENT_DIM,):
                advice = (
                    "you summed over the batch (axis 0): sum over the latent dimensions (axis=-1) instead."
                )
            else:
                advice = "return one number per example, summed over the latent dimensions."
            raise CheckFailed(
                f"your KL has shape {result.shape} for inputs of shape {z_mean.shape}; expected "
                f"{expected_shape}: {advice}"
            )
        if not np.all(np.isfinite(result)):
            raise CheckFailed(
                "your KL returned NaN or inf for finite inputs: check exp and log in the formula."
            )
        if not np.allclose(result, reference, rtol=1e-4, atol=1e-5):
            raise CheckFailed(_call_learner(what, _diagnose_kl, function, result, reference))
    print(
        f"OK: your KL matches losses.kl_divergence on {_KL_BATCH} examples x {_KL_LATENT_DIM} latent dimensions "
        f"(largest difference {np.max(np.abs(result - reference)):.1e} nats), one value per example."
    )


# ---------------------------------------------------------------------------------------------------------
# train_step
# ---------------------------------------------------------------------------------------------------------

_STEP_IMAGE_SHAPE = (8, 8, 1)
_STEP_LATENT_DIM = 2
_STEP_BATCH = 16
_STEP_WEIGHT = 64.0  # 64 x mean BCE on 8 x 8 images: beta = 1
_STEP_LEARNING_RATE = 0.05
_METRIC_NAMES = ("total_loss", "reconstruction_loss", "kl_loss")


def _small_vae(model_class, weights=None):
    """A tiny VAE of ``model_class`` on 8x8 images, with a seeded sampler and, if given, these weights."""
    encoder = models.build_encoder(
        _STEP_IMAGE_SHAPE, _STEP_LATENT_DIM, filters=(4,), variational=True, seed=_CHECK_SEED
    )
    decoder = models.build_decoder(_STEP_LATENT_DIM, _STEP_IMAGE_SHAPE, filters=(4,))
    vae = model_class(encoder, decoder, reconstruction_loss="bce", reconstruction_weight=_STEP_WEIGHT)
    vae.compile(optimizer=keras.optimizers.SGD(learning_rate=_STEP_LEARNING_RATE))
    if weights is not None:
        for variable, value in zip(vae.trainable_weights, weights):
            variable.assign(value)
    return vae


def _weights(vae) -> list[np.ndarray]:
    return [_to_numpy(variable) for variable in vae.trainable_weights]


def _changed(before: list[np.ndarray], after: list[np.ndarray]) -> np.ndarray:
    return np.concatenate([(b_value - a_value).reshape(-1) for b_value, a_value in zip(before, after)])


def check_train_step(model_class) -> None:
    """Check a ``models.VAE`` subclass with its own ``train_step``; print ``OK: ...`` or raise CheckFailed.

    ``model_class`` is built like ``models.VAE(encoder, decoder, reconstruction_loss=...,
    reconstruction_weight=...)`` on a tiny 8x8 problem. One call of its ``train_step`` must compute the
    losses under a ``tf.GradientTape``, apply the gradients of ``total_loss`` to all trainable weights
    (encoder and decoder) with ``self.optimizer``, and return the metrics dict ``{"total_loss": ...,
    "reconstruction_loss": ..., "kl_loss": ...}`` with the values ``models.VAE`` computes: reconstruction
    = weight x mean BCE, KL summed over latent dimensions, both averaged over the batch. Finally
    ``fit()`` must run it for two epochs.
    """
    if not (inspect.isclass(model_class) and issubclass(model_class, keras.Model)):
        raise TypeError(
            f"check_train_step expects your VAE class (a subclass of models.VAE), got {model_class!r}. "
            "Pass the class itself: checks.check_train_step(MyVAE)."
        )
    with _preserved_random_state():
        images = np.random.default_rng(_CHECK_SEED).uniform(size=(_STEP_BATCH, *_STEP_IMAGE_SHAPE))
        images = images.astype("float32")
        reference = _small_vae(models.VAE)
        start = _weights(reference)
        learner = _call_learner(
            "building your class like models.VAE(encoder, decoder, reconstruction_loss=..., "
            "reconstruction_weight=...)",
            _small_vae,
            model_class,
            start,
        )
        expected = {name: float(value) for name, value in reference.train_step(images).items()}
        expected_step = _changed(_weights(reference), start)

        try:
            returned = learner.train_step(images)
        except Exception as error:  # report the learner's error with advice, keep the traceback
            message = str(error)
            if "No gradients" in message or "None" in message:
                raise CheckFailed(
                    f"your train_step raised {type(error).__name__}: {message.splitlines()[0]} "
                    "The tape recorded no path from the loss to the weights: compute the losses inside "
                    "`with tf.GradientTape() as tape:` and call tape.gradient(total_loss, self.trainable_weights)."
                ) from error
            raise CheckFailed(f"your train_step raised {type(error).__name__}: {message}") from error

        learner_step = _changed(_weights(learner), start)
        if not np.any(np.abs(learner_step) > 0):
            raise CheckFailed(
                "no weight changed after one call of your train_step: did you call "
                "self.optimizer.apply_gradients(zip(gradients, self.trainable_weights))?"
            )
        if not isinstance(returned, dict):
            raise CheckFailed(
                f"your train_step returned {type(returned).__name__} ({returned!r:.80}): return the metrics "
                "dict, {metric.name: metric.result() for metric in self.metrics}, so fit() can show them."
            )
        missing = [name for name in _METRIC_NAMES if name not in returned]
        if missing:
            raise CheckFailed(
                f"your train_step returned the keys {sorted(returned)}; {missing} missing. Update the three "
                "trackers (total, reconstruction, KL) and return {metric.name: metric.result() for metric in "
                "self.metrics}."
            )
        got = {name: float(_to_numpy(returned[name])) for name in _METRIC_NAMES}

        if not np.isclose(got["kl_loss"], expected["kl_loss"], rtol=1e-4):
            if np.isclose(got["kl_loss"], expected["kl_loss"] * _STEP_BATCH, rtol=1e-4):
                advice = "it is summed over the batch: average it with keras.ops.mean."
            else:
                advice = (
                    "use keras.ops.mean(losses.kl_divergence(z_mean, z_log_var)) on the encoder's outputs."
                )
            raise CheckFailed(
                f"your kl_loss is {got['kl_loss']:.4f} where {expected['kl_loss']:.4f} was expected: {advice}"
            )
        if not np.isclose(got["reconstruction_loss"], expected["reconstruction_loss"], rtol=0.05):
            raise CheckFailed(
                f"your reconstruction_loss is {got['reconstruction_loss']:.3f} where about "
                f"{expected['reconstruction_loss']:.3f} was expected: it is reconstruction_weight x the BCE "
                "averaged over the pixels, averaged over the batch, of the image decoded from the sampled z."
            )
        expected_total = got["reconstruction_loss"] + learner.kl_weight * got["kl_loss"]
        if not np.isclose(got["total_loss"], expected_total, rtol=1e-4):
            if np.isclose(got["total_loss"], got["reconstruction_loss"], rtol=1e-4):
                advice = "it leaves out the KL: total = reconstruction + kl_weight x KL."
            else:
                advice = "total = reconstruction + kl_weight x KL."
            raise CheckFailed(
                f"your total_loss is {got['total_loss']:.3f} where reconstruction {got['reconstruction_loss']:.3f}"
                f" + {learner.kl_weight:g} x KL {got['kl_loss']:.3f} = {expected_total:.3f} was expected: {advice}"
            )

        encoder_size = sum(int(np.prod(variable.shape)) for variable in learner.encoder.trainable_weights)
        if not np.any(np.abs(learner_step[encoder_size:]) > 0):
            raise CheckFailed(
                "your step changed the encoder but not the decoder: pass self.trainable_weights (encoder and "
                "decoder) to tape.gradient and to apply_gradients."
            )
        if not np.any(np.abs(learner_step[:encoder_size]) > 0):
            raise CheckFailed(
                "your step changed the decoder but not the encoder: pass self.trainable_weights (encoder and "
                "decoder) to tape.gradient and to apply_gradients."
            )
        cosine = float(
            learner_step @ expected_step / (np.linalg.norm(learner_step) * np.linalg.norm(expected_step))
        )
        if cosine < -0.5:
            raise CheckFailed(
                "your step moved the weights uphill, so the loss would grow: differentiate total_loss itself "
                "(not -total_loss) and pass the gradients to apply_gradients unchanged."
            )
        if cosine < 0.9:
            raise CheckFailed(
                f"your step points elsewhere than models.VAE's (cosine similarity {cosine:.2f}): take "
                "tape.gradient(total_loss, self.trainable_weights), the gradient of the total loss "
                "(reconstruction + KL), and apply exactly those gradients."
            )

        fresh = _small_vae(model_class, start)
        try:
            history = fresh.fit(images, epochs=2, batch_size=_STEP_BATCH // 2, verbose=0)
        except Exception as error:  # graph mode may reject code that ran eagerly
            raise CheckFailed(
                f"fit() could not run your train_step: {type(error).__name__}: {error}. "
                "Inside train_step use keras.ops and tensors only (no .numpy(), no float())."
            ) from error
        logged = [name for name in _METRIC_NAMES if name in history.history]
        if len(logged) < len(_METRIC_NAMES):
            raise CheckFailed(f"fit() logged only {logged}: return all of {list(_METRIC_NAMES)}.")
    print(
        f"OK: your train_step applies the gradient of the total loss to all {len(learner.trainable_weights)} "
        f"weight tensors and returns total_loss {got['total_loss']:.2f}, reconstruction_loss "
        f"{got['reconstruction_loss']:.2f}, kl_loss {got['kl_loss']:.3f}, as models.VAE does; fit() runs it."
    )
