"""vae_course.widgets: the pure functions behind the sliders, and that a slider event redraws."""

from __future__ import annotations

import io

import keras
import numpy as np
import pytest
from PIL import Image

from vae_course import widgets


@pytest.fixture(scope="module")
def linear_decoder():
    """A decoder whose output is known in closed form: image = reshape(z @ W + b) as a 4x4 picture."""
    inputs = keras.Input(shape=(2,))
    dense = keras.layers.Dense(16, name="dense")
    outputs = keras.layers.Reshape((4, 4, 1))(dense(inputs))
    decoder = keras.Model(inputs, outputs)
    rng = np.random.default_rng(0)
    weights, bias = rng.normal(size=(2, 16)).astype(np.float32), rng.normal(size=16).astype(np.float32)
    dense.set_weights([weights, bias])
    return decoder, weights, bias


def test_decode_point_returns_the_image_of_z(linear_decoder):
    decoder, weights, bias = linear_decoder
    z = np.array([0.5, -1.25])
    image = widgets.decode_point(decoder, z)
    assert image.shape == (4, 4)
    np.testing.assert_allclose(image, (z @ weights + bias).reshape(4, 4), rtol=1e-5, atol=1e-6)


def test_decode_point_rejects_a_point_of_the_wrong_size(linear_decoder):
    with pytest.raises(ValueError, match="2 coordinates, got 3"):
        widgets.decode_point(linear_decoder[0], [0.0, 1.0, 2.0])


def _png_size(data: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(data)).size


def test_slider_event_decodes_moves_marker_and_redraws(linear_decoder):
    decoder, weights, bias = linear_decoder
    z = np.random.default_rng(1).standard_normal((200, 2))
    explorer = widgets.latent_explorer(decoder, z, labels=np.arange(200) % 10)
    before = explorer.live.image.value
    explorer.sliders[0].value = 1.5
    np.testing.assert_allclose(explorer.last_image, (np.array([1.5, 0.0]) @ weights + bias).reshape(4, 4),
                               rtol=1e-5, atol=1e-6)
    assert list(explorer.marker.get_xdata()) == [1.5] and list(explorer.marker.get_ydata()) == [0.0]
    after = explorer.live.image.value
    assert after != before and _png_size(after) == _png_size(before)
    explorer.set_point([-2.0, 2.0])
    assert [s.value for s in explorer.sliders] == [-2.0, 2.0]
    assert explorer.caption.get_text() == "decoded z = (-2.00, 2.00)"


def test_kl_for_matches_the_closed_form():
    for mean, std in [(0.0, 1.0), (1.0, 0.5), (-2.0, 3.0)]:
        expected = 0.5 * (std**2 + mean**2 - 1 - np.log(std**2))
        assert widgets.kl_for(mean, std) == pytest.approx(expected, rel=1e-12, abs=1e-15)
    with pytest.raises(ValueError, match="positive"):
        widgets.kl_for(0.0, 0.0)


def test_kl_explorer_updates_value_and_curve():
    explorer = widgets.KLExplorer(mean=0.0, std=1.0)
    assert explorer.kl == pytest.approx(0.0, abs=1e-12)
    before = explorer.live.image.value
    explorer.sliders[0].value = 2.0
    assert explorer.kl == pytest.approx(2.0)  # 0.5 * mu^2 with sigma = 1
    assert explorer.label.get_text() == "KL(q || p) = 2.000 nats"
    assert explorer.live.image.value != before
    assert np.argmax(explorer.curve.get_ydata()) == np.argmin(np.abs(explorer.x - 2.0))


def test_explorer_takes_one_range_per_slider(linear_decoder):
    explorer = widgets.latent_explorer(linear_decoder[0], limits=[(-16.0, 4.0), (-5.0, 9.0)])
    assert [(s.min, s.max) for s in explorer.sliders] == [(-16.0, 4.0), (-5.0, 9.0)]
    scatter_ax = explorer.marker.axes
    assert scatter_ax.get_xlim() == (-16.0, 4.0) and scatter_ax.get_ylim() == (-5.0, 9.0)
    with pytest.raises(ValueError, match="low < high"):
        widgets.latent_explorer(linear_decoder[0], limits=(3.0, -3.0))
