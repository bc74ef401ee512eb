"""Benchmarks of the course. Scripts, not tests: each prints a table and writes JSON.

    python -m vae_course.bench train      # images/second of a training epoch (autoencoder and VAE)
    python -m vae_course.bench explorer   # latency of one latent-explorer slider event (decode + redraw)

Options: ``--n`` (training images), ``--epochs``, ``--events``, ``--json PATH``
(default ``benchmarks/results/<name>.json`` under the current folder).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import keras
import numpy as np


class EpochTimer(keras.callbacks.Callback):
    """Keras callback recording the wall time of each epoch in ``seconds``."""

    def __init__(self):
        super().__init__()
        self.seconds: list[float] = []
        self._start = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


def _environment() -> dict:
    import tensorflow as tf

    return {
        "python": platform.python_version(),
        "keras": keras.__version__,
        "tensorflow": tf.__version__,
        "machine": platform.machine(),
        "processor": platform.processor() or "unknown",
        "gpus": len(tf.config.list_physical_devices("GPU")),
    }


def bench_train(n: int, epochs: int) -> list[dict]:
    """Train the lesson-01 autoencoder (plain ``fit``) and the lesson-02 VAE (custom ``train_step``)."""
    from vae_course import config, data, models

    batch_size = 100
    config.seed_everything()
    x_train, _ = data.load_fashion_mnist("train")
    x_train = x_train[:n]
    rows = []
    autoencoder, _, _ = models.build_autoencoder()
    autoencoder.compile(optimizer="adam", loss="binary_crossentropy")
    vae = models.build_vae(seed=config.SEED)
    vae.compile(optimizer=keras.optimizers.Adam(learning_rate=5e-4))
    for name, model, targets in (
        ("autoencoder (fit)", autoencoder, x_train),
        ("VAE (train_step)", vae, None),
    ):
        timer = EpochTimer()
        model.fit(x_train, targets, epochs=epochs, batch_size=batch_size, verbose=0, callbacks=[timer])
        steady = timer.seconds[1:] or timer.seconds
        rows.append(
            {
                "model": name,
                "images": len(x_train),
                "batch_size": batch_size,
                "first_epoch_s": round(timer.seconds[0], 2),
                "steady_epoch_s": round(float(np.median(steady)), 2),
                "images_per_s": round(len(x_train) / float(np.median(steady)), 1),
            }
        )
    return rows


def bench_explorer(events: int) -> list[dict]:
    """Time slider events of the lesson-02 latent explorer: decode alone, and decode + redraw."""
    from vae_course import config, data, models, widgets

    config.seed_everything()
    _, labels = data.load_fashion_mnist("test")
    vae = models.build_vae(seed=config.SEED)
    z = np.random.default_rng(0).standard_normal((len(labels), 2)).astype(np.float32)
    explorer = widgets.LatentExplorer(vae.decoder, z, labels, data.class_names())
    path = np.stack(
        [2.5 * np.sin(np.linspace(0, 6, events)), 2.5 * np.cos(np.linspace(0, 4, events))], axis=1
    )
    timings = {"decode_point": [], "decoder.predict": [], "slider event (decode + redraw)": []}
    for point in path[:10]:  # warm-up: first calls trace the model
        explorer.update(point)
    for index, point in enumerate(path):
        start = time.perf_counter()
        widgets.decode_point(vae.decoder, point)
        timings["decode_point"].append(time.perf_counter() - start)
        start = time.perf_counter()
        vae.decoder.predict(point[np.newaxis], verbose=0)
        timings["decoder.predict"].append(time.perf_counter() - start)
        axis = index % 2  # one slider moves per event, as when a learner drags one
        start = time.perf_counter()
        explorer.sliders[axis].value = float(point[axis])
        timings["slider event (decode + redraw)"].append(time.perf_counter() - start)
    return [
        {
            "step": name,
            "events": len(values),
            "median_ms": round(1e3 * float(np.median(values)), 2),
            "p90_ms": round(1e3 * float(np.percentile(values, 90)), 2),
            "max_ms": round(1e3 * float(np.max(values)), 2),
        }
        for name, values in timings.items()
    ]


def print_table(rows: list[dict]) -> None:
    columns = list(rows[0])
    widths = [max(len(str(c)), *(len(str(r[c])) for r in rows)) for c in columns]
    print("  ".join(str(c).ljust(w) for c, w in zip(columns, widths)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(row[c]).ljust(w) for c, w in zip(columns, widths)))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m vae_course.bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("name", choices=("train", "explorer"))
    parser.add_argument("--n", type=int, default=60_000, help="training images (train)")
    parser.add_argument("--epochs", type=int, default=2, help="epochs; the first includes tracing (train)")
    parser.add_argument("--events", type=int, default=200, help="slider events (explorer)")
    parser.add_argument("--json", type=Path, default=None, help="where to write the results")
    args = parser.parse_args(argv)
    rows = bench_train(args.n, args.epochs) if args.name == "train" else bench_explorer(args.events)
    print_table(rows)
    target = args.json or Path("benchmarks") / "results" / f"{args.name}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        json.dumps({"benchmark": args.name, "environment": _environment(), "rows": rows}, indent=2)
    )
    print(f"\nwritten to {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
