"""Additions made for lesson 02: the decoded grid in p-value coordinates (``plots.manifold_p_values``)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from scipy import stats  # noqa: E402

from vae_course import latent, plots  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


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
