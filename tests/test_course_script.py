"""course.py: the README documents the command it runs, and bad arguments get a usage message."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def load_course():
    spec = importlib.util.spec_from_file_location("course", ROOT / "course.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_and_ci_run_the_same_test_command():
    course = load_course()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "python3 course.py test" in readme
    assert "python " + " ".join(course.TEST_ARGS) in readme  # the pytest line the README spells out
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "python3 course.py test" in ci


def test_run_without_a_notebook_prints_usage(capsys):
    course = load_course()
    with pytest.raises(SystemExit, match="usage: python3 course.py run"):
        course.main(["run", "not-a-notebook.txt"])


def test_unknown_command_returns_2(capsys):
    assert load_course().main(["frobnicate"]) == 2
    assert "unknown command" in capsys.readouterr().err
