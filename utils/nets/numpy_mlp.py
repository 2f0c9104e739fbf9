"""A small fully connected network in NumPy with a hand-written backward pass.

The network maps ``X`` (n, d) through hidden layers ``a_l = f(a_{l-1} W_l + b_l)``
to logits ``z_L = a_{L-1} W_L + b_L`` and a softmax cross-entropy loss averaged
over the batch. Weights have the Keras layout ``(fan_in, fan_out)``.

Besides the gradients, :meth:`MLP.trace` records, per layer, what the book
watches to see vanishing and exploding gradients: the activation mean and
standard deviation, the fraction of saturated (or, for ReLU, zero) units, the
mean local derivative ``f'(z)``, and the gradient norms.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from utils._validation import (
    as_float_array,
    check_instance,
    check_labels,
    check_positive_float,
    check_positive_int,
    check_rng,
)
from utils.activations import Activation, get_activation

WeightInit = Callable[[int, int, np.random.Generator], np.ndarray]


def softmax(logits):
    """Row-wise softmax, shifted by the row maximum so that it never overflows."""
    logits = as_float_array(logits, "logits", ndim=2)
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def cross_entropy(logits, y) -> float:
    """Mean softmax cross-entropy of integer labels ``y`` under ``logits``."""
    logits = as_float_array(logits, "logits", ndim=2)
    y = _check_labels(y, len(logits), logits.shape[1])
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-log_probs[np.arange(len(y)), y].mean())


_check_labels = check_labels


def saturated_fraction(activation: Activation, a: np.ndarray) -> float:
    """Fraction of units in the flat part of the activation.

    sigmoid: output outside [0.01, 0.99]; tanh: |output| > 0.99 (there f' < 0.02);
    ReLU: output exactly 0 (the unit passes no gradient); identity: never.
    """
    if activation.name in ("sigmoid", "tanh"):
        from utils.health import saturation_fraction  # the bands are defined there, once

        return saturation_fraction(a, activation.name)
    if activation.name == "relu":
        return float(np.mean(a == 0))
    return _saturated_fraction_family(activation.name, a)


def _saturated_fraction_family(name: str, a: np.ndarray) -> float:
    """The same measure for the registered family (parameters at the registry's defaults):
    the fraction of units whose derivative is below 0.01, read off the output.

    ELU: f'(z) = f(z) + alpha for z <= 0; SELU: f'(z) = f(z) + scale * alpha; softplus:
    f'(z) = sigmoid(z) = 1 - e^(-f(z)). Leaky ReLU and PReLU never go flat (f' >= the
    slope). GELU and swish are not monotonic, so their output does not determine f'(z):
    NaN. Anything else (identity): 0.
    """
    from utils import activations

    if name == "elu":
        return float(np.mean(a + activations.ELU_ALPHA < 0.01))
    if name == "selu":
        return float(np.mean(a + activations.SELU_SCALE * activations.SELU_ALPHA < 0.01))
    if name == "softplus":
        return float(np.mean(-np.expm1(-a) < 0.01))
    if name in ("gelu", "gelu_tanh", "swish"):
        return float("nan")
    return 0.0


def check_layer_count(weights, biases) -> None:
    """At least one layer, and one bias vector per weight matrix."""
    if len(weights) == 0 or len(weights) != len(biases):
        raise ValueError("need one bias per weight matrix and at least one layer, "
                         f"got {len(weights)} weights and {len(biases)} biases")


def check_layer_chain(weights) -> None:
    """Each weight matrix (``(..., fan_in, fan_out)``) takes the outputs of the one before."""
    for i in range(1, len(weights)):
        inputs, produced = weights[i].shape[-2], weights[i - 1].shape[-1]
        if inputs != produced:
            raise ValueError(f"weights[{i}] expects {inputs} inputs but layer {i - 1} "
                             f"produces {produced}")


@dataclass(frozen=True)
class Trace:
    """Per-layer statistics of one forward and backward pass (index 0 = first layer).

    The activation statistics cover the hidden layers (``num_layers - 1`` entries);
    the gradient norms cover every layer including the output layer. ``delta_norm`` is
    the norm of the error signal dL/dz_l, the quantity backpropagation multiplies layer
    by layer; ``weight_grad_norm`` is ||dL/dW_l|| = ||a_{l-1}^T delta_l||.
    """

    loss: float
    activation_mean: np.ndarray
    activation_std: np.ndarray
    saturated_fraction: np.ndarray
    mean_derivative: np.ndarray
    weight_grad_norm: np.ndarray
    bias_grad_norm: np.ndarray
    delta_norm: np.ndarray


class MLP:
    """Fully connected classifier with hidden activation ``activation``.

    ``weights[l]`` has shape ``(fan_in, fan_out)`` and ``biases[l]`` shape ``(fan_out,)``.
    The arrays are used as given (not copied); :meth:`copy` makes an independent network.
    """

    def __init__(self, weights, biases, activation: str | Activation = "sigmoid"):
        check_layer_count(weights, biases)
        self.activation = get_activation(activation)
        self.weights = [as_float_array(w, f"weights[{i}]", ndim=2) for i, w in enumerate(weights)]
        self.biases = [as_float_array(b, f"biases[{i}]", ndim=1) for i, b in enumerate(biases)]
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            if b.shape[0] != w.shape[1]:
                raise ValueError(f"biases[{i}] has {b.shape[0]} entries but weights[{i}] "
                                 f"has {w.shape[1]} outputs")
        check_layer_chain(self.weights)

    @classmethod
    def create(cls, layer_sizes, activation: str | Activation, rng: np.random.Generator,
               weight_init: float | WeightInit = 1.0) -> MLP:
        """A new network with zero biases.

        ``layer_sizes`` lists the widths from input to output, e.g. ``[64, 100, 100, 10]``.
        ``weight_init`` is either a standard deviation (weights drawn from N(0, std^2))
        or a function ``(fan_in, fan_out, rng) -> array`` such as an initializer.
        """
        rng = check_rng(rng)
        sizes = [check_positive_int(s, "layer size") for s in layer_sizes]
        if len(sizes) < 2:
            raise ValueError(f"layer_sizes needs at least an input and an output size, got {sizes}")
        weights = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
            if callable(weight_init):
                w = np.asarray(weight_init(fan_in, fan_out, rng), dtype=np.float64)
                if w.shape != (fan_in, fan_out):
                    raise ValueError(f"weight_init returned shape {w.shape}, "
                                     f"expected {(fan_in, fan_out)}")
            else:
                std = check_positive_float(weight_init, "weight_init (a standard deviation)",
                                           allow_zero=True)
                w = rng.normal(0.0, std, size=(fan_in, fan_out)) if std else np.zeros(
                    (fan_in, fan_out))
            weights.append(w)
        biases = [np.zeros(s) for s in sizes[1:]]
        return cls(weights, biases, activation)

    @property
    def num_layers(self) -> int:
        return len(self.weights)

    @property
    def layer_sizes(self) -> list[int]:
        return [self.weights[0].shape[0]] + [w.shape[1] for w in self.weights]

    def parameters(self) -> list[np.ndarray]:
        """``[W_1, b_1, W_2, b_2, ...]``: the arrays themselves, so in-place updates stick."""
        return [p for pair in zip(self.weights, self.biases, strict=True) for p in pair]

    def copy(self) -> MLP:
        return MLP([w.copy() for w in self.weights], [b.copy() for b in self.biases],
                   self.activation)

    def _check_input(self, X) -> np.ndarray:
        X = as_float_array(X, "X", ndim=2)
        if X.shape[1] != self.weights[0].shape[0]:
            raise ValueError(f"X has {X.shape[1]} features but the network expects "
                             f"{self.weights[0].shape[0]}")
        return X

    def forward(self, X):
        """Logits for ``X`` and the cache ``[(a_0, z_1), (a_1, z_2), ...]`` for backward."""
        a = self._check_input(X)
        cache = []
        f = self.activation.f
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            z = a @ w + b
            cache.append((a, z))
            a = f(z) if i < self.num_layers - 1 else z
        return a, cache

    def predict(self, X) -> np.ndarray:
        logits, _ = self.forward(X)
        return logits.argmax(axis=1)

    def accuracy(self, X, y) -> float:
        y = _check_labels(y, len(X), self.weights[-1].shape[1])
        return float(np.mean(self.predict(X) == y))

    def loss(self, X, y) -> float:
        logits, _ = self.forward(X)
        return cross_entropy(logits, y)

    def loss_and_gradients(self, X, y):
        """Loss and ``[(dW_1, db_1), ...]`` by backpropagation (the chain rule, layer by layer)."""
        loss, grads, _ = self._backprop(X, y, record=False)
        return loss, grads

    def trace(self, X, y) -> Trace:
        """One forward and backward pass, with the per-layer statistics recorded."""
        _, _, trace = self._backprop(X, y, record=True)
        return trace

    def _backprop(self, X, y, *, record: bool):
        logits, cache = self.forward(X)
        n = len(logits)
        y = _check_labels(y, n, logits.shape[1])
        loss = cross_entropy(logits, y)
        delta = softmax(logits)
        delta[np.arange(n), y] -= 1.0
        delta /= n  # dL/dz for the output layer
        grads = [None] * self.num_layers
        derivs = [None] * self.num_layers
        delta_norms = np.empty(self.num_layers)
        for layer in range(self.num_layers - 1, -1, -1):
            a_prev, _ = cache[layer]
            delta_norms[layer] = np.linalg.norm(delta)
            grads[layer] = (a_prev.T @ delta, delta.sum(axis=0))
            if layer > 0:
                z_prev = cache[layer - 1][1]
                local = self.activation.f_prime(z_prev)
                derivs[layer - 1] = local
                delta = (delta @ self.weights[layer].T) * local
        trace = None
        if record:
            hidden = [cache[layer][0] for layer in range(1, self.num_layers)]
            trace = Trace(
                loss=loss,
                activation_mean=np.array([h.mean() for h in hidden]),
                activation_std=np.array([h.std() for h in hidden]),
                saturated_fraction=np.array([saturated_fraction(self.activation, h)
                                             for h in hidden]),
                mean_derivative=np.array([d.mean() for d in derivs[:-1]]),
                weight_grad_norm=np.array([np.linalg.norm(g[0]) for g in grads]),
                bias_grad_norm=np.array([np.linalg.norm(g[1]) for g in grads]),
                delta_norm=delta_norms,
            )
        return loss, grads, trace


def relative_weight_change(before: MLP, after: MLP) -> np.ndarray:
    """Per layer, ||W_after - W_before|| / ||W_before|| (Frobenius norms)."""
    check_instance(before, MLP, "before")
    check_instance(after, MLP, "after")
    if before.layer_sizes != after.layer_sizes:
        raise ValueError("the two networks have different layer sizes: "
                         f"{before.layer_sizes} vs {after.layer_sizes}")
    norms = np.array([np.linalg.norm(w) for w in before.weights])
    if np.any(norms == 0):
        raise ValueError("a layer of `before` has all-zero weights; the relative change "
                         "is undefined (compare absolute changes instead)")
    return np.array([np.linalg.norm(wa - wb) / n
                     for wb, wa, n in zip(before.weights, after.weights, norms, strict=True)])
