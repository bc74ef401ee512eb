"""Every relative link in the lessons, the README and the other guides resolves, in the lab and on GitHub.

``course.py lab`` serves the repository's root, so a link resolves in the lab exactly when the file it names
exists inside the repository: the same rule as on GitHub.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
DOCUMENTS = sorted(ROOT.glob("notebooks/*/*.ipynb")) + [
    ROOT / "README.md",
    ROOT / "CONTRIBUTING.md",
    ROOT / "notebooks" / "GLOSSARY.md",
]


def markdown_of(path: Path) -> str:
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        return "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown")
    return path.read_text(encoding="utf-8")


def relative_links(text: str) -> list[str]:
    return [target for target in LINK.findall(text) if not re.match(r"^[a-z][a-z0-9+.-]*:|^#", target)]


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves_inside_the_repository(path):
    broken = []
    for target in relative_links(markdown_of(path)):
        resolved = (path.parent / target.split("#", 1)[0]).resolve()
        if not resolved.exists() or ROOT not in (resolved, *resolved.parents):
            broken.append(target)
    assert not broken, f"{path.relative_to(ROOT)}: links that resolve to nothing in the repository: {broken}"


def test_the_lessons_link_to_each_other_and_to_the_readme():
    lesson01 = markdown_of(ROOT / "notebooks/en/01_autoencoder.ipynb")
    assert "../../README.md" in relative_links(lesson01)
    readme = relative_links(markdown_of(ROOT / "README.md"))
    for lang in ("ko", "en"):
        for lesson in sorted((ROOT / "notebooks" / lang).glob("0*.ipynb")):
            assert f"notebooks/{lang}/{lesson.name}" in readme, lesson.name


def test_link_finder_on_small_strings():
    text = "see [a](../x.md), ![fig](f.svg), [web](https://example.org), [top](#setup) and [b](y.md#part)"
    assert relative_links(text) == ["../x.md", "f.svg", "y.md#part"]
