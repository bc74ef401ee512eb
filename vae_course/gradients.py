"""Two ways to estimate the gradient of an expectation, and how noisy each one is.

A VAE needs ``d/d theta E_{z ~ q_theta}[f(z)]`` where ``q_theta = N(mean, std^2)``. Both estimators
here draw the same standard-normal noise ``eps`` and set ``z = mean + std * eps``:

* the **score-function** (REINFORCE) estimator averages ``f(z) * d/d theta log q_theta(z)``; it only
  evaluates ``f``, so ``f`` may be a black box (even a step function), but it is noisy;
* the **reparameterised** estimator averages ``d/d theta f(mean + std * eps)``; the gradient flows
  through ``f`` (TensorFlow differentiates it), so ``f`` must be written with ``keras.ops`` or plain
  arithmetic, and the estimate is usually far less noisy.

Each estimator returns ``repeats`` independent estimates, each from ``n`` samples, as a float64
array of shape ``(repeats,)``; ``estimator_variance`` turns many repeats into a variance per ``n``.
With the same ``seed`` both estimators use the same ``eps`` (common random numbers).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

PARAMETERS = ("mean", "std")


def _check(mean: float, std: float, n: int, repeats: int, wrt: str) -> None:
    if std <= 0:
        raise ValueError(f"std must be positive, got {std}")
    if n < 1 or repeats < 1:
        raise ValueError(f"n and repeats must be at least 1, got n={n}, repeats={repeats}")
    if wrt not in PARAMETERS:
        raise ValueError(f"wrt must be one of {PARAMETERS} (the parameter to differentiate), got {wrt!r}")


def standard_normal_draws(n: int, repeats: int = 1, seed: int | None = None) -> np.ndarray:
    """The noise ``eps ~ N(0, 1)`` both estimators use: float64, shape ``(repeats, n)``."""
    return np.random.default_rng(seed).standard_normal((repeats, n))


def score_function_gradient(
    f, mean: float, std: float, n: int, repeats: int = 1, seed: int | None = None, wrt: str = "mean"
) -> np.ndarray:
    """Score-function (REINFORCE) estimate of ``d/d wrt E_{z ~ N(mean, std^2)}[f(z)]``. Shape ``(repeats,)``.

    Each estimate is ``mean_i f(z_i) * s(z_i)`` over ``n`` draws, with the score
    ``s = d/d mean log N(z; mean, std^2) = eps / std`` or ``d/d std log N = (eps^2 - 1) / std``.
    ``f`` maps an array of z to an array of the same shape; it is only evaluated, never differentiated.
    """
    _check(mean, std, n, repeats, wrt)
    eps = standard_normal_draws(n, repeats, seed)
    z = mean + std * eps
    values = np.asarray(f(z), dtype=np.float64)
    if values.shape != z.shape:
        raise ValueError(f"f must map z of shape {z.shape} to values of the same shape, got {values.shape}")
    score = eps / std if wrt == "mean" else (np.square(eps) - 1.0) / std
    return np.mean(values * score, axis=1)


def reparameterised_gradient(
    f, mean: float, std: float, n: int, repeats: int = 1, seed: int | None = None, wrt: str = "mean"
) -> np.ndarray:
    """Reparameterised estimate of ``d/d wrt E_{z ~ N(mean, std^2)}[f(z)]``. Shape ``(repeats,)``.

    Each estimate is ``mean_i d/d wrt f(mean + std * eps_i)`` over ``n`` draws, computed by
    TensorFlow's automatic differentiation (``tf.GradientTape``), exactly as a VAE's gradient flows
    through the ``Sampling`` layer. ``f`` must be differentiable and written with ``keras.ops`` or
    arithmetic operators (not NumPy functions, which TensorFlow cannot differentiate).
    """
    _check(mean, std, n, repeats, wrt)
    eps = tf.constant(standard_normal_draws(n, repeats, seed))
    # One copy of the parameter per repeat: the gradient of the sum is then each repeat's own gradient.
    means = tf.fill((repeats, 1), tf.constant(mean, tf.float64))
    stds = tf.fill((repeats, 1), tf.constant(std, tf.float64))
    parameter = means if wrt == "mean" else stds
    with tf.GradientTape() as tape:
        tape.watch(parameter)
        z = means + stds * eps
        objective = tf.reduce_sum(tf.reduce_mean(tf.convert_to_tensor(f(z), dtype=tf.float64), axis=1))
    gradient = tape.gradient(objective, parameter)
    if gradient is None:
        raise ValueError(
            "f has no gradient with respect to z (TensorFlow returned None). Either f uses NumPy "
            "functions, which TensorFlow cannot differentiate: write it with keras.ops or arithmetic "
            "operators (lambda z: z**2, keras.ops.sin); or f is piecewise constant (a step, a rounding, "
            "a discrete choice), whose derivative is zero wherever it exists: use score_function_gradient."
        )
    return gradient.numpy()[:, 0]


def estimator_variance(
    estimator,
    f,
    mean: float,
    std: float,
    sample_sizes,
    repeats: int = 1_000,
    seed: int | None = None,
    wrt: str = "mean",
) -> dict[str, np.ndarray]:
    """Run ``estimator`` ``repeats`` times for every ``n`` in ``sample_sizes``; summarise the estimates.

    Returns float64 arrays of shape ``(len(sample_sizes),)``: ``"n"``, ``"mean"`` (average estimate),
    ``"variance"`` (variance of one estimate across repeats, ``ddof=1``) and ``"standard_error"``
    (of ``"mean"``). The same ``seed`` gives every estimator the same noise for the same ``n``.
    """
    if repeats < 2:
        raise ValueError(f"a variance needs at least 2 repeats, got {repeats}")
    sample_sizes = [int(n) for n in sample_sizes]
    seeds = np.random.SeedSequence(seed).generate_state(len(sample_sizes))
    estimates = [
        estimator(f, mean, std, n, repeats=repeats, seed=int(s), wrt=wrt) for n, s in zip(sample_sizes, seeds)
    ]
    variance = np.array([np.var(e, ddof=1) for e in estimates])
    return {
        "n": np.array(sample_sizes, dtype=np.float64),
        "mean": np.array([np.mean(e) for e in estimates]),
        "variance": variance,
        "standard_error": np.sqrt(variance / repeats),
    }
