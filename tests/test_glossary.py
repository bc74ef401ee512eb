"""notebooks/GLOSSARY.md: one Korean term per idea, and the Korean lessons' prose avoids the listed variants.

The table has four columns: 한국어 | English | 피할 말 / avoid | 메모 / note.
An avoid entry is a plain string or, in backticks, ``re:REGEX`` (a Python regular expression); entries are
comma-separated. A pipe inside a cell is written ``\\|`` (GitHub's table syntax), also inside backticks.
The prose of a lesson is its markdown and its code comments, without code, math, links' targets, HTML tags and
English glosses in parentheses (임베딩(embedding) keeps the gloss out of the check).
"""

from __future__ import annotations

import io
import json
import re
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
GLOSSARY = NOTEBOOKS / "GLOSSARY.md"
KOREAN_LESSONS = sorted((NOTEBOOKS / "ko").glob("*.ipynb"))
HEADER = ("한국어", "English", "피할 말 / avoid", "메모 / note")


@dataclass
class Entry:
    """One row of the glossary table."""

    korean: str
    english: str
    avoid: list[re.Pattern] = field(default_factory=list)
    note: str = ""
    line: int = 0


# ------------------------------------------------------------------------------ parsing


def split_row(line: str) -> list[str]:
    """The cells of a markdown table row; ``\\|`` is a pipe inside a cell (also inside code spans)."""
    body = line.strip()
    body = body.removeprefix("|")
    body = body[:-1] if body.endswith("|") and not body.endswith("\\|") else body
    return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", body)]


def parse_avoid(cell: str) -> list[re.Pattern]:
    """Patterns of an avoid cell: `re:REGEX` in backticks, or plain strings (backticked or not), comma-separated."""
    patterns = []
    for code, plain in re.findall(r"`([^`]+)`|([^,`]+)", cell):
        text = (code or plain).strip()
        if not text:
            continue
        patterns.append(re.compile(text[3:]) if text.startswith("re:") else re.compile(re.escape(text)))
    return patterns


def parse_glossary(text: str) -> list[Entry]:
    """Rows of the first table whose header is ``HEADER``.

    Raises ValueError naming the line when the table is missing or a row does not have four cells.
    """
    lines = text.splitlines()
    for start, line in enumerate(lines):
        if line.lstrip().startswith("|") and tuple(split_row(line)) == HEADER:
            break
    else:
        raise ValueError(f"no table with the header {' | '.join(HEADER)} in the glossary")
    entries = []
    for number, line in enumerate(lines[start + 2 :], start=start + 3):
        if not line.lstrip().startswith("|"):
            break
        cells = split_row(line)
        if len(cells) != len(HEADER):
            raise ValueError(
                f"glossary line {number} has {len(cells)} cells, expected {len(HEADER)} "
                f"(escape a pipe inside a cell as \\|): {line!r}"
            )
        korean, english, avoid, note = cells
        try:
            patterns = parse_avoid(avoid)
        except re.error as error:
            raise ValueError(
                f"glossary line {number}: bad regular expression in {avoid!r}: {error}"
            ) from None
        entries.append(Entry(korean, english, patterns, note, number))
    return entries


# ------------------------------------------------------------------------------ prose of a lesson


def strip_to_prose(markdown: str) -> str:
    """``markdown`` without code, math, link targets, URLs, HTML tags and parenthesised non-Korean glosses.

    Removed text is replaced by a space so that words on either side do not join.
    """
    text = re.sub(r"^(```|~~~).*?^\1[^\n]*$", " ", markdown, flags=re.MULTILINE | re.DOTALL)
    text = re.sub(r"(`+)(?!`).*?(?<!`)\1(?!`)", " ", text, flags=re.DOTALL)
    text = text.replace("\\$", " ")
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.DOTALL)
    text = re.sub(r"\$[^$]*\$", " ", text)
    text = re.sub(r"\]\([^)]*\)", "] ", text)  # keep a link's text, drop its target
    text = re.sub(r"https?://\S+", " ", text)
    text = re.sub(r"<[^<>]+>", " ", text)
    return re.sub(r"\([^()\uac00-\ud7a3]*\)", " ", text)  # 임베딩(embedding): the gloss is English on purpose


def comments(source: str) -> str:
    """The comments of a code cell, one per line (IPython magics and shell lines are skipped)."""
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    try:
        tokens = tokenize.generate_tokens(io.StringIO("\n".join(lines) + "\n").readline)
        return "\n".join(token.string.lstrip("#") for token in tokens if token.type == tokenize.COMMENT)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return "\n".join(match.group(1) for match in re.finditer(r"#(.*)$", source, flags=re.MULTILINE))


def prose_cells(path: Path) -> list[tuple[int, str]]:
    """(cell index, prose) of every cell of a notebook: markdown and code comments, stripped of code and math."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    prose = []
    for index, cell in enumerate(cells):
        source = "".join(cell["source"])
        text = source if cell["cell_type"] == "markdown" else comments(source)
        prose.append((index, strip_to_prose(text)))
    return prose


def avoided_forms(text: str, entries: list[Entry]) -> list[str]:
    """Each avoided form in ``text``: the match with ten characters around it and the preferred term.

    Overlapping matches are reported once, by the longest ('복원 손실' rather than '복원' as well).
    """
    matches = [
        (match.start(), match.end(), match.group(), entry)
        for entry in entries
        for pattern in entry.avoid
        for match in pattern.finditer(text)
        if match.group()
    ]
    found, covered_until = [], -1
    for start, end, matched, entry in sorted(matches, key=lambda m: (m[0], m[0] - m[1])):
        if start < covered_until:
            continue
        covered_until = end
        context = text[max(start - 10, 0) : end + 10].replace("\n", " ")
        found.append(f"{matched!r} in '…{context}…': write {entry.korean} ({entry.english})")
    return found


# ------------------------------------------------------------------------------ the glossary itself


@pytest.fixture(scope="module")
def entries() -> list[Entry]:
    return parse_glossary(GLOSSARY.read_text(encoding="utf-8"))


def test_glossary_has_entries(entries):
    assert len(entries) > 30
    assert any(entry.korean == "재구성" for entry in entries)


def test_glossary_has_no_duplicate_korean_terms(entries):
    seen: dict[str, int] = {}
    duplicates = []
    for entry in entries:
        if entry.korean in seen:
            duplicates.append(f"{entry.korean} (lines {seen[entry.korean]} and {entry.line})")
        seen[entry.korean] = entry.line
    assert not duplicates, f"GLOSSARY.md lists these Korean terms twice; keep one row each: {duplicates}"


def test_no_avoided_form_matches_a_preferred_term(entries):
    clashes = [
        f"line {entry.line}: avoid /{pattern.pattern}/ matches the preferred term {other.korean!r}"
        for entry in entries
        for pattern in entry.avoid
        for other in entries
        if pattern.search(other.korean)
    ]
    assert not clashes, (
        f"GLOSSARY.md: an avoided form must not hit a preferred term (narrow the regex): {clashes}"
    )


# ------------------------------------------------------------------------------ the Korean lessons


@pytest.mark.parametrize("path", KOREAN_LESSONS, ids=lambda p: p.name)
def test_korean_lesson_uses_the_glossary_terms(path, entries):
    problems = [
        f"cell {index}: {hit}" for index, text in prose_cells(path) for hit in avoided_forms(text, entries)
    ]
    assert not problems, (
        f"ko/{path.name}: {len(problems)} forms that GLOSSARY.md asks to avoid (code spans, math and English "
        f"glosses in parentheses are not checked):\n" + "\n".join(problems)
    )


@pytest.mark.parametrize("path", KOREAN_LESSONS, ids=lambda p: p.name)
def test_korean_lesson_that_says_variational_autoencoder_gives_the_books_name(path):
    prose = "\n".join(text for _, text in prose_cells(path))
    if "변분 오토인코더" not in prose:
        pytest.skip(f"ko/{path.name} does not use 변분 오토인코더")
    gives_books_name = "변이형 오토인코더" in prose
    assert gives_books_name, (
        f"ko/{path.name} says 변분 오토인코더 but never 변이형 오토인코더: mention the Korean edition's name once, "
        "at first use (see GLOSSARY.md)"
    )


# ------------------------------------------------------------------------------ the parser and the stripper


def test_split_row_keeps_escaped_pipes_inside_cells():
    row = r"| 레슨 | lesson | `re:(이번\|다음) 강` | q(z\|x) |"
    assert split_row(row) == ["레슨", "lesson", "`re:(이번|다음) 강`", "q(z|x)"]


def test_parse_avoid_reads_plain_strings_and_regexes():
    patterns = parse_avoid(r"자동 인코더, 자기부호화기, `re:\d\d강`, `re:a{1,2}b`")
    assert [p.pattern for p in patterns] == [
        re.escape("자동 인코더"),
        re.escape("자기부호화기"),
        r"\d\d강",
        "a{1,2}b",
    ]
    assert parse_avoid("") == []


def test_parse_glossary_reports_a_row_with_a_bare_pipe():
    table = (
        "| 한국어 | English | 피할 말 / avoid | 메모 / note |\n|---|---|---|---|\n| a | b | `re:x|y` | |\n"
    )
    with pytest.raises(ValueError, match=r"line 3 has 5 cells.*escape a pipe"):
        parse_glossary(table)
    with pytest.raises(ValueError, match="no table"):
        parse_glossary("# nothing here\n")


def test_stripper_skips_code_math_links_tags_and_glosses():
    prose = strip_to_prose(
        "`epochs`를 바꿉니다. $\\mathrm{epochs}$ and $$\\text{embedding}$$ "
        '[링크](https://example.com/epoch) <img src="epoch.png"> 임베딩(embedding)\n```\nepochs = 3\n```\n'
    )
    assert "epoch" not in prose.lower() and "embedding" not in prose.lower()
    assert "링크" in prose and "임베딩" in prose and "바꿉니다" in prose


def test_avoided_forms_on_small_strings(entries):
    assert avoided_forms(strip_to_prose("`epochs`를 5로 둡니다. 학습률은 0.001입니다."), entries) == []
    assert avoided_forms(strip_to_prose("학습자는 임베딩(embedding)을 봅니다."), entries) == []
    hits = avoided_forms(strip_to_prose("모델을 학습합니다. 5 epoch으로 복원 손실을 봅니다."), entries)
    assert any("'학습'" in hit and "훈련" in hit for hit in hits)
    assert any("'epoch'" in hit and "에포크" in hit for hit in hits)
    assert any("'복원 손실'" in hit and "재구성 손실" in hit for hit in hits)
    assert not any("'복원'" in hit for hit in hits), "the longer match '복원 손실' covers '복원'"
    assert avoided_forms(strip_to_prose("01강의 오토인코더, 다음 강에서"), entries)


def test_comments_are_prose_and_strings_are_not():
    source = 'x = "# epoch in a string"  # 5 epoch 동안\n%time y = 1  # magic line\n'
    assert comments(source).strip() == "5 epoch 동안"
