"""Run ``torch.optim`` and ``keras.optimizers`` on the same problem as the NumPy optimizers.

Both helpers mirror :func:`utils.optimizers.trajectory`: the same start ``x0``, the same
NumPy ``gradient`` function (evaluated at the framework's current parameters, so the
three runs see the same loss), float64 parameters, and every iterate returned as one row.
Only the update rule differs, which is what a comparison should isolate.

Keras keeps its learning rate in a float32 variable even when the model is float64, so
``lr=0.01`` is applied as ``float32(0.01) = 0.009999999776...``; :func:`keras_lr` gives the
value it really uses.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from utils._validation import (
    as_float_array,
    check_callable,
    check_instance,
    check_positive_float,
)
from utils.frameworks import import_keras, import_torch, torch_device


def _start(x0):
    single = isinstance(x0, np.ndarray) or np.isscalar(x0)
    arrays = [as_float_array(x, "x0").astype(np.float64, copy=True)
              for x in ([x0] if single else list(x0))]
    return single, arrays


def _check_steps(num_steps) -> int:
    if isinstance(num_steps, bool) or not isinstance(num_steps, int) or num_steps < 0:
        raise ValueError(f"num_steps must be a non-negative integer, got {num_steps!r}")
    return num_steps


def keras_lr(lr: float) -> float:
    """The learning rate a Keras optimizer actually applies: ``lr`` rounded to float32."""
    return float(np.float32(check_positive_float(lr, "lr")))


def torch_trajectory(make_optimizer: Callable, gradient: Callable, x0, num_steps: int, *,
                     lr_schedule: Callable[[int], float] | None = None) -> np.ndarray:
    """Iterates of a ``torch.optim`` optimizer, shape (num_steps + 1, size).

    ``make_optimizer(params)`` builds the optimizer for a list of float64 tensors, e.g.
    ``lambda ps: torch.optim.Adam(ps, lr=1e-3)``. Before step ``k`` the learning rate of
    every parameter group is set to ``lr_schedule(k)`` if given.
    """
    num_steps = _check_steps(num_steps)
    check_callable(make_optimizer, "make_optimizer")
    check_callable(gradient, "gradient")
    single, arrays = _start(x0)
    torch = import_torch()
    device = torch_device()
    params = [torch.tensor(a, dtype=torch.float64, device=device, requires_grad=True)
              for a in arrays]
    optimizer = make_optimizer(params)

    def flat():
        return np.concatenate([p.detach().cpu().numpy().ravel() for p in params])

    path = [flat()]
    for k in range(num_steps):
        if lr_schedule is not None:
            for group in optimizer.param_groups:
                group["lr"] = lr_schedule(k)
        current = [p.detach().cpu().numpy() for p in params]
        grads = gradient(current[0] if single else current)
        for p, g in zip(params, [grads] if single else grads, strict=True):
            p.grad = torch.as_tensor(np.asarray(g, dtype=np.float64), device=device)
        optimizer.step()
        path.append(flat())
    return np.array(path)


def keras_trajectory(optimizer, gradient: Callable, x0, num_steps: int, *,
                     lr_schedule: Callable[[int], float] | None = None) -> np.ndarray:
    """Iterates of a ``keras.optimizers`` optimizer on float64 ``keras.Variable`` s.

    ``optimizer`` is a fresh Keras optimizer, e.g. ``keras.optimizers.Adam(1e-3)``; it is
    applied with ``optimizer.apply_gradients([(g, v), ...])``. Before step ``k``
    ``optimizer.learning_rate = lr_schedule(k)`` if given.
    """
    num_steps = _check_steps(num_steps)
    check_callable(gradient, "gradient")
    single, arrays = _start(x0)
    keras = import_keras()
    check_instance(optimizer, keras.optimizers.Optimizer, "optimizer")
    variables = [keras.Variable(a, dtype="float64") for a in arrays]

    def flat():
        return np.concatenate([np.asarray(v.numpy()).ravel() for v in variables])

    path = [flat()]
    for k in range(num_steps):
        if lr_schedule is not None:
            optimizer.learning_rate = lr_schedule(k)
        current = [np.asarray(v.numpy()) for v in variables]
        grads = gradient(current[0] if single else current)
        pairs = [(keras.ops.convert_to_tensor(np.asarray(g, dtype=np.float64)), v)
                 for g, v in zip([grads] if single else grads, variables, strict=True)]
        optimizer.apply_gradients(pairs)
        path.append(flat())
    return np.array(path)
