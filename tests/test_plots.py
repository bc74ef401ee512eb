"""vae_course.plots: each function returns a Figure that shows what was asked."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure
from scipy import stats

from vae_course import latent, plots


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_image_grid_lays_out_rows_and_titles():
    images = np.random.default_rng(0).random((12, 32, 32, 1)).astype(np.float32)
    fig = plots.image_grid(images, ncols=5, titles=[f"#{i}" for i in range(12)], title="samples")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 15  # 3 rows of 5
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 12
    np.testing.assert_array_equal(shown[3].images[0].get_array(), images[3, ..., 0])
    assert shown[0].get_title() == "#0"
    with pytest.raises(ValueError, match="shape"):
        plots.image_grid(np.zeros((2, 3)))


def test_reconstruction_rows_pairs_originals_and_reconstructions():
    originals = np.zeros((4, 8, 8, 1))
    reconstructions = np.ones((4, 8, 8, 1))
    fig = plots.reconstruction_rows(originals, reconstructions, embeddings=np.arange(8.0).reshape(4, 2))
    top, bottom = fig.axes[0], fig.axes[4]
    assert top.images[0].get_array().max() == 0 and bottom.images[0].get_array().min() == 1
    assert bottom.get_title() == "z=(0.0, 1.0)"


def test_latent_scatter_colours_by_class_and_marks_points():
    rng = np.random.default_rng(0)
    z, labels = rng.standard_normal((300, 2)), np.repeat(np.arange(3), 100)
    fig = plots.latent_scatter(z, labels, ["a", "b", "c"], points=np.array([[0.0, 0.0], [1.0, 1.0]]))
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b", "c"]
    assert len(ax.collections) == 4  # three classes and the marked points
    assert [t.get_text() for t in ax.texts] == ["0", "1"]
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        plots.latent_scatter(np.zeros((5, 3)))


class _ConstantDecoder:
    def predict(self, points, batch_size=None, verbose=0):
        values = (points[:, 0] > 0).astype(np.float32)  # bright right half, dark left half
        return np.broadcast_to(values[:, None, None, None], (len(points), 4, 4, 1)).copy()


def test_manifold_tiles_decoded_images_over_the_plane():
    fig = plots.manifold(_ConstantDecoder(), np.linspace(-1, 1, 4), np.linspace(-1, 1, 3))
    canvas = fig.axes[0].images[0].get_array()
    assert canvas.shape == (3 * 4, 4 * 4)
    assert canvas[:, :8].max() == 0 and canvas[:, 8:].min() == 1
    left, right, bottom, top = fig.axes[0].images[0].get_extent()
    assert left < -1 < 1 < right and bottom < -1 < 1 < top


def test_loss_curves_draws_train_and_validation():
    fig = plots.loss_curves({"loss": [3.0, 2.0], "val_loss": [3.5, 2.5]})
    lines = fig.axes[0].get_lines()
    assert len(lines) == 2
    np.testing.assert_array_equal(lines[1].get_ydata(), [3.5, 2.5])


def test_legend_outside_moves_the_legend_right_of_the_axes():
    rng = np.random.default_rng(2)
    fig = plots.latent_scatter(rng.normal(size=(200, 2)), rng.integers(0, 3, size=200), ["a", "b", "c"])
    ax = fig.axes[0]
    fig.canvas.draw()
    inside = ax.get_legend().get_window_extent()
    assert inside.x1 <= ax.get_window_extent().x1 + 1, "latent_scatter draws its legend inside the axes"

    assert plots.legend_outside(fig) is fig
    fig.canvas.draw()
    outside = ax.get_legend().get_window_extent()
    assert outside.x0 >= ax.get_window_extent().x1, "the legend must start right of the axes"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b", "c"]
    plt.close(fig)


def test_legend_outside_without_a_legend_says_so():
    fig = plots.latent_scatter(np.zeros((5, 2)))
    with pytest.raises(ValueError, match="no legend"):
        plots.legend_outside(fig)
    plt.close(fig)


class _RecordingDecoder:
    """Decodes a point to a 4x4 image whose pixels all equal Phi(z1): a tile shows where it was decoded."""

    def __init__(self):
        self.points = []

    def predict(self, points, batch_size=None, verbose=0):
        points = np.asarray(points)
        self.points.append(points)
        values = stats.norm.cdf(points[:, 0]).astype(np.float32)
        return np.broadcast_to(values[:, None, None, None], (len(points), 4, 4, 1)).copy()


def test_manifold_p_values_decodes_at_normal_quantiles_and_draws_at_probabilities():
    decoder = _RecordingDecoder()
    n, low, high = 5, 0.05, 0.95
    fig = plots.manifold_p_values(decoder, n=n, low=low, high=high)

    # What was decoded: norm.ppf of equal probability steps, computed independently with scipy.
    quantiles = stats.norm.ppf(np.linspace(low, high, n))
    np.testing.assert_allclose(decoder.points[0], latent.grid_points(quantiles, quantiles), rtol=1e-6)
    assert np.all(np.isfinite(decoder.points[0]))

    # Where it was drawn: tiles centred on linspace(low, high, n) in the p-value plane.
    ax = fig.axes[0]
    step = (high - low) / (n - 1)
    left, right, bottom, top = ax.images[0].get_extent()
    np.testing.assert_allclose([left, right, bottom, top], [low - step / 2, high + step / 2] * 2)
    assert ax.get_xlabel().startswith("$p_1")

    # Each column of tiles shows Phi(z1) of its decoded point, i.e. its own p-value.
    canvas = ax.images[0].get_array()
    column_values = canvas[0, ::4]
    np.testing.assert_allclose(column_values, np.linspace(low, high, n), rtol=1e-5)


def test_manifold_p_values_maps_embeddings_through_the_normal_cdf():
    z = np.array([[0.0, 0.0], [1.0, -1.0], [-2.0, 0.5]])
    fig = plots.manifold_p_values(_RecordingDecoder(), n=3, z=z, labels=np.array([0, 1, 2]))
    drawn = fig.axes[0].collections[0].get_offsets()
    np.testing.assert_allclose(drawn, stats.norm.cdf(z))


def test_manifold_decode_at_keeps_the_default_behaviour():
    decoder_default, decoder_explicit = _RecordingDecoder(), _RecordingDecoder()
    x_values, y_values = np.linspace(-1, 1, 4), np.linspace(-2, 2, 3)
    plots.manifold(decoder_default, x_values, y_values)
    plots.manifold(decoder_explicit, x_values, y_values, decode_at=(x_values, y_values))
    np.testing.assert_array_equal(decoder_default.points[0], decoder_explicit.points[0])


# --------------------------------------------------------------------------------------------
# RGB images (the face lessons) are drawn in colour; one channel in grey
# --------------------------------------------------------------------------------------------


def _solid(colour, n=1, size=8):
    return np.broadcast_to(np.asarray(colour, dtype=np.float32), (n, size, size, 3)).copy()


RED, BLUE = (1.0, 0.0, 0.0), (0.0, 0.0, 1.0)


def _rendered_centre(fig, ax):
    """The RGB colour the figure shows at the centre of ``ax``, read from the drawn canvas (0-255)."""
    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())[..., :3]
    box = ax.get_window_extent()
    x, y = int((box.x0 + box.x1) / 2), int(pixels.shape[0] - (box.y0 + box.y1) / 2)
    return pixels[y, x].astype(int)


def test_image_grid_draws_rgb_in_colour():
    images = np.concatenate([_solid(RED), _solid(BLUE)])
    fig = plots.image_grid(images, ncols=2)
    red_ax, blue_ax = fig.axes[0], fig.axes[1]
    assert red_ax.images[0].get_array().shape == (8, 8, 3)
    np.testing.assert_array_equal(red_ax.images[0].get_array(), images[0])
    np.testing.assert_array_equal(_rendered_centre(fig, red_ax), [255, 0, 0])
    np.testing.assert_array_equal(_rendered_centre(fig, blue_ax), [0, 0, 255])


def test_image_grid_draws_one_channel_with_the_grey_colormap():
    fig = plots.image_grid(np.ones((1, 8, 8, 1)), ncols=1)
    image = fig.axes[0].images[0]
    assert image.get_array().shape == (8, 8)
    assert image.get_cmap().name == plots.IMAGE_COLORMAP
    # gray_r draws 1.0 as black
    np.testing.assert_array_equal(_rendered_centre(fig, fig.axes[0]), [0, 0, 0])


def test_image_grid_rejects_two_channels():
    with pytest.raises(ValueError, match=r"\(N, H, W, 3\)"):
        plots.image_grid(np.zeros((2, 8, 8, 2)))


def test_reconstruction_rows_draw_rgb_in_colour():
    fig = plots.reconstruction_rows(_solid(RED, n=3), _solid(BLUE, n=3))
    top, bottom = fig.axes[0], fig.axes[3]
    np.testing.assert_array_equal(top.images[0].get_array(), _solid(RED)[0])
    np.testing.assert_array_equal(_rendered_centre(fig, top), [255, 0, 0])
    np.testing.assert_array_equal(_rendered_centre(fig, bottom), [0, 0, 255])


class _ColourDecoder:
    """Decodes z to a 4x4 RGB tile: red where z1 > 0, blue elsewhere."""

    def predict(self, points, batch_size=None, verbose=0):
        red = (np.asarray(points)[:, 0] > 0)[:, None, None, None]
        return np.where(red, np.float32(RED), np.float32(BLUE)) * np.ones((len(points), 4, 4, 3), np.float32)


def test_manifold_tiles_rgb_decodings_in_colour():
    fig = plots.manifold(_ColourDecoder(), np.linspace(-1, 1, 4), np.linspace(-1, 1, 3))
    ax = fig.axes[0]
    canvas = ax.images[0].get_array()
    assert canvas.shape == (3 * 4, 4 * 4, 3)
    np.testing.assert_array_equal(canvas[:, 8:], np.broadcast_to(RED, (12, 8, 3)))
    np.testing.assert_array_equal(canvas[:, :8], np.broadcast_to(BLUE, (12, 8, 3)))
    # The right half of the drawn plane is red (alpha 0.9 over white: 255, 25, 25).
    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(int)
    box = ax.get_window_extent()
    y = int(pixels.shape[0] - (box.y0 + box.y1) / 2)
    right = pixels[y, int(box.x0 + 0.8 * (box.x1 - box.x0))]
    left = pixels[y, int(box.x0 + 0.2 * (box.x1 - box.x0))]
    assert right[0] > 200 and right[1] < 60 and right[2] < 60, right
    assert left[2] > 200 and left[0] < 60 and left[1] < 60, left
