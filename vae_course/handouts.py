"""The whole series as handouts: every lesson run in order, each in a fresh kernel, saved as notebook and HTML.

    python3 course.py handouts [--fast] [--pretrained] [--lang ko|en|both]
    python -m vae_course.handouts [--fast] [--pretrained] [--lang ko|en|both] [--out runs/handouts]

For every lesson (``notebooks/<lang>/NN_*.ipynb`` and the appendices, in order) it starts a fresh kernel, runs
the lesson top to bottom, and writes ``<out>/<lang>/<lesson>.ipynb`` (executed, with the widgets' state, so
the sliders' last picture shows) and ``<out>/<lang>/<lesson>.html`` (standalone: figures embedded). It prints
a line per lesson and per cell that takes longer than ``LONG_CELL_SECONDS``. A failing cell stops that lesson
with a message naming the lesson and the cell; the other lessons still run, and the exit status is 1.
``<out>/index.html`` lists every lesson with its status, wall time and links.

``--fast`` sets ``VAE_COURSE_FAST=1`` and ``--pretrained`` sets ``VAE_COURSE_PRETRAINED=1`` for the kernels.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from vae_course import config

ROOT = Path(__file__).resolve().parents[1]
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
"""Terminal colour codes, as IPython puts them into a traceback."""
LONG_CELL_SECONDS = 10.0
"""Cells that run longer than this get a progress line of their own."""


@dataclass
class LessonRun:
    """What happened to one lesson: ``status`` "ok" or "failed", ``seconds``, the files written, ``message``."""

    lang: str
    name: str
    status: str
    seconds: float
    notebook: Path | None
    html: Path | None
    message: str = ""


def lessons(lang: str, folder: Path | None = None) -> list[Path]:
    """The lessons of ``lang`` in course order: ``NN_*.ipynb`` first, then the appendices (``A1_...``)."""
    folder = (ROOT / "notebooks" / lang) if folder is None else Path(folder)
    paths = sorted(folder.glob("*.ipynb"))
    return [path for path in paths if path.name[0].isdigit()] + [p for p in paths if not p.name[0].isdigit()]


def _cell_label(index: int, cell) -> str:
    first = next((line for line in cell.source.splitlines() if line.strip()), "")
    return f"code cell {index} ({first.strip()[:60]!r})"


def run_lesson(path: Path, out_dir: Path, timeout: int = 3600, say=print) -> LessonRun:
    """Run ``path`` in a fresh kernel (its folder as working directory); write the notebook and the HTML."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from nbconvert import HTMLExporter
    from nbformat.warnings import MissingIDFieldWarning

    lang = path.parent.name
    with warnings.catch_warnings():  # the lessons' cells carry no ids; nbformat adds them, with a warning
        warnings.simplefilter("ignore", category=MissingIDFieldWarning)
        notebook = nbformat.read(path, as_version=4)
    code_index = {
        id(cell): number for number, cell in enumerate(c for c in notebook.cells if c.cell_type == "code")
    }
    started = {}

    def cell_start(cell, cell_index):
        started[cell_index] = time.perf_counter()

    def cell_done(cell, cell_index, execute_reply):
        seconds = time.perf_counter() - started.get(cell_index, time.perf_counter())
        if seconds > LONG_CELL_SECONDS:
            say(f"    {_cell_label(code_index.get(id(cell), cell_index), cell)}: {seconds:.0f} s")

    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        store_widget_state=True,
        on_cell_start=cell_start,
        on_cell_executed=cell_done,
    )
    status, message = "ok", ""
    begin = time.perf_counter()
    try:
        client.execute()
    except CellExecutionError as error:
        failed = next(
            (
                cell
                for cell in notebook.cells
                if any(o.get("output_type") == "error" for o in cell.get("outputs", []))
            ),
            None,
        )
        where = _cell_label(code_index.get(id(failed), -1), failed) if failed is not None else "a cell"
        text = ANSI_ESCAPE.sub("", str(error)).strip()  # the traceback's colour codes
        first_line = text.splitlines()[-1] if text else type(error).__name__
        status, message = "failed", f"{lang}/{path.name} stopped at {where}: {first_line}"
    except Exception as error:  # noqa: BLE001 (a dead kernel, a timeout: the lesson fails, the series goes on)
        status, message = "failed", f"{lang}/{path.name} could not run: {type(error).__name__}: {error}"
    seconds = time.perf_counter() - begin
    target = out_dir / lang
    target.mkdir(parents=True, exist_ok=True)
    notebook_path = target / path.name
    nbformat.write(notebook, notebook_path)
    html_path = notebook_path.with_suffix(".html")
    body, _ = HTMLExporter(embed_images=True).from_notebook_node(notebook)
    html_path.write_text(body, encoding="utf-8")
    return LessonRun(lang, path.name, status, seconds, notebook_path, html_path, message)


def write_index(runs: list[LessonRun], out_dir: Path, mode: str) -> Path:
    """``out_dir/index.html``: one row per lesson with its status, wall time and links."""
    rows = []
    for run in runs:
        links = " ".join(
            f'<a href="{html.escape(str(path.relative_to(out_dir)))}">{label}</a>'
            for path, label in ((run.html, "HTML"), (run.notebook, "notebook"))
            if path is not None
        )
        rows.append(
            f"<tr class='{run.status}'><td>{run.lang}</td><td>{html.escape(run.name)}</td><td>{run.status}</td>"
            f"<td>{run.seconds:.0f} s</td><td>{links}</td><td>{html.escape(run.message)}</td></tr>"
        )
    page = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>vae-course handouts</title>"
        "<style>body{font-family:sans-serif}td,th{padding:4px 10px}.failed{background:#fdd}</style></head><body>"
        f"<h1>vae-course handouts</h1><p>{html.escape(mode)}, {time.strftime('%Y-%m-%d %H:%M')}</p>"
        "<table><tr><th>language</th><th>lesson</th><th>status</th><th>wall time</th><th>files</th><th></th></tr>"
        + "".join(rows)
        + "</table></body></html>\n"
    )
    index = out_dir / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def run_all(paths: list[Path], out_dir: Path, mode: str, say=print) -> list[LessonRun]:
    """Run every lesson in ``paths`` in order (see ``run_lesson``) and write the index."""
    out_dir.mkdir(parents=True, exist_ok=True)
    runs = []
    for number, path in enumerate(paths, start=1):
        say(f"[{number}/{len(paths)}] {path.parent.name}/{path.name} ...")
        run = run_lesson(path, out_dir, say=say)
        say(f"    {run.status} in {run.seconds:.0f} s" + (f": {run.message}" if run.message else ""))
        runs.append(run)
    write_index(runs, out_dir, mode)
    return runs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vae_course.handouts", description=__doc__.split("\n")[0])
    parser.add_argument("--fast", action="store_true", help="FAST mode (VAE_COURSE_FAST=1)")
    parser.add_argument(
        "--pretrained", action="store_true", help="the shipped models (VAE_COURSE_PRETRAINED=1)"
    )
    parser.add_argument("--lang", choices=("ko", "en", "both"), default="both")
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "handouts")
    args = parser.parse_args(argv)
    os.environ[config.FAST_ENV_VAR] = "1" if args.fast else "0"
    os.environ[config.PRETRAINED_ENV_VAR] = "1" if args.pretrained else "0"
    languages = ("ko", "en") if args.lang == "both" else (args.lang,)
    paths = [path for lang in languages for path in lessons(lang)]
    mode = ("FAST" if args.fast else "full") + " mode" + (", pretrained models" if args.pretrained else "")
    runs = run_all(paths, args.out, mode)
    failed = [run for run in runs if run.status != "ok"]
    print(f"{len(runs) - len(failed)} of {len(runs)} lessons ran; index: {args.out / 'index.html'}")
    for run in failed:
        print(f"FAILED: {run.message}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
