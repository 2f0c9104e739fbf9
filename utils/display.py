"""Showing things to the reader: tested source code, tables, the setup summary."""

from __future__ import annotations

import inspect
from collections.abc import Sequence

import numpy as np


def show_source(*objects):
    """Display the source of functions or classes from ``utils``, syntax-highlighted.

    The book shows the tested implementation itself rather than a copy of it, so
    what the reader sees is what the unit tests check.
    """
    from IPython.display import Code

    if not objects:
        raise ValueError("pass at least one function or class")
    parts = []
    for obj in objects:
        try:
            parts.append(inspect.getsource(obj))
        except (TypeError, OSError) as exc:
            raise TypeError(f"cannot show the source of {obj!r}: {exc}") from None
    return Code("\n\n".join(p.rstrip() for p in parts), language="python")


def format_table(rows: Sequence[Sequence], headers: Sequence[str], *,
                 floatfmt: str = ".3g") -> str:
    """A plain-text table with aligned columns; floats are formatted with ``floatfmt``."""
    if not headers:
        raise ValueError("headers must not be empty")
    cells = [[str(h) for h in headers]]
    for r, row in enumerate(rows):
        if len(row) != len(headers):
            raise ValueError(f"row {r} has {len(row)} entries, expected {len(headers)}")
        cells.append([format(float(v), floatfmt) if isinstance(v, (float, np.floating)) else str(v)
                      for v in row])
    widths = [max(len(row[c]) for row in cells) for c in range(len(headers))]

    def line(row):
        return "  ".join(v.rjust(w) if i else v.ljust(w)
                         for i, (v, w) in enumerate(zip(row, widths, strict=True))).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(r) for r in cells[1:])])


def print_table(rows: Sequence[Sequence], headers: Sequence[str], *,
                floatfmt: str = ".3g") -> None:
    """Print :func:`format_table`."""
    print(format_table(rows, headers, floatfmt=floatfmt))


def print_setup(seeded: Sequence[str] = ()) -> None:
    """The versions a chapter ran with, and the device, for the setup cell."""
    import sys

    from utils.frameworks import versions

    if isinstance(seeded, str) or not isinstance(seeded, Sequence) or not all(
            isinstance(s, str) for s in seeded):
        raise TypeError("seeded must be a sequence of names, as returned by seed_everything(), "
                        f"got {seeded!r}")
    v = versions()
    names = ", ".join(f"{k} {v[k]}" for k in ("python", "numpy", "matplotlib"))
    frameworks = [f"{k} {v[k]}" for k in ("torch", "tensorflow", "keras")
                  if k in sys.modules or k == "keras" and "tensorflow" in sys.modules]
    print(names)
    if frameworks:
        print(", ".join(frameworks))
    if "torch" in sys.modules:
        import torch

        from utils.frameworks import torch_device

        print(f"PyTorch device: {torch_device()}, CPU threads: {torch.get_num_threads()}")
    if seeded:
        print("seeded:", ", ".join(seeded))
