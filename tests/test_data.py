"""vae_course.data: the IDX loaders on small fixture files written by the tests themselves."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from vae_course import data


def assert_preprocessed(images, labels, raw_images, raw_labels):
    """``images``/``labels`` are ``raw_images``/``raw_labels`` padded by 2 zeros and scaled by 1/255."""
    n = len(raw_images)
    assert images.dtype == np.float32
    assert images.shape == (n, 32, 32, 1)
    assert labels.dtype == np.int64
    assert labels.shape == (n,)
    np.testing.assert_array_equal(labels, raw_labels.astype(np.int64))
    # Every original pixel (r, c) is at (r + 2, c + 2), divided by 255.
    np.testing.assert_array_equal(images[:, 2:30, 2:30, 0], raw_images.astype(np.float32) / 255.0)
    # The 2-pixel border is exactly zero on every side.
    border = np.ones((32, 32), dtype=bool)
    border[2:30, 2:30] = False
    assert np.all(images[:, border, 0] == 0.0)
    assert border.sum() == 32 * 32 - 28 * 28


# --------------------------------------------------------------------------------------------
# Reading fixture files
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [True, False], ids=["gzip", "raw"])
@pytest.mark.parametrize("split", ["train", "test"])
def test_load_from_data_dir_known_pixels(tmp_path, idx, forbidden_download, gz, split):
    raw_images, raw_labels = idx.images(4), idx.labels(4)
    written = idx.write_split(tmp_path, raw_images, raw_labels, split, gz=gz)
    assert all(p.name.endswith(".gz") == gz for p in written)

    images, labels = data.load_fashion_mnist(split, data_dir=tmp_path, download=forbidden_download)

    assert_preprocessed(images, labels, raw_images, raw_labels)
    # Spot checks with numbers worked out by hand.
    assert images[0, 2, 2, 0] == np.float32(1.0)  # original (0, 0) = 255
    assert images[0, 0, 0, 0] == 0.0
    assert images[1, 2, 3, 0] == np.float32((5 * 1 + 0 + 1) / 255.0)  # original (0, 1) of image 1
    assert images[2, 29, 29, 0] == np.float32(((10 + 28 * 27 + 27) % 256) / 255.0)
    assert images[:, 30:, :, :].max() == 0.0
    assert forbidden_download.calls == []


def test_images_range_and_labels_from_uint8_extremes(tmp_path, idx):
    raw_images = np.zeros((2, 28, 28), np.uint8)
    raw_images[1] = 255
    raw_labels = np.array([0, 9], np.uint8)
    idx.write_split(tmp_path, raw_images, raw_labels)
    images, labels = data.load_fashion_mnist(data_dir=tmp_path)
    assert images.min() == 0.0 and images.max() == 1.0
    assert np.all(images[1, 2:30, 2:30] == 1.0)
    np.testing.assert_array_equal(labels, [0, 9])


def test_gz_preferred_over_raw_in_same_folder(tmp_path, idx):
    idx.write_split(tmp_path, idx.images(2, offset=1), idx.labels(2), gz=True)
    idx.write_split(tmp_path, idx.images(2, offset=2), idx.labels(2), gz=False)
    images, _ = data.load_fashion_mnist(data_dir=tmp_path)
    assert_preprocessed(images, _, idx.images(2, offset=1), idx.labels(2))


def test_data_dir_dataset_subfolder(tmp_path, idx):
    raw_images, raw_labels = idx.images(3), idx.labels(3)
    idx.write_split(tmp_path / "fashion-mnist", raw_images, raw_labels)
    images, labels = data.load_fashion_mnist(data_dir=tmp_path)
    assert_preprocessed(images, labels, raw_images, raw_labels)


def test_data_dir_accepts_str_and_tilde(tmp_path, idx, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    idx.write_split(tmp_path / "fm", idx.images(2), idx.labels(2))
    images, _ = data.load_fashion_mnist(data_dir="~/fm")
    assert images.shape == (2, 32, 32, 1)


def test_read_idx_returns_header_dimensions(tmp_path, idx):
    raw = idx.images(3)
    path = idx.write(tmp_path / "x.gz", raw)
    out = data.read_idx(path, ndim=3)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, raw)
    labels_path = idx.write(tmp_path / "y", np.arange(7, dtype=np.uint8))
    np.testing.assert_array_equal(data.read_idx(labels_path, ndim=1), np.arange(7))


# --------------------------------------------------------------------------------------------
# Where the files are looked for
# --------------------------------------------------------------------------------------------


def test_explicit_data_dir_missing_files_no_download(
    tmp_path, forbidden_download, isolated_data_paths, idx, monkeypatch
):
    # Valid files elsewhere on the search path must not replace an explicit folder.
    idx.write_split(isolated_data_paths.env_dir, idx.images(2), idx.labels(2))
    monkeypatch.setenv(data.DATA_DIR_ENV_VAR, str(isolated_data_paths.env_dir))
    empty = tmp_path / "empty"
    empty.mkdir()

    with pytest.raises(data.DatasetNotFoundError) as info:
        data.load_fashion_mnist("train", data_dir=empty, download=forbidden_download)

    message = str(info.value)
    assert str(empty) in message
    assert "train-images-idx3-ubyte.gz" in message and "train-labels-idx1-ubyte.gz" in message
    assert "fashion-mnist/" in message
    assert forbidden_download.calls == []
    assert list(empty.iterdir()) == []  # nothing written into it
    assert isinstance(info.value, FileNotFoundError)


def test_explicit_data_dir_with_only_images_is_incomplete(tmp_path, idx, forbidden_download):
    idx.write(tmp_path / "train-images-idx3-ubyte.gz", idx.images(2))
    with pytest.raises(data.DatasetNotFoundError, match="train-labels-idx1-ubyte"):
        data.load_fashion_mnist("train", data_dir=tmp_path, download=forbidden_download)
    assert forbidden_download.calls == []


def test_explicit_data_dir_test_split_not_taken_from_train(tmp_path, idx, forbidden_download):
    idx.write_split(tmp_path, idx.images(2), idx.labels(2), "train")
    with pytest.raises(data.DatasetNotFoundError, match="t10k-images-idx3-ubyte"):
        data.load_fashion_mnist("test", data_dir=tmp_path, download=forbidden_download)


def test_data_dir_not_a_folder(tmp_path, forbidden_download):
    a_file = tmp_path / "train-images-idx3-ubyte.gz"
    a_file.write_bytes(b"not a folder")
    missing = tmp_path / "does-not-exist"
    for bad in (a_file, missing):
        with pytest.raises(data.DatasetNotFoundError) as info:
            data.load_fashion_mnist(data_dir=bad, download=forbidden_download)
        assert str(bad) in str(info.value)
        assert "not a folder" in str(info.value)
    assert forbidden_download.calls == []


@pytest.mark.parametrize("subfolder", ["", "fashion-mnist"])
def test_env_data_dir_honoured(isolated_data_paths, idx, monkeypatch, forbidden_download, subfolder):
    raw_images, raw_labels = idx.images(3, offset=9), idx.labels(3)
    env_dir = isolated_data_paths.env_dir
    idx.write_split(env_dir / subfolder if subfolder else env_dir, raw_images, raw_labels, "test")
    monkeypatch.setenv(data.DATA_DIR_ENV_VAR, str(env_dir))
    images, labels = data.load_fashion_mnist("test", download=forbidden_download)
    assert_preprocessed(images, labels, raw_images, raw_labels)


def test_empty_env_data_dir_is_ignored(isolated_data_paths, idx, monkeypatch):
    monkeypatch.setenv(data.DATA_DIR_ENV_VAR, "")
    raw_images = idx.images(2, offset=4)
    idx.write_split(isolated_data_paths.keras_cache / "fashion-mnist", raw_images, idx.labels(2))
    images, labels = data.load_fashion_mnist()
    assert_preprocessed(images, labels, raw_images, idx.labels(2))


def _first_pixel(images):
    """The original (0, 1) pixel of image 0 as the uint8 value it was written with."""
    return round(float(images[0, 2, 3, 0]) * 255)


def test_search_order(isolated_data_paths, idx, monkeypatch, forbidden_download):
    places = {
        "env": isolated_data_paths.env_dir,
        "keras": isolated_data_paths.keras_cache / "fashion-mnist",
        "debian": isolated_data_paths.debian_dir,
    }
    offsets = {"env": 10, "keras": 20, "debian": 30}  # pixel (0, 1) of image 0 is offset + 1
    for place, folder in places.items():
        idx.write_split(folder, idx.images(2, offset=offsets[place]), idx.labels(2))
    monkeypatch.setenv(data.DATA_DIR_ENV_VAR, str(places["env"]))

    images, _ = data.load_fashion_mnist(download=forbidden_download)
    assert _first_pixel(images) == 11  # $VAE_COURSE_DATA_DIR first

    monkeypatch.delenv(data.DATA_DIR_ENV_VAR)
    images, _ = data.load_fashion_mnist(download=forbidden_download)
    assert _first_pixel(images) == 21  # then Keras' cache

    for path in places["keras"].iterdir():
        path.unlink()
    images, _ = data.load_fashion_mnist(download=forbidden_download)
    assert _first_pixel(images) == 31  # then the Debian package

    # An incomplete earlier place does not shadow a complete later one.
    idx.write(places["keras"] / "train-images-idx3-ubyte.gz", idx.images(2, offset=20))
    images, _ = data.load_fashion_mnist(download=forbidden_download)
    assert _first_pixel(images) == 31
    assert forbidden_download.calls == []


def test_explicit_data_dir_beats_everything(tmp_path, isolated_data_paths, idx, monkeypatch):
    for offset, folder in [
        (10, isolated_data_paths.env_dir),
        (20, isolated_data_paths.keras_cache / "fashion-mnist"),
        (30, isolated_data_paths.debian_dir),
        (40, tmp_path / "mine"),
    ]:
        idx.write_split(folder, idx.images(2, offset=offset), idx.labels(2))
    monkeypatch.setenv(data.DATA_DIR_ENV_VAR, str(isolated_data_paths.env_dir))
    images, _ = data.load_fashion_mnist(data_dir=tmp_path / "mine")
    assert _first_pixel(images) == 41


def test_keras_cache_follows_keras_home(isolated_data_paths, monkeypatch, tmp_path):
    assert data.keras_cache_dir() == isolated_data_paths.keras_home / "datasets"
    monkeypatch.delenv("KERAS_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert data.keras_cache_dir() == tmp_path / ".keras" / "datasets"


def test_nothing_found_offline_lists_every_place_and_the_fixes(isolated_data_paths, monkeypatch):
    monkeypatch.setenv(data.DATA_DIR_ENV_VAR, str(isolated_data_paths.env_dir))

    def offline(dataset, split):
        raise ConnectionError("no route to host")

    with pytest.raises(data.DatasetNotFoundError) as info:
        data.load_fashion_mnist("test", download=offline)

    message = str(info.value)
    assert "$VAE_COURSE_DATA_DIR" in message and str(isolated_data_paths.env_dir) in message
    assert str(isolated_data_paths.keras_cache / "fashion-mnist") in message
    assert str(isolated_data_paths.debian_dir) in message
    assert "ConnectionError" in message and "no route to host" in message
    assert "t10k-images-idx3-ubyte.gz" in message
    assert "sudo apt-get install dataset-fashion-mnist" in message
    assert "keras.datasets.fashion_mnist.load_data()" in message
    assert "VAE_COURSE_DATA_DIR=" in message
    assert isinstance(info.value.__cause__, ConnectionError)


def test_default_download_is_used_when_nothing_found(isolated_data_paths):
    # The autouse fixture replaced Keras' download by one that raises NetworkDisabled.
    with pytest.raises(data.DatasetNotFoundError) as info:
        data.load_fashion_mnist()
    assert "NetworkDisabled" in str(info.value)
    assert "/usr/share" not in str(info.value)  # the real Debian folder is never searched in tests


def test_mnist_nothing_found_lists_npz_and_no_apt(isolated_data_paths):
    with pytest.raises(data.DatasetNotFoundError) as info:
        data.load_mnist("train")
    message = str(info.value)
    assert f"Keras cache: {isolated_data_paths.keras_cache / 'mnist'}\n" in message
    assert str(isolated_data_paths.keras_cache / "mnist.npz") in message
    assert "apt-get" not in message  # there is no Debian MNIST package
    assert "keras.datasets.mnist.load_data()" in message


def test_download_used_when_nothing_found_and_preprocessed(idx):
    raw_images, raw_labels = idx.images(5, offset=3), idx.labels(5)
    calls = []

    def download(dataset, split):
        calls.append((dataset.name, dataset.keras_module, split))
        return raw_images.copy(), raw_labels.copy()

    images, labels = data.load_fashion_mnist("test", download=download)
    assert calls == [("Fashion-MNIST", "fashion_mnist", "test")]
    assert_preprocessed(images, labels, raw_images, raw_labels)


def test_download_with_bad_shape_is_rejected(idx):
    with pytest.raises(data.IdxFormatError, match="download"):
        data.load_fashion_mnist(
            download=lambda dataset, split: (np.zeros((2, 27, 27), np.uint8), np.zeros(2, np.uint8))
        )


def test_found_files_are_not_downloaded_again(isolated_data_paths, idx, forbidden_download):
    idx.write_split(isolated_data_paths.debian_dir, idx.images(2), idx.labels(2), "test")
    images, _ = data.load_fashion_mnist("test", download=forbidden_download)
    assert images.shape == (2, 32, 32, 1)
    assert forbidden_download.calls == []


# --------------------------------------------------------------------------------------------
# MNIST
# --------------------------------------------------------------------------------------------


def test_load_mnist_from_keras_npz(isolated_data_paths, idx, forbidden_download):
    raw = {
        "x_train": idx.images(4, offset=1),
        "y_train": np.array([1, 2, 3, 4], np.uint8),
        "x_test": idx.images(2, offset=50),
        "y_test": np.array([9, 0], np.uint8),
    }
    isolated_data_paths.keras_cache.mkdir(parents=True)
    np.savez(isolated_data_paths.keras_cache / "mnist.npz", **raw)

    for split in ("train", "test"):
        images, labels = data.load_mnist(split, download=forbidden_download)
        assert_preprocessed(images, labels, raw[f"x_{split}"], raw[f"y_{split}"])
    assert forbidden_download.calls == []


def test_load_mnist_idx_files_before_npz(isolated_data_paths, idx):
    isolated_data_paths.keras_cache.mkdir(parents=True)
    np.savez(
        isolated_data_paths.keras_cache / "mnist.npz",
        x_train=idx.images(2, offset=100),
        y_train=np.zeros(2, np.uint8),
        x_test=idx.images(2, offset=100),
        y_test=np.zeros(2, np.uint8),
    )
    raw_images = idx.images(3, offset=7)
    idx.write_split(isolated_data_paths.keras_cache / "mnist", raw_images, idx.labels(3))
    images, labels = data.load_mnist()
    assert_preprocessed(images, labels, raw_images, idx.labels(3))


def test_load_mnist_corrupt_npz_names_the_file(isolated_data_paths):
    isolated_data_paths.keras_cache.mkdir(parents=True)
    path = isolated_data_paths.keras_cache / "mnist.npz"
    np.savez(path, x_train=np.zeros((1, 28, 28), np.uint8))  # no y_train, no test split
    with pytest.raises(data.IdxFormatError) as info:
        data.load_mnist("test")
    assert str(path) in str(info.value)


def test_load_mnist_from_data_dir(tmp_path, idx):
    raw_images = idx.images(2, offset=60)
    idx.write_split(tmp_path / "mnist", raw_images, idx.labels(2), "test", gz=False)
    images, labels = data.load_mnist("test", data_dir=tmp_path)
    assert_preprocessed(images, labels, raw_images, idx.labels(2))


# --------------------------------------------------------------------------------------------
# Broken files: every error names the file
# --------------------------------------------------------------------------------------------


def _load_expecting_format_error(folder, bad_name):
    with pytest.raises(data.IdxFormatError) as info:
        data.load_fashion_mnist(data_dir=folder)
    assert bad_name in str(info.value), str(info.value)
    assert isinstance(info.value, ValueError)
    return str(info.value)


def test_truncated_gzip(tmp_path, idx):
    images_path, _ = idx.write_split(tmp_path, idx.images(3), idx.labels(3))
    payload = images_path.read_bytes()
    images_path.write_bytes(payload[: len(payload) // 2])
    message = _load_expecting_format_error(tmp_path, str(images_path))
    assert "gzip" in message


def test_gzip_missing_only_its_trailer(tmp_path, idx):
    _, labels_path = idx.write_split(tmp_path, idx.images(3), idx.labels(3))
    labels_path.write_bytes(labels_path.read_bytes()[:-8])  # CRC and length cut off
    _load_expecting_format_error(tmp_path, str(labels_path))


def test_not_gzip_at_all(tmp_path, idx):
    images_path, _ = idx.write_split(tmp_path, idx.images(3), idx.labels(3))
    images_path.write_bytes(idx.bytes(idx.images(3)))  # raw bytes under a .gz name
    _load_expecting_format_error(tmp_path, str(images_path))


def test_truncated_raw(tmp_path, idx):
    images_path, _ = idx.write_split(tmp_path, idx.images(3), idx.labels(3), gz=False)
    images_path.write_bytes(images_path.read_bytes()[:-100])
    message = _load_expecting_format_error(tmp_path, str(images_path))
    assert "truncated" in message
    assert "3 x 28 x 28 = 2352" in message and "2252" in message


def test_header_only_partly_there(tmp_path, idx):
    images_path, _ = idx.write_split(tmp_path, idx.images(3), idx.labels(3), gz=False)
    images_path.write_bytes(images_path.read_bytes()[:10])
    message = _load_expecting_format_error(tmp_path, str(images_path))
    assert "at least 16 bytes" in message and "found 10" in message


@pytest.mark.parametrize("gz", [True, False], ids=["gzip", "raw"])
@pytest.mark.parametrize("which", ["images", "labels"])
def test_empty_file(tmp_path, idx, gz, which):
    images_path, labels_path = idx.write_split(tmp_path, idx.images(3), idx.labels(3), gz=gz)
    path = images_path if which == "images" else labels_path
    path.write_bytes(gzip.compress(b"") if gz else b"")
    message = _load_expecting_format_error(tmp_path, str(path))
    assert "empty" in message


def test_labels_file_where_images_expected(tmp_path, idx):
    images_path, _ = idx.write_split(tmp_path, idx.images(3), idx.labels(3))
    # A 1-D labels file under the images name (long enough to hold an images header: 8 + 20 bytes).
    idx.write(images_path, idx.labels(20))
    message = _load_expecting_format_error(tmp_path, str(images_path))
    assert "0x00000803" in message and "0x00000801" in message


def test_images_file_where_labels_expected(tmp_path, idx):
    _, labels_path = idx.write_split(tmp_path, idx.images(3), idx.labels(3))
    idx.write(labels_path, idx.images(3))
    message = _load_expecting_format_error(tmp_path, str(labels_path))
    assert "magic" in message


def test_wrong_dtype_code(tmp_path, idx):
    images_path, _ = idx.write_split(tmp_path, idx.images(3), idx.labels(3), gz=False)
    payload = bytearray(images_path.read_bytes())
    payload[2] = 0x0D  # float32 code
    images_path.write_bytes(bytes(payload))
    _load_expecting_format_error(tmp_path, str(images_path))


def test_extra_bytes(tmp_path, idx):
    _, labels_path = idx.write_split(tmp_path, idx.images(3), idx.labels(3))
    idx.write(labels_path, idx.labels(3), extra=b"\x00\x01")
    message = _load_expecting_format_error(tmp_path, str(labels_path))
    assert "extra bytes" in message


def test_wrong_image_size(tmp_path, idx):
    images_path, _ = idx.write_split(tmp_path, np.zeros((3, 27, 27), np.uint8), idx.labels(3))
    message = _load_expecting_format_error(tmp_path, str(images_path))
    assert "27x27" in message and "28x28" in message


def test_images_labels_count_mismatch(tmp_path, idx):
    images_path, labels_path = idx.write_split(tmp_path, idx.images(3), idx.labels(4))
    message = _load_expecting_format_error(tmp_path, str(images_path))
    assert labels_path.name in message
    assert "3 images" in message


def test_labels_out_of_range(tmp_path, idx):
    _, labels_path = idx.write_split(tmp_path, idx.images(3), np.array([0, 10, 3], np.uint8))
    message = _load_expecting_format_error(tmp_path, labels_path.name)
    assert "0..9" in message and "10" in message


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("split", ["validation", "Train", "", None])
def test_split_validation(split, forbidden_download, tmp_path, idx):
    idx.write_split(tmp_path, idx.images(2), idx.labels(2))
    for loader in (data.load_fashion_mnist, data.load_mnist):
        with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
            loader(split, data_dir=tmp_path, download=forbidden_download)


def test_class_names():
    assert len(data.FASHION_CLASSES) == 10
    english = data.class_names("en")
    korean = data.class_names("ko")
    assert len(english) == len(korean) == 10
    assert english == data.class_names()
    assert english[0] == "T-shirt/top" and english[9] == "Ankle boot"
    assert korean[1] == "바지" and korean[8] == "가방"
    assert len(set(english)) == len(set(korean)) == 10
    assert all(english[i] == data.FASHION_CLASSES[i]["en"] for i in range(10))


@pytest.mark.parametrize("lang", ["fr", "EN", "kr", ""])
def test_class_names_bad_language(lang):
    with pytest.raises(ValueError, match="'en' or 'ko'"):
        data.class_names(lang)


def test_preprocess_images_rejects_other_shapes():
    with pytest.raises(ValueError, match=r"\(N, 28, 28\)"):
        data.preprocess_images(np.zeros((2, 32, 32), np.uint8))
    with pytest.raises(ValueError):
        data.preprocess_images(np.zeros((28, 28), np.uint8))


def test_take_first_n():
    images = np.arange(10 * 4).reshape(10, 2, 2)
    labels = np.arange(10)
    out_images, out_labels = data.take(images, labels, 4)
    np.testing.assert_array_equal(out_labels, [0, 1, 2, 3])
    np.testing.assert_array_equal(out_images, images[:4])
    all_images, _ = data.take(images, labels, 10)
    np.testing.assert_array_equal(all_images, images)


def test_take_with_seed():
    images = np.arange(100 * 3).reshape(100, 3)
    labels = np.arange(100)
    a_images, a_labels = data.take(images, labels, 20, seed=1)
    b_images, b_labels = data.take(images, labels, 20, seed=1)
    c_images, c_labels = data.take(images, labels, 20, seed=2)
    np.testing.assert_array_equal(a_labels, b_labels)
    np.testing.assert_array_equal(a_images, b_images)
    assert not np.array_equal(a_labels, c_labels)
    assert not np.array_equal(a_images, c_images)
    assert not np.array_equal(a_labels, np.arange(20))  # random, not the first 20
    assert len(set(a_labels.tolist())) == 20  # without replacement
    np.testing.assert_array_equal(a_images, images[a_labels])  # pairs stay together
    expected = np.random.default_rng(1).permutation(100)[:20]
    np.testing.assert_array_equal(a_labels, expected)


def test_take_too_many():
    images, labels = np.zeros((5, 2)), np.zeros(5)
    with pytest.raises(ValueError, match="6.*5"):
        data.take(images, labels, 6)
    with pytest.raises(ValueError):
        data.take(images, labels, 6, seed=0)


# --------------------------------------------------------------------------------------------
# find_fashion_mnist: what course.py asks before installing the data
# --------------------------------------------------------------------------------------------


def test_find_fashion_mnist_finds_nothing_in_empty_places(isolated_data_paths, monkeypatch):
    monkeypatch.setenv(data.DATA_DIR_ENV_VAR, str(isolated_data_paths.env_dir))
    assert data.find_fashion_mnist() is None


@pytest.mark.parametrize("subfolder", ["", "fashion-mnist"])
def test_find_fashion_mnist_in_the_env_folder(isolated_data_paths, idx, monkeypatch, subfolder):
    written = idx.write_split(isolated_data_paths.env_dir / subfolder, idx.images(2), idx.labels(2))
    monkeypatch.setenv(data.DATA_DIR_ENV_VAR, str(isolated_data_paths.env_dir))
    assert data.find_fashion_mnist() == written


def test_find_fashion_mnist_follows_the_search_order(isolated_data_paths, idx, monkeypatch):
    env = idx.write_split(isolated_data_paths.env_dir, idx.images(2), idx.labels(2))
    keras = idx.write_split(
        isolated_data_paths.keras_cache / "fashion-mnist", idx.images(2), idx.labels(2), gz=False
    )
    debian = idx.write_split(isolated_data_paths.debian_dir, idx.images(2), idx.labels(2))
    monkeypatch.setenv(data.DATA_DIR_ENV_VAR, str(isolated_data_paths.env_dir))
    assert data.find_fashion_mnist() == env  # 1. $VAE_COURSE_DATA_DIR
    monkeypatch.delenv(data.DATA_DIR_ENV_VAR)
    assert data.find_fashion_mnist() == keras  # 2. Keras' cache (raw IDX files found too)
    for path in keras:
        path.unlink()
    assert data.find_fashion_mnist() == debian  # 3. the Debian package's folder
    # An incomplete earlier place (images without labels) does not hide a complete later one.
    idx.write(isolated_data_paths.keras_cache / "fashion-mnist" / "train-images-idx3-ubyte.gz", idx.images(2))
    assert data.find_fashion_mnist() == debian
    for path in debian:
        path.unlink()
    assert data.find_fashion_mnist() is None


def test_find_fashion_mnist_agrees_with_the_loader(isolated_data_paths, idx, forbidden_download):
    """What find_fashion_mnist reports is the file load_fashion_mnist() reads, and it never downloads."""
    images_path, _ = idx.write_split(isolated_data_paths.debian_dir, idx.images(3, offset=7), idx.labels(3))
    assert data.find_fashion_mnist()[0] == images_path
    images, _ = data.load_fashion_mnist(download=forbidden_download)
    np.testing.assert_array_equal(
        images[..., 0], data.preprocess_images(data.read_idx(images_path, 3))[..., 0]
    )
    assert forbidden_download.calls == []


def test_find_fashion_mnist_ignores_a_test_split_alone(isolated_data_paths, idx):
    idx.write_split(isolated_data_paths.debian_dir, idx.images(2), idx.labels(2), split="test")
    assert data.find_fashion_mnist() is None


def test_image_shape_is_what_the_loader_returns(tmp_path, idx):
    assert data.IMAGE_SHAPE == (32, 32, 1) == (data.IMAGE_SIZE, data.IMAGE_SIZE, 1)
    assert data.IMAGE_SIZE == 28 + 2 * data.PAD
    idx.write_split(tmp_path, idx.images(2), idx.labels(2))
    images, _ = data.load_fashion_mnist(data_dir=tmp_path)
    assert images.shape[1:] == data.IMAGE_SHAPE
