"""vae_course.plots: each function returns a Figure that shows what was asked."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from vae_course import plots  # noqa: E402


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
