"""Model builders of the course: the convolutional encoder and decoder, the autoencoder, the VAE.

The same builders serve lesson 01 (autoencoder, 2-D embedding), lesson 02 (VAE, 2-D latent) and
the face lessons (``build_face_vae``: RGB 64x64, 200-D latent, ``FACE_FILTERS``, batch normalisation,
LeakyReLU). Images are ``(batch, height, width, channels)`` with pixel values in [0, 1].
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


NORMALIZATIONS = (None, "batch")
"""What may follow each convolution: nothing (the Fashion models) or ``BatchNormalization`` (the face models)."""
ACTIVATIONS = ("relu", "leaky_relu")
"""Activations of the hidden layers: ReLU (the Fashion models) or LeakyReLU (the face models)."""
DECODER_OUTPUT_LAYERS = ("conv", "conv_transpose")
"""The decoder's last layer: ``Conv2D`` (the Fashion models) or ``Conv2DTranspose`` (the face models), 3x3, stride 1."""
FACE_FILTERS = (64, 64, 64, 64, 64)
"""Filters of the face encoder's five stride-2 blocks (and, reversed, of the decoder's): 64x64 -> 2x2."""


def _check_options(normalization, activation) -> None:
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"normalization must be one of {NORMALIZATIONS}, got {normalization!r}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")


def _normalize_and_activate(x, normalization, activation, name: str, fused: bool):
    """BatchNormalization (when asked) then the activation as its own layer (unless ``fused`` into the layer)."""
    if normalization == "batch":
        x = layers.BatchNormalization(name=f"{name}_batch_norm")(x)
    if not fused:
        activation_layer = layers.ReLU if activation == "relu" else layers.LeakyReLU
        x = activation_layer(name=f"{name}_{activation}")(x)
    return x


def _conv_block(x, layer_class, n_filters: int, normalization, activation, name: str):
    """One stride-2, 3x3, 'same' convolution (or transposed convolution), normalised and activated.

    Without normalisation a ReLU stays inside the convolution (``activation="relu"``), as in the
    lesson-01/02 models, so their layer names and saved files are unchanged. Otherwise the order is
    convolution -> BatchNormalization -> activation layer, as in the source book's face models.
    """
    fused = normalization is None and activation == "relu"
    x = layer_class(n_filters, 3, strides=2, padding="same", activation="relu" if fused else None, name=name)(
        x
    )
    return _normalize_and_activate(x, normalization, activation, name, fused)


def build_encoder(
    input_shape=(32, 32, 1),
    latent_dim: int = 2,
    filters=(32, 64, 128),
    variational: bool = False,
    seed: int | None = None,
    normalization: str | None = None,
    activation: str = "relu",
    name: str = "encoder",
) -> keras.Model:
    """Convolutional encoder: len(filters) x [Conv2D 3x3, stride 2, 'same' -> activation] -> Flatten -> Dense.

    Each block halves height and width. ``normalization="batch"`` puts a ``BatchNormalization``
    between each convolution and its activation; ``activation`` is ``"relu"`` or ``"leaky_relu"``
    (a ``LeakyReLU`` layer, Keras' default slope 0.3). Output: the embedding ``(batch, latent_dim)``, or for
    ``variational=True`` the list ``[z_mean, z_log_var, z]``, each ``(batch, latent_dim)``, where
    ``z`` is drawn by the ``Sampling`` layer (seeded by ``seed``).
    The face encoder is ``build_encoder((64, 64, 3), 200, FACE_FILTERS, True, normalization="batch",
    activation="leaky_relu")``.
    """
    _check_options(normalization, activation)
    _check_image_shape(input_shape, len(filters), "input_shape")
    inputs = keras.Input(shape=tuple(input_shape), name="encoder_input")
    x = inputs
    for index, n_filters in enumerate(filters, start=1):
        x = _conv_block(x, layers.Conv2D, n_filters, normalization, activation, name=f"conv_{index}")
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
    normalization: str | None = None,
    activation: str = "relu",
    output_layer: str = "conv",
    name: str = "decoder",
) -> keras.Model:
    """Convolutional decoder: Dense -> Reshape -> len(filters) x [Conv2DTranspose 3x3, stride 2 -> activation]
    -> a 3x3, stride-1 output layer with sigmoid.

    Shapes: ``(batch, latent_dim)`` -> ``(batch, *output_shape)`` with pixel values in (0, 1).
    Each transposed convolution doubles height and width, starting from ``output / 2**len(filters)``.
    With ``normalization=None`` the Dense layer is linear; with ``normalization="batch"`` it is followed,
    like every transposed convolution, by ``BatchNormalization`` and the ``activation``
    (``"relu"`` or ``"leaky_relu"``). ``output_layer`` is ``"conv"`` (``Conv2D``, lessons 01-02) or
    ``"conv_transpose"`` (``Conv2DTranspose``, the source book's face decoder).
    """
    _check_options(normalization, activation)
    if output_layer not in DECODER_OUTPUT_LAYERS:
        raise ValueError(f"output_layer must be one of {DECODER_OUTPUT_LAYERS}, got {output_layer!r}")
    height, width, channels = _check_image_shape(output_shape, len(filters), "output_shape")
    start_height, start_width = height // 2 ** len(filters), width // 2 ** len(filters)
    inputs = keras.Input(shape=(latent_dim,), name="decoder_input")
    x = layers.Dense(start_height * start_width * filters[0], name="dense")(inputs)
    if normalization is not None:
        x = _normalize_and_activate(x, normalization, activation, "dense", fused=False)
    x = layers.Reshape((start_height, start_width, filters[0]), name="reshape")(x)
    for index, n_filters in enumerate(filters, start=1):
        x = _conv_block(
            x, layers.Conv2DTranspose, n_filters, normalization, activation, f"conv_transpose_{index}"
        )
    output_class = layers.Conv2D if output_layer == "conv" else layers.Conv2DTranspose
    outputs = output_class(channels, 3, padding="same", activation="sigmoid", name="decoder_output")(x)
    return keras.Model(inputs, outputs, name=name)


def build_autoencoder(input_shape=(32, 32, 1), latent_dim: int = 2):
    """Encoder, decoder (filters 32, 64, 128, mirrored) and the autoencoder that chains them.

    Shapes: images ``(batch, *input_shape)`` -> embedding ``(batch, latent_dim)`` -> images.
    Returns ``(autoencoder, encoder, decoder)``; the three share weights.
    """
    encoder = build_encoder(input_shape, latent_dim)
    decoder = build_decoder(latent_dim, input_shape)
    autoencoder = keras.Model(encoder.input, decoder(encoder.output), name="autoencoder")
    return autoencoder, encoder, decoder


@keras.saving.register_keras_serializable(package="vae_course")
class VAE(keras.Model):
    """Variational autoencoder with its own ``train_step`` and ``test_step``.

    Loss per batch (the source book's scale):
    ``total = reconstruction_weight * mean_over_pixels(rec) + kl_weight * KL``, both terms averaged
    over the batch, KL summed over latent dimensions (nats). ``rec`` is ``reconstruction_loss``:
    ``"bce"`` (binary cross-entropy) or ``"mse"`` (squared error), each averaged over the pixels of an
    image. With ``"bce"``, weight 500 and kl_weight 1 this is the Fashion-MNIST VAE's
    ``500 x mean BCE + KL``; the face VAE (``build_face_vae``) uses ``2000 x mean MSE + KL``.
    Metrics (and their ``val_`` twins): ``total_loss``, ``reconstruction_loss`` (already multiplied
    by the weight) and ``kl_loss``.

    ``encoder`` must return ``[z_mean, z_log_var, z]``. ``call`` decodes the posterior mean, so
    ``vae(x)`` / ``vae.predict(x)`` is deterministic; training decodes the sampled ``z``.
    ``train_step`` runs encoder and decoder with ``training=True`` (batch normalisation uses the
    batch's statistics and updates its moving averages); ``test_step`` and ``call`` use ``training=False``
    unless told otherwise.
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
        z_mean, _, z = self.encoder(inputs, training=training)
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


def build_face_vae(
    latent_dim: int = 200,
    image_size: int = 64,
    seed: int | None = None,
    reconstruction_weight: float = 2000.0,
) -> VAE:
    """The source book's CelebA VAE: RGB ``(image_size, image_size, 3)`` faces, ``latent_dim``-D latent space.

    Encoder: 5 x [Conv2D 64, 3x3, stride 2 -> BatchNormalization -> LeakyReLU] -> Flatten -> Dense
    ``z_mean``/``z_log_var``. Decoder: Dense -> BatchNormalization -> LeakyReLU -> Reshape -> 5 x
    [Conv2DTranspose 64, 3x3, stride 2 -> BatchNormalization -> LeakyReLU] -> Conv2DTranspose 3, 3x3,
    stride 1, sigmoid. At the defaults: 253,584 encoder and 240,131 decoder parameters (as in the book).
    Loss: ``reconstruction_weight * mean_over_pixels(MSE) + KL``, i.e. the standard form with
    ``beta = losses.beta_from_weight(reconstruction_weight, image_size**2 * 3)``
    (12288 / 2000 = 6.144 at the defaults). ``image_size`` must be a multiple of 32.
    """
    input_shape = (image_size, image_size, 3)
    face_options = {"normalization": "batch", "activation": "leaky_relu"}
    encoder = build_encoder(
        input_shape, latent_dim, FACE_FILTERS, variational=True, seed=seed, **face_options
    )
    decoder = build_decoder(
        latent_dim, input_shape, tuple(reversed(FACE_FILTERS)), output_layer="conv_transpose", **face_options
    )
    vae = VAE(encoder, decoder, reconstruction_loss="mse", reconstruction_weight=reconstruction_weight)
    vae.build((None, *input_shape))
    return vae
