"""The extension behind ``python3 tasks.py build --without-solutions``
(book/_ext/hide_gated_solutions.py), on a one-page Sphinx project.

The full book is built both ways by .ci/run and compared by tests/check_no_solutions.py;
this is the fast check of the mechanism, including the sphinx-exercise behaviour that
makes the extension necessary.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sphinx_application = pytest.importorskip("sphinx.application")

PAGE = """# A page

```{exercise}
:label: ex-one

THE EXERCISE TEXT
```

```{solution-start} ex-one
:class: dropdown
```

GATED SOLUTION PROSE

    gated_solution_code = 1

```{solution-end}
```

```{exercise}
:label: ex-two

THE SECOND EXERCISE
```

```{solution} ex-two
:class: dropdown

PLAIN SOLUTION TEXT
```

TEXT AFTER THE SOLUTIONS

```{container} cell tag_graded-source

    def graded_function_source(): ...
```
"""
SECRETS = ("GATED SOLUTION PROSE", "gated_solution_code", "PLAIN SOLUTION TEXT",
           "graded_function_source")
KEPT = ("THE EXERCISE TEXT", "THE SECOND EXERCISE", "TEXT AFTER THE SOLUTIONS")


def build(tmp_path: Path, *, hide: bool, extension: bool) -> tuple[str, Path]:
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    (src / "index.md").write_text(PAGE, encoding="utf-8")
    extensions = ["myst_parser", "sphinx_exercise"]
    if extension:
        sys.path.insert(0, str(ROOT / "book" / "_ext"))
        extensions.append("hide_gated_solutions")
    out = tmp_path / "html"
    try:
        app = sphinx_application.Sphinx(
            str(src), None, str(out), str(tmp_path / "doctrees"), "html",
            confoverrides={"extensions": extensions, "hide_solutions": hide,
                           "myst_enable_extensions": ["colon_fence"]},
            status=None, warning=None, freshenv=True)
        app.build()
    finally:
        if extension:
            sys.path.remove(str(ROOT / "book" / "_ext"))
    return (out / "index.html").read_text(encoding="utf-8"), out


def test_normal_build_shows_every_solution(tmp_path):
    page, out = build(tmp_path, hide=False, extension=True)
    for text in SECRETS + KEPT:
        assert text in page, text
    assert (out / "_sources").is_dir()


def test_hide_solutions_alone_cannot_build_gated_solutions(tmp_path):
    """Why the extension exists: with hide_solutions, sphinx-exercise 1.2.1 drops
    {solution} and the {solution-start} directive itself, but leaves the cells up to
    {solution-end} in place and the end marker without an HTML writer: the build fails."""
    with pytest.raises(NotImplementedError, match="solution_end_node"):
        build(tmp_path, hide=True, extension=False)


def test_extension_hides_every_solution_and_keeps_the_rest(tmp_path):
    page, out = build(tmp_path, hide=True, extension=True)
    for text in SECRETS:
        assert text not in page, text
    for text in KEPT:
        assert text in page, text
    assert "part of a graded assignment" in page  # where the graded source was
    assert not (out / "_sources").exists(), "page sources (with the solutions) published"


def test_the_full_book_check_finds_solution_lines(tmp_path):
    """tests/check_no_solutions.py (run by .ci/run on the two full builds) looks for the
    lines that only occur in solutions: here one code line of a gated solution and one
    prose line of a {solution} directive, not the line the exercise shares with them."""
    import importlib.util
    import json

    spec = importlib.util.spec_from_file_location("check_no_solutions",
                                                  ROOT / "tests" / "check_no_solutions.py")
    check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check)

    def md(text):
        return {"cell_type": "markdown", "metadata": {}, "source": text}

    def code(text):
        return {"cell_type": "code", "metadata": {}, "source": text, "outputs": [],
                "execution_count": None}

    cells = [
        md("```{exercise}\n:label: a\nWhen done, run\n\n    checks.check_answer(answer)\n```\n\n"
           "```{solution-start} a\n:class: dropdown\n```"),
        code("answer = compute_the_answer(42)\nchecks.check_answer(answer)"),
        md("```{solution-end}\n```\n\n```{exercise}\n:label: b\nWhy?\n```\n\n"
           "```{solution} b\n:class: dropdown\n\nBecause the variance doubles at every layer\n```"),
        code("after_the_solutions = compute_the_answer(1)"),
    ]
    nb = tmp_path / "chapter.ipynb"
    nb.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                              "nbformat_minor": 5}))
    lines, exercises = check.solution_lines(nb)
    assert exercises == 2
    assert lines == ["Because the variance doubles at every layer",
                     "answer = compute_the_answer(42)"]


def _check_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("check_no_solutions",
                                                  ROOT / "tests" / "check_no_solutions.py")
    check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check)
    return check


def test_every_printed_source_of_a_graded_function_is_tagged():
    """A cell that prints the book's implementation of a function a graded assignment asks
    for carries the tag graded-source (removed from the build without solutions), and only
    such cells carry it."""
    import json

    check = _check_module()
    shown = set()
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] != "code":
                continue
            names = check.shown_sources(cell)
            tagged = check.GRADED_TAG in cell["metadata"].get("tags", [])
            assert tagged == bool(names & check.GRADED_SOURCES), (path.name, sorted(names))
            shown |= names
            if tagged:
                assert check.graded_source_lines(path), path.name
    assert check.GRADED_SOURCES <= shown, sorted(check.GRADED_SOURCES - shown)
