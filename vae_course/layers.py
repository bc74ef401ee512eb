"""Custom Keras layers of the course.

``Sampling`` is the reparameterisation trick as a layer: z = mu + sigma * eps with eps ~ N(0, I),
so the randomness enters from outside and gradients flow through mu and sigma.
"""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="vae_course")
class Sampling(keras.layers.Layer):
    """Draw z ~ N(z_mean, exp(z_log_var)) by reparameterisation: z = z_mean + exp(z_log_var / 2) * eps.

    Inputs: ``[z_mean, z_log_var]``, each ``(batch, latent_dim)``. Output: ``(batch, latent_dim)``.
    ``seed`` makes the stream of eps reproducible (a ``keras.random.SeedGenerator`` is kept in the layer).
    """

    def __init__(self, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        epsilon = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}
