"""vae_course: the shared, tested code behind the vae-course lessons, one module per idea.

Import modules by name, e.g. ``from vae_course import data, models, plots``:

* ``config``: FAST mode, seeding, epochs/subset helpers, artifact paths;
* ``data``: Fashion-MNIST and MNIST from the original IDX files; ``celeba`` and ``synthetic_faces``: faces;
* ``layers`` and ``models``: the ``Sampling`` layer, encoder/decoder builders, the ``VAE`` model;
* ``losses``: KL divergences, reconstruction losses, unit conversions (nats);
* ``bounds``: importance weights, ELBO, IWAE, the linear-Gaussian reference model;
* ``diagnostics``: per-dimension KL, active units, rate/distortion, the β sweep;
* ``gradients``: score-function against reparameterised gradient estimators;
* ``latent``: latent grids, sampling and the latent-space measurements of lessons 01-02;
* ``plots``, ``widgets``, ``diagrams``: figures, interactive explorers, the lessons' diagrams;
* ``checks``: checkers for the code learners write in lesson 02; ``bench``: benchmarks.

Importing the package has no side effects: no seeding, no rcParams changes, no downloads.
"""

__version__ = "0.1.0"
