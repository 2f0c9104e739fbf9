"""The book's chapters as _toc.yml lists them (imported by the tests that cover every chapter)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def toc_chapters() -> list[str]:
    """Every notebook chapter in _toc.yml (``- file: book/<name>`` with a
    book/<name>.ipynb), in book order, so that a new chapter is covered automatically."""
    text = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    names = re.findall(r"^\s*-\s*file:\s*book/([\w-]+)\s*$", text, flags=re.M)
    return [n for n in names if (ROOT / "book" / f"{n}.ipynb").exists()]
