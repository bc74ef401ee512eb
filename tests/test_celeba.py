"""Tests of vae_course.celeba on small CelebA trees that the tests write.

Every fixture image is 178x218, like CelebA's aligned images: a blue border, a "face" rectangle of a colour
unique to the image (so a loaded image tells which file it came from), and a green square whose corner is at
the image centre (so the crop and the squash put it at known, different places).
"""

from __future__ import annotations

import io
import os
import pickle
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vae_course import celeba

WIDTH, HEIGHT = 178, 218
BORDER = (0, 0, 255)
GREEN = (0, 220, 0)
FACE_BOX = (5, 25, 173, 193)  # the crop box (15, 35, 163, 183) widened by 10 pixels on every side
GREEN_BOX = (89, 109, 129, 149)  # 40x40, top-left corner at the image centre
TOLERANCE = 40  # JPEG (chroma subsampling) and Lanczos ringing, on flat colours

# Official file names spanning the three official ranges; 000006.jpg is "valid" in the partition file we
# write, but "train" by the official index ranges, so the tests can tell which one was used.
NAMES = [f"{i:06d}.jpg" for i in (1, 2, 3, 4, 5, 6, 162771, 162772, 182638, 182639, 182640)]
PARTITION = {name: 0 for name in NAMES[:5]} | {"000006.jpg": 1, "162771.jpg": 1, "162772.jpg": 1}
PARTITION |= {name: 2 for name in NAMES[8:]}
SMILING = celeba.ATTRIBUTE_NAMES.index("Smiling")
MALE = celeba.ATTRIBUTE_NAMES.index("Male")


def face_colour(index: int) -> tuple[int, int, int]:
    """A colour unique to image ``index`` (channels at least 60 apart between images)."""
    return (40 + (index % 4) * 60, 40 + (index // 4) * 60, 130)


def expected_attributes(index: int) -> np.ndarray:
    row = np.zeros(len(celeba.ATTRIBUTE_NAMES), dtype=bool)
    row[SMILING] = index % 2 == 0
    row[MALE] = index % 3 == 0
    row[0] = index == 4
    return row


def jpeg_bytes(index: int, size: tuple[int, int] = (WIDTH, HEIGHT)) -> bytes:
    image = Image.new("RGB", size, BORDER)
    pixels = np.array(image)
    left, top, right, bottom = FACE_BOX
    pixels[top:bottom, left:right] = face_colour(index)
    left, top, right, bottom = GREEN_BOX
    pixels[top:bottom, left:right] = GREEN
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


def attribute_text(names=NAMES, kaggle: bool = False, order=None) -> str:
    """The attribute list of ``names``, rows in ``order`` (default: reversed, unlike the files)."""
    order = list(reversed(range(len(names)))) if order is None else order
    rows = []
    for i in order:
        values = ["1" if v else "-1" for v in expected_attributes(NAMES.index(names[i]))]
        rows.append(",".join([names[i], *values]) if kaggle else names[i] + " " + "  ".join(values))
    if kaggle:
        return "\n".join([",".join(["image_id", *celeba.ATTRIBUTE_NAMES]), *rows]) + "\n"
    return "\n".join([str(len(rows)), " ".join(celeba.ATTRIBUTE_NAMES) + " ", *rows]) + "\n"


def partition_text(names=NAMES, kaggle: bool = False) -> str:
    if kaggle:
        return "image_id,partition\n" + "".join(f"{n},{PARTITION[n]}\n" for n in names)
    return "".join(f"{n} {PARTITION[n]}\n" for n in names)


def write_tree(root: Path, layout: str = "official", names=NAMES, partition: bool = True) -> Path:
    """Write a CelebA tree of the given layout under ``root``; returns ``root``.

    Layouts: "official" (Img/, Anno/, Eval/), "flat" (what synthetic_faces writes), "kaggle",
    "img_align_celeba.zip" (images zipped, lists outside), "archive.zip" / "celeba-dataset.zip" (Kaggle
    archive with everything inside).
    """
    root.mkdir(parents=True, exist_ok=True)
    images = {name: jpeg_bytes(NAMES.index(name)) for name in names}
    kaggle = layout in ("kaggle", "archive.zip", "celeba-dataset.zip")
    lists = {
        "list_attr_celeba" + (".csv" if kaggle else ".txt"): attribute_text(names, kaggle),
    }
    if partition:
        lists["list_eval_partition" + (".csv" if kaggle else ".txt")] = partition_text(names, kaggle)
    if layout in ("official", "flat", "img_align_celeba.zip"):
        official = layout != "flat"
        for file_name, text in lists.items():
            folder = root / ("Anno" if "attr" in file_name else "Eval") if official else root
            folder.mkdir(exist_ok=True)
            (folder / file_name).write_text(text)
        if layout == "img_align_celeba.zip":
            (root / "Img").mkdir()
            with zipfile.ZipFile(root / "Img" / layout, "w") as archive:
                for name, data in images.items():
                    archive.writestr(f"img_align_celeba/{name}", data)
        else:
            folder = root / "Img" / "img_align_celeba" if official else root / "img_align_celeba"
            folder.mkdir(parents=True)
            for name, data in images.items():
                (folder / name).write_bytes(data)
    elif layout == "kaggle":
        folder = root / "img_align_celeba" / "img_align_celeba"
        folder.mkdir(parents=True)
        for name, data in images.items():
            (folder / name).write_bytes(data)
        for file_name, text in lists.items():
            (root / file_name).write_text(text)
    else:
        with zipfile.ZipFile(root / layout, "w") as archive:
            for name, data in images.items():
                archive.writestr(f"img_align_celeba/img_align_celeba/{name}", data)
            for file_name, text in lists.items():
                archive.writestr(file_name, text)
    return root


def image_dir(root: Path) -> Path:
    return next(p for p in root.rglob("img_align_celeba") if any(p.glob("*.jpg")))


def close_to(pixel, colour, tolerance=TOLERANCE) -> bool:
    return bool(np.all(np.abs(np.asarray(pixel, dtype=int) - np.asarray(colour)) <= tolerance))


@pytest.fixture(autouse=True)
def isolated_celeba(tmp_path, monkeypatch):
    """No test sees the user's CelebA, home folder or artifacts: all point into ``tmp_path``."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("VAE_COURSE_ARTIFACTS", str(tmp_path / "artifacts"))
    monkeypatch.delenv(celeba.CELEBA_DIR_ENV_VAR, raising=False)
    monkeypatch.delenv("VAE_COURSE_FAST", raising=False)
    return tmp_path


def load(root, split="all", **kwargs):
    kwargs.setdefault("image_size", 16)
    kwargs.setdefault("progress", False)
    return celeba.load_celeba(split, data_dir=root, **kwargs)


def check_joined_by_name(dataset) -> None:
    """Each loaded image has the colour and the attributes of the file named next to it."""
    for image, name, attributes in zip(dataset.images, dataset.filenames, dataset.attributes):
        index = NAMES.index(str(name))
        size = dataset.image_size
        assert close_to(image[size // 5, size // 5], face_colour(index)), (name, image[size // 5, size // 5])
        np.testing.assert_array_equal(attributes, expected_attributes(index))


# --------------------------------------------------------------------------------------------
# Constants, crop box, one image
# --------------------------------------------------------------------------------------------


def test_attribute_names_are_the_official_40_in_order():
    names = celeba.ATTRIBUTE_NAMES
    assert len(names) == 40 and len(set(names)) == 40
    assert names[:3] == ("5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive")
    assert names[20] == "Male" and names[31] == "Smiling" and names[-1] == "Young"
    assert list(names) == sorted(names)  # the official order happens to be alphabetical


def test_crop_box_is_the_central_148_square_of_celeba_and_scales():
    assert celeba.crop_box(178, 218) == (15.0, 35.0, 163.0, 183.0)
    left, top, right, bottom = celeba.crop_box(89, 109)
    assert right - left == pytest.approx(74.0) and bottom - top == pytest.approx(74.0)
    assert (left + right) / 2 == pytest.approx(44.5) and (top + bottom) / 2 == pytest.approx(54.5)


def test_load_image_puts_known_pixels_where_they_belong_crop_vs_squash(tmp_path):
    data = jpeg_bytes(1)
    cropped = celeba.load_image(io.BytesIO(data), image_size=64, crop=True)
    squashed = celeba.load_image(io.BytesIO(data), image_size=64, crop=False)
    assert cropped.shape == squashed.shape == (64, 64, 3) and cropped.dtype == np.uint8
    # Green square x, y in [89, 129): crop maps it to [(89-15)*64/148, (129-15)*64/148) = [32, 49.3);
    # squash to x in [32, 46.4) and y in [109*64/218, 149*64/218) = [32, 43.7).
    assert close_to(cropped[40, 40], GREEN) and close_to(squashed[38, 38], GREEN)
    assert close_to(cropped[47, 40], GREEN) and close_to(squashed[47, 40], face_colour(1))
    assert close_to(cropped[40, 47], GREEN) and close_to(squashed[40, 48], face_colour(1))
    assert close_to(cropped[20, 20], face_colour(1))
    (tmp_path / "face.jpg").write_bytes(data)
    np.testing.assert_array_equal(celeba.load_image(str(tmp_path / "face.jpg")), cropped)  # a path works too
    # The blue border lies outside the crop box: gone after the crop, visible at the edges after the squash.
    is_blue = np.all(np.abs(cropped.astype(int) - BORDER) <= 60, axis=-1)
    assert not is_blue.any()
    assert close_to(squashed[0, 32], BORDER) and close_to(squashed[63, 32], BORDER)
    assert close_to(squashed[32, 0], BORDER, 60)


def test_load_image_uses_draft_mode_without_moving_pixels():
    """A half-size JPEG decode (draft) gives the same picture as a full decode, within JPEG tolerance."""
    data = jpeg_bytes(2)
    small = celeba.load_image(io.BytesIO(data), image_size=32)
    full = np.asarray(
        Image.open(io.BytesIO(data))
        .convert("RGB")
        .resize((32, 32), Image.Resampling.LANCZOS, box=(15, 35, 163, 183))
    )
    assert np.abs(small.astype(int) - full).mean() < 3
    assert Image.open(io.BytesIO(data)).draft("RGB", (89, 109)) is not None  # the image can use draft mode


# --------------------------------------------------------------------------------------------
# Layouts
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["official", "flat", "kaggle"])
def test_folder_layouts_join_attributes_by_name(tmp_path, layout):
    root = write_tree(tmp_path / "celeba", layout)
    train = load(root, "train", image_size=24)
    assert train.filenames.tolist() == ["000001.jpg", "000002.jpg", "000003.jpg", "000004.jpg", "000005.jpg"]
    assert isinstance(train.images, np.memmap) and not train.images.flags.writeable
    assert train.images.dtype == np.uint8 and train.images.shape == (5, 24, 24, 3)
    assert train.attributes.dtype == bool and train.attributes.shape == (5, 40)
    assert train.attribute_names == celeba.ATTRIBUTE_NAMES and train.split == "train"
    check_joined_by_name(train)
    expected_kind = "Kaggle" if layout == "kaggle" else "official"
    assert train.source.startswith(f"CelebA ({expected_kind} layout) at ")
    assert str(root) in train.source and "index ranges" not in train.source
    layout_info = celeba.find_celeba(root)
    assert layout_info is not None and layout_info.layout == expected_kind and not layout_info.synthetic


@pytest.mark.parametrize("zip_name", ["img_align_celeba.zip", "archive.zip", "celeba-dataset.zip"])
def test_zipped_images_are_read_from_the_zip_and_match_the_folder(tmp_path, zip_name):
    zipped = load(write_tree(tmp_path / "zipped", zip_name), "all")
    folder = load(write_tree(tmp_path / "folder", "official"), "all")
    assert not any(p.suffix == ".jpg" for p in (tmp_path / "zipped").rglob("*"))  # nothing was extracted
    np.testing.assert_array_equal(zipped.filenames, folder.filenames)
    np.testing.assert_array_equal(zipped.images, folder.images)  # the same JPEG bytes, the same pixels
    np.testing.assert_array_equal(zipped.attributes, folder.attributes)
    assert zip_name in zipped.source
    kind = "official" if zip_name == "img_align_celeba.zip" else "Kaggle"
    assert zipped.source.startswith(f"CelebA ({kind} layout) at {tmp_path / 'zipped'}")
    check_joined_by_name(zipped)


def test_splits_come_from_the_partition_file(tmp_path):
    root = write_tree(tmp_path / "celeba")
    valid = load(root, "valid")
    test = load(root, "test")
    assert valid.filenames.tolist() == ["000006.jpg", "162771.jpg", "162772.jpg"]
    assert test.filenames.tolist() == ["182638.jpg", "182639.jpg", "182640.jpg"]
    assert len(load(root, "all")) == len(NAMES)
    check_joined_by_name(valid)


def test_missing_partition_file_uses_the_official_index_ranges_and_says_so(tmp_path):
    root = write_tree(tmp_path / "celeba", partition=False)
    train = load(root, "train")
    valid = load(root, "valid")
    assert train.filenames.tolist() == [f"{i:06d}.jpg" for i in range(1, 7)]  # 000006 is train by the ranges
    assert valid.filenames.tolist() == ["162771.jpg", "162772.jpg"]
    assert "no list_eval_partition file" in train.source and "162771-182637" in train.source
    assert celeba.find_celeba(root).partition is None
    lines = (root / "Anno" / "list_attr_celeba.txt").read_text().splitlines()
    lines[2] = lines[2].replace("182640.jpg", "face_a.jpg")
    (root / "Anno" / "list_attr_celeba.txt").write_text("\n".join(lines))
    with pytest.raises(celeba.CelebAFormatError, match="face_a.jpg .* not an official CelebA file name"):
        load(root, "train")


def test_limit_takes_the_first_images_of_the_split_in_file_name_order(tmp_path):
    root = write_tree(tmp_path / "celeba")
    first = load(root, "test", limit=2)
    assert first.filenames.tolist() == ["182638.jpg", "182639.jpg"]
    check_joined_by_name(first)
    assert len(load(root, "train", limit=100)) == 5


def test_synthetic_set_is_named_as_such(tmp_path):
    root = write_tree(tmp_path / "synthetic", "flat")
    (root / celeba.SYNTHETIC_MARKER).write_text("filename,smile\n")
    faces = load(root, "train")
    assert faces.source == f"synthetic faces at {root}"
    assert celeba.find_celeba(root).synthetic


def test_search_order_env_var_then_default_folder(tmp_path, monkeypatch):
    assert celeba.find_celeba() is None
    default = celeba.default_celeba_dir()
    assert default == tmp_path / "home" / "datasets" / "celeba"
    write_tree(default / "deep" / "down", "kaggle")  # found recursively, 2 levels below the default
    assert celeba.find_celeba().root == default / "deep" / "down"
    env_root = write_tree(tmp_path / "env_celeba", "official")
    monkeypatch.setenv(celeba.CELEBA_DIR_ENV_VAR, str(env_root))
    assert celeba.find_celeba().root == env_root
    assert str(env_root) in load(None, "train").source
    # Two copies below one place are never mixed: each image folder is paired with its own lists.
    both = tmp_path / "both"
    synthetic = write_tree(both / "a_synthetic", "flat", names=NAMES[:4])
    (synthetic / celeba.SYNTHETIC_MARKER).write_text("filename\n")
    write_tree(both / "b_real" / "nested", "flat")
    (synthetic / "list_attr_celeba.txt").rename(both / "list_attr_celeba.txt")  # now nearer to the top
    found = celeba.find_celeba(both)
    assert found.images_dir == both / "a_synthetic" / "img_align_celeba"
    assert found.attributes.path == both / "list_attr_celeba.txt"
    (both / "list_attr_celeba.txt").rename(synthetic / "list_attr_celeba.txt")
    found = celeba.find_celeba(both)
    assert found.attributes.path == synthetic / "list_attr_celeba.txt" and found.synthetic
    assert found.partition.path == synthetic / "list_eval_partition.txt"
    too_deep = write_tree(tmp_path / "nest" / "a" / "b" / "c" / "d", "kaggle")
    assert celeba.find_celeba(tmp_path / "nest") is None and celeba.find_celeba(too_deep) is not None


# --------------------------------------------------------------------------------------------
# FaceDataset helpers
# --------------------------------------------------------------------------------------------


def test_has_returns_the_attribute_column_and_rejects_unknown_names(tmp_path):
    faces = load(write_tree(tmp_path / "celeba"), "all")
    indices = [NAMES.index(str(name)) for name in faces.filenames]
    np.testing.assert_array_equal(faces.has("Smiling"), [i % 2 == 0 for i in indices])
    np.testing.assert_array_equal(faces.has("Male"), [i % 3 == 0 for i in indices])
    assert faces.has("Smiling").dtype == bool and faces.has("Smiling").shape == (len(NAMES),)
    with pytest.raises(ValueError, match=r"'smiling'.*Did you mean 'Smiling'.*5_o_Clock_Shadow, .*Young"):
        faces.has("smiling")


def test_batches_are_float32_in_unit_range_and_cover_every_image_once(tmp_path):
    faces = load(write_tree(tmp_path / "celeba"), "all")
    batches = list(faces.batches(batch_size=4))
    assert [b.shape for b in batches] == [(4, 16, 16, 3), (4, 16, 16, 3), (3, 16, 16, 3)]
    assert all(b.dtype == np.float32 for b in batches)
    np.testing.assert_array_equal(np.concatenate(batches), faces.images / np.float32(255))
    shuffled = np.concatenate(list(faces.batches(4, shuffle=True, seed=3)))
    again = np.concatenate(list(faces.batches(4, shuffle=True, seed=3)))
    np.testing.assert_array_equal(shuffled, again)
    assert not np.array_equal(shuffled, np.concatenate(batches))

    def as_sorted_bytes(images):
        return sorted(map(bytes, (images * 255).round().astype(np.uint8)))

    assert as_sorted_bytes(shuffled) == as_sorted_bytes(np.concatenate(batches))  # the same images, once each
    assert 0.0 <= shuffled.min() and shuffled.max() <= 1.0 and shuffled.max() > 0.8
    with pytest.raises(ValueError, match="batch_size"):
        next(faces.batches(0))


def test_keras_dataset_feeds_model_fit(tmp_path):
    import keras

    faces = load(write_tree(tmp_path / "celeba"), "all", image_size=8)
    sequence = faces.as_keras_dataset(batch_size=4, seed=0)
    assert isinstance(sequence, keras.utils.PyDataset) and isinstance(sequence, celeba.FaceSequence)
    assert len(sequence) == 3 and sequence[2].shape == (3, 8, 8, 3) and sequence[0].dtype == np.float32
    epoch_one = np.concatenate([sequence[i] for i in range(len(sequence))])
    sequence.on_epoch_end()
    epoch_two = np.concatenate([sequence[i] for i in range(len(sequence))])
    assert not np.array_equal(epoch_one, epoch_two) and np.isclose(epoch_one.sum(), epoch_two.sum())
    with pytest.raises(IndexError):
        sequence[3]
    pairs = faces.as_keras_dataset(batch_size=4, shuffle=False, with_targets=True)
    x, y = pairs[0]
    np.testing.assert_array_equal(x, faces.images[:4] / np.float32(255))
    np.testing.assert_array_equal(x, y)
    restored = pickle.loads(pickle.dumps(pairs))  # worker processes get the memmap's file name, not a copy
    assert isinstance(restored.images, np.memmap)
    np.testing.assert_array_equal(restored[1][0], pairs[1][0])

    layers = [keras.layers.Flatten(), keras.layers.Dense(8 * 8 * 3), keras.layers.Reshape((8, 8, 3))]
    model = keras.Sequential([keras.Input((8, 8, 3)), *layers])
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(pairs, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and np.isfinite(history.history["loss"]).all()


# --------------------------------------------------------------------------------------------
# The cache
# --------------------------------------------------------------------------------------------


def counting_decoder(monkeypatch):
    calls = []
    original = celeba.load_image

    def decoder(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(celeba, "load_image", decoder)
    return calls


def test_cache_is_written_once_in_the_artifacts_folder_and_memory_mapped(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_COURSE_FAST", "1")  # the cache has no _fast variant: pixels do not depend on it
    root = write_tree(tmp_path / "celeba")
    first = load(root, "train")
    cache_folder = tmp_path / "artifacts" / "celeba_cache"
    assert first.cache_file.parent == cache_folder and "_fast" not in first.cache_file.name
    assert sorted(p.suffix for p in cache_folder.iterdir()) == [".npy", ".npz"]  # no temporary files left
    np.testing.assert_array_equal(np.load(first.cache_file), first.images)

    def refuse(*args, **kwargs):
        raise AssertionError("the cache should have been used")

    monkeypatch.setattr(celeba, "load_image", refuse)
    second = load(root, "train")
    assert second.cache_file == first.cache_file and isinstance(second.images, np.memmap)
    np.testing.assert_array_equal(second.images, first.images)
    np.testing.assert_array_equal(second.attributes, first.attributes)
    assert second.source == first.source
    with pytest.raises(AssertionError, match="cache should have been used"):
        load(root, "train", image_size=17)  # another size is another cache entry


def touch_later(path: Path) -> None:
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))


def test_cache_is_invalidated_when_a_source_changes(tmp_path, monkeypatch):
    root = write_tree(tmp_path / "celeba", "flat")
    calls = counting_decoder(monkeypatch)
    first = load(root, "train")
    assert len(calls) == 5

    # The attribute file changes: image 000002 is now Male.
    attribute_file = root / "list_attr_celeba.txt"
    text = attribute_file.read_text().splitlines()
    row = next(i for i, line in enumerate(text) if line.startswith("000002.jpg"))
    values = text[row].split()
    values[1 + MALE] = "1"
    text[row] = " ".join(values)
    attribute_file.write_text("\n".join(text) + "\n")
    touch_later(attribute_file)
    second = load(root, "train")
    assert len(calls) == 10 and second.has("Male")[1] and not first.has("Male")[1]
    assert not first.cache_file.exists()  # the outdated entry was deleted

    # One image is replaced in place (its folder's listing does not change).
    (root / "img_align_celeba" / "000003.jpg").write_bytes(jpeg_bytes(7))
    touch_later(root / "img_align_celeba" / "000003.jpg")
    third = load(root, "train")
    assert len(calls) == 15 and close_to(third.images[2, 3, 3], face_colour(7))

    load(root, "train")
    assert len(calls) == 15


def test_zip_change_invalidates_the_cache(tmp_path, monkeypatch):
    root = write_tree(tmp_path / "celeba", "archive.zip")
    calls = counting_decoder(monkeypatch)
    load(root, "valid")
    load(root, "valid")
    assert len(calls) == 3
    touch_later(root / "archive.zip")
    load(root, "valid")
    assert len(calls) == 6


def test_interrupted_preparation_leaves_no_cache(tmp_path, monkeypatch):
    root = write_tree(tmp_path / "celeba")
    original = celeba.load_image
    calls = []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(celeba, "load_image", interrupted)
    with pytest.raises(KeyboardInterrupt):
        load(root, "all", workers=1)
    cache_folder = tmp_path / "artifacts" / "celeba_cache"
    assert list(cache_folder.iterdir()) == []
    monkeypatch.setattr(celeba, "load_image", original)
    check_joined_by_name(load(root, "all"))


def test_progress_bar_is_shown_while_preparing(tmp_path, capsys):
    root = write_tree(tmp_path / "celeba")
    celeba.load_celeba("train", data_dir=root, image_size=8)
    shown = capsys.readouterr()
    # on stdout: JupyterLab paints stderr as an error block
    assert "Preparing CelebA train (8x8, crop)" in shown.out and shown.err == ""
    celeba.load_celeba("train", data_dir=root, image_size=8)
    assert "Preparing" not in capsys.readouterr().out  # no bar when the cache is read


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


def test_explicit_data_dir_without_celeba_never_falls_back(tmp_path, monkeypatch):
    monkeypatch.setenv(celeba.CELEBA_DIR_ENV_VAR, str(write_tree(tmp_path / "real")))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(celeba.CelebANotFoundError, match="no other place was searched") as error:
        load(empty)
    assert str(empty) in str(error.value) and str(tmp_path / "real") not in str(error.value)
    assert isinstance(error.value, FileNotFoundError)
    with pytest.raises(celeba.CelebANotFoundError, match="does not exist"):
        load(tmp_path / "nowhere")
    assert celeba.find_celeba(empty) is None


def test_nothing_found_lists_every_place_and_how_to_get_celeba(tmp_path, monkeypatch):
    env_folder = tmp_path / "env_folder"
    env_folder.mkdir()
    (env_folder / "notes.txt").write_text("nothing here")
    with pytest.raises(celeba.CelebANotFoundError) as error:
        load(None)
    message = str(error.value)
    assert f"${celeba.CELEBA_DIR_ENV_VAR}: not set" in message
    assert str(tmp_path / "home" / "datasets" / "celeba") in message
    assert "kaggle datasets download -d jessicali9530/celeba-dataset" in message
    assert "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html" in message
    assert "img_align_celeba/img_align_celeba/" in message and "archive.zip" in message
    assert "synthetic_faces.ensure_synthetic_celeba()" in message
    monkeypatch.setenv(celeba.CELEBA_DIR_ENV_VAR, str(env_folder))
    with pytest.raises(celeba.CelebANotFoundError, match=f"{env_folder}.*no CelebA files"):
        load(None)


def test_images_without_attribute_file_and_attributes_without_images(tmp_path):
    root = write_tree(tmp_path / "celeba", "flat")
    (root / "list_attr_celeba.txt").rename(tmp_path / "moved.txt")
    with pytest.raises(celeba.CelebANotFoundError, match="no attribute file"):
        load(root)
    (tmp_path / "moved.txt").rename(root / "list_attr_celeba.txt")
    for image in (root / "img_align_celeba").iterdir():
        image.unlink()
    with pytest.raises(celeba.CelebANotFoundError, match="list_attr_celeba.txt but no images"):
        load(root)


def write_flat_tree_with_attributes(tmp_path, text: str) -> Path:
    root = write_tree(tmp_path / "celeba", "flat")
    (root / "list_attr_celeba.txt").write_text(text)
    return root


def good_lines() -> list[str]:
    return attribute_text().splitlines()


@pytest.mark.parametrize(
    "edit, pattern",
    [
        (lambda lines: ["two hundred", *lines[1:]], r"line 1: expected the number of images"),
        (lambda lines: ["12", *lines[1:]], r"line 1: says 12 images but the file has 11 rows"),
        (lambda lines: [lines[0], lines[1].replace("Smiling", "Smiles"), *lines[2:]], r"line 2: .*'Smiling'"),
        (
            lambda lines: [*lines[:5], lines[5].rsplit(" ", 1)[0], *lines[6:]],
            r"line 6: expected a file name and 40",
        ),
        (
            lambda lines: [*lines[:3], lines[3].replace("-1", "0", 1), *lines[4:]],
            r"line 4: .*1 or -1, found '0'",
        ),
        (lambda lines: [*lines[:7], lines[7].replace("-1", "x1", 1), *lines[8:]], r"line 8: .*found 'x1'"),
        (
            lambda lines: [lines[0], lines[1], lines[2], lines[2], *lines[4:]],
            r"line 4: 182640.jpg is listed twice \(first on line 3\)",
        ),
    ],
    ids=[
        "count-not-a-number",
        "count-wrong",
        "header",
        "short-row",
        "bad-value",
        "not-a-number",
        "duplicate",
    ],
)
def test_attribute_file_errors_give_the_line(tmp_path, edit, pattern):
    root = write_flat_tree_with_attributes(tmp_path, "\n".join(edit(good_lines())) + "\n")
    with pytest.raises(celeba.CelebAFormatError, match=pattern) as error:
        load(root)
    assert "list_attr_celeba.txt" in str(error.value) and isinstance(error.value, ValueError)


def test_attribute_columns_are_matched_by_name(tmp_path):
    """A file whose columns come in another order gives the same attributes, in the official order."""
    lines = good_lines()
    swapped = []
    for line in lines[1:]:
        tokens = line.split()
        first = 1 if tokens[0].endswith(".jpg") else 0  # the header has no file name
        tokens[first + SMILING], tokens[first + MALE] = tokens[first + MALE], tokens[first + SMILING]
        swapped.append(" ".join(tokens))
    path = tmp_path / "list_attr_celeba.txt"
    path.write_text("\n".join([lines[0], *swapped]) + "\n")
    names, attributes = celeba.read_attribute_file(path)
    assert names == list(reversed(NAMES))  # the file's order, as written
    np.testing.assert_array_equal(attributes, [expected_attributes(NAMES.index(n)) for n in names])


def test_kaggle_csv_header_and_row_errors(tmp_path):
    root = write_tree(tmp_path / "celeba", "kaggle")
    lines = (root / "list_attr_celeba.csv").read_text().splitlines()
    (root / "list_attr_celeba.csv").write_text("\n".join(["file," + lines[0].split(",", 1)[1], *lines[1:]]))
    with pytest.raises(celeba.CelebAFormatError, match=r"list_attr_celeba.csv, line 1: .*'image_id'"):
        load(root)
    (root / "list_attr_celeba.csv").write_text("\n".join([*lines[:3], lines[3] + ",1", *lines[4:]]))
    with pytest.raises(
        celeba.CelebAFormatError, match=r"line 4: expected a file name and 40 values, found 42"
    ):
        load(root)


def test_partition_file_errors(tmp_path):
    root = write_tree(tmp_path / "celeba", "flat")
    partition_file = root / "list_eval_partition.txt"
    lines = partition_file.read_text().splitlines()
    partition_file.write_text("\n".join([*lines[:2], "000003.jpg 5", *lines[3:]]))
    with pytest.raises(celeba.CelebAFormatError, match=r"list_eval_partition.txt, line 3: .*0, 1 or 2"):
        load(root)
    partition_file.write_text("\n".join(lines[:-1]))
    with pytest.raises(celeba.CelebAFormatError, match=r"do not list the same images: 1 .*182640.jpg"):
        load(root)


def test_images_listed_but_missing_on_disk(tmp_path):
    root = write_tree(tmp_path / "celeba", "official")
    for name in ("000002.jpg", "000004.jpg"):
        (image_dir(root) / name).unlink()
    with pytest.raises(
        celeba.CelebAMissingImagesError, match=r"2 of the 5 images .* 000002.jpg, 000004.jpg"
    ) as error:
        load(root, "train")
    assert str(image_dir(root)) in str(error.value) and isinstance(error.value, FileNotFoundError)
    assert len(load(root, "test")) == 3  # the other splits are complete


def test_html_page_instead_of_the_zip_points_to_kaggle(tmp_path):
    root = tmp_path / "celeba"
    write_tree(root, "img_align_celeba.zip")
    page = b"<!DOCTYPE html><html><head><title>Google Drive - Quota exceeded</title></head></html>"
    (root / "Img" / "img_align_celeba.zip").write_bytes(page)
    with pytest.raises(celeba.CelebAHtmlPageError, match="Google Drive.*kaggle datasets download") as error:
        load(root)
    assert "img_align_celeba.zip" in str(error.value)
    (root / "Img" / "img_align_celeba.zip").write_bytes(b"PK\x03\x04 broken zip")
    with pytest.raises(celeba.CelebAFormatError, match="not a readable zip"):
        load(root)


def test_html_page_instead_of_an_image_or_a_list(tmp_path):
    root = write_tree(tmp_path / "celeba", "flat")
    (root / "img_align_celeba" / "000003.jpg").write_bytes(b"\n<html><body>Too many users</body></html>")
    with pytest.raises(celeba.CelebAHtmlPageError, match=r"000003.jpg should be a JPEG.*Google Drive"):
        load(root)
    (root / "list_attr_celeba.txt").write_text("<!DOCTYPE html>\n<html></html>\n")
    with pytest.raises(
        celeba.CelebAHtmlPageError, match=r"list_attr_celeba.txt should be the attribute list"
    ):
        load(root)


def test_truncated_jpeg_is_an_error_or_skipped_with_a_warning(tmp_path):
    root = write_tree(tmp_path / "celeba", "flat")
    bad = root / "img_align_celeba" / "000004.jpg"
    bad.write_bytes(bad.read_bytes()[:600])
    with pytest.raises(celeba.CelebABadImageError, match=r"000004.jpg.*truncated.*skip_bad_images=True"):
        load(root, "train")
    assert list((tmp_path / "artifacts" / "celeba_cache").iterdir()) == []
    for attempt in range(2):  # the second load reads the cache and warns again: nothing is dropped silently
        with pytest.warns(
            celeba.CelebABadImageWarning, match=r"1 unreadable image\(s\).*000004.jpg.*has 4 images"
        ):
            faces = load(root, "train", skip_bad_images=True)
        assert faces.filenames.tolist() == ["000001.jpg", "000002.jpg", "000003.jpg", "000005.jpg"]
        assert faces.skipped == ("000004.jpg",) and faces.images.shape[0] == 4
        check_joined_by_name(faces)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(load(root, "test", skip_bad_images=True)) == 3  # no warning when nothing is skipped


def test_arguments_are_checked(tmp_path):
    root = write_tree(tmp_path / "celeba")
    with pytest.raises(ValueError, match="split must be one of"):
        load(root, "validation")
    with pytest.raises(ValueError, match="image_size"):
        load(root, image_size=0)
    with pytest.raises(ValueError, match="limit"):
        load(root, limit=0)


def test_threads_give_the_same_pixels_as_one_thread(tmp_path):
    root = write_tree(tmp_path / "celeba")
    start = time.perf_counter()
    threaded = load(root, "all", workers=4, cache_dir=tmp_path / "threads")
    single = load(root, "all", workers=1, cache_dir=tmp_path / "single")
    np.testing.assert_array_equal(threaded.images, single.images)
    assert time.perf_counter() - start < 10
