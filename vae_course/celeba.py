"""Real CelebA: find it, check it, crop and resize it once into a cache, and load it memory-mapped.

CelebA (https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html) has 202,599 aligned 178x218 face photos,
each with 40 binary attributes, and an official train/valid/test split. ``load_celeba`` reads it, and
it reads the synthetic stand-in of ``vae_course.synthetic_faces`` through exactly the same code,
because that set is written in CelebA's official layout.

Quick start::

    from vae_course import celeba
    train = celeba.load_celeba("train", limit=20_000)   # FaceDataset: uint8 (N, 64, 64, 3), memory-mapped
    model.fit(train.as_keras_dataset(batch_size=128), epochs=10)

Where the files are looked for, in order (the first place that has them wins):

1. the ``data_dir`` argument (then nothing else is searched: an explicit folder is never replaced);
2. ``$VAE_COURSE_CELEBA_DIR``;
3. the default folder ``~/datasets/celeba`` (``DEFAULT_CELEBA_DIR``).

Inside a place the files are searched for recursively, at most ``MAX_SEARCH_DEPTH`` folders deep. Layouts:

- official (Google Drive): ``img_align_celeba/`` (possibly under ``Img/``), ``list_attr_celeba.txt``
  (possibly under ``Anno/``) and ``list_eval_partition.txt`` (possibly under ``Eval/``);
- Kaggle (``kaggle datasets download -d jessicali9530/celeba-dataset``): ``list_attr_celeba.csv``,
  ``list_eval_partition.csv`` and the images in ``img_align_celeba/img_align_celeba/``;
- the images still zipped: ``img_align_celeba.zip`` (official) or Kaggle's ``archive.zip`` /
  ``celeba-dataset.zip``. The JPEGs (and the attribute and partition files, if they are only in the zip) are
  read straight from the zip: there is no need to extract 1.3 GB first.

Attributes are joined to images by file name, never by listing order. Without a partition file the official
index ranges are used (train 000001-162770, valid 162771-182637, test 182638-202599) and
``FaceDataset.source`` says so.

Preprocessing (``load_image``): the face-centred square ``crop_box(width, height)`` is cut out and resized
to ``image_size`` with Lanczos antialiasing. For CelebA's 178x218 images the box is the central 148x148
square ``(left, top, right, bottom) = (15, 35, 163, 183)``: the alignment puts the eyes at y = 111, just
below the image centre (y = 109), so the square holds the face from forehead to chin with little background,
and the face keeps its proportions. ``crop=False`` squashes the whole 178x218 image into the square instead,
as the book does, which makes faces wider than they are. JPEGs are decoded in draft mode (libjpeg's own
1/2, 1/4, 1/8 scaling) whenever the reduced image still has at least ``image_size`` pixels across the crop:
at 64x64 that cuts the CPU time per image by about a third (about 0.4 ms per image on one core). Decoding
runs on threads (Pillow releases the GIL while it decodes and resizes, about 80% of the work).

The cache: the first load of a (source, split, size, crop, limit) decodes the images once, on all cores
and with a progress bar, into a uint8 ``.npy`` file in ``<artifacts folder>/celeba_cache/`` (the artifacts
folder is ``$VAE_COURSE_ARTIFACTS`` or ``~/.cache/vae_course``; the cache has no ``_fast`` variant because
its content does not depend on FAST mode: FAST lessons ask for a smaller ``limit``, which is its own cache
entry). The file name holds a hash of the paths, sizes and modification times of the attribute, partition
and zip files or image folder, plus the split, size, crop and limit; for an image folder, the sizes and
modification times of the selected JPEGs are checked too. So a changed source is never served stale, and an
outdated cache file is deleted when its replacement is written. Files are written to a temporary name and
renamed when complete, so an interrupted preparation never leaves a half cache. Later loads memory-map the
file (``np.load(..., mmap_mode="r")``): a 162,770-image training set at 64x64 is 2 GB on disk but costs
no memory until read.

Training: ``FaceDataset.as_keras_dataset(batch_size, shuffle=True, seed=None)`` is a ``keras.utils.PyDataset``
for ``model.fit``; ``FaceDataset.batches(batch_size, shuffle, seed)`` is a plain generator. Both convert one
batch at a time to float32 in [0, 1]; the float32 copy of the whole set is never made.

Errors are ``CelebAError`` subclasses that name the file or folder and say what to do:
``CelebANotFoundError`` (a ``FileNotFoundError``: nothing found; ``CelebAMissingImagesError``: images
listed but missing) and ``CelebAFormatError`` (a ``ValueError``: a malformed attribute or partition file
with its line number; ``CelebAHtmlPageError``: an HTML page instead of data; ``CelebABadImageError``: a
truncated or corrupt JPEG). Unreadable images skipped with ``skip_bad_images=True`` raise a
``CelebABadImageWarning`` that names them, at every load.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import posixpath
import sys
import threading
import time
import warnings
import zipfile
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image

from vae_course import config

ATTRIBUTE_NAMES: tuple[str, ...] = (
    "5_o_Clock_Shadow",
    "Arched_Eyebrows",
    "Attractive",
    "Bags_Under_Eyes",
    "Bald",
    "Bangs",
    "Big_Lips",
    "Big_Nose",
    "Black_Hair",
    "Blond_Hair",
    "Blurry",
    "Brown_Hair",
    "Bushy_Eyebrows",
    "Chubby",
    "Double_Chin",
    "Eyeglasses",
    "Goatee",
    "Gray_Hair",
    "Heavy_Makeup",
    "High_Cheekbones",
    "Male",
    "Mouth_Slightly_Open",
    "Mustache",
    "Narrow_Eyes",
    "No_Beard",
    "Oval_Face",
    "Pale_Skin",
    "Pointy_Nose",
    "Receding_Hairline",
    "Rosy_Cheeks",
    "Sideburns",
    "Smiling",
    "Straight_Hair",
    "Wavy_Hair",
    "Wearing_Earrings",
    "Wearing_Hat",
    "Wearing_Lipstick",
    "Wearing_Necklace",
    "Wearing_Necktie",
    "Young",
)
"""The 40 CelebA attribute names, in the official order (the columns of ``FaceDataset.attributes``)."""

SPLITS = ("train", "valid", "test", "all")
PARTITION_CODES = {"train": 0, "valid": 1, "test": 2}
"""The split numbers used in ``list_eval_partition.txt``."""
OFFICIAL_SPLIT_RANGES = {"train": (1, 162_770), "valid": (162_771, 182_637), "test": (182_638, 202_599)}
"""Image numbers (inclusive) of each split, used when no partition file is found."""

CELEBA_DIR_ENV_VAR = "VAE_COURSE_CELEBA_DIR"
DEFAULT_CELEBA_DIR = Path("~/datasets/celeba")
"""The default folder (``~`` is the home folder): put CelebA here, zipped or extracted, in any layout."""
MAX_SEARCH_DEPTH = 3
"""How many folders deep the files are searched for below each place."""

IMAGE_FOLDER_NAME = "img_align_celeba"
ATTRIBUTE_FILE_NAMES = ("list_attr_celeba.txt", "list_attr_celeba.csv")
PARTITION_FILE_NAMES = ("list_eval_partition.txt", "list_eval_partition.csv")
ZIP_FILE_NAMES = ("img_align_celeba.zip", "archive.zip", "celeba-dataset.zip")
SYNTHETIC_MARKER = "factors.csv"
"""A file that ``vae_course.synthetic_faces`` writes next to the attribute file: the set is synthetic."""

ALIGNED_WIDTH, ALIGNED_HEIGHT = 178, 218
CROP_SIZE = 148
"""Side of the face-centred square cut from a 178x218 image (scaled in proportion for other widths)."""

CACHE_SUBFOLDER = "celeba_cache"
CACHE_VERSION = 1
"""Part of the cache key: bump it when the preprocessing changes, so old caches are not reused."""

KAGGLE_COMMAND = "kaggle datasets download -d jessicali9530/celeba-dataset"
OFFICIAL_PAGE = "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html"

_IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")
_ATTRIBUTE_VALUES = {"1": True, "-1": False}


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class CelebAError(Exception):
    """Base class of the errors of this module."""


class CelebANotFoundError(CelebAError, FileNotFoundError):
    """No CelebA was found where it was looked for (the message lists the places and how to get it)."""


class CelebAMissingImagesError(CelebANotFoundError):
    """Images listed in the attribute file are not on disk (or not in the zip)."""


class CelebAFormatError(CelebAError, ValueError):
    """A CelebA file is not in the expected format (the message names the file and, if it can, the line)."""


class CelebAHtmlPageError(CelebAFormatError):
    """A file that should be a zip, an image or a list is an HTML page (usually Google Drive's quota page)."""


class CelebABadImageError(CelebAFormatError):
    """An image could not be decoded: the JPEG is truncated or corrupt."""


class CelebABadImageWarning(UserWarning):
    """Unreadable images were left out because ``skip_bad_images=True`` (the warning lists them)."""


def _how_to_get_celeba() -> str:
    default = DEFAULT_CELEBA_DIR
    return (
        "How to get CelebA (1.4 GB):\n"
        f"  - from Kaggle: {KAGGLE_COMMAND} -p {default}\n"
        "    (needs a Kaggle account and API token; keep the zip as it is or unzip it there), or download\n"
        "    'archive.zip' from https://www.kaggle.com/datasets/jessicali9530/celeba-dataset;\n"
        f"  - from the official page {OFFICIAL_PAGE} (Google Drive):\n"
        "    Img/img_align_celeba.zip, Anno/list_attr_celeba.txt and Eval/list_eval_partition.txt.\n"
        "Layouts accepted (searched up to "
        f"{MAX_SEARCH_DEPTH} folders deep): official (img_align_celeba/, list_attr_celeba.txt,\n"
        "list_eval_partition.txt, also under Img/, Anno/, Eval/),\n"
        "Kaggle (img_align_celeba/img_align_celeba/,"
        "list_attr_celeba.csv, list_eval_partition.csv), or the images still zipped\n"
        f"({', '.join(ZIP_FILE_NAMES)}) next to the lists or with them inside.\n"
        "Then call load_celeba() again, or say where it is:"
        f" load_celeba(data_dir=...) or ${CELEBA_DIR_ENV_VAR}.\n"
        "No download possible? Make the synthetic stand-in (same layout, known attributes):\n"
        "    from vae_course import synthetic_faces\n"
        "    folder = synthetic_faces.ensure_synthetic_celeba()\n"
        "    faces = load_celeba('train', data_dir=folder)"
    )


def _html_quota_message(path_text: str, what: str) -> str:
    return (
        f"{path_text} should be {what} but is an HTML page: this is almost certainly Google Drive's "
        "'download quota exceeded' (or virus-scan warning) page, saved under the file's name. "
        f"Delete it and download CelebA from Kaggle instead: {KAGGLE_COMMAND} "
        "(or 'archive.zip' from https://www.kaggle.com/datasets/jessicali9530/celeba-dataset)."
    )


def _looks_like_html(head: bytes) -> bool:
    start = head.lstrip()[:512].lower()
    return start.startswith((b"<!doctype html", b"<html", b"<head", b"<?xml")) or b"<html" in start


# --------------------------------------------------------------------------------------------
# Files on disk or inside a zip
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceFile:
    """A file on disk (``member`` is None) or a member of the zip file ``path``."""

    path: Path
    member: str | None = None

    @property
    def name(self) -> str:
        return posixpath.basename(self.member) if self.member else self.path.name

    def __str__(self) -> str:
        return f"{self.path} (inside the zip: {self.member})" if self.member else str(self.path)

    def read_bytes(self) -> bytes:
        if self.member is None:
            return self.path.read_bytes()
        with _open_zip(self.path) as archive:
            return archive.read(self.member)


@dataclass(frozen=True)
class CelebALayout:
    """Where one copy of CelebA (or of the synthetic set) was found.

    ``images_dir`` is the folder holding the JPEGs, or None when they are read from ``images_zip``
    (inside it, from the folder ``images_zip_folder``, "" for the zip's top level).
    ``partition`` is None when no partition file was found (then the official index ranges are used).
    ``synthetic`` is True for the set written by ``vae_course.synthetic_faces``.
    """

    root: Path
    layout: str
    images_dir: Path | None
    images_zip: Path | None
    images_zip_folder: str
    attributes: SourceFile
    partition: SourceFile | None
    synthetic: bool

    def describe(self) -> str:
        """A one-line description, used as ``FaceDataset.source``."""
        if self.synthetic:
            text = f"synthetic faces at {self.root}"
        else:
            text = f"CelebA ({self.layout} layout) at {self.root}"
        if self.images_zip is not None:
            text += f", images read from {self.images_zip.name}"
        if self.partition is None:
            text += (
                "; no list_eval_partition file, so the split uses the official index ranges"
                " (train 000001-162770, valid 162771-182637, test 182638-202599)"
            )
        return text

    def __str__(self) -> str:
        return self.describe()


_ZIP_LISTINGS: dict[tuple[str, int, int], list[str]] = {}


def _check_zip_is_zip(path: Path) -> None:
    with open(path, "rb") as file:
        head = file.read(1024)
    if _looks_like_html(head):
        raise CelebAHtmlPageError(_html_quota_message(str(path), "a zip of CelebA images"))


def _open_zip(path: Path) -> zipfile.ZipFile:
    _check_zip_is_zip(path)
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise CelebAFormatError(
            f"{path} is not a readable zip file ({error}): the download is probably incomplete. "
            f"Delete it and download it again (for example: {KAGGLE_COMMAND})."
        ) from error


def _zip_names(path: Path) -> list[str]:
    """The member names of a zip, remembered per path, size and mtime (200k names take a while)."""
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _ZIP_LISTINGS:
        with _open_zip(path) as archive:
            _ZIP_LISTINGS[key] = archive.namelist()
    return _ZIP_LISTINGS[key]


def _zip_image_folder(names: list[str]) -> tuple[str, int]:
    """The folder in a zip that holds the most JPEGs (preferring ``img_align_celeba``), and their count."""
    counts: dict[str, int] = {}
    for name in names:
        if name.lower().endswith(_IMAGE_EXTENSIONS) and "__MACOSX" not in name:
            folder = posixpath.dirname(name)
            counts[folder] = counts.get(folder, 0) + 1
    if not counts:
        return "", 0
    folder = max(counts, key=lambda f: (posixpath.basename(f) == IMAGE_FOLDER_NAME, counts[f], -len(f)))
    return folder, counts[folder]


def _zip_member(names: list[str], file_names: tuple[str, ...]) -> str | None:
    """The shallowest member of a zip whose base name is in ``file_names`` (earlier names preferred)."""
    found = [n for n in names if posixpath.basename(n) in file_names and "__MACOSX" not in n]
    if not found:
        return None
    return min(found, key=lambda n: (n.count("/"), file_names.index(posixpath.basename(n)), n))


# --------------------------------------------------------------------------------------------
# Finding CelebA
# --------------------------------------------------------------------------------------------


@dataclass
class _Findings:
    """What a recursive search of one place found: (depth, path) pairs."""

    image_dirs: list[tuple[int, Path]]
    zips: list[tuple[int, Path]]
    attribute_files: list[tuple[int, Path]]
    partition_files: list[tuple[int, Path]]

    def summary(self) -> str:
        parts = []
        for label, items in (
            ("image folders", self.image_dirs),
            ("zips", self.zips),
            ("attribute files", self.attribute_files),
            ("partition files", self.partition_files),
        ):
            if items:
                parts.append(f"{label}: " + ", ".join(str(p) for _, p in items[:3]))
        return "; ".join(parts) if parts else "no CelebA files"


def _has_image(folder: Path) -> bool:
    try:
        with os.scandir(folder) as entries:
            return any(e.name.lower().endswith(_IMAGE_EXTENSIONS) and e.is_file() for e in entries)
    except OSError:
        return False


def _search(root: Path, max_depth: int = MAX_SEARCH_DEPTH) -> _Findings:
    """Look for CelebA's files below ``root``, at most ``max_depth`` folders deep.

    An ``img_align_celeba`` folder is not listed beyond what is needed (it may hold 202,599 files): it counts
    as an image folder if it holds images, and only a nested ``img_align_celeba`` (Kaggle) is entered.
    """
    findings = _Findings([], [], [], [])

    def visit(folder: Path, depth: int) -> None:
        if folder.name == IMAGE_FOLDER_NAME and depth > 0:
            if _has_image(folder):
                findings.image_dirs.append((depth, folder))
            elif (folder / IMAGE_FOLDER_NAME).is_dir():
                visit(folder / IMAGE_FOLDER_NAME, depth + 1)
            return
        try:
            with os.scandir(folder) as iterator:
                entries = sorted(iterator, key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            if entry.name.startswith(".") or entry.name == "__MACOSX":
                continue
            try:
                is_dir = entry.is_dir()
            except OSError:
                continue
            path = Path(entry.path)
            if is_dir:
                if depth < max_depth or (entry.name == IMAGE_FOLDER_NAME and depth == max_depth):
                    visit(path, depth + 1)
            elif entry.name in ZIP_FILE_NAMES:
                findings.zips.append((depth, path))
            elif entry.name in ATTRIBUTE_FILE_NAMES:
                findings.attribute_files.append((depth, path))
            elif entry.name in PARTITION_FILE_NAMES:
                findings.partition_files.append((depth, path))

    visit(root, 0)
    if root.name == IMAGE_FOLDER_NAME and _has_image(root):
        findings.image_dirs.append((0, root))
    return findings


def _shallowest(items: list[tuple[int, Path]], names: tuple[str, ...] = ()) -> Path | None:
    if not items:
        return None
    rank = {name: i for i, name in enumerate(names)}
    return min(items, key=lambda item: (item[0], rank.get(item[1].name, 0), str(item[1])))[1]


def _closest(items: list[tuple[int, Path]], anchor: Path | None, names: tuple[str, ...]) -> Path | None:
    """The file of ``items`` that shares the longest folder path with ``anchor`` (then the shallowest).

    So that two copies below one place (say real CelebA and the synthetic set) are never mixed up.
    """
    if anchor is None or not items:
        return _shallowest(items, names)

    def shared(path: Path) -> int:
        return len(Path(os.path.commonpath([path.parent, anchor])).parts)

    best = max(shared(path) for _, path in items)
    return _shallowest([item for item in items if shared(item[1]) == best], names)


def _layout_in(root: Path) -> tuple[CelebALayout | None, str]:
    """The CelebA layout found below ``root``, or None and a sentence saying what is missing."""
    findings = _search(root)
    images_dir = _shallowest(findings.image_dirs)
    images_zip, zip_folder, zip_names = None, "", []
    if images_dir is None:
        for zip_path in sorted(findings.zips, key=lambda item: (item[0], ZIP_FILE_NAMES.index(item[1].name))):
            names = _zip_names(zip_path[1])
            folder, count = _zip_image_folder(names)
            if count:
                images_zip, zip_folder, zip_names = zip_path[1], folder, names
                break

    images_location = images_dir or images_zip
    attributes_path = _closest(findings.attribute_files, images_location, ATTRIBUTE_FILE_NAMES)
    attributes = SourceFile(attributes_path) if attributes_path else None
    partition_path = _closest(
        findings.partition_files, attributes_path or images_location, PARTITION_FILE_NAMES
    )
    partition = SourceFile(partition_path) if partition_path else None
    # The lists may be inside a zip only (Kaggle's archive.zip, never extracted).
    zips_with_lists = [images_zip] if images_zip is not None else []
    zips_with_lists += [p for _, p in sorted(findings.zips) if p != images_zip]
    for zip_path in zips_with_lists:
        if attributes is not None and partition is not None:
            break
        if zip_path == images_zip:
            names = zip_names
        else:
            try:
                names = _zip_names(zip_path)
            except CelebAFormatError:  # a broken zip that holds no images we use is not our concern here
                continue
        if attributes is None:
            member = _zip_member(names, ATTRIBUTE_FILE_NAMES)
            if member is not None:
                attributes = SourceFile(zip_path, member)
        if attributes is not None and partition is None:
            member = _zip_member(names, PARTITION_FILE_NAMES)
            if member is not None:
                partition = SourceFile(zip_path, member)

    if images_dir is None and images_zip is None:
        if attributes is None:
            return None, f"{findings.summary()}"
        return None, (
            f"found {attributes} but no images: expected a folder {IMAGE_FOLDER_NAME}/ holding the JPEGs or "
            f"one of {', '.join(ZIP_FILE_NAMES)}"
        )
    if attributes is None:
        where = images_dir or images_zip
        return None, (
            f"found the images at {where} but no attribute file ({' or '.join(ATTRIBUTE_FILE_NAMES)}): "
            "download Anno/list_attr_celeba.txt from the official page or use the Kaggle archive"
        )

    nested = f"{IMAGE_FOLDER_NAME}/{IMAGE_FOLDER_NAME}"  # Kaggle's images folder
    kaggle = attributes.name.endswith(".csv") or (
        images_dir.as_posix().endswith(nested) if images_dir is not None else zip_folder.endswith(nested)
    )
    lists_folder = attributes.path.parent
    synthetic = attributes.member is None and (lists_folder / SYNTHETIC_MARKER).is_file()
    layout = CelebALayout(
        root=Path(os.path.commonpath([lists_folder, images_location])),
        layout="Kaggle" if kaggle else "official",
        images_dir=images_dir,
        images_zip=images_zip,
        images_zip_folder=zip_folder,
        attributes=attributes,
        partition=partition,
        synthetic=synthetic,
    )
    return layout, "found"


def default_celeba_dir() -> Path:
    """The default folder, ``DEFAULT_CELEBA_DIR`` with ``~`` expanded."""
    return DEFAULT_CELEBA_DIR.expanduser()


def _places(data_dir) -> list[tuple[Path | None, str]]:
    if data_dir is not None:
        return [(Path(data_dir).expanduser(), "the data_dir argument")]
    places: list[tuple[Path | None, str]] = []
    env_value = os.environ.get(CELEBA_DIR_ENV_VAR, "").strip()
    places.append((Path(env_value).expanduser() if env_value else None, f"${CELEBA_DIR_ENV_VAR}"))
    places.append((default_celeba_dir(), "the default folder"))
    return places


def _locate(data_dir) -> tuple[CelebALayout | None, list[str]]:
    report = []
    for place, label in _places(data_dir):
        if place is None:
            report.append(f"  - {label}: not set")
            continue
        if not place.exists():
            report.append(f"  - {place} ({label}): does not exist")
            continue
        if not place.is_dir():
            report.append(f"  - {place} ({label}): is a file, not a folder")
            continue
        layout, reason = _layout_in(place)
        if layout is not None:
            return layout, report
        report.append(f"  - {place} ({label}): {reason}")
    return None, report


def find_celeba(data_dir: str | os.PathLike | None = None) -> CelebALayout | None:
    """Where CelebA is: a ``CelebALayout``, or None when none of the places searched has it.

    With ``data_dir`` only that folder is searched; otherwise ``$VAE_COURSE_CELEBA_DIR`` and then
    ``DEFAULT_CELEBA_DIR``. Raises ``CelebAFormatError`` when a zip it must open is broken or an HTML page.
    """
    layout, _ = _locate(data_dir)
    return layout


def _require_layout(data_dir) -> CelebALayout:
    layout, report = _locate(data_dir)
    if layout is not None:
        return layout
    if data_dir is not None:
        folder = Path(data_dir).expanduser()
        intro = f"No CelebA in {folder} (given as data_dir, so no other place was searched):\n"
    else:
        intro = "No CelebA found. Places searched, in order:\n"
    raise CelebANotFoundError(intro + "\n".join(report) + "\n" + _how_to_get_celeba())


# --------------------------------------------------------------------------------------------
# The attribute and partition files
# --------------------------------------------------------------------------------------------


def _read_text(source: SourceFile, what: str) -> str:
    try:
        data = source.read_bytes()
    except OSError as error:
        raise CelebANotFoundError(f"Could not read {what} {source}: {error}") from error
    if _looks_like_html(data[:1024]):
        raise CelebAHtmlPageError(_html_quota_message(str(source), what))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CelebAFormatError(
            f"{source} is not a text file ({error}); expected {what}. Download it again."
        ) from error


def _check_header(names: list[str], source: SourceFile, line_number: int) -> list[int]:
    """Column order that puts the file's attribute columns in the official order; errors name the line."""
    expected = set(ATTRIBUTE_NAMES)
    missing = [n for n in ATTRIBUTE_NAMES if n not in names]
    unexpected = [n for n in names if n not in expected]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if missing or unexpected or duplicated or len(names) != len(ATTRIBUTE_NAMES):
        details = []
        if missing:
            details.append(
                f"missing {missing[:5]}" + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
            )
        if unexpected:
            details.append(f"unexpected {unexpected[:5]}")
        if duplicated:
            details.append(f"repeated {duplicated[:5]}")
        raise CelebAFormatError(
            f"{source}, line {line_number}: expected the {len(ATTRIBUTE_NAMES)} CelebA attribute names "
            f"(5_o_Clock_Shadow ... Young), found {len(names)} names ({'; '.join(details)}). "
            "Is this really list_attr_celeba? Download it again."
        )
    return [names.index(n) for n in ATTRIBUTE_NAMES]


def read_attribute_file(source: SourceFile | str | os.PathLike) -> tuple[list[str], np.ndarray]:
    """Read ``list_attr_celeba.txt`` (official) or ``list_attr_celeba.csv`` (Kaggle).

    Returns ``(filenames, attributes)``: the file names in the file's order and a bool array (N, 40) whose
    columns follow ``ATTRIBUTE_NAMES`` (True where the file says 1, False where it says -1).
    Raises ``CelebAFormatError`` naming the line for a wrong count line, header, row length or value.
    """
    source = source if isinstance(source, SourceFile) else SourceFile(Path(source))
    lines = _read_text(source, "the attribute list (list_attr_celeba)").splitlines()
    csv = source.name.endswith(".csv")
    if csv:
        if not lines:
            raise CelebAFormatError(f"{source} is empty; expected a header 'image_id,5_o_Clock_Shadow,...'.")
        header = [token.strip() for token in lines[0].split(",")]
        if not header or header[0] != "image_id":
            raise CelebAFormatError(
                f"{source}, line 1: expected a header starting with 'image_id' followed by the 40 attribute "
                f"names, found {lines[0][:80]!r}."
            )
        column_order = _check_header(header[1:], source, 1)
        first_row, expected_count = 1, None
    else:
        if len(lines) < 2:
            raise CelebAFormatError(
                f"{source} has {len(lines)} line(s); expected the number of images on line 1, "
                "the 40 attribute names on line 2, then one row per image."
            )
        try:
            expected_count = int(lines[0].strip())
        except ValueError:
            raise CelebAFormatError(
                f"{source}, line 1: expected the number of images (202599 for CelebA), "
                f"found {lines[0][:80]!r}."
            ) from None
        column_order = _check_header(lines[1].split(), source, 2)
        first_row = 2

    rows = [(index + 1, lines[index]) for index in range(first_row, len(lines)) if lines[index].strip()]
    if expected_count is not None and expected_count != len(rows):
        raise CelebAFormatError(
            f"{source}, line 1: says {expected_count} images but the file has {len(rows)} rows. "
            "The file is truncated or edited: download it again."
        )
    # Fast path (202,599 rows in well under a second): NumPy parses all values at once. It is accepted only
    # when every value is 1 or -1, every row holds exactly 40 of them (each has exactly one "1" character)
    # and no name repeats; otherwise the slow check below finds the first bad line and says what is wrong.
    split_rows = [line.split(",", 1) if csv else line.split(None, 1) for _, line in rows]
    filenames = [parts[0].strip() for parts in split_rows]
    bodies = [parts[1] if len(parts) == 2 else "" for parts in split_rows]
    body = " ".join(bodies).replace(",", " ") if csv else " ".join(bodies)
    values = _parse_integers(body)
    n_attributes = len(ATTRIBUTE_NAMES)
    if not (
        values is not None
        and values.size == len(rows) * n_attributes
        and all(text.count("1") == n_attributes for text in bodies)
        and np.isin(values, (-1, 1)).all()
        and len(set(filenames)) == len(filenames)
    ):
        _raise_first_bad_row(rows, source, csv)
        raise CelebAFormatError(f"{source}: the attribute values could not be read. Download it again.")
    attributes = values.reshape(len(rows), n_attributes)[:, column_order] == 1
    return filenames, attributes


def _parse_integers(text: str) -> np.ndarray | None:
    """All whitespace-separated integers of ``text``, or None when NumPy cannot read it to the end."""
    if not text.strip():
        return np.zeros(0, dtype=np.int32)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # NumPy warns (or raises) on unreadable text
        try:
            return np.fromstring(text, dtype=np.int32, sep=" ")
        except (ValueError, DeprecationWarning):
            return None


def _raise_first_bad_row(rows: list[tuple[int, str]], source: SourceFile, csv: bool) -> None:
    """Check the attribute rows one by one and raise ``CelebAFormatError`` for the first bad one."""
    seen: dict[str, int] = {}
    n_columns = len(ATTRIBUTE_NAMES) + 1
    for line_number, line in rows:
        tokens = [t.strip() for t in line.split(",")] if csv else line.split()
        if len(tokens) != n_columns:
            raise CelebAFormatError(
                f"{source}, line {line_number}: expected a file name and {n_columns - 1} values, found "
                f"{len(tokens)} fields ({line[:60]!r}...). The file is damaged: download it again."
            )
        bad = [value for value in tokens[1:] if value not in _ATTRIBUTE_VALUES]
        if bad:
            raise CelebAFormatError(
                f"{source}, line {line_number}: attribute values must be 1 or -1, found {bad[0]!r}."
            )
        if tokens[0] in seen:
            first = seen[tokens[0]]
            raise CelebAFormatError(
                f"{source}, line {line_number}: {tokens[0]} is listed twice (first on line {first})."
            )
        seen[tokens[0]] = line_number


def read_partition_file(source: SourceFile | str | os.PathLike) -> dict[str, int]:
    """Read ``list_eval_partition.txt`` (``000001.jpg 0``) or ``.csv`` (``image_id,partition`` header).

    Returns ``{file name: 0 (train) | 1 (valid) | 2 (test)}``; errors name the line.
    """
    source = source if isinstance(source, SourceFile) else SourceFile(Path(source))
    lines = _read_text(source, "the partition list (list_eval_partition)").splitlines()
    csv = source.name.endswith(".csv")
    first_row = 0
    if csv:
        first_line = lines[0] if lines else ""
        if [t.strip() for t in first_line.split(",")] != ["image_id", "partition"]:
            raise CelebAFormatError(
                f"{source}, line 1: expected the header 'image_id,partition', found {first_line[:80]!r}."
            )
        first_row = 1
    partition: dict[str, int] = {}
    for index in range(first_row, len(lines)):
        tokens = [t.strip() for t in lines[index].split(",")] if csv else lines[index].split()
        if not tokens or tokens == [""]:
            continue
        if len(tokens) != 2 or tokens[1] not in ("0", "1", "2"):
            raise CelebAFormatError(
                f"{source}, line {index + 1}: expected a file name and 0, 1 or 2 (train, valid, test), "
                f"found {lines[index][:60]!r}."
            )
        if tokens[0] in partition:
            raise CelebAFormatError(f"{source}, line {index + 1}: {tokens[0]} is listed twice.")
        partition[tokens[0]] = int(tokens[1])
    return partition


def _split_codes(filenames: list[str], layout: CelebALayout) -> np.ndarray:
    """The split number (0, 1, 2) of every file, from the partition file or the official index ranges."""
    if layout.partition is not None:
        partition = read_partition_file(layout.partition)
        not_in_partition = [name for name in filenames if name not in partition]
        if not_in_partition or len(partition) != len(filenames):
            listed = set(filenames)
            not_in_attributes = [name for name in partition if name not in listed]
            raise CelebAFormatError(
                f"{layout.partition} and {layout.attributes} do not list the same images: "
                f"{len(not_in_partition)} of the attribute file are not in the partition file "
                f"(first: {', '.join(not_in_partition[:5]) or '-'}), "
                f"{len(not_in_attributes)} of the partition file are not in the attribute file "
                f"(first: {', '.join(not_in_attributes[:5]) or '-'}). "
                "Use the two files of one download."
            )
        return np.array([partition[name] for name in filenames], dtype=np.int8)
    codes = np.empty(len(filenames), dtype=np.int8)
    last = OFFICIAL_SPLIT_RANGES["test"][1]
    for i, name in enumerate(filenames):
        stem = name.rsplit(".", 1)[0]
        if not (stem.isdigit() and 1 <= int(stem) <= last):
            raise CelebAFormatError(
                f"No partition file was found, and {name} (in {layout.attributes}) is not an official CelebA "
                f"file name (000001.jpg to {last:06d}.jpg), so its split cannot be inferred from the "
                "official index ranges. Put list_eval_partition.txt next to the attribute file."
            )
        number = int(stem)
        codes[i] = next(
            PARTITION_CODES[split]
            for split, (low, high) in OFFICIAL_SPLIT_RANGES.items()
            if low <= number <= high
        )
    return codes


# --------------------------------------------------------------------------------------------
# One image: crop and resize
# --------------------------------------------------------------------------------------------


def crop_box(width: int, height: int) -> tuple[float, float, float, float]:
    """The face-centred square ``(left, top, right, bottom)``, in pixels, of a ``width`` x ``height`` image.

    For CelebA's aligned 178x218 images it is the central 148x148 square ``(15, 35, 163, 183)``; for other
    sizes the side scales with the width (148/178 of it, at most the shorter side), and the square stays
    centred.
    """
    side = min(CROP_SIZE / ALIGNED_WIDTH * width, width, height)
    left = (width - side) / 2
    top = (height - side) / 2
    return (left, top, left + side, top + side)


def load_image(file: str | os.PathLike | BinaryIO, image_size: int = 64, crop: bool = True) -> np.ndarray:
    """Decode one face image into uint8 RGB pixels of shape ``(image_size, image_size, 3)``.

    ``crop=True`` cuts ``crop_box(width, height)`` and resizes it with Lanczos antialiasing; ``crop=False``
    squashes the whole image into the square (the book's preprocessing). JPEGs are decoded in draft mode
    (reduced by 2, 4 or 8 inside libjpeg) when the reduced crop still has at least ``image_size`` pixels.
    Raises PIL's ``OSError`` (``UnidentifiedImageError``, "image file is truncated") for a bad file.
    """
    with Image.open(file) as image:
        width, height = image.size
        box = crop_box(width, height) if crop else (0.0, 0.0, float(width), float(height))
        if image.format == "JPEG":
            wanted = (
                math.ceil(width * image_size / (box[2] - box[0])),
                math.ceil(height * image_size / (box[3] - box[1])),
            )
            image.draft("RGB", wanted)
            scale = width / image.size[0]
            scale = min((1, 2, 4, 8), key=lambda s: abs(s - scale))
            box = tuple(coordinate / scale for coordinate in box)
        rgb = image.convert("RGB")
        resized = rgb.resize((image_size, image_size), Image.Resampling.LANCZOS, box=box)
        return np.asarray(resized, dtype=np.uint8)


# --------------------------------------------------------------------------------------------
# Reading many images (threads: PIL releases the GIL while it decodes and resizes)
# --------------------------------------------------------------------------------------------


class _ImageReader:
    """Reads the images of a layout by file name: from the folder, or from the zip.

    One ``ZipFile`` is shared by all threads: ``zipfile`` supports concurrent reads of members, and parsing
    the central directory of 202,599 entries once per thread would cost seconds.
    """

    def __init__(self, layout: CelebALayout):
        self.layout = layout
        self._archive: zipfile.ZipFile | None = None
        self._lock = threading.Lock()

    def where(self, name: str) -> str:
        if self.layout.images_dir is not None:
            return str(self.layout.images_dir / name)
        return f"{self.layout.images_zip} (inside the zip: {self.member(name)})"

    def member(self, name: str) -> str:
        folder = self.layout.images_zip_folder
        return f"{folder}/{name}" if folder else name

    def read(self, name: str) -> bytes:
        if self.layout.images_dir is not None:
            with open(self.layout.images_dir / name, "rb") as file:
                return file.read()
        with self._lock:
            if self._archive is None:
                self._archive = _open_zip(self.layout.images_zip)
        return self._archive.read(self.member(name))

    def close(self) -> None:
        if self._archive is not None:
            self._archive.close()
            self._archive = None


def _available_images(layout: CelebALayout) -> set[str]:
    if layout.images_dir is not None:
        with os.scandir(layout.images_dir) as entries:
            return {entry.name for entry in entries}
    prefix = f"{layout.images_zip_folder}/" if layout.images_zip_folder else ""
    return {
        name[len(prefix) :]
        for name in _zip_names(layout.images_zip)
        if name.startswith(prefix) and "/" not in name[len(prefix) :]
    }


def _images_fingerprint(layout: CelebALayout, filenames) -> str:
    """A hash of the sizes and modification times of the images (folders only: a zip's own stat covers it)."""
    if layout.images_dir is None:
        return "zip"
    digest = hashlib.sha256()
    for name in filenames:
        try:
            stat = os.stat(layout.images_dir / name)
            digest.update(f"{name}:{stat.st_size}:{stat.st_mtime_ns};".encode())
        except OSError:
            digest.update(f"{name}:missing;".encode())
    return digest.hexdigest()


class _Progress:
    """A text progress bar on stdout (tqdm's when tqdm is installed), updated at most 4 times a second.

    Not on stderr: JupyterLab shows stderr as a pink error block, which looks broken on a projector.
    """

    def __init__(self, total: int, label: str, enabled: bool):
        self.total, self.label, self.enabled = total, label, enabled
        self.start = self.last = time.perf_counter()
        self.bar = None
        if enabled:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                tqdm = None
            if tqdm is not None:
                self.bar = tqdm(total=total, desc=label, unit="img")

    def update(self, done: int, force: bool = False) -> None:
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.update(done - self.bar.n)
            return
        now = time.perf_counter()
        if not force and now - self.last < 0.25:
            return
        self.last = now
        elapsed = max(now - self.start, 1e-9)
        rate = done / elapsed
        eta = (self.total - done) / rate if rate > 0 else float("nan")
        width = 30
        filled = int(width * done / max(self.total, 1))
        eta_text = f"{int(eta // 60)}:{int(eta % 60):02d}" if math.isfinite(eta) else "?"
        sys.stdout.write(
            f"\r{self.label}: [{'#' * filled}{'.' * (width - filled)}] {done:,}/{self.total:,} "
            f"{rate:,.0f} images/s, {elapsed:.0f} s, {eta_text} left "
        )
        sys.stdout.flush()

    def close(self, done: int) -> None:
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.close()
            return
        self.update(done, force=True)
        sys.stdout.write("\n")
        sys.stdout.flush()


_IMAGE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    zipfile.BadZipFile,
    zlib.error,
    Image.DecompressionBombError,
)
_CHUNK = 64


def _default_workers() -> int:
    return max(1, min(8, os.cpu_count() or 1))


def _decode_into(
    output: np.ndarray,
    filenames: np.ndarray,
    reader: _ImageReader,
    image_size: int,
    crop: bool,
    skip_bad_images: bool,
    workers: int,
    progress: _Progress,
) -> list[tuple[int, str]]:
    """Decode every image into ``output[i]``; returns the (index, reason) of the images that failed.

    Stops at the first failure unless ``skip_bad_images``.
    """
    stop = threading.Event()

    def work(start: int, stop_index: int) -> tuple[int, list[tuple[int, str]]]:
        failures = []
        for i in range(start, stop_index):
            if stop.is_set():
                break
            try:
                output[i] = load_image(io.BytesIO(reader.read(filenames[i])), image_size, crop)
            except _IMAGE_ERRORS as error:
                failures.append((i, f"{type(error).__name__}: {error}"))
                if not skip_bad_images:
                    stop.set()
                    break
        return stop_index - start, failures

    failures: list[tuple[int, str]] = []
    done = 0
    n = len(filenames)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(work, start, min(start + _CHUNK, n)) for start in range(0, n, _CHUNK)]
        try:
            for future in as_completed(futures):
                count, chunk_failures = future.result()
                done += count
                failures.extend(chunk_failures)
                progress.update(done)
        finally:
            stop.set()  # after an error, the other threads stop at their next image
            for future in futures:
                future.cancel()
    progress.close(done)
    return sorted(failures)


def _bad_image_error(reader: _ImageReader, name: str, reason: str) -> CelebAFormatError:
    try:
        head = reader.read(name)[:1024]
    except (OSError, KeyError, zipfile.BadZipFile, zlib.error):  # the reason already says why
        head = b""
    if _looks_like_html(head):
        return CelebAHtmlPageError(_html_quota_message(reader.where(name), "a JPEG image"))
    return CelebABadImageError(
        f"Could not decode {reader.where(name)}: {reason}. The file is truncated or corrupt: extract or "
        "download CelebA again, or call load_celeba(..., skip_bad_images=True) to leave unreadable "
        "images out (with a warning that lists them)."
    )


# --------------------------------------------------------------------------------------------
# The dataset
# --------------------------------------------------------------------------------------------


def _to_float(images: np.ndarray) -> np.ndarray:
    """uint8 pixels -> float32 in [0, 1] (255 -> exactly 1.0)."""
    return images.astype(np.float32) / np.float32(255.0)


@dataclass(frozen=True, eq=False)
class FaceDataset:
    """Face images with their CelebA attributes.

    - ``images``: uint8 ``(N, image_size, image_size, 3)``, memory-mapped from the cache (read-only);
    - ``attributes``: bool ``(N, 40)``, columns in the order of ``attribute_names`` (= ``ATTRIBUTE_NAMES``);
    - ``filenames``: ``(N,)`` str, sorted (the official names sort in index order);
    - ``split``: "train", "valid", "test" or "all";
    - ``source``: which data and where, e.g. "CelebA (official layout) at ..." or "synthetic faces at ...";
    - ``skipped``: names of unreadable images left out (only with ``skip_bad_images=True``);
    - ``cache_file``: the ``.npy`` file behind ``images``.

    For training use ``as_keras_dataset`` (a ``keras.utils.PyDataset`` for ``model.fit``) or ``batches``;
    both convert one batch at a time to float32 in [0, 1], never the whole set.
    """

    images: np.ndarray
    attributes: np.ndarray
    attribute_names: tuple[str, ...]
    filenames: np.ndarray
    split: str
    source: str
    skipped: tuple[str, ...] = ()
    cache_file: Path | None = None

    def __len__(self) -> int:
        return len(self.images)

    @property
    def image_size(self) -> int:
        return int(self.images.shape[1])

    def has(self, name: str) -> np.ndarray:
        """Bool ``(N,)``: which faces have attribute ``name`` (e.g. "Smiling")."""
        if name not in self.attribute_names:
            close = [n for n in self.attribute_names if n.lower() == str(name).lower()]
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ValueError(
                f"Unknown attribute {name!r}.{hint} "
                f"Valid names (case-sensitive): {', '.join(self.attribute_names)}."
            )
        return self.attributes[:, self.attribute_names.index(name)]

    def batches(
        self, batch_size: int = 128, shuffle: bool = False, seed: int | None = None
    ) -> Iterator[np.ndarray]:
        """Yield float32 batches ``(batch_size, S, S, 3)`` in [0, 1] (the last one may be smaller).

        With ``shuffle`` the order is a permutation drawn from ``seed``. Only one batch at a time is float32.
        """
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        n = len(self)
        order = np.random.default_rng(seed).permutation(n) if shuffle else None
        for start in range(0, n, batch_size):
            if order is None:
                yield _to_float(self.images[start : start + batch_size])
            else:
                yield _to_float(self.images[np.sort(order[start : start + batch_size])])

    def as_keras_dataset(
        self,
        batch_size: int = 128,
        shuffle: bool = True,
        seed: int | None = None,
        with_targets: bool = False,
        **pydataset_kwargs,
    ):
        """A ``FaceSequence`` (``keras.utils.PyDataset``) for ``model.fit(...)`` / ``model.evaluate(...)``.

        Each item is a float32 batch ``x`` in [0, 1], or ``(x, x)`` with ``with_targets=True`` (for a plain
        autoencoder compiled with a loss). With ``shuffle`` a new permutation (from ``seed``) every epoch.
        ``pydataset_kwargs`` (``workers``, ``use_multiprocessing``, ``max_queue_size``) go to ``PyDataset``.
        """
        sequence_class = face_sequence_class()
        return sequence_class(self.images, batch_size, shuffle, seed, with_targets, **pydataset_kwargs)


_FACE_SEQUENCE_CLASS = None


def face_sequence_class():
    """The class ``FaceSequence``, a ``keras.utils.PyDataset`` of float32 face batches.

    It is built on first use so that importing this module does not import Keras (and TensorFlow).
    ``celeba.FaceSequence`` gives the same class.
    """
    global _FACE_SEQUENCE_CLASS
    if _FACE_SEQUENCE_CLASS is not None:
        return _FACE_SEQUENCE_CLASS
    import keras

    class FaceSequence(keras.utils.PyDataset):
        """Batches of ``images`` (uint8, any array or memmap) as float32 in [0, 1], for ``model.fit``."""

        def __init__(self, images, batch_size=128, shuffle=True, seed=None, with_targets=False, **kwargs):
            super().__init__(**kwargs)
            if int(batch_size) < 1:
                raise ValueError(f"batch_size must be at least 1, got {batch_size}")
            self.images = images
            self.batch_size = int(batch_size)
            self.shuffle = bool(shuffle)
            self.with_targets = bool(with_targets)
            self._rng = np.random.default_rng(seed)
            self._order = self._rng.permutation(len(images)) if self.shuffle else None

        def __len__(self):
            return math.ceil(len(self.images) / self.batch_size)

        def __getitem__(self, index):
            if not 0 <= index < len(self):
                raise IndexError(f"batch {index} out of range: this dataset has {len(self)} batches")
            start, stop = index * self.batch_size, (index + 1) * self.batch_size
            if self._order is None:
                x = _to_float(self.images[start:stop])
            else:
                x = _to_float(self.images[np.sort(self._order[start:stop])])
            return (x, x) if self.with_targets else x

        def on_epoch_end(self):
            if self.shuffle:
                self._order = self._rng.permutation(len(self.images))

        def __getstate__(self):
            # A memmap would be pickled as a full copy: send its file name to worker processes instead.
            state = self.__dict__.copy()
            if isinstance(self.images, np.memmap) and self.images.filename:
                state["images"] = ("memmap", self.images.filename)
            return state

        def __setstate__(self, state):
            images = state.get("images")
            if isinstance(images, tuple) and images[:1] == ("memmap",):
                state["images"] = np.load(images[1], mmap_mode="r")
            self.__dict__.update(state)

    FaceSequence.__module__ = __name__
    FaceSequence.__qualname__ = "FaceSequence"
    _FACE_SEQUENCE_CLASS = FaceSequence
    return FaceSequence


def __getattr__(name):
    if name == "FaceSequence":
        return face_sequence_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --------------------------------------------------------------------------------------------
# The cache
# --------------------------------------------------------------------------------------------


def default_cache_dir() -> Path:
    """``<artifacts folder>/celeba_cache``, the artifacts folder being ``$VAE_COURSE_ARTIFACTS`` or
    ``~/.cache/vae_course``.

    The same in FAST mode and full mode: the cache holds decoded pixels, which do not depend on the mode.
    """
    return config.artifact_path(CACHE_SUBFOLDER).parent / CACHE_SUBFOLDER


def _stat_key(path: Path) -> dict:
    stat = path.stat()
    return {"path": str(path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _cache_key(
    layout: CelebALayout, split: str, image_size: int, crop: bool, limit, skip_bad_images: bool
) -> dict:
    if layout.images_dir is not None:
        # A folder's mtime changes when files are added, removed or renamed; files changed in place are
        # caught by the fingerprint of the images themselves (see _read_cache).
        images = _stat_key(layout.images_dir)
        del images["size"]
    else:
        images = {**_stat_key(layout.images_zip), "folder": layout.images_zip_folder}
    return {
        "version": CACHE_VERSION,
        "images": images,
        "attributes": {**_stat_key(layout.attributes.path), "member": layout.attributes.member},
        "partition": None
        if layout.partition is None
        else {**_stat_key(layout.partition.path), "member": layout.partition.member},
        "split": split,
        "image_size": image_size,
        "crop": crop,
        "limit": limit,
        "skip_bad_images": skip_bad_images,
    }


def _cache_paths(cache_dir: Path, layout: CelebALayout, key: dict) -> tuple[Path, Path, str]:
    """(images .npy, metadata .npz, stem without the hash) of one cache entry."""
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    where = hashlib.sha256(str(layout.attributes.path.resolve()).encode()).hexdigest()[:6]
    kind = "synthetic" if layout.synthetic else "celeba"
    limit = "all" if key["limit"] is None else str(key["limit"])
    crop = "crop" if key["crop"] else "squash"
    skip = "_skip" if key["skip_bad_images"] else ""
    prefix = f"{kind}-{where}_{key['split']}_{key['image_size']}px_{crop}_{limit}{skip}_"
    return cache_dir / f"{prefix}{digest}.npy", cache_dir / f"{prefix}{digest}.npz", prefix


def _write_atomically(path: Path, write) -> None:
    temporary = path.with_name(f"{path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    try:
        with open(temporary, "wb") as file:
            write(file)
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()


def _read_cache(images_path: Path, meta_path: Path, layout: CelebALayout) -> dict | None:
    if not (images_path.is_file() and meta_path.is_file()):
        return None
    try:
        with np.load(meta_path, allow_pickle=False) as meta:
            cached = {key: meta[key] for key in meta.files}
        images = np.load(images_path, mmap_mode="r")
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return None
    if len(images) != len(cached["filenames"]):
        return None
    if str(cached["images_fingerprint"]) != _images_fingerprint(
        layout, cached["filenames"].tolist() + cached["skipped"].tolist()
    ):
        return None
    cached["images"] = images
    return cached


def _prepare(
    layout: CelebALayout,
    split: str,
    image_size: int,
    crop: bool,
    limit: int | None,
    skip_bad_images: bool,
    workers: int,
    progress: bool,
    images_path: Path,
    meta_path: Path,
) -> None:
    """Decode the images of one split into the cache files ``images_path`` (.npy) and ``meta_path`` (.npz)."""
    names, attributes = read_attribute_file(layout.attributes)
    codes = _split_codes(names, layout)
    selected = np.arange(len(names)) if split == "all" else np.flatnonzero(codes == PARTITION_CODES[split])
    if len(selected) == 0:
        where = layout.partition or "the official index ranges"
        raise CelebAFormatError(
            f"The {split!r} split is empty: no image of {layout.attributes} is in it ({where})."
        )
    names_array = np.array(names)
    order = selected[np.argsort(names_array[selected], kind="stable")]
    if limit is not None:
        order = order[:limit]
    filenames = names_array[order]
    attributes = attributes[order]

    available = _available_images(layout)
    missing = [name for name in filenames.tolist() if name not in available]
    if missing:
        where = layout.images_dir or f"{layout.images_zip} (folder {layout.images_zip_folder or '/'} inside)"
        raise CelebAMissingImagesError(
            f"{len(missing):,} of the {len(filenames):,} images of the {split!r} split listed in "
            f"{layout.attributes} are missing from {where} (first: {', '.join(missing[:5])}). "
            "The download or extraction is incomplete: extract or download the images again."
        )

    reader = _ImageReader(layout)
    what = "synthetic faces" if layout.synthetic else "CelebA"
    crop_text = "crop" if crop else "squash"
    bar = _Progress(
        len(filenames), f"Preparing {what} {split} ({image_size}x{image_size}, {crop_text})", progress
    )
    images_path.parent.mkdir(parents=True, exist_ok=True)
    shape = (len(filenames), image_size, image_size, 3)
    unique = f"{os.getpid()}-{threading.get_ident()}"
    decoded_path = images_path.with_name(f"{images_path.name}.tmp-{unique}")
    kept_path = images_path.with_name(f"{images_path.name}.kept-tmp-{unique}")
    try:
        output = np.lib.format.open_memmap(decoded_path, mode="w+", dtype=np.uint8, shape=shape)
        try:
            failures = _decode_into(
                output, filenames, reader, image_size, crop, skip_bad_images, workers, bar
            )
            if failures and not skip_bad_images:
                index, reason = failures[0]
                raise _bad_image_error(reader, str(filenames[index]), reason)
        finally:
            reader.close()
        keep = np.ones(len(filenames), dtype=bool)
        keep[[index for index, _ in failures]] = False
        if not keep.any():
            raise CelebABadImageError(
                f"None of the {len(filenames):,} images in {layout.images_dir or layout.images_zip} could be "
                f"decoded (first: {filenames[failures[0][0]]}: {failures[0][1]}). Download CelebA again."
            )
        if failures:  # copy the good rows into a smaller file, a few thousand at a time
            kept = np.flatnonzero(keep)
            compact = np.lib.format.open_memmap(
                kept_path, mode="w+", dtype=np.uint8, shape=(len(kept), *shape[1:])
            )
            for start in range(0, len(kept), 4096):
                compact[start : start + 4096] = output[kept[start : start + 4096]]
            compact.flush()
            del compact, output
            os.replace(kept_path, decoded_path)
        else:
            output.flush()
            del output
        skipped = filenames[~keep].tolist()
        fingerprint = _images_fingerprint(layout, filenames[keep].tolist() + skipped)

        def write_meta(file) -> None:
            np.savez(
                file,
                filenames=filenames[keep],
                attributes=attributes[keep],
                skipped=np.array(skipped, dtype=str),
                skipped_reasons=np.array([reason for _, reason in failures], dtype=str),
                source=np.array(layout.describe()),
                images_fingerprint=np.array(fingerprint),
            )

        # The images first, then the metadata: a cache entry counts only when both files are there.
        os.replace(decoded_path, images_path)
        _write_atomically(meta_path, write_meta)
    finally:
        for path in (decoded_path, kept_path):
            if path.exists():
                path.unlink()


def _remove_outdated(cache_dir: Path, prefix: str, keep: tuple[Path, ...]) -> None:
    """Delete older cache files of the same source and settings (their source has changed since)."""
    for path in cache_dir.glob(f"{prefix}*"):
        if path not in keep and path.suffix in (".npy", ".npz"):
            try:
                path.unlink()
            except OSError:
                pass


def load_celeba(
    split: str = "train",
    data_dir: str | os.PathLike | None = None,
    image_size: int = 64,
    limit: int | None = None,
    skip_bad_images: bool = False,
    *,
    crop: bool = True,
    cache_dir: str | os.PathLike | None = None,
    workers: int | None = None,
    progress: bool = True,
) -> FaceDataset:
    """Load one split of CelebA (or of the synthetic set in CelebA's layout) as a ``FaceDataset``.

    - ``split``: "train", "valid", "test" (official partition) or "all";
    - ``data_dir``: the folder to search (only that one); default ``$VAE_COURSE_CELEBA_DIR``, then
      ``DEFAULT_CELEBA_DIR`` (``~/datasets/celeba``);
    - ``image_size``: side of the square images in pixels;
    - ``limit``: keep only the first ``limit`` images of the split, in file-name order;
    - ``skip_bad_images``: leave truncated or corrupt images out, with a ``CelebABadImageWarning`` naming
      them (default: raise ``CelebABadImageError``);
    - ``crop``: True for the face-centred crop (``crop_box``), False to squash the whole image (the book);
    - ``cache_dir``: where the decoded cache lives (default ``default_cache_dir()``);
    - ``workers``: decoding threads for the first preparation (default: the number of cores, at most 8);
    - ``progress``: show a progress bar on stdout while preparing.

    The first call decodes the images into the cache; later calls memory-map it (see the module docstring).
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if isinstance(image_size, bool) or not isinstance(image_size, (int, np.integer)) or image_size < 1:
        raise ValueError(f"image_size must be a positive integer (pixels), got {image_size!r}")
    if limit is not None and (
        isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 1
    ):
        raise ValueError(f"limit must be None (all images) or a positive integer, got {limit!r}")
    workers = _default_workers() if workers is None else int(workers)
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    image_size = int(image_size)
    limit = None if limit is None else int(limit)
    crop = bool(crop)

    layout = _require_layout(data_dir)
    cache_folder = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    key = _cache_key(layout, split, image_size, crop, limit, bool(skip_bad_images))
    images_path, meta_path, prefix = _cache_paths(cache_folder, layout, key)
    cached = _read_cache(images_path, meta_path, layout)
    if cached is None:
        _prepare(
            layout,
            split,
            image_size,
            crop,
            limit,
            bool(skip_bad_images),
            workers,
            progress,
            images_path,
            meta_path,
        )
        _remove_outdated(cache_folder, prefix, (images_path, meta_path))
        cached = _read_cache(images_path, meta_path, layout)
        if cached is None:
            raise CelebAError(f"The cache {images_path} could not be read back right after writing it.")

    skipped = tuple(cached["skipped"].tolist())
    if skipped:
        reasons = cached["skipped_reasons"].tolist()
        listing = "; ".join(f"{name} ({reason})" for name, reason in zip(skipped[:10], reasons[:10]))
        warnings.warn(
            f"{len(skipped)} unreadable image(s) of the {split!r} split were left out "
            f"(skip_bad_images=True): "
            f"{listing}{' ...' if len(skipped) > 10 else ''}. "
            f"The dataset has {len(cached['filenames']):,} images.",
            CelebABadImageWarning,
            stacklevel=2,
        )
    return FaceDataset(
        images=cached["images"],
        attributes=cached["attributes"].astype(bool),
        attribute_names=ATTRIBUTE_NAMES,
        filenames=cached["filenames"],
        split=split,
        source=str(cached["source"]),
        skipped=skipped,
        cache_file=images_path,
    )
