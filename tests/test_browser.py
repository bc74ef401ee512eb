"""The sliders work in a real browser: JupyterLab in headless Chromium (Debian's), driven by Playwright.

A notebook with the explorers of lessons 02 and 05 (the shipped models, so nothing trains) is run in the lab;
each slider is moved by keyboard and by mouse, the picture must change, and the kernel's state must match the
slider. A Korean lesson must render Hangul (fonts-nanum). CI installs Chromium, fonts-nanum and Playwright
(``.ci/run``); elsewhere these tests are skipped when the tools are missing, and in CI they fail instead.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from vae_course import browser

ROOT = Path(__file__).resolve().parents[1]
WHY_NOT = browser.missing()
if WHY_NOT and os.environ.get("CI"):
    raise RuntimeError(f"the browser tests must run in CI: {WHY_NOT} (.ci/run installs it)")
pytestmark = pytest.mark.skipif(WHY_NOT is not None, reason=WHY_NOT or "")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    root = tmp_path_factory.mktemp("lab")
    browser.write_notebook(root / "explorers.ipynb", browser.EXPLORER_CELLS)
    (root / "ko").mkdir()
    shutil.copy(ROOT / "notebooks" / "ko" / "01_autoencoder.ipynb", root / "ko" / "01_autoencoder.ipynb")
    with browser.lab_server(root, env={"VAE_COURSE_FAST": "1"}) as server:
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


def kernel_agrees(page, slider, value: str, check: str) -> None:
    """The kernel's ``value`` equals the readout of ``slider`` (a locator), and its ``check`` prints True."""
    shown = float(slider.locator(".widget-readout").inner_text())
    answer = browser.run_code(page, f"print(round({value}, 4), {check})")
    kernel_value, same = answer.split()
    assert float(kernel_value) == pytest.approx(shown, abs=1e-3) and same == "True", answer


def test_a_slider_moved_by_keyboard_redraws_and_the_kernel_agrees(page):
    before = browser.image_sources(page)[0]
    browser.press_slider(page, 0, "ArrowRight", times=6)
    assert wait_for_new_image(page, 0, before) != before
    slider = page.locator(".widget-hslider").first
    assert float(slider.locator(".widget-readout").inner_text()) > 0.0
    kernel_agrees(
        page,
        slider,
        "explorer.sliders[0].value",
        "np.allclose(explorer.last_image, widgets.decode_point(vae.decoder, [s.value for s in explorer.sliders]))",
    )


def test_a_slider_moved_by_mouse_redraws_and_the_kernel_agrees(page):
    before = browser.image_sources(page)[1]
    slider = page.locator(".widget-hslider").nth(2)  # the first attribute of the attribute explorer
    slider.scroll_into_view_if_needed()
    track = slider.locator(".noUi-target").bounding_box()
    handle = slider.locator(".noUi-handle").bounding_box()
    page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    page.mouse.down()  # drag the handle to 85 % of the track
    page.mouse.move(track["x"] + 0.85 * track["width"], handle["y"] + handle["height"] / 2, steps=8)
    page.mouse.up()
    assert wait_for_new_image(page, 1, before) != before
    assert float(slider.locator(".widget-readout").inner_text()) > 1.0  # dragged near the right end
    kernel_agrees(
        page,
        slider,
        "attribute.sliders[0].value",
        "np.allclose(attribute.code, codes[attribute.index] "
        "+ sum(s.value * directions[n] for n, s in zip(directions, attribute.sliders)), atol=1e-5)",
    )


def test_the_morph_slider_redraws_and_the_kernel_agrees(page):
    before = browser.image_sources(page)[2]
    browser.press_slider(page, 4, "ArrowRight", times=5)
    assert wait_for_new_image(page, 2, before) != before
    kernel_agrees(
        page,
        page.locator(".widget-hslider").nth(4),
        "morph.slider.value",
        "np.allclose(morph.code, (attributes.lerp if morph.mode == 'lerp' else attributes.slerp)"
        "(codes[0], codes[1], morph.slider.value), atol=1e-5)",
    )


def test_korean_lessons_render_hangul(lab, page):
    """With fonts-nanum, Chromium draws '가' as a glyph, not as the box it draws for a code point with no font."""
    page = page.context.browser.new_page()  # the same browser (one Playwright per thread)
    try:
        page.goto(lab.link("ko/01_autoencoder.ipynb"))
        page.wait_for_selector(".jp-MarkdownCell", timeout=60_000)
        assert "오토인코더" in page.locator(".jp-MarkdownCell").first.inner_text()
        different = page.evaluate(
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
    finally:
        page.close()


def test_the_latency_probe_counts_one_time_per_key_press(page):
    """The benchmark's in-page timer (``browser.slider_latency``): one positive time per press."""
    times = browser.slider_latency(page, slider=1, image=0, events=3)
    assert len(times) == 3 and all(0 < t < 20_000 for t in times)
