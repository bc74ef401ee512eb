"""Data loaders for the course: Fashion-MNIST and MNIST, read from the original files.

Images come back as float32 arrays of shape ``(N, *IMAGE_SHAPE) = (N, 32, 32, 1)`` in [0, 1]: the 28x28 originals
padded with 2 zero pixels on every side, so that three stride-2 convolutions halve 32 -> 16 -> 8 -> 4
without rounding. Labels come back as int64 arrays of shape ``(N,)``.

Where the files are looked for, in order (the first place that has all files wins):

1. the ``data_dir`` argument (an explicit folder is never silently replaced by another source);
2. ``$VAE_COURSE_DATA_DIR`` (the folder itself, or its ``fashion-mnist/`` / ``mnist/`` subfolder);
3. Keras' cache (``~/.keras/datasets/...`` or ``$KERAS_HOME/datasets/...``);
4. Debian's ``dataset-fashion-mnist`` package (``/usr/share/datasets/fashion-mnist``; Fashion-MNIST only);
5. otherwise Keras' own download (needs internet).

Every file is validated (IDX magic number, dimensions, length) before it is used, so a truncated or
wrong file gives an error that names the file instead of a reshape traceback.
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATA_DIR_ENV_VAR = "VAE_COURSE_DATA_DIR"
DEBIAN_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
PAD = 2
"""Zero pixels added on every side of the 28x28 originals."""
IMAGE_SIZE = 28 + 2 * PAD
"""Height and width of a loaded image, in pixels (32)."""
IMAGE_SHAPE = (IMAGE_SIZE, IMAGE_SIZE, 1)
"""Shape of one loaded image, ``(height, width, channels) = (32, 32, 1)``: what the Fashion models take."""

FASHION_CLASSES: tuple[dict[str, str], ...] = (
    {"en": "T-shirt/top", "ko": "티셔츠/탑"},
    {"en": "Trouser", "ko": "바지"},
    {"en": "Pullover", "ko": "풀오버"},
    {"en": "Dress", "ko": "드레스"},
    {"en": "Coat", "ko": "코트"},
    {"en": "Sandal", "ko": "샌들"},
    {"en": "Shirt", "ko": "셔츠"},
    {"en": "Sneaker", "ko": "운동화"},
    {"en": "Bag", "ko": "가방"},
    {"en": "Ankle boot", "ko": "앵클 부츠"},
)
"""Fashion-MNIST class names by label index, in English (``"en"``) and Korean (``"ko"``)."""


def class_names(lang: str = "en") -> list[str]:
    """The ten Fashion-MNIST class names in ``lang`` ("en" or "ko"), indexed by label."""
    if lang not in ("en", "ko"):
        raise ValueError(f"lang must be 'en' or 'ko', got {lang!r}")
    return [c[lang] for c in FASHION_CLASSES]


class IdxFormatError(ValueError):
    """An IDX data file is empty, truncated, or not the kind of file expected."""


class DatasetNotFoundError(FileNotFoundError):
    """None of the places searched has the dataset's files."""


# --------------------------------------------------------------------------------------------
# IDX files
# --------------------------------------------------------------------------------------------

_IDX_UBYTE = 0x08


def read_idx(path: str | os.PathLike, ndim: int) -> np.ndarray:
    """Read an IDX file of unsigned bytes (optionally gzipped) and check it thoroughly.

    ``ndim`` is the number of dimensions expected (3 for images, 1 for labels).
    Returns a uint8 array with the dimensions written in the file's header.
    Raises ``IdxFormatError`` naming ``path`` for an empty, truncated or mismatched file.
    """
    path = Path(path)
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as handle:
                raw = handle.read()
        else:
            raw = path.read_bytes()
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise IdxFormatError(
            f"{path} is not a complete gzip file ({error}). It was probably cut off while "
            "downloading or copying: delete it and fetch the dataset again."
        ) from error

    header_size = 4 + 4 * ndim
    if len(raw) == 0:
        raise IdxFormatError(f"{path} is empty. Delete it and fetch the dataset again.")
    if len(raw) < header_size:
        raise IdxFormatError(
            f"{path} is too short for an IDX header: expected at least {header_size} bytes, "
            f"found {len(raw)}. Delete it and fetch the dataset again."
        )
    zero0, zero1, dtype_code, file_ndim = raw[0], raw[1], raw[2], raw[3]
    expected_magic = (_IDX_UBYTE << 8) | ndim
    if zero0 != 0 or zero1 != 0 or dtype_code != _IDX_UBYTE or file_ndim != ndim:
        found_magic = int.from_bytes(raw[:4], "big")
        raise IdxFormatError(
            f"{path} does not start with the IDX magic number 0x{expected_magic:08X} "
            f"(unsigned bytes, {ndim} dimension(s)); found 0x{found_magic:08X}. "
            "Is it the right file (images vs labels), and is it an original IDX file?"
        )
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(dims, dtype=np.int64))
    found = len(raw) - header_size
    if found != expected:
        raise IdxFormatError(
            f"{path} has the wrong length: its header says {' x '.join(map(str, dims))} = "
            f"{expected} bytes of data, but the file holds {found}. "
            + (
                "It is truncated: delete it and fetch the dataset again."
                if found < expected
                else "It has extra bytes at the end: is it a different file with the same name?"
            )
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header_size).reshape(dims)


def preprocess_images(images: np.ndarray) -> np.ndarray:
    """uint8 ``(N, 28, 28)`` -> float32 ``(N, *IMAGE_SHAPE)`` = ``(N, 32, 32, 1)`` in [0, 1], zero-padded by ``PAD``."""
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(f"expected images of shape (N, 28, 28), got {images.shape}")
    padded = np.pad(images, ((0, 0), (PAD, PAD), (PAD, PAD)), mode="constant", constant_values=0)
    return (padded.astype(np.float32) / 255.0)[..., np.newaxis]


# --------------------------------------------------------------------------------------------
# Where the files live
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _IdxDataset:
    """What is needed to find, check and fetch one MNIST-style dataset."""

    name: str
    subdir: str
    debian_dir: Path | None
    keras_module: str

    def filenames(self, split: str) -> tuple[str, str]:
        prefix = "train" if split == "train" else "t10k"
        return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"


FASHION_MNIST = _IdxDataset("Fashion-MNIST", "fashion-mnist", DEBIAN_FASHION_DIR, "fashion_mnist")
MNIST = _IdxDataset("MNIST", "mnist", None, "mnist")


def _find_file(folder: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def _files_in(folder: Path, dataset: _IdxDataset, split: str) -> tuple[Path, Path] | None:
    """The (images, labels) files of ``split`` in ``folder`` or its dataset subfolder, if complete."""
    for candidate in (folder, folder / dataset.subdir):
        found = [_find_file(candidate, stem) for stem in dataset.filenames(split)]
        if all(found):
            return found[0], found[1]
    return None


def keras_cache_dir() -> Path:
    """Keras' dataset cache: ``$KERAS_HOME/datasets`` or ``~/.keras/datasets``."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets"


def _search_dirs(dataset: _IdxDataset) -> list[tuple[str, Path]]:
    """The automatic search path (used when no ``data_dir`` is given), in order."""
    places = []
    env_dir = os.environ.get(DATA_DIR_ENV_VAR)
    if env_dir:
        places.append((f"${DATA_DIR_ENV_VAR}", Path(env_dir).expanduser()))
    places.append(("Keras cache", keras_cache_dir() / dataset.subdir))
    if dataset.debian_dir is not None:
        places.append(("Debian package", dataset.debian_dir))
    return places


def _keras_download(dataset: _IdxDataset, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Download through Keras (needs internet); returns the raw uint8 images and labels."""
    import importlib

    module = importlib.import_module(f"keras.datasets.{dataset.keras_module}")
    (x_train, y_train), (x_test, y_test) = module.load_data()
    return (x_train, y_train) if split == "train" else (x_test, y_test)


def _mnist_npz_in_keras_cache(split: str) -> tuple[np.ndarray, np.ndarray] | None:
    """Keras caches MNIST as one ``mnist.npz`` instead of IDX files."""
    path = keras_cache_dir() / "mnist.npz"
    if not path.is_file():
        return None
    try:
        with np.load(path) as npz:
            return npz[f"x_{split}"], npz[f"y_{split}"]
    except (OSError, ValueError, KeyError, zlib.error) as error:
        raise IdxFormatError(
            f"{path} is not a readable MNIST archive ({error}). Delete it so Keras downloads it again."
        ) from error


def _fix_commands(dataset: _IdxDataset) -> str:
    lines = []
    if dataset.debian_dir is not None:
        lines.append("  sudo apt-get install dataset-fashion-mnist     # Debian/Ubuntu, no internet needed")
    lines.append(
        f'  python -c "import keras; keras.datasets.{dataset.keras_module}.load_data()"   # any OS, once, online'
    )
    lines.append(f"  or copy the four IDX .gz files into a folder and set {DATA_DIR_ENV_VAR}=/that/folder")
    return "\n".join(lines)


Downloader = Callable[[_IdxDataset, str], "tuple[np.ndarray, np.ndarray]"]


def _load(dataset: _IdxDataset, split: str, data_dir, download: Downloader | None):
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    expected = ", ".join(f"{stem}.gz" for stem in dataset.filenames(split))

    if data_dir is not None:
        folder = Path(data_dir).expanduser()
        if not folder.is_dir():
            raise DatasetNotFoundError(
                f"data_dir={str(folder)!r} is not a folder. Pass the folder that holds {expected} "
                f"(or leave data_dir=None to search the usual places)."
            )
        files = _files_in(folder, dataset, split)
        if files is None:
            raise DatasetNotFoundError(
                f"{dataset.name} {split} files not found in data_dir={str(folder)!r} "
                f"(nor in its {dataset.subdir}/ subfolder). Expected {expected}. "
                "Nothing was downloaded into it; copy the files there, or leave data_dir=None "
                "to search the usual places."
            )
        return _read_pair(*files)

    searched = []
    for label, folder in _search_dirs(dataset):
        searched.append(f"  {label}: {folder}")
        files = _files_in(folder, dataset, split)
        if files is not None:
            return _read_pair(*files)
    if dataset is MNIST:
        found = _mnist_npz_in_keras_cache(split)
        searched.append(f"  Keras cache: {keras_cache_dir() / 'mnist.npz'}")
        if found is not None:
            return _check_pair(*found, source=str(keras_cache_dir() / "mnist.npz"))

    download = _keras_download if download is None else download
    try:
        images, labels = download(dataset, split)
    except Exception as error:  # offline, proxy, disk full: all end the same way for a learner
        raise DatasetNotFoundError(
            f"Could not find {dataset.name} ({split}) and could not download it "
            f"({type(error).__name__}: {error}).\nSearched:\n"
            + "\n".join(searched)
            + f"\nExpected files: {expected}\nFix it with one of:\n"
            + _fix_commands(dataset)
        ) from error
    return _check_pair(images, labels, source=f"Keras' {dataset.keras_module} download")


def _check_pair(images, labels, source: str):
    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise IdxFormatError(f"{source}: expected images of shape (N, 28, 28), got {images.shape}")
    if labels.shape != (images.shape[0],):
        raise IdxFormatError(
            f"{source}: {images.shape[0]} images but labels of shape {labels.shape}; "
            "the images and labels files do not belong together."
        )
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise IdxFormatError(f"{source}: labels must be 0..9, found {labels.min()}..{labels.max()}")
    return preprocess_images(images), labels.astype(np.int64)


def _read_pair(images_path: Path, labels_path: Path):
    images = read_idx(images_path, ndim=3)
    labels = read_idx(labels_path, ndim=1)
    if images.shape[1:] != (28, 28):
        raise IdxFormatError(
            f"{images_path} holds images of {images.shape[1]}x{images.shape[2]} pixels; "
            "expected 28x28 (Fashion-MNIST/MNIST)."
        )
    return _check_pair(images, labels, source=f"{images_path} + {labels_path.name}")


def find_fashion_mnist() -> tuple[Path, Path] | None:
    """The training (images, labels) files ``load_fashion_mnist()`` would read without ``data_dir``, or None.

    Searches ``$VAE_COURSE_DATA_DIR``, Keras' cache and the Debian package's folder, in that order, and
    looks only on disk (never downloads); ``course.py`` uses it to decide whether to install the data.
    """
    for _label, folder in _search_dirs(FASHION_MNIST):
        files = _files_in(folder, FASHION_MNIST, "train")
        if files is not None:
            return files
    return None


def load_fashion_mnist(split: str = "train", data_dir=None, *, download: Downloader | None = None):
    """Fashion-MNIST ``split`` ("train": 60,000 or "test": 10,000 images) from the original IDX files.

    Returns ``(images, labels)``: float32 ``(N, 32, 32, 1)`` in [0, 1] (28x28 padded by 2 zero
    pixels on each side) and int64 ``(N,)`` labels 0..9 (names in ``FASHION_CLASSES``).
    See the module docstring for where the files are searched. ``download`` replaces Keras'
    download (tests use it to simulate being offline).
    """
    return _load(FASHION_MNIST, split, data_dir, download)


def load_mnist(split: str = "train", data_dir=None, *, download: Downloader | None = None):
    """MNIST digits, with the same shapes, search order and errors as ``load_fashion_mnist``.

    MNIST has no Debian package: it is read from ``data_dir``, ``$VAE_COURSE_DATA_DIR``,
    Keras' cache (IDX files or ``mnist.npz``), or downloaded through Keras when online.
    """
    return _load(MNIST, split, data_dir, download)


def take(images: np.ndarray, labels: np.ndarray, n: int, seed: int | None = None):
    """The first ``n`` examples, or a random ``n`` when ``seed`` is given. Class balance is kept by chance."""
    if n > len(images):
        raise ValueError(f"asked for {n} examples but only {len(images)} are available")
    if seed is None:
        return images[:n], labels[:n]
    index = np.random.default_rng(seed).permutation(len(images))[:n]
    return images[index], labels[index]
