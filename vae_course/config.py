"""Course-wide settings: FAST mode, seeding, and helpers that shrink work in FAST mode.

FAST mode (``VAE_COURSE_FAST=1``) runs exactly the same lesson code on less data and fewer
epochs, so CI can run every lesson in minutes. Full mode is what a learner runs.
"""

from __future__ import annotations

import os
from pathlib import Path

FAST_ENV_VAR = "VAE_COURSE_FAST"
ARTIFACTS_ENV_VAR = "VAE_COURSE_ARTIFACTS"
PRETRAINED_ENV_VAR = "VAE_COURSE_PRETRAINED"
SEED = 42

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def _flag(name: str, meaning: str) -> bool:
    """An on/off environment variable: 1/true/yes/on or 0/false/no/off/unset (case-insensitive)."""
    value = os.environ.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(
        f"{name}={os.environ[name]!r} is not understood. Use {name}=1 for {meaning}, or unset it (or 0)."
    )


def fast_mode() -> bool:
    """True when ``$VAE_COURSE_FAST`` is set to 1/true/yes/on (case-insensitive)."""
    return _flag(FAST_ENV_VAR, "the quick CI run; unset, the full lesson runs")


def pretrained_mode() -> bool:
    """True when ``$VAE_COURSE_PRETRAINED`` is 1/true/yes/on: lessons load the shipped models, not train."""
    return _flag(PRETRAINED_ENV_VAR, "the shipped pretrained models (no training); unset, lessons train")


def epochs(full: int, fast: int = 1) -> int:
    """Number of epochs: ``full`` normally, ``min(fast, full)`` in FAST mode."""
    if full < 1 or fast < 1:
        raise ValueError(f"epochs must be at least 1, got full={full}, fast={fast}")
    return min(fast, full) if fast_mode() else full


def subset(n: int, fast: int = 2_000) -> int:
    """Number of examples to use: ``n`` normally, ``min(fast, n)`` in FAST mode."""
    if n < 1 or fast < 1:
        raise ValueError(f"subset sizes must be at least 1, got n={n}, fast={fast}")
    return min(fast, n) if fast_mode() else n


def seed_everything(seed: int = SEED) -> int:
    """Seed Python, NumPy and the backend once, visibly, at the top of a lesson. Returns ``seed``."""
    import keras

    keras.utils.set_random_seed(seed)
    return seed


def artifact_path(filename: str) -> Path:
    """Where a lesson saves a model or result that a later lesson may reuse.

    The folder is ``$VAE_COURSE_ARTIFACTS`` or ``~/.cache/vae_course`` (created if needed; the file is
    not). In FAST mode ``_fast`` is added before the suffixes, so a quick CI model never stands in for a
    fully trained one: ``artifact_path("vae_fashion.keras")`` is ``.../vae_fashion_fast.keras`` and
    ``artifact_path("vae.weights.h5")`` is ``.../vae_fast.weights.h5`` (Keras needs the ``.weights.h5`` ending).
    """
    folder = Path(os.environ.get(ARTIFACTS_ENV_VAR) or Path.home() / ".cache" / "vae_course").expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    name = Path(filename)
    if fast_mode():
        base, dot, suffixes = name.name.partition(".")
        name = name.with_name(f"{base}_fast{dot}{suffixes}")
    return folder / name


def training_device() -> str:
    """Where Keras trains, for a lesson's setup cell: ``"GPU (1: /physical_device:GPU:0)"`` or ``"CPU (2 cores)"``."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        return f"GPU ({len(gpus)}: {', '.join(gpu.name for gpu in gpus)})"
    return f"CPU ({os.cpu_count()} cores)"
