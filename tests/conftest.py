"""Shared fixtures for the vae_course unit tests.

Every test runs with an isolated data search path (``isolated_data_paths`` is autouse): no
``$VAE_COURSE_DATA_DIR``, ``$KERAS_HOME`` in a temporary folder, the Debian folder moved to a
temporary folder and Keras' download replaced by one that fails. So no test can read the real
``/usr/share/datasets`` files, the user's ``~/.keras`` cache, or the network.
"""

from __future__ import annotations

import dataclasses
import gzip
import os
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from vae_course import data

# Keras reads these once, at import: keep the test run quiet and on the CPU-only, TF backend.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


# --------------------------------------------------------------------------------------------
# IDX files
# --------------------------------------------------------------------------------------------


def idx_bytes(array: np.ndarray) -> bytes:
    """The bytes of an IDX file of unsigned bytes holding ``array`` (any number of dimensions)."""
    array = np.asarray(array)
    assert array.dtype == np.uint8, "IDX fixtures hold uint8 data"
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.tobytes(order="C")


def write_idx(path: Path, array: np.ndarray, *, gz: bool | None = None, extra: bytes = b"") -> Path:
    """Write ``array`` as an IDX file at ``path``, gzipped when ``gz`` (default: path ends in .gz).

    ``extra`` is appended to the uncompressed bytes (to make deliberately broken files).
    """
    path = Path(path)
    gz = path.suffix == ".gz" if gz is None else gz
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = idx_bytes(array) + extra
    path.write_bytes(gzip.compress(payload) if gz else payload)
    return path


def known_images(n: int = 3, offset: int = 0) -> np.ndarray:
    """``n`` distinct 28x28 uint8 images whose every pixel is known: (offset + 5*i + 28*r + c) % 256.

    Pixel (0, 0) of image 0 is set to 255 so that the scaling to exactly 1.0 is visible.
    """
    i, r, c = np.meshgrid(np.arange(n), np.arange(28), np.arange(28), indexing="ij")
    images = ((offset + 5 * i + 28 * r + c) % 256).astype(np.uint8)
    images[0, 0, 0] = 255
    return images


def known_labels(n: int = 3) -> np.ndarray:
    return (np.arange(n) * 7 % 10).astype(np.uint8)


def write_split(
    folder: Path,
    images: np.ndarray,
    labels: np.ndarray,
    split: str = "train",
    *,
    gz: bool = True,
) -> tuple[Path, Path]:
    """Write the images and labels IDX files of ``split`` into ``folder`` with the original names."""
    prefix = "train" if split == "train" else "t10k"
    suffix = ".gz" if gz else ""
    images_path = write_idx(Path(folder) / f"{prefix}-images-idx3-ubyte{suffix}", images, gz=gz)
    labels_path = write_idx(Path(folder) / f"{prefix}-labels-idx1-ubyte{suffix}", labels, gz=gz)
    return images_path, labels_path


@pytest.fixture
def idx():
    """The IDX helpers, as one namespace: ``idx.write``, ``idx.bytes``, ``idx.write_split``, ..."""
    return SimpleNamespace(
        bytes=idx_bytes,
        write=write_idx,
        write_split=write_split,
        images=known_images,
        labels=known_labels,
    )


# --------------------------------------------------------------------------------------------
# Isolation of the data search path
# --------------------------------------------------------------------------------------------


class NetworkDisabled(RuntimeError):
    """Raised by the stand-in for Keras' download: unit tests never use the network."""


def _no_network_download(dataset, split):
    raise NetworkDisabled(f"tests are offline: no download of {dataset.name} ({split})")


@pytest.fixture(autouse=True)
def isolated_data_paths(tmp_path_factory, monkeypatch):
    """Point every place the loaders look at an empty temporary folder; make downloads fail.

    Returns a namespace with ``keras_home``, ``keras_cache`` (``$KERAS_HOME/datasets``),
    ``debian_dir`` (where the Debian package's files would be; not created) and ``env_dir``
    (a folder a test may assign to ``$VAE_COURSE_DATA_DIR``; not set, not created).
    """
    root = tmp_path_factory.mktemp("data_paths")
    keras_home = root / "keras_home"
    debian_dir = root / "debian" / "fashion-mnist"
    env_dir = root / "env_data"

    # $VAE_COURSE_FAST is left alone: CI sets it for the lesson runs; test_config sets it per test.
    monkeypatch.delenv(data.DATA_DIR_ENV_VAR, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(keras_home))
    monkeypatch.setattr(data, "DEBIAN_FASHION_DIR", debian_dir)
    # FASHION_MNIST is a frozen dataclass captured at import with the real Debian folder in it.
    # MNIST is left as it is (no Debian folder), so `dataset is MNIST` in _load keeps working.
    monkeypatch.setattr(data, "FASHION_MNIST", dataclasses.replace(data.FASHION_MNIST, debian_dir=debian_dir))
    monkeypatch.setattr(data, "_keras_download", _no_network_download)

    return SimpleNamespace(
        keras_home=keras_home,
        keras_cache=keras_home / "datasets",
        debian_dir=debian_dir,
        env_dir=env_dir,
    )


@pytest.fixture
def forbidden_download():
    """A ``download=`` callable that fails the test if the loader calls it; ``.calls`` records calls."""
    calls = []

    def download(dataset, split):
        calls.append((dataset.name, split))
        pytest.fail(f"the loader tried to download {dataset.name} ({split}); it must not")

    download.calls = calls
    return download
