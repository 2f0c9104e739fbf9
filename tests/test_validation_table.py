"""The appendix table book/utils_reference.md is the specification of the input checks.

The page lists, per public helper, bad calls (wrong types, wrong shapes, NaN/Inf,
out-of-range hyperparameters), the exception each raises and a fragment of its message.
This test parses the page, runs the page's setup block, makes every bad call and checks
the exception type and message. It also checks that the table covers every ``utils``
function the chapters call, and every kind of bad input.
"""

from __future__ import annotations

import builtins
import importlib
import inspect
import json
import re
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import pytest
from book_toc import toc_chapters

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "book" / "utils_reference.md"


# The chapters whose helpers must all be in the table.
CHAPTERS = toc_chapters()
# How the chapters import some modules (`from utils import regularization as reg`).
ALIASES = {"reg": "regularization", "sn": "self_normalization"}
# Modules whose functions are not input-validating helpers: the exercises' self-checks
# (they take a reader's answer; tests/test_checks.py) and the framework importers
# (tests/test_frameworks.py, tests/test_missing_frameworks.py).
NOT_LISTED = {"checks", "frameworks"}
CASES = {"wrong type", "wrong shape", "NaN/Inf", "out of range"}
EXCEPTIONS = {"TypeError": TypeError, "ValueError": ValueError,
              "FloatingPointError": FloatingPointError}


@dataclass(frozen=True)
class Row:
    module: str
    function: str
    checks: str
    case: str
    call: str
    error: str
    message: str

    @property
    def name(self) -> str:
        return f"{self.module}.{self.function}"

    @property
    def call_prefix(self) -> str:
        """How the page calls it: ``torch_fit.fit(`` for ``utils.nets.torch_fit.fit``."""
        return f"{self.module.rsplit('.', 1)[-1]}.{self.function}("


def code_span(cell: str) -> str:
    m = re.fullmatch(r"`(.*)`", cell.strip())
    assert m, f"expected a `code` cell, got {cell!r}"
    return m.group(1)


def parse_page() -> tuple[list[Row], list[str]]:
    text = PAGE.read_text(encoding="utf-8")
    blocks = re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)
    rows: list[Row] = []
    module = function = checks = None
    for line in text.splitlines():
        heading = re.match(r"^## `utils\.([\w.]+)`\s*$", line)
        if heading:
            module, function = heading.group(1), None
            continue
        if not line.startswith("| ") or line.startswith("| Function") or "---" in line:
            continue
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        assert len(cells) == 5, f"a table row needs 5 cells: {line}"
        head, case, call, error, message = cells
        if head:
            m = re.fullmatch(r"`(\w+)`: (.+)", head)
            assert m, f"first cell must be `function`: what it checks; got {head!r}"
            function, checks = m.group(1), m.group(2)
        assert module and function, f"row before any function: {line}"
        rows.append(Row(module, function, checks, case, code_span(call), code_span(error),
                        code_span(message)))
    return rows, blocks


ROWS, BLOCKS = parse_page()


def namespace(call: str) -> dict:
    ns: dict = {"__builtins__": builtins}
    exec(BLOCKS[0], ns)  # noqa: S102 (the page's own setup block)
    if re.search(r"\b(smlp|tnet|gnet|dnet|nan_gnet|tsgd)\b", call):
        exec(BLOCKS[1], ns)  # noqa: S102
    return ns


def test_chapters_are_every_notebook_in_the_toc():
    # a notebook the _toc.yml pattern missed would escape the coverage check below
    notebooks = {p.stem for p in (ROOT / "book").glob("*.ipynb")}
    assert CHAPTERS and set(CHAPTERS) == notebooks, (sorted(CHAPTERS), sorted(notebooks))


def test_page_parses_into_rows():
    assert len(BLOCKS) == 2, "the page needs its two setup blocks"
    assert len(ROWS) > 300
    assert {r.case for r in ROWS} == CASES
    assert {r.error for r in ROWS} <= set(EXCEPTIONS)


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r.name}-{r.case}-{r.call[:40]}")
def test_bad_call_raises_documented_error(row, monkeypatch):
    monkeypatch.setattr(plt, "show", lambda *a, **k: None)
    assert row.call.startswith(row.call_prefix), (
        f"the call {row.call!r} is not a call of {row.name}")
    ns = namespace(row.call)
    try:
        with pytest.raises(EXCEPTIONS[row.error]) as info:
            eval(row.call, ns)  # noqa: S307 (the page's own table)
    finally:
        plt.close("all")
    assert type(info.value).__name__ == row.error, (
        f"{row.call} raised {type(info.value).__name__}: {info.value}")
    assert row.message in str(info.value), (
        f"{row.call}: message {str(info.value)!r} lacks {row.message!r}")


def test_every_listed_function_exists_and_is_public():
    for name in {r.name for r in ROWS}:
        module, function = name.rsplit(".", 1)
        obj = getattr(importlib.import_module(f"utils.{module}"), function)
        assert callable(obj) and not function.startswith("_"), name


def _is_shim(module: str) -> bool:
    """A TEMPORARY module that only re-exports old names (``utils.nets.torch_fit`` for
    ``utils.nets.torch_fit``) until the chapters use the new ones."""
    path = ROOT / "utils" / (module.replace(".", "/") + ".py")
    return path.is_file() and path.read_text(encoding="utf-8").startswith("# TEMPORARY shim")


def chapter_calls() -> set[str]:
    """``module.function`` for every utils function or class the chapters call
    (``nets.torch_fit.fit`` for ``torch_fit.fit`` after ``from utils.nets import
    torch_fit``). A name imported through a TEMPORARY shim counts as the object it
    re-exports; a wrapper defined in the shim itself is not listed."""
    found = set()
    pattern = re.compile(r"(?<![\w.])(\w+)\.([A-Za-z]\w*)\b")
    for chapter in CHAPTERS:
        nb = json.loads((ROOT / "book" / f"{chapter}.ipynb").read_text(encoding="utf-8"))
        imported = dict(ALIASES)  # alias -> module below utils
        code = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
        for src in code:
            for m in re.finditer(r"^from utils((?:\.\w+)*) import (.+)$", src, flags=re.M):
                package = m.group(1).lstrip(".")
                for n in m.group(2).split(","):
                    name, _, alias = (part.strip() for part in n.partition(" as "))
                    module = f"{package}.{name}" if package else name
                    if (ROOT / "utils" / f"{module.replace('.', '/')}.py").is_file():
                        imported[alias or name] = module
        for src in code:
            for alias, function in pattern.findall(src):
                if alias not in imported:
                    continue
                module = imported[alias]
                if module in NOT_LISTED:
                    continue
                obj = getattr(importlib.import_module(f"utils.{module}"), function, None)
                if not (inspect.isfunction(obj) or inspect.isclass(obj)):
                    continue
                if inspect.isfunction(obj) and not inspect.signature(obj).parameters:
                    continue  # nothing to check, e.g. plotting.use_book_style()
                if _is_shim(module):
                    module, function = obj.__module__.removeprefix("utils."), obj.__name__
                    if _is_shim(module):
                        continue
                found.add(f"{module}.{function}")
    return found


def test_table_covers_every_helper_the_chapters_call():
    listed = {r.name for r in ROWS}
    used = chapter_calls()
    assert len(used) > 100, sorted(used)
    missing = sorted(used - listed)
    assert not missing, f"helpers used by chapters but not in {PAGE.name}: {missing}"


def test_array_helpers_are_checked_for_nan_and_wrong_types():
    # every helper whose table row says it takes a finite array has a NaN/Inf row
    by_function: dict[str, set[str]] = {}
    for r in ROWS:
        by_function.setdefault(r.name, set()).add(r.case)
    finite = {r.name for r in ROWS if "finite" in r.checks}
    lacking = sorted(n for n in finite if "NaN/Inf" not in by_function[n])
    assert not lacking, f"rows say 'finite' but test no NaN/Inf: {lacking}"
    for case in CASES:
        assert sum(case in cases for cases in by_function.values()) >= 15, case
