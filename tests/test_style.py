"""The code follows the project's lint rules (pyproject.toml, [tool.ruff])."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_is_clean():
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    result = subprocess.run([ruff, "check", "utils", "tests", "tasks.py"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_notebook_code_fits_a_page():
    """Chapters and assignments pass ruff too, with code lines of at most 88 characters
    (book/ruff.toml, assignments/ruff.toml), so that no code cell scrolls sideways."""
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    result = subprocess.run([ruff, "check", "--no-cache", "book", "assignments"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    for config in ("book/ruff.toml", "assignments/ruff.toml"):
        text = (ROOT / config).read_text()
        assert "line-length = 88" in text and '"E501"' in text, config
