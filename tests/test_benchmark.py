"""The benchmark script (tests/benchmark.py): ratios to the floor, failures reported."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("book_benchmark", ROOT / "tests" / "benchmark.py")
benchmark = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(benchmark)


def test_cell_seconds_reads_the_executor_timestamps(tmp_path):
    cell = {"cell_type": "code", "source": "x = 1\ny = 2", "outputs": [],
            "metadata": {"execution": {"iopub.execute_input": "2026-01-01T00:00:01.000Z",
                                       "shell.execute_reply": "2026-01-01T00:00:03.500Z"}}}
    nb = tmp_path / "a.ipynb"
    nb.write_text(json.dumps({"cells": [{"cell_type": "markdown", "source": "t"}, cell]}))
    assert benchmark.cell_seconds(nb) == [(0, 2.5, "x = 1")]


def test_a_failing_notebook_is_reported_and_the_others_timed(tmp_path, monkeypatch, capsys):
    ok, bad = ROOT / "book" / "selu.ipynb", ROOT / "book" / "activations.ipynb"

    def fake_run(nb):
        result = {"notebook": nb.name, "wall_s": 20.0, "peak_rss_mb": 100.0,
                  "cells": [(3, 7.5, "slow()")]}
        if nb == bad:
            result["error"] = "ZeroDivisionError: division by zero"
        return result

    monkeypatch.setattr(benchmark, "run_one", fake_run)
    monkeypatch.setattr(benchmark, "floor", lambda: {"notebook": "floor", "wall_s": 10.0,
                                                     "peak_rss_mb": 50.0, "cells": []})
    monkeypatch.setattr(benchmark, "ROOT", tmp_path)
    (tmp_path / "x").mkdir()
    monkeypatch.chdir(tmp_path)
    ok_copy, bad_copy = tmp_path / "x" / ok.name, tmp_path / "x" / bad.name
    ok_copy.write_text("{}")
    bad_copy.write_text("{}")
    bad = bad_copy.resolve()
    assert benchmark.main([str(ok_copy), str(bad_copy), "--cells"]) == 1
    out = capsys.readouterr().out
    assert "FAILED: ZeroDivisionError" in out and "slow()" in out
    report = json.loads((tmp_path / "_build" / "benchmark.json").read_text())
    assert report["failed"] == ["activations.ipynb"]
    assert report["total_over_floor_times_chapters"] == 2.0
    assert report["max_chapter_over_floor"] == 2.0
    assert len(report["results"]) == 2
