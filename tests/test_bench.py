"""vae_course.bench: the command line wiring and the face-explorer latency rows (structure, not speed)."""

from __future__ import annotations

import json
import sys
import types

import pytest

from vae_course import bench


def test_faces_subcommand_hands_its_arguments_to_bench_faces(monkeypatch):
    calls = []
    fake = types.ModuleType("vae_course.bench_faces")
    fake.main = lambda argv: calls.append(argv) or 0
    monkeypatch.setitem(sys.modules, "vae_course.bench_faces", fake)
    assert bench.main(["faces", "--n", "64", "--json", "x.json"]) == 0
    assert calls == [["--n", "64", "--json", "x.json"]]
    fake.main = lambda argv: 3
    assert bench.main(["faces"]) == 3
    fake.main = lambda argv: None  # a main that returns nothing counts as success
    assert bench.main(["faces"]) == 0


def test_faces_subcommand_without_bench_faces_says_what_to_do(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "vae_course.bench_faces", None)  # makes the import fail
    assert bench.main(["faces"]) == 2
    assert "needs the module vae_course.bench_faces" in capsys.readouterr().err


def test_unknown_benchmark_and_misplaced_faces_are_rejected(capsys):
    with pytest.raises(SystemExit):
        bench.main(["nonsense"])
    assert "invalid choice" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        bench.main(["--events", "3", "faces"])
    assert "write faces first" in capsys.readouterr().err


def test_latency_rows_summarise_seconds_in_milliseconds():
    rows = bench._latency_rows({"event": [0.001, 0.002, 0.003, 0.004, 0.010]})
    assert rows == [{"step": "event", "events": 5, "median_ms": 3.0, "p90_ms": 7.6, "max_ms": 10.0}]


def test_face_explorer_bench_reports_every_face_row():
    rows = bench.bench_face_explorers(events=4, latent_dim=8, n_vectors=2)
    assert [row["step"] for row in rows] == [
        "face 64x64: eager decoder call",
        "face 64x64: decode_point (compiled predict step)",
        "face 64x64: FaceExplorer slider event",
        "face 64x64: AttributeExplorer slider event",
        "face 64x64: MorphExplorer slider event",
    ]
    for row in rows:
        assert row["events"] == 4
        assert 0 < row["median_ms"] <= row["p90_ms"] <= row["max_ms"]
    json.dumps(rows)  # the rows go into the JSON file as they are
