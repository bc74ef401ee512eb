#!/usr/bin/env python3
"""One command for the whole course: set up, open the lessons, run the tests, run one lesson headless.

    python3 course.py lab                    # set up (first time only) and open JupyterLab on the lessons
    python3 course.py lab --gpu              # the same with TensorFlow for NVIDIA GPUs (Linux, CUDA from pip)
    python3 course.py test                   # set up and run every test, every lesson in both languages (FAST mode)
    python3 course.py run notebooks/en/01_autoencoder.ipynb [--fast]   # run one lesson headless
    python3 course.py handouts [--fast] [--pretrained] [--lang ko|en|both]   # every lesson -> runs/handouts/
    python3 course.py setup [--gpu]          # only set up

Setting up means: a virtual environment in .venv/, the pinned requirements and the vae_course
package installed into it (again only when requirements.txt, pyproject.toml or the environment's
Python version change), and
Fashion-MNIST made available (Debian/Ubuntu: the dataset-fashion-mnist package; elsewhere Keras
downloads it on first use). Uses only the Python standard library, so it runs before anything is installed.
On Windows use ``py course.py lab``.
"""

from __future__ import annotations

import collections
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".vae_course_installed"
INSTALL_LOG = VENV / "install.log"
LOG_TAIL_LINES = 25
# The README's test command runs this; keep them the same.
TEST_ARGS = ["-m", "pytest", "--nbval-lax", "--nbval-current-env", "tests", "notebooks"]
MIN_PYTHON = (3, 10)


def say(message: str) -> None:
    print(f"[course] {message}", flush=True)


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def shell_line(command) -> str:
    return " ".join(str(part) for part in command)


def run(command, **kwargs) -> None:
    """Run ``command``; a non-zero exit raises ``subprocess.CalledProcessError`` (``main`` reports it)."""
    say("$ " + shell_line(command))
    subprocess.run([str(part) for part in command], check=True, **kwargs)


PROGRESS_EVERY = 20
"""run_logged prints one progress line per this many packages pip collects."""


def run_logged(command, log_path: Path) -> None:
    """Run ``command`` (pip), appending its whole output to ``log_path`` and showing a short summary.

    The summary is one line per ``PROGRESS_EVERY`` packages collected and one line of what was installed, not
    pip's hundreds of lines. On failure, exit with a message that names the command and shows the last lines
    of its output, instead of a Python traceback.
    """
    say("$ " + shell_line(command) + f"   (full output: {log_path})")
    tail = collections.deque(maxlen=LOG_TAIL_LINES)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    collected = 0
    with (
        open(log_path, "a", encoding="utf-8") as log,
        subprocess.Popen(
            [str(part) for part in command],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        ) as process,
    ):
        for line in process.stdout:
            log.write(line)
            tail.append(line.rstrip("\n"))
            if line.startswith("Collecting "):
                collected += 1
                if collected % PROGRESS_EVERY == 0:
                    say(f"  {collected} packages collected ...")
            elif line.startswith("Successfully installed "):
                count = len(line.split()) - 2
                say(f"  installed {count} package{'' if count == 1 else 's'}")
        returncode = process.wait()
    if returncode != 0:
        sys.exit(
            f"[course] this command failed with exit code {returncode}:\n"
            f"  $ {shell_line(command)}\n"
            f"The last lines of its output (the whole log is in {log_path}):\n"
            + "\n".join(f"  | {line}" for line in tail)
            + "\n[course] Read the error above. Often: no internet connection or a proxy (pip downloads the "
            "packages), too little disk space, or a Python version without TensorFlow wheels "
            "(see requirements.txt). Fix it and run the same command again; delete .venv/ to start over."
        )


def as_root(command: list[str]) -> list[str]:
    """Prefix ``sudo`` when not root (and sudo exists)."""
    if hasattr(os, "geteuid") and os.geteuid() != 0 and shutil.which("sudo"):
        return ["sudo", *command]
    return command


def apt_install(package: str) -> bool:
    """Install a Debian/Ubuntu package; False when apt-get is not available or it fails."""
    if not shutil.which("apt-get"):
        return False
    try:
        run(as_root(["apt-get", "update", "-qq"]))
        run(
            as_root(["apt-get", "install", "-y", "-qq", package]),
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        return True
    except subprocess.CalledProcessError:
        return False


def create_venv() -> None:
    if venv_python().exists():
        return
    say(f"creating the virtual environment {VENV}")
    result = subprocess.run(
        [sys.executable, "-m", "venv", str(VENV)], capture_output=True, text=True, check=False
    )
    if result.returncode == 0:
        return
    shutil.rmtree(VENV, ignore_errors=True)
    if "ensurepip" in (result.stdout + result.stderr):
        package = f"python3.{sys.version_info.minor}-venv"
        say(f"this Python has no venv/ensurepip module; installing the Debian package {package}")
        if apt_install(package):
            run([sys.executable, "-m", "venv", str(VENV)])
            return
        sys.exit(
            f"[course] could not create a virtual environment. Install {package} "
            f"(sudo apt-get install {package}) and run this command again."
        )
    sys.exit(f"[course] 'python -m venv' failed:\n{result.stdout}{result.stderr}")


def requirements_digest() -> str:
    digest = hashlib.sha256()
    for name in ("requirements.txt", "pyproject.toml"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


GPU_TENSORFLOW = "tensorflow[and-cuda]~=2.20"
"""What ``--gpu`` installs instead of requirements.txt's TensorFlow lines (Linux: CUDA and cuDNN from pip)."""


def requirement_lines(gpu: bool) -> list[str]:
    """requirements.txt's requirements; with ``gpu`` its TensorFlow lines become ``GPU_TENSORFLOW``.

    The CPU wheel ``tensorflow-cpu`` (Linux x86-64) has no GPU support, so ``--gpu`` swaps it, and the plain
    ``tensorflow`` line of other platforms, for TensorFlow with its CUDA libraries.
    """
    lines = []
    for raw in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name = line.split(";", 1)[0].split("~", 1)[0].split("=", 1)[0].split("[", 1)[0].strip()
        if gpu and name in ("tensorflow", "tensorflow-cpu"):
            if GPU_TENSORFLOW not in lines:
                lines.append(GPU_TENSORFLOW)
            continue
        lines.append(line)
    return lines


def venv_python_version() -> str:
    """``major.minor`` of the environment's Python ("unknown" if it does not run)."""
    result = subprocess.run(
        [str(venv_python()), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() if result.returncode == 0 else "unknown"


def install_stamp(gpu: bool = False) -> str:
    """What was installed: the digest of requirements.txt and pyproject.toml, the Python version, and GPU or not.

    Compiled packages (TensorFlow, NumPy) are built for one Python version: when the environment's
    Python changes (an upgraded system Python behind the .venv link), everything is installed again.
    """
    return f"{requirements_digest()} python-{venv_python_version()}" + (" gpu" if gpu else "")


def install(gpu: bool = False) -> None:
    """pip-install the requirements and the package (``gpu``: TensorFlow with CUDA, see ``requirement_lines``)."""
    stamp = install_stamp(gpu)
    if STAMP.exists() and STAMP.read_text() == stamp:
        say("requirements already installed (delete .venv/ to start over)")
        return
    python = venv_python()
    INSTALL_LOG.parent.mkdir(parents=True, exist_ok=True)
    INSTALL_LOG.write_text("", encoding="utf-8")
    say(f"installing the course's packages into {VENV} (a few minutes the first time)")
    run_logged([python, "-m", "pip", "install", "--upgrade", "pip"], INSTALL_LOG)
    if gpu:
        # the package's own dependencies name tensorflow-cpu on Linux: install it without them
        run_logged([python, "-m", "pip", "install", *requirement_lines(gpu=True)], INSTALL_LOG)
        run_logged([python, "-m", "pip", "install", "--no-deps", "-e", ROOT], INSTALL_LOG)
    else:
        run_logged([python, "-m", "pip", "install", "-r", ROOT / "requirements.txt", "-e", ROOT], INSTALL_LOG)
    STAMP.write_text(stamp)


def ensure_data() -> None:
    """Make Fashion-MNIST findable: the Debian package where apt-get exists, else Keras downloads it later."""
    check = [
        venv_python(),
        "-c",
        "import sys; from vae_course import data; sys.exit(data.find_fashion_mnist() is None)",
    ]
    if subprocess.run([str(part) for part in check], check=False).returncode == 0:
        say("Fashion-MNIST found")
        return
    say("Fashion-MNIST not found locally")
    if apt_install("dataset-fashion-mnist"):
        say("installed Fashion-MNIST from Debian's dataset-fashion-mnist package")
    else:
        say(
            "no Debian package available here: Keras will download Fashion-MNIST on first use (needs internet)"
        )


def installed_for_gpu() -> bool:
    """True when the environment was set up with ``--gpu`` (its stamp says so)."""
    return STAMP.exists() and STAMP.read_text().endswith(" gpu")


def setup(gpu: bool | None = None) -> None:
    """Create .venv, install (``gpu``: the CUDA build; None: whichever build is installed now), find the data."""
    if gpu is None:
        gpu = installed_for_gpu()
    if sys.version_info < MIN_PYTHON:
        sys.exit(
            f"[course] Python {MIN_PYTHON[0]}.{MIN_PYTHON[1]} or newer is needed; this is {sys.version.split()[0]}"
        )
    if gpu and not sys.platform.startswith("linux"):
        sys.exit("[course] --gpu installs TensorFlow's CUDA build, which exists for Linux only.")
    create_venv()
    install(gpu)
    ensure_data()


def jupyter_lab(extra: list[str]) -> None:
    gpu = True if "--gpu" in extra else None
    extra = [arg for arg in extra if arg != "--gpu"]
    setup(gpu)
    # The lab's root is the repository, so that every relative link of the lessons (to the README, to the
    # figures) resolves as it does on GitHub; it opens on the lessons' folder.
    args = [
        venv_python(),
        "-m",
        "jupyter",
        "lab",
        "--notebook-dir",
        ROOT,
        "--ServerApp.default_url=/lab/tree/notebooks",
        *extra,
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in extra:
        args.append("--allow-root")
    run(args)


def test(extra: list[str]) -> int:
    setup()
    env = {**os.environ, "VAE_COURSE_FAST": "1", "MPLBACKEND": "Agg"}
    say("$ VAE_COURSE_FAST=1 python " + " ".join(TEST_ARGS + extra))
    return subprocess.run([str(venv_python()), *TEST_ARGS, *extra], cwd=ROOT, env=env, check=False).returncode


def run_lesson(extra: list[str]) -> int:
    fast = "--fast" in extra
    paths = [Path(arg).resolve() for arg in extra if arg != "--fast"]
    if len(paths) != 1 or paths[0].suffix != ".ipynb" or not paths[0].is_file():
        sys.exit("[course] usage: python3 course.py run notebooks/en/01_autoencoder.ipynb [--fast]")
    setup()
    out_dir = ROOT / "runs"
    out_dir.mkdir(exist_ok=True)
    env = {**os.environ, "VAE_COURSE_FAST": "1" if fast else "0"}
    command = [
        venv_python(),
        "-m",
        "jupyter",
        "nbconvert",
        "--to",
        "notebook",
        "--execute",
        "--ExecutePreprocessor.timeout=-1",
        "--output-dir",
        out_dir,
        "--output",
        f"{paths[0].parent.name}_{paths[0].name}",
        paths[0],
    ]
    say(f"executing {paths[0].name} ({'FAST' if fast else 'full'} mode); the executed copy goes to {out_dir}")
    return subprocess.run(
        [str(part) for part in command], cwd=paths[0].parent, env=env, check=False
    ).returncode


def main(argv: list[str]) -> int:
    try:
        return dispatch(argv)
    except subprocess.CalledProcessError as error:
        print(
            f"[course] this command failed with exit code {error.returncode}:\n  $ {shell_line(error.cmd)}\n"
            "[course] Its output is above.",
            file=sys.stderr,
        )
        return error.returncode or 1


def dispatch(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(__doc__)
        return 0
    command, extra = argv[0], argv[1:]
    if command == "setup":
        setup(True if "--gpu" in extra else None)
        return 0
    if command == "lab":
        jupyter_lab(extra)
        return 0
    if command == "test":
        return test(extra)
    if command == "run":
        return run_lesson(extra)
    if command == "handouts":
        setup()
        command = [venv_python(), "-m", "vae_course.handouts", *extra]
        say("$ " + shell_line(command))
        return subprocess.run([str(part) for part in command], cwd=ROOT, check=False).returncode
    print(f"unknown command {command!r}\n{__doc__}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
