"""Drive the course's widgets in a real browser: JupyterLab served locally, Debian's Chromium, Playwright.

Used by ``tests/test_browser.py`` (the sliders work in JupyterLab) and ``python -m vae_course.bench browser``
(input-to-image latency). Playwright cannot download its own browser here, so it drives ``/usr/bin/chromium``
(Debian's ``chromium``; ``fonts-nanum`` gives it Hangul), headless, with the flags a closed network needs.

    with lab_server(folder) as lab:                          # jupyter lab on a free port, with a token
        with chromium_page() as page:
            open_notebook(page, lab, "explorers.ipynb")
            run_all_cells(page)
            slider = page.locator(".widget-hslider").first
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
"""Debian's Chromium (``apt-get install chromium``)."""
CHROMIUM_ARGS = (
    "--no-sandbox",  # needed as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # no connections to the outside, which this network refuses
    "--disable-component-update",
    "--disable-sync",
)
QUIET_CELL = 'import os\n\nos.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")'
EXPLORER_CELLS = [
    QUIET_CELL,
    "import numpy as np\nfrom IPython.display import display\n\nfrom vae_course import attributes, pretrained, widgets",
    # lesson 02's latent explorer on the shipped Fashion-MNIST VAE
    'vae = pretrained.load("vae_fashion")\nexplorer = widgets.LatentExplorer(vae.decoder)\ndisplay(explorer.widget)',
    # lesson 05's attribute and morph explorers on the shipped face VAE (codes and directions made up here)
    (
        'faces = pretrained.load("vae_faces_synthetic")\n'
        "rng = np.random.default_rng(0)\n"
        "codes = rng.normal(size=(3, 200)).astype('float32')\n"
        "directions = {name: v / np.linalg.norm(v) for name, v in zip(('first', 'second'), rng.normal(size=(2, 200)))}\n"
        "attribute = widgets.AttributeExplorer(faces.decoder, codes, directions)\n"
        "display(attribute.widget)"
    ),
    "morph = widgets.MorphExplorer(faces.decoder, codes, pair=(0, 1))\ndisplay(morph.widget)",
]
"""A notebook with the explorers of lessons 02 and 05 on the shipped models (nothing trains): three pictures
(``.widget-image`` 0, 1, 2) and five sliders (z1, z2; two attributes; the morph's t)."""


def missing() -> str | None:
    """Why the browser tools cannot run here (None when they can): no Playwright, or no Chromium."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install playwright)"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium fonts-nanum)"
    return None


@dataclass
class Lab:
    """A running JupyterLab: ``url`` (http://127.0.0.1:PORT), ``token``, ``root`` (its notebook folder)."""

    url: str
    token: str
    root: Path
    process: subprocess.Popen

    def link(self, path: str) -> str:
        """The lab's address for ``path``, in a fresh workspace of its own (``?reset``): the page shows this
        notebook alone. (The default workspace, kept in the user's settings folder across servers, reopens
        every notebook opened before, and the cells of those would count as this notebook's.)"""
        workspace = re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-")
        return f"{self.url}/lab/workspaces/{workspace}/tree/{path}?reset&token={self.token}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def lab_server(root: Path, env: dict | None = None, timeout: float = 90.0):
    """JupyterLab serving ``root`` on a free local port (stopped on exit). ``env`` adds to the environment."""
    port, token = free_port(), secrets.token_hex(16)
    command = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        f"--port={port}",
        "--ServerApp.ip=127.0.0.1",
        f"--IdentityProvider.token={token}",
        f"--notebook-dir={root}",
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    log = open(Path(root) / "jupyter-lab.log", "w", encoding="utf-8")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
    )
    lab = Lab(f"http://127.0.0.1:{port}", token, Path(root), process)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{lab.url}/api/status?token={token}", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"JupyterLab did not start; its log: {Path(root) / 'jupyter-lab.log'}")
            time.sleep(0.5)
        yield lab
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@contextlib.contextmanager
def chromium_page(width: int = 1400, height: int = 1000):
    """A Playwright page in headless Debian Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=list(CHROMIUM_ARGS)
        )
        try:
            yield browser.new_page(viewport={"width": width, "height": height})
        finally:
            browser.close()


def write_notebook(path: Path, sources: list[str]) -> Path:
    """A notebook of code cells (nbformat 4), for the browser to open."""
    cells = [
        {
            "cell_type": "code",
            "execution_count": None,
            "id": f"cell{index}",
            "metadata": {},
            "outputs": [],
            "source": s,
        }
        for index, s in enumerate(sources)
    ]
    notebook = {
        "cells": cells,
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(notebook, indent=1), encoding="utf-8")
    return path


def open_notebook(page, lab: Lab, path: str, timeout: float = 120.0) -> None:
    """Open ``path`` in the lab, alone in its page (see ``Lab.link``), and wait until its kernel is idle."""
    page.goto(lab.link(path))
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=timeout * 1000)
    wait_for_idle(page, timeout)


def wait_for_idle(page, timeout: float = 300.0) -> None:
    """Wait until the notebook's kernel reports idle (JupyterLab's execution indicator)."""
    page.wait_for_selector(
        ".jp-Notebook-ExecutionIndicator[data-status='idle']", state="attached", timeout=timeout * 1000
    )


def run_all_cells(page, timeout: float = 300.0) -> None:
    """Run > Run All Cells, then wait until every code cell has run and the kernel is idle."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    started = "() => [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].some(p => /\\[[*\\d]/.test(p.textContent))"
    for attempt in range(3):  # on a busy machine the first click can land before the menu is ready
        page.locator(".jp-Notebook").first.click()
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        try:
            page.wait_for_function(started, timeout=30_000)
            break
        except PlaywrightTimeout:  # try the menu again
            if attempt == 2:
                raise
    page.wait_for_function(  # every code cell has run: its prompt shows a number, not "[ ]" or "[*]"
        "() => [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]"
        ".every(p => /\\[\\d+\\]/.test(p.textContent))",
        timeout=timeout * 1000,
    )
    wait_for_idle(page, timeout)


def run_code(page, code: str, timeout: float = 60.0) -> str:
    """Add a cell at the end, run ``code`` in the kernel the browser is attached to, return its text output."""
    page.locator(".jp-Notebook .jp-Cell").last.click()
    page.keyboard.press("Escape")
    page.keyboard.press("b")  # a new cell below, in command mode
    page.keyboard.press("Enter")  # edit it
    page.keyboard.insert_text(code)
    page.keyboard.press("Shift+Enter")
    page.wait_for_function(
        "() => ![...document.querySelectorAll('.jp-InputPrompt')].some(p => p.textContent.includes('*'))",
        timeout=timeout * 1000,
    )
    cell = page.locator(".jp-Notebook .jp-CodeCell").nth(-2)  # ours: Shift+Enter added one more below
    return "\n".join(cell.locator(".jp-OutputArea-output").all_inner_texts())


def image_sources(page) -> list[str]:
    """The ``src`` of every widget image on the page (ipywidgets.Image: blob URLs, new for every update)."""
    return page.eval_on_selector_all(".widget-image", "images => images.map(image => image.src)")


def press_slider(page, slider: int, key: str = "ArrowRight", times: int = 1) -> None:
    """Focus the handle of slider ``slider`` (``.widget-hslider``, in page order) and press ``key`` ``times``."""
    handle = page.locator(".widget-hslider").nth(slider).locator(".noUi-handle")
    handle.scroll_into_view_if_needed()
    handle.focus()
    for _ in range(times):
        page.keyboard.press(key)


def slider_latency(page, slider: int, image: int, events: int = 40) -> list[float]:
    """Milliseconds from a key press on slider ``slider`` to the new picture in ``.widget-image`` ``image``.

    Measured in the page: a keydown listener stamps the press, a MutationObserver stamps the change of the
    image's ``src`` (the kernel decoded, drew, and sent the PNG back). The slider goes right for 10 presses,
    then left for 10, and so on, so it stays inside its range.
    """
    page.evaluate(
        """(image) => {
            window.__pressed = null;
            window.__latency = [];
            document.addEventListener('keydown', () => { window.__pressed = performance.now(); }, true);
            const target = document.querySelectorAll('.widget-image')[image];
            new MutationObserver(() => {
                if (window.__pressed !== null) {
                    window.__latency.push(performance.now() - window.__pressed);
                    window.__pressed = null;
                }
            }).observe(target, {attributes: true, attributeFilter: ['src']});
        }""",
        image,
    )
    for event in range(events):
        press_slider(page, slider, "ArrowRight" if (event // 10) % 2 == 0 else "ArrowLeft")
        page.wait_for_function("(n) => window.__latency.length > n", arg=event, timeout=30_000)
    return page.evaluate("window.__latency")


def measure_latency(folder: Path, events: int = 40) -> list[dict]:
    """Latency of the explorers in JupyterLab in Chromium: rows for ``python -m vae_course.bench browser``."""
    import numpy as np

    write_notebook(Path(folder) / "explorers.ipynb", EXPLORER_CELLS)
    rows = []
    with lab_server(folder) as lab, chromium_page() as page:
        open_notebook(page, lab, "explorers.ipynb")
        run_all_cells(page)
        page.wait_for_function(
            "() => document.querySelectorAll('.widget-image').length === 3", timeout=60_000
        )
        for name, slider, image in (
            ("2-D latent explorer (lesson 02), z1", 0, 0),
            ("64x64 attribute explorer (lesson 05)", 2, 1),
            ("64x64 morph explorer (lesson 05), t", 4, 2),
        ):
            times = np.array(slider_latency(page, slider, image, events))
            rows.append(
                {
                    "explorer": name,
                    "events": len(times),
                    "median_ms": round(float(np.median(times)), 1),
                    "p90_ms": round(float(np.percentile(times, 90)), 1),
                }
            )
    return rows
