"""vae_course.faces: which face data, lesson 04's artifacts, training when they are missing, the ground truth.

Everything runs on a few dozen synthetic faces written into a temporary folder, with a tiny model (32x32 faces,
4 latent dimensions). The artifacts folder, the CelebA search path and HOME point at temporary folders, so no
test reads or writes the user's ~/.cache or ~/datasets.
"""

from __future__ import annotations

import csv
import shutil

import numpy as np
import pytest

from vae_course import celeba, config, faces, synthetic_faces

N_FACES = 30
SEED = 3


@pytest.fixture(scope="module")
def synthetic_set(tmp_path_factory):
    """A synthetic set of ``N_FACES`` faces in CelebA's layout (drawn once, in this process)."""
    folder = tmp_path_factory.mktemp("synthetic") / "faces"
    return synthetic_faces.write_synthetic_celeba(folder, n_images=N_FACES, seed=SEED, workers=1)


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No real CelebA, no FAST mode, artifacts and HOME in the test's temporary folder."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv(config.ARTIFACTS_ENV_VAR, str(tmp_path / "artifacts"))
    monkeypatch.delenv(celeba.CELEBA_DIR_ENV_VAR, raising=False)
    monkeypatch.delenv(config.FAST_ENV_VAR, raising=False)
    return tmp_path


def tiny_settings(**changes) -> faces.FaceSettings:
    values = {
        "n_synthetic": N_FACES,
        "n_train_synthetic": None,
        "epochs_synthetic": 1,
        "n_train_real_cpu": None,
        "epochs_real": 1,
        "n_valid": 8,
        "n_test": 8,
        "image_size": 32,
        "latent_dim": 4,
        "batch_size": 8,
    }
    values.update(changes)
    return faces.FaceSettings(**values)


def real_looking_copy(synthetic_set, folder):
    """The synthetic set without its factors.csv: the loader then takes it for real CelebA."""
    shutil.copytree(synthetic_set, folder)
    (folder / faces.FACTORS_FILENAME).unlink()
    return folder


# --------------------------------------------------------------------------------------------
# Settings and the choice of data
# --------------------------------------------------------------------------------------------


def test_lesson04_settings_follow_fast_mode(monkeypatch):
    full = faces.lesson04_settings(gpu=False)
    assert (full.n_synthetic, full.epochs_synthetic, full.n_train_real_cpu, full.epochs_real) == (
        20_000,
        4,
        20_000,
        5,
    )
    assert (full.n_valid, full.n_test, full.image_size, full.latent_dim) == (2_000, 19_962, 64, 200)
    assert full.n_train_synthetic == 20_000  # more than the training split holds: all of it
    assert (full.batch_size, full.learning_rate, full.reconstruction_weight) == (64, 0.002, 2000.0)
    gpu = faces.lesson04_settings(gpu=True)
    assert gpu.n_train_real_cpu is None and gpu.epochs_real == 10  # the whole split and the book's 10 epochs
    assert (gpu.batch_size, gpu.learning_rate) == (128, 0.0005)  # the book's
    monkeypatch.setenv(config.FAST_ENV_VAR, "1")
    fast = faces.lesson04_settings(gpu=True)
    assert (fast.n_synthetic, fast.epochs_synthetic, fast.n_train_real_cpu, fast.epochs_real) == (
        800,
        1,
        640,
        1,
    )
    assert (fast.n_valid, fast.n_test, fast.n_train_synthetic) == (128, 256, 384)


def test_real_celeba_is_used_when_found(synthetic_set, tmp_path, monkeypatch, capsys):
    real = real_looking_copy(synthetic_set, tmp_path / "celeba")
    monkeypatch.setenv(celeba.CELEBA_DIR_ENV_VAR, str(real))
    monkeypatch.setattr(synthetic_faces, "ensure_synthetic_celeba", lambda **_: pytest.fail("drew faces"))
    data = faces.choose_face_data(tiny_settings(n_train_real_cpu=12, epochs_real=2))
    assert data.real and not data.synthetic and data.name == "CelebA"
    assert data.data_dir == real and (data.n_train, data.epochs) == (12, 2)
    assert "Real CelebA found" in capsys.readouterr().out
    train = data.load("train", limit=5)
    assert len(train) == 5 and train.images.shape[1:] == (32, 32, 3) and "CelebA" in train.source


def test_synthetic_faces_are_drawn_with_a_banner_when_celeba_is_missing(synthetic_set, monkeypatch, capsys):
    calls = []

    def fake_ensure(n_images, seed):
        calls.append((n_images, seed))
        return synthetic_set

    monkeypatch.setattr(synthetic_faces, "ensure_synthetic_celeba", fake_ensure)
    data = faces.choose_face_data(tiny_settings(epochs_synthetic=2, n_train_synthetic=9), seed=7)
    assert calls == [(N_FACES, 7)]
    assert data.synthetic and data.name == "synthetic faces" and data.data_dir == synthetic_set
    assert (data.n_train, data.epochs) == (9, 2)
    printed = capsys.readouterr().out
    assert "SYNTHETIC FACES" in printed and str(synthetic_set) in printed and printed.count("=" * 100) == 2
    assert "synthetic" in data.load("test").source


def test_synthetic_set_found_by_the_search_is_used_as_it_is(synthetic_set, monkeypatch, capsys):
    monkeypatch.setenv(celeba.CELEBA_DIR_ENV_VAR, str(synthetic_set))
    monkeypatch.setattr(synthetic_faces, "ensure_synthetic_celeba", lambda **_: pytest.fail("drew faces"))
    data = faces.choose_face_data(tiny_settings())
    assert data.synthetic and data.data_dir == synthetic_set
    assert "SYNTHETIC FACES" in capsys.readouterr().out


def test_explicit_data_dir_without_faces_raises_and_draws_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(synthetic_faces, "ensure_synthetic_celeba", lambda **_: pytest.fail("drew faces"))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="given as data_dir"):
        faces.choose_face_data(tiny_settings(), data_dir=empty, verbose=False)


# --------------------------------------------------------------------------------------------
# Joining by file name
# --------------------------------------------------------------------------------------------


def test_match_filenames_joins_by_name_not_by_order():
    available = np.array(["c.jpg", "a.jpg", "b.jpg"])
    index = faces.match_filenames(["a.jpg", "b.jpg", "c.jpg", "a.jpg"], available)
    assert index.tolist() == [1, 2, 0, 1]
    assert available[index].tolist() == ["a.jpg", "b.jpg", "c.jpg", "a.jpg"]


def test_match_filenames_rejects_missing_and_repeated_names():
    with pytest.raises(ValueError, match=r"2 of the 3 file names .* \(first: x.jpg, y.jpg\)"):
        faces.match_filenames(["x.jpg", "a.jpg", "y.jpg"], ["a.jpg", "b.jpg"])
    with pytest.raises(ValueError, match="more than once"):
        faces.match_filenames(["a.jpg"], ["a.jpg", "b.jpg", "a.jpg"])


# --------------------------------------------------------------------------------------------
# Test codes
# --------------------------------------------------------------------------------------------


def some_codes(n=5, latent_dim=3, names=("Smiling", "Male")):
    rng = np.random.default_rng(0)
    return (
        rng.normal(size=(n, latent_dim)).astype(np.float32),
        np.array([f"{i + 1:06d}.jpg" for i in range(n)]),
        rng.random((n, len(names))) < 0.5,
        names,
    )


def test_test_codes_round_trip_and_align_by_file_name(tmp_path):
    z_mean, filenames, attributes, names = some_codes()
    path = faces.save_test_codes(None, z_mean, filenames, attributes, names, source="synthetic faces at x")
    assert path == config.artifact_path(faces.CODES_FILENAME) and path.parent == tmp_path / "artifacts"
    codes = faces.load_test_codes()
    np.testing.assert_array_equal(codes.z_mean, z_mean)
    assert codes.filenames.tolist() == filenames.tolist() and codes.attribute_names == names
    assert codes.source == "synthetic faces at x" and len(codes) == 5
    np.testing.assert_array_equal(codes.has("Male"), attributes[:, 1])
    order = [3, 0, 4]
    aligned = codes.aligned_to(filenames[order])
    np.testing.assert_array_equal(aligned.z_mean, z_mean[order])
    np.testing.assert_array_equal(aligned.attributes, attributes[order])
    with pytest.raises(ValueError, match="Unknown attribute"):
        codes.has("smiling")


def test_fast_mode_reads_and_writes_its_own_codes_file(monkeypatch):
    z_mean, filenames, attributes, names = some_codes()
    faces.save_test_codes(None, z_mean, filenames, attributes, names)
    monkeypatch.setenv(config.FAST_ENV_VAR, "1")
    with pytest.raises(FileNotFoundError, match=r"faces_test_codes_fast\.npz"):
        faces.load_test_codes()


def test_missing_and_broken_codes_files_say_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="Lesson 04"):
        faces.load_test_codes(tmp_path / "nothing.npz")
    partial = tmp_path / "partial.npz"
    np.savez(partial, z_mean=np.zeros((2, 3)), filenames=np.array(["a", "b"]))
    with pytest.raises(ValueError, match=r"lacks \['attribute_names', 'attributes'\]"):
        faces.load_test_codes(partial)
    disagreeing = tmp_path / "disagreeing.npz"
    np.savez(
        disagreeing,
        z_mean=np.zeros((2, 3)),
        filenames=np.array(["a", "b", "c"]),
        attributes=np.zeros((2, 1), bool),
        attribute_names=np.array(["Smiling"]),
    )
    with pytest.raises(ValueError, match="disagree"):
        faces.load_test_codes(disagreeing)
    with pytest.raises(ValueError, match=r"expected z_mean \(N, latent_dim\)"):
        faces.save_test_codes(tmp_path / "bad.npz", np.zeros((2, 3)), ["a"], np.zeros((2, 1)), ["Smiling"])


def test_missing_model_names_the_lesson_that_writes_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"vae_faces\.keras.*Lesson 04"):
        faces.load_lesson04_model()


# --------------------------------------------------------------------------------------------
# Encoding and training, on a tiny model
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(synthetic_set, tmp_path_factory):
    """A tiny face VAE trained for one epoch with ``train_face_vae``, and the splits it used."""
    import keras

    keras.utils.set_random_seed(0)
    data = faces.FaceData(
        data_dir=synthetic_set,
        real=False,
        name="synthetic faces",
        source="",
        epochs=1,
        n_train=None,
        settings=tiny_settings(),
    )
    cache = tmp_path_factory.mktemp("cache")
    train = celeba.load_celeba("train", synthetic_set, image_size=32, cache_dir=cache, progress=False)
    valid = celeba.load_celeba("valid", synthetic_set, image_size=32, cache_dir=cache, progress=False)
    test = celeba.load_celeba("test", synthetic_set, image_size=32, cache_dir=cache, progress=False)
    checkpoint = tmp_path_factory.mktemp("model") / "tiny.keras"
    vae, history = faces.train_face_vae(
        train, valid, 1, data.settings, checkpoint=checkpoint, seed=0, verbose=0
    )
    return data, vae, history, checkpoint, train, test


def test_train_face_vae_keeps_the_best_checkpoint_and_returns_it(trained):
    _, vae, history, checkpoint, train, _ = trained
    assert checkpoint.is_file()
    assert set(history.history) >= {"total_loss", "val_total_loss", "val_kl_loss"}
    assert np.isfinite(history.history["val_total_loss"]).all()
    assert vae.encoder.inputs[0].shape[1:] == (32, 32, 3) and vae.encoder.outputs[0].shape[-1] == 4
    assert vae.reconstruction_weight == 2000.0 and vae.reconstruction_loss == "mse"
    reloaded = faces.load_lesson04_model(checkpoint)
    x = train.images[:4].astype(np.float32) / 255.0
    np.testing.assert_allclose(np.asarray(reloaded(x)), np.asarray(vae(x)), atol=1e-6)


def test_train_face_vae_rejects_wrong_sizes(trained, synthetic_set, tmp_path):
    data, _, _, _, train, test = trained
    with pytest.raises(ValueError, match="image_size=64"):
        faces.train_face_vae(train, test, 1, tiny_settings(image_size=64), checkpoint=tmp_path / "m.keras")
    with pytest.raises(ValueError, match="epochs must be at least 1"):
        faces.train_face_vae(train, test, 0, data.settings, checkpoint=tmp_path / "m.keras")


def test_encode_z_mean_matches_the_encoder_for_datasets_and_arrays(trained):
    _, vae, _, _, train, _ = trained
    x = train.images[:]
    expected = np.asarray(vae.encoder(x.astype(np.float32) / 255.0, training=False)[0])
    from_dataset = faces.encode_z_mean(vae.encoder, train, batch_size=7)
    from_uint8 = faces.encode_z_mean(vae.encoder, x, batch_size=5)
    from_float = faces.encode_z_mean(vae.encoder, x.astype(np.float32) / 255.0)
    assert from_dataset.shape == (len(train), 4) and from_dataset.dtype == np.float32
    for result in (from_dataset, from_uint8, from_float):
        np.testing.assert_allclose(result, expected, atol=1e-5)
    with pytest.raises(ValueError, match=r"\(N, height, width, channels\)"):
        faces.encode_z_mean(vae.encoder, x[0])


def test_load_or_train_trains_once_then_loads(trained, tmp_path, monkeypatch, capsys):
    data = trained[0]
    path = tmp_path / "model.keras"
    first = faces.load_or_train_face_vae(data, path=path, seed=0, verbose=0)
    assert "was not found" in capsys.readouterr().out and path.is_file()
    monkeypatch.setattr(faces, "train_face_vae", lambda *a, **k: pytest.fail("trained again"))
    second = faces.load_or_train_face_vae(data, path=path)
    x = np.full((1, 32, 32, 3), 0.5, np.float32)
    np.testing.assert_allclose(np.asarray(second(x)), np.asarray(first(x)), atol=1e-6)


def test_codes_are_encoded_once_then_loaded_and_checked(trained, tmp_path, capsys, monkeypatch):
    _, vae, _, _, _, test = trained
    path = tmp_path / "codes.npz"
    encoded = faces.load_or_encode_test_codes(vae.encoder, test, path=path)
    assert "Encoding the" in capsys.readouterr().out and path.is_file()
    np.testing.assert_allclose(encoded.z_mean, faces.encode_z_mean(vae.encoder, test), atol=1e-6)
    loaded = faces.load_or_encode_test_codes(vae.encoder, test, path=path)
    assert "Encoding" not in capsys.readouterr().out
    np.testing.assert_array_equal(loaded.z_mean, encoded.z_mean)
    assert loaded.filenames.tolist() == test.filenames.tolist()

    # lesson 04's own file (path None) that does not match: an error that says to run lesson 04 again
    monkeypatch.setenv(config.ARTIFACTS_ENV_VAR, str(tmp_path / "artifacts"))
    lessons = config.artifact_path(faces.CODES_FILENAME)
    stored = faces.load_test_codes(path)
    faces.save_test_codes(
        lessons, stored.z_mean + 0.5, stored.filenames, stored.attributes, stored.attribute_names
    )
    with pytest.raises(ValueError, match="different runs.*Run lesson 04 again"):
        faces.load_or_encode_test_codes(vae.encoder, test)
    faces.save_test_codes(
        lessons, stored.z_mean, stored.filenames, ~stored.attributes, stored.attribute_names
    )
    with pytest.raises(ValueError, match="another data set"):
        faces.load_or_encode_test_codes(vae.encoder, test)

    # a file of the caller's own (lesson 05's codes of a shipped model since replaced): encoded again
    faces.save_test_codes(
        path, stored.z_mean + 0.5, stored.filenames, stored.attributes, stored.attribute_names
    )
    again = faces.load_or_encode_test_codes(vae.encoder, test, path=path)
    assert "different runs" in capsys.readouterr().out
    np.testing.assert_allclose(again.z_mean, encoded.z_mean, atol=1e-6)
    np.testing.assert_allclose(faces.load_test_codes(path).z_mean, encoded.z_mean, atol=1e-6)


# --------------------------------------------------------------------------------------------
# The generator's ground truth
# --------------------------------------------------------------------------------------------


def read_csv_column(path, column):
    with open(path, newline="") as file:
        rows = list(csv.DictReader(file))
    return {row["filename"]: row[column] for row in rows}


def test_load_factors_joins_the_ground_truth_by_file_name(synthetic_set):
    names = ["000007.jpg", "000002.jpg", "000030.jpg"]
    factors = faces.load_factors(synthetic_set, names)
    truth = read_csv_column(synthetic_set / "factors.csv", "mouth_curvature")
    np.testing.assert_allclose(factors["mouth_curvature"], [float(truth[name]) for name in names])
    assert factors["mouth_curvature"].dtype == np.float64 and factors["hair_colour"].dtype.kind == "U"
    assert "filename" not in factors and len(factors["male"]) == 3
    # the attribute file agrees with the factor behind it (Smiling is mouth_curvature > 0.35)
    dataset = celeba.load_celeba("all", synthetic_set, image_size=32, progress=False)
    curvature = faces.load_factors(synthetic_set.parent, dataset.filenames)["mouth_curvature"]
    np.testing.assert_array_equal(dataset.has("Smiling"), curvature > synthetic_faces.SMILING_THRESHOLD)


def test_load_factors_errors(synthetic_set, tmp_path):
    real = real_looking_copy(synthetic_set, tmp_path / "celeba")
    with pytest.raises(FileNotFoundError, match="only the synthetic faces"):
        faces.load_factors(real, ["000001.jpg"])
    with pytest.raises(ValueError, match="not among"):
        faces.load_factors(synthetic_set, ["000001.jpg", "999999.jpg"])
