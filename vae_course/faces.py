"""The face lessons' shared pipeline: which data, lesson 04's artifacts, and training them when missing.

Lessons 04 and 05 work on the same faces with the same model, so the steps they share live here, once:

1. **Which data** (``choose_face_data``): real CelebA when ``celeba.find_celeba`` finds it; otherwise the
   synthetic set of ``vae_course.synthetic_faces`` (drawn once and cached), announced by a printed banner.
   The choice is never silent, and ``FaceData.name`` ("CelebA" or "synthetic faces") goes into every
   figure title.
2. **Lesson 04's artifacts**: the trained face VAE (``load_lesson04_model``, the file
   ``config.artifact_path("vae_faces.keras")``) and the ``z_mean`` codes of the test split
   (``save_test_codes`` / ``load_test_codes``, ``config.artifact_path("faces_test_codes.npz")``).
   In FAST mode both names get ``_fast`` (``config.artifact_path``), so a quick CI model never stands in for
   a fully trained one.
3. **Training when they are missing** (``train_face_vae``, ``load_or_train_face_vae``): lesson 04's model and
   settings (``lesson04_settings``: batches of 64 and Adam at 0.002 on a CPU, the book's 128 and 0.0005 with a
   GPU; ``2000 x mean MSE + KL``; a checkpoint of the best ``val_total_loss`` with ``mode="min"``).
4. **Joining by file name** (``match_filenames``): attributes, codes and factors are joined to images by
   file name, never by listing order.
5. **The generator's ground truth** (``load_factors``): the synthetic set's ``factors.csv`` (for example the
   mouth curvature behind ``Smiling``), joined by file name.

Typical use (lesson 05)::

    from vae_course import faces
    data = faces.choose_face_data()                      # prints which data, with a banner for synthetic faces
    test = data.load("test", limit=data.settings.n_test)
    vae = faces.load_or_train_face_vae(data)             # lesson 04's model, or trained now with its settings
    codes = faces.load_test_codes()                       # z_mean, filenames, attributes, attribute_names
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vae_course import celeba, config

MODEL_FILENAME = "vae_faces.keras"
"""Lesson 04's trained face VAE, under ``config.artifact_path`` (``vae_faces_fast.keras`` in FAST mode)."""
CODES_FILENAME = "faces_test_codes.npz"
"""Lesson 04's test-split codes, under ``config.artifact_path`` (``faces_test_codes_fast.npz`` in FAST mode)."""
FACTORS_FILENAME = "factors.csv"
"""The synthetic set's ground truth, one row per image, next to ``list_attr_celeba.txt``."""
CODES_KEYS = ("z_mean", "filenames", "attributes", "attribute_names", "source")
"""The arrays of a codes file (``save_test_codes``)."""


@dataclass(frozen=True)
class FaceSettings:
    """The face lessons' settings (lesson 04's parameters cell).

    Fixed: ``image_size`` (pixels), ``latent_dim``, ``batch_size``, ``learning_rate`` (Adam) and
    ``reconstruction_weight`` (the loss is ``reconstruction_weight x mean MSE + KL``).
    Mode-dependent (see ``lesson04_settings``): ``n_synthetic`` (faces drawn when CelebA is missing),
    ``n_train_synthetic`` (``limit`` of their training split), ``epochs_synthetic``, ``n_train_real_cpu`` (training faces of real CelebA; None for the whole split,
    which full mode uses with a GPU),
    ``epochs_real``, ``n_valid`` and ``n_test`` (``limit`` of the valid and test splits), ``gpu``.
    """

    n_synthetic: int
    n_train_synthetic: int | None
    epochs_synthetic: int
    n_train_real_cpu: int | None
    epochs_real: int
    n_valid: int
    n_test: int
    gpu: bool = False
    image_size: int = 64
    latent_dim: int = 200
    batch_size: int = 128
    learning_rate: float = 0.0005
    reconstruction_weight: float = 2000.0


def has_gpu() -> bool:
    """True when TensorFlow sees a GPU."""
    import tensorflow as tf

    return len(tf.config.list_physical_devices("GPU")) > 0


def lesson04_settings(gpu: bool | None = None) -> FaceSettings:
    """Lesson 04's settings for this run (FAST mode shrinks them; ``gpu=None`` asks TensorFlow).

    Full mode: 20,000 synthetic faces (all 16,000 of their training split) and 4 epochs; real CelebA 5 epochs on
    its first 20,000 training faces on a CPU, the book's 10 epochs on the whole training split with a GPU;
    2,000 validation faces; the test split up to 19,962 faces (all of CelebA's). On a CPU: batches of 64 and
    Adam at 0.002 (about 1,000 steps fit into the lesson's 20 minutes, and the larger step gets further in them:
    validation total 57.1 against 64.9 after about 280 steps, lesson 04's settings cell); with a GPU the book's
    128 and 0.0005.
    FAST mode: 800 synthetic faces of which 384 train, 1 epoch, 640 real training faces, 128 validation and
    256 test faces.
    """
    gpu = has_gpu() if gpu is None else bool(gpu)
    return FaceSettings(
        n_synthetic=config.subset(20_000, fast=800),
        n_train_synthetic=config.subset(config.subset(20_000, fast=800), fast=384),
        epochs_synthetic=config.epochs(full=4),
        n_train_real_cpu=None if gpu and not config.fast_mode() else config.subset(20_000, fast=640),
        epochs_real=config.epochs(full=10 if gpu else 5),
        n_valid=config.subset(2_000, fast=128),
        n_test=config.subset(19_962, fast=256),
        gpu=gpu,
        batch_size=128 if gpu else 64,
        learning_rate=0.0005 if gpu else 0.002,
    )


@dataclass(frozen=True)
class FaceData:
    """The face data a run uses, as chosen by ``choose_face_data``.

    - ``data_dir``: the folder to give ``celeba.load_celeba`` (real CelebA or the synthetic set);
    - ``real``: True for real CelebA, False for synthetic faces;
    - ``name``: "CelebA" or "synthetic faces", for figure titles and summaries;
    - ``source``: where, in one line (``celeba.CelebALayout.describe``);
    - ``epochs`` and ``n_train`` (None: the whole training split): lesson 04's training on this data;
    - ``settings``: the ``FaceSettings`` they come from; ``banner``: the text printed when chosen.
    """

    data_dir: Path
    real: bool
    name: str
    source: str
    epochs: int
    n_train: int | None
    settings: FaceSettings = field(repr=False)
    banner: str = field(default="", repr=False)

    @property
    def synthetic(self) -> bool:
        return not self.real

    def load(self, split: str, limit: int | None = None, **kwargs) -> celeba.FaceDataset:
        """``celeba.load_celeba(split, data_dir, image_size, limit, **kwargs)`` on this data.

        ``limit``: the first ``limit`` faces of the split in file-name order (None: all of them).
        """
        return celeba.load_celeba(
            split, data_dir=self.data_dir, image_size=self.settings.image_size, limit=limit, **kwargs
        )


def choose_face_data(
    settings: FaceSettings | None = None,
    seed: int = config.SEED,
    data_dir: str | os.PathLike | None = None,
    verbose: bool = True,
) -> FaceData:
    """Real CelebA when ``celeba.find_celeba(data_dir)`` finds it, else the synthetic set, never silently.

    - ``settings``: ``lesson04_settings()`` when None;
    - ``seed``: the synthetic set's seed (lesson 04 uses the course seed, ``config.SEED``);
    - ``data_dir``: search only this folder (no synthetic fallback: a ``FileNotFoundError`` when it holds
      neither CelebA nor a synthetic set); None searches ``$VAE_COURSE_CELEBA_DIR`` and ``~/datasets/celeba``.

    Without CelebA the synthetic set of ``settings.n_synthetic`` faces is drawn once
    (``synthetic_faces.ensure_synthetic_celeba``, cached in the artifacts folder). A set written by
    ``synthetic_faces`` and found by the search (``$VAE_COURSE_CELEBA_DIR`` pointing at it) is used as it is.
    With ``verbose`` the choice is printed, as a framed banner.
    """
    settings = lesson04_settings() if settings is None else settings
    layout = celeba.find_celeba(data_dir)
    if layout is None and data_dir is not None:
        raise FileNotFoundError(
            f"No CelebA (and no synthetic set) in {Path(data_dir).expanduser()}, given as data_dir, so no other "
            "folder was searched and no synthetic faces were drawn. Point data_dir at the folder that holds "
            "list_attr_celeba.txt (or .csv) and img_align_celeba, or pass data_dir=None to let the lesson "
            "search the usual places and fall back to synthetic faces."
        )
    if layout is not None and not layout.synthetic:
        n_train = settings.n_train_real_cpu
        data = FaceData(
            data_dir=layout.root,
            real=True,
            name="CelebA",
            source=layout.describe(),
            epochs=settings.epochs_real,
            n_train=n_train,
            settings=settings,
            banner=f"Real CelebA found: {layout.describe()}",
        )
    else:
        if layout is not None:
            folder, source = layout.root, layout.describe()
        else:
            from vae_course import synthetic_faces

            folder = Path(synthetic_faces.ensure_synthetic_celeba(n_images=settings.n_synthetic, seed=seed))
            source = f"synthetic faces at {folder}"
        banner = (
            "No CelebA found, so this run uses SYNTHETIC FACES drawn by vae_course.synthetic_faces,\n"
            f"at {folder}.\n"
            "Every figure says 'synthetic faces'. Lesson 04, section 2.2, says how to get the real CelebA."
        )
        data = FaceData(
            data_dir=folder,
            real=False,
            name="synthetic faces",
            source=source,
            epochs=settings.epochs_synthetic,
            n_train=settings.n_train_synthetic,
            settings=settings,
            banner=banner,
        )
    if verbose:
        print("=" * 100 + "\n" + data.banner + "\n" + "=" * 100)
    return data


# --------------------------------------------------------------------------------------------
# Joining by file name
# --------------------------------------------------------------------------------------------


def match_filenames(wanted, available, what: str = "files") -> np.ndarray:
    """Indices ``index`` into ``available`` with ``available[index] == wanted``: a join by file name.

    Shapes: ``wanted`` ``(N,)``, ``available`` ``(M,)`` of str -> int ``(N,)``. Raises ``ValueError`` when
    ``available`` repeats a name or lacks some of ``wanted`` (with the count and the first few names).
    """
    wanted = np.asarray(wanted).astype(str).reshape(-1)
    available = np.asarray(available).astype(str).reshape(-1)
    positions: dict[str, int] = {}
    repeated = []
    for index, name in enumerate(available.tolist()):
        if name in positions:
            repeated.append(name)
        positions[name] = index
    if repeated:
        raise ValueError(
            f"{len(repeated)} file name(s) appear more than once among the {what} "
            f"(first: {', '.join(repeated[:5])}): a join by file name needs unique names."
        )
    missing = [name for name in wanted.tolist() if name not in positions]
    if missing:
        raise ValueError(
            f"{len(missing):,} of the {len(wanted):,} file names asked for are not among the {len(available):,} "
            f"{what} (first: {', '.join(missing[:5])}). The two come from different data sets or splits: "
            "check which data each was made from."
        )
    return np.array([positions[name] for name in wanted.tolist()], dtype=np.int64)


# --------------------------------------------------------------------------------------------
# Lesson 04's artifacts
# --------------------------------------------------------------------------------------------


def _missing_artifact_message(path: Path, what: str) -> str:
    mode = "FAST" if config.fast_mode() else "full"
    return (
        f"{what} was not found at {path}. Lesson 04 (notebooks/en/04_celeba_vae.ipynb or "
        f"notebooks/ko/04_celeba_vae.ipynb) writes it; run lesson 04 in {mode} mode first "
        f"(FAST mode, VAE_COURSE_FAST=1, reads and writes the *_fast files). Lesson 05 can also train the "
        f"model itself with lesson 04's settings: faces.load_or_train_face_vae(...)."
    )


def load_lesson04_model(path: str | os.PathLike | None = None):
    """Lesson 04's face VAE (``models.VAE``) from ``path`` (default ``config.artifact_path(MODEL_FILENAME)``).

    Raises ``FileNotFoundError`` that says which lesson writes the file when it is missing.
    """
    import keras

    from vae_course import models  # noqa: F401  (registers the VAE class for loading)

    path = config.artifact_path(MODEL_FILENAME) if path is None else Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(_missing_artifact_message(path, "Lesson 04's face VAE"))
    return keras.saving.load_model(path)


@dataclass(frozen=True)
class TestCodes:
    """The ``z_mean`` codes of test faces with their file names and attributes (lesson 04's artifact).

    ``z_mean`` float32 ``(N, latent_dim)``; ``filenames`` str ``(N,)``; ``attributes`` bool ``(N, A)``
    in the order of ``attribute_names``; ``source`` the data they were encoded from (``FaceDataset.source``).
    """

    z_mean: np.ndarray
    filenames: np.ndarray
    attributes: np.ndarray
    attribute_names: tuple[str, ...]
    source: str = ""

    def __len__(self) -> int:
        return len(self.z_mean)

    def has(self, name: str) -> np.ndarray:
        """Bool ``(N,)``: which faces have attribute ``name``."""
        if name not in self.attribute_names:
            raise ValueError(f"Unknown attribute {name!r}; valid names: {', '.join(self.attribute_names)}.")
        return self.attributes[:, self.attribute_names.index(name)]

    def aligned_to(self, filenames) -> TestCodes:
        """The codes of ``filenames`` (str ``(M,)``), in that order: a join by file name."""
        index = match_filenames(filenames, self.filenames, what="encoded test faces")
        return TestCodes(
            self.z_mean[index],
            self.filenames[index],
            self.attributes[index],
            self.attribute_names,
            self.source,
        )


def save_test_codes(
    path: str | os.PathLike | None,
    z_mean,
    filenames,
    attributes,
    attribute_names,
    source: str = "",
) -> Path:
    """Write test codes (see ``TestCodes``) to ``path`` (default ``config.artifact_path(CODES_FILENAME)``).

    Shapes: ``z_mean`` ``(N, latent_dim)``, ``filenames`` ``(N,)``, ``attributes`` ``(N, A)`` with
    ``A = len(attribute_names)``. Returns the path written (an ``.npz`` file).
    """
    z_mean = np.asarray(z_mean, dtype=np.float32)
    filenames = np.asarray(filenames).astype(str)
    attributes = np.asarray(attributes).astype(bool)
    names = np.asarray(list(attribute_names)).astype(str)
    if z_mean.ndim != 2 or len(filenames) != len(z_mean) or attributes.shape != (len(z_mean), len(names)):
        raise ValueError(
            f"expected z_mean (N, latent_dim), filenames (N,) and attributes (N, {len(names)}); got "
            f"{z_mean.shape}, {filenames.shape} and {attributes.shape}"
        )
    path = config.artifact_path(CODES_FILENAME) if path is None else Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as file:
        np.savez(
            file,
            z_mean=z_mean,
            filenames=filenames,
            attributes=attributes,
            attribute_names=names,
            source=np.array(str(source)),
        )
    return path


def load_test_codes(path: str | os.PathLike | None = None) -> TestCodes:
    """Lesson 04's test codes from ``path`` (default ``config.artifact_path(CODES_FILENAME)``).

    Raises ``FileNotFoundError`` when the file is missing and ``ValueError`` when it lacks one of
    ``CODES_KEYS`` or its arrays disagree in length.
    """
    path = config.artifact_path(CODES_FILENAME) if path is None else Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(_missing_artifact_message(path, "Lesson 04's file of test-set codes"))
    with np.load(path, allow_pickle=False) as stored:
        found = set(stored.files)
        required = set(CODES_KEYS) - {"source"}
        if not required <= found:
            raise ValueError(
                f"{path} lacks {sorted(required - found)} (it has {sorted(found)}); expected the arrays "
                f"{list(CODES_KEYS)}. Run lesson 04 again to write it."
            )
        codes = TestCodes(
            z_mean=stored["z_mean"].astype(np.float32),
            filenames=stored["filenames"].astype(str),
            attributes=stored["attributes"].astype(bool),
            attribute_names=tuple(stored["attribute_names"].astype(str).tolist()),
            source=str(stored["source"]) if "source" in found else "",
        )
    n = len(codes.z_mean)
    if (
        codes.z_mean.ndim != 2
        or len(codes.filenames) != n
        or codes.attributes.shape
        != (
            n,
            len(codes.attribute_names),
        )
    ):
        raise ValueError(
            f"{path} holds arrays that disagree: z_mean {codes.z_mean.shape}, filenames "
            f"{codes.filenames.shape}, attributes {codes.attributes.shape} for {len(codes.attribute_names)} "
            "names. Run lesson 04 again to write it."
        )
    return codes


# --------------------------------------------------------------------------------------------
# Encoding and training
# --------------------------------------------------------------------------------------------


def encode_z_mean(encoder, faces, batch_size: int = 256) -> np.ndarray:
    """The ``z_mean`` of every face, batch by batch: float32 ``(N, latent_dim)``.

    ``faces`` is a ``celeba.FaceDataset`` (read one batch at a time) or an array ``(N, H, W, 3)``, uint8
    (0-255) or float in [0, 1]. The encoder runs in inference mode (``training=False``).
    """
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    if isinstance(faces, celeba.FaceDataset):
        batches = faces.batches(int(batch_size))
    else:
        images = np.asarray(faces)
        if images.ndim != 4:
            raise ValueError(f"expected images (N, height, width, channels), got shape {images.shape}")
        scale = 1.0 / 255.0 if images.dtype == np.uint8 else 1.0
        batches = (
            images[start : start + batch_size].astype(np.float32) * scale
            for start in range(0, len(images), int(batch_size))
        )
    parts = [np.asarray(encoder(batch, training=False)[0], dtype=np.float32) for batch in batches]
    if not parts:
        return np.zeros((0, encoder.outputs[0].shape[-1]), dtype=np.float32)
    return np.concatenate(parts)


def load_or_encode_test_codes(
    encoder,
    test: celeba.FaceDataset,
    path: str | os.PathLike | None = None,
    n_check: int = 16,
    tolerance: float = 1e-3,
) -> TestCodes:
    """The ``z_mean`` codes of the faces of ``test``, in ``test``'s order, from lesson 04's codes file if it can.

    The stored codes (``load_test_codes(path)``) are joined to ``test`` by file name, and checked: their
    attributes must equal ``test``'s, and ``encoder`` must give the same ``z_mean`` (within ``tolerance``) for
    the first ``n_check`` faces, so the codes belong to this model and this data. If they do not: lesson 04's
    file (``path`` None) raises ``ValueError`` (run lesson 04 again); a file of the caller's own (for example
    lesson 05's codes of a shipped model that has since been replaced) is encoded again. When the file is missing or lacks some of ``test``'s faces, the codes are encoded now
    (``encode_z_mean``), saved to ``path`` (default ``config.artifact_path(CODES_FILENAME)``) and returned.
    """
    lessons_file = path is None
    path = config.artifact_path(CODES_FILENAME) if path is None else Path(path).expanduser()
    codes = None
    try:
        codes = load_test_codes(path).aligned_to(test.filenames)
    except FileNotFoundError as error:
        # lesson 04's file: say how to get it; a file of the caller's own (lesson 05's for the shipped model) is
        # simply made now
        told = f"{error}\n" if lessons_file else ""
        print(f"{told}Encoding the {len(test):,} test faces now (saved to {path}).")
    except ValueError as error:
        print(
            f"The codes in {path} do not cover this test split ({error}).\nEncoding the {len(test):,} test faces now."
        )
    stale = None if codes is None else _stale_codes(codes, encoder, test, path, n_check, tolerance)
    if stale and lessons_file:
        raise ValueError(f"{stale} Run lesson 04 again, which writes both the model and the codes.")
    if stale:  # the caller's own cache, for example of a shipped model that has been replaced: make it again
        print(f"{stale} Encoding the {len(test):,} test faces again (saved to {path}).")
    if codes is None or stale:
        z_mean = encode_z_mean(encoder, test)
        save_test_codes(path, z_mean, test.filenames, test.attributes, test.attribute_names, test.source)
        return TestCodes(
            z_mean,
            np.asarray(test.filenames).astype(str),
            np.asarray(test.attributes).astype(bool),
            tuple(test.attribute_names),
            test.source,
        )
    return codes


def _stale_codes(codes: TestCodes, encoder, test, path: Path, n_check: int, tolerance: float) -> str | None:
    """Why stored ``codes`` do not belong to ``test`` and ``encoder`` (None when they do)."""
    if codes.attribute_names != tuple(test.attribute_names) or not np.array_equal(
        codes.attributes, test.attributes
    ):
        return (
            f"The codes in {path} were stored with other attributes than {test.source} has for the same file "
            "names: they were made from another data set."
        )
    n_check = min(int(n_check), len(test))
    if n_check > 0:
        fresh = encode_z_mean(encoder, np.asarray(test.images[:n_check]))
        gap = float(np.max(np.abs(fresh - codes.z_mean[:n_check])))
        if gap > tolerance:
            return (
                f"The codes in {path} differ from what this model encodes for the same faces (by up to {gap:.3g} "
                f"in latent units, more than {tolerance:g}): the model and the codes come from different runs."
            )
    return None


def train_face_vae(
    train: celeba.FaceDataset,
    valid: celeba.FaceDataset,
    epochs: int,
    settings: FaceSettings | None = None,
    checkpoint: str | os.PathLike | None = None,
    seed: int | None = config.SEED,
    verbose="auto",
    callbacks=(),
):
    """Train lesson 04's face VAE on ``train``, validated on ``valid``: returns ``(vae, history)``.

    The model is ``models.build_face_vae(latent_dim, image_size, seed, reconstruction_weight)`` with Adam at
    ``settings.learning_rate`` and batches of ``settings.batch_size`` (``FaceDataset.as_keras_dataset``,
    shuffled by ``seed`` every epoch). ``checkpoint`` (default ``config.artifact_path(MODEL_FILENAME)``) keeps
    the model with the lowest ``val_total_loss`` (``ModelCheckpoint``, ``mode="min"``); the returned model is
    that best one, read back from the file. ``history`` is the ``keras.callbacks.History`` of ``fit``;
    ``callbacks`` are passed to ``fit`` after the checkpoint.
    """
    import keras

    from vae_course import models

    settings = lesson04_settings() if settings is None else settings
    if int(epochs) < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    for part, name in ((train, "train"), (valid, "valid")):
        if len(part) == 0:
            raise ValueError(f"the {name} split is empty: there is nothing to train or validate on")
        if part.image_size != settings.image_size:
            raise ValueError(
                f"the {name} faces are {part.image_size}x{part.image_size}, the model expects "
                f"{settings.image_size}x{settings.image_size}: load them with image_size={settings.image_size}"
            )
    checkpoint = config.artifact_path(MODEL_FILENAME) if checkpoint is None else Path(checkpoint).expanduser()
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    vae = models.build_face_vae(
        latent_dim=settings.latent_dim,
        image_size=settings.image_size,
        seed=seed,
        reconstruction_weight=settings.reconstruction_weight,
    )
    vae.compile(optimizer=keras.optimizers.Adam(learning_rate=settings.learning_rate))
    save_best = keras.callbacks.ModelCheckpoint(
        checkpoint, monitor="val_total_loss", mode="min", save_best_only=True
    )
    history = vae.fit(
        train.as_keras_dataset(settings.batch_size, shuffle=True, seed=seed),
        validation_data=valid.as_keras_dataset(settings.batch_size, shuffle=False),
        epochs=int(epochs),
        callbacks=[save_best, *callbacks],
        verbose=verbose,
    )
    return keras.saving.load_model(checkpoint), history


def load_or_train_face_vae(
    data: FaceData,
    path: str | os.PathLike | None = None,
    seed: int | None = config.SEED,
    verbose="auto",
):
    """Lesson 04's face VAE from ``path``; when it is missing, say so and train it with lesson 04's settings.

    Training uses ``data``'s train split (``data.n_train`` faces) for ``data.epochs`` epochs, validated on
    ``settings.n_valid`` faces of the valid split, and saves the best model at ``path`` (default
    ``config.artifact_path(MODEL_FILENAME)``), as lesson 04 does. Returns the VAE.
    """
    path = config.artifact_path(MODEL_FILENAME) if path is None else Path(path).expanduser()
    try:
        return load_lesson04_model(path)
    except FileNotFoundError as error:
        print(f"{error}\nTraining it now with lesson 04's settings: {data.epochs} epoch(s) on {data.name}.")
    train = data.load("train", data.n_train)
    valid = data.load("valid", data.settings.n_valid)
    vae, _ = train_face_vae(
        train, valid, data.epochs, data.settings, checkpoint=path, seed=seed, verbose=verbose
    )
    return vae


# --------------------------------------------------------------------------------------------
# The synthetic set's ground truth
# --------------------------------------------------------------------------------------------


def load_factors(folder: str | os.PathLike, filenames) -> dict[str, np.ndarray]:
    """The synthetic set's continuous ground truth (``factors.csv``) for ``filenames``, joined by file name.

    ``folder`` is the set's folder (``FaceData.data_dir``); ``factors.csv`` may lie up to
    ``celeba.MAX_SEARCH_DEPTH`` folders below it, next to ``list_attr_celeba.txt``. Returns
    ``{factor name: (N,) array}`` in the order of ``filenames`` (str ``(N,)``): float64 for numeric factors
    (e.g. ``mouth_curvature``), str for the others (e.g. ``hair_colour``); the ``filename`` column itself is
    left out. Real CelebA has no such file: a ``FileNotFoundError`` says so. A file name missing from the
    table raises ``ValueError``.
    """
    from vae_course import synthetic_faces

    folder = Path(folder).expanduser()
    candidates = []
    if folder.is_dir():
        candidates = [
            path
            for path in folder.rglob(FACTORS_FILENAME)
            if len(path.relative_to(folder).parts) <= celeba.MAX_SEARCH_DEPTH + 1
        ]
    if not candidates:
        raise FileNotFoundError(
            f"No {FACTORS_FILENAME} in {folder}: only the synthetic faces of vae_course.synthetic_faces have "
            "the generator's ground truth. Real CelebA has human labels only, so the checks against true "
            "factors run on synthetic faces."
        )
    path = min(candidates, key=lambda candidate: (len(candidate.parts), str(candidate)))
    table = synthetic_faces.load_factors(path.parent)
    if "filename" not in table:
        raise ValueError(f"{path} has no 'filename' column; write the synthetic set again.")
    index = match_filenames(filenames, table["filename"], what=f"rows of {path}")
    return {name: values[index] for name, values in table.items() if name != "filename"}
