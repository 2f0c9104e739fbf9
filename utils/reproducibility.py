"""Seeding every random number generator the book uses, in one call."""

from __future__ import annotations

import numbers
import os
import random
import sys

import numpy as np


def seed_everything(seed: int, *, frameworks: str | tuple[str, ...] = "imported",
                    threads: int | None = 1) -> tuple[str, ...]:
    """Seed Python's ``random``, NumPy's global generator, and the frameworks.

    Parameters
    ----------
    seed:
        A non-negative integer.
    frameworks:
        ``"imported"`` (default) seeds PyTorch and TensorFlow/Keras only if they are
        already imported, so a NumPy-only chapter never pays for importing them.
        Pass a tuple such as ``("torch", "tensorflow")`` to import and seed them
        explicitly.

    threads:
        Pin PyTorch's intra-op threads and NumPy's BLAS to this many threads (default 1;
        ``None`` leaves them alone). One thread makes results independent of the
        machine's core count (float sums are ordered differently on different numbers
        of threads); the book's models are small, so it costs little time. TensorFlow is
        pinned to one thread when :func:`utils.frameworks.import_tensorflow` imports it.

    Deterministic kernels are switched on as well: ``torch.use_deterministic_algorithms``
    and ``tf.config.experimental.enable_op_determinism``.

    Returns the names of what was seeded, e.g. ``("random", "numpy", "torch")``.
    NumPy code in the book takes an explicit ``np.random.Generator``; seeding the
    global generator only protects third-party code that uses it.
    """
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an integer, got {seed!r}")
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed must be in [0, 2**32), got {seed}")
    seed = int(seed)
    if frameworks == "imported":
        wanted = tuple(name for name in ("torch", "tensorflow") if name in sys.modules)
    elif isinstance(frameworks, tuple) and all(f in ("torch", "tensorflow") for f in frameworks):
        wanted = frameworks
    else:
        raise ValueError('frameworks must be "imported" or a tuple drawn from '
                         f'("torch", "tensorflow"), got {frameworks!r}')

    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, numbers.Integral)
                                or threads < 1):
        raise ValueError(f"threads must be a positive integer or None, got {threads!r}")

    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 (the global generator, for third-party code)
    seeded = ["random", "numpy"]
    if threads is not None:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=int(threads), user_api="blas")

    if "torch" in wanted:
        from utils.frameworks import import_torch

        torch = import_torch()
        # Needed by deterministic cuBLAS; harmless on the CPU.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.manual_seed(seed)
        if threads is not None:
            torch.set_num_threads(int(threads))
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.benchmark = False
        seeded.append("torch")

    if "tensorflow" in wanted:
        from utils.frameworks import import_keras

        keras = import_keras()
        import tensorflow as tf

        keras.utils.set_random_seed(seed)  # also seeds random, NumPy and tf.random
        tf.config.experimental.enable_op_determinism()
        seeded.append("tensorflow")

    return tuple(seeded)
