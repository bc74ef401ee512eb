"""Model builders of the course: the convolutional encoder and decoder, the autoencoder, the VAE.

The same builders serve lesson 01 (autoencoder, 2-D embedding), lesson 02 (VAE, 2-D latent) and
the face lessons (other filters, latent size, channels and image size).
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers, ops

from vae_course.layers import Sampling
from vae_course.losses import RECONSTRUCTION_LOSSES, kl_divergence


def _check_image_shape(shape, n_blocks: int, what: str) -> tuple[int, int, int]:
    if len(shape) != 3:
        raise ValueError(f"{what} must be (height, width, channels), got {tuple(shape)}")
    height, width, channels = (int(s) for s in shape)
    factor = 2**n_blocks
    if height % factor or width % factor:
        raise ValueError(
            f"{what} {height}x{width} cannot be halved {n_blocks} times by stride-2 layers: "
            f"height and width must be multiples of {factor} (pad 28x28 images to 32x32)."
        )
    return height, width, channels


def build_encoder(
    input_shape=(32, 32, 1),
    latent_dim: int = 2,
    filters=(32, 64, 128),
    variational: bool = False,
    seed: int | None = None,
    name: str = "encoder",
) -> keras.Model:
    """Convolutional encoder: len(filters) x [Conv2D 3x3, stride 2, ReLU, 'same'] -> Flatten -> Dense.

    Each block halves height and width. Output: the embedding ``(batch, latent_dim)``, or for
    ``variational=True`` the list ``[z_mean, z_log_var, z]``, each ``(batch, latent_dim)``, where
    ``z`` is drawn by the ``Sampling`` layer (seeded by ``seed``).
    """
    _check_image_shape(input_shape, len(filters), "input_shape")
    inputs = keras.Input(shape=tuple(input_shape), name="encoder_input")
    x = inputs
    for index, n_filters in enumerate(filters, start=1):
        x = layers.Conv2D(n_filters, 3, strides=2, activation="relu", padding="same", name=f"conv_{index}")(x)
    x = layers.Flatten(name="flatten")(x)
    if not variational:
        embedding = layers.Dense(latent_dim, name="embedding")(x)
        return keras.Model(inputs, embedding, name=name)
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    z = Sampling(seed=seed, name="sampling")([z_mean, z_log_var])
    return keras.Model(inputs, [z_mean, z_log_var, z], name=name)


def build_decoder(
    latent_dim: int = 2,
    output_shape=(32, 32, 1),
    filters=(128, 64, 32),
    name: str = "decoder",
) -> keras.Model:
    """Convolutional decoder: Dense -> Reshape -> len(filters) x [Conv2DTranspose 3x3, stride 2, ReLU]
    -> Conv2D 3x3 with sigmoid.

    Shapes: ``(batch, latent_dim)`` -> ``(batch, *output_shape)`` with pixel values in (0, 1).
    Each transposed convolution doubles height and width, starting from ``output / 2**len(filters)``.
    """
    height, width, channels = _check_image_shape(output_shape, len(filters), "output_shape")
    start_height, start_width = height // 2 ** len(filters), width // 2 ** len(filters)
    inputs = keras.Input(shape=(latent_dim,), name="decoder_input")
    x = layers.Dense(start_height * start_width * filters[0], name="dense")(inputs)
    x = layers.Reshape((start_height, start_width, filters[0]), name="reshape")(x)
    for index, n_filters in enumerate(filters, start=1):
        x = layers.Conv2DTranspose(
            n_filters, 3, strides=2, activation="relu", padding="same", name=f"conv_transpose_{index}"
        )(x)
    outputs = layers.Conv2D(channels, 3, padding="same", activation="sigmoid", name="decoder_output")(x)
    return keras.Model(inputs, outputs, name=name)


def build_autoencoder(input_shape=(32, 32, 1), latent_dim: int = 2, filters=(32, 64, 128)):
    """Encoder, decoder (mirrored filters) and the autoencoder that chains them.

    Returns ``(autoencoder, encoder, decoder)``; the three share weights.
    """
    encoder = build_encoder(input_shape, latent_dim, filters)
    decoder = build_decoder(latent_dim, input_shape, tuple(reversed(filters)))
    autoencoder = keras.Model(encoder.input, decoder(encoder.output), name="autoencoder")
    return autoencoder, encoder, decoder


@keras.saving.register_keras_serializable(package="vae_course")
class VAE(keras.Model):
    """Variational autoencoder with its own ``train_step`` and ``test_step``.

    Loss per batch (the source book's scale):
    ``total = reconstruction_weight * mean_over_pixels(rec) + kl_weight * KL``, both terms averaged
    over the batch, KL summed over latent dimensions. With ``rec = "bce"``, weight 500 and
    kl_weight 1 this is the Fashion-MNIST VAE's ``500 x mean BCE + KL``. Metrics (and their ``val_``
    twins): ``total_loss``, ``reconstruction_loss`` (already multiplied by the weight) and ``kl_loss``.

    ``encoder`` must return ``[z_mean, z_log_var, z]``. ``call`` decodes the posterior mean, so
    ``vae(x)`` / ``vae.predict(x)`` is deterministic; training decodes the sampled ``z``.
    """

    def __init__(
        self,
        encoder: keras.Model,
        decoder: keras.Model,
        reconstruction_loss: str = "bce",
        reconstruction_weight: float = 500.0,
        kl_weight: float = 1.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if reconstruction_loss not in RECONSTRUCTION_LOSSES:
            raise ValueError(
                f"reconstruction_loss must be one of {sorted(RECONSTRUCTION_LOSSES)}, got {reconstruction_loss!r}"
            )
        self.encoder = encoder
        self.decoder = decoder
        self.reconstruction_loss = reconstruction_loss
        self.reconstruction_weight = float(reconstruction_weight)
        self.kl_weight = float(kl_weight)
        self.total_loss_tracker = keras.metrics.Mean(name="total_loss")
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [self.total_loss_tracker, self.reconstruction_loss_tracker, self.kl_loss_tracker]

    def call(self, inputs, training=False):
        z_mean, z_log_var, z = self.encoder(inputs, training=training)
        return self.decoder(z if training else z_mean, training=training)

    def compute_vae_losses(self, x, training=False):
        """Batch-averaged ``(total, weighted reconstruction, KL)`` for images ``x``, on the sampled z."""
        z_mean, z_log_var, z = self.encoder(x, training=training)
        reconstruction = self.decoder(z, training=training)
        per_image = RECONSTRUCTION_LOSSES[self.reconstruction_loss](x, reconstruction, reduction="mean")
        reconstruction_loss = self.reconstruction_weight * ops.mean(per_image)
        kl_loss = ops.mean(kl_divergence(z_mean, z_log_var))
        total_loss = reconstruction_loss + self.kl_weight * kl_loss
        return total_loss, reconstruction_loss, kl_loss

    def _record(self, total_loss, reconstruction_loss, kl_loss):
        self.total_loss_tracker.update_state(total_loss)
        self.reconstruction_loss_tracker.update_state(reconstruction_loss)
        self.kl_loss_tracker.update_state(kl_loss)
        return {metric.name: metric.result() for metric in self.metrics}

    def train_step(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            total_loss, reconstruction_loss, kl_loss = self.compute_vae_losses(x, training=True)
        gradients = tape.gradient(total_loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_weights))
        return self._record(total_loss, reconstruction_loss, kl_loss)

    def test_step(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        return self._record(*self.compute_vae_losses(x, training=False))

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "reconstruction_loss": self.reconstruction_loss,
            "reconstruction_weight": self.reconstruction_weight,
            "kl_weight": self.kl_weight,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        config["decoder"] = keras.saving.deserialize_keras_object(config["decoder"])
        return cls(**config)


def build_vae(
    input_shape=(32, 32, 1),
    latent_dim: int = 2,
    filters=(32, 64, 128),
    seed: int | None = None,
    **vae_kwargs,
) -> VAE:
    """A VAE from the course's convolutional encoder (variational) and mirrored decoder.

    ``vae_kwargs`` go to ``VAE`` (reconstruction_loss, reconstruction_weight, kl_weight).
    """
    encoder = build_encoder(input_shape, latent_dim, filters, variational=True, seed=seed)
    decoder = build_decoder(latent_dim, input_shape, tuple(reversed(filters)))
    vae = VAE(encoder, decoder, **vae_kwargs)
    vae.build((None, *input_shape))
    return vae
