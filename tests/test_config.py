"""vae_course.config: FAST mode parsing, epochs/subset helpers, seeding."""

from __future__ import annotations

import os

import numpy as np
import pytest

from vae_course import config


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "True", "yes", "YES", "on", "On", " 1 ", "\ttrue\n"])
def test_fast_mode_true_values(monkeypatch, value):
    monkeypatch.setenv(config.FAST_ENV_VAR, value)
    assert config.fast_mode() is True


@pytest.mark.parametrize("value", ["", "0", "false", "FALSE", "no", "No", "off", "OFF", "  ", " 0 "])
def test_fast_mode_false_values(monkeypatch, value):
    monkeypatch.setenv(config.FAST_ENV_VAR, value)
    assert config.fast_mode() is False


def test_fast_mode_unset_is_false(monkeypatch):
    monkeypatch.delenv(config.FAST_ENV_VAR, raising=False)
    assert config.fast_mode() is False


@pytest.mark.parametrize("value", ["2", "maybe", "fast", "y", "t", "-1", "1.0"])
def test_fast_mode_invalid_value_names_the_variable(monkeypatch, value):
    monkeypatch.setenv(config.FAST_ENV_VAR, value)
    with pytest.raises(ValueError) as info:
        config.fast_mode()
    message = str(info.value)
    assert "VAE_COURSE_FAST" in message
    assert repr(value) in message  # says what was found
    assert "VAE_COURSE_FAST=1" in message  # and what to do instead


def test_fast_env_var_name():
    assert config.FAST_ENV_VAR == "VAE_COURSE_FAST"


@pytest.mark.parametrize(
    ("full", "fast", "expected_full", "expected_fast"),
    [(5, 1, 5, 1), (30, 2, 30, 2), (1, 3, 1, 1), (4, 4, 4, 4)],
)
def test_epochs_in_both_modes(monkeypatch, full, fast, expected_full, expected_fast):
    monkeypatch.delenv(config.FAST_ENV_VAR, raising=False)
    assert config.epochs(full, fast) == expected_full
    monkeypatch.setenv(config.FAST_ENV_VAR, "1")
    assert config.epochs(full, fast) == expected_fast


def test_epochs_default_fast_is_one(monkeypatch):
    monkeypatch.setenv(config.FAST_ENV_VAR, "1")
    assert config.epochs(full=5) == 1
    monkeypatch.setenv(config.FAST_ENV_VAR, "0")
    assert config.epochs(full=5) == 5


@pytest.mark.parametrize(
    ("n", "fast", "expected_full", "expected_fast"),
    [(60_000, 2_000, 60_000, 2_000), (500, 2_000, 500, 500), (10, 10, 10, 10), (7, 3, 7, 3)],
)
def test_subset_in_both_modes(monkeypatch, n, fast, expected_full, expected_fast):
    monkeypatch.setenv(config.FAST_ENV_VAR, "off")
    assert config.subset(n, fast) == expected_full
    monkeypatch.setenv(config.FAST_ENV_VAR, "on")
    assert config.subset(n, fast) == expected_fast


def test_subset_default_fast_is_2000(monkeypatch):
    monkeypatch.setenv(config.FAST_ENV_VAR, "yes")
    assert config.subset(60_000) == 2_000
    monkeypatch.delenv(config.FAST_ENV_VAR)
    assert config.subset(60_000) == 60_000


@pytest.mark.parametrize(("full", "fast"), [(0, 1), (5, 0), (-1, 1), (3, -2)])
def test_epochs_invalid_arguments(monkeypatch, full, fast):
    for mode in ("0", "1"):  # rejected in both modes, not only when the value would be used
        monkeypatch.setenv(config.FAST_ENV_VAR, mode)
        with pytest.raises(ValueError, match="at least 1"):
            config.epochs(full, fast)


@pytest.mark.parametrize(("n", "fast"), [(0, 10), (10, 0), (-5, 10)])
def test_subset_invalid_arguments(monkeypatch, n, fast):
    for mode in ("0", "1"):
        monkeypatch.setenv(config.FAST_ENV_VAR, mode)
        with pytest.raises(ValueError, match="at least 1"):
            config.subset(n, fast)


def test_invalid_fast_value_also_surfaces_through_helpers(monkeypatch):
    monkeypatch.setenv(config.FAST_ENV_VAR, "quick")
    with pytest.raises(ValueError, match="VAE_COURSE_FAST"):
        config.epochs(5)
    with pytest.raises(ValueError, match="VAE_COURSE_FAST"):
        config.subset(100)


def _draws():
    import keras

    return (
        keras.ops.convert_to_numpy(keras.random.normal((4, 3))),
        keras.ops.convert_to_numpy(keras.random.uniform((5,))),
        np.random.normal(size=6),
        np.random.randint(0, 1_000_000, size=4),
    )


def test_seed_everything_returns_the_seed():
    assert config.seed_everything(7) == 7
    assert config.seed_everything() == config.SEED == 42


@pytest.mark.parametrize(("second_seed", "same"), [(123, True), (124, False)])
def test_seed_everything_same_seed_same_draws_other_seed_other_draws(second_seed, same):
    config.seed_everything(123)
    first = _draws()
    config.seed_everything(second_seed)
    second = _draws()
    for a, b in zip(first, second):
        assert np.array_equal(a, b) == same


def test_seed_everything_seeds_python_random():
    import random

    config.seed_everything(5)
    first = [random.random() for _ in range(3)]
    config.seed_everything(5)
    assert [random.random() for _ in range(3)] == first


# --------------------------------------------------------------------------------------------
# artifact_path: how one lesson hands a model or a result to the next
# --------------------------------------------------------------------------------------------


def test_artifact_path_uses_and_creates_the_env_folder(monkeypatch, tmp_path):
    folder = tmp_path / "not" / "there" / "yet"
    monkeypatch.setenv(config.ARTIFACTS_ENV_VAR, str(folder))
    monkeypatch.setenv(config.FAST_ENV_VAR, "0")
    path = config.artifact_path("vae_fashion.keras")
    assert path == folder / "vae_fashion.keras"
    assert folder.is_dir()  # created, with its parents
    assert not path.exists()  # only the folder: the lesson writes the file


@pytest.mark.parametrize(
    ("filename", "fast_name"),
    [
        ("vae_fashion.keras", "vae_fashion_fast.keras"),
        ("ae_latent_report.json", "ae_latent_report_fast.json"),
        ("codes", "codes_fast"),
        ("vae.weights.h5", "vae_fast.weights.h5"),
    ],
)
def test_artifact_path_marks_fast_mode_files(monkeypatch, tmp_path, filename, fast_name):
    monkeypatch.setenv(config.ARTIFACTS_ENV_VAR, str(tmp_path))
    monkeypatch.setenv(config.FAST_ENV_VAR, "1")
    assert config.artifact_path(filename) == tmp_path / fast_name
    monkeypatch.setenv(config.FAST_ENV_VAR, "0")
    assert config.artifact_path(filename) == tmp_path / filename  # full mode: the name as given
    monkeypatch.delenv(config.FAST_ENV_VAR)
    assert config.artifact_path(filename) == tmp_path / filename


def test_artifact_path_defaults_to_the_user_cache(monkeypatch, tmp_path):
    monkeypatch.delenv(config.ARTIFACTS_ENV_VAR, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv(config.FAST_ENV_VAR, "0")
    assert config.artifact_path("x.json") == tmp_path / ".cache" / "vae_course" / "x.json"
    assert (tmp_path / ".cache" / "vae_course").is_dir()


def test_artifact_path_expands_a_tilde(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv(config.ARTIFACTS_ENV_VAR, "~/artifacts")
    monkeypatch.setenv(config.FAST_ENV_VAR, "0")
    assert config.artifact_path("a.keras") == tmp_path / "artifacts" / "a.keras"


def test_artifact_path_in_fast_mode_keeps_a_name_keras_accepts(monkeypatch, tmp_path):
    import keras

    monkeypatch.setenv(config.ARTIFACTS_ENV_VAR, str(tmp_path))
    monkeypatch.setenv(config.FAST_ENV_VAR, "1")
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    for filename in ("tiny.keras", "tiny.weights.h5"):
        path = config.artifact_path(filename)
        assert "_fast" in path.name
        (model.save if path.name.endswith(".keras") else model.save_weights)(path)
        assert path.is_file()


@pytest.mark.parametrize("value, expected", [("1", True), ("on", True), ("0", False), ("", False)])
def test_pretrained_mode_reads_its_variable(monkeypatch, value, expected):
    monkeypatch.setenv(config.PRETRAINED_ENV_VAR, value)
    assert config.PRETRAINED_ENV_VAR == "VAE_COURSE_PRETRAINED"
    assert config.pretrained_mode() is expected


def test_pretrained_mode_unset_is_false_and_a_typo_names_the_variable(monkeypatch):
    monkeypatch.delenv(config.PRETRAINED_ENV_VAR, raising=False)
    assert config.pretrained_mode() is False
    monkeypatch.setenv(config.PRETRAINED_ENV_VAR, "yes please")
    with pytest.raises(ValueError, match="VAE_COURSE_PRETRAINED='yes please'.*VAE_COURSE_PRETRAINED=1"):
        config.pretrained_mode()


def test_training_device_names_the_cpu_or_the_gpus():
    import tensorflow as tf

    device = config.training_device()
    if tf.config.list_physical_devices("GPU"):
        assert device.startswith("GPU (")
    else:
        assert device == f"CPU ({os.cpu_count()} cores)"
