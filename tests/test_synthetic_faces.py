"""Tests of vae_course.synthetic_faces: CelebA's layout, determinism, ground truth, visible attributes."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from PIL import Image

from vae_course import celeba, synthetic_faces

N_FACES = 600
"""Faces of the shared set: enough for the correlations and for a linear probe (400 train, 200 held out)."""
SEED = 7


@pytest.fixture(scope="module")
def face_set(tmp_path_factory):
    """A synthetic set drawn once for the module, with two worker processes (the pool path)."""
    return synthetic_faces.write_synthetic_celeba(
        tmp_path_factory.mktemp("faces") / "set", N_FACES, SEED, workers=2
    )


@pytest.fixture(scope="module")
def attribute_table(face_set):
    """(file names, bool (N, 40) attributes) parsed from list_attr_celeba.txt here, not by celeba.py."""
    lines = (face_set / "list_attr_celeba.txt").read_text(encoding="ascii").splitlines()
    rows = [line.split() for line in lines[2:]]
    names = np.array([row[0] for row in rows])
    values = np.array([[int(v) for v in row[1:]] for row in rows])
    return names, values == 1


@pytest.fixture(scope="module")
def loaded(face_set, tmp_path_factory):
    """The whole set read by vae_course.celeba at 32x32, through the same code as real CelebA."""
    cache = tmp_path_factory.mktemp("cache")
    return celeba.load_celeba("all", data_dir=face_set, image_size=32, cache_dir=cache, progress=False)


def _attribute(table, name):
    return table[1][:, celeba.ATTRIBUTE_NAMES.index(name)]


def _files(folder):
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


# ----------------------------------------------------------------------------------------------------------
# Layout
# ----------------------------------------------------------------------------------------------------------


def test_attribute_names_are_celebas_official_ones():
    assert len(celeba.ATTRIBUTE_NAMES) == 40 and celeba.ATTRIBUTE_NAMES[0] == "5_o_Clock_Shadow"
    factors = synthetic_faces.sample_factors(np.random.default_rng(0))
    assert set(synthetic_faces.attributes_from_factors(factors)) == set(celeba.ATTRIBUTE_NAMES)


def test_official_layout(face_set):
    assert sorted(p.name for p in face_set.iterdir()) == sorted(
        [
            "img_align_celeba",
            "list_attr_celeba.txt",
            "list_eval_partition.txt",
            "factors.csv",
            synthetic_faces.MARKER_NAME,
        ]
    )
    jpegs = sorted(p.name for p in (face_set / "img_align_celeba").iterdir())
    assert jpegs == [f"{i:06d}.jpg" for i in range(1, N_FACES + 1)]
    for name in ("000001.jpg", f"{N_FACES:06d}.jpg"):
        with Image.open(face_set / "img_align_celeba" / name) as image:
            assert (image.format, image.mode, image.size) == ("JPEG", "RGB", (178, 218))

    lines = (face_set / "list_attr_celeba.txt").read_text(encoding="ascii").splitlines()
    assert lines[0] == str(N_FACES)
    assert lines[1].split() == list(celeba.ATTRIBUTE_NAMES)
    assert len(lines) == N_FACES + 2
    row = re.compile(
        r"^\d{6}\.jpg( (-1| 1)){40}$"
    )  # CelebA's irregular spacing: "000001.jpg -1  1  1 -1 ..."
    assert all(row.match(line) for line in lines[2:]), lines[2]
    assert [line.split()[0] for line in lines[2:]] == jpegs

    partition = [line.split() for line in (face_set / "list_eval_partition.txt").read_text().splitlines()]
    assert [name for name, _ in partition] == jpegs
    codes = np.array([int(code) for _, code in partition])
    assert codes.tolist() == [synthetic_faces.split_code(i) for i in range(1, N_FACES + 1)]  # by index alone
    counts = tuple(int((codes == k).sum()) for k in range(3))
    assert counts == synthetic_faces.partition_counts(N_FACES)
    assert counts[0] / N_FACES == pytest.approx(0.80, abs=0.01) and counts[2] / N_FACES == pytest.approx(
        0.10, abs=0.01
    )

    marker = json.loads((face_set / synthetic_faces.MARKER_NAME).read_text())
    assert marker == {
        "generator": "vae_course.synthetic_faces",
        "version": synthetic_faces.GENERATOR_VERSION,
        "n_images": N_FACES,
        "seed": SEED,
    }
    assert synthetic_faces.is_complete(face_set, N_FACES, SEED)
    assert not synthetic_faces.is_complete(face_set, N_FACES, SEED + 1)


@pytest.mark.parametrize(
    "n, expected",
    [(1, (1, 0, 0)), (9, (8, 1, 0)), (10, (8, 1, 1)), (800, (640, 80, 80)), (20_000, (16_000, 2_000, 2_000))],
)
def test_partition_counts_are_about_80_10_10(n, expected):
    assert synthetic_faces.partition_counts(n) == expected


def test_a_face_keeps_its_split_in_every_set_size():
    """FAST mode's small set and full mode's large set agree on every face's split (no test face is trained on)."""
    small = [synthetic_faces.split_code(index) for index in range(1, 801)]
    large = [synthetic_faces.split_code(index) for index in range(1, 20_001)]
    assert large[:800] == small
    assert small[7:10] == [0, 1, 2] and small[17:20] == [0, 1, 2]


def test_faces_are_aligned_like_celeba(face_set):
    """The mean face is dark at CelebA's eye positions and lighter between and below them."""
    images = np.stack(
        [
            np.asarray(
                Image.open(face_set / "img_align_celeba" / f"{i:06d}.jpg").convert("L"), dtype=np.float64
            )
            for i in range(1, 201)
        ]
    )
    mean = images.mean(axis=0)

    def patch(x, y):
        return mean[y - 2 : y + 3, x - 2 : x + 3].mean()

    eyes = (patch(70, 111) + patch(108, 111)) / 2
    assert eyes < patch(89, 111) - 15  # the bridge of the nose between the eyes
    assert eyes < patch(89, 128) - 15  # the nose below them
    assert abs(patch(70, 111) - patch(108, 111)) < 10  # both eyes at the same height, mirror images


# ----------------------------------------------------------------------------------------------------------
# Determinism
# ----------------------------------------------------------------------------------------------------------


def test_same_seed_same_bytes_whatever_the_processes(tmp_path, monkeypatch):
    one = synthetic_faces.write_synthetic_celeba(tmp_path / "one", 24, 3, workers=1)
    monkeypatch.setattr(synthetic_faces, "_CHUNK_SIZE", 5)  # other chunks, two processes
    two = synthetic_faces.write_synthetic_celeba(tmp_path / "two", 24, 3, workers=2)
    assert _files(one) == _files(two)
    assert len(_files(one)) == 24 + 4


def test_a_smaller_set_holds_the_first_faces_of_a_larger_one(tmp_path):
    small = synthetic_faces.write_synthetic_celeba(tmp_path / "small", 6, 3, workers=1)
    large = synthetic_faces.write_synthetic_celeba(tmp_path / "large", 9, 3, workers=1)
    for i in range(1, 7):
        name = f"img_align_celeba/{i:06d}.jpg"
        assert (small / name).read_bytes() == (large / name).read_bytes()
    small_rows = (small / "factors.csv").read_text().splitlines()
    assert small_rows == (large / "factors.csv").read_text().splitlines()[:7]


def test_another_seed_draws_other_faces(tmp_path):
    a = synthetic_faces.write_synthetic_celeba(tmp_path / "a", 4, 1, workers=1)
    b = synthetic_faces.write_synthetic_celeba(tmp_path / "b", 4, 2, workers=1)
    for i in range(1, 5):
        pixels_a = np.asarray(Image.open(a / f"img_align_celeba/{i:06d}.jpg"), dtype=np.float64)
        pixels_b = np.asarray(Image.open(b / f"img_align_celeba/{i:06d}.jpg"), dtype=np.float64)
        assert np.abs(pixels_a - pixels_b).mean() > 5.0
    assert (a / "factors.csv").read_text() != (b / "factors.csv").read_text()


def test_rewriting_a_folder_replaces_the_old_set(tmp_path):
    folder = synthetic_faces.write_synthetic_celeba(tmp_path / "set", 8, 1, workers=1)
    synthetic_faces.write_synthetic_celeba(folder, 5, 1, workers=1)
    assert sorted(p.name for p in (folder / "img_align_celeba").iterdir()) == [
        f"{i:06d}.jpg" for i in range(1, 6)
    ]
    assert (folder / "list_attr_celeba.txt").read_text().splitlines()[0] == "5"
    assert synthetic_faces.is_complete(folder, 5, 1) and not synthetic_faces.is_complete(folder, 8, 1)


# ----------------------------------------------------------------------------------------------------------
# Ground truth and attributes
# ----------------------------------------------------------------------------------------------------------


def test_factors_file_matches_the_attribute_file(face_set, attribute_table):
    factors = synthetic_faces.load_factors(face_set)
    assert list(factors) == ["filename", *synthetic_faces.FACTOR_NAMES]
    assert list(factors["filename"]) == list(attribute_table[0])
    # The thresholds of the module docstring, checked against the file (not through attributes_from_factors).
    assert np.array_equal(_attribute(attribute_table, "Smiling"), factors["mouth_curvature"] > 0.35)
    assert np.array_equal(_attribute(attribute_table, "Mouth_Slightly_Open"), factors["mouth_opening"] > 0.35)
    assert np.array_equal(_attribute(attribute_table, "Eyeglasses"), factors["eyeglasses"] == 1)
    assert np.array_equal(_attribute(attribute_table, "Male"), factors["male"] == 1)
    assert np.array_equal(_attribute(attribute_table, "Young"), factors["age"] < 0.45)
    assert np.array_equal(_attribute(attribute_table, "Pale_Skin"), factors["skin_tone"] > 0.85)
    assert np.array_equal(_attribute(attribute_table, "Wearing_Hat"), factors["hat"] == 1)
    assert np.array_equal(_attribute(attribute_table, "No_Beard"), factors["beard_style"] == "none")
    bald = factors["hairline_recession"] > 0.85
    assert np.array_equal(_attribute(attribute_table, "Bald"), bald)
    for colour in ("black", "brown", "blond", "gray"):
        expected = (factors["hair_colour"] == colour) & ~bald
        assert np.array_equal(_attribute(attribute_table, f"{colour.capitalize()}_Hair"), expected)
    hair_labels = sum(
        _attribute(attribute_table, f"{c}_Hair").astype(int) for c in ("Black", "Brown", "Blond", "Gray")
    )
    assert hair_labels.max() == 1  # at most one hair colour per face
    # Every value in range, every row reproduced by the documented rules.
    assert np.all((factors["age"] >= 0) & (factors["age"] <= 1))
    assert np.all((factors["jpeg_quality"] >= 70) & (factors["jpeg_quality"] <= 95))
    assert np.all(np.abs(factors["rotation_deg"]) <= 4.0)


def test_correlations_are_built_in_as_documented(attribute_table):
    def has(name):
        return _attribute(attribute_table, name)

    male, female = has("Male"), ~has("Male")
    assert 0.3 < male.mean() < 0.55
    assert has("No_Beard")[female].all() and not has("Mustache")[female].any()
    assert not has("Goatee")[female].any() and not has("5_o_Clock_Shadow")[female].any()
    assert (~has("No_Beard"))[male].mean() > 0.2  # beards are common among men
    assert has("Wearing_Lipstick")[male].mean() < 0.05
    assert has("Wearing_Lipstick")[female].mean() > 0.6
    assert not has("Heavy_Makeup")[male].any()
    assert has("Heavy_Makeup").sum() > 30 and has("Wearing_Lipstick")[has("Heavy_Makeup")].all()
    gray = has("Gray_Hair")
    assert gray.sum() >= 5 and not has("Young")[gray].any()
    assert has("Young").mean() > 0.6
    assert has("Blond_Hair")[female].mean() > 2 * has("Blond_Hair")[male].mean()
    smiling, open_mouth = has("Smiling"), has("Mouth_Slightly_Open")
    assert open_mouth[smiling].mean() > open_mouth[~smiling].mean() + 0.25
    assert has("High_Cheekbones")[smiling].mean() > has("High_Cheekbones")[~smiling].mean() + 0.25


def _auc(score, positive):
    """Area under the ROC curve from ranks (Mann-Whitney)."""
    ranks = np.empty(len(score))
    ranks[np.argsort(score)] = np.arange(1, len(score) + 1)
    n_positive, n_negative = positive.sum(), (~positive).sum()
    return (ranks[positive].sum() - n_positive * (n_positive + 1) / 2) / (n_positive * n_negative)


@pytest.mark.parametrize("name, minimum_auc", [("Smiling", 0.80), ("Eyeglasses", 0.90), ("Blond_Hair", 0.95)])
def test_attributes_are_visible_to_a_linear_probe(loaded, name, minimum_auc):
    """Ridge regression on the raw 32x32 RGB pixels of 400 faces ranks 200 held-out faces by the attribute.

    Measured (seed 7): AUC 0.86 Smiling, 0.98 Eyeglasses, 0.99 Blond_Hair; the thresholds leave a margin.
    """
    pixels = loaded.images.reshape(len(loaded), -1).astype(np.float64) / 255.0
    n_train = 400
    standardized = (pixels - pixels[:n_train].mean(0)) / (pixels[:n_train].std(0) + 1e-3)
    train, held_out = standardized[:n_train], standardized[n_train:]
    positive = loaded.has(name)
    target = np.where(positive[:n_train], 1.0, -1.0)
    dual = np.linalg.solve(train @ train.T + 30.0 * np.eye(n_train), target - target.mean())
    score = held_out @ (train.T @ dual)
    assert _auc(score, positive[n_train:]) >= minimum_auc
    shuffled = np.random.default_rng(0).permutation(positive[n_train:])
    assert _auc(score, shuffled) < 0.7  # the same score knows nothing about shuffled labels


def test_celeba_loader_reads_the_set_as_synthetic(loaded, attribute_table, face_set):
    assert loaded.source.startswith("synthetic faces at")
    assert loaded.images.shape == (N_FACES, 32, 32, 3) and loaded.images.dtype == np.uint8
    assert list(loaded.filenames) == list(attribute_table[0])
    assert np.array_equal(loaded.attributes, attribute_table[1])
    for split, expected in zip(("train", "valid", "test"), synthetic_faces.partition_counts(N_FACES)):
        part = celeba.load_celeba(
            split, data_dir=face_set, image_size=32, cache_dir=loaded.cache_file.parent, progress=False
        )
        assert len(part) == expected
    # The pixels are the JPEG's centre crop: the mean colour of the first face agrees with a crop made here.
    with Image.open(face_set / "img_align_celeba/000001.jpg") as image:
        reference = np.asarray(
            image.convert("RGB").crop((15, 35, 163, 183)).resize((32, 32), Image.LANCZOS), dtype=np.float64
        )
    assert np.abs(loaded.images[0].astype(np.float64) - reference).mean() < 6.0


# ----------------------------------------------------------------------------------------------------------
# Cache and errors
# ----------------------------------------------------------------------------------------------------------


def test_ensure_draws_once_then_reuses(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("VAE_COURSE_ARTIFACTS", str(tmp_path))
    monkeypatch.setenv("VAE_COURSE_FAST", "1")
    folder = synthetic_faces.ensure_synthetic_celeba(n_images=5, seed=2, workers=1)
    assert folder == tmp_path / "synthetic_celeba_5_2"  # no "_fast": the set depends on (n, seed) only
    assert folder == synthetic_faces.default_synthetic_dir(5, 2)
    assert "Drawing 5 synthetic faces" in capsys.readouterr().out
    assert synthetic_faces.is_complete(folder, 5, 2)

    def must_not_draw(*args, **kwargs):
        raise AssertionError("a complete set was drawn again")

    monkeypatch.setattr(synthetic_faces, "write_synthetic_celeba", must_not_draw)
    assert synthetic_faces.ensure_synthetic_celeba(n_images=5, seed=2) == folder
    assert capsys.readouterr().out == ""
    (folder / synthetic_faces.MARKER_NAME).unlink()  # an interrupted set is drawn again
    with pytest.raises(AssertionError, match="drawn again"):
        synthetic_faces.ensure_synthetic_celeba(n_images=5, seed=2)


@pytest.mark.parametrize("n_images, seed", [(0, 1), (-3, 1), (2.5, 1), (True, 1), (5, -1), (5, 1.5)])
def test_bad_size_or_seed_is_refused(tmp_path, n_images, seed):
    with pytest.raises(ValueError, match="n_images|seed"):
        synthetic_faces.write_synthetic_celeba(tmp_path / "set", n_images, seed)
    with pytest.raises(ValueError, match="n_images|seed"):
        synthetic_faces.default_synthetic_dir(n_images, seed)
    assert not (tmp_path / "set").exists()


def test_a_file_in_the_way_and_a_missing_factors_file_are_explained(tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    with pytest.raises(ValueError, match="is a file"):
        synthetic_faces.write_synthetic_celeba(blocker, 2, 1)
    with pytest.raises(FileNotFoundError, match="ensure_synthetic_celeba"):
        synthetic_faces.load_factors(tmp_path)
