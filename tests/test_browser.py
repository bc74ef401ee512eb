"""The sliders work in a real browser: JupyterLab in headless Chromium (Debian's), driven by Playwright.

Lesson 02 itself (the Korean edition) runs in the lab, in FAST mode with the pretrained switch on, as a
teacher would run it: its latent explorer is moved by keyboard and by mouse, the picture must change, and the
kernel's state must match the slider; no cell may print to stderr, and its Hangul must render (fonts-nanum).
Lesson 05's attribute and morph explorers run on the shipped face model in a small notebook of their own
(``browser.EXPLORER_CELLS``). CI installs Chromium, fonts-nanum and Playwright (``.ci/run``); elsewhere these
tests are skipped when the tools are missing, and in CI they fail instead.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from vae_course import browser, data

ROOT = Path(__file__).resolve().parents[1]
FASHION_DIR = data.DEBIAN_FASHION_DIR  # read at import, before conftest isolates the data paths
WHY_NOT = browser.missing()
if WHY_NOT and os.environ.get("CI"):
    raise RuntimeError(f"the browser tests must run in CI: {WHY_NOT} (.ci/run installs it)")
pytestmark = pytest.mark.skipif(WHY_NOT is not None, reason=WHY_NOT or "")
LESSON_02 = "ko/02_vae.ipynb"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    root = tmp_path_factory.mktemp("lab")
    browser.write_notebook(root / "explorers.ipynb", browser.EXPLORER_CELLS)
    (root / "ko").mkdir()
    shutil.copy(ROOT / "notebooks" / LESSON_02, root / LESSON_02)
    env = {
        "VAE_COURSE_FAST": "1",
        "VAE_COURSE_PRETRAINED": "1",
        data.DATA_DIR_ENV_VAR: str(FASHION_DIR),
        "VAE_COURSE_ARTIFACTS": str(root / "artifacts"),
    }
    with browser.lab_server(root, env=env) as server:
        yield server


@pytest.fixture(scope="module")
def page(lab):
    with browser.chromium_page() as page:
        browser.open_notebook(page, lab, "explorers.ipynb")
        browser.run_all_cells(page)
        page.wait_for_function(
            "() => document.querySelectorAll('.widget-image').length === 3", timeout=60_000
        )
        yield page


@pytest.fixture(scope="module")
def lesson02(lab, page):
    """Lesson 02 (Korean), run top to bottom in the lab: FAST mode, pretrained switch on."""
    lesson = page.context.browser.new_page(
        viewport={"width": 1400, "height": 1000}
    )  # one Playwright per thread
    try:
        browser.open_notebook(lesson, lab, LESSON_02)
        browser.run_all_cells(lesson, timeout=300)
        yield lesson
    finally:
        lesson.close()


def wait_for_new_image(page, index: int, before: str) -> str:
    page.wait_for_function(
        "([index, before]) => document.querySelectorAll('.widget-image')[index].src !== before",
        arg=[index, before],
        timeout=20_000,
    )
    return browser.image_sources(page)[index]


def test_the_explorers_render_with_their_sliders(page):
    assert len(browser.image_sources(page)) == 3  # one picture per explorer
    assert page.locator(".widget-hslider").count() == 2 + 2 + 1  # z1, z2; two attributes; t
    assert page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count() == 0


def readout(slider) -> float:
    """The number a slider shows (ipywidgets writes negative values with the Unicode minus sign)."""
    return float(slider.locator(".widget-readout").inner_text().replace("\u2212", "-"))


def kernel_agrees(page, slider, value: str, check: str) -> None:
    """The kernel's ``value`` equals the readout of ``slider`` (a locator), and its ``check`` prints True."""
    shown = readout(slider)
    answer = browser.run_code(page, f"print(round({value}, 4), {check})")
    kernel_value, same = answer.split()
    assert float(kernel_value) == pytest.approx(shown, abs=1e-3) and same == "True", answer


STDERR = ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
LESSON_02_EXPLORER_CHECK = (
    "np.allclose(explorer.last_image, widgets.decode_point(decoder, [s.value for s in explorer.sliders]))"
)


def test_lesson_02_runs_in_the_lab_on_the_pretrained_model(lesson02):
    """Every cell ran (run_all_cells waited for each prompt's number), none wrote to stderr or raised, and the
    kernel ran the lesson as a class would: FAST mode, the shipped model, its real training log."""
    assert lesson02.locator(STDERR).count() == 0, lesson02.locator(STDERR).first.inner_text()
    assert len(browser.image_sources(lesson02)) == 1  # the latent explorer's picture
    assert lesson02.locator(".widget-hslider").count() == 2  # z1, z2
    answer = browser.run_code(
        lesson02, "print(FAST, PRETRAINED, len(history.epoch), round(best_val_total, 2))"
    )
    fast, switched, epochs, best = answer.split()
    assert (fast, switched, epochs) == ("True", "True", "5") and float(best) <= 135.0, answer


def press_and_check(page, slider: int, image: int, times: int, value: str, check: str) -> None:
    """Press ArrowRight ``times`` on slider ``slider``: picture ``image`` must change and the kernel agree."""
    before = browser.image_sources(page)[image]
    browser.press_slider(page, slider, "ArrowRight", times=times)
    assert wait_for_new_image(page, image, before) != before
    kernel_agrees(page, page.locator(".widget-hslider").nth(slider), value, check)


def test_lesson_02_slider_moved_by_keyboard_redraws_and_the_kernel_agrees(lesson02):
    press_and_check(lesson02, 0, 0, 6, "explorer.sliders[0].value", LESSON_02_EXPLORER_CHECK)


def test_lesson_02_slider_moved_by_mouse_redraws_and_the_kernel_agrees(lesson02):
    before = browser.image_sources(lesson02)[0]
    slider = lesson02.locator(".widget-hslider").nth(1)  # z2
    drag_to(lesson02, slider, 0.15)
    assert wait_for_new_image(lesson02, 0, before) != before
    assert readout(slider) < -1.0  # dragged near the left end
    kernel_agrees(lesson02, slider, "explorer.sliders[1].value", LESSON_02_EXPLORER_CHECK)


def drag_to(page, slider, fraction: float) -> None:
    """Drag the handle of ``slider`` (a locator) with the mouse to ``fraction`` of its track."""
    slider.scroll_into_view_if_needed()
    track = slider.locator(".noUi-target").bounding_box()
    handle = slider.locator(".noUi-handle").bounding_box()
    page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    page.mouse.down()
    page.mouse.move(track["x"] + fraction * track["width"], handle["y"] + handle["height"] / 2, steps=8)
    page.mouse.up()


def test_an_attribute_slider_moved_by_mouse_redraws_and_the_kernel_agrees(page):
    before = browser.image_sources(page)[1]
    slider = page.locator(".widget-hslider").nth(2)  # the first attribute of the attribute explorer
    drag_to(page, slider, 0.85)
    assert wait_for_new_image(page, 1, before) != before
    assert readout(slider) > 1.0  # dragged near the right end
    kernel_agrees(
        page,
        slider,
        "attribute.sliders[0].value",
        "np.allclose(attribute.code, codes[attribute.index] "
        "+ sum(s.value * directions[n] for n, s in zip(directions, attribute.sliders)), atol=1e-5)",
    )


def test_the_morph_slider_redraws_and_the_kernel_agrees(page):
    press_and_check(
        page,
        4,
        2,
        5,
        "morph.slider.value",
        "np.allclose(morph.code, (attributes.lerp if morph.mode == 'lerp' else attributes.slerp)"
        "(codes[0], codes[1], morph.slider.value), atol=1e-5)",
    )


def test_korean_lessons_render_hangul(lesson02):
    """With fonts-nanum, Chromium draws '가' as a glyph, not as the box it draws for a code point with no font."""
    # the cells on screen (the notebook draws only those): Korean prose, rendered
    assert lesson02.locator(".jp-MarkdownCell").filter(has_text=re.compile("[가-힣]{2}")).count() > 0
    different = lesson02.evaluate(
        """() => {
            const draw = (text) => {
                const canvas = document.createElement('canvas');
                canvas.width = 64; canvas.height = 64;
                const context = canvas.getContext('2d');
                context.font = '40px sans-serif';
                context.fillText(text, 4, 48);
                return Array.from(context.getImageData(0, 0, 64, 64).data).join(',');
            };
            return draw('가') !== draw('\\u0378');
        }"""
    )
    assert different, "Hangul is drawn as a missing-glyph box: install fonts-nanum"


def test_the_latency_probe_counts_one_time_per_key_press(page):
    """The benchmark's in-page timer (``browser.slider_latency``): one positive time per press."""
    times = browser.slider_latency(page, slider=1, image=0, events=3)
    assert len(times) == 3 and all(0 < t < 20_000 for t in times)
