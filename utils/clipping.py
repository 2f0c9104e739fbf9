"""Gradient clipping in NumPy: by value, by norm (per tensor) and by global norm.

A model's gradient is a list of arrays, one per parameter. The three rules:

* :func:`clip_by_value` clips every component to ``[-c, c]`` (Keras ``clipvalue``,
  PyTorch ``clip_grad_value_``). It can change the gradient's direction.
* :func:`clip_by_norm` rescales each array on its own so that its norm is at most
  ``c`` (Keras ``clipnorm``: per variable). Arrays are scaled by different factors,
  so the direction of the whole update can change.
* :func:`clip_by_global_norm` rescales all arrays by one common factor so that the
  norm of their concatenation is at most ``c`` (Keras ``global_clipnorm``, PyTorch
  ``clip_grad_norm_``). The direction is kept.

Decisions where the frameworks differ (measured in the gradient-clipping chapter and
pinned down in ``tests/test_clipping.py``):

* **Thresholds** must be finite numbers ``> 0``; anything else raises ``ValueError``.
  (Keras silently ignores ``clipnorm <= 0``; PyTorch zeroes the gradients for
  ``max_norm=0`` and *reverses* them for a negative ``max_norm``.)
* **An empty gradient list** raises ``ValueError``. (PyTorch returns a total norm of 0
  and clips nothing, which hides a ``model.parameters()`` generator that was already
  used up.)
* **NaN or infinite entries** raise ``FloatingPointError``, naming the array. Clipping
  cannot repair them: a NaN stays NaN, and an infinite norm would turn every entry
  into NaN (PyTorch's default) or silently into ``±c`` (value clipping). Skip the
  step or lower the learning rate instead.

The functions never modify their input; they return new arrays of the same dtypes.
Norms are computed in float64 and without overflow, even for entries near 1e308.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

MODES = ("value", "norm", "global_norm")


def _check_grads(grads) -> tuple[list[np.ndarray], list[float]]:
    """The arrays, validated, and the norm of each (computed once, in float64)."""
    if isinstance(grads, np.ndarray):
        raise TypeError("grads must be a list of arrays (one per parameter); for a single "
                        "array pass [g]")
    if not isinstance(grads, Sequence) or isinstance(grads, (str, bytes)):
        raise TypeError(f"grads must be a list or tuple of arrays, got {type(grads).__name__} "
                        "(a generator such as model.parameters() can be read only once: "
                        "make it a list first)")
    if len(grads) == 0:
        raise ValueError("grads is empty: there is nothing to clip (was a generator of "
                         "parameters already used up?)")
    arrays, norms = [], []
    for i, g in enumerate(grads):
        arr = g if isinstance(g, np.ndarray) else np.asarray(g)
        if not np.issubdtype(arr.dtype, np.floating):
            raise TypeError(f"grads[{i}] must be a floating-point array, got dtype {arr.dtype}")
        arrays.append(arr)
        norms.append(_norm(arr, i))
    return arrays, norms


def _norm(g: np.ndarray, index: int) -> float:
    """Euclidean norm in float64; raises for NaN/inf entries; cannot overflow."""
    flat = g.astype(np.float64, copy=False).ravel()
    with np.errstate(over="ignore"):  # an overflow is detected and handled below
        squares = float(np.dot(flat, flat))
    if np.isfinite(squares):  # then every entry is finite, too
        return float(np.sqrt(squares))
    finite = np.isfinite(flat)
    if not finite.all():
        bad = int(flat.size - np.count_nonzero(finite))
        raise FloatingPointError(
            f"grads[{index}] (shape {g.shape}) contains {bad} NaN or infinite value(s); "
            "clipping cannot repair a non-finite gradient: skip this step or lower the "
            "learning rate")
    biggest = float(np.max(np.abs(flat)))  # finite entries whose squares overflow: rescale
    return biggest * float(np.sqrt(np.dot(flat / biggest, flat / biggest)))


def _check_threshold(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value} (to switch "
                         "clipping off, do not call the clipping function)")
    return value


def _combine(norms: list[float]) -> float:
    """sqrt(sum of squares) of non-negative numbers, without overflow."""
    biggest = max(norms)
    if biggest == 0.0:
        return 0.0
    return biggest * float(np.sqrt(sum((n / biggest) ** 2 for n in norms)))


def global_norm(grads) -> float:
    """The Euclidean norm of all gradient arrays taken together, as one long vector."""
    return _combine(_check_grads(grads)[1])


def _by_value(arrays, c):
    return [np.clip(g, -c, c) for g in arrays]


def _by_norm(arrays, norms, c):
    return [g * (c / n) if n > c else g.copy() for g, n in zip(arrays, norms, strict=True)]


def _by_global_norm(arrays, total, c):
    if total > c:
        scale = c / total
        return [g * scale for g in arrays]
    return [g.copy() for g in arrays]


def clip_by_value(grads, clip_value: float) -> list[np.ndarray]:
    """Clip every component to ``[-clip_value, clip_value]``."""
    arrays, _ = _check_grads(grads)
    return _by_value(arrays, _check_threshold(clip_value, "clip_value"))


def clip_by_norm(grads, max_norm: float) -> list[np.ndarray]:
    """Rescale each array separately: ``g * max_norm / ||g||`` where ``||g|| > max_norm``."""
    arrays, norms = _check_grads(grads)
    return _by_norm(arrays, norms, _check_threshold(max_norm, "max_norm"))


def clip_by_global_norm(grads, max_norm: float) -> tuple[list[np.ndarray], float]:
    """Rescale all arrays by one factor, ``max_norm / ||all||`` if ``||all|| > max_norm``.

    Returns the clipped arrays and the global norm *before* clipping (log it: it is
    what you need to choose the threshold).
    """
    arrays, norms = _check_grads(grads)
    total = _combine(norms)
    return _by_global_norm(arrays, total, _check_threshold(max_norm, "max_norm")), total


def clip_gradients(grads, mode: str | None, threshold: float | None = None
                   ) -> tuple[list[np.ndarray], float]:
    """One entry point for a training loop: ``mode`` is None (no clipping), "value",
    "norm" or "global_norm". Returns the clipped arrays and the global norm before
    clipping (the number to log)."""
    if mode is not None and mode not in MODES:
        raise ValueError(f"mode must be None or one of {MODES}, got {mode!r}")
    if (mode is None) != (threshold is None):
        raise ValueError(f"mode {mode!r} needs a threshold" if threshold is None else
                         "a threshold was given but mode is None (no clipping)")
    arrays, norms = _check_grads(grads)
    total = _combine(norms)
    if mode is None:
        return [g.copy() for g in arrays], total
    c = _check_threshold(threshold, "threshold")
    if mode == "value":
        return _by_value(arrays, c), total
    if mode == "norm":
        return _by_norm(arrays, norms, c), total
    return _by_global_norm(arrays, total, c), total
