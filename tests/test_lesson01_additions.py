"""Additions made for lesson 01: ``latent.neighbour_label_agreement`` and ``plots.legend_outside``."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from vae_course import latent, plots  # noqa: E402


def brute_force_agreement(z, labels):
    """Independent reference: full distance matrix, self excluded by an infinite diagonal."""
    distances = np.linalg.norm(z[:, None, :] - z[None, :, :], axis=-1)
    np.fill_diagonal(distances, np.inf)
    return float(np.mean(labels[distances.argmin(axis=1)] == labels))


def test_agreement_matches_a_brute_force_reference():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(300, 2))
    labels = rng.integers(0, 4, size=300)
    assert latent.neighbour_label_agreement(z, labels) == pytest.approx(brute_force_agreement(z, labels))


def test_agreement_is_one_for_separated_clusters_and_near_chance_for_random_labels():
    rng = np.random.default_rng(1)
    centres = np.array([[0.0, 0.0], [100.0, 0.0], [0.0, 100.0]])
    labels = np.repeat(np.arange(3), 200)
    z = centres[labels] + rng.normal(size=(600, 2))
    assert latent.neighbour_label_agreement(z, labels) == 1.0
    shuffled = rng.permutation(labels)
    assert latent.neighbour_label_agreement(z, shuffled) == pytest.approx(1 / 3, abs=0.08)


def test_agreement_with_duplicate_points_never_counts_a_point_as_its_own_neighbour():
    z = np.array([[0.0, 0.0], [0.0, 0.0], [5.0, 5.0], [5.0, 5.0]])
    labels = np.array([0, 1, 2, 3])
    assert latent.neighbour_label_agreement(z, labels) == 0.0


def test_agreement_rejects_mismatched_inputs():
    with pytest.raises(ValueError, match="labels"):
        latent.neighbour_label_agreement(np.zeros((5, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="N >= 2"):
        latent.neighbour_label_agreement(np.zeros((1, 2)), np.zeros(1))


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
