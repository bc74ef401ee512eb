"""vae_course.handouts: lessons run in order in fresh kernels, to notebooks, HTML and an index; a failure stops
only its own lesson and names the lesson and the cell."""

from __future__ import annotations

import nbformat
import pytest

from vae_course import handouts


def write_lesson(folder, name, *sources):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# " + name)] + [
        nbformat.v4.new_code_cell(s) for s in sources
    ]
    path = folder / name
    nbformat.write(notebook, path)
    return path


def test_lessons_come_in_course_order(tmp_path):
    for name in ("A1_legacy.ipynb", "02_vae.ipynb", "01_autoencoder.ipynb"):
        write_lesson(tmp_path, name, "1")
    assert [p.name for p in handouts.lessons("en", tmp_path)] == [
        "01_autoencoder.ipynb",
        "02_vae.ipynb",
        "A1_legacy.ipynb",
    ]
    assert [p.name for p in handouts.lessons("en")][:5] == [
        "01_autoencoder.ipynb",
        "02_vae.ipynb",
        "03_kl_divergence.ipynb",
        "04_celeba_vae.ipynb",
        "05_latent_arithmetic.ipynb",
    ]


def test_a_failing_cell_stops_its_lesson_only_and_is_named(tmp_path):
    lessons = tmp_path / "en"
    lessons.mkdir()
    broken = write_lesson(lessons, "01_broken.ipynb", "x = 1", "print('before')", "1 / 0", "print('never')")
    fine = write_lesson(
        lessons, "02_fine.ipynb", "import os\nprint('FAST', os.environ.get('VAE_COURSE_FAST'))"
    )
    lines = []
    runs = handouts.run_all([broken, fine], tmp_path / "out", "FAST mode", say=lines.append)
    assert [run.status for run in runs] == ["failed", "ok"]
    assert "en/01_broken.ipynb stopped at code cell 2 ('1 / 0')" in runs[0].message
    assert "ZeroDivisionError" in runs[0].message and "\x1b[" not in runs[0].message  # no colour codes
    executed = nbformat.read(runs[0].notebook, as_version=4)
    assert (
        executed.cells[2].outputs[0]["text"] == "before\n" and executed.cells[4].outputs == []
    )  # it stopped
    page = (tmp_path / "out" / "en" / "02_fine.html").read_text()
    assert "<html" in page and "FAST" in page
    index = (tmp_path / "out" / "index.html").read_text()
    assert index.count("<tr class=") == 2 and "failed" in index and 'href="en/02_fine.html"' in index
    assert any(line.startswith("[1/2] en/01_broken.ipynb") for line in lines)


def test_main_sets_the_modes_and_fails_when_a_lesson_fails(tmp_path, monkeypatch):
    seen = {}

    def fake_run_all(paths, out_dir, mode, say=print):
        import os

        seen.update(
            mode=mode, fast=os.environ["VAE_COURSE_FAST"], pretrained=os.environ["VAE_COURSE_PRETRAINED"]
        )
        seen["paths"] = [p.parent.name for p in paths]
        return [handouts.LessonRun("ko", "01.ipynb", "failed", 1.0, None, None, "ko/01.ipynb stopped at ...")]

    monkeypatch.setattr(handouts, "run_all", fake_run_all)
    monkeypatch.setenv("VAE_COURSE_FAST", "0")
    monkeypatch.setenv("VAE_COURSE_PRETRAINED", "0")
    assert handouts.main(["--fast", "--pretrained", "--lang", "ko", "--out", str(tmp_path)]) == 1
    assert seen["fast"] == "1" and seen["pretrained"] == "1" and set(seen["paths"]) == {"ko"}
    assert seen["mode"] == "FAST mode, pretrained models"
    with pytest.raises(SystemExit):
        handouts.main(["--lang", "fr"])
