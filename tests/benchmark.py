"""Time each chapter notebook in a fresh kernel, as a student would run it.

    python3 tasks.py benchmark [book/some_chapter.ipynb ...] [--cells]

For every notebook: wall seconds from launching the executor to its exit (kernel start,
imports and every cell included) and the peak resident memory of the kernel process,
sampled every 20 ms. First it times the *floor*, a notebook with only the setup every
chapter has (kernel start, the book's imports with the three frameworks, the house style
and ``seed_everything``), and reports every chapter as a multiple of it, and the total as a
multiple of the floor times the number of chapters: ratios, unlike seconds, compare across
machines. ``--cells`` also lists the slowest cells. Notebooks run one after another, never
in parallel, and the executed copies are discarded (the committed notebooks are not
touched). A notebook that fails is marked in the table and the JSON, with its error, the
others are still timed, and the command exits 1 at the end. Writes
_build/benchmark.json.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]


def kernel_rss(proc: psutil.Process) -> int:
    """Resident memory of the kernel(s) among the descendants of ``proc``."""
    total = 0
    try:
        children = proc.children(recursive=True)
    except psutil.NoSuchProcess:
        return 0
    for child in children:
        try:
            if any("ipykernel" in part for part in child.cmdline()):
                total += child.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total


FLOOR_SETUP = """\
import matplotlib.pyplot as plt
import numpy as np

from utils import display, frameworks, plotting
from utils.reproducibility import seed_everything

torch = frameworks.import_torch(optional=True)
keras = frameworks.import_keras(optional=True)
tf = frameworks.import_tensorflow(optional=True)
plotting.use_book_style()
display.print_setup(seed_everything(0))
"""


def cell_seconds(executed: Path) -> list[tuple[int, float, str]]:
    """(code cell index, seconds, first line) of every code cell of an executed notebook,
    from the timestamps the executor records in the cell metadata."""
    from datetime import datetime

    cells = json.loads(executed.read_text(encoding="utf-8"))["cells"]
    out = []
    code = [c for c in cells if c["cell_type"] == "code"]
    for i, cell in enumerate(code):
        times = cell.get("metadata", {}).get("execution", {})
        start, end = times.get("iopub.execute_input"), times.get("shell.execute_reply")
        if start and end:
            seconds = (datetime.fromisoformat(end.replace("Z", "+00:00"))
                       - datetime.fromisoformat(start.replace("Z", "+00:00"))).total_seconds()
            src = "".join(cell["source"]).strip().splitlines() or [""]
            out.append((i, round(seconds, 2), src[0][:60]))
    return out


def run_one(notebook: Path) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
               "--ExecutePreprocessor.timeout=900", "--output-dir", tmp, str(notebook)]
        start = time.perf_counter()
        proc = psutil.Popen(cmd, cwd=notebook.parent, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
        peak = 0
        while proc.poll() is None:
            peak = max(peak, kernel_rss(proc))
            time.sleep(0.02)
        wall = time.perf_counter() - start
        _, err = proc.communicate()
        executed = Path(tmp) / notebook.name
        cells = cell_seconds(executed) if executed.exists() else []
    name = (str(notebook.relative_to(ROOT)) if notebook.is_relative_to(ROOT)
            else notebook.name)
    result = {"notebook": name, "wall_s": round(wall, 2),
              "peak_rss_mb": round(peak / 2**20, 1), "cells": cells}
    if proc.returncode != 0:
        lines = [ln for ln in err.decode(errors="replace").splitlines() if ln.strip()]
        errors = [ln for ln in lines if "Error" in ln]
        result["error"] = (errors or lines or ["failed"])[-1][:300]
    return result


def floor() -> dict:
    """Time the setup every chapter has, alone, in a notebook next to the chapters."""
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "source": FLOOR_SETUP,
                     "outputs": [], "execution_count": None}],
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                      "language": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    with tempfile.TemporaryDirectory(dir=ROOT / "book", prefix=".floor-") as tmp:
        path = Path(tmp) / "floor.ipynb"
        path.write_text(json.dumps(nb), encoding="utf-8")
        result = run_one(path)
    result["notebook"] = "floor (setup cell only)"
    return result


def main(argv: list[str]) -> int:
    show_cells = "--cells" in argv
    argv = [a for a in argv if a != "--cells"]
    notebooks = [Path(a).resolve() for a in argv] or sorted((ROOT / "book").glob("*.ipynb"))
    if not notebooks:
        raise SystemExit("no notebooks found")
    print("running the floor (the setup cell alone) ...", flush=True)
    base = floor()
    if "error" in base:
        raise SystemExit(f"the setup cell alone failed: {base['error']}")
    results = []
    for nb in notebooks:
        print(f"running {nb.relative_to(ROOT)} ...", flush=True)
        results.append(run_one(nb))
        if "error" in results[-1]:
            print(f"  FAILED: {results[-1]['error']}", flush=True)
    width = max(len(r["notebook"]) for r in [base, *results])
    print(f"\n{'notebook':<{width}}  {'wall s':>7}  {'x floor':>7}  {'peak MB':>8}")
    for r in [base, *results]:
        status = f"  FAILED: {r['error']}" if "error" in r else ""
        print(f"{r['notebook']:<{width}}  {r['wall_s']:>7.1f}  "
              f"{r['wall_s'] / base['wall_s']:>7.2f}  {r['peak_rss_mb']:>8.0f}{status}")
    total = sum(r["wall_s"] for r in results)
    ratio = total / (base["wall_s"] * len(results))
    print(f"{'total':<{width}}  {total:>7.1f}  {ratio:>7.2f}  (x floor x {len(results)})")
    if show_cells:
        slow = sorted(((c[1], r["notebook"], c[0], c[2]) for r in results
                       for c in r["cells"]), reverse=True)[:10]
        print("\nslowest cells (seconds, notebook, code cell, first line):")
        for seconds, name, index, first in slow:
            print(f"  {seconds:7.2f}  {name} cell {index}: {first}")
    failed = [r["notebook"] for r in results if "error" in r]
    report = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                          "python": platform.python_version()},
              "floor": base, "results": results, "total_wall_s": round(total, 2),
              "total_over_floor_times_chapters": round(ratio, 3),
              "max_chapter_over_floor": round(max(r["wall_s"] for r in results)
                                              / base["wall_s"], 3),
              "failed": failed}
    out = ROOT / "_build" / "benchmark.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {out.relative_to(ROOT)}")
    if failed:
        print(f"{len(failed)} notebook(s) failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
