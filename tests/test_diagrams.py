"""vae_course.diagrams: the committed SVGs are what the script draws, and every lesson's figure link works."""

from __future__ import annotations

import json
import re
from pathlib import Path
from xml.etree import ElementTree

import matplotlib
import numpy as np
import pytest
from scipy import signal

from vae_course import diagrams

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
FIGURES = NOTEBOOKS / "figures"
LANGUAGES = ("ko", "en")
IMAGE_LINK = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+[\"'][^)]*[\"'])?\s*\)")
HTML_IMAGE = re.compile(r"<img\b[^>]*\bsrc=[\"']([^\"']+)[\"']", re.IGNORECASE)
SVG = "{http://www.w3.org/2000/svg}"


def lesson_paths() -> list[Path]:
    return sorted(path for lang in LANGUAGES for path in (NOTEBOOKS / lang).glob("*.ipynb"))


def image_links(path: Path) -> list[tuple[int, str]]:
    """(cell index, link target) of every markdown image in the notebook at ``path``."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    links = []
    for index, cell in enumerate(cells):
        if cell["cell_type"] == "markdown":
            text = "".join(cell["source"])
            links += [(index, target) for target in IMAGE_LINK.findall(text) + HTML_IMAGE.findall(text)]
    return links


def recorded_series(path: Path) -> str | None:
    """The matplotlib major.minor version written into a committed SVG's description, if any."""
    match = re.search(r"matplotlib (\d+\.\d+)", path.read_text(encoding="utf-8"))
    return match.group(1) if match else None


# ------------------------------------------------------------------------------ the script and its files


def test_figures_folder_holds_exactly_the_drawn_diagrams():
    committed = sorted(path.name for path in FIGURES.glob("*") if path.is_file())
    assert committed == sorted(diagrams.FIGURES), (
        f"notebooks/figures holds {committed}, the script draws {sorted(diagrams.FIGURES)}: "
        "add the missing diagram to vae_course.diagrams.FIGURES, or delete the stray file"
    )


def test_script_regenerates_the_committed_figures():
    series = {recorded_series(FIGURES / name) for name in diagrams.FIGURES}
    if series != {diagrams.MATPLOTLIB_SERIES}:
        pytest.skip(
            f"the committed SVGs were drawn with matplotlib {sorted(map(str, series))}, this is "
            f"{matplotlib.__version__}: SVG bytes are only comparable within one matplotlib series"
        )
    stale = diagrams.differing_figures(FIGURES)
    assert not stale, (
        f"{stale} differ from what the script draws: run `python -m vae_course.diagrams` and commit"
    )


def test_drawing_twice_gives_identical_bytes_and_leaves_rcparams_alone(tmp_path):
    before = dict(matplotlib.rcParams)
    first = diagrams.write_figures(tmp_path / "first")
    second = diagrams.write_figures(tmp_path / "second")
    assert dict(matplotlib.rcParams) == before, "write_figures changed the global rcParams"
    for one, two in zip(first, second):
        assert one.read_bytes() == two.read_bytes(), f"{one.name} is not deterministic (ids, dates, hashes?)"


def test_check_flag_passes_on_fresh_files_and_names_a_stale_one(tmp_path, capsys):
    folder = tmp_path / "figures"
    diagrams.write_figures(folder)
    assert diagrams.main(["--check", "--folder", str(folder)]) == 0
    assert "up to date" in capsys.readouterr().out

    (folder / "vae.svg").write_text((folder / "vae.svg").read_text(encoding="utf-8") + "\n", encoding="utf-8")
    (folder / "autoencoder.svg").unlink()
    assert diagrams.main(["--check", "--folder", str(folder)]) == 1
    message = capsys.readouterr().err
    assert "vae.svg" in message and "autoencoder.svg" in message
    assert "transposed_convolution.svg" not in message
    assert "python -m vae_course.diagrams" in message


def test_main_writes_svgs_and_png_copies(tmp_path, capsys):
    assert diagrams.main(["--folder", str(tmp_path / "svg"), "--png", str(tmp_path / "png")]) == 0
    assert sorted(path.name for path in (tmp_path / "svg").iterdir()) == sorted(diagrams.FIGURES)
    pngs = sorted((tmp_path / "png").iterdir())
    assert [path.suffix for path in pngs] == [".png"] * len(diagrams.FIGURES)
    assert all(path.read_bytes().startswith(b"\x89PNG") for path in pngs)
    assert "wrote" in capsys.readouterr().out


@pytest.mark.parametrize("name", sorted(diagrams.FIGURES))
def test_committed_svg_is_small_self_contained_and_has_no_hangul(name):
    path = FIGURES / name
    text = path.read_text(encoding="utf-8")
    root = ElementTree.fromstring(text)
    assert root.tag == f"{SVG}svg", f"{name} is not an SVG document"
    assert len(text) < 250_000, f"{name} is {len(text):,} bytes: keep diagrams under 250 kB"
    assert not list(root.iter(f"{SVG}text")), f"{name} has <text> elements: text must be paths (svg.fonttype)"
    assert not list(root.iter(f"{SVG}image")), f"{name} embeds a raster image"
    assert "<dc:date>" not in text, f"{name} records a date, so it changes on every run"
    assert not re.search("[\uac00-\ud7a3]", text), (
        f"{name} contains Hangul: diagram labels are English or math"
    )


# ------------------------------------------------------------------------------ the transposed convolution


def test_transposed_convolution_stamping_equals_zero_insertion_convolution():
    example = diagrams.transposed_convolution_example()
    inputs, kernel = example["input"], example["kernel"]
    # Independent reference: a full 2-D convolution (scipy flips the kernel) of the zero-inserted input.
    zero_inserted = np.zeros((3, 3), dtype=int)
    zero_inserted[::2, ::2] = inputs
    np.testing.assert_array_equal(example["zero_inserted"], zero_inserted)
    np.testing.assert_array_equal(example["output"], signal.convolve2d(zero_inserted, kernel, mode="full"))
    np.testing.assert_array_equal(example["output_by_convolution"], example["output"])
    assert example["output"].shape == (5, 5)
    # The cell the figure works out by hand: 1*1 + 2*1 + 3*1 + 4*1.
    assert example["output"][2, 2] == 10
    assert example["stamps"].sum(axis=0).tolist() == example["output"].tolist()


def test_transposed_convolution_matches_keras_conv2d_transpose():
    keras = pytest.importorskip("keras")
    example = diagrams.transposed_convolution_example()
    x = example["input"].reshape(1, 2, 2, 1).astype("float32")
    for padding, expected in (("valid", example["output"]), ("same", example["output"][:4, :4])):
        layer = keras.layers.Conv2DTranspose(1, 3, strides=2, padding=padding, use_bias=False)
        layer.build(x.shape)
        layer.set_weights([example["kernel"].reshape(3, 3, 1, 1).astype("float32")])
        got = np.asarray(layer(x))[0, ..., 0]
        np.testing.assert_allclose(got, expected, err_msg=f"Conv2DTranspose padding={padding!r}")


# ------------------------------------------------------------------------------ links from the lessons


@pytest.mark.parametrize("path", lesson_paths(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_image_link_in_a_lesson_resolves(path):
    broken = [
        f"cell {index}: {target}"
        for index, target in image_links(path)
        if not re.match(r"[a-z]+:", target) and not (path.parent / target.split("#")[0]).resolve().is_file()
    ]
    assert not broken, (
        f"{path.parent.name}/{path.name}: these image links point to no file (paths are relative to the "
        f"notebook, e.g. ../figures/vae.svg): {broken}"
    )


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("name", sorted(diagrams.FIGURES))
def test_every_figure_is_shown_by_a_lesson_in_each_language(name, lang):
    users = [
        path.name
        for path in sorted((NOTEBOOKS / lang).glob("*.ipynb"))
        for _, target in image_links(path)
        if (path.parent / target).resolve() == (FIGURES / name).resolve()
    ]
    assert users, (
        f"notebooks/figures/{name} is shown by no {lang} lesson: add `![...](../figures/{name})` to the "
        f"lesson's markdown, or remove the figure from the script"
    )


def test_image_link_parser_reads_markdown_images_only(tmp_path):
    markdown = '![VAE](../figures/vae.svg "title")\n<img src="a.png" width=300>\nsee ![x]( ../figures/b.svg ) and [a link](c.svg)'
    notebook = {
        "cells": [
            {"cell_type": "code", "source": ["# ![y](code.svg)"]},
            {"cell_type": "markdown", "source": markdown.splitlines(keepends=True)},
        ]
    }
    path = tmp_path / "lesson.ipynb"
    path.write_text(json.dumps(notebook), encoding="utf-8")
    assert image_links(path) == [(1, "../figures/vae.svg"), (1, "../figures/b.svg"), (1, "a.png")]
