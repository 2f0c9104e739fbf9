"""The commands that check the notebooks on "any laptop": thread counts and working directory.

``python3 tasks.py test --threads N`` starts every kernel with N threads per library and
``python3 tasks.py portable --threads N`` re-runs the chapter notebooks from a temporary
folder outside book/ (book/intro.md, "Running it yourself"). Running them takes minutes
(CI runs the four-thread portable check); these tests check that the commands set what
they promise, quickly.
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tasks():
    spec = importlib.util.spec_from_file_location("book_tasks", ROOT / "tasks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def args(**kwargs) -> argparse.Namespace:
    return argparse.Namespace(**{"threads": None, "workers": 2, **kwargs})


@pytest.mark.parametrize("threads", [1, 4])
def test_threads_option_sets_every_library(tasks, threads, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "7")  # an explicit --threads wins over the shell
    env = tasks.test_env(args(threads=threads))
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        assert env[var] == str(threads), var
    assert env["TF_ENABLE_ONEDNN_OPTS"] == "0"


def test_default_is_one_blas_thread_with_parallel_workers(tasks, monkeypatch):
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(var, raising=False)
    env = tasks.test_env(args())
    assert env["OMP_NUM_THREADS"] == env["OPENBLAS_NUM_THREADS"] == "1"
    env = tasks.test_env(args(workers=0))
    assert "OMP_NUM_THREADS" not in env


def test_zero_threads_is_refused(tasks):
    with pytest.raises(SystemExit, match="at least 1"):
        tasks.test_env(args(threads=0))


def test_ci_runs_the_four_thread_portable_check():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "python3 tasks.py portable --threads 4" in ci
    assert ci.index("tasks.py test") < ci.index("tasks.py portable")


def test_chapters_read_no_files_relative_to_book():
    # the portable check copies only the notebooks: a chapter that opened ../something
    # or a data file next to it would fail there; this says why, early
    import json
    import re

    for nb in sorted((ROOT / "book").glob("*.ipynb")):
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        assert not re.search(r"""open\(\s*['"](?!/)|\.\./|os\.chdir""", code), nb.name


def test_cpu_variants_set_their_variables(tasks):
    base = {"PATH": "/bin"}
    assert tasks.cpu_env(base, None) == base
    assert tasks.cpu_env(base, "native") == base
    for name in ("avx2", "baseline", "mixed"):
        env = tasks.cpu_env(base, name)
        assert set(env) - set(base) == {"ATEN_CPU_CAPABILITY", "MKL_ENABLE_INSTRUCTIONS",
                                        "ONEDNN_MAX_CPU_ISA", "NPY_DISABLE_CPU_FEATURES",
                                        "OPENBLAS_CORETYPE"}, name
    with pytest.raises(SystemExit, match="--cpu must be one of"):
        tasks.cpu_env(base, "avx1024")


@pytest.mark.skipif(__import__("platform").machine() not in ("x86_64", "AMD64"),
                    reason="the variants emulate x86-64 CPUs")
@pytest.mark.parametrize("variant, torch_capability, numpy_v3",
                         [("baseline", "DEFAULT", False), ("mixed", "DEFAULT", False)])
def test_cpu_variant_reaches_the_libraries(tasks, variant, torch_capability, numpy_v3):
    """A process started with the variables really runs the other code paths."""
    import subprocess
    import sys

    code = ("import numpy, torch; from numpy._core._multiarray_umath import __cpu_features__ "
            "as f; print(torch.backends.cpu.get_cpu_capability(), bool(f.get('X86_V3')))")
    env = tasks.cpu_env(dict(__import__("os").environ), variant)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == [torch_capability, str(numpy_v3)]


def test_ci_runs_every_cpu_variant_on_the_notebooks():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for variant in ("avx2", "baseline", "mixed"):
        assert f"python3 tasks.py test --cpu {variant}" in ci, variant
