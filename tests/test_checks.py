"""vae_course.checks: each checker passes the reference code and names the mistake in typical wrong code."""

from __future__ import annotations

import random

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from vae_course import checks, layers, losses, models

# ---------------------------------------------------------------------------------------------------------
# Sampling: the reference and typical wrong layers
# ---------------------------------------------------------------------------------------------------------


class VarianceInsteadOfStd(layers.Sampling):
    def call(self, inputs):
        z_mean, z_log_var = inputs
        epsilon = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(z_log_var) * epsilon


class LogVarAsStd(layers.Sampling):
    def call(self, inputs):
        z_mean, z_log_var = inputs
        epsilon = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + z_log_var * epsilon


class IgnoresLogVar(layers.Sampling):
    def call(self, inputs):
        z_mean, _ = inputs
        return z_mean + keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)


class ReturnsMean(layers.Sampling):
    def call(self, inputs):
        return inputs[0] * 1.0


class ForgetsMean(layers.Sampling):
    def call(self, inputs):
        z_mean, z_log_var = inputs
        return ops.exp(0.5 * z_log_var) * keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)


class SharedEpsilon(layers.Sampling):
    def call(self, inputs):
        z_mean, z_log_var = inputs
        epsilon = keras.random.normal((1, ops.shape(z_mean)[1]), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


class FixedIntegerSeed(layers.Sampling):
    def call(self, inputs):
        z_mean, z_log_var = inputs
        return z_mean + ops.exp(0.5 * z_log_var) * keras.random.normal(ops.shape(z_mean), seed=3)


class Unseeded(layers.Sampling):
    def call(self, inputs):
        z_mean, z_log_var = inputs
        return z_mean + ops.exp(0.5 * z_log_var) * keras.random.normal(ops.shape(z_mean))


class WrongShape(layers.Sampling):
    def call(self, inputs):
        z_mean, z_log_var = inputs
        epsilon = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return ops.sum(z_mean + ops.exp(0.5 * z_log_var) * epsilon, axis=-1)


class NoGradient(layers.Sampling):
    def call(self, inputs):
        z_mean, z_log_var = inputs
        epsilon = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return tf.stop_gradient(z_mean + ops.exp(0.5 * z_log_var) * epsilon)


def test_check_sampling_accepts_the_reference_class_and_instance(capsys):
    checks.check_sampling(layers.Sampling)
    checks.check_sampling(layers.Sampling(seed=1))
    printed = capsys.readouterr().out
    assert printed.count("OK:") == 2 and "exp(z_log_var / 2)" in printed


@pytest.mark.parametrize(
    ("layer_class", "fragment"),
    [
        (VarianceInsteadOfStd, "did you use exp(z_log_var) instead of exp(z_log_var / 2)?"),
        (LogVarAsStd, "multiply epsilon by z_log_var itself"),
        (IgnoresLogVar, "ignore z_log_var"),
        (ReturnsMean, "all your samples are the same point"),
        (ForgetsMean, "did you forget to add z_mean?"),
        (SharedEpsilon, "one epsilon was shared by the whole batch"),
        (FixedIntegerSeed, "epsilon must be new at every call"),
        (Unseeded, "two layers built with seed=7 drew different samples"),
        (WrongShape, "return one z per row"),
        (NoGradient, "no gradient reaches z_mean and z_log_var"),
    ],
)
def test_check_sampling_names_the_mistake(layer_class, fragment):
    with pytest.raises(checks.CheckFailed) as failure:
        checks.check_sampling(layer_class)
    assert fragment in str(failure.value)


def test_check_sampling_quotes_the_measured_and_expected_spread():
    with pytest.raises(checks.CheckFailed, match=r"standard deviation \(2\.7\d, 0\.1\d\)") as failure:
        checks.check_sampling(VarianceInsteadOfStd)
    assert "exp(z_log_var / 2) = (1.65, 0.37)" in str(failure.value)


def test_check_failed_is_an_assertion_error_and_bad_arguments_are_type_errors():
    assert issubclass(checks.CheckFailed, AssertionError)
    with pytest.raises(TypeError, match="Pass the class itself"):
        checks.check_sampling("Sampling")
    with pytest.raises(TypeError, match="without calling it"):
        checks.check_kl_divergence(1.0)
    with pytest.raises(TypeError, match="subclass of models.VAE"):
        checks.check_train_step(models.VAE.train_step)


def test_an_exception_in_the_learners_code_becomes_a_check_failure():
    def broken(z_mean, z_log_var):
        raise RuntimeError("typo")

    with pytest.raises(checks.CheckFailed, match="raised RuntimeError: typo") as failure:
        checks.check_kl_divergence(broken)
    assert isinstance(failure.value.__cause__, RuntimeError)


def test_checkers_leave_python_and_numpy_random_streams_alone():
    random.seed(5)
    np.random.seed(5)
    expected = (random.random(), np.random.random())
    random.seed(5)
    np.random.seed(5)
    checks.check_kl_divergence(losses.kl_divergence)
    checks.check_sampling(layers.Sampling)
    assert (random.random(), np.random.random()) == expected


# ---------------------------------------------------------------------------------------------------------
# KL divergence: the reference and typical wrong formulas
# ---------------------------------------------------------------------------------------------------------


def kl_textbook(z_mean, z_log_var):
    """The Keras-example form, -0.5 * sum(1 + log_var - mu^2 - exp(log_var)): equal to the reference."""
    return -0.5 * ops.sum(1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)


def kl_no_sum(z_mean, z_log_var):
    return 0.5 * (ops.exp(z_log_var) + ops.square(z_mean) - 1 - z_log_var)


def kl_mean_over_dimensions(z_mean, z_log_var):
    return ops.mean(kl_no_sum(z_mean, z_log_var), axis=-1)


def kl_mean_over_batch(z_mean, z_log_var):
    return ops.mean(ops.sum(kl_no_sum(z_mean, z_log_var), axis=-1))


def kl_summed_over_batch_axis(z_mean, z_log_var):
    return ops.sum(kl_no_sum(z_mean, z_log_var), axis=0)


def kl_overall_sign(z_mean, z_log_var):
    return 0.5 * ops.sum(1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)


def kl_log_var_sign(z_mean, z_log_var):
    return 0.5 * ops.sum(ops.exp(z_log_var) + ops.square(z_mean) - 1 + z_log_var, axis=-1)


def kl_no_half(z_mean, z_log_var):
    return ops.sum(ops.exp(z_log_var) + ops.square(z_mean) - 1 - z_log_var, axis=-1)


def kl_no_minus_one(z_mean, z_log_var):
    return 0.5 * ops.sum(ops.exp(z_log_var) + ops.square(z_mean) - z_log_var, axis=-1)


def kl_mu_not_squared(z_mean, z_log_var):
    return 0.5 * ops.sum(ops.exp(z_log_var) + z_mean - 1 - z_log_var, axis=-1)


def kl_std_instead_of_variance(z_mean, z_log_var):
    return 0.5 * ops.sum(ops.exp(z_log_var / 2) + ops.square(z_mean) - 1 - z_log_var, axis=-1)


def test_check_kl_divergence_accepts_the_reference_and_the_textbook_form(capsys):
    checks.check_kl_divergence(losses.kl_divergence)
    checks.check_kl_divergence(kl_textbook)
    assert capsys.readouterr().out.count("OK:") == 2


@pytest.mark.parametrize(
    ("function", "fragment"),
    [
        (kl_no_sum, "your KL has shape (8, 2)"),
        (kl_no_sum, "sum over the latent dimensions"),
        (kl_mean_over_dimensions, "you averaged over the latent dimensions"),
        (kl_mean_over_batch, "do not reduce over the batch"),
        (kl_summed_over_batch_axis, "you summed over the batch (axis 0)"),
        (kl_overall_sign, "flip the overall sign"),
        (kl_log_var_sign, "negative (-0.816) for mu=0, log_var=-1: check the sign of the log-variance term"),
        (kl_no_half, "forget the factor 0.5"),
        (kl_no_minus_one, "for mu=0, log_var=0"),
        (kl_mu_not_squared, "it is + z_mean**2 (squared)"),
        (kl_std_instead_of_variance, "exp(z_log_var / 2), the standard deviation"),
    ],
)
def test_check_kl_divergence_names_the_mistake(function, fragment):
    with pytest.raises(checks.CheckFailed) as failure:
        checks.check_kl_divergence(function)
    assert fragment in str(failure.value)


def test_check_kl_divergence_fails_a_kl_that_is_negative_at_mu_0_log_var_1():
    def negative_at_one(z_mean, z_log_var):  # -(0.5 * (exp(v) - 1 - v)) per dimension: wrong sign everywhere
        return -losses.kl_divergence(z_mean, z_log_var)

    with pytest.raises(checks.CheckFailed, match="overall sign"):
        checks.check_kl_divergence(negative_at_one)


# ---------------------------------------------------------------------------------------------------------
# train_step: the reference and typical wrong steps
# ---------------------------------------------------------------------------------------------------------


class TextbookStep(models.VAE):
    """The lesson's version written out without compute_vae_losses: must pass."""

    def train_step(self, data):
        x = data
        with tf.GradientTape() as tape:
            z_mean, z_log_var, z = self.encoder(x, training=True)
            reconstruction = self.decoder(z, training=True)
            reconstruction_loss = self.reconstruction_weight * ops.mean(
                losses.binary_crossentropy(x, reconstruction, reduction="mean")
            )
            kl_loss = ops.mean(losses.kl_divergence(z_mean, z_log_var))
            total_loss = reconstruction_loss + self.kl_weight * kl_loss
        gradients = tape.gradient(total_loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_weights))
        self.total_loss_tracker.update_state(total_loss)
        self.reconstruction_loss_tracker.update_state(reconstruction_loss)
        self.kl_loss_tracker.update_state(kl_loss)
        return {metric.name: metric.result() for metric in self.metrics}


class NoApply(models.VAE):
    def train_step(self, data):
        with tf.GradientTape() as tape:
            total, reconstruction, kl = self.compute_vae_losses(data, training=True)
        tape.gradient(total, self.trainable_weights)
        return self._record(total, reconstruction, kl)


class OutsideTheTape(models.VAE):
    def train_step(self, data):
        total, reconstruction, kl = self.compute_vae_losses(data, training=True)
        with tf.GradientTape() as tape:
            pass
        gradients = tape.gradient(total, self.trainable_weights)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_weights))
        return self._record(total, reconstruction, kl)


class ReturnsNothing(models.VAE):
    def train_step(self, data):
        with tf.GradientTape() as tape:
            total, _, _ = self.compute_vae_losses(data, training=True)
        gradients = tape.gradient(total, self.trainable_weights)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_weights))


class ReturnsOnlyTotal(models.VAE):
    def train_step(self, data):
        with tf.GradientTape() as tape:
            total, _, _ = self.compute_vae_losses(data, training=True)
        gradients = tape.gradient(total, self.trainable_weights)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_weights))
        self.total_loss_tracker.update_state(total)
        return {"total_loss": self.total_loss_tracker.result()}


class Uphill(models.VAE):
    def train_step(self, data):
        with tf.GradientTape() as tape:
            total, reconstruction, kl = self.compute_vae_losses(data, training=True)
            gain = -total
        gradients = tape.gradient(gain, self.trainable_weights)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_weights))
        return self._record(total, reconstruction, kl)


class OnlyTheEncoder(models.VAE):
    def train_step(self, data):
        with tf.GradientTape() as tape:
            total, reconstruction, kl = self.compute_vae_losses(data, training=True)
        weights = self.encoder.trainable_weights
        self.optimizer.apply_gradients(zip(tape.gradient(total, weights), weights))
        return self._record(total, reconstruction, kl)


class ForgetsKl(models.VAE):
    def train_step(self, data):
        with tf.GradientTape() as tape:
            _, reconstruction, kl = self.compute_vae_losses(data, training=True)
        gradients = tape.gradient(reconstruction, self.trainable_weights)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_weights))
        return self._record(reconstruction, reconstruction, kl)


class KlSummedOverBatch(models.VAE):
    def train_step(self, data):
        with tf.GradientTape() as tape:
            z_mean, z_log_var, z = self.encoder(data, training=True)
            reconstruction = self.decoder(z, training=True)
            reconstruction_loss = self.reconstruction_weight * ops.mean(
                losses.binary_crossentropy(data, reconstruction)
            )
            kl_loss = ops.sum(losses.kl_divergence(z_mean, z_log_var))
            total = reconstruction_loss + kl_loss
        gradients = tape.gradient(total, self.trainable_weights)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_weights))
        return self._record(total, reconstruction_loss, kl_loss)


class SummedBce(models.VAE):
    def train_step(self, data):
        with tf.GradientTape() as tape:
            z_mean, z_log_var, z = self.encoder(data, training=True)
            reconstruction = self.decoder(z, training=True)
            reconstruction_loss = self.reconstruction_weight * ops.mean(
                losses.binary_crossentropy(data, reconstruction, reduction="sum")
            )
            kl_loss = ops.mean(losses.kl_divergence(z_mean, z_log_var))
            total = reconstruction_loss + kl_loss
        gradients = tape.gradient(total, self.trainable_weights)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_weights))
        return self._record(total, reconstruction_loss, kl_loss)


class EagerOnly(models.VAE):
    def train_step(self, data):
        with tf.GradientTape() as tape:
            total, reconstruction, kl = self.compute_vae_losses(data, training=True)
        gradients = tape.gradient(total, self.trainable_weights)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_weights))
        return {
            "total_loss": float(total),
            "reconstruction_loss": float(reconstruction),
            "kl_loss": float(kl),
        }


def test_check_train_step_accepts_the_package_and_the_written_out_version(capsys):
    checks.check_train_step(models.VAE)
    checks.check_train_step(TextbookStep)
    printed = capsys.readouterr().out
    assert printed.count("OK:") == 2 and "fit() runs it" in printed


@pytest.mark.parametrize(
    ("model_class", "fragment"),
    [
        (NoApply, "no weight changed"),
        (NoApply, "self.optimizer.apply_gradients"),
        (OutsideTheTape, "with tf.GradientTape() as tape:"),
        (ReturnsNothing, "your train_step returned NoneType"),
        (ReturnsNothing, "return the metrics dict"),
        (ReturnsOnlyTotal, "['reconstruction_loss', 'kl_loss'] missing"),
        (Uphill, "moved the weights uphill"),
        (OnlyTheEncoder, "changed the encoder but not the decoder"),
        (ForgetsKl, "it leaves out the KL"),
        (KlSummedOverBatch, "summed over the batch"),
        (SummedBce, "averaged over the pixels"),
        (EagerOnly, "fit() could not run your train_step"),
    ],
)
def test_check_train_step_names_the_mistake(model_class, fragment):
    with pytest.raises(checks.CheckFailed) as failure:
        checks.check_train_step(model_class)
    assert fragment in str(failure.value)
