"""Hygiene of the chapter notebooks: the rules every stored notebook must follow.

The outputs themselves are re-computed and compared by nbval (``--nbval``); these
tests check what nbval does not: that each notebook was run top to bottom in a fresh
kernel, stores no stderr or errors, has the book's structure, and is in the table
of contents.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))
MAX_BYTES = 2_000_000


def load(nb: Path) -> dict:
    return json.loads(nb.read_text(encoding="utf-8"))


def code_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def source(cell: dict) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def toc_files() -> list[str]:
    text = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    return re.findall(r"^\s*(?:-\s*)?(?:file|root):\s*(\S+)\s*$", text, flags=re.M)


def test_there_are_chapters():
    assert NOTEBOOKS, "no notebooks in book/"


def test_toc_lists_exactly_the_existing_pages():
    listed = toc_files()
    for entry in listed:
        matches = [p for p in (ROOT / f"{entry}.ipynb", ROOT / f"{entry}.md") if p.exists()]
        assert matches, f"_toc.yml lists {entry}, which does not exist"
    listed_set = {str((ROOT / e).with_suffix("")) for e in listed}
    for nb in NOTEBOOKS:
        assert str(nb.with_suffix("")) in listed_set, f"{nb.name} is not in _toc.yml"


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.name)
class TestNotebook:
    def test_executed_top_to_bottom(self, nb_path):
        counts = [c.get("execution_count") for c in code_cells(load(nb_path))]
        assert counts == list(range(1, len(counts) + 1)), (
            f"execution counts {counts}: restart the kernel and run all cells before saving")

    def test_no_stderr_or_error_outputs(self, nb_path):
        for i, cell in enumerate(code_cells(load(nb_path))):
            for out in cell.get("outputs", []):
                assert out.get("output_type") != "error", f"code cell {i} stores an error"
                assert out.get("name") != "stderr", (
                    f"code cell {i} stores stderr: {''.join(out.get('text', ''))[:200]!r}")

    def test_one_title_and_no_skipped_heading_levels(self, nb_path):
        levels = []
        for cell in load(nb_path)["cells"]:
            if cell["cell_type"] != "markdown":
                continue
            in_fence = False
            for line in source(cell).splitlines():
                if line.lstrip().startswith("```"):
                    in_fence = not in_fence
                m = re.match(r"^(#{1,6})\s", line)
                if m and not in_fence:
                    levels.append(len(m.group(1)))
        assert levels and levels[0] == 1 and levels.count(1) == 1, f"headings {levels}"
        for a, b in zip(levels, levels[1:], strict=False):
            assert b <= a + 1, f"heading level jumps from {a} to {b}"

    def test_has_summary_exercises_and_references(self, nb_path):
        text = "\n".join(source(c) for c in load(nb_path)["cells"] if c["cell_type"] == "markdown")
        for heading in ("## Summary", "## Exercises", "## References"):
            assert heading in text, f"missing section {heading!r}"
        assert "{exercise}" in text and "{solution" in text

    def test_figures_have_captions_or_alt_text(self, nb_path):
        for i, cell in enumerate(code_cells(load(nb_path))):
            has_image = any("image/png" in out.get("data", {}) for out in cell.get("outputs", []))
            if not has_image:
                continue
            meta = cell["metadata"].get("mystnb", {})
            assert meta.get("figure", {}).get("caption") and meta.get("image", {}).get("alt"), (
                f"code cell {i} shows a figure without a caption and alt text "
                "(cell metadata mystnb.figure.caption and mystnb.image.alt)")
            assert source(cell).rstrip().endswith("plt.show()"), (
                f"code cell {i}: end plotting cells with plt.show()")

    def test_no_svg_and_small_file(self, nb_path):
        nb = load(nb_path)
        for cell in code_cells(nb):
            for out in cell.get("outputs", []):
                assert "image/svg+xml" not in out.get("data", {}), "store figures as PNG"
        assert nb_path.stat().st_size < MAX_BYTES, f"{nb_path.name} is larger than 2 MB"

    def test_no_installs_or_blanket_warning_filters(self, nb_path):
        for cell in code_cells(load(nb_path)):
            src = source(cell)
            assert not re.search(r"^\s*[!%]\s*pip\s", src, re.M), "no pip installs in notebooks"
            assert "filterwarnings(\"ignore\")" not in src and "filterwarnings('ignore')" not in src
            assert "sys.path" not in src, "utils is installed; do not edit sys.path"

    def test_setup_cell_first(self, nb_path):
        first = source(code_cells(load(nb_path))[0])
        assert "seed_everything" in first and "use_book_style" in first, (
            "the first code cell sets up imports, seeds and the plot style")
