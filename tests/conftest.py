"""Shared fixtures for the unit tests of ``utils``.

The frameworks are imported once per test session, and only through
``utils.frameworks`` (never ``import tensorflow`` first), so that every test runs
with the settings the book uses: oneDNN off, C++ logging silenced, one TF thread.
Tests that need no framework request none of these fixtures and never pay for
the imports.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest


@pytest.fixture(scope="session")
def torch():
    from utils.frameworks import import_torch

    return import_torch()


@pytest.fixture(scope="session")
def keras():
    from utils.frameworks import import_keras

    return import_keras()


@pytest.fixture(scope="session")
def tf(keras):
    # import_keras() has already imported TensorFlow through the helper.
    from utils.frameworks import import_tensorflow

    return import_tensorflow()


@pytest.fixture
def rng():
    """A fresh generator per test, so tests do not depend on each other's draws."""
    return np.random.default_rng(0)


@pytest.fixture
def run_python(tmp_path):
    """Run Python code in a fresh interpreter, from a folder outside the repository.

    Running from ``tmp_path`` also checks that ``utils`` is installed rather than
    found through the working directory. ``env`` updates the inherited environment;
    a value of ``None`` removes the variable. Returns the ``CompletedProcess``
    (stdout and stderr as bytes, so that nothing written to fd 2 is hidden).
    """

    def run(code: str, *, env: dict[str, str | None] | None = None, timeout: float = 120):
        full_env = dict(os.environ)
        for key, value in (env or {}).items():
            if value is None:
                full_env.pop(key, None)
            else:
                full_env[key] = value
        return subprocess.run([sys.executable, "-c", code], capture_output=True, cwd=tmp_path,
                              env=full_env, timeout=timeout, check=False)

    return run
