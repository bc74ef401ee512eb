"""Benchmarks of the face data and the face VAE. A script, not a test: prints a table and writes JSON.

    python -m vae_course.bench faces [--n 2000] [--epochs 2] [--steps 20] [--json PATH]
    python -m vae_course.bench_faces ...            # the same

What it measures, in one run on this machine:

1. **First preparation** (cold): drawing ``--n`` synthetic faces in CelebA's layout
   (``synthetic_faces.write_synthetic_celeba``, all cores), then ``celeba.load_celeba`` decoding, cropping
   and caching them at 64x64, in images per second, each step and together. The CPU seconds per image of
   the drawing (all processes) give the per-core rate, which a shared machine's load does not distort much.
2. **One epoch of reading**: the cache (``FaceDataset.as_keras_dataset``: memory-mapped uint8 -> float32
   batches) against ``keras.utils.image_dataset_from_directory`` decoding the same JPEGs every epoch,
   squashed to 64x64 and scaled to [0, 1] (the book's way). The ratio is the speed-up (target: at least 5x).
3. **Training images per second** of the face VAE (``models.build_face_vae``, its custom ``train_step``)
   against a plain ``fit`` of the same network (encoder -> ``z_mean`` -> decoder, compiled with
   ``loss="mse"``), both fed from the cache, in the same run. The first epoch includes tracing; the steady
   rate is the median of the later ones.
4. **Peak memory** (``resource.getrusage`` max RSS) of this process and of the drawing processes.

Options: ``--n`` faces, ``--epochs`` per model, ``--steps`` per epoch (on the first steps x batch faces),
``--batch-size``, ``--workers`` (drawing processes), ``--json`` (default ``benchmarks/results/faces.json``),
``--keep`` (a new folder for the set and cache; default a temporary folder, so the preparation is cold).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

READ_SPEEDUP_TARGET = 5.0
"""The cache should read an epoch at least this many times faster than decoding the JPEGs each time."""


def _peak_memory_mib(who) -> float:
    """Max resident set size in MiB (``ru_maxrss`` is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(who).ru_maxrss
    return round(peak / (1024.0 * 1024.0) if sys.platform == "darwin" else peak / 1024.0, 1)


def _cpu_seconds() -> float:
    """CPU seconds used so far by this process and its finished children."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def bench_preparation(folder: Path, n: int, workers: int | None) -> tuple[list[dict], object]:
    """Draw the synthetic set and prepare its 64x64 cache once, cold. Returns (rows, the FaceDataset)."""
    from vae_course import celeba, synthetic_faces

    cpu, start = _cpu_seconds(), time.perf_counter()
    synthetic_faces.write_synthetic_celeba(folder / "faces", n, synthetic_faces.DEFAULT_SEED, workers=workers)
    draw_s, draw_cpu = time.perf_counter() - start, _cpu_seconds() - cpu
    cpu, start = _cpu_seconds(), time.perf_counter()
    dataset = celeba.load_celeba(
        "all", data_dir=folder / "faces", image_size=64, cache_dir=folder / "cache", progress=False
    )
    load_s, load_cpu = time.perf_counter() - start, _cpu_seconds() - cpu
    rows = [
        _row(
            "draw synthetic set (178x218 JPEGs)",
            n,
            draw_s,
            f"{1e3 * draw_cpu / n:.2f} ms CPU per image, {n / draw_cpu:.0f} images/s per core",
        ),
        _row(
            "load_celeba first preparation (64x64)", n, load_s, f"{1e3 * load_cpu / n:.2f} ms CPU per image"
        ),
        _row("first preparation, both steps", n, draw_s + load_s, "drawing + decoding + caching"),
    ]
    return rows, dataset


def bench_reading(folder: Path, dataset, batch_size: int) -> list[dict]:
    """One epoch from the cache against one (and a second) epoch of image_dataset_from_directory."""
    import keras

    from vae_course import celeba

    n = len(dataset)
    start = time.perf_counter()
    again = celeba.load_celeba(
        "all", data_dir=folder / "faces", image_size=64, cache_dir=folder / "cache", progress=False
    )
    reopen_s = time.perf_counter() - start
    sequence = again.as_keras_dataset(batch_size=batch_size, shuffle=True, seed=0)
    start = time.perf_counter()
    seen = sum(len(sequence[index]) for index in range(len(sequence)))
    cache_s = time.perf_counter() - start
    if seen != n:
        raise RuntimeError(f"the cache served {seen} images in one epoch, expected {n}")

    from_directory = keras.utils.image_dataset_from_directory(
        folder / "faces" / "img_align_celeba",
        labels=None,
        image_size=(64, 64),
        batch_size=batch_size,
        shuffle=True,
        seed=0,
        verbose=False,
    )
    from_directory = from_directory.map(lambda images: images / 255.0)  # the book's preprocessing
    seconds = []
    for _ in range(2):
        start = time.perf_counter()
        seen = sum(int(batch.shape[0]) for batch in from_directory)
        seconds.append(time.perf_counter() - start)
    if seen != n:
        raise RuntimeError(f"image_dataset_from_directory served {seen} images in one epoch, expected {n}")
    return [
        _row("reopen the cache (memory-map)", n, reopen_s, "load_celeba when the cache exists"),
        _row("epoch from the cache (PyDataset)", n, cache_s, "uint8 memory map -> float32 batches"),
        _row("epoch of image_dataset_from_directory", n, seconds[0], "decode JPEGs, squash to 64x64, / 255"),
        _row("second epoch of image_dataset_from_directory", n, seconds[1], "same, files already listed"),
    ]


def bench_training(dataset, epochs: int, steps: int | None, batch_size: int) -> list[dict]:
    """Face VAE (custom train_step) against a plain fit of the same network with an MSE loss, same run."""
    import keras

    from vae_course import celeba, config, models
    from vae_course.bench import EpochTimer

    config.seed_everything()
    vae = models.build_face_vae(seed=config.SEED)
    vae.compile(optimizer=keras.optimizers.Adam(learning_rate=5e-4))
    twin = models.build_face_vae(seed=config.SEED)  # same architecture, its own weights
    inputs = keras.Input((64, 64, 3))
    plain = keras.Model(inputs, twin.decoder(twin.encoder(inputs)[0]), name="plain_autoencoder")
    plain.compile(optimizer=keras.optimizers.Adam(learning_rate=5e-4), loss="mse")
    # --steps takes the first steps x batch_size faces: a PyDataset cut short by steps_per_epoch is not
    # rewound between epochs, so each epoch here is one full pass over a (possibly smaller) sequence.
    n_images = len(dataset) if steps is None else min(len(dataset), steps * batch_size)
    sequence_class = celeba.face_sequence_class()
    rows = []
    for name, model, with_targets in (
        ("face VAE, custom train_step", vae, False),
        ("same network, plain fit (mse)", plain, True),
    ):
        timer = EpochTimer()
        data = sequence_class(dataset.images[:n_images], batch_size, True, 0, with_targets)
        # The plain model never uses z_log_var, so that layer gets no gradient: expected, not worth a warning.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Gradients do not exist", category=UserWarning)
            model.fit(data, epochs=epochs, verbose=0, callbacks=[timer])
        steady = float(np.median(timer.seconds[1:] or timer.seconds))
        rows.append(
            _row(
                f"train: {name}",
                n_images,
                steady,
                f"first epoch {timer.seconds[0]:.1f} s (tracing); {epochs} epochs, batch {batch_size}",
            )
        )
    return rows


def _row(step: str, images: int, seconds: float, note: str) -> dict:
    return {
        "step": step,
        "images": images,
        "seconds": round(seconds, 3),
        "images_per_s": round(images / seconds, 1) if seconds > 0 else float("inf"),
        "note": note,
    }


def main(argv=None) -> int:
    from vae_course.bench import _environment, print_table

    parser = argparse.ArgumentParser(
        prog="python -m vae_course.bench faces",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--n", type=int, default=2_000, help="synthetic faces to draw and read (default 2000)"
    )
    parser.add_argument("--epochs", type=int, default=2, help="training epochs per model; the first traces")
    parser.add_argument("--steps", type=int, default=None, help="training steps per epoch (default: all)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--workers", type=int, default=None, help="drawing processes (default: all cores)")
    parser.add_argument("--json", type=Path, default=None, help="default benchmarks/results/faces.json")
    parser.add_argument("--keep", type=Path, default=None, help="keep the set and cache in this (new) folder")
    args = parser.parse_args(argv)
    if args.n < args.batch_size or args.epochs < 1 or (args.steps is not None and args.steps < 1):
        parser.error(f"need --n >= --batch-size ({args.batch_size}), --epochs >= 1 and --steps >= 1")
    if args.keep is not None and args.keep.exists() and any(args.keep.iterdir()):
        parser.error(f"--keep {args.keep} is not empty; the preparation must start cold")

    with tempfile.TemporaryDirectory(prefix="vae_course_bench_faces_") as temporary:
        folder = args.keep or Path(temporary)
        folder.mkdir(parents=True, exist_ok=True)
        rows, dataset = bench_preparation(folder, args.n, args.workers)
        rows += bench_reading(folder, dataset, args.batch_size)
        rows += bench_training(dataset, args.epochs, args.steps, args.batch_size)

    by_step = {row["step"]: row for row in rows}
    cache_s = by_step["epoch from the cache (PyDataset)"]["seconds"]
    # The target compares with the steadier of tf.data's two epochs (the second has its files listed and
    # cached by the operating system), so it is not met by the first epoch's warm-up alone.
    read_speedups = [
        by_step[f"{which}epoch of image_dataset_from_directory"]["seconds"] / cache_s
        for which in ("", "second ")
    ]
    read_speedup = min(read_speedups)
    train_ratio = (
        by_step["train: face VAE, custom train_step"]["images_per_s"]
        / by_step["train: same network, plain fit (mse)"]["images_per_s"]
    )
    summary = {
        "read_epoch_speedup_cache_vs_image_dataset_from_directory": round(read_speedup, 1),
        "read_epoch_speedup_first_and_second_epoch": [round(value, 1) for value in read_speedups],
        "read_speedup_target": READ_SPEEDUP_TARGET,
        "train_images_per_s_ratio_custom_train_step_vs_plain_fit": round(train_ratio, 2),
        "peak_memory_mib_this_process": _peak_memory_mib(resource.RUSAGE_SELF),
        "peak_memory_mib_largest_child_process": _peak_memory_mib(resource.RUSAGE_CHILDREN),
    }
    print_table(rows)
    print()
    verdict = "meets" if read_speedup >= READ_SPEEDUP_TARGET else "misses"
    print(
        f"reading an epoch: the cache is {read_speedup:.1f}x faster than image_dataset_from_directory "
        f"({read_speedups[0]:.1f}x its first epoch, {read_speedups[1]:.1f}x its second; {verdict} the "
        f"{READ_SPEEDUP_TARGET:.0f}x target)"
    )
    print(
        f"training: custom train_step at {train_ratio:.2f}x the images/s of a plain fit of the same network"
    )
    print(
        f"peak memory: {summary['peak_memory_mib_this_process']} MiB (this process), "
        f"{summary['peak_memory_mib_largest_child_process']} MiB (largest drawing process)"
    )
    target = args.json or Path("benchmarks") / "results" / "faces.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        json.dumps(
            {
                "benchmark": "faces",
                "options": {k: str(v) for k, v in vars(args).items()},
                "environment": _environment(),
                "rows": rows,
                "summary": summary,
            },
            indent=2,
        )
    )
    print(f"\nwritten to {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
