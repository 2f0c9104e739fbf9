"""Activation functions and their derivatives in NumPy.

Each activation is a pair of functions ``f(x)`` and ``f_prime(x)`` (the derivative
with respect to the input, evaluated elementwise). They accept any real array,
compute in the array's floating dtype, and refuse NaN/Inf inputs with a clear
error. Look one up by name with :func:`get_activation`.

At a kink (ReLU at 0) the derivative used is the one PyTorch and TensorFlow use
in autograd: 0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from utils._validation import as_float_array


def sigmoid(x):
    """Logistic sigmoid 1 / (1 + exp(-x)), computed without overflow for large |x|."""
    x = as_float_array(x)
    z = np.exp(-np.abs(x))  # in (0, 1], never overflows
    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))


def sigmoid_prime(x):
    """sigma'(x) = sigma(x) (1 - sigma(x)); its maximum is 1/4, at x = 0."""
    s = sigmoid(x)
    return s * (1.0 - s)


def tanh(x):
    """Hyperbolic tangent, tanh(x) = 2 sigma(2x) - 1."""
    return np.tanh(as_float_array(x))


def tanh_prime(x):
    """tanh'(x) = 1 - tanh(x)^2; its maximum is 1, at x = 0."""
    t = tanh(x)
    return 1.0 - t * t


def relu(x):
    """Rectified linear unit: x for x >= 0, and 0 otherwise."""
    x = as_float_array(x)
    return np.maximum(x, 0.0).astype(x.dtype, copy=False)


def relu_prime(x):
    """1 where x > 0, else 0 (the value 0 at x = 0 matches the frameworks' autograd)."""
    x = as_float_array(x)
    return (x > 0).astype(x.dtype)


def identity(x):
    """The identity (a linear layer without a nonlinearity)."""
    return as_float_array(x).copy()


def identity_prime(x):
    return np.ones_like(as_float_array(x))


@dataclass(frozen=True)
class Activation:
    """An activation function with its derivative."""

    name: str
    f: Callable[[np.ndarray], np.ndarray]
    f_prime: Callable[[np.ndarray], np.ndarray]

    def __call__(self, x):
        return self.f(x)


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("sigmoid", sigmoid, sigmoid_prime),
        Activation("tanh", tanh, tanh_prime),
        Activation("relu", relu, relu_prime),
        Activation("identity", identity, identity_prime),
    )
}


def get_activation(name: str) -> Activation:
    """Look up an activation by name, e.g. ``get_activation("tanh").f_prime(x)``."""
    if isinstance(name, Activation):
        return name
    if not isinstance(name, str):
        raise TypeError(f"activation must be a name (str), got {type(name).__name__}")
    try:
        return ACTIVATIONS[name.lower()]
    except KeyError:
        known = ", ".join(sorted(ACTIVATIONS))
        raise ValueError(f"unknown activation {name!r}; known: {known}") from None
