"""vae_course.latent: grids, sampling and the latent-space measurements, against hand-made cases."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from vae_course import latent


def test_bounding_box_and_uniform_samples_stay_inside():
    z = np.array([[0.0, -1.0], [2.0, 3.0], [1.0, 0.0]])
    low, high = latent.bounding_box(z)
    np.testing.assert_array_equal(low, [0.0, -1.0])
    np.testing.assert_array_equal(high, [2.0, 3.0])
    samples = latent.sample_uniform_box(z, 5000, seed=0)
    assert samples.shape == (5000, 2)
    assert (samples >= low).all() and (samples <= high).all()
    # uniform: the mean is the box centre, within 5 standard errors
    standard_error = (high - low) / np.sqrt(12 * 5000)
    assert np.all(np.abs(samples.mean(axis=0) - (low + high) / 2) < 5 * standard_error)


def test_bounding_box_rejects_empty_or_1d():
    with pytest.raises(ValueError, match=r"\(N, d\)"):
        latent.bounding_box(np.zeros((0, 2)))
    with pytest.raises(ValueError):
        latent.bounding_box(np.zeros(3))


def test_standard_normal_samples_are_seeded():
    a = latent.sample_standard_normal(1000, 3, seed=1)
    b = latent.sample_standard_normal(1000, 3, seed=1)
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float32 and a.shape == (1000, 3)
    assert abs(a.std() - 1.0) < 0.05


def test_nearest_distance_with_and_without_self():
    embeddings = np.array([[0.0, 0.0], [3.0, 4.0], [10.0, 0.0]])
    np.testing.assert_allclose(latent.nearest_distance(np.array([[0.0, 1.0]]), embeddings), [1.0])
    np.testing.assert_allclose(
        latent.nearest_distance(embeddings, embeddings, exclude_self=True), [5.0, 5.0, np.hypot(7.0, 4.0)]
    )


def test_grid_points_rows_run_from_top():
    points = latent.grid_points(np.array([0.0, 1.0, 2.0]), np.array([-1.0, 1.0]))
    np.testing.assert_array_equal(points, [[0, 1], [1, 1], [2, 1], [0, -1], [1, -1], [2, -1]])


class _EchoDecoder:
    """Stands in for a Keras decoder: the 'image' of z is a 2x2 picture filled with z1 + 10 z2."""

    def predict(self, points, batch_size=None, verbose=0):
        values = points[:, 0] + 10 * points[:, 1]
        return np.broadcast_to(values[:, None, None, None], (len(points), 2, 2, 1)).copy()


def test_decode_grid_puts_each_point_at_its_place():
    tiles = latent.decode_grid(_EchoDecoder(), np.array([0.0, 1.0, 2.0]), np.array([-1.0, 1.0]))
    assert tiles.shape == (2, 3, 2, 2, 1)
    assert tiles[0, 2, 0, 0, 0] == 2 + 10 * 1  # top row is the largest y
    assert tiles[1, 0, 1, 1, 0] == 0 + 10 * -1


def test_normal_quantile_grid_is_finite_and_symmetric():
    grid = latent.normal_quantile_grid(11)
    assert np.isfinite(grid).all()
    np.testing.assert_allclose(grid, -grid[::-1], atol=1e-12)
    np.testing.assert_allclose(grid[0], stats.norm.ppf(0.05))
    with pytest.raises(ValueError, match="finite"):
        latent.normal_quantile_grid(5, low=0.0, high=1.0)


def test_p_values_of_normal_samples_are_uniform():
    p = latent.to_p_values(np.random.default_rng(0).standard_normal(20000))
    assert stats.kstest(p, "uniform").pvalue > 0.01


def test_class_area_shares_on_a_known_split():
    # class 0 owns the left quarter of the box, class 1 the other three quarters
    z = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [4.0, 0.0], [4.0, 1.0]])
    labels = np.array([0, 0, 1, 1, 1, 1])
    shares = latent.class_area_shares(z, labels, n_classes=3, resolution=401)
    np.testing.assert_allclose(shares, [0.125, 0.875, 0.0], atol=0.01)  # boundary at x = 0.5 of 4
    with pytest.raises(ValueError, match="2-D"):
        latent.class_area_shares(np.zeros((4, 3)), np.zeros(4, dtype=int))


def test_latent_space_report_separates_a_holey_space_from_a_full_one():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 4000)
    full = rng.standard_normal((4000, 2))
    holey = np.concatenate([rng.normal([-5, 0], 0.3, (2000, 2)), rng.normal([5, 8], 0.3, (2000, 2))])
    samples_full = rng.standard_normal((500, 2))
    samples_holey = latent.sample_uniform_box(holey, 500, seed=1)
    report_full = latent.latent_space_report(full, labels, samples_full)
    report_holey = latent.latent_space_report(holey, labels, samples_holey)
    assert report_full["centre_distance"] < 0.1
    assert report_holey["centre_distance"] > 0.5
    assert report_full["hole_ratio_median"] < 2.0
    assert report_holey["hole_ratio_median"] > 10 * report_full["hole_ratio_median"]
    assert set(report_full) == {
        "area_share_min",
        "area_share_max",
        "centre_distance",
        "spread_x",
        "spread_y",
        "hole_ratio_median",
        "hole_ratio_p90",
    }


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
