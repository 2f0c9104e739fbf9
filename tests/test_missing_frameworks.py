"""A reader with only one framework installed: clear messages, not deep tracebacks.

Each chapter's setup cell imports the frameworks with ``optional=True``; a missing one
becomes a :class:`utils.frameworks.MissingFramework` placeholder. These tests

* check the placeholder itself;
* import every ``utils`` module with the frameworks hidden (none may import a framework
  when it is imported);
* execute every chapter notebook in a kernel where PyTorch, resp. TensorFlow and Keras,
  cannot be imported, from a folder outside ``book/``, until the first error, and check
  that the setup cell ran and that the first error is a ``MissingFrameworkError`` naming
  the missing package, raised in a cell that really uses that framework.

The frameworks are hidden by a ``sitecustomize`` module (put first on ``PYTHONPATH``)
that wraps every import finder so that none finds them: ``import torch`` raises
``ModuleNotFoundError`` and ``importlib.util.find_spec("torch")`` returns None, exactly
as when the package is not installed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from book_toc import toc_chapters

from utils import frameworks
from utils.frameworks import MissingFramework, MissingFrameworkError

ROOT = Path(__file__).resolve().parents[1]


CHAPTERS = toc_chapters()
# every module of the package, subpackages included ("nets.torch_fit")
UTILS_MODULES = sorted(".".join(p.relative_to(ROOT / "utils").with_suffix("").parts)
                       for p in (ROOT / "utils").rglob("*.py") if p.stem != "__init__")

# What is hidden, the package names an error message must mention, the names by which a
# chapter refers to the framework, and the helper that raises the error.
HIDDEN = {
    "torch": {"modules": "torch", "names": ("torch",), "uses": r"\btorch\b",
              "importer": "import_torch"},
    "tensorflow": {"modules": "tensorflow,keras,tf_keras", "names": ("tensorflow", "keras"),
                   "uses": r"\b(keras|tf)\b", "importer": r"import_(keras|tensorflow)"},
}

SITECUSTOMIZE = '''
"""Test helper: make the packages in $BOOK_HIDE_MODULES look uninstalled."""
import os
import sys

_HIDDEN = tuple(m for m in os.environ.get("BOOK_HIDE_MODULES", "").split(",") if m)


class _Hiding:
    """Wraps a finder so that it finds nothing for the hidden packages: imports fail
    with ModuleNotFoundError and importlib.util.find_spec returns None, as when a package
    is not installed."""

    def __init__(self, finder):
        self._finder = finder

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in _HIDDEN:
            return None
        find = getattr(self._finder, "find_spec", None)
        return find(name, path, target) if find else None

    def __getattr__(self, attribute):
        return getattr(self._finder, attribute)


if _HIDDEN:
    sys.meta_path[:] = [_Hiding(f) for f in sys.meta_path]
'''

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def hide(tmp_path, monkeypatch):
    """Return a function that hides a framework from every Python process started later."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")

    def apply(framework: str) -> dict[str, str]:
        path = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
        monkeypatch.setenv("PYTHONPATH", path)
        monkeypatch.setenv("BOOK_HIDE_MODULES", HIDDEN[framework]["modules"])
        return dict(os.environ)

    return apply


# --- the placeholder -----------------------------------------------------------------


def placeholder(module: str = "torch") -> MissingFramework:
    return MissingFramework(module, f"This part of the book needs the '{module}' package")


def test_placeholder_raises_on_first_use_and_names_the_package():
    torch = placeholder("torch")
    with pytest.raises(MissingFrameworkError, match="'torch' package") as info:
        torch.tensor([1.0])
    assert info.value.name == "torch"
    with pytest.raises(MissingFrameworkError, match="'torch' package"):
        torch.nn.Linear  # noqa: B018 (attribute access is the use)
    with pytest.raises(MissingFrameworkError, match="'torch' package"):
        torch()


def test_placeholder_is_falsy_unavailable_and_says_what_to_install():
    keras = placeholder("keras")
    assert not keras
    assert not frameworks.is_available(keras)
    assert frameworks.is_available(sys)  # any real module
    assert "pip install keras" in repr(keras)


def test_placeholder_does_not_pretend_to_have_dunder_attributes():
    # hasattr/copy/pickle probe dunders; they must see a plain object, not an error
    tf = placeholder("tensorflow")
    assert not hasattr(tf, "__wrapped__")
    with pytest.raises(AttributeError):
        tf.__array__  # noqa: B018


def test_missing_framework_error_is_a_module_not_found_error():
    # code that catches ModuleNotFoundError (the usual idiom) still works
    assert issubclass(MissingFrameworkError, ModuleNotFoundError)


@pytest.mark.parametrize("framework", sorted(HIDDEN))
def test_optional_import_gives_placeholder_and_required_import_raises(framework, hide, tmp_path):
    env = hide(framework)
    importer = {"torch": "import_torch", "tensorflow": "import_keras"}[framework]
    code = textwrap.dedent(f"""
        from utils import frameworks
        fw = frameworks.{importer}(optional=True)
        assert isinstance(fw, frameworks.MissingFramework), fw
        try:
            fw.anything
        except frameworks.MissingFrameworkError as exc:
            print("optional:", exc)
        try:
            frameworks.{importer}()
        except frameworks.MissingFrameworkError as exc:
            print("required:", exc)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, cwd=tmp_path, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    package = HIDDEN[framework]["names"][0]
    lines = out.stdout.splitlines()
    assert len(lines) == 2 and all(f"'{package}' package" in line for line in lines), lines
    assert all("pip install" in line for line in lines), lines


@pytest.mark.parametrize("framework", sorted(HIDDEN))
def test_every_utils_module_imports_without_the_framework(framework, hide, tmp_path):
    env = hide(framework)
    hidden = HIDDEN[framework]["modules"].split(",")
    code = (f"import importlib, sys\nfor m in {UTILS_MODULES!r}:\n"
            "    importlib.import_module('utils.' + m)\n"
            f"print(sorted(m for m in {hidden!r} if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, cwd=tmp_path, timeout=120, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"


def test_stacked_mlp_needs_torch_only_when_used(hide, tmp_path):
    env = hide("torch")
    code = textwrap.dedent("""
        from utils import frameworks
        from utils.nets import torch_fit, torch_stack
        for make in (lambda: torch_stack.StackedMLP([4, 3, 2], seeds=[0]),
                     lambda: torch_fit.mlp([4, 3, 2])):
            try:
                make()
            except frameworks.MissingFrameworkError as exc:
                print(type(exc).__name__, exc.name)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, cwd=tmp_path, timeout=120, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split("\n")[:2] == ["MissingFrameworkError torch"] * 2, out.stdout


# --- the chapters, with one framework hidden ----------------------------------------


def first_error(nb: dict) -> tuple[int, dict, dict] | None:
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    for i, cell in enumerate(code):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                return i, cell, out
    return None


def cell_source(cell: dict) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def execute_until_first_error(chapter: str, framework: str, site: Path, workdir: Path) -> dict:
    """Run a chapter in a fresh kernel that cannot import ``framework``, from ``workdir``
    (not book/), until the first error; return the executed notebook as a dict."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(ROOT / "book" / f"{chapter}.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    env = dict(os.environ, BOOK_HIDE_MODULES=HIDDEN[framework]["modules"],
               PYTHONPATH=os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])),
               OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(workdir)}})
    try:
        client.execute(env=env)
    except CellExecutionError:
        pass  # stops at the first error, which the test examines
    return json.loads(nbformat.writes(nb))


CHAPTER_TEST = "test_chapter_without_framework_stops_with_a_clear_message"


def selected_jobs(session) -> list[tuple[str, str]]:
    """The (chapter, framework) pairs of the chapter tests this session runs (``-k`` may
    select a few), so that only those notebooks are executed."""
    jobs = [(item.callspec.params["chapter"], item.callspec.params["framework"])
            for item in session.items
            if getattr(item, "originalname", None) == CHAPTER_TEST and hasattr(item, "callspec")]
    return sorted(set(jobs)) or [(c, f) for c in CHAPTERS for f in sorted(HIDDEN)]


@pytest.fixture(scope="module")
def executed(request, tmp_path_factory):
    """The selected chapters with each framework hidden, four kernels at a time (most of
    the time is kernel start-up and imports, which overlap well)."""
    from concurrent.futures import ThreadPoolExecutor

    base = tmp_path_factory.mktemp("missing-frameworks")
    site = base / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    workdir = base / "elsewhere"  # not book/: the chapters must not rely on the cwd
    workdir.mkdir()
    jobs = selected_jobs(request.session)
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {job: pool.submit(execute_until_first_error, *job, site, workdir)
                   for job in jobs}
    return {job: future.result() for job, future in futures.items()}


@pytest.mark.slow
@pytest.mark.parametrize("framework", sorted(HIDDEN))
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_without_framework_stops_with_a_clear_message(chapter, framework, executed):
    spec = HIDDEN[framework]
    nb = executed[chapter, framework]
    found = first_error(nb)
    sources = [cell_source(c) for c in nb["cells"] if c["cell_type"] == "code"]
    if found is None:
        assert not any(re.search(spec["uses"], s) for s in sources[1:]), (
            f"{chapter} ran to the end without {framework} although it uses it")
        return
    index, cell, error = found
    assert index > 0, f"the setup cell failed: {error['ename']}: {error['evalue']}"
    assert error["ename"] == "MissingFrameworkError", (
        f"code cell {index} raised {error['ename']}: {error['evalue']}\n"
        + ANSI.sub("", "\n".join(error["traceback"]))[-3000:])
    assert any(f"'{name}' package" in error["evalue"] for name in spec["names"]), error["evalue"]
    assert "pip install" in error["evalue"]
    traceback = ANSI.sub("", "\n".join(error["traceback"]))
    source = cell_source(cell)
    uses = re.search(spec["uses"], source) or re.search(spec["importer"], traceback)
    assert uses, f"code cell {index} does not use {framework}:\n{source}"
    # the NumPy parts before it ran: every earlier code cell has been executed
    assert all(c.get("execution_count") for c in
               [c for c in nb["cells"] if c["cell_type"] == "code"][:index]), chapter
