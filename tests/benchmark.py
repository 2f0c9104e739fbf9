"""Time each chapter notebook in a fresh kernel, as a student would run it.

    python3 tasks.py benchmark [book/some_chapter.ipynb ...]

For every notebook: wall seconds from launching the executor to its exit (kernel start,
imports and every cell included) and the peak resident memory of the kernel process,
sampled every 20 ms. Notebooks run one after another, never in parallel, and the
executed copies are discarded (the committed notebooks are not touched). Prints a
table and writes _build/benchmark.json.
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
    if proc.returncode != 0:
        raise SystemExit(f"{notebook} failed to execute:\n{err.decode()[-3000:]}")
    return {"notebook": str(notebook.relative_to(ROOT)), "wall_s": round(wall, 2),
            "peak_rss_mb": round(peak / 2**20, 1)}


def main(argv: list[str]) -> None:
    notebooks = [Path(a).resolve() for a in argv] or sorted((ROOT / "book").glob("*.ipynb"))
    if not notebooks:
        raise SystemExit("no notebooks found")
    results = []
    for nb in notebooks:
        print(f"running {nb.relative_to(ROOT)} ...", flush=True)
        results.append(run_one(nb))
    width = max(len(r["notebook"]) for r in results)
    print(f"\n{'notebook':<{width}}  {'wall s':>7}  {'peak MB':>8}")
    for r in results:
        print(f"{r['notebook']:<{width}}  {r['wall_s']:>7.1f}  {r['peak_rss_mb']:>8.0f}")
    total = sum(r["wall_s"] for r in results)
    print(f"{'total':<{width}}  {total:>7.1f}")
    report = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                          "python": platform.python_version()},
              "results": results, "total_wall_s": round(total, 2)}
    out = ROOT / "_build" / "benchmark.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1:])
