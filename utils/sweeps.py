"""Many small networks trained at once, for hyperparameter sweeps over learning rates and seeds.

A learning-rate sweep trains the same small network many times: several learning
rates, several seeds. Run one after another, each run spends most of its time in
Python overhead. :class:`MLPStack` holds ``R`` independent copies of
:class:`utils.mlp.MLP` with their parameters stacked along a leading "run" axis, so
one matrix product serves all runs; :func:`train_stack` trains them with any
optimizer from :mod:`utils.optimizers`, with one learning rate per run (an array
``lr`` of shape ``(R, 1, 1)``).

Run ``r`` of a stacked network computes exactly what ``model.network(r)`` computes
(the tests check the losses, the gradients and whole training runs against
:class:`utils.mlp.MLP` and :func:`utils.mlp.train_sgd`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from utils._validation import (
    as_float_array,
    check_instance,
    check_positive_float,
    check_positive_int,
    check_rng,
)
from utils.activations import Activation, get_activation
from utils.mlp import MLP, WeightInit


class MLPStack:
    """``R`` fully connected classifiers of the same shape, parameters stacked on axis 0.

    ``weights[l]`` has shape ``(R, fan_in, fan_out)`` and ``biases[l]`` shape
    ``(R, 1, fan_out)``, so an array of shape ``(R, 1, 1)`` broadcasts against both.
    """

    def __init__(self, weights, biases, activation: str | Activation = "relu"):
        if len(weights) == 0 or len(weights) != len(biases):
            raise ValueError("need one bias per weight matrix and at least one layer")
        self.activation = get_activation(activation)
        self.weights = [as_float_array(w, f"weights[{i}]", ndim=3) for i, w in enumerate(weights)]
        self.biases = [as_float_array(b, f"biases[{i}]", ndim=3) for i, b in enumerate(biases)]
        runs = self.weights[0].shape[0]
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            if w.shape[0] != runs or b.shape != (runs, 1, w.shape[2]):
                raise ValueError(f"layer {i}: weights {w.shape} and biases {b.shape} do not "
                                 f"stack {runs} runs as (R, fan_in, fan_out) and (R, 1, fan_out)")
            if i and w.shape[1] != self.weights[i - 1].shape[2]:
                raise ValueError(f"weights[{i}] expects {w.shape[1]} inputs but layer {i - 1} "
                                 f"produces {self.weights[i - 1].shape[2]}")

    @classmethod
    def from_networks(cls, networks: Sequence[MLP]) -> MLPStack:
        """Stack copies of the parameters of ``networks`` (same layer sizes and activation)."""
        if not networks:
            raise ValueError("need at least one network")
        first = networks[0]
        for net in networks[1:]:
            if net.layer_sizes != first.layer_sizes or net.activation.name != first.activation.name:
                raise ValueError("all networks need the same layer sizes and activation")
        weights = [np.stack([net.weights[i] for net in networks]) for i in range(first.num_layers)]
        biases = [np.stack([net.biases[i][None, :] for net in networks])
                  for i in range(first.num_layers)]
        return cls(weights, biases, first.activation)

    @classmethod
    def create(cls, layer_sizes, activation: str | Activation,
               rngs: Sequence[np.random.Generator],
               weight_init: float | WeightInit = 1.0) -> MLPStack:
        """One :meth:`utils.mlp.MLP.create` per generator in ``rngs``, stacked."""
        if not rngs:
            raise ValueError("rngs must hold one numpy Generator per run")
        return cls.from_networks([MLP.create(layer_sizes, activation, check_rng(r), weight_init)
                                  for r in rngs])

    @property
    def num_runs(self) -> int:
        return self.weights[0].shape[0]

    @property
    def num_layers(self) -> int:
        return len(self.weights)

    def parameters(self) -> list[np.ndarray]:
        """``[W_1, b_1, W_2, b_2, ...]``, the stacked arrays themselves (updated in place)."""
        return [p for pair in zip(self.weights, self.biases, strict=True) for p in pair]

    def network(self, run: int) -> MLP:
        """A copy of run ``run`` as an ordinary :class:`utils.mlp.MLP`."""
        if not 0 <= run < self.num_runs:
            raise ValueError(f"run must be in [0, {self.num_runs - 1}], got {run}")
        return MLP([w[run].copy() for w in self.weights], [b[run, 0].copy() for b in self.biases],
                   self.activation)

    def _check_input(self, X) -> np.ndarray:
        X = as_float_array(X, "X")
        if X.ndim not in (2, 3) or (X.ndim == 3 and X.shape[0] != self.num_runs):
            raise ValueError(f"X must be (n, features), shared by all runs, or "
                             f"({self.num_runs}, n, features), got shape {X.shape}")
        if X.shape[-1] != self.weights[0].shape[1]:
            raise ValueError(f"X has {X.shape[-1]} features, the networks expect "
                             f"{self.weights[0].shape[1]}")
        return X

    def _check_labels(self, y, n: int) -> np.ndarray:
        y = np.asarray(y)
        if not np.issubdtype(y.dtype, np.integer):
            raise TypeError(f"y must hold integer class labels, got dtype {y.dtype}")
        if y.shape not in ((n,), (self.num_runs, n)):
            raise ValueError(f"y must have shape ({n},) or ({self.num_runs}, {n}), got {y.shape}")
        classes = self.weights[-1].shape[2]
        if y.size and (y.min() < 0 or y.max() >= classes):
            raise ValueError(f"labels must lie in [0, {classes - 1}]")
        return np.broadcast_to(y, (self.num_runs, n))

    def forward(self, X):
        """Logits of shape (R, n, classes) and the cache for the backward pass."""
        a = self._check_input(X)
        cache = []
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            z = a @ w + b
            cache.append((a, z))
            a = self.activation.f(z) if i < self.num_layers - 1 else z
        return a, cache

    @staticmethod
    def _log_softmax(logits):
        shifted = logits - logits.max(axis=-1, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))

    def losses(self, X, y) -> np.ndarray:
        """Mean cross-entropy of each run, shape (R,)."""
        logits, _ = self.forward(X)
        y = self._check_labels(y, logits.shape[1])
        log_p = self._log_softmax(logits)
        return -np.take_along_axis(log_p, y[..., None], axis=-1)[..., 0].mean(axis=1)

    def accuracies(self, X, y) -> np.ndarray:
        """Fraction of correct predictions of each run, shape (R,)."""
        logits, _ = self.forward(X)
        y = self._check_labels(y, logits.shape[1])
        return (logits.argmax(axis=-1) == y).mean(axis=1)

    def loss_and_gradients(self, X, y):
        """Losses (R,) and gradients aligned with :meth:`parameters`, by backpropagation."""
        logits, cache = self.forward(X)
        n = logits.shape[1]
        y = self._check_labels(y, n)
        log_p = self._log_softmax(logits)
        losses = -np.take_along_axis(log_p, y[..., None], axis=-1)[..., 0].mean(axis=1)
        delta = np.exp(log_p)
        np.put_along_axis(delta, y[..., None],
                          np.take_along_axis(delta, y[..., None], axis=-1) - 1.0, axis=-1)
        delta /= n  # dL/dz of the output layer, per run
        grads: list[np.ndarray] = [None] * (2 * self.num_layers)
        for layer in range(self.num_layers - 1, -1, -1):
            a_prev, _ = cache[layer]
            grads[2 * layer] = np.swapaxes(a_prev, -1, -2) @ delta
            grads[2 * layer + 1] = delta.sum(axis=1, keepdims=True)
            if layer > 0:
                z_prev = cache[layer - 1][1]
                delta = (delta @ np.swapaxes(self.weights[layer], -1, -2)) \
                    * self.activation.f_prime(z_prev)
        return losses, grads


@dataclass
class StackHistory:
    """Per-run records of :func:`train_stack`; NaN once a run has diverged.

    ``train_loss``, ``val_loss`` and ``val_accuracy`` have shape (epochs + 1, R) (row 0 is
    before training); ``step_loss`` has shape (steps, R), the minibatch losses.
    """

    train_loss: np.ndarray
    val_loss: np.ndarray
    val_accuracy: np.ndarray
    step_loss: np.ndarray
    diverged: np.ndarray


def train_stack(model: MLPStack, optimizer, X, y, *, epochs: int, batch_size: int,
                  rngs: Sequence[np.random.Generator], X_val=None, y_val=None,
                  lr_schedule: Callable[[int], float | np.ndarray] | None = None,
                  max_loss: float = 100.0, max_abs_param: float = 1e6,
                  eval_every: int = 1) -> StackHistory:
    """Minibatch training of every run of ``model`` with ``optimizer``, in place.

    Run ``r`` shuffles the training set with ``rngs[r]`` at the start of every epoch
    (give runs that should see the same batches generators with the same seed). If
    ``lr_schedule`` is given, ``optimizer.lr = lr_schedule(step)`` before every step.
    A run whose minibatch loss is not finite or exceeds ``max_loss``, or one of whose
    parameters exceeds ``max_abs_param`` in absolute value, is marked as diverged: its parameters and optimizer
    state are set to zero and its learning rate to zero, and everything recorded for it
    from then on is NaN, so one diverging run cannot disturb the others. The full training
    and validation sets are evaluated before training, every ``eval_every`` epochs and
    after the last epoch (rows of epochs not evaluated are NaN).
    """
    check_instance(model, MLPStack, "model")
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    max_loss = check_positive_float(max_loss, "max_loss")
    max_abs_param = check_positive_float(max_abs_param, "max_abs_param")
    eval_every = check_positive_int(eval_every, "eval_every")
    R = model.num_runs
    if len(rngs) != R:
        raise ValueError(f"need one generator per run ({R}), got {len(rngs)}")
    rngs = [check_rng(r) for r in rngs]
    X = model._check_input(X)
    if X.ndim != 2:
        raise ValueError("X must be the shared (n, features) training set")
    y_full = model._check_labels(y, len(X))[0]
    has_val = X_val is not None
    if has_val != (y_val is not None):
        raise ValueError("pass both X_val and y_val, or neither")
    params = model.parameters()
    diverged = np.zeros(R, dtype=bool)
    n = len(X)
    steps_per_epoch = -(-n // batch_size)
    history = StackHistory(
        train_loss=np.full((epochs + 1, R), np.nan), val_loss=np.full((epochs + 1, R), np.nan),
        val_accuracy=np.full((epochs + 1, R), np.nan),
        step_loss=np.full((epochs * steps_per_epoch, R), np.nan), diverged=diverged)

    def record(epoch: int) -> None:
        ok = ~diverged
        history.train_loss[epoch, ok] = model.losses(X, y_full)[ok]
        if has_val:
            history.val_loss[epoch, ok] = model.losses(X_val, y_val)[ok]
            history.val_accuracy[epoch, ok] = model.accuracies(X_val, y_val)[ok]

    def base_lr():
        lr = optimizer.lr
        return lr if np.ndim(lr) else np.full((R, 1, 1), float(lr))

    record(0)
    step = 0
    for epoch in range(epochs):
        order = np.stack([r.permutation(n) for r in rngs])
        for start in range(0, n, batch_size):
            idx = order[:, start:start + batch_size]
            losses, grads = model.loss_and_gradients(X[idx], y_full[idx])
            if lr_schedule is not None:
                optimizer.lr = lr_schedule(step)
            if diverged.any():  # frozen runs: no step
                optimizer.lr = np.where(diverged[:, None, None], 0.0, base_lr())
            optimizer.step(params, grads)
            history.step_loss[step, ~diverged] = losses[~diverged]
            step += 1
            bad = ~np.isfinite(losses) | (losses > max_loss)
            for p in params:
                bad |= ~(np.abs(p) <= max_abs_param).all(axis=(1, 2))  # also catches NaN
            new = bad & ~diverged
            if new.any():
                diverged |= new
                history.step_loss[step - 1, new] = np.nan
                for p in params:
                    p[new] = 0.0
                for state in optimizer.state:
                    for value in state.values():
                        value[new] = 0.0
        if (epoch + 1) % eval_every == 0 or epoch + 1 == epochs:
            record(epoch + 1)
    return history
