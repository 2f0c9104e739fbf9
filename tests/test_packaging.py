"""`utils` is an installed package, importable from any working directory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_utils_imports_from_another_folder(tmp_path):
    code = "import utils, utils.nets.numpy_mlp, utils.plotting; print(utils.__file__)"
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                            text=True, check=True)
    assert Path(result.stdout.strip()).resolve().parent == ROOT / "utils"


def test_numpy_modules_do_not_import_the_frameworks(tmp_path):
    code = ("import sys; import utils.nets.numpy_mlp, utils.activations, utils.data, utils.gradcheck, "
            "utils.plotting, utils.checks, utils.display, utils.reproducibility; "
            "print(sorted(m for m in ('torch', 'tensorflow', 'keras') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                            text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_requirements_pin_torch_cpu_version_and_install_utils():
    lines = [ln.strip() for ln in (ROOT / "requirements.txt").read_text().splitlines()]
    assert "torch==2.13.0" in lines
    assert lines[-1] == "-e ."


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[_normal(name)] = version
    return pins


def _normal(name: str) -> str:
    import re

    return re.sub(r"[-_.]+", "-", name).lower()


def test_lock_covers_every_installed_package():
    """constraints.txt pins every package of the environment the tests run in, at the
    installed version (the book's own editable package aside).

    Only the environment's site-packages are read: other entries of sys.path can hold
    copies that a package vendors for itself (setuptools adds its `_vendor` folder),
    which pip neither installs nor freezes."""
    import sysconfig
    from importlib import metadata

    site = sorted({sysconfig.get_path("purelib"), sysconfig.get_path("platlib")})
    pins = _lock()
    missing, different = [], []
    for dist in metadata.distributions(path=site):
        name = _normal(dist.metadata["Name"])
        if name == "deep-training-book-utils":
            continue
        version = dist.version.split("+", 1)[0]
        if name not in pins:
            missing.append(f"{name}=={version}")
        elif pins[name] != version:
            different.append(f"{name}: installed {version}, locked {pins[name]}")
    assert not missing and not different, (
        "constraints.txt does not describe this environment; after testing a change to "
        f"requirements.txt run `python3 tasks.py lock`. Not locked: {missing}; "
        f"other versions: {different}")


def test_lock_agrees_with_requirements():
    pins = _lock()
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        name, version = line.split("==")
        assert pins.get(_normal(name)) == version, f"{line} is locked as {pins.get(_normal(name))}"


def test_lock_lines_pin_public_versions_and_refuse_urls():
    import importlib.util

    import pytest

    spec = importlib.util.spec_from_file_location("book_tasks", ROOT / "tasks.py")
    tasks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tasks)
    frozen = "torch==2.13.0+cpu\nAbsl-py==2.5.1\n-e git+https://x/y#egg=z\n\n"
    assert tasks.lock_lines(frozen) == ["Absl-py==2.5.1", "torch==2.13.0"]
    with pytest.raises(SystemExit, match="cannot pin"):
        tasks.lock_lines("pkg @ file:///tmp/pkg.whl\n")
