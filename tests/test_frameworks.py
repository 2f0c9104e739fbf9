"""utils.frameworks: quiet, reproducible TF import; clear errors for missing frameworks."""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from utils import frameworks
from utils.frameworks import MissingFrameworkError

# A fresh interpreter with the environment a reader's laptop would have: no TF
# variables set by the test runner (tasks.py sets them), and oneDNN switched *on*,
# so the helper has to override it rather than merely not set it.
READER_ENV = {"TF_CPP_MIN_LOG_LEVEL": None, "TF_ENABLE_ONEDNN_OPTS": "1", "KERAS_BACKEND": None}

# Imports the named module as if it were not installed (what a student without that
# framework sees: ModuleNotFoundError with .name set), without touching the venv.
BLOCK_IMPORT = textwrap.dedent("""
    import sys

    class NotInstalled:
        def __init__(self, name):
            self.name = name

        def find_spec(self, fullname, path=None, target=None):
            if fullname == self.name or fullname.startswith(self.name + "."):
                raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
            return None

    sys.meta_path.insert(0, NotInstalled(MODULE))
""")


def test_first_tensorflow_import_is_silent_on_fd2(run_python):
    """Nothing reaches file descriptor 2, during the import or when the first ops and
    a Keras layer run afterwards (C++ log lines bypass sys.stderr, so the child's
    raw stderr bytes are checked)."""
    code = textwrap.dedent("""
        import os
        from utils.frameworks import import_keras, import_tensorflow, TF_THREADS
        tf = import_tensorflow()
        keras = import_keras()
        assert tf.reduce_sum(tf.constant([1.0, 2.0])).numpy() == 3.0
        keras.layers.Dense(2)(tf.ones((1, 3)))
        print(os.environ["TF_ENABLE_ONEDNN_OPTS"], os.environ["TF_CPP_MIN_LOG_LEVEL"])
        print(tf.config.threading.get_intra_op_parallelism_threads(),
              tf.config.threading.get_inter_op_parallelism_threads(), TF_THREADS)
        print(tf.__name__, keras.__version__.split(".")[0], keras.backend.backend())
    """)
    result = run_python(code, env=READER_ENV)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert result.stderr == b""
    env_line, threads, names = result.stdout.decode().splitlines()
    onednn, log_level = env_line.split()
    assert onednn == "0"  # overridden, not just defaulted: the env said "1"
    assert log_level == "3"
    intra, inter, wanted = threads.split()
    assert intra == inter == wanted
    assert names == "tensorflow 3 tensorflow"


def test_import_tensorflow_returns_the_module_and_sets_onednn_off(tf):
    from utils.frameworks import import_tensorflow

    assert import_tensorflow() is sys.modules["tensorflow"] is tf
    assert os.environ["TF_ENABLE_ONEDNN_OPTS"] == "0"
    assert tf.config.threading.get_intra_op_parallelism_threads() == frameworks.TF_THREADS


def test_import_keras_is_keras_3(keras):
    assert int(keras.__version__.split(".")[0]) >= 3
    assert keras.backend.backend() == "tensorflow"


def test_missing_torch_sys_modules_none(run_python):
    """A None entry in sys.modules makes `import torch` raise ModuleNotFoundError."""
    code = textwrap.dedent("""
        import sys
        sys.modules["torch"] = None
        from utils.frameworks import import_torch, MissingFrameworkError
        try:
            import_torch()
        except MissingFrameworkError as exc:
            assert isinstance(exc, ModuleNotFoundError) and exc.name == "torch"
            print(exc)
        else:
            raise SystemExit("no error")
    """)
    result = run_python(code)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    message = result.stdout.decode()
    assert "PyTorch" in message and "'torch' package" in message
    assert "pip install torch==" in message
    assert "pip install -r requirements.txt" in message


def test_install_hints_match_requirements_pins():
    """The pip command in the error installs the version the book was verified with."""
    pins = {}
    for line in (Path(__file__).resolve().parents[1] / "requirements.txt").read_text().splitlines():
        name, sep, version = line.split("#")[0].strip().partition("==")
        if sep:
            pins[name] = version
    for module in ("torch", "tensorflow", "keras"):
        assert frameworks._INSTALL_HINT[module] == f"pip install {module}=={pins[module]}"


@pytest.mark.parametrize("module, function, pretty", [
    ("torch", "import_torch", "PyTorch"),
    ("tensorflow", "import_tensorflow", "TensorFlow"),
    ("tensorflow", "import_keras", "TensorFlow"),
])
def test_missing_framework_message_names_package_and_pip(run_python, module, function, pretty):
    code = BLOCK_IMPORT.replace("MODULE", repr(module)) + textwrap.dedent(f"""
        import os
        from utils import frameworks
        try:
            frameworks.{function}()
        except frameworks.MissingFrameworkError as exc:
            assert exc.name == {module!r}, exc.name
            print(exc)
        else:
            raise SystemExit("no error")
        # fd 2 was restored after the failed, silenced import
        os.write(2, b"stderr works")
    """)
    result = run_python(code, env=READER_ENV)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    message = result.stdout.decode()
    assert pretty in message and f"'{module}' package" in message
    assert f"pip install {module}==" in message
    assert result.stderr == b"stderr works"


def test_missing_keras(keras, monkeypatch):
    """Keras missing while TensorFlow is present (in-process: TF is already imported)."""
    monkeypatch.setitem(sys.modules, "keras", None)
    with pytest.raises(MissingFrameworkError, match=r"Keras 3 \(the 'keras' package\)") as info:
        frameworks.import_keras()
    assert "pip install keras==" in str(info.value)


def test_old_keras_is_refused(keras, monkeypatch):
    monkeypatch.setattr(keras, "__version__", "2.15.0")
    with pytest.raises(MissingFrameworkError, match="Keras 3; found Keras 2.15.0"):
        frameworks.import_keras()


def test_tensorflow_blocked_by_none_entry_raises(run_python):
    code = textwrap.dedent("""
        import sys
        sys.modules["tensorflow"] = None
        from utils.frameworks import import_tensorflow, MissingFrameworkError
        try:
            print(import_tensorflow())
        except MissingFrameworkError:
            print("raised")
    """)
    result = run_python(code)
    assert result.stdout.decode().strip() == "raised"


def test_broken_dependency_is_not_reported_as_missing_framework(monkeypatch):
    """If the framework is installed but one of *its* dependencies is missing, the
    original error must come through, not "install torch"."""

    def fail(name):
        raise ModuleNotFoundError("No module named 'sympy'", name="sympy")

    monkeypatch.setattr(frameworks.importlib, "import_module", fail)
    with pytest.raises(ModuleNotFoundError, match="sympy") as info:
        frameworks.import_torch()
    assert not isinstance(info.value, MissingFrameworkError)


def test_torch_device(torch):
    device = frameworks.torch_device()
    assert isinstance(device, torch.device)
    assert device.type == ("cuda" if torch.cuda.is_available() else "cpu")
    torch.zeros(1, device=device)  # usable


def test_versions_are_the_installed_distributions():
    v = frameworks.versions()
    assert set(v) == {"python", "numpy", "matplotlib", "torch", "tensorflow", "keras"}
    assert v["python"] == ".".join(map(str, sys.version_info[:3]))
    assert v["numpy"] == np.__version__
    for dist in ("matplotlib", "torch", "tensorflow", "keras"):
        assert v[dist] == importlib.metadata.version(dist)


def test_versions_imports_no_framework(run_python):
    result = run_python(
        "import sys\n"
        "from utils.frameworks import versions\n"
        "v = versions()\n"
        "print(sorted(m for m in ('torch', 'tensorflow', 'keras') if m in sys.modules))\n")
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert result.stdout.decode().strip() == "[]"


def test_versions_reports_missing_distribution(monkeypatch):
    real = importlib.metadata.version

    def version(dist):
        if dist == "torch":
            raise importlib.metadata.PackageNotFoundError(dist)
        return real(dist)

    monkeypatch.setattr(importlib.metadata, "version", version)
    assert frameworks.versions()["torch"] == "not installed"
