"""The two gradient estimators of lesson 03 against closed forms.

For f(z) = z^2 and z ~ N(mu, sigma^2): E[f] = mu^2 + sigma^2, so d/dmu E[f] = 2 mu and
d/dsigma E[f] = 2 sigma.
The variance of one estimate from n draws is known exactly too:

* reparameterised, d/dmu: mean of 2 (mu + sigma eps) -> variance 4 sigma^2 / n;
* score function, d/dmu: mean of (mu + sigma eps)^2 eps / sigma -> variance
  (mu^4 / sigma^2 + 14 mu^2 + 15 sigma^2) / n  (from E[eps^2] = 1, E[eps^4] = 3, E[eps^6] = 15).
"""

from __future__ import annotations

import numpy as np
import pytest
from keras import ops
from scipy import stats

from vae_course import gradients


def square(z):
    return z**2


def score_variance_square(mu, sigma):
    return mu**4 / sigma**2 + 14 * mu**2 + 15 * sigma**2


CASES = [(1.5, 0.8), (-2.0, 0.3), (0.0, 1.0), (0.5, 3.0)]


@pytest.mark.parametrize("estimator", [gradients.score_function_gradient, gradients.reparameterised_gradient])
@pytest.mark.parametrize("mu, sigma", CASES)
def test_both_estimators_are_unbiased_for_d_dmu(estimator, mu, sigma):
    estimates = estimator(square, mu, sigma, n=20, repeats=5_000, seed=7)
    assert estimates.shape == (5_000,)
    standard_error = estimates.std(ddof=1) / np.sqrt(len(estimates))
    assert abs(estimates.mean() - 2 * mu) < 5 * standard_error


@pytest.mark.parametrize("estimator", [gradients.score_function_gradient, gradients.reparameterised_gradient])
def test_both_estimators_are_unbiased_for_d_dsigma(estimator):
    mu, sigma = 1.0, 0.7
    estimates = estimator(square, mu, sigma, n=50, repeats=5_000, seed=3, wrt="std")
    standard_error = estimates.std(ddof=1) / np.sqrt(len(estimates))
    assert abs(estimates.mean() - 2 * sigma) < 5 * standard_error


@pytest.mark.parametrize("mu, sigma", CASES)
def test_variances_match_their_closed_forms(mu, sigma):
    n, repeats = 10, 20_000
    reparameterised = gradients.reparameterised_gradient(square, mu, sigma, n, repeats, seed=11)
    score = gradients.score_function_gradient(square, mu, sigma, n, repeats, seed=11)
    # The reparameterised estimate is exactly Gaussian: its sample variance has relative sd sqrt(2/R) = 1 %.
    assert reparameterised.var(ddof=1) == pytest.approx(4 * sigma**2 / n, rel=0.05)
    # The score-function estimate has heavier tails; 10 % is still far tighter than the gap tested below.
    assert score.var(ddof=1) == pytest.approx(score_variance_square(mu, sigma) / n, rel=0.10)


@pytest.mark.parametrize("mu, sigma", CASES)
def test_reparameterised_variance_is_lower(mu, sigma):
    summary = {
        estimator.__name__: gradients.estimator_variance(
            estimator, square, mu, sigma, [1, 10, 100], repeats=2_000, seed=5
        )
        for estimator in (gradients.score_function_gradient, gradients.reparameterised_gradient)
    }
    reparameterised = summary["reparameterised_gradient"]["variance"]
    assert np.all(reparameterised < summary["score_function_gradient"]["variance"])


def test_estimator_variance_falls_like_one_over_n():
    result = gradients.estimator_variance(
        gradients.reparameterised_gradient, square, 1.0, 0.5, [1, 10, 100, 1000], repeats=4_000, seed=1
    )
    np.testing.assert_array_equal(result["n"], [1, 10, 100, 1000])
    np.testing.assert_allclose(result["variance"] * result["n"], 4 * 0.5**2, rtol=0.1)
    slope = np.polyfit(np.log(result["n"]), np.log(result["variance"]), 1)[0]
    assert slope == pytest.approx(-1.0, abs=0.03)
    np.testing.assert_allclose(result["standard_error"], np.sqrt(result["variance"] / 4_000))
    assert np.all(np.abs(result["mean"] - 2.0) < 5 * result["standard_error"])


def test_same_seed_gives_both_estimators_the_same_noise():
    # f(z) = z: the reparameterised d/dmu is exactly 1, d/dsigma is the mean of eps,
    # and the score-function d/dmu is mean(z * eps / sigma). All three follow from the same eps.
    eps = gradients.standard_normal_draws(30, repeats=4, seed=9)
    mu, sigma = 0.3, 1.7
    np.testing.assert_allclose(gradients.reparameterised_gradient(lambda z: z, mu, sigma, 30, 4, seed=9), 1.0)
    np.testing.assert_allclose(
        gradients.reparameterised_gradient(lambda z: z, mu, sigma, 30, 4, seed=9, wrt="std"), eps.mean(axis=1)
    )
    np.testing.assert_allclose(
        gradients.score_function_gradient(lambda z: z, mu, sigma, 30, 4, seed=9),
        np.mean((mu + sigma * eps) * eps / sigma, axis=1),
    )


def test_score_function_handles_a_step_function_that_cannot_be_differentiated():
    # d/dmu P(z > 0) = d/dmu Phi(mu / sigma) = phi(mu / sigma) / sigma
    mu, sigma = 0.4, 1.3

    def step(z):
        return (z > 0).astype(float)

    estimates = gradients.score_function_gradient(step, mu, sigma, 1_000, 400, seed=2)
    standard_error = estimates.std(ddof=1) / np.sqrt(len(estimates))
    assert abs(estimates.mean() - stats.norm.pdf(mu / sigma) / sigma) < 5 * standard_error


def test_reparameterised_gradient_works_with_keras_ops():
    # d/dmu E[sin z] = E[cos z] = cos(mu) exp(-sigma^2 / 2)
    mu, sigma = 0.7, 0.9
    estimates = gradients.reparameterised_gradient(ops.sin, mu, sigma, 1_000, 200, seed=4)
    standard_error = estimates.std(ddof=1) / np.sqrt(len(estimates))
    assert abs(estimates.mean() - np.cos(mu) * np.exp(-(sigma**2) / 2)) < 5 * standard_error


def test_reparameterised_gradient_explains_a_numpy_function():
    with pytest.raises(ValueError, match="keras.ops"):
        gradients.reparameterised_gradient(np.sin, 0.0, 1.0, 10)


def test_reparameterised_gradient_explains_a_step_function():
    with pytest.raises(ValueError, match="piecewise constant"):
        gradients.reparameterised_gradient(lambda z: ops.cast(z > 0, "float64"), 0.0, 1.0, 10)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"std": 0.0}, "std must be positive"),
        ({"n": 0}, "at least 1"),
        ({"wrt": "variance"}, "wrt must be one of"),
    ],
)
def test_bad_arguments_are_explained(kwargs, message):
    arguments = {"mean": 0.0, "std": 1.0, "n": 5, **kwargs}
    for estimator in (gradients.score_function_gradient, gradients.reparameterised_gradient):
        with pytest.raises(ValueError, match=message):
            estimator(square, **arguments)


def test_score_function_checks_the_shape_of_f():
    with pytest.raises(ValueError, match="same shape"):
        gradients.score_function_gradient(lambda z: z.sum(axis=1), 0.0, 1.0, 5, repeats=3)


def test_estimator_variance_needs_two_repeats():
    with pytest.raises(ValueError, match="at least 2 repeats"):
        gradients.estimator_variance(gradients.score_function_gradient, square, 0.0, 1.0, [10], repeats=1)
