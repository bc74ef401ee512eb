"""Every lesson exists in Korean and English with the same code, and nothing executed is committed."""

from __future__ import annotations

import ast
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
    return [
        code_without_comments("".join(cell["source"]))
        for cell in notebook["cells"]
        if cell["cell_type"] == "code"
    ]


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
    sources = [
        "".join(cell["source"])
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]
        if cell["cell_type"] == "code"
    ]
    code = "\n".join(sources)
    assert code.count("seed_everything(") == 1, "a lesson seeds once, visibly"
    assert "config.fast_mode()" in code


def test_comment_stripping_keeps_hashes_in_strings():
    assert code_without_comments('x = "#1"  # note\n# only a comment\ny = 2') == ['x = "#1"', "y = 2"]


# ------------------------------------------------------------------------------ naming and the lesson list

LESSON_NAME = re.compile(r"^(?:\d\d|A\d)_[a-z0-9_]+\.ipynb$")
"""``NN_topic.ipynb`` for a lesson, ``A1_topic.ipynb`` for an appendix."""


def markdown_cells(path: Path) -> list[tuple[int, str]]:
    """(cell index, source) of every markdown cell of the notebook at ``path``."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [
        (index, "".join(cell["source"]))
        for index, cell in enumerate(cells)
        if cell["cell_type"] == "markdown"
    ]


def code_cell_sources(path: Path) -> list[tuple[int, str]]:
    """(cell index, source) of every code cell of the notebook at ``path``."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [
        (index, "".join(cell["source"])) for index, cell in enumerate(cells) if cell["cell_type"] == "code"
    ]


def notebook_id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_lesson_files_are_named_nn_or_appendix(lang):
    bad = [name for name in lessons(lang) if not LESSON_NAME.match(name)]
    assert not bad, (
        f"notebooks/{lang}: {bad} do not follow NN_topic.ipynb (lesson) or A1_topic.ipynb (appendix)"
    )


def test_every_lesson_and_appendix_has_both_languages():
    ko, en = set(lessons("ko")), set(lessons("en"))
    assert not ko - en, f"only in Korean, translate to notebooks/en/: {sorted(ko - en)}"
    assert not en - ko, f"only in English, translate to notebooks/ko/: {sorted(en - ko)}"


# ------------------------------------------------------------------------------ markdown hygiene

ALLOWED_CONTROL = {"\n", "\t"}


def control_characters(text: str) -> list[str]:
    """Every control character in ``text`` other than newline and tab, shown with 20 characters around it."""
    found = []
    for match in re.finditer(r"[\x00-\x1f\x7f-\x9f]", text):
        if match.group() in ALLOWED_CONTROL:
            continue
        start, end = max(match.start() - 20, 0), match.end() + 20
        found.append(f"{match.group()!r} in {text[start:end]!r}")
    return found


@pytest.mark.parametrize("path", all_notebooks(), ids=notebook_id)
def test_markdown_has_no_control_characters(path):
    problems = [
        f"cell {index}: {hit}" for index, text in markdown_cells(path) for hit in control_characters(text)
    ]
    assert not problems, (
        f'{notebook_id(path)}: control characters in markdown (a LaTeX backslash written as "\\b" instead of '
        f"\"\\\\b\" in the JSON turns \\beta into a backspace + 'eta'; escape the backslash): {problems}"
    )


def strip_code(markdown: str) -> str:
    """``markdown`` without fenced code blocks and inline code spans (which may hold a literal ``$``)."""
    markdown = re.sub(r"^(```|~~~).*?^\1[^\n]*$", "", markdown, flags=re.MULTILINE | re.DOTALL)
    return re.sub(r"(`+)(?!`).*?(?<!`)\1(?!`)", "", markdown, flags=re.DOTALL)


def unbalanced_math(markdown: str) -> str | None:
    """Why the ``$`` math of one markdown cell is unbalanced, or None when it is balanced.

    Code is skipped, ``\\$`` is a literal dollar, ``$$`` opens and closes display math, ``$`` inline math.
    """
    text = strip_code(markdown).replace("\\$", "")
    if text.count("$$") % 2:
        return f"{text.count('$$')} '$$' (an odd number: a display block is not closed)"
    inline = re.sub(r"\$\$.*?\$\$", "", text, flags=re.DOTALL)
    if inline.count("$") % 2:
        lines = [line.strip() for line in inline.splitlines() if line.count("$") % 2]
        return f"an odd number of '$' outside display math; look at: {lines[:3]}"
    return None


@pytest.mark.parametrize("path", all_notebooks(), ids=notebook_id)
def test_markdown_math_dollars_are_balanced(path):
    problems = [
        f"cell {index}: {why}" for index, text in markdown_cells(path) if (why := unbalanced_math(text))
    ]
    assert not problems, (
        f"{notebook_id(path)}: unbalanced $ math (close every $...$ and $$...$$; write a literal dollar as \\$ "
        f"or inside `code`): {problems}"
    )


SUMMARY_LABELS = {"ko": {"해답 보기", "힌트 보기"}, "en": {"Solution", "Hint"}}
"""The ``<summary>`` labels each language may use: one word per idea, in the notebook's own language."""


@pytest.mark.parametrize("path", all_notebooks(), ids=notebook_id)
def test_summary_labels_are_in_the_notebooks_language(path):
    allowed = SUMMARY_LABELS[path.parent.name]
    problems = [
        f"cell {index}: <summary>{label}</summary>"
        for index, text in markdown_cells(path)
        for label in re.findall(r"<summary>(.*?)</summary>", text, flags=re.DOTALL)
        if label.strip() not in allowed
    ]
    assert not problems, (
        f"{notebook_id(path)}: write the <summary> of a collapsible block as one of {sorted(allowed)}: {problems}"
    )


# ------------------------------------------------------------------------------ self-checks that bite in FAST mode


def _mentions_fast(node: ast.AST) -> bool:
    """Whether an expression reads the FAST flag (``FAST`` or ``config.fast_mode()``)."""
    for child in ast.walk(node):
        if isinstance(child, ast.Name) and child.id == "FAST":
            return True
        if (
            isinstance(child, ast.Call)
            and getattr(child.func, "attr", getattr(child.func, "id", "")) == "fast_mode"
        ):
            return True
    return False


def _is_fast_flag(node: ast.AST) -> bool:
    """``FAST``, ``not FAST``, ``(not FAST)``, ``config.fast_mode()`` and their negations."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return _is_fast_flag(node.operand)
    return (isinstance(node, ast.Name) and node.id == "FAST") or (
        isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "fast_mode"
    )


def checks_switched_off_by_fast(source: str) -> list[str]:
    """Asserts that a FAST (or full) run skips: ``assert FAST or ...``, ``assert (not FAST) or ...``,
    ``assert ... if not FAST else True`` and any ``assert`` inside ``if FAST:`` / ``if not FAST:`` (either branch).

    A threshold that depends on FAST (``assert loss < (LIMIT_FAST if FAST else LIMIT)``) is fine: it still checks.
    """
    lines = [line if not line.lstrip().startswith(("%", "!")) else "" for line in source.splitlines()]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        found = re.findall(
            r"^.*assert\s*\(?\s*(?:not\s+)?\(?\s*FAST\s*\)?\s+or\b.*$", source, flags=re.MULTILINE
        )
        return [line.strip() for line in found]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert):
            test = node.test
            if (
                isinstance(test, ast.BoolOp)
                and isinstance(test.op, ast.Or)
                and any(map(_is_fast_flag, test.values))
                or (
                    isinstance(test, ast.IfExp)
                    and _mentions_fast(test.test)
                    and any(isinstance(b, ast.Constant) and b.value for b in (test.body, test.orelse))
                )
            ):
                found.append(ast.get_source_segment("\n".join(lines), node) or "assert ...")
        elif isinstance(node, ast.If) and _mentions_fast(node.test):
            for branch in (node.body, node.orelse):
                for statement in branch:
                    for inner in ast.walk(statement):
                        if isinstance(inner, ast.Assert):
                            found.append(f"if {ast.unparse(node.test)}: ... {ast.unparse(inner)}")
    return found


@pytest.mark.parametrize("path", all_notebooks(), ids=notebook_id)
def test_no_self_check_is_switched_off_in_fast_mode(path):
    problems = [
        f"cell {index}: {check}"
        for index, source in code_cell_sources(path)
        for check in checks_switched_off_by_fast(source)
    ]
    assert not problems, (
        f"{notebook_id(path)}: these asserts do not run in one of the modes; use a threshold that holds in FAST "
        f"mode too (like lesson 01's MAX_VAL_LOSS), or move the full-mode claim to a test on the "
        f"pretrained model: {problems}"
    )


def test_fast_switch_detector():
    assert checks_switched_off_by_fast("assert FAST or loss < 1")
    assert checks_switched_off_by_fast("assert (not FAST) or loss < 1")
    assert checks_switched_off_by_fast("assert not FAST or loss < 1")
    assert checks_switched_off_by_fast("assert config.fast_mode() or loss < 1")
    assert checks_switched_off_by_fast("if not FAST:\n    assert loss < 1")
    assert checks_switched_off_by_fast("if FAST:\n    pass\nelse:\n    for x in y:\n        assert x")
    assert checks_switched_off_by_fast("assert loss < 1 if not FAST else True")
    assert checks_switched_off_by_fast("%time x = 1\nassert FAST or x")
    assert not checks_switched_off_by_fast("LIMIT = 0.3 if FAST else 0.262\nassert loss < LIMIT, loss")
    assert not checks_switched_off_by_fast("assert loss < (0.3 if FAST else 0.262)")
    assert not checks_switched_off_by_fast("if FAST:\n    EPOCHS = 1\nassert EPOCHS > 0")
    assert not checks_switched_off_by_fast("assert FASTER or x")


def test_markdown_checkers_on_small_strings():
    assert control_characters("$-\beta$") and not control_characters("$-\\beta$\n\tok")
    assert unbalanced_math("$a$ and $$b$$ and `$` and \\$5") is None
    assert unbalanced_math("price \\$3 and $x") is not None
    assert unbalanced_math("$$\nx\n") is not None
    assert unbalanced_math("```python\ncost = '$'\n```\n$z$") is None
    assert unbalanced_math("$a$ `b $ c` $d$") is None


# ---------------------------------------------------------------------------------- no TensorFlow log lines
QUIET_LINE = 'os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")'
QUIET_PYTHON_LINE = 'logging.getLogger("tensorflow").setLevel(logging.ERROR)'


@pytest.mark.parametrize("path", all_notebooks(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_lesson_quiets_tensorflow_before_importing_it(path):
    """The first code cell sets TF_CPP_MIN_LOG_LEVEL, and no import of TensorFlow or Keras comes before it."""
    cells = code_cells(path)
    assert cells[0] == ["import logging", "import os", QUIET_LINE, QUIET_PYTHON_LINE], cells[0]
    assert "TF_ENABLE_ONEDNN_OPTS" not in path.read_text(encoding="utf-8"), "oneDNN stays on (1.6x faster)"


def test_the_first_cells_of_a_lesson_print_nothing_to_stderr(tmp_path):
    """Run lesson 02's first code cells (the quiet cell, the setup with TensorFlow and Keras, the parameters)
    in a fresh kernel, as the lab does: no cell may print to stderr (TensorFlow's start-up notices did)."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(NOTEBOOKS / "en" / "02_vae.ipynb", as_version=4)
    first = [cell for cell in notebook.cells if cell.cell_type == "code"][:3]
    notebook.cells = first
    client = NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    stderr = [
        output.get("text", "")
        for cell in notebook.cells
        for output in cell.outputs
        if output.get("output_type") == "stream" and output.get("name") == "stderr"
    ]
    assert stderr == [], stderr
    assert any("TensorFlow" in output.get("text", "") for output in notebook.cells[1].outputs)  # it did run
