"""Course-wide settings: FAST mode, seeding, and helpers that shrink work in FAST mode.

FAST mode (``VAE_COURSE_FAST=1``) runs exactly the same lesson code on less data and fewer
epochs, so CI can run every lesson in minutes. Full mode is what a learner runs.
"""

from __future__ import annotations

import os
from pathlib import Path

FAST_ENV_VAR = "VAE_COURSE_FAST"
ARTIFACTS_ENV_VAR = "VAE_COURSE_ARTIFACTS"
SEED = 42

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def fast_mode() -> bool:
    """True when ``$VAE_COURSE_FAST`` is set to 1/true/yes/on (case-insensitive)."""
    value = os.environ.get(FAST_ENV_VAR, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(
        f"{FAST_ENV_VAR}={os.environ[FAST_ENV_VAR]!r} is not understood. "
        f"Use {FAST_ENV_VAR}=1 for the quick CI run or unset it (or 0) for the full lesson."
    )


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
