"""`utils` is an installed package, importable from any working directory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_utils_imports_from_another_folder(tmp_path):
    code = "import utils, utils.mlp, utils.plotting; print(utils.__file__)"
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                            text=True, check=True)
    assert Path(result.stdout.strip()).resolve().parent == ROOT / "utils"


def test_numpy_modules_do_not_import_the_frameworks(tmp_path):
    code = ("import sys; import utils.mlp, utils.activations, utils.data, utils.gradcheck, "
            "utils.plotting, utils.checks, utils.display, utils.reproducibility; "
            "print(sorted(m for m in ('torch', 'tensorflow', 'keras') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                            text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_requirements_pin_torch_cpu_version_and_install_utils():
    lines = [ln.strip() for ln in (ROOT / "requirements.txt").read_text().splitlines()]
    assert "torch==2.13.0" in lines
    assert lines[-1] == "-e ."
