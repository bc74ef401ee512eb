"""course.py: the README documents the command it runs, bad arguments get a usage message, and setting up
reports failures readably and reinstalls when the requirements or the Python version change."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def load_course():
    spec = importlib.util.spec_from_file_location("course", ROOT / "course.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_and_ci_run_the_same_test_command():
    course = load_course()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "python3 course.py test" in readme
    assert "python " + " ".join(course.TEST_ARGS) in readme  # the pytest line the README spells out
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "python3 course.py test" in ci


def test_run_without_a_notebook_prints_usage(capsys):
    course = load_course()
    with pytest.raises(SystemExit, match="usage: python3 course.py run"):
        course.main(["run", "not-a-notebook.txt"])


def test_unknown_command_returns_2(capsys):
    assert load_course().main(["frobnicate"]) == 2
    assert "unknown command" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------
# Setting up: readable errors and the install stamp (no real pip or venv: subprocess is replaced)
# --------------------------------------------------------------------------------------------


class FakeProcesses:
    """Stands in for ``subprocess.run`` and ``subprocess.Popen``; records every command.

    ``python_version`` is what the environment's Python reports; ``pip_output`` and ``pip_exit``
    are what every pip command prints and returns.
    """

    def __init__(
        self,
        python_version="3.11",
        pip_output=("Collecting numpy\n", "Successfully installed numpy-2.0 scipy-1.13\n"),
        pip_exit=0,
    ):
        self.python_version = python_version
        self.pip_output = list(pip_output)
        self.pip_exit = pip_exit
        self.commands = []

    def run(self, command, **kwargs):
        command = [str(part) for part in command]
        self.commands.append(command)
        if command[1:3] == ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"]:
            return subprocess.CompletedProcess(command, 0, stdout=self.python_version + "\n", stderr="")
        raise AssertionError(f"unexpected subprocess.run({command})")

    def popen(self, command, **kwargs):
        command = [str(part) for part in command]
        self.commands.append(command)
        assert command[1:4] == ["-m", "pip", "install"], command
        assert kwargs["stdout"] is subprocess.PIPE and kwargs["stderr"] is subprocess.STDOUT
        fake = self

        class Process:
            stdout = iter(fake.pip_output)

            def wait(self):
                return fake.pip_exit

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                return False

        return Process()

    @property
    def pip_commands(self):
        return [c for c in self.commands if c[1:3] == ["-m", "pip"]]


@pytest.fixture
def course(tmp_path, monkeypatch):
    """course.py imported as a module, with its .venv in a temporary folder."""
    module = load_course()
    venv = tmp_path / ".venv"
    (venv / "bin").mkdir(parents=True)
    monkeypatch.setattr(module, "VENV", venv)
    monkeypatch.setattr(module, "STAMP", venv / ".vae_course_installed")
    monkeypatch.setattr(module, "INSTALL_LOG", venv / "install.log")
    return module


def use(monkeypatch, fake):
    monkeypatch.setattr(subprocess, "run", fake.run)
    monkeypatch.setattr(subprocess, "Popen", fake.popen)
    return fake


def test_install_runs_pip_and_writes_a_stamp_with_the_python_version(course, monkeypatch, capsys):
    fake = use(monkeypatch, FakeProcesses(python_version="3.11"))
    course.install()
    assert [c[3:] for c in fake.pip_commands] == [
        ["install", "--upgrade", "pip"],
        ["install", "-r", str(course.ROOT / "requirements.txt"), "-e", str(course.ROOT)],
    ]
    stamp = course.STAMP.read_text()
    assert stamp == f"{course.requirements_digest()} python-3.11"
    out = capsys.readouterr().out
    assert "Collecting numpy" not in out and "installed 2 packages" in out  # a summary, not pip's output
    assert str(course.INSTALL_LOG) in out  # which says where the full output is
    assert course.INSTALL_LOG.read_text().count("Collecting numpy") == 2  # kept in the log, both pip runs


def test_same_stamp_means_no_reinstall(course, monkeypatch, capsys):
    course.STAMP.write_text(f"{course.requirements_digest()} python-3.11")
    fake = use(monkeypatch, FakeProcesses(python_version="3.11"))
    course.install()
    assert fake.pip_commands == []
    assert "already installed" in capsys.readouterr().out


@pytest.mark.parametrize("old_stamp", ["{digest}", "{digest} python-3.10", "{digest} python-unknown"])
def test_another_python_version_means_reinstall(course, monkeypatch, old_stamp):
    """An old stamp without the version, or with another one, installs again and updates the stamp."""
    course.STAMP.write_text(old_stamp.format(digest=course.requirements_digest()))
    fake = use(monkeypatch, FakeProcesses(python_version="3.12"))
    course.install()
    assert len(fake.pip_commands) == 2
    assert course.STAMP.read_text().endswith(" python-3.12")


def test_changed_requirements_mean_reinstall(course, monkeypatch):
    course.STAMP.write_text("0" * 64 + " python-3.11")
    fake = use(monkeypatch, FakeProcesses(python_version="3.11"))
    course.install()
    assert len(fake.pip_commands) == 2


def test_a_failing_pip_gives_a_readable_message_not_a_traceback(course, monkeypatch, capsys):
    log = [f"line {i}\n" for i in range(100)] + [
        "ERROR: No matching distribution found for tensorflow-cpu~=2.20\n"
    ]
    fake = use(monkeypatch, FakeProcesses(pip_output=log, pip_exit=1))
    with pytest.raises(SystemExit) as info:
        course.install()
    message = str(info.value.code)
    assert info.value.code != 0 and isinstance(info.value.code, str)  # sys.exit(message): exit status 1
    assert "exit code 1" in message
    assert f"$ {course.venv_python()} -m pip install --upgrade pip" in message  # names the command
    assert "ERROR: No matching distribution found for tensorflow-cpu~=2.20" in message  # the tail of the log
    assert "line 99" in message and "line 50" not in message  # only the tail
    assert str(course.INSTALL_LOG) in message and course.INSTALL_LOG.read_text() == "".join(log)
    assert "Traceback" not in message and "CalledProcessError" not in message
    assert not course.STAMP.exists()  # nothing is marked as installed
    assert len(fake.pip_commands) == 1  # it stopped at the first failure


def test_main_reports_a_failed_command_without_a_traceback(course, monkeypatch, capsys):
    def failing_setup(gpu=None):
        raise subprocess.CalledProcessError(3, ["jupyter", "lab"])

    monkeypatch.setattr(course, "setup", failing_setup)
    assert course.main(["setup"]) == 3
    err = capsys.readouterr().err
    assert "exit code 3" in err and "$ jupyter lab" in err


def test_pyproject_installs_tensorflow_like_requirements_txt():
    """`pip install -e .` alone must give an importable package: TensorFlow with the same platform markers."""
    tomllib = pytest.importorskip("tomllib")
    requirements = pytest.importorskip("packaging.requirements")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    from_pyproject = {str(requirements.Requirement(d)) for d in project["dependencies"] if "tensorflow" in d}
    lines = (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    from_requirements = {
        str(requirements.Requirement(line)) for line in lines if line.startswith("tensorflow")
    }
    assert from_pyproject == from_requirements and len(from_pyproject) == 2
    # Exactly one TensorFlow wheel on every platform the course supports.
    for platform in [
        ("linux", "x86_64"),
        ("linux", "aarch64"),
        ("darwin", "arm64"),
        ("darwin", "x86_64"),
        ("win32", "AMD64"),
    ]:
        environment = {"sys_platform": platform[0], "platform_machine": platform[1]}
        chosen = [
            r.name for r in map(requirements.Requirement, from_pyproject) if r.marker.evaluate(environment)
        ]
        assert chosen == (["tensorflow-cpu"] if platform == ("linux", "x86_64") else ["tensorflow"]), platform


def test_a_long_install_shows_one_progress_line_per_twenty_packages(course, monkeypatch, capsys):
    output = [f"Collecting package{i}\n" for i in range(45)] + ["Successfully installed a b c\n"]
    use(monkeypatch, FakeProcesses(python_version="3.11", pip_output=output))
    course.install()
    out = capsys.readouterr().out
    assert out.count("packages collected") == 2 * 2  # 20 and 40, in each of the two pip runs
    assert "installed 3 packages" in out and "package7" not in out


def test_gpu_swaps_tensorflow_for_the_cuda_build_and_keeps_the_rest(course):
    cpu, gpu = course.requirement_lines(gpu=False), course.requirement_lines(gpu=True)
    assert any(line.startswith("tensorflow-cpu") for line in cpu)
    assert not any(line.startswith(("tensorflow-cpu", "tensorflow~")) for line in gpu)
    assert gpu.count(course.GPU_TENSORFLOW) == 1 and course.GPU_TENSORFLOW == "tensorflow[and-cuda]~=2.20"
    others = [line for line in cpu if not line.startswith("tensorflow")]
    assert [line for line in gpu if line != course.GPU_TENSORFLOW] == others and "keras~=3.10" in others


def test_gpu_install_skips_the_packages_cpu_dependencies_and_is_remembered(course, monkeypatch):
    fake = use(monkeypatch, FakeProcesses(python_version="3.11"))
    course.install(gpu=True)
    commands = [c[3:] for c in fake.pip_commands]
    assert commands[1] == ["install", *course.requirement_lines(gpu=True)]
    assert commands[2] == ["install", "--no-deps", "-e", str(course.ROOT)]  # not tensorflow-cpu again
    assert course.STAMP.read_text().endswith(" gpu") and course.installed_for_gpu()
    fake.commands.clear()
    course.install(gpu=True)
    assert fake.pip_commands == []  # already installed for the GPU


def test_lab_serves_the_repository_root_and_opens_the_lessons(course, monkeypatch):
    """The lessons link to ../../README.md: the lab's root must be the repository for that to resolve."""
    commands = []
    monkeypatch.setattr(course, "setup", lambda gpu=None: commands.append(("setup", gpu)))
    monkeypatch.setattr(
        course, "run", lambda command, **kwargs: commands.append([str(part) for part in command])
    )
    course.jupyter_lab(["--gpu", "--port", "8899"])
    assert commands[0] == ("setup", True)
    lab = commands[1]
    assert lab[lab.index("--notebook-dir") + 1] == str(course.ROOT)
    assert "--ServerApp.default_url=/lab/tree/notebooks" in lab and "--gpu" not in lab
    assert lab[-2:] == ["--port", "8899"] or "--allow-root" in lab[-1:]
