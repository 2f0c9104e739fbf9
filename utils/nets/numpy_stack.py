"""The NumPy training loop, and many small networks trained at once.

:class:`MLPStack` holds ``R`` independent copies of
:class:`utils.nets.numpy_mlp.MLP` with their parameters stacked along a leading "run"
axis, so one matrix product serves all runs: a sweep over learning rates, seeds or
initializers costs little more than one network. :func:`train` is the book's one NumPy
training loop: it trains a stack, one MLP or a list of them (one network is the one-run
case) with any optimizer from :mod:`utils.optimizers`, with one learning rate per run
if wanted (an array ``lr`` of shape ``(R, 1, 1)``). :func:`train_sgd` is its plain-SGD
shorthand.

Run ``r`` of a stack computes exactly what ``model.network(r)`` computes with the
teaching backward pass of :class:`~utils.nets.numpy_mlp.MLP` (the tests check the
losses, the gradients and whole training runs against a loop written with it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from utils._validation import (
    as_float_array,
    check_positive_float,
    check_positive_int,
    check_rng,
)
from utils.activations import Activation, get_activation
from utils.nets.numpy_mlp import MLP, WeightInit, check_layer_chain, check_layer_count


class MLPStack:
    """``R`` fully connected classifiers of the same shape, parameters stacked on axis 0.

    ``weights[l]`` has shape ``(R, fan_in, fan_out)`` and ``biases[l]`` shape
    ``(R, 1, fan_out)``, so an array of shape ``(R, 1, 1)`` broadcasts against both.
    """

    def __init__(self, weights, biases, activation: str | Activation = "relu"):
        check_layer_count(weights, biases)
        self.activation = get_activation(activation)
        self.weights = [as_float_array(w, f"weights[{i}]", ndim=3) for i, w in enumerate(weights)]
        self.biases = [as_float_array(b, f"biases[{i}]", ndim=3) for i, b in enumerate(biases)]
        runs = self.weights[0].shape[0]
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            if w.shape[0] != runs or b.shape != (runs, 1, w.shape[2]):
                raise ValueError(f"layer {i}: weights {w.shape} and biases {b.shape} do not "
                                 f"stack {runs} runs as (R, fan_in, fan_out) and (R, 1, fan_out)")
        check_layer_chain(self.weights)

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
        """One :meth:`MLP.create <utils.nets.numpy_mlp.MLP.create>` per generator in ``rngs``, stacked."""
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
        """A copy of run ``run`` as an ordinary :class:`~utils.nets.numpy_mlp.MLP`."""
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
            per_run = f", or ({self.num_runs}, {n}) with labels per run" if self.num_runs > 1 else ""
            raise ValueError(f"y must hold one integer label per row of X, shape ({n},)"
                             f"{per_run}; got shape {y.shape}")
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
    """Per-run records of :func:`train`; NaN once a run has diverged.

    ``train_loss``, ``val_loss`` and ``val_accuracy`` have shape (epochs + 1, R) (row 0 is
    before training); ``step_loss`` has shape (steps, R), the minibatch losses.
    """

    train_loss: np.ndarray
    val_loss: np.ndarray
    val_accuracy: np.ndarray
    step_loss: np.ndarray
    diverged: np.ndarray


ON_DIVERGENCE = ("freeze", "raise")


def _as_stack(model) -> tuple[MLPStack, list[MLP] | None]:
    """``model`` as a stack, and the networks to write the result back to (or None)."""
    if isinstance(model, MLPStack):
        return model, None
    if isinstance(model, MLP):
        return MLPStack.from_networks([model]), [model]
    if isinstance(model, (list, tuple)) and model and all(isinstance(m, MLP) for m in model):
        if len({id(m) for m in model}) != len(model):
            raise ValueError("the same network appears twice in the list")
        return MLPStack.from_networks(list(model)), list(model)
    raise TypeError("model must be an MLPStack, an MLP or a non-empty list of MLPs of the "
                    f"same shape, got {type(model).__name__}")


def train(model, optimizer, X, y, *, epochs: int, batch_size: int, rngs, X_val=None,
          y_val=None, lr_schedule: Callable[[int], float | np.ndarray] | None = None,
          on_divergence: str = "freeze", max_loss: float = 100.0,
          max_abs_param: float = 1e6, eval_every: int = 1) -> StackHistory:
    """Minibatch training of every run of ``model`` with ``optimizer``, in place.

    This is the book's one NumPy training loop. ``model`` is an :class:`MLPStack`, or an
    :class:`~utils.nets.numpy_mlp.MLP` or a list of them (stacked for the loop and
    updated in place afterwards): one network is the one-run case. ``optimizer`` is any
    rule from :mod:`utils.optimizers`; its ``lr`` may be an array of shape ``(R, 1, 1)``,
    one learning rate per run.

    Run ``r`` shuffles the training set with ``rngs[r]`` at the start of every epoch
    (give runs that should see the same batches generators with the same seed; one
    network may get a single generator). If ``lr_schedule`` is given,
    ``optimizer.lr = lr_schedule(step)`` before every step.

    ``on_divergence="freeze"``: a run whose minibatch loss is not finite or exceeds
    ``max_loss``, or one of whose parameters exceeds ``max_abs_param`` in absolute value,
    is marked as diverged: its parameters and optimizer state are set to zero and its
    learning rate to zero, and everything recorded for it from then on is NaN, so one
    diverging run cannot disturb the others. ``on_divergence="raise"``: any overflow or
    invalid value raises ``FloatingPointError`` naming the epoch.

    The full training and validation sets are evaluated before training, every
    ``eval_every`` epochs and after the last epoch (rows of epochs not evaluated are NaN).
    """
    stack, networks = _as_stack(model)
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    max_loss = check_positive_float(max_loss, "max_loss")
    max_abs_param = check_positive_float(max_abs_param, "max_abs_param")
    eval_every = check_positive_int(eval_every, "eval_every")
    if on_divergence not in ON_DIVERGENCE:
        raise ValueError(f"on_divergence must be one of {ON_DIVERGENCE}, got {on_divergence!r}")
    if not hasattr(optimizer, "step") or not hasattr(optimizer, "state"):
        raise TypeError("optimizer must be an update rule from utils.optimizers, got "
                        f"{type(optimizer).__name__}")
    R = stack.num_runs
    if isinstance(rngs, np.random.Generator) and R == 1:
        rngs = [rngs]
    if not isinstance(rngs, (list, tuple)) or len(rngs) != R:
        got = len(rngs) if isinstance(rngs, (list, tuple)) else type(rngs).__name__
        raise ValueError(f"need one numpy Generator per run ({R}), got {got}")
    rngs = [check_rng(r) for r in rngs]
    X = stack._check_input(X)
    if X.ndim != 2:
        raise ValueError("X must be the shared (n, features) training set")
    y_full = stack._check_labels(y, len(X))[0]
    has_val = X_val is not None
    if has_val != (y_val is not None):
        raise ValueError("pass both X_val and y_val, or neither")
    if has_val:
        X_val = stack._check_input(X_val)
        y_val = stack._check_labels(y_val, X_val.shape[-2])
    params = stack.parameters()
    diverged = np.zeros(R, dtype=bool)
    freeze = on_divergence == "freeze"
    n = len(X)
    steps_per_epoch = -(-n // batch_size)
    history = StackHistory(
        train_loss=np.full((epochs + 1, R), np.nan), val_loss=np.full((epochs + 1, R), np.nan),
        val_accuracy=np.full((epochs + 1, R), np.nan),
        step_loss=np.full((epochs * steps_per_epoch, R), np.nan), diverged=diverged)

    def record(epoch: int) -> None:
        ok = ~diverged
        history.train_loss[epoch, ok] = stack.losses(X, y_full)[ok]
        if has_val:
            history.val_loss[epoch, ok] = stack.losses(X_val, y_val)[ok]
            history.val_accuracy[epoch, ok] = stack.accuracies(X_val, y_val)[ok]

    def base_lr():
        lr = optimizer.lr
        return lr if np.ndim(lr) else np.full((R, 1, 1), float(lr))

    def one_step(idx):
        losses, grads = stack.loss_and_gradients(X[idx], y_full[idx])
        if lr_schedule is not None:
            optimizer.lr = lr_schedule(step)
        if diverged.any():  # frozen runs: no step
            optimizer.lr = np.where(diverged[:, None, None], 0.0, base_lr())
        optimizer.step(params, grads)
        return losses

    record(0)
    step = 0
    for epoch in range(epochs):
        order = np.stack([r.permutation(n) for r in rngs])
        for start in range(0, n, batch_size):
            idx = order[:, start:start + batch_size]
            if freeze:
                losses = one_step(idx)
            else:
                try:
                    with np.errstate(over="raise", invalid="raise"):
                        losses = one_step(idx)
                        if not np.isfinite(losses).all():
                            raise FloatingPointError("the loss is not finite")
                except FloatingPointError as exc:
                    raise FloatingPointError(
                        f"training diverged in epoch {epoch + 1} ({exc}): lower the learning "
                        f"rate (lr={_describe_lr(optimizer.lr)})") from None
            history.step_loss[step, ~diverged] = losses[~diverged]
            step += 1
            if not freeze:
                continue
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
    if networks is not None:
        for r, net in enumerate(networks):
            for layer in range(stack.num_layers):
                net.weights[layer][...] = stack.weights[layer][r]
                net.biases[layer][...] = stack.biases[layer][r, 0]
    return history


def _describe_lr(lr) -> str:
    values = np.unique(np.asarray(lr, dtype=float))
    return f"{values[0]:g}" if values.size == 1 else f"{values.min():g} to {values.max():g}"


@dataclass
class History:
    """What :func:`train_sgd` records for one network once per epoch (index 0 = before
    training)."""

    train_loss: list[float]
    val_loss: list[float]
    val_accuracy: list[float]


def train_sgd(model, X, y, *, lr: float, epochs: int, batch_size: int, rng, X_val=None,
              y_val=None) -> History | list[History]:
    """Plain minibatch SGD of one :class:`~utils.nets.numpy_mlp.MLP` or of a list of them,
    in place: :func:`train` with ``utils.optimizers.SGD(lr)``, raising
    ``FloatingPointError`` if the loss overflows.

    ``rng`` is one numpy Generator for one network, or a list with one per network (each
    network draws its own minibatch order). Returns a :class:`History` for one network,
    a list of them for a list. Training a list costs little more than training one
    network: one NumPy call does a layer's work for all of them.
    """
    from utils.optimizers import SGD

    if not isinstance(model, (MLP, list, tuple)):
        raise TypeError(f"model must be a utils.nets.numpy_mlp.MLP or a list of them, got "
                        f"{type(model).__name__}")
    single = isinstance(model, MLP)
    lr = check_positive_float(lr, "lr")
    if single:
        rng = check_rng(rng)
    elif not isinstance(rng, (list, tuple)):
        raise TypeError("for a list of networks, rng must be a list with one numpy "
                         "Generator per network")
    stack_history = train(model, SGD(lr), X, y, epochs=epochs, batch_size=batch_size,
                          rngs=[rng] if single else rng, X_val=X_val, y_val=y_val,
                          on_divergence="raise")
    has_val = X_val is not None
    histories = [History(train_loss=[float(v) for v in stack_history.train_loss[:, r]],
                         val_loss=[float(v) for v in stack_history.val_loss[:, r]]
                         if has_val else [],
                         val_accuracy=[float(v) for v in stack_history.val_accuracy[:, r]]
                         if has_val else [])
                 for r in range(stack_history.train_loss.shape[1])]
    return histories[0] if single else histories
