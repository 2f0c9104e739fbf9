"""Learning-rate schedules (closed forms) and the learning-rate range test.

Each schedule maps a step number (0 for the first update; an int or an array of
ints) to a learning rate. They are written as closed-form functions of the step, like
``keras.optimizers.schedules``; PyTorch's ``torch.optim.lr_scheduler`` computes the
same values recursively, step by step (the tests compare all three):

* :func:`step_decay`: ``lr * gamma ** (step // step_size)``
  (``StepLR``; Keras ``ExponentialDecay(staircase=True)``).
* :func:`cosine_decay`: from ``lr`` to ``lr_min`` along half a cosine over
  ``decay_steps``, then constant (``CosineAnnealingLR`` up to ``T_max``; Keras
  ``CosineDecay`` with ``alpha = lr_min / lr``).
* :func:`linear_warmup`: from ``start_lr`` up to ``lr`` linearly, then constant
  (``LinearLR``).
* :func:`warmup_cosine`: linear warm-up, then cosine decay (Keras ``CosineDecay`` with
  ``warmup_steps``; PyTorch ``SequentialLR(LinearLR, CosineAnnealingLR)``).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from utils._validation import (
    check_callable,
    check_fraction,
    check_positive_float,
    check_positive_int,
)

__all__ = ["step_decay", "cosine_decay", "linear_warmup", "warmup_cosine", "lr_range_test",
           "RangeTestResult"]


def _check_step(step):
    """A non-negative integer step, or an array of them; returned as int or int array."""
    if isinstance(step, (bool, np.bool_)):
        raise TypeError(f"step must be an integer, got {step!r}")
    if isinstance(step, numbers.Integral):
        if step < 0:
            raise ValueError(f"step must be >= 0, got {step}")
        return int(step)
    arr = np.asarray(step)
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"step must be an integer or an array of integers, got {arr.dtype}")
    if arr.size and arr.min() < 0:
        raise ValueError(f"step must be >= 0, got a minimum of {arr.min()}")
    return arr


def _out(value, step):
    return float(value) if isinstance(step, int) else np.asarray(value, dtype=np.float64)


def step_decay(step, lr: float, step_size: int, gamma: float = 0.1):
    """``lr * gamma ** (step // step_size)``: multiply by ``gamma`` every ``step_size`` steps."""
    step = _check_step(step)
    lr = check_positive_float(lr, "lr")
    step_size = check_positive_int(step_size, "step_size")
    gamma = check_fraction(gamma, "gamma", low_inclusive=False, high_inclusive=True)
    return _out(lr * gamma ** (np.asarray(step) // step_size), step)


def cosine_decay(step, lr: float, decay_steps: int, lr_min: float = 0.0):
    """``lr_min + (lr - lr_min) (1 + cos(pi t / T)) / 2`` with ``t = min(step, T)``."""
    step = _check_step(step)
    lr = check_positive_float(lr, "lr")
    decay_steps = check_positive_int(decay_steps, "decay_steps")
    lr_min = check_positive_float(lr_min, "lr_min", allow_zero=True)
    if lr_min > lr:
        raise ValueError(f"lr_min ({lr_min}) must not exceed lr ({lr})")
    t = np.minimum(np.asarray(step), decay_steps)
    return _out(lr_min + (lr - lr_min) * 0.5 * (1 + np.cos(np.pi * t / decay_steps)), step)


def linear_warmup(step, lr: float, warmup_steps: int, start_lr: float = 0.0):
    """From ``start_lr`` at step 0 to ``lr`` at step ``warmup_steps`` linearly, then ``lr``."""
    step = _check_step(step)
    lr = check_positive_float(lr, "lr")
    warmup_steps = check_positive_int(warmup_steps, "warmup_steps")
    start_lr = check_positive_float(start_lr, "start_lr", allow_zero=True)
    t = np.minimum(np.asarray(step), warmup_steps)
    return _out(start_lr + (lr - start_lr) * t / warmup_steps, step)


def warmup_cosine(step, lr: float, warmup_steps: int, decay_steps: int,
                  start_lr: float = 0.0, lr_min: float = 0.0):
    """:func:`linear_warmup` for ``warmup_steps`` steps, then :func:`cosine_decay` from ``lr``
    to ``lr_min`` over the next ``decay_steps`` steps."""
    step = _check_step(step)
    warm = linear_warmup(np.minimum(np.asarray(step), warmup_steps), lr, warmup_steps, start_lr)
    after = np.maximum(np.asarray(step) - warmup_steps, 0)
    decay = cosine_decay(after, lr, decay_steps, lr_min)
    return _out(np.where(np.asarray(step) < warmup_steps, warm, decay), step)


@dataclass(frozen=True)
class RangeTestResult:
    """What :func:`lr_range_test` measured: one entry per step actually taken."""

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    diverged: bool
    best_lr: float  # where the smoothed loss was lowest
    suggestion: float  # best_lr / 10, the usual rule of thumb


def lr_range_test(train_step: Callable[[float], float], *, lr_min: float, lr_max: float,
                  num_steps: int, smoothing: float = 0.9,
                  diverge_factor: float = 4.0) -> RangeTestResult:
    """The learning-rate range test (Smith 2017): raise the lr every step, watch the loss.

    ``train_step(lr)`` takes one training step (one minibatch) with learning rate ``lr``
    and returns that minibatch's loss. The learning rate grows geometrically from
    ``lr_min`` to ``lr_max`` over ``num_steps`` steps. The loss is smoothed with a
    bias-corrected exponential moving average (``smoothing`` is its beta); the test stops
    early once the smoothed loss exceeds ``diverge_factor`` times its lowest value or a
    loss is not finite. ``suggestion`` is a tenth of the learning rate at the lowest
    smoothed loss: a rule of thumb for a learning rate that is still safely stable.
    """
    check_callable(train_step, "train_step")
    lr_min = check_positive_float(lr_min, "lr_min")
    lr_max = check_positive_float(lr_max, "lr_max")
    if lr_max <= lr_min:
        raise ValueError(f"lr_max ({lr_max}) must be larger than lr_min ({lr_min})")
    num_steps = check_positive_int(num_steps, "num_steps")
    if num_steps < 2:
        raise ValueError("num_steps must be at least 2")
    smoothing = check_fraction(smoothing, "smoothing")
    diverge_factor = check_positive_float(diverge_factor, "diverge_factor")
    if diverge_factor <= 1:
        raise ValueError(f"diverge_factor must be > 1, got {diverge_factor}")
    lrs = np.geomspace(lr_min, lr_max, num_steps)
    losses, smoothed = [], []
    average, best, diverged = 0.0, np.inf, False
    for k, lr in enumerate(lrs):
        loss = float(train_step(float(lr)))
        if not np.isfinite(loss):
            diverged = True
            break
        average = smoothing * average + (1 - smoothing) * loss
        value = average / (1 - smoothing ** (k + 1))
        losses.append(loss)
        smoothed.append(value)
        best = min(best, value)
        if value > diverge_factor * best:
            diverged = True
            break
    if not losses:
        raise ValueError("the very first step gave a non-finite loss; lower lr_min")
    smoothed = np.array(smoothed)
    best_lr = float(lrs[int(np.argmin(smoothed))])
    return RangeTestResult(lrs=lrs[:len(losses)], losses=np.array(losses), smoothed=smoothed,
                           diverged=diverged, best_lr=best_lr, suggestion=best_lr / 10)
