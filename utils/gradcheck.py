"""Finite-difference gradient checks for hand-written backward passes."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from utils._validation import as_float_array, check_callable, check_instance, check_positive_float


def relative_error(a, b) -> float:
    """||a - b|| / (||a|| + ||b||): 0 for equal arrays, 1 for opposite ones.

    Norm-based, so isolated tiny entries do not dominate; returns 0.0 if both are zero.
    """
    a = as_float_array(a, "a")
    b = as_float_array(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    if denom == 0:
        return 0.0
    return float(np.linalg.norm(a - b) / denom)


def numerical_gradient(f: Callable[[], float], x: np.ndarray, h: float = 1e-5,
                       method: str = "central") -> np.ndarray:
    """Finite-difference gradient of ``f`` with respect to every entry of ``x``.

    ``method="central"``: (f(x + h e_i) - f(x - h e_i)) / 2h, error O(h^2) + O(eps/h),
    smallest near h = eps^(1/3) ~ 1e-5 in float64.
    ``method="forward"``: (f(x + h e_i) - f(x)) / h, error O(h) + O(eps/h), smallest
    near h = sqrt(eps) ~ 1e-8, and never as accurate as the central difference.

    ``f`` takes no arguments and reads ``x``, which is modified in place and restored.
    """
    check_callable(f, "f")
    h = check_positive_float(h, "h")
    if method not in ("central", "forward"):
        raise ValueError(f'method must be "central" or "forward", got {method!r}')
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
        raise TypeError("x must be a floating-point numpy array (it is perturbed in place)")
    as_float_array(x, "x")  # finite
    grad = np.empty_like(x)
    f_x = f() if method == "forward" else None
    for i in np.ndindex(x.shape):
        old = x[i]
        try:
            x[i] = old + h
            f_plus = f()
            if method == "central":
                x[i] = old - h
                grad[i] = (f_plus - f()) / (2 * h)
            else:
                grad[i] = (f_plus - f_x) / h
        finally:
            x[i] = old
    if not np.isfinite(grad).all():
        raise FloatingPointError("f returned a non-finite value during the finite differences")
    return grad


def check_mlp_gradients(model, X, y, h: float = 1e-5, method: str = "central") -> list[float]:
    """Relative error between backprop and finite differences, per parameter array.

    Returns ``[err(W_1), err(b_1), err(W_2), ...]``. Use a float64 model and a small
    batch; every parameter entry costs two forward passes.
    """
    from utils.nets.numpy_mlp import MLP

    check_instance(model, MLP, "model")
    _, grads = model.loss_and_gradients(X, y)
    analytic = [g for pair in grads for g in pair]
    errors = []
    for p, g in zip(model.parameters(), analytic, strict=True):
        numeric = numerical_gradient(lambda: model.loss(X, y), p, h, method)
        errors.append(relative_error(g, numeric))
    return errors
