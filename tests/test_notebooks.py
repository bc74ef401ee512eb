"""Every lesson exists in Korean and English with the same code, and nothing executed is committed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
LANGUAGES = ("ko", "en")


def lessons(lang: str) -> dict[str, Path]:
    return {path.name: path for path in sorted((NOTEBOOKS / lang).glob("*.ipynb"))}


def code_without_comments(source: str) -> list[str]:
    """Code lines with comments and trailing blanks removed (comments are translated, code is not).

    A ``#`` inside a string literal is kept: only a ``#`` that starts a comment token is cut.
    """
    import io
    import tokenize

    lines = source.splitlines()
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        tokens = []
    for token in reversed([t for t in tokens if t.type == tokenize.COMMENT]):
        row, col = token.start
        lines[row - 1] = lines[row - 1][:col]
    return [line.rstrip() for line in lines if line.strip()]


def code_cells(path: Path) -> list[list[str]]:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    return [code_without_comments("".join(cell["source"])) for cell in notebook["cells"]
            if cell["cell_type"] == "code"]


def all_notebooks() -> list[Path]:
    return [path for lang in LANGUAGES for path in lessons(lang).values()]


def test_there_are_lessons():
    assert lessons("ko"), "no lessons found in notebooks/ko"
    assert re.match(r"\d\d_", next(iter(lessons("ko")))), "lesson files are named NN_topic.ipynb"


def test_every_lesson_exists_in_both_languages():
    assert set(lessons("ko")) == set(lessons("en"))


@pytest.mark.parametrize("name", sorted(set(lessons("ko")) & set(lessons("en"))))
def test_ko_and_en_have_identical_code_cells(name):
    ko, en = code_cells(NOTEBOOKS / "ko" / name), code_cells(NOTEBOOKS / "en" / name)
    assert len(ko) == len(en), f"{name}: {len(ko)} code cells in ko, {len(en)} in en"
    for index, (ko_cell, en_cell) in enumerate(zip(ko, en)):
        assert ko_cell == en_cell, f"{name}: code cell {index} differs between ko and en (comments ignored)"


@pytest.mark.parametrize("path", all_notebooks(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_outputs_or_widget_state_committed(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] == "code":
            assert not cell.get("outputs"), f"cell {index} has outputs: strip them before committing"
            assert cell.get("execution_count") is None, f"cell {index} has an execution count"
    assert "widgets" not in notebook.get("metadata", {}), "widget state is saved in the notebook metadata"


@pytest.mark.parametrize("path", all_notebooks(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_lesson_seeds_once_and_uses_fast_mode_helpers(path):
    sources = ["".join(cell["source"]) for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]
               if cell["cell_type"] == "code"]
    code = "\n".join(sources)
    assert code.count("seed_everything(") == 1, "a lesson seeds once, visibly"
    assert "config.fast_mode()" in code


def test_comment_stripping_keeps_hashes_in_strings():
    assert code_without_comments('x = "#1"  # note\n# only a comment\ny = 2') == ['x = "#1"', "y = 2"]
