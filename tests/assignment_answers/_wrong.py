"""The record of one plausible wrong answer to an assignment."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass


@dataclass(frozen=True)
class Wrong:
    """A plausible wrong answer: the code a student writes in one solution cell (or, with
    several cells, a mapping grade_id -> code), and the test cells that must lose their
    points because of it."""

    student: str
    cells: tuple[tuple[str, str], ...]
    loses: frozenset[str]

    @property
    def answers(self) -> dict[str, str]:
        return dict(self.cells)


def wrong(student: str, cell: str | dict[str, str], code: str = "", *loses: str) -> Wrong:
    """wrong(student, grade_id, code, *lost_cells), or wrong(student, {grade_id: code, ...},
    "", *lost_cells) for a mistake that spans several solution cells."""
    cells = cell if isinstance(cell, dict) else {cell: code}
    return Wrong(student, tuple((k, textwrap.dedent(v).strip() + "\n") for k, v in cells.items()),
                 frozenset(loses))
