"""``python -m vae_course.pretrained list | train [NAME ...] | check [NAME ...]``.

- ``list``: the shipped models, with the metrics their JSON records;
- ``train``: train (all, or the named) models with their lessons' full-mode settings and write them into the
  package folder (or ``--folder``);
- ``check``: recompute each shipped model's metrics and compare them with its JSON (exit status 1 on a gap).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow loads: no C++ start-up notices

from vae_course import pretrained


def _main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m vae_course.pretrained", description=__doc__.split("\n")[0]
    )
    parser.add_argument("command", choices=("list", "train", "check"))
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"any of {', '.join(pretrained.NAMES)}")
    parser.add_argument("--folder", type=Path, default=None, help="write here instead of the package folder")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in pretrained.NAMES]
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(pretrained.NAMES)}")
    names = args.names or list(pretrained.NAMES)
    status = 0
    for name in names:
        if args.command == "train":
            print(f"training {name} with lesson {pretrained.SPECS[name].lesson}'s settings ...", flush=True)
            print(f"wrote {pretrained.train(name, args.folder)}")
        elif not pretrained.available(name):
            print(f"{name:22s} not shipped: python -m vae_course.pretrained train {name}")
            status = 1 if args.command == "check" else status
        elif args.command == "list":
            metrics = pretrained.info(name)["metrics"]
            print(f"{name:22s} " + ", ".join(f"{key} {value:.4g}" for key, value in metrics.items()))
        else:
            recorded = pretrained.info(name)["metrics"]
            measured = pretrained.metrics_for(name, pretrained.load(name))
            for key, value in recorded.items():
                gap = abs(measured[key] - value)
                ok = gap <= 1e-3 * max(1.0, abs(value))
                status = status if ok else 1
                print(
                    f"{name:22s} {key:22s} recorded {value:10.4f} measured {measured[key]:10.4f} {'OK' if ok else 'DIFFERS'}"
                )
    return status


if __name__ == "__main__":
    sys.exit(_main())
