"""One way to import the deep-learning frameworks: lazily, quietly and reproducibly.

TensorFlow writes C++ log lines to the process's stderr while it is imported,
before its own logging is configured. They would end up in notebook outputs in
Jupyter but not under pytest, so stored and re-run outputs would differ.
:func:`import_tensorflow` sets the environment variables and silences file
descriptor 2 for the duration of the import only.

TensorFlow's CPU results can change with the number of threads; the book pins
TensorFlow to one intra-op and one inter-op thread so that stored outputs
reproduce on any laptop (the small models in the book do not gain from more).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys

TF_THREADS = 1

_INSTALL_HINT = {
    "torch": "pip install torch==2.13.0",
    "tensorflow": "pip install tensorflow==2.21.0",
    "keras": "pip install keras==3.15.1",
}
_PRETTY = {"torch": "PyTorch", "tensorflow": "TensorFlow", "keras": "Keras 3"}


class MissingFrameworkError(ModuleNotFoundError):
    """Raised when a cell needs a framework that is not installed."""


def _import_or_explain(module: str):
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module and not (exc.name or "").startswith(module + "."):
            raise
        raise MissingFrameworkError(
            f"This part of the book needs {_PRETTY[module]} (the '{module}' package), "
            f"which is not installed. Install it with: {_INSTALL_HINT[module]}  "
            "(or install everything with: pip install -r requirements.txt)",
            name=module,
        ) from None


class MissingFramework:
    """Stands in for a framework that is not installed.

    A notebook's setup cell imports the frameworks with ``optional=True``; when one is
    missing it gets this placeholder instead, the NumPy parts of the chapter still run,
    and the first cell that uses the framework stops with a :class:`MissingFrameworkError`
    that names the package and the command that installs it.
    """

    def __init__(self, module: str, message: str):
        object.__setattr__(self, "_module", module)
        object.__setattr__(self, "_message", message)

    def __getattr__(self, attribute: str):
        if attribute.startswith("__") and attribute.endswith("__"):
            raise AttributeError(attribute)
        raise MissingFrameworkError(self._message, name=self._module)

    def __call__(self, *args, **kwargs):
        raise MissingFrameworkError(self._message, name=self._module)

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"<{_PRETTY[self._module]} is not installed: {_INSTALL_HINT[self._module]}>"


def _optional(importer, module: str, optional: bool):
    if not optional:
        return importer()
    try:
        return importer()
    except MissingFrameworkError as exc:
        return MissingFramework(exc.name or module, str(exc))


def is_available(framework) -> bool:
    """False for the placeholder of a framework that is not installed."""
    return not isinstance(framework, MissingFramework)


@contextlib.contextmanager
def _silenced_stderr_fd():
    """Send file descriptor 2 to /dev/null (C++ logging bypasses sys.stderr)."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            try:
                yield
            finally:
                os.dup2(saved, 2)
    finally:
        os.close(saved)


def import_tensorflow(optional: bool = False):
    """Import TensorFlow with its C++ logging silenced and oneDNN off; return the module.

    With ``optional=True`` a missing TensorFlow gives a :class:`MissingFramework`
    placeholder instead of an error (see :func:`import_torch`).
    """
    return _optional(_import_tensorflow, "tensorflow", optional)


def _import_tensorflow():
    if sys.modules.get("tensorflow") is not None:
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # oneDNN kernels change the floating-point results; every runner uses the same setting.
    os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"
    with _silenced_stderr_fd():
        tf = _import_or_explain("tensorflow")
        tf.get_logger().setLevel("ERROR")
        try:
            tf.config.threading.set_intra_op_parallelism_threads(TF_THREADS)
            tf.config.threading.set_inter_op_parallelism_threads(TF_THREADS)
        except RuntimeError:  # the runtime was already initialised elsewhere
            pass
    return tf


def import_keras(optional: bool = False):
    """Import Keras 3 (on the TensorFlow backend) through :func:`import_tensorflow`.

    With ``optional=True`` a missing Keras or TensorFlow gives a :class:`MissingFramework`
    placeholder instead of an error (see :func:`import_torch`).
    """
    return _optional(_import_keras, "keras", optional)


def _import_keras():
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import_tensorflow()
    keras = _import_or_explain("keras")
    major = int(keras.__version__.split(".")[0])
    if major < 3:
        raise MissingFrameworkError(
            f"The book uses Keras 3; found Keras {keras.__version__}. {_INSTALL_HINT['keras']}",
            name="keras")
    return keras


def import_torch(optional: bool = False):
    """Import PyTorch, with a clear message if it is missing.

    With ``optional=True`` a missing PyTorch gives a :class:`MissingFramework`
    placeholder: the setup cell of a chapter still runs, and the first cell that uses
    ``torch`` raises :class:`MissingFrameworkError` naming the package to install.
    """
    return _optional(lambda: _import_or_explain("torch"), "torch", optional)


def torch_device():
    """The device the book's PyTorch code runs on: CUDA if present, else CPU."""
    torch = import_torch()
    if torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


def versions() -> dict[str, str]:
    """Versions of Python and of the libraries that are installed (none is imported)."""
    import platform
    from importlib import metadata

    found = {"python": platform.python_version()}
    for dist in ("numpy", "matplotlib", "torch", "tensorflow", "keras"):
        try:
            found[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            found[dist] = "not installed"
    return found
