"""Benchmarks of the course. Scripts, not tests: each prints a table and writes JSON.

    python -m vae_course.bench train      # images/second of a training epoch (autoencoder and VAE)
    python -m vae_course.bench explorer   # latency of one slider event (decode + redraw): the 2-D latent
                                          # explorer and the 64x64 face explorers (target: median <= 60 ms)
    python -m vae_course.bench faces ...  # the face-data benchmarks of vae_course.bench_faces (own options)
    python -m vae_course.bench browser    # input event -> new picture in JupyterLab in Chromium (Playwright):
                                          # targets: median <= 60 ms (2-D explorer), <= 100 ms (64x64 faces)

Options: ``--n`` (training images), ``--epochs``, ``--events``, ``--json PATH``
(default ``benchmarks/results/<name>.json`` under the current folder). The JSON records the machine's load
average next to the timings: on a shared machine, latencies grow with the load.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time
from pathlib import Path

import keras
import numpy as np


class EpochTimer(keras.callbacks.Callback):
    """Keras callback recording the wall time of each epoch in ``seconds`` (validation included), and the
    loss of the very first training batch in ``first_batch_loss`` (the untrained model, in training mode:
    ``logs["total_loss"]`` of a VAE, ``logs["loss"]`` of a plain model)."""

    def __init__(self):
        super().__init__()
        self.seconds: list[float] = []
        self.first_batch_loss: float | None = None
        self._start = 0.0

    def on_train_batch_end(self, batch, logs=None):
        if self.first_batch_loss is None and logs:
            self.first_batch_loss = float(logs.get("total_loss", logs.get("loss")))

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
        "cpu_count": os.cpu_count(),
        "load_average_1_5_15_min": [round(value, 2) for value in os.getloadavg()],
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
    return _latency_rows(timings)


FACE_EXPLORER_TARGET_MS = 60.0
"""The latency target of one face-slider event (decode + redraw), median, on a 2-core CPU."""


def _latency_rows(timings: dict[str, list[float]]) -> list[dict]:
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


def bench_face_explorers(events: int, latent_dim: int = 200, n_vectors: int = 4) -> list[dict]:
    """Time slider events of the 64x64 face explorers (``models.build_face_vae``'s decoder, untrained weights).

    Rows: one decode as an eager ``decoder(z)`` call and through ``widgets.decode_point`` (the compiled
    predict step the explorers use), then one slider event (decode + redraw + PNG) of ``FaceExplorer`` (lesson 04),
    ``AttributeExplorer`` and ``MorphExplorer`` (lesson 05). Untrained weights cost the same time as trained ones.
    """
    from vae_course import config, models, widgets

    config.seed_everything()
    decoder = models.build_face_vae(latent_dim=latent_dim, seed=config.SEED).decoder
    rng = np.random.default_rng(0)
    codes = rng.standard_normal((8, latent_dim)).astype(np.float32)
    faces = rng.integers(0, 256, size=(8, 64, 64, 3), dtype=np.uint8)
    vectors = {f"attribute {i + 1}": rng.standard_normal(latent_dim) for i in range(n_vectors)}
    face_explorer = widgets.FaceExplorer(
        decoder, codes[0], dims=list(range(n_vectors)), original=faces[0] / 255
    )
    attribute_explorer = widgets.AttributeExplorer(decoder, codes, vectors, faces=faces)
    morph_explorer = widgets.MorphExplorer(decoder, codes, faces=faces)
    values = 2.5 * np.sin(np.linspace(0, 6, events))
    timings = {
        "face 64x64: eager decoder call": [],
        "face 64x64: decode_point (compiled predict step)": [],
        "face 64x64: FaceExplorer slider event": [],
        "face 64x64: AttributeExplorer slider event": [],
        "face 64x64: MorphExplorer slider event": [],
    }
    for value in values[:10]:  # warm-up: the first calls trace the decoder
        widgets.decode_point(decoder, codes[0] + value)
        decoder(codes[:1] + value, training=False)
        attribute_explorer.sliders[0].value = float(value)
        morph_explorer.slider.value = float(abs(value) / 2.5)
        face_explorer.sliders[0].value = float(value)
    for index, value in enumerate(values):
        slider = index % n_vectors  # one slider moves per event, as when a learner drags one
        code = codes[1] + value
        events_now = (
            (lambda point: decoder(point[np.newaxis], training=False), (code,)),
            (widgets.decode_point, (decoder, code)),
            (setattr, (face_explorer.sliders[slider], "value", float(value))),
            (setattr, (attribute_explorer.sliders[slider], "value", float(value))),
            (setattr, (morph_explorer.slider, "value", float(abs(value) / 2.5))),
        )
        for name, (function, arguments) in zip(timings, events_now):
            start = time.perf_counter()
            function(*arguments)
            timings[name].append(time.perf_counter() - start)
    return _latency_rows(timings)


def print_table(rows: list[dict]) -> None:
    columns = list(rows[0])
    widths = [max(len(str(c)), *(len(str(r[c])) for r in rows)) for c in columns]
    print("  ".join(str(c).ljust(w) for c, w in zip(columns, widths)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(row[c]).ljust(w) for c, w in zip(columns, widths)))


def run_faces(argv) -> int:
    """``python -m vae_course.bench faces ...``: hand the arguments to ``vae_course.bench_faces.main``.

    Imported only here, so the other benchmarks work without that module.
    """
    try:
        bench_faces = importlib.import_module("vae_course.bench_faces")
    except ModuleNotFoundError as error:
        if error.name != "vae_course.bench_faces":
            raise
        print(
            "python -m vae_course.bench faces needs the module vae_course.bench_faces, which this copy of the "
            "course does not have. Update the course (git pull) or run another benchmark: train, explorer.",
            file=sys.stderr,
        )
        return 2
    result = bench_faces.main(list(argv))
    return 0 if result is None else int(result)


BROWSER_TARGETS_MS = {"2-D": 60.0, "64x64": 100.0}
"""Median latency targets in the browser: the 2-D explorer and the 64x64 face sliders."""


def bench_browser(events: int) -> list[dict]:
    """``vae_course.browser.measure_latency`` in a temporary folder, with a verdict per row."""
    import tempfile

    from vae_course import browser

    why_not = browser.missing()
    if why_not:
        raise SystemExit(f"python -m vae_course.bench browser cannot run here: {why_not}")
    with tempfile.TemporaryDirectory() as folder:
        rows = browser.measure_latency(Path(folder), events)
    for row in rows:
        target = next(value for key, value in BROWSER_TARGETS_MS.items() if key in row["explorer"])
        row["target_ms"] = target
        row["verdict"] = "meets" if row["median_ms"] <= target else "misses"
    return rows


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["faces"]:
        return run_faces(argv[1:])
    parser = argparse.ArgumentParser(
        prog="python -m vae_course.bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("name", choices=("train", "explorer", "faces", "browser"))
    parser.add_argument("--n", type=int, default=60_000, help="training images (train)")
    parser.add_argument("--epochs", type=int, default=2, help="epochs; the first includes tracing (train)")
    parser.add_argument(
        "--events", type=int, default=200, help="slider events (explorer; browser: at most 100)"
    )
    parser.add_argument("--json", type=Path, default=None, help="where to write the results")
    args = parser.parse_args(argv)
    if args.name == "faces":
        parser.error("write faces first, then its own options: python -m vae_course.bench faces --help")
    if args.name == "train":
        rows = bench_train(args.n, args.epochs)
    elif args.name == "browser":
        rows = bench_browser(min(args.events, 100))
    else:
        rows = bench_explorer(args.events) + bench_face_explorers(args.events)
    print_table(rows)
    if args.name in ("explorer", "browser"):
        load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
        print(f"\nload average (1, 5, 15 min): {load} on {os.cpu_count()} CPUs")
        for row in rows if args.name == "explorer" else []:
            if row["step"].endswith("slider event") and row["step"].startswith("face"):
                verdict = "meets" if row["median_ms"] <= FACE_EXPLORER_TARGET_MS else "misses"
                print(
                    f"{row['step']}: median {row['median_ms']} ms {verdict} the {FACE_EXPLORER_TARGET_MS:.0f} ms target"
                )
    target = args.json or Path("benchmarks") / "results" / f"{args.name}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        json.dumps({"benchmark": args.name, "environment": _environment(), "rows": rows}, indent=2)
    )
    print(f"\nwritten to {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
