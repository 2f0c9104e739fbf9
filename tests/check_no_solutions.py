"""Check the book built without solutions against the normal build.

    python tests/check_no_solutions.py _build/html _build/no-solutions/_build/html

Collects, from every chapter notebook, lines that only occur inside exercise solutions
(``{solution}`` directives and the cells between ``{solution-start}`` and
``{solution-end}``), then checks that each of them IS on the chapter's page of the normal
build (so the check can see them) and occurs fewer times on the page built without
solutions (a line may also be shown outside a solution, e.g. in the exercise itself or in
a function's source printed by a cell: only the solution's copies must go). The same holds
for the printed source of the functions that the graded assignments ask students to
write: the cells tagged ``graded-source`` (``GRADED_SOURCES`` names those functions, and
tests/test_hide_gated_solutions.py checks that every cell printing one has the tag). The
build without solutions must also keep every exercise and publish no page sources
(``_sources/``, .ipynb). Run by .ci/run after
``python3 tasks.py build --without-solutions``; exits 1 with a list of problems.
"""

from __future__ import annotations

import html
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^(`{3,}|:{3,})\{(\w[\w-]*)\}")
PROSE_OK = re.compile(r"^[A-Za-z0-9 ,.;:()]+$")
# functions of utils, as the chapters name them in show_source(...), whose code is the
# answer to a graded assignment (assignments/source): their cells carry the tag
GRADED_SOURCES = frozenset({
    "initializers.variance_scaling", "initializers.he_uniform",
    "normalization.batchnorm_forward", "normalization.batchnorm_backward",
    "normalization.batchnorm_backward_graph", "normalization.BatchNorm.forward",
    "normalization.BatchNorm._update_running_stats",
    "optimizers.Momentum", "optimizers.RMSprop._direction", "optimizers.Adam._direction",
    "reg.inverted_dropout", "reg.dropout_backward", "clipping._by_global_norm",
})
GRADED_TAG = "graded-source"
SHOW_SOURCE = re.compile(r"show_source\(([^)]*)\)")


def shown_sources(cell: dict) -> set[str]:
    """The names a code cell passes to show_source(...)."""
    return {name.strip() for args in SHOW_SOURCE.findall(cell_source(cell))
            for name in args.split(",") if name.strip()}


def graded_source_lines(nb_path: Path) -> list[str]:
    """Lines printed only by the notebook's cells tagged graded-source (their outputs)."""
    cells = json.loads(nb_path.read_text(encoding="utf-8"))["cells"]
    inside, outside = set(), set()
    for cell in cells:
        if cell["cell_type"] != "code":
            outside.update(ln.strip() for ln in cell_source(cell).splitlines())
            continue
        tagged = GRADED_TAG in cell.get("metadata", {}).get("tags", [])
        outside.update(ln.strip() for ln in cell_source(cell).splitlines())
        for out in cell.get("outputs", []):
            text = out.get("text") or out.get("data", {}).get("text/plain") or ""
            text = "".join(text) if isinstance(text, list) else text
            (inside if tagged else outside).update(ln.strip() for ln in text.splitlines())
    return sorted(s for s in inside - outside if len(s) >= 20 and not s.startswith("#"))


def cell_source(cell: dict) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def solution_lines(nb_path: Path) -> tuple[list[str], int]:
    """(lines only found inside solutions, number of exercises) of one notebook."""
    cells = json.loads(nb_path.read_text(encoding="utf-8"))["cells"]
    inside, outside, exercises = [], [], 0
    gated = False
    for cell in cells:
        text = cell_source(cell)
        if cell["cell_type"] == "code":
            (inside if gated else outside).extend(("code", ln) for ln in text.splitlines())
            continue
        fence = None
        for line in text.splitlines():
            m = FENCE.match(line.strip())
            if m and m.group(2) == "exercise" or m and m.group(2) == "exercise-start":
                exercises += 1
            if m and m.group(2) == "solution-start":
                gated = True
                continue
            if m and m.group(2) == "solution-end":
                gated = False
                continue
            if m and m.group(2) == "solution":
                fence = m.group(1)
                continue
            if fence and line.strip() == fence:
                fence = None
                continue
            (inside if gated or fence else outside).append(("markdown", line))
    seen_outside = {ln.strip() for _, ln in outside}
    chosen = []
    for kind, line in inside:
        s = line.strip()
        if s in seen_outside or s.startswith((":", "#", "```", "%")):
            continue
        # code is shown verbatim; of the prose only plain lines (no math, markup or quotes,
        # which the build rewrites)
        if (kind == "code" and len(s) >= 20) or (len(s) >= 30 and PROSE_OK.match(s)):
            chosen.append(s)
    return sorted(set(chosen)), exercises


def page_text(path: Path) -> str:
    raw = path.read_text(encoding="utf-8", errors="replace")
    raw = re.sub(r"<[^>]+>", "", raw)
    return re.sub(r"\s+", " ", html.unescape(raw))


def squash(s: str) -> str:
    return re.sub(r"\s+", " ", s)


def main(normal: Path, hidden: Path) -> int:
    problems = []
    chapters = sorted((ROOT / "book").glob("*.ipynb"))
    hidden_files = [p for p in hidden.rglob("*") if p.is_file()]
    if (hidden / "_sources").exists():
        problems.append("the build without solutions publishes _sources/")
    problems += [f"page source published: {p}" for p in hidden_files if p.suffix == ".ipynb"]
    total = total_graded = 0
    for nb in chapters:
        page = Path("book") / f"{nb.stem}.html"
        if not (normal / page).exists():
            continue  # not in the table of contents
        lines, exercises = solution_lines(nb)
        normal_text = page_text(normal / page)
        if not (hidden / page).exists():
            problems.append(f"{page} missing from the build without solutions")
            continue
        hidden_page = page_text(hidden / page)
        if exercises and hidden_page.count("Exercise") < exercises:
            problems.append(f"{page}: exercises missing without solutions")
        if exercises and not lines:
            problems.append(f"{nb.name}: found no solution lines to look for")
        graded = graded_source_lines(nb)
        for line in graded:
            needle = squash(line)
            if needle not in normal_text:
                problems.append(f"{page}: the check cannot see {line!r} in the normal build")
            elif hidden_page.count(needle) >= normal_text.count(needle):
                problems.append(f"{page}: graded source line {line!r} still shown")
        total_graded += len(graded)
        for line in lines:
            needle = squash(line)
            if needle not in normal_text:
                problems.append(f"{page}: the check cannot see {line!r} in the normal build")
                continue
            total += 1
            # the same line may also be shown outside the solution (in an exercise, or in
            # the source of a function printed by a cell): it must occur fewer times
            shown, kept = normal_text.count(needle), hidden_page.count(needle)
            if kept >= shown:
                problems.append(f"{page}: solution line {line!r} still shown ({kept} times)")
    print(f"{total} solution lines of {len(chapters)} chapters: shown in the normal build, "
          f"{'removed' if not problems else 'NOT all removed'} in the build without solutions"
          f"; {total_graded} lines of graded functions' source checked the same way")
    for p in problems:
        print("  problem:", p)
    return 1 if problems or total == 0 or total_graded == 0 else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
