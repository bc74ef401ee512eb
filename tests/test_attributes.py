"""vae_course.attributes: vectors, AUC, stability, the book's stop rule, shift/lerp/slerp, the probe."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from vae_course import attributes


def _cosine(a, b) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def _planted(n=20_000, latent_dim=32, signal=1.0, seed=0, scales=None):
    """Gaussian codes with a planted attribute direction: z = noise + has_attribute * true_vector."""
    rng = np.random.default_rng(seed)
    true_vector = rng.standard_normal(latent_dim)
    true_vector *= signal / np.linalg.norm(true_vector)
    has_attribute = rng.random(n) < 0.4
    scales = np.ones(latent_dim) if scales is None else scales
    z = rng.standard_normal((n, latent_dim)) * scales + has_attribute[:, np.newaxis] * true_vector
    return z, has_attribute, true_vector


# --------------------------------------------------------------------------------------------
# Vectors
# --------------------------------------------------------------------------------------------


def test_attribute_vector_recovers_a_planted_direction():
    z, has_attribute, true_vector = _planted()
    vector = attributes.attribute_vector(z, has_attribute)
    assert vector.shape == (32,)
    assert _cosine(vector, true_vector) >= 0.99
    # Not normalised: its length estimates the distance between the group means (1 here).
    assert np.linalg.norm(vector) == pytest.approx(1.0, abs=0.1)
    np.testing.assert_allclose(vector, z[has_attribute].mean(0) - z[~has_attribute].mean(0), rtol=1e-12)


def test_attribute_vector_takes_0_1_labels_and_many_columns():
    z, has_attribute, _ = _planted(n=500, latent_dim=4)
    np.testing.assert_array_equal(
        attributes.attribute_vector(z, has_attribute.astype(int)),
        attributes.attribute_vector(z, has_attribute),
    )
    labels = np.stack([has_attribute, ~has_attribute], axis=1)
    vectors = attributes.attribute_vectors(z, labels)
    assert vectors.shape == (2, 4)
    np.testing.assert_allclose(vectors[1], -vectors[0], rtol=1e-12)


def test_attribute_vector_errors_say_what_is_wrong():
    z = np.zeros((6, 3))
    with pytest.raises(ValueError, match="no positive"):
        attributes.attribute_vector(z, np.zeros(6, bool))
    with pytest.raises(ValueError, match="no negative"):
        attributes.attribute_vector(z, np.ones(6, bool))
    with pytest.raises(ValueError, match=r"shape \(6,\)"):
        attributes.attribute_vector(z, np.ones(5, bool))
    with pytest.raises(ValueError, match="labels == 1"):
        attributes.attribute_vector(z, np.array([1, -1, 1, -1, 1, -1]))
    with pytest.raises(ValueError, match="2-D array"):
        attributes.attribute_vector(np.zeros(6), np.ones(6, bool))
    with pytest.raises(ValueError, match="NaN"):
        attributes.attribute_vector(np.full((6, 3), np.nan), np.arange(6) % 2 == 0)
    with pytest.raises(ValueError, match="N = 6 rows"):
        attributes.attribute_vectors(z, np.ones((5, 2), bool))


# --------------------------------------------------------------------------------------------
# AUC
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("separation", [0.0, 0.5, 1.0, 2.0])
def test_projection_auc_matches_the_closed_form_for_shifted_gaussians(separation):
    rng = np.random.default_rng(int(10 * separation))
    n = 20_000
    has_attribute = np.arange(n) < n // 2
    z = rng.standard_normal((n, 3))
    z[has_attribute, 0] += separation
    auc = attributes.projection_auc(np.array([2.0, 0.0, 0.0]), z, has_attribute)
    closed_form = stats.norm.cdf(separation / math.sqrt(2.0))
    assert auc == pytest.approx(closed_form, abs=0.01)  # standard error about 0.003
    assert attributes.normal_auc(separation) == pytest.approx(closed_form, rel=1e-12)


def _correlated_groups(n, seed):
    """Two Gaussian groups with a shared covariance whose largest spread leans into the mean difference."""
    rng = np.random.default_rng(seed)
    mean_difference = np.array([1.0, 1.0, 0.0, 0.0])
    mixing = np.diag([0.3, 3.0, 1.0, 1.0])  # dimension 1 carries a nuisance factor ten times wider
    mixing[1, 0] = 0.5  # and it leaks into dimension 0
    covariance = mixing @ mixing.T
    has_attribute = rng.random(n) < 0.5
    z = rng.standard_normal((n, 4)) @ mixing.T + has_attribute[:, np.newaxis] * mean_difference
    return z, has_attribute, mean_difference, covariance


def test_discriminant_reaches_the_closed_form_ceiling_where_the_mean_difference_does_not():
    """For Gaussian groups with a shared covariance C, a direction w separates with AUC
    Phi(w.d / sqrt(2 w'Cw)); Fisher's w = C^-1 d reaches the highest, Phi(sqrt(d'C^-1 d / 2))."""
    z, has_attribute, difference, covariance = _correlated_groups(20_000, seed=1)
    z_test, test_labels, _, _ = _correlated_groups(20_000, seed=2)
    w = attributes.discriminant_vector(z, has_attribute, shrinkage=0.0)
    v = attributes.attribute_vector(z, has_attribute)

    def closed_form(direction):
        return stats.norm.cdf(direction @ difference / math.sqrt(2 * direction @ covariance @ direction))

    ceiling = stats.norm.cdf(math.sqrt(difference @ np.linalg.solve(covariance, difference) / 2))
    assert _cosine(w, np.linalg.solve(covariance, difference)) > 0.999
    assert attributes.projection_auc(w, z_test, test_labels) == pytest.approx(ceiling, abs=0.01)
    assert attributes.projection_auc(v, z_test, test_labels) == pytest.approx(closed_form(v), abs=0.01)
    assert ceiling - closed_form(v) > 0.1  # the mean difference falls well short of the ceiling here


def test_discriminant_is_the_attribute_vector_when_the_spread_is_even_and_shrinks_towards_it():
    z, has_attribute, _ = _planted(n=20_000, latent_dim=8, seed=3)
    v = attributes.attribute_vector(z, has_attribute)
    assert _cosine(attributes.discriminant_vector(z, has_attribute, shrinkage=0.0), v) > 0.99
    skewed, labels, _, _ = _correlated_groups(5_000, seed=4)
    v = attributes.attribute_vector(skewed, labels)
    cosines = [_cosine(attributes.discriminant_vector(skewed, labels, s), v) for s in (0.0, 1.0, 1e6)]
    assert cosines[0] < cosines[1] < cosines[2] and cosines[2] > 0.9999


def test_discriminant_errors():
    z, has_attribute, _ = _planted(n=100, latent_dim=4)
    with pytest.raises(ValueError, match="shrinkage must be a finite number >= 0"):
        attributes.discriminant_vector(z, has_attribute, shrinkage=-1.0)
    with pytest.raises(ValueError, match="do not vary within the groups"):
        attributes.discriminant_vector(np.ones((10, 3)), np.arange(10) < 5)
    with pytest.raises(ValueError, match=r"no positive \(True\) example"):
        attributes.discriminant_vector(z, np.zeros(100, dtype=bool))


def test_projection_auc_equals_scipy_mann_whitney_with_ties():
    rng = np.random.default_rng(3)
    z = np.round(rng.standard_normal((700, 2)), 1)  # rounding makes many ties
    has_attribute = rng.random(700) < 0.3
    z[has_attribute] += 0.4
    vector = np.array([1.0, 0.0])
    scores = z @ vector
    positives, negatives = scores[has_attribute], scores[~has_attribute]
    u_statistic = stats.mannwhitneyu(positives, negatives).statistic
    expected = u_statistic / (len(positives) * len(negatives))
    assert attributes.projection_auc(vector, z, has_attribute) == pytest.approx(expected, rel=1e-12)
    # The same number by the O(N^2) definition: P(pos > neg) + 0.5 P(pos == neg).
    differences = positives[:, np.newaxis] - negatives[np.newaxis, :]
    brute_force = np.mean(differences > 0) + 0.5 * np.mean(differences == 0)
    assert attributes.rank_auc(scores, has_attribute) == pytest.approx(brute_force, rel=1e-12)


def test_rank_auc_counts_a_tie_as_one_half():
    # Positives score 2 and 3, negatives 1 and 2: pairs (2,1) 1, (2,2) 1/2, (3,1) 1, (3,2) 1 -> 3.5 / 4.
    assert attributes.rank_auc([1.0, 2.0, 2.0, 3.0], [0, 1, 0, 1]) == 0.875
    assert attributes.rank_auc([5.0, 5.0, 5.0], [True, False, True]) == 0.5
    assert attributes.rank_auc([0.0, 1.0], [False, True]) == 1.0


def test_projection_auc_flips_with_the_sign_and_ignores_the_scale():
    z, has_attribute, true_vector = _planted(n=2_000, latent_dim=5, seed=7)
    auc = attributes.projection_auc(true_vector, z, has_attribute)
    assert auc > 0.6
    assert attributes.projection_auc(-true_vector, z, has_attribute) == pytest.approx(1.0 - auc, abs=1e-12)
    assert attributes.projection_auc(10 * true_vector, z, has_attribute) == pytest.approx(auc, abs=1e-12)


def test_auc_errors():
    with pytest.raises(ValueError, match="positives and negatives"):
        attributes.rank_auc([1.0, 2.0], [True, True])
    with pytest.raises(ValueError, match="1-D"):
        attributes.rank_auc(np.zeros((2, 2)), [True, False])
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        attributes.projection_auc(np.zeros(2), np.zeros((4, 3)), [True, False, True, False])


# --------------------------------------------------------------------------------------------
# Label correlation and vector cosine
# --------------------------------------------------------------------------------------------


def test_attribute_correlations_match_numpy_and_cosines_match_the_definition():
    rng = np.random.default_rng(5)
    labels = rng.random((300, 3)) < 0.5
    labels[:, 2] = labels[:, 0] ^ (rng.random(300) < 0.1)
    np.testing.assert_allclose(
        attributes.attribute_correlations(labels), np.corrcoef(labels, rowvar=False), atol=1e-12
    )
    constant = np.c_[labels[:, :1], np.ones((300, 1), bool)]
    correlations = attributes.attribute_correlations(constant)
    assert np.isnan(correlations[0, 1]) and correlations[1, 1] == 1.0
    vectors = np.array([[1.0, 0.0], [1.0, 1.0], [-2.0, 0.0]])
    expected = np.array(
        [[1, 1 / math.sqrt(2), -1], [1 / math.sqrt(2), 1, -1 / math.sqrt(2)], [-1, -1 / math.sqrt(2), 1]]
    )
    np.testing.assert_allclose(attributes.vector_cosines(vectors), expected, atol=1e-12)
    with pytest.raises(ValueError, match="zero"):
        attributes.vector_cosines([[1.0, 0.0], [0.0, 0.0]])


# --------------------------------------------------------------------------------------------
# Stability and the noise floor
# --------------------------------------------------------------------------------------------

SCALES = np.linspace(0.3, 1.5, 40)  # an anisotropic latent space: d_eff is less than 40


def test_noise_floor_matches_a_simulation_of_pure_noise():
    rng = np.random.default_rng(11)
    z = rng.standard_normal((40_000, 40)) * SCALES
    has_attribute = rng.random(40_000) < 0.5  # no relation to z: no true vector
    model = attributes.stability_model(z, has_attribute)
    # Independent reference: cosines between pairs of vectors drawn from N(0, C), C = 2 diag(SCALES^2).
    pairs = rng.standard_normal((2, 20_000, 40)) * SCALES * math.sqrt(2.0)
    cosines = np.sum(pairs[0] * pairs[1], axis=1) / np.prod(np.linalg.norm(pairs, axis=2), axis=0)
    assert model.noise_floor == pytest.approx(np.quantile(cosines, 0.95), rel=0.08)
    d_eff = np.sum(SCALES**2) ** 2 / np.sum(SCALES**4)
    assert model.effective_dimensions == pytest.approx(d_eff, rel=0.08)
    assert model.signal < 0.02  # no planted signal
    # vector_stability's halves under the null: mean about 0 and the same spread, whatever n.
    rows = attributes.vector_stability(z, has_attribute, sizes=[10, 100], seed=2, repeats=300)
    for row in rows:
        assert abs(row["cosine"]) < 4 * row["cosine_std"] / math.sqrt(300)
        assert row["noise_floor"] == model.noise_floor
        assert row["expected_cosine"] < 0.05
        assert row["cosine_std"] == pytest.approx(1 / math.sqrt(d_eff), rel=0.15)


def test_stability_follows_the_signal_plus_noise_model():
    z, has_attribute, _ = _planted(n=12_000, latent_dim=40, signal=1.0, seed=4, scales=SCALES)
    model = attributes.stability_model(z, has_attribute)
    assert model.signal == pytest.approx(1.0, abs=0.05)
    assert model.noise == pytest.approx(2 * np.sum(SCALES**2), rel=0.05)
    sizes = [5, 40, 300, 1_200]
    rows = attributes.vector_stability(z, has_attribute, sizes=sizes, seed=0, repeats=40)
    assert [row["n"] for row in rows] == sizes
    cosines = [row["cosine"] for row in rows]
    assert cosines == sorted(cosines)  # more images, more stable
    for row in rows:
        assert row["cosine"] == pytest.approx(row["expected_cosine"], abs=0.06)
        assert row["expected_cosine"] == pytest.approx(1.0 / (1.0 + model.noise / (model.signal * row["n"])))
    assert rows[-1]["cosine"] > rows[-1]["noise_floor"] > rows[0]["cosine"]


def test_faces_needed_inverts_the_expected_cosine():
    z, has_attribute, _ = _planted(n=4_000, latent_dim=10, signal=0.5, seed=9)
    model = attributes.stability_model(z, has_attribute)
    n = model.faces_needed(0.9)
    assert n == attributes.faces_needed(z, has_attribute, 0.9)
    assert model.expected_cosine(n) >= 0.9 > model.expected_cosine(n - 1)
    assert attributes.StabilityModel(0.0, 1.0, 1.0, 1, 1).faces_needed(0.9) == math.inf
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        model.faces_needed(1.0)


def test_vector_stability_rejects_sizes_that_do_not_fit():
    z, has_attribute, _ = _planted(n=100, latent_dim=3, seed=1)
    n_small = min(has_attribute.sum(), (~has_attribute).sum()) // 2
    with pytest.raises(ValueError, match=f"1 <= n <= {n_small}"):
        attributes.vector_stability(z, has_attribute, sizes=[5, n_small + 1])
    with pytest.raises(ValueError, match="repeats"):
        attributes.vector_stability(z, has_attribute, sizes=[5], repeats=0)


def test_vector_stability_is_reproducible_with_a_seed():
    z, has_attribute, _ = _planted(n=1_000, latent_dim=6, seed=2)
    first = attributes.vector_stability(z, has_attribute, sizes=[20, 100], seed=5)
    assert first == attributes.vector_stability(z, has_attribute, sizes=[20, 100], seed=5)
    assert first != attributes.vector_stability(z, has_attribute, sizes=[20, 100], seed=6)


# --------------------------------------------------------------------------------------------
# The book's stop rule
# --------------------------------------------------------------------------------------------


def test_running_mean_movement_is_the_change_of_the_running_means():
    z, has_attribute, _ = _planted(n=1_000, latent_dim=8, seed=3)
    result = attributes.running_mean_movement(z, has_attribute, batch_size=100, seed=None)
    assert list(result["images"]) == list(range(100, 1_001, 100))
    # Independent recomputation from prefix means of the unshuffled codes.
    for batch in (3, 7):
        before, after = slice(0, 100 * batch), slice(0, 100 * (batch + 1))
        moved_positive = np.linalg.norm(
            z[after][has_attribute[after]].mean(0) - z[before][has_attribute[before]].mean(0)
        )
        moved_negative = np.linalg.norm(
            z[after][~has_attribute[after]].mean(0) - z[before][~has_attribute[before]].mean(0)
        )
        assert result["movement"][batch] == pytest.approx(moved_positive + moved_negative, rel=1e-10)
        assert result["positives"][batch] == has_attribute[after].sum()
    assert np.isnan(result["movement"][0])  # the first batch creates the means: nothing moved yet
    vector = z[has_attribute].mean(0) - z[~has_attribute].mean(0)
    assert result["vector_norm"][-1] == pytest.approx(np.linalg.norm(vector), rel=1e-10)


def test_book_stop_rule_tracks_the_noise_not_the_signal():
    rng = np.random.default_rng(8)
    noise = rng.standard_normal((20_000, 50))
    has_attribute = rng.random(20_000) < 0.4
    direction = rng.standard_normal(50)
    movements = []
    for signal in (0.0, 3.0):  # no attribute at all, and a strong one
        z = noise + signal * has_attribute[:, np.newaxis] * direction / np.linalg.norm(direction)
        movements.append(attributes.running_mean_movement(z, has_attribute, batch_size=128, seed=1))
    # Moving the positives by a constant moves their running means by that constant: same movement.
    np.testing.assert_allclose(movements[0]["movement"], movements[1]["movement"], rtol=1e-8)
    stop = attributes.book_stop_rule(movements[0]["movement"])
    assert stop is not None and stop == attributes.book_stop_rule(movements[1]["movement"])
    # The movement follows the pure-noise prediction and shrinks like 1 / n.
    movement, expected = movements[0]["movement"][2:], movements[0]["expected_movement"][2:]
    assert np.median(movement / expected) == pytest.approx(1.0, abs=0.1)
    images = movements[0]["images"]
    early, late = np.searchsorted(images, 1_000), np.searchsorted(images, 10_000)
    ratio = np.mean(movements[0]["movement"][late - 3 : late + 3]) / np.mean(
        movements[0]["movement"][early - 3 : early + 3]
    )
    assert ratio == pytest.approx(0.1, rel=0.35)


def test_book_stop_rule_returns_the_first_batch_below_the_threshold():
    assert attributes.book_stop_rule([np.nan, 0.5, 0.07, 0.01]) == 2
    assert attributes.book_stop_rule([np.nan, 0.5, 0.2]) is None
    assert attributes.book_stop_rule([0.3, 0.2], threshold=0.25) == 1
    with pytest.raises(ValueError, match="1-D"):
        attributes.book_stop_rule(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="batch_size"):
        attributes.running_mean_movement(np.zeros((4, 2)), [True, False, True, False], batch_size=0)


# --------------------------------------------------------------------------------------------
# shift, lerp, slerp
# --------------------------------------------------------------------------------------------


def test_shift_adds_alpha_times_the_vector():
    z = np.array([1.0, -2.0, 0.5])
    vector = np.array([0.5, 0.0, -1.0])
    alphas = np.array([-3.0, 0.0, 1.5])
    shifted = attributes.shift(z, vector, alphas)
    assert shifted.shape == (3, 3)
    np.testing.assert_allclose(shifted, [[-0.5, -2.0, 3.5], [1.0, -2.0, 0.5], [1.75, -2.0, -1.0]], rtol=1e-12)
    np.testing.assert_array_equal(shifted[1], z)
    assert attributes.shift(z, vector, 2.0).shape == (1, 3)
    batch = attributes.shift(np.stack([z, -z]), vector, alphas)
    assert batch.shape == (2, 3, 3)
    np.testing.assert_allclose(batch[1], attributes.shift(-z, vector, alphas), rtol=1e-12)
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        attributes.shift(z, np.zeros(2), alphas)
    with pytest.raises(ValueError, match="1-D"):
        attributes.shift(z, vector, np.zeros((2, 2)))


def test_lerp_has_exact_endpoints_and_straight_steps():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(7), rng.standard_normal(7)
    path = attributes.lerp(a, b, [0.0, 0.25, 1.0])
    assert path.shape == (3, 7)
    np.testing.assert_array_equal(path[0], a)
    np.testing.assert_array_equal(path[2], b)
    np.testing.assert_allclose(path[1], 0.75 * a + 0.25 * b, rtol=1e-12)
    assert attributes.lerp(a, b, 0.5).shape == (7,)
    np.testing.assert_array_equal(attributes.lerp(a, b, 1.0), b)
    with pytest.raises(ValueError, match="same shape"):
        attributes.lerp(a, b[:3], 0.5)


def test_slerp_keeps_equal_norms_moves_the_angle_evenly_and_has_exact_endpoints():
    rng = np.random.default_rng(1)
    a = rng.standard_normal(200)
    b = rng.standard_normal(200)
    b *= np.linalg.norm(a) / np.linalg.norm(b)
    times = np.linspace(0.0, 1.0, 11)
    path = attributes.slerp(a, b, times)
    assert path.shape == (11, 200)
    np.testing.assert_array_equal(path[0], a)
    np.testing.assert_array_equal(path[-1], b)
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), np.linalg.norm(a), rtol=1e-12)
    theta = math.acos(_cosine(a, b))
    angles = [math.acos(np.clip(_cosine(a, point), -1, 1)) for point in path]
    np.testing.assert_allclose(angles, times * theta, atol=1e-6)
    # The usual formula, as an independent reference for equal norms.
    t = 0.3
    reference = (math.sin((1 - t) * theta) * a + math.sin(t * theta) * b) / math.sin(theta)
    np.testing.assert_allclose(attributes.slerp(a, b, t), reference, rtol=1e-10)


def test_slerp_interpolates_the_norm_for_unequal_norms():
    a = np.array([2.0, 0.0])
    b = np.array([0.0, 4.0])
    path = attributes.slerp(a, b, [0.0, 0.5, 1.0])
    np.testing.assert_allclose(path[1], 3.0 * np.array([1.0, 1.0]) / math.sqrt(2.0), rtol=1e-12)
    np.testing.assert_array_equal(path[0], a)
    np.testing.assert_array_equal(path[2], b)


def test_slerp_falls_back_to_lerp_for_parallel_opposite_and_zero_codes():
    a = np.array([1.0, 2.0, 3.0])
    for b in (3.0 * a, -2.0 * a, a * (1 + 1e-15), np.zeros(3)):
        np.testing.assert_allclose(
            attributes.slerp(a, b, [0.0, 0.4, 1.0]), attributes.lerp(a, b, [0.0, 0.4, 1.0])
        )
        np.testing.assert_allclose(attributes.slerp(a, b, 0.4), attributes.lerp(a, b, 0.4))


def test_lerp_midpoint_dips_inside_the_prior_and_slerp_does_not():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((2, 200))
    end_norm = 0.5 * (np.linalg.norm(a) + np.linalg.norm(b))
    assert end_norm == pytest.approx(math.sqrt(200), rel=0.1)  # about 14
    assert np.linalg.norm(attributes.lerp(a, b, 0.5)) == pytest.approx(
        end_norm / math.sqrt(2), rel=0.1
    )  # ~10
    assert np.linalg.norm(attributes.slerp(a, b, 0.5)) == pytest.approx(end_norm, rel=1e-12)


# --------------------------------------------------------------------------------------------
# The probe
# --------------------------------------------------------------------------------------------


def _bright_patch_images(n, seed):
    """16x16 RGB uint8 noise; label 1 brightens the top-left patch, the regression target is its brightness."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 120, size=(n, 16, 16, 3)).astype(np.float64)
    brightness = rng.random(n)
    labels = brightness > 0.5
    images[:, :6, :6, :] += 130 * brightness[:, np.newaxis, np.newaxis, np.newaxis]
    return images.astype(np.uint8), labels, brightness


def test_probe_learns_an_easy_attribute_and_scores_held_out_images():
    import keras

    keras.utils.set_random_seed(0)
    images, labels, _ = _bright_patch_images(400, seed=0)
    held_out, held_out_labels, _ = _bright_patch_images(200, seed=1)
    held_out_two = np.stack([held_out_labels, ~held_out_labels], axis=1)
    probe = attributes.train_attribute_probe(
        images,
        np.stack([labels, ~labels], axis=1),
        epochs=6,
        batch_size=32,
        seed=0,
        validation=(held_out, held_out_two),
    )
    assert probe.output_shape == (None, 2)
    scores = attributes.probe_scores(probe, held_out)
    assert scores.shape == (200, 2) and scores.dtype == np.float32
    assert np.all((scores >= 0) & (scores <= 1))
    # uint8 and float [0, 1] inputs are the same images.
    np.testing.assert_allclose(attributes.probe_scores(probe, held_out / 255.0), scores, atol=1e-5)
    aucs = attributes.probe_aucs(probe, held_out, held_out_two)
    assert aucs.shape == (2,) and np.all(aucs > 0.95)
    assert aucs[0] == pytest.approx(attributes.rank_auc(scores[:, 0], held_out_labels))
    one_class = attributes.probe_aucs(probe, held_out, np.ones((200, 2), bool))
    assert np.all(np.isnan(one_class))
    assert len(probe.history.history["val_loss"]) == 6


def test_regression_probe_reads_a_continuous_factor():
    import keras

    keras.utils.set_random_seed(1)
    images, _, brightness = _bright_patch_images(400, seed=2)
    held_out, _, held_out_brightness = _bright_patch_images(200, seed=3)
    probe = attributes.train_attribute_probe(
        images, brightness, epochs=8, batch_size=32, regression=True, seed=1
    )
    predictions = attributes.probe_scores(probe, held_out)[:, 0]
    assert np.corrcoef(predictions, held_out_brightness)[0, 1] > 0.9


def test_probe_errors():
    images = np.zeros((4, 16, 16, 3), np.uint8)
    with pytest.raises(ValueError, match="one row per image"):
        attributes.train_attribute_probe(images, np.ones(3, bool), epochs=1)
    with pytest.raises(ValueError, match="regression=True"):
        attributes.train_attribute_probe(images, np.array([0.2, 0.5, 0.1, 0.9]), epochs=1)
    with pytest.raises(ValueError, match=r"\(N, height, width, channels\)"):
        attributes.probe_scores(None, np.zeros((16, 16, 3)))
    with pytest.raises(ValueError, match="dtype"):
        attributes.train_attribute_probe(np.zeros((4, 16, 16, 3), np.int64), np.ones(4, bool), epochs=1)
    with pytest.raises(ValueError, match="n_outputs"):
        attributes.build_attribute_probe((16, 16, 3), 0)
