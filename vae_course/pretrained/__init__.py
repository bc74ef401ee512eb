"""Pretrained models shipped with the package, so a teacher can skip training in front of a class.

Each model is a ``NAME.weights.h5`` file in this folder with a ``NAME.json`` beside it. The JSON records how
the model was trained (the lesson's settings, the seed, the versions of Python, TensorFlow and Keras) and
the metrics it reached, so a reader knows what they load and a test can check that the weights still give
those numbers.

========================  =========  ==============================================================
name                      lesson     model
========================  =========  ==============================================================
``autoencoder_fashion``   01         the conv autoencoder, 2-D embedding, Fashion-MNIST
``vae_fashion``           02, 03     the conv VAE, 2-D latent space, Fashion-MNIST (500 x BCE + KL)
``vae_faces_synthetic``   04, 05     the book's face VAE, 200-D, trained on the synthetic faces
========================  =========  ==============================================================

Use::

    from vae_course import pretrained
    vae = pretrained.load("vae_fashion")         # the built model with the shipped weights
    pretrained.info("vae_fashion")["metrics"]    # what it reached on the test split
    pretrained.history("vae_fashion").history    # the per-epoch log of the run that made it
    pretrained.load_weights_into(vae, "vae_fashion")  # into a model a lesson built (its PRETRAINED switch)

A lesson switches to them with its ``PRETRAINED`` parameter, or for a whole session with
``VAE_COURSE_PRETRAINED=1`` (``config.pretrained_mode``). ``vae_faces_synthetic`` was trained on synthetic
faces only: the face lessons never use it on real CelebA.

Reproduce them with exactly the lessons' settings (full mode): ``python -m vae_course.pretrained train [NAME]``.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vae_course import config

FOLDER = Path(__file__).resolve().parent
"""Where the shipped files live (inside the installed package)."""


@dataclass(frozen=True)
class Spec:
    """One shipped model: its ``lesson``, a one-line ``description``, the lesson's training ``settings``."""

    name: str
    lesson: str
    description: str
    settings: dict


# The lessons' full-mode settings. tests/test_pretrained.py reads the lessons' parameter cells and checks
# that these agree with them, so a change in a lesson cannot leave the shipped model behind unnoticed.
SPECS = {
    spec.name: spec
    for spec in (
        Spec(
            "autoencoder_fashion",
            "01_autoencoder",
            "conv autoencoder, 2-D embedding, Fashion-MNIST 32x32, binary cross-entropy",
            {"epochs": 5, "batch_size": 100, "n_train": 60_000, "latent_dim": 2, "optimizer": "adam"},
        ),
        Spec(
            "vae_fashion",
            "02_vae",
            "conv VAE, 2-D latent space, Fashion-MNIST 32x32, 500 x mean BCE + KL",
            {
                "epochs": 5,
                "batch_size": 100,
                "n_train": 60_000,
                "latent_dim": 2,
                "learning_rate": 0.0005,
                "reconstruction_weight": 500.0,
            },
        ),
        Spec(
            "vae_faces_synthetic",
            "04_celeba_vae",
            "the book's face VAE, 64x64 RGB, 200-D latent space, 2000 x mean MSE + KL, synthetic faces",
            {},  # faces.lesson04_settings(gpu=False), full mode: filled in by _face_settings()
        ),
    )
}
NAMES = tuple(SPECS)


def _check_name(name: str) -> Spec:
    if name not in SPECS:
        raise ValueError(f"Unknown pretrained model {name!r}; the shipped ones are: {', '.join(NAMES)}.")
    return SPECS[name]


def weights_path(name: str) -> Path:
    """``FOLDER / f"{name}.weights.h5"``."""
    _check_name(name)
    return FOLDER / f"{name}.weights.h5"


def info_path(name: str) -> Path:
    """``FOLDER / f"{name}.json"``."""
    _check_name(name)
    return FOLDER / f"{name}.json"


def _missing(name: str) -> str:
    return (
        f"The pretrained model {name!r} is not in {FOLDER} (looked for {weights_path(name).name} and "
        f"{info_path(name).name}). Make it with the lesson's settings: python -m vae_course.pretrained train "
        f"{name}   (or run the lesson with its PRETRAINED switch off, which trains it)."
    )


def available(name: str) -> bool:
    """True when both the weights and the JSON of ``name`` are shipped."""
    return weights_path(name).is_file() and info_path(name).is_file()


def info(name: str) -> dict:
    """The JSON beside the weights: ``name``, ``lesson``, ``settings``, ``seed``, ``versions``, ``metrics``..."""
    path = info_path(name)
    if not path.is_file():
        raise FileNotFoundError(_missing(name))
    return json.loads(path.read_text(encoding="utf-8"))


def _face_settings(gpu: bool = False):
    """Lesson 04's full-mode settings on a CPU, whatever ``$VAE_COURSE_FAST`` says."""
    import os

    from vae_course import faces

    saved = os.environ.get(config.FAST_ENV_VAR)
    os.environ[config.FAST_ENV_VAR] = "0"
    try:
        return faces.lesson04_settings(gpu=gpu)
    finally:
        if saved is None:
            os.environ.pop(config.FAST_ENV_VAR, None)
        else:
            os.environ[config.FAST_ENV_VAR] = saved


def build(name: str):
    """The untrained model of ``name``, built exactly as its lesson builds it (no weights loaded).

    ``autoencoder_fashion``: the autoencoder ``keras.Model``, with its two halves as ``.encoder`` and
    ``.decoder`` (as a VAE has them); ``vae_fashion`` and ``vae_faces_synthetic``: a ``models.VAE``.
    """
    from vae_course import data, models

    _check_name(name)
    settings = SPECS[name].settings
    if name == "autoencoder_fashion":
        autoencoder, encoder, decoder = models.build_autoencoder(data.IMAGE_SHAPE, settings["latent_dim"])
        autoencoder.encoder, autoencoder.decoder = encoder, decoder
        return autoencoder
    if name == "vae_fashion":
        return models.build_vae(
            data.IMAGE_SHAPE,
            settings["latent_dim"],
            seed=config.SEED,
            reconstruction_loss="bce",
            reconstruction_weight=settings["reconstruction_weight"],
        )
    face = _face_settings()
    return models.build_face_vae(
        face.latent_dim, face.image_size, seed=config.SEED, reconstruction_weight=face.reconstruction_weight
    )


def load(name: str):
    """The model of ``name`` with its shipped weights, ready to use (``FileNotFoundError`` if not shipped).

    Every model has ``.encoder`` and ``.decoder``, the parts the lessons use (see ``build``).
    """
    if not available(name):
        raise FileNotFoundError(_missing(name))
    return _load_from(name, weights_path(name))


@dataclass(frozen=True)
class RecordedHistory:
    """The training log recorded when a shipped model was trained, in the shape a lesson's cells read.

    ``history`` is ``fit``'s per-epoch log (``{"loss": [...], "val_loss": [...]}``, or a VAE's ``total_loss``,
    ``reconstruction_loss``, ``kl_loss`` and their ``val_`` twins), as in a ``keras.callbacks.History``, so
    ``plots.loss_curves`` and a lesson's table take either; ``epoch`` counts from 0 like Keras's. Also:
    ``seconds`` per epoch on the machine that trained it, ``first_batch_loss`` (the untrained model's loss on
    its first training batch) and ``n_train``, the number of training images.
    """

    history: dict
    seconds: list
    first_batch_loss: float
    n_train: int

    @property
    def epoch(self) -> list[int]:
        return list(range(len(next(iter(self.history.values())))))


def history(name: str) -> RecordedHistory:
    """The training log of the shipped ``name`` (see ``RecordedHistory``): a lesson's switch to the pretrained
    model shows the curves and the table of the run that made it, not a blank."""
    training = info(name)["training"]
    if "history" not in training:
        raise ValueError(
            f"The JSON of {name!r} records no training history (it was shipped by an older version). "
            f"Make it again: python -m vae_course.pretrained train {name}"
        )
    return RecordedHistory(
        history={key: list(values) for key, values in training["history"].items()},
        seconds=list(training["seconds_per_epoch"]),
        first_batch_loss=float(training["first_batch_loss"]),
        n_train=int(training["n_train"]),
    )


def load_weights_into(model, name: str):
    """Put the shipped weights of ``name`` into ``model``, a model built the way its lesson builds it; returns it.

    This is what a lesson's ``PRETRAINED`` switch does in place of ``fit``: the lesson keeps its own objects
    (``model``, its encoder and decoder), now holding the trained weights. If ``model`` is compiled, its
    optimizer is built (zero moments, as before a first step), so that ``model.save`` writes a checkpoint
    that ``keras.saving.load_model`` reads back without warnings. A model of another shape (a changed
    architecture) raises a ``ValueError`` that says so.
    """
    shipped = load(name)
    mine, theirs = model.get_weights(), shipped.get_weights()
    shapes = [tuple(w.shape) for w in mine]
    if shapes != [tuple(w.shape) for w in theirs]:
        raise ValueError(
            f"This model is not the one {name!r} was trained as: it has {len(mine)} weight arrays, the shipped "
            f"model {len(theirs)} (or their shapes differ). The pretrained switch needs the lesson's own "
            "architecture: undo the change, or turn PRETRAINED off and train your model."
        )
    model.set_weights(theirs)
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and not optimizer.built:
        optimizer.build(model.trainable_variables)
    return model


def _versions() -> dict:
    import keras
    import tensorflow as tf

    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
    }


def _load_from(name: str, weights: Path):
    model = build(name)
    model.load_weights(weights)
    return model


def save(
    name: str, model, training: dict | None = None, folder: Path | None = None, metrics: dict | None = None
) -> Path:
    """Write ``model``'s weights and the JSON (settings, seed, versions, ``metrics``, ``training``) of ``name``.

    ``metrics`` defaults to ``metrics_for(name, ...)`` computed on the weights just written, read back into a
    fresh model: exactly what ``load`` will give (the VAEs' losses use sampled codes, and a model that has
    already been evaluated has moved on in its random stream). ``folder`` defaults to ``FOLDER`` (the
    package). Returns the weights' path.
    """
    spec = _check_name(name)
    folder = FOLDER if folder is None else Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    weights = folder / f"{name}.weights.h5"
    bare = build(name)  # the weights alone: a compiled, trained model would also write its optimizer's state
    bare.set_weights(model.get_weights())
    bare.save_weights(weights)
    if metrics is None:
        metrics = metrics_for(name, _load_from(name, weights))
    settings = spec.settings or {
        key: value for key, value in vars(_face_settings()).items() if not key.startswith("_")
    }
    record = {
        "name": name,
        "lesson": spec.lesson,
        "description": spec.description,
        "settings": settings,
        "seed": config.SEED,
        "versions": _versions(),
        "saved": time.strftime("%Y-%m-%d"),
        "training": training or {},
        "metrics": {key: float(value) for key, value in metrics.items()},
    }
    (folder / f"{name}.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return weights


# ----------------------------------------------------------------------------------------------------------
# Metrics: what the shipped weights give on the test split (the JSON records them; tests recompute them)
# ----------------------------------------------------------------------------------------------------------


AE_SAMPLES = 500
"""Points lesson 01 draws uniformly in the embeddings' bounding box to look for holes."""
VAE_SAMPLES = 1_000
"""Points lesson 02 draws from N(0, I) to look for holes."""


def _hole_ratios(z, labels, samples) -> dict:
    """Lesson 01's hole measure (``latent.latent_space_report``): median and 90th percentile."""
    from vae_course import latent

    report = latent.latent_space_report(z, labels, samples)
    return {key: report[key] for key in ("hole_ratio_median", "hole_ratio_p90")}


def fashion_test_split():
    """Fashion-MNIST's whole test split, as the lessons load it: ``(images (10000, 32, 32, 1), labels)``."""
    from vae_course import data

    return data.load_fashion_mnist("test")


def autoencoder_metrics(model) -> dict:
    """Lesson 01's numbers on the 10,000 test images: ``val_bce`` (mean binary cross-entropy per pixel) and
    the hole ratios of ``AE_SAMPLES`` points drawn uniformly in the embeddings' bounding box (seed ``config.SEED``)."""
    from vae_course import latent

    x_test, y_test = fashion_test_split()
    model.compile(loss="binary_crossentropy")
    z = model.encoder.predict(x_test, batch_size=500, verbose=0)
    samples = latent.sample_uniform_box(z, AE_SAMPLES, seed=config.SEED)
    return {
        "val_bce": float(model.evaluate(x_test, x_test, batch_size=500, verbose=0)),
        **_hole_ratios(z, y_test, samples),
    }


def vae_metrics(vae, iwae_images: int = 200) -> dict:
    """Lesson 02/03's headline numbers on the 10,000 test images.

    ``val_total``, ``val_reconstruction``, ``val_kl`` (the lesson's loss scale); ``z_mean_x``, ``z_mean_y``
    and ``z_var_x``, ``z_var_y`` of the sampled codes (close to 0 and 1 for a cloud like N(0, I));
    ``elbo`` and ``iwae_k`` for k in 1, 5, 50 (nats per image, on the first ``iwae_images`` test images,
    seed ``config.SEED``); the hole ratios of ``VAE_SAMPLES`` draws from N(0, I) against ``z_mean``.
    """
    import keras

    from vae_course import bounds, latent

    x_test, y_test = fashion_test_split()
    vae.compile(optimizer=keras.optimizers.Adam())
    scores = vae.evaluate(x_test, batch_size=500, return_dict=True, verbose=0)
    keras.utils.set_random_seed(config.SEED)
    z_mean, z_log_var, z = (
        keras.ops.convert_to_numpy(part) for part in vae.encoder.predict(x_test, verbose=0)
    )
    x_small = x_test[:iwae_images]
    log_weights = bounds.log_importance_weights(
        bounds.bernoulli_log_likelihood(vae.decoder, x_small),
        z_mean[:iwae_images],
        z_log_var[:iwae_images],
        k=50,
        seed=config.SEED,
    )
    by_k = bounds.iwae_by_k(log_weights, [1, 5, 50]).mean(axis=0)  # (3,): mean over the images
    return {
        "val_total": scores["total_loss"],
        "val_reconstruction": scores["reconstruction_loss"],
        "val_kl": scores["kl_loss"],
        "z_mean_x": float(z[:, 0].mean()),
        "z_mean_y": float(z[:, 1].mean()),
        "z_var_x": float(z[:, 0].var()),
        "z_var_y": float(z[:, 1].var()),
        "elbo": float(np.mean(bounds.elbo(log_weights))),
        "iwae_1": float(by_k[0]),
        "iwae_5": float(by_k[1]),
        "iwae_50": float(by_k[2]),
        **_hole_ratios(z_mean, y_test, latent.sample_standard_normal(VAE_SAMPLES, 2, seed=config.SEED)),
    }


FACE_AUC_ATTRIBUTES = ("Smiling", "Eyeglasses", "Blond_Hair", "Male", "Wearing_Hat")
"""Attributes whose projection AUC the face model's JSON records (lesson 05's claims)."""


def face_metrics(vae, data_dir, prefix: str = "") -> dict:
    """Lesson 04/05's headline numbers for a face VAE on the synthetic set in ``data_dir``.

    Vectors are built from the training split's ``z_mean`` and measured on the test split (as lesson 05 does):
    ``auc_<attribute>`` for ``FACE_AUC_ATTRIBUTES``; plus ``test_total``, ``test_reconstruction``,
    ``test_kl``, ``mse``, ``mse_mean_face`` (the mean training face as the reconstruction) and
    ``active_units`` (Var over faces of ``z_mean`` > 0.01). Keys get ``prefix``.
    """
    import keras

    from vae_course import attributes, celeba, diagnostics, faces

    train = celeba.load_celeba("train", data_dir=data_dir, progress=False)
    test = celeba.load_celeba("test", data_dir=data_dir, progress=False)
    vae.compile(optimizer=keras.optimizers.Adam())
    scores = vae.evaluate(test.as_keras_dataset(256, shuffle=False), return_dict=True, verbose=0)
    train_z = faces.encode_z_mean(vae.encoder, train)
    test_z = faces.encode_z_mean(vae.encoder, test)
    x_test = np.asarray(test.images, dtype=np.float32) / 255.0
    reconstructed = np.concatenate(
        [vae.decoder.predict_on_batch(test_z[start : start + 256]) for start in range(0, len(test_z), 256)]
    )
    mean_face = sum(batch.sum(axis=0, dtype=np.float64) for batch in train.batches(1_000)) / len(train)
    metrics = {
        "test_total": scores["total_loss"],
        "test_reconstruction": scores["reconstruction_loss"],
        "test_kl": scores["kl_loss"],
        "mse": float(np.mean((reconstructed - x_test) ** 2)),
        "mse_mean_face": float(np.mean((mean_face - x_test) ** 2)),
        "active_units": int(diagnostics.active_units_by_variance(test_z).sum()),
        "n_train_codes": len(train),
        "n_test": len(test),
    }
    for name in FACE_AUC_ATTRIBUTES:
        vector = attributes.attribute_vector(train_z, train.has(name))
        metrics[f"auc_{name}"] = attributes.projection_auc(vector, test_z, test.has(name))
    return {prefix + key: float(value) for key, value in metrics.items()}


CI_FACES = 800
"""The synthetic set FAST mode draws (``faces.lesson04_settings`` in FAST mode): CI recomputes the face
metrics on it (``ci_`` keys in the JSON). Its test faces are test faces of the full set too
(``synthetic_faces.split_code``), so the model never trained on them."""


def metrics_for(name: str, model) -> dict:
    """The metrics the JSON of ``name`` records, computed now for ``model`` (see the ``*_metrics`` functions).

    For ``vae_faces_synthetic``: the ``ci_`` metrics on the ``CI_FACES`` set, which the tests recompute.
    """
    from vae_course import synthetic_faces

    _check_name(name)
    if name == "autoencoder_fashion":
        return autoencoder_metrics(model)
    if name == "vae_fashion":
        return vae_metrics(model)
    return face_metrics(
        model, synthetic_faces.ensure_synthetic_celeba(n_images=CI_FACES, seed=config.SEED), prefix="ci_"
    )


# ----------------------------------------------------------------------------------------------------------
# Training with the lessons' settings
# ----------------------------------------------------------------------------------------------------------


def _seeded_fashion_data(name: str) -> tuple[dict, np.ndarray, np.ndarray]:
    """``(settings, x_train, x_test)`` for a Fashion-MNIST model, after seeding as the lessons do."""
    from vae_course import data

    settings = SPECS[name].settings
    config.seed_everything()
    x_train, _ = data.take(*data.load_fashion_mnist("train"), settings["n_train"])
    return settings, x_train, fashion_test_split()[0]


def _training_record(history, timer, n_train: int) -> dict:
    """The JSON's ``training`` part: ``fit``'s whole per-epoch log, the seconds per epoch (validation
    included), the first training batch's loss and the number of training images (see ``history``)."""
    return {
        "history": {key: [round(float(v), 5) for v in values] for key, values in history.history.items()},
        "seconds_per_epoch": [round(s, 1) for s in timer.seconds],
        "first_batch_loss": round(timer.first_batch_loss, 4),
        "n_train": int(n_train),
    }


def _train_autoencoder(folder: Path) -> tuple[object, dict]:
    from vae_course.bench import EpochTimer

    settings, x_train, x_test = _seeded_fashion_data("autoencoder_fashion")
    model = build("autoencoder_fashion")
    model.compile(optimizer=settings["optimizer"], loss="binary_crossentropy")
    timer = EpochTimer()
    history = model.fit(
        x_train,
        x_train,
        epochs=settings["epochs"],
        batch_size=settings["batch_size"],
        validation_data=(x_test, x_test),
        callbacks=[timer],
        verbose=2,
    )
    return model, _training_record(history, timer, len(x_train))


def _train_vae_fashion(folder: Path) -> tuple[object, dict]:
    import keras

    from vae_course.bench import EpochTimer

    settings, x_train, x_test = _seeded_fashion_data("vae_fashion")
    vae = build("vae_fashion")
    vae.compile(optimizer=keras.optimizers.Adam(learning_rate=settings["learning_rate"]))
    checkpoint = folder / "vae_fashion_best.keras"
    timer = EpochTimer()
    history = vae.fit(
        x_train,
        epochs=settings["epochs"],
        batch_size=settings["batch_size"],
        validation_data=(x_test,),
        callbacks=[
            keras.callbacks.ModelCheckpoint(
                checkpoint, monitor="val_total_loss", mode="min", save_best_only=True
            ),
            timer,
        ],
        verbose=2,
    )
    vae.load_weights(checkpoint)
    checkpoint.unlink()
    return vae, _training_record(history, timer, len(x_train))


def _train_faces(folder: Path) -> tuple[object, dict]:
    from vae_course import faces
    from vae_course.bench import EpochTimer

    config.seed_everything()
    settings = _face_settings()
    data = faces.choose_face_data(settings, seed=config.SEED)
    if data.real:
        raise RuntimeError(
            "vae_faces_synthetic is trained on synthetic faces, but CelebA was found "
            f"({data.source}); unset $VAE_COURSE_CELEBA_DIR to train it."
        )
    train = data.load("train", data.n_train)
    valid = data.load("valid", settings.n_valid)
    timer = EpochTimer()
    vae, history = faces.train_face_vae(
        train,
        valid,
        data.epochs,
        settings,
        checkpoint=folder / "vae_faces_best.keras",
        verbose=2,
        callbacks=[timer],
    )
    (folder / "vae_faces_best.keras").unlink()
    full = face_metrics(vae, data.data_dir)
    return vae, {
        **_training_record(history, timer, len(train)),
        "full_test_split": {key: round(value, 5) for key, value in full.items()},
    }


_TRAINERS: dict[str, Callable[[Path], tuple[object, dict]]] = {
    "autoencoder_fashion": _train_autoencoder,
    "vae_fashion": _train_vae_fashion,
    "vae_faces_synthetic": _train_faces,
}


def train(name: str, folder: Path | None = None) -> Path:
    """Train ``name`` with its lesson's full-mode settings, measure it, and ``save`` it (into ``folder``)."""
    _check_name(name)
    folder = FOLDER if folder is None else Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    model, training = _TRAINERS[name](folder)
    training = {"how": f"python -m vae_course.pretrained train {name}", **training}
    training["seconds"] = round(time.perf_counter() - started, 1)
    return save(name, model, training, folder)
