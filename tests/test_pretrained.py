"""vae_course.pretrained: the shipped models load, reproduce the numbers their JSON records, and back the
lessons' headline claims; the recorded settings are the lessons' own."""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path

import numpy as np
import pytest

from vae_course import config, data, pretrained

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = [name for name in pretrained.NAMES if pretrained.available(name)]
REAL_FASHION_DIR = data.DEBIAN_FASHION_DIR  # read at import, before conftest isolates the data paths


@pytest.fixture(autouse=True)
def real_fashion_mnist(monkeypatch):
    """The shipped models are measured on the real Fashion-MNIST test split (CI installs Debian's copy)."""
    if not any(REAL_FASHION_DIR.glob("t10k*")):
        why = f"Fashion-MNIST is not in {REAL_FASHION_DIR} (apt-get install dataset-fashion-mnist)"
        if os.environ.get("CI"):
            pytest.fail(f"the shipped models must be checked in CI: {why} (.ci/run installs it)")
        pytest.skip(why)
    monkeypatch.setenv(data.DATA_DIR_ENV_VAR, str(REAL_FASHION_DIR))


def parameter_values(notebook: Path, names: set[str]) -> dict:
    """Full-mode values of ``NAME = ...`` assignments in a lesson's code cells (config.epochs/subset: ``full``)."""
    found = {}
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        if source.lstrip().startswith("%"):
            continue
        for node in ast.walk(ast.parse(source)):
            if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
                continue
            target = node.targets[0]
            if not (isinstance(target, ast.Name) and target.id in names and target.id not in found):
                continue
            value = node.value
            if isinstance(value, ast.Call):  # config.epochs(full=5, ...) or config.subset(60_000, fast=...)
                keywords = {keyword.arg: keyword.value for keyword in value.keywords}
                value = keywords.get("full", value.args[0] if value.args else None)
            found[target.id] = ast.literal_eval(value)
    return found


def test_recorded_settings_are_the_lessons_settings():
    lesson01 = parameter_values(
        ROOT / "notebooks/en/01_autoencoder.ipynb", {"EPOCHS", "BATCH_SIZE", "N_TRAIN", "LATENT_DIM"}
    )
    assert pretrained.SPECS["autoencoder_fashion"].settings == {
        "epochs": lesson01["EPOCHS"],
        "batch_size": lesson01["BATCH_SIZE"],
        "n_train": lesson01["N_TRAIN"],
        "latent_dim": lesson01["LATENT_DIM"],
        "optimizer": "adam",
    }
    lesson02 = parameter_values(
        ROOT / "notebooks/en/02_vae.ipynb",
        {"EPOCHS", "BATCH_SIZE", "N_TRAIN", "LATENT_DIM", "LEARNING_RATE", "RECONSTRUCTION_WEIGHT"},
    )
    assert pretrained.SPECS["vae_fashion"].settings == {
        "epochs": lesson02["EPOCHS"],
        "batch_size": lesson02["BATCH_SIZE"],
        "n_train": lesson02["N_TRAIN"],
        "latent_dim": lesson02["LATENT_DIM"],
        "learning_rate": lesson02["LEARNING_RATE"],
        "reconstruction_weight": lesson02["RECONSTRUCTION_WEIGHT"],
    }


def test_every_model_is_shipped_small_with_a_record():
    assert SHIPPED == list(pretrained.NAMES)
    for name in SHIPPED:
        assert pretrained.weights_path(name).stat().st_size < 5_000_000, name
        record = pretrained.info(name)
        assert record["name"] == name and record["seed"] == config.SEED
        assert {"python", "tensorflow", "keras"} <= set(record["versions"])
        assert record["settings"] and record["metrics"]
        assert record["lesson"] == pretrained.SPECS[name].lesson


@pytest.mark.parametrize("name", SHIPPED)
def test_the_shipped_weights_give_the_recorded_metrics(name):
    recorded = pretrained.info(name)["metrics"]
    measured = pretrained.metrics_for(name, pretrained.load(name))
    assert set(recorded) == set(measured)
    for key, value in recorded.items():
        assert measured[key] == pytest.approx(value, rel=1e-3, abs=1e-3), key


def test_vae_fashion_backs_lessons_02_and_03():
    metrics = pretrained.info("vae_fashion")["metrics"]  # equal to what the weights give (test above)
    assert metrics["val_total"] <= 135.0  # lesson 02's full-mode bar
    assert abs(metrics["z_mean_x"]) < 0.25 and abs(metrics["z_mean_y"]) < 0.25  # the cloud is centred
    assert abs(metrics["z_var_x"] - 1) < 0.35 and abs(metrics["z_var_y"] - 1) < 0.35  # with about unit spread
    assert metrics["elbo"] == pytest.approx(metrics["iwae_1"])
    assert metrics["elbo"] < metrics["iwae_5"] < metrics["iwae_50"] < 0  # lesson 03: IWAE_k >= ELBO, rising


def test_autoencoder_backs_lesson_01_and_the_vae_has_fewer_holes():
    ae, vae = pretrained.info("autoencoder_fashion")["metrics"], pretrained.info("vae_fashion")["metrics"]
    assert ae["val_bce"] <= 0.262  # lesson 01's full-mode bar
    assert vae["hole_ratio_p90"] < ae["hole_ratio_p90"]  # lesson 02's claim, by lesson 01's measure
    assert vae["hole_ratio_median"] < ae["hole_ratio_median"]


def test_vae_faces_synthetic_backs_lessons_04_and_05():
    record = pretrained.info("vae_faces_synthetic")
    metrics = record["metrics"]
    assert metrics["ci_mse"] < 0.6 * metrics["ci_mse_mean_face"]  # much better than the mean face
    assert metrics["ci_active_units"] >= 10
    assert metrics["ci_auc_Blond_Hair"] >= 0.85 and metrics["ci_auc_Wearing_Hat"] >= 0.8
    assert metrics["ci_auc_Smiling"] > 0.5 and metrics["ci_auc_Eyeglasses"] > 0.6
    full = record["training"]["full_test_split"]
    assert full["n_test"] == 2_000 and full["mse"] < 0.6 * full["mse_mean_face"]


VAE_LOG_KEYS = (
    "total_loss",
    "reconstruction_loss",
    "kl_loss",
    "val_total_loss",
    "val_reconstruction_loss",
    "val_kl_loss",
)
LOG_KEYS = {
    "autoencoder_fashion": ("loss", "val_loss"),  # lesson 01's fit: compiled with a loss
    "vae_fashion": VAE_LOG_KEYS,
    "vae_faces_synthetic": VAE_LOG_KEYS,
}


@pytest.mark.parametrize("name", SHIPPED)
def test_each_model_ships_the_log_its_lesson_shows(name):
    """The pretrained switch shows the real run's table and curves: every key the lesson reads, every epoch
    of the lesson's settings, the seconds per epoch and the first batch's loss, all plausible."""
    run = pretrained.history(name)
    record = pretrained.info(name)
    epochs = record["settings"].get("epochs", record["settings"].get("epochs_synthetic"))
    assert set(run.history) == set(LOG_KEYS[name])
    assert run.epoch == list(range(epochs)) and all(len(v) == epochs for v in run.history.values())
    assert len(run.seconds) == epochs and min(run.seconds) > 0
    assert all(np.isfinite(v).all() for v in run.history.values())
    first_key = LOG_KEYS[name][0]
    assert run.history[first_key][-1] < run.first_batch_loss  # training lowered the loss
    settings = record["settings"]  # the face model: the training split, 8 of every 10 synthetic faces
    assert run.n_train == settings.get("n_train", settings.get("n_synthetic", 0) * 8 // 10)


def test_the_vae_ships_its_best_epoch():
    """Lesson 02 checks its checkpoint against the log: the KL (no sampling) of the shipped weights on the
    10,000 test images equals the logged val_kl_loss of the epoch with the lowest val_total_loss."""
    run = pretrained.history("vae_fashion")
    best = int(np.argmin(run.history["val_total_loss"]))
    assert pretrained.info("vae_fashion")["metrics"]["val_kl"] == pytest.approx(
        run.history["val_kl_loss"][best], rel=1e-4
    )


def test_a_model_without_a_log_says_how_to_make_one(monkeypatch, tmp_path):
    pretrained.save(
        "vae_fashion", pretrained.build("vae_fashion"), {"how": "a test"}, folder=tmp_path, metrics={}
    )
    monkeypatch.setattr(pretrained, "FOLDER", tmp_path)
    with pytest.raises(ValueError, match="records no training history.*pretrained train vae_fashion"):
        pretrained.history("vae_fashion")


def test_the_switch_loads_into_the_lessons_model_and_its_checkpoint_reloads_quietly(tmp_path):
    """What lessons 02 and 04 do with PRETRAINED on: weights into the compiled model they built, then
    ``save`` a checkpoint that ``load_model`` reads back without a warning (an unbuilt optimizer gives two)."""
    import warnings

    import keras

    vae = pretrained.build("vae_fashion")
    vae.compile(optimizer=keras.optimizers.Adam(learning_rate=0.0005))
    assert pretrained.load_weights_into(vae, "vae_fashion") is vae
    images = pretrained.fashion_test_split()[0][:64]
    np.testing.assert_array_equal(vae(images), pretrained.load("vae_fashion")(images))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # "Skipping variable loading for optimizer ..."
        vae.save(tmp_path / "checkpoint.keras")
        reloaded = keras.saving.load_model(tmp_path / "checkpoint.keras")
    np.testing.assert_array_equal(reloaded(images), vae(images))


def test_the_switch_refuses_a_changed_architecture():
    from vae_course import models

    wider = models.build_vae(data.IMAGE_SHAPE, 3, seed=config.SEED, reconstruction_loss="bce")
    with pytest.raises(ValueError, match="not the one 'vae_fashion' was trained as.*turn PRETRAINED off"):
        pretrained.load_weights_into(wider, "vae_fashion")


@pytest.mark.parametrize("lesson", ["01_autoencoder.ipynb", "04_celeba_vae.ipynb"])
def test_a_lesson_runs_top_to_bottom_with_its_switch_on(lesson, monkeypatch, tmp_path):
    """The switch's own branch, in a fresh kernel (FAST mode, as CI runs lessons): every self-check after the
    training cell holds on the shipped model and its log, and no cell writes to stderr. (Lesson 02 runs so in
    the browser tests; lesson 05 uses the shipped face model in every FAST run.)"""
    from vae_course import handouts

    monkeypatch.setenv(config.FAST_ENV_VAR, "1")
    monkeypatch.setenv(config.PRETRAINED_ENV_VAR, "1")
    monkeypatch.setenv(config.ARTIFACTS_ENV_VAR, str(tmp_path / "artifacts"))
    run = handouts.run_lesson(
        ROOT / "notebooks" / "en" / lesson, tmp_path / "out", timeout=600, say=lambda _: None
    )
    assert run.status == "ok", run.message
    outputs = [o for c in json.loads(run.notebook.read_text())["cells"] for o in c.get("outputs", [])]
    streams = {"stdout": "", "stderr": ""}
    for output in outputs:
        if output.get("name") in streams:
            text = output["text"]
            streams[output["name"]] += text if isinstance(text, str) else "".join(text)
    assert streams["stderr"] == "", streams["stderr"]
    printed = streams["stdout"]
    assert "PRETRAINED=True" in printed or "PRETRAINED: True" in printed


def test_a_missing_model_says_how_to_make_it(monkeypatch, tmp_path):
    monkeypatch.setattr(pretrained, "FOLDER", tmp_path)
    assert not pretrained.available("vae_fashion")
    with pytest.raises(FileNotFoundError, match=r"python -m vae_course.pretrained train vae_fashion"):
        pretrained.load("vae_fashion")
    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        pretrained.info("vae_fashion")


def test_an_unknown_name_lists_the_shipped_ones():
    with pytest.raises(ValueError, match="autoencoder_fashion, vae_fashion, vae_faces_synthetic"):
        pretrained.load("vae_celeba")


def test_save_then_load_round_trip(monkeypatch, tmp_path):
    model = pretrained.build("vae_fashion")
    pretrained.save("vae_fashion", model, {"how": "a test"}, folder=tmp_path, metrics={"val_total": 1.5})
    monkeypatch.setattr(pretrained, "FOLDER", tmp_path)
    record = pretrained.info("vae_fashion")
    assert record["metrics"] == {"val_total": 1.5} and record["training"] == {"how": "a test"}
    loaded = pretrained.load("vae_fashion")
    for saved, read in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(saved, read)


def test_the_autoencoder_has_both_halves():
    model = pretrained.build("autoencoder_fashion")
    images = np.zeros((2, 32, 32, 1), dtype="float32")
    assert model.encoder(images).shape == (2, 2) and model.decoder(np.zeros((2, 2))).shape == (2, 32, 32, 1)


def test_command_line_rejects_unknown_names_and_lists(capsys):
    from vae_course.pretrained.__main__ import _main

    with pytest.raises(SystemExit):
        _main(["list", "vae_celeba"])
    assert "unknown model" in capsys.readouterr().err
    assert _main(["list", "vae_fashion"]) == 0
    assert "val_total" in capsys.readouterr().out


def test_train_runs_the_lessons_recipe_and_writes_a_model_that_loads(monkeypatch, tmp_path):
    """``train`` end to end on a shrunken recipe (one epoch on 300 images, measured on 1,000 test images):
    weights, JSON, metrics that reload."""
    import dataclasses

    small = dataclasses.replace(
        pretrained.SPECS["vae_fashion"],
        settings={**pretrained.SPECS["vae_fashion"].settings, "n_train": 300, "epochs": 1},
    )
    monkeypatch.setitem(pretrained.SPECS, "vae_fashion", small)
    test_split = pretrained.fashion_test_split()
    monkeypatch.setattr(
        pretrained, "fashion_test_split", lambda: (test_split[0][:1000], test_split[1][:1000])
    )
    weights = pretrained.train("vae_fashion", folder=tmp_path)
    assert weights == tmp_path / "vae_fashion.weights.h5" and not list(tmp_path.glob("*.keras"))
    record = json.loads((tmp_path / "vae_fashion.json").read_text())
    assert record["settings"]["n_train"] == 300 and record["training"]["seconds"] > 0
    assert record["training"]["how"] == "python -m vae_course.pretrained train vae_fashion"
    monkeypatch.setattr(pretrained, "FOLDER", tmp_path)
    run = pretrained.history("vae_fashion")  # the whole log of fit, as lesson 02's cells read it
    assert set(run.history) == set(VAE_LOG_KEYS) and run.epoch == [0]
    assert run.n_train == 300 and len(run.seconds) == 1 and run.seconds[0] > 0
    # the untrained model's first batch, against the mean over the epoch's three batches
    assert run.first_batch_loss > run.history["total_loss"][0]
    measured = pretrained.metrics_for("vae_fashion", pretrained.load("vae_fashion"))
    assert measured["val_total"] == pytest.approx(record["metrics"]["val_total"], rel=1e-3)
    assert measured["val_total"] > 135  # one epoch on 300 images is far from the lesson's model
