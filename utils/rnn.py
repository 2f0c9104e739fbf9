"""A simple recurrent network (Elman, tanh) in NumPy, with backpropagation through time.

For an input sequence ``x_1, ..., x_T`` the hidden state is updated by

    h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h),      h_0 given (zeros by default),

and :class:`ElmanRNN` reads a prediction off the last state, ``y_hat = h_T W_hy + b_y``,
scored by the mean squared error (a many-to-one regression, as in the adding problem,
:func:`utils.data.adding_problem`). :func:`train_sgd` trains it with plain SGD and
optional gradient clipping (:mod:`utils.clipping`).

Shapes follow Keras' ``SimpleRNN`` and PyTorch's ``nn.RNN(batch_first=True)``: inputs
``X`` of shape (batch, T, input_size), hidden states (batch, T, hidden_size). Weights
have the Keras layout; PyTorch stores the transposes and splits the bias in two:

* ``W_xh`` (input_size, hidden_size): Keras ``kernel``; PyTorch ``weight_ih_l0`` is ``W_xh.T``.
* ``W_hh`` (hidden_size, hidden_size): Keras ``recurrent_kernel``; PyTorch ``weight_hh_l0``
  is ``W_hh.T``.
* ``b_h`` (hidden_size,): Keras ``bias``; PyTorch ``bias_ih_l0 + bias_hh_l0`` (only the sum
  matters, and both receive the same gradient).

:func:`torch_rnn` and :func:`keras_rnn` rebuild a network in the frameworks with the
same weights, in float64, to check the hand-written backward pass against autograd.

**A stack of networks.** Every function also accepts parameters with one extra leading
axis of length R: R independent networks computed side by side (NumPy's matrix
products broadcast over that axis), e.g. for several seeds or clipping thresholds at
once. ``X`` is then shared by all R networks, shape (batch, T, input_size), or given per
network, shape (R, batch, T, input_size); results gain the leading axis R.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from utils import clipping
from utils._validation import (
    as_float_array,
    check_instance,
    check_positive_float,
    check_positive_int,
    check_rng,
)

PARAMETER_NAMES = ("W_xh", "W_hh", "b_h", "W_hy", "b_y")


# --- validation ---------------------------------------------------------------------------


def _check_weights(W_xh, W_hh, b_h):
    W_hh = as_float_array(W_hh, "W_hh")
    if W_hh.ndim not in (2, 3) or W_hh.shape[-1] != W_hh.shape[-2]:
        raise ValueError("W_hh must be square, shape (hidden_size, hidden_size), or "
                         f"(R, hidden_size, hidden_size) for a stack of R networks; got {W_hh.shape}")
    lead, hidden = W_hh.shape[:-2], W_hh.shape[-1]
    W_xh = as_float_array(W_xh, "W_xh")
    if W_xh.ndim != W_hh.ndim or W_xh.shape[:-2] != lead or W_xh.shape[-1] != hidden:
        raise ValueError(f"W_xh must have shape {(*lead, 'input_size', hidden)} to match W_hh "
                         f"{W_hh.shape}, got {W_xh.shape}")
    b_h = as_float_array(b_h, "b_h")
    if b_h.shape != (*lead, hidden):
        raise ValueError(f"b_h must have shape {(*lead, hidden)}, got {b_h.shape}")
    return W_xh, W_hh, b_h


def _check_sequences(X, input_size: int, lead: tuple[int, ...] = ()) -> np.ndarray:
    X = as_float_array(X, "X")
    shared = X.ndim == 3 and X.shape[-1] == input_size
    per_network = bool(lead) and X.shape[:-3] == lead and X.ndim == 4 and X.shape[-1] == input_size
    if not (shared or per_network):
        want = f"(batch, T, {input_size})"
        if lead:
            want += f" or {(*lead, 'batch', 'T', input_size)}"
        raise ValueError(f"X must have shape {want}, got {X.shape}")
    if X.shape[-3] == 0 or X.shape[-2] == 0:
        raise ValueError(f"X needs at least one sequence of at least one step, got {X.shape}")
    return X


def _check_h0(h0, lead: tuple[int, ...], batch: int, hidden: int, dtype) -> np.ndarray:
    if h0 is None:
        return np.zeros((*lead, batch, hidden), dtype=dtype)
    h0 = as_float_array(h0, "h0")
    if h0.shape != (*lead, batch, hidden):
        raise ValueError(f"h0 must have shape {(*lead, batch, hidden)}, got {h0.shape}")
    return h0


# --- forward and backward through time ------------------------------------------------------


def _steps_matmul(A, W):
    """A (..., batch, T, k) @ W (..., k, m), as one matrix product per network."""
    batch, steps, k = A.shape[-3:]
    out = A.reshape(*A.shape[:-3], batch * steps, k) @ W
    return out.reshape(*out.shape[:-2], batch, steps, W.shape[-1])


def _forward(X, W_xh, W_hh, b_h, h0):
    """h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h) for t = 1..T; returns all h_t."""
    inputs = _steps_matmul(X, W_xh) + b_h[..., None, None, :]  # every step at once
    inputs = np.moveaxis(inputs, -2, 0)  # time first: inputs[t] is step t+1
    H = np.empty(inputs.shape, dtype=np.result_type(inputs, h0))
    h = h0
    for t in range(len(inputs)):
        h = np.tanh(inputs[t] + h @ W_hh, out=H[t])
    return np.moveaxis(H, 0, -2)  # (..., batch, T, hidden)


def _backward(X, H, W_xh, W_hh, dH, h0, *, weights_only=False):
    """Backpropagation through time, from the last step to the first.

    ``weights_only`` (for training) skips the gradients of the inputs and states."""
    W_hh_T = np.swapaxes(W_hh, -1, -2)
    local = np.moveaxis(1.0 - H**2, -2, 0)  # tanh'(a_t) = 1 - h_t^2, time first
    dH_time = np.moveaxis(dH, -2, 0)
    dA = np.empty(local.shape, dtype=np.result_type(local, dH))  # dL/d(pre-activation a_t)
    carry = np.zeros_like(dA[0])  # what step t+1 sends back to h_t: da_{t+1} W_hh^T
    for t in range(len(dA) - 1, -1, -1):
        carry = np.multiply(dH_time[t] + carry, local[t], out=dA[t]) @ W_hh_T
    dA = np.ascontiguousarray(np.moveaxis(dA, 0, -2))  # (..., batch, T, hidden)
    H_prev = np.concatenate([h0[..., None, :], H[..., :-1, :]], axis=-2)
    batch_steps = dA.shape[-3] * dA.shape[-2]  # the weight gradients sum over steps

    def flat(a):
        return a.reshape(*a.shape[:-3], batch_steps, a.shape[-1])

    weights = {"W_xh": np.swapaxes(flat(X), -1, -2) @ flat(dA),
               "W_hh": np.swapaxes(flat(H_prev), -1, -2) @ flat(dA),
               "b_h": dA.sum(axis=(-3, -2)), "h0": carry}
    if weights_only:
        return BPTTGradients(**weights, X=None, dh=None)
    dh = dH.copy()  # plus what each step t+1 sends back to h_t:
    dh[..., :-1, :] += _steps_matmul(dA, W_hh_T)[..., 1:, :]
    X_grad = _steps_matmul(dA, np.swapaxes(W_xh, -1, -2))
    return BPTTGradients(**weights, X=X_grad, dh=dh)


def rnn_forward(X, W_xh, W_hh, b_h, h0=None) -> np.ndarray:
    """All hidden states ``h_1..h_T``, shape (batch, T, hidden_size)."""
    W_xh, W_hh, b_h = _check_weights(W_xh, W_hh, b_h)
    lead = W_hh.shape[:-2]
    X = _check_sequences(X, W_xh.shape[-2], lead)
    h0 = _check_h0(h0, lead, X.shape[-3], W_hh.shape[-1], np.result_type(X, W_hh))
    return _forward(X, W_xh, W_hh, b_h, h0)


@dataclass(frozen=True)
class BPTTGradients:
    """What :func:`rnn_backward` returns.

    ``dh[:, t]`` is the total gradient dL/dh_{t+1} of the loss with respect to the
    hidden state after step t+1 (from the output at that step and from all later
    steps): the quantity that vanishes or explodes as it travels back in time.
    """

    W_xh: np.ndarray
    W_hh: np.ndarray
    b_h: np.ndarray
    X: np.ndarray | None  # None where only the weight gradients were asked for
    h0: np.ndarray
    dh: np.ndarray | None


def rnn_backward(X, H, W_xh, W_hh, b_h, dH, h0=None) -> BPTTGradients:
    """Backpropagation through time.

    ``H`` are the hidden states from :func:`rnn_forward` and ``dH`` the gradient of the
    loss with respect to each of them *directly* (zero where a state feeds no output).
    From the last step back to the first,

        dh_t = dH_t + da_{t+1} W_hh^T,     da_t = dh_t * (1 - h_t^2),

    and the weight gradients sum the per-step contributions, e.g.
    dL/dW_hh = sum_t h_{t-1}^T da_t. (``b_h`` only fixes the expected shapes.)
    """
    W_xh, W_hh, b_h = _check_weights(W_xh, W_hh, b_h)
    lead = W_hh.shape[:-2]
    X = _check_sequences(X, W_xh.shape[-2], lead)
    want = (*lead, X.shape[-3], X.shape[-2], W_hh.shape[-1])
    H = as_float_array(H, "H")
    dH = as_float_array(dH, "dH")
    for name, arr in (("H", H), ("dH", dH)):
        if arr.shape != want:
            raise ValueError(f"{name} must have shape {want}, got {arr.shape}")
    h0 = _check_h0(h0, lead, X.shape[-3], W_hh.shape[-1], H.dtype)
    return _backward(X, H, W_xh, W_hh, dH, h0)


def scaled_orthogonal(size: int, largest_singular_value: float,
                      rng: np.random.Generator) -> np.ndarray:
    """A random orthogonal matrix times ``largest_singular_value``: every singular
    value (and every eigenvalue's modulus) equals that number."""
    size = check_positive_int(size, "size")
    scale = check_positive_float(largest_singular_value, "largest_singular_value",
                                 allow_zero=True)
    rng = check_rng(rng)
    q, r = np.linalg.qr(rng.standard_normal((size, size)))
    q *= np.sign(np.diag(r))  # uniform (Haar) distribution over orthogonal matrices
    return scale * q


# --- the network ------------------------------------------------------------------------------


class ElmanRNN:
    """A tanh RNN with a linear readout from the last hidden state, trained on the MSE.

    The parameter arrays are used as given (not copied); :meth:`copy` makes an
    independent network. :meth:`parameters` returns them in the order
    ``W_xh, W_hh, b_h, W_hy, b_y``, the order of the gradients too. With a leading
    axis of length R on every parameter (see :meth:`stack`) it is R networks at once,
    and losses are arrays of shape (R,).
    """

    def __init__(self, W_xh, W_hh, b_h, W_hy, b_y):
        self.W_xh, self.W_hh, self.b_h = _check_weights(W_xh, W_hh, b_h)
        lead = self.stack_shape
        self.W_hy = as_float_array(W_hy, "W_hy")
        if self.W_hy.ndim != 2 + len(lead) or self.W_hy.shape[:-1] != (*lead, self.hidden_size):
            raise ValueError(f"W_hy must have shape {(*lead, self.hidden_size, 'output_size')}, "
                             f"got {self.W_hy.shape}")
        self.b_y = as_float_array(b_y, "b_y")
        if self.b_y.shape != (*lead, self.output_size):
            raise ValueError(f"b_y must have shape {(*lead, self.output_size)}, "
                             f"got {self.b_y.shape}")

    @classmethod
    def create(cls, input_size: int, hidden_size: int, output_size: int,
               rng: np.random.Generator, *, recurrent_scale: float = 1.0,
               dtype=np.float64) -> ElmanRNN:
        """A new network: ``W_hh`` a random orthogonal matrix times ``recurrent_scale``
        (so its largest singular value is ``recurrent_scale``), ``W_xh`` and ``W_hy``
        drawn from N(0, 1/fan_in), biases zero."""
        input_size = check_positive_int(input_size, "input_size")
        hidden_size = check_positive_int(hidden_size, "hidden_size")
        output_size = check_positive_int(output_size, "output_size")
        rng = check_rng(rng)
        if dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be np.float32 or np.float64, got {dtype}")
        W_hh = scaled_orthogonal(hidden_size, recurrent_scale, rng)
        W_xh = rng.normal(0.0, 1.0 / np.sqrt(input_size), size=(input_size, hidden_size))
        W_hy = rng.normal(0.0, 1.0 / np.sqrt(hidden_size), size=(hidden_size, output_size))
        params = (W_xh, W_hh, np.zeros(hidden_size), W_hy, np.zeros(output_size))
        return cls(*(p.astype(dtype) for p in params))

    @classmethod
    def stack(cls, networks: Sequence[ElmanRNN]) -> ElmanRNN:
        """R networks of the same sizes as one stack (copies of their parameters)."""
        networks = list(networks)
        if not networks or not all(isinstance(n, ElmanRNN) for n in networks):
            raise TypeError("stack needs a non-empty list of ElmanRNN networks")
        if any(n.stack_shape for n in networks):
            raise ValueError("these networks are stacks already")
        sizes = {(n.input_size, n.hidden_size, n.output_size) for n in networks}
        if len(sizes) > 1:
            raise ValueError(f"networks of different sizes cannot be stacked: {sorted(sizes)}")
        return cls(*(np.stack(ps) for ps in zip(*(n.parameters() for n in networks),
                                                  strict=True)))

    def unstack(self) -> list[ElmanRNN]:
        """The networks of a stack, as separate networks (copies)."""
        if not self.stack_shape:
            return [self.copy()]
        return [ElmanRNN(*(p[r].copy() for p in self.parameters()))
                for r in range(self.stack_shape[0])]

    @property
    def stack_shape(self) -> tuple[int, ...]:
        """``()`` for one network, ``(R,)`` for a stack of R."""
        return self.W_hh.shape[:-2]

    @property
    def input_size(self) -> int:
        return self.W_xh.shape[-2]

    @property
    def hidden_size(self) -> int:
        return self.W_hh.shape[-1]

    @property
    def output_size(self) -> int:
        return self.W_hy.shape[-1]

    def parameters(self) -> list[np.ndarray]:
        """``[W_xh, W_hh, b_h, W_hy, b_y]``: the arrays themselves, so in-place updates stick."""
        return [self.W_xh, self.W_hh, self.b_h, self.W_hy, self.b_y]

    def copy(self) -> ElmanRNN:
        return ElmanRNN(*(p.copy() for p in self.parameters()))

    def _check_data(self, X, y=None):
        X = _check_sequences(X, self.input_size, self.stack_shape)
        if y is None:
            return X, None
        y = as_float_array(y, "y")
        batch = X.shape[-3]
        if y.shape not in ((batch, self.output_size), (*X.shape[:-3], batch, self.output_size)):
            raise ValueError(f"y must have shape ({batch}, {self.output_size}), one row per "
                             f"sequence, got {y.shape}")
        return X, y

    def _predict(self, X):
        h0 = np.zeros((*self.stack_shape, X.shape[-3], self.hidden_size),
                      dtype=np.result_type(X, self.W_hh))
        H = _forward(X, self.W_xh, self.W_hh, self.b_h, h0)
        return H[..., -1, :] @ self.W_hy + self.b_y[..., None, :], H, h0

    def forward(self, X):
        """Predictions (batch, output_size) and all hidden states (batch, T, hidden_size)."""
        X, _ = self._check_data(X)
        prediction, H, _ = self._predict(X)
        return prediction, H

    def predict(self, X) -> np.ndarray:
        return self.forward(X)[0]

    def loss(self, X, y):
        """Mean squared error over examples and outputs (one per network for a stack)."""
        X, y = self._check_data(X, y)
        prediction, _, _ = self._predict(X)
        losses = np.mean((prediction - y) ** 2, axis=(-2, -1))
        return float(losses) if not self.stack_shape else losses

    def gradients(self, X, y, *, weights_only: bool = False):
        """Loss, gradients in :meth:`parameters` order, and the full BPTT result
        (without the gradients of the inputs and states if ``weights_only``)."""
        X, y = self._check_data(X, y)
        prediction, H, h0 = self._predict(X)
        diff = prediction - y
        losses = np.mean(diff**2, axis=(-2, -1))
        d_pred = 2.0 * diff / (diff.shape[-2] * diff.shape[-1])  # d(mean of squares)
        dH = np.zeros_like(H)
        dH[..., -1, :] = d_pred @ np.swapaxes(self.W_hy, -1, -2)
        bptt = _backward(X, H, self.W_xh, self.W_hh, dH, h0, weights_only=weights_only)
        dW_hy = np.swapaxes(H[..., -1, :], -1, -2) @ d_pred
        grads = [bptt.W_xh, bptt.W_hh, bptt.b_h, dW_hy, d_pred.sum(axis=-2)]
        return (float(losses) if not self.stack_shape else losses), grads, bptt

    def loss_and_gradients(self, X, y):
        loss, grads, _ = self.gradients(X, y, weights_only=True)
        return loss, grads


# --- training ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SGDHistory:
    """What :func:`train_sgd` records at every step, before the update.

    ``loss`` is the minibatch loss and ``grad_norm`` the global gradient norm *before*
    clipping, shape (steps,) or (steps, R) for a stack; both are NaN from the step at
    which a network diverged. ``diverged_at`` is that step (-1 if it never did), an int or
    an array of R ints.
    """

    loss: np.ndarray
    grad_norm: np.ndarray
    diverged_at: int | np.ndarray


def _per_network(value, count: int, name: str) -> list:
    if isinstance(value, (list, tuple)):
        if len(value) != count:
            raise ValueError(f"{name} has {len(value)} entries for {count} network(s)")
        return list(value)
    return [value] * count


def train_sgd(model: ElmanRNN, X, y, *, lr: float | Sequence[float], steps: int,
              batch_size: int, rng: np.random.Generator, clip: str | None = None,
              threshold: float | None = None) -> SGDHistory:
    """Plain minibatch SGD on ``model``, in place, with optional gradient clipping.

    ``clip`` is None (no clipping), "value", "norm" or "global_norm", with its
    ``threshold`` (see :func:`utils.clipping.clip_gradients`). Minibatches are drawn
    from ``(X, y)`` with ``rng``. For a stack of R networks, all R see the same
    minibatches, and ``lr``, ``clip`` and ``threshold`` may be lists with one entry per
    network.

    A network *diverges* when its loss or gradient is no longer finite (an overflow).
    Training goes on for the others; the diverged network is not updated any more, its
    parameters are set to NaN at the end, and the step is recorded in ``diverged_at``.

    Each network is clipped exactly as :func:`utils.clipping.clip_gradients` clips its
    own gradient (the same norms, to the last bit); the clipping and the update are
    done for all networks of the stack at once.
    """
    from threadpoolctl import threadpool_limits

    check_instance(model, ElmanRNN, "model")
    steps = check_positive_int(steps, "steps")
    batch_size = check_positive_int(batch_size, "batch_size")
    rng = check_rng(rng)
    X = _check_sequences(X, model.input_size)
    X, y = model._check_data(X, y)
    if y.ndim != 2:
        raise ValueError(f"y must have shape ({len(X)}, {model.output_size}), got {y.shape}")
    count = model.stack_shape[0] if model.stack_shape else 1
    lrs = [check_positive_float(v, "lr") for v in _per_network(lr, count, "lr")]
    rules = list(zip(_per_network(clip, count, "clip"),
                     _per_network(threshold, count, "threshold"), strict=True))
    for mode, value in rules:  # a dry run, so that a bad rule fails before training
        clipping.clip_gradients([np.zeros(1)], mode, value)
    # a single network as a stack of one: views, so that the updates reach `model`
    net = model if model.stack_shape else ElmanRNN(*(p[None] for p in model.parameters()))
    params = net.parameters()
    modes = np.array([mode or "" for mode, _ in rules])
    limit = np.array([np.inf if value is None else float(value) for _, value in rules])
    by_value = np.where(modes == "value", limit, np.inf)  # np.clip at +-inf: unchanged
    by_norm, by_global = modes == "norm", modes == "global_norm"
    lr_column = np.array(lrs)
    loss_log = np.full((steps, count), np.nan)
    norm_log = np.full((steps, count), np.nan)
    diverged_at = np.full(count, -1)

    def column(values, g):  # one value per network, broadcast against g (count, ...)
        return values.reshape(count, *(1,) * (g.ndim - 1))

    # Tiny matrices: BLAS threads cost more than they save. Overflows are expected here
    # (they are what we measure) and are handled below, so no warnings for them.
    with threadpool_limits(limits=1, user_api="blas"), np.errstate(over="ignore",
                                                                   invalid="ignore"):
        for step in range(steps):
            idx = rng.integers(0, len(X), size=batch_size)
            losses, grads = net.loss_and_gradients(X[idx], y[idx])
            flat = [g.reshape(count, -1) for g in grads]
            norms = np.ones((len(grads), count))  # per tensor, as clipping computes them
            total = np.ones(count)
            exact = {}  # networks whose squared norm overflows: clipped one by one
            ok = diverged_at < 0
            for r in np.flatnonzero(ok):
                if not np.isfinite(losses[r]):
                    ok[r] = False
                    continue
                squares = [float(np.dot(f[r], f[r])) for f in flat]
                if np.isfinite(squares).all():  # then every entry is finite, too
                    tensor_norms = [float(np.sqrt(v)) for v in squares]
                    norms[:, r] = tensor_norms
                    total[r] = clipping._combine(tensor_norms)
                    continue
                try:  # non-finite entries raise; huge finite ones are rescaled
                    exact[r], total[r] = clipping.clip_gradients([g[r] for g in grads],
                                                                 *rules[r])
                except FloatingPointError:
                    ok[r] = False
            new = (diverged_at < 0) & ~ok
            diverged_at[new] = step
            for p in params:
                p[new] = 0.0  # keeps the arithmetic of the stack finite
            loss_log[step, ok] = losses[ok]
            norm_log[step, ok] = total[ok]
            with np.errstate(divide="ignore"):  # factors of unclipped networks: unused
                global_factor = np.where(by_global & (total > limit), limit / total, 1.0)
                tensor_factor = np.where(by_norm & (norms > limit), limit / norms, 1.0)
            live = np.flatnonzero(ok)
            for j, (p, g) in enumerate(zip(params, grads, strict=True)):
                factor = column(global_factor * tensor_factor[j], g)
                clipped = np.clip(g * factor, -column(by_value, g), column(by_value, g))
                for r, arrays in exact.items():
                    clipped[r] = arrays[j]
                if ok.all():
                    p -= column(lr_column, g) * clipped
                else:
                    p[live] -= column(lr_column, g)[live] * clipped[live]
    for r in np.flatnonzero(diverged_at >= 0):
        for p in params:
            p[r] = np.nan
    if not model.stack_shape:
        return SGDHistory(loss_log[:, 0], norm_log[:, 0], int(diverged_at[0]))
    return SGDHistory(loss_log, norm_log, diverged_at)


# --- The same network in the frameworks ---------------------------------------------------


def _check_single(model) -> None:
    if not isinstance(model, ElmanRNN):
        raise TypeError(f"model must be an ElmanRNN, got {type(model).__name__}")
    if model.stack_shape:
        raise ValueError("pass one network, not a stack (see ElmanRNN.unstack)")


def torch_rnn(model: ElmanRNN, *, bias_hh=None):
    """``(rnn, readout)``: ``torch.nn.RNN`` (tanh, batch_first) and ``torch.nn.Linear``
    holding ``model``'s weights, in float64.

    PyTorch has two bias vectors where the recurrence needs one; ``bias_hh`` (zeros by
    default) goes into ``bias_hh_l0`` and ``b_h - bias_hh`` into ``bias_ih_l0``.
    """
    from utils.frameworks import import_torch, torch_device

    torch = import_torch()
    _check_single(model)
    H = model.hidden_size
    bias_hh = np.zeros(H) if bias_hh is None else as_float_array(bias_hh, "bias_hh", ndim=1)
    if bias_hh.shape != (H,):
        raise ValueError(f"bias_hh must have shape ({H},), got {bias_hh.shape}")
    rnn = torch.nn.RNN(model.input_size, H, nonlinearity="tanh", batch_first=True,
                       dtype=torch.float64)
    readout = torch.nn.Linear(H, model.output_size, dtype=torch.float64)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.from_numpy(model.W_xh.T))  # PyTorch: (hidden, input)
        rnn.weight_hh_l0.copy_(torch.from_numpy(model.W_hh.T))
        rnn.bias_ih_l0.copy_(torch.from_numpy(model.b_h - bias_hh))
        rnn.bias_hh_l0.copy_(torch.from_numpy(bias_hh))
        readout.weight.copy_(torch.from_numpy(model.W_hy.T))
        readout.bias.copy_(torch.from_numpy(model.b_y))
    device = torch_device()
    return rnn.to(device), readout.to(device)


def torch_loss_and_gradients(model: ElmanRNN, X, y, *, bias_hh=None):
    """Loss, gradients in :meth:`ElmanRNN.parameters` order (NumPy layout) and the
    gradient of ``bias_hh_l0``, by PyTorch autograd. The ``b_h`` entry is the gradient
    of ``bias_ih_l0``."""
    from utils.frameworks import import_torch

    torch = import_torch()
    rnn, readout = torch_rnn(model, bias_hh=bias_hh)
    device = readout.weight.device
    X, y = model._check_data(X, y)
    X_t = torch.as_tensor(X, dtype=torch.float64, device=device)
    y_t = torch.as_tensor(y, dtype=torch.float64, device=device)
    states, h_last = rnn(X_t)  # h_last: (num_layers=1, batch, hidden)
    loss = torch.nn.functional.mse_loss(readout(h_last[0]), y_t)
    loss.backward()
    grads = [rnn.weight_ih_l0.grad.T, rnn.weight_hh_l0.grad.T, rnn.bias_ih_l0.grad,
             readout.weight.grad.T, readout.bias.grad]
    return (loss.item(), [g.cpu().numpy() for g in grads],
            rnn.bias_hh_l0.grad.cpu().numpy())


def keras_rnn(model: ElmanRNN):
    """A Keras model with ``model``'s weights (float64): ``SimpleRNN`` then ``Dense`` on the
    last state. It returns ``[prediction, all hidden states]``."""
    from utils.frameworks import import_keras

    keras = import_keras()
    _check_single(model)
    inputs = keras.Input(shape=(None, model.input_size), dtype="float64")
    rnn = keras.layers.SimpleRNN(model.hidden_size, activation="tanh", return_sequences=True,
                                 return_state=True, dtype="float64")
    readout = keras.layers.Dense(model.output_size, dtype="float64")
    states, h_last = rnn(inputs)
    net = keras.Model(inputs, [readout(h_last), states])
    rnn.set_weights([model.W_xh, model.W_hh, model.b_h])  # Keras layout, like ours
    readout.set_weights([model.W_hy, model.b_y])
    return net


def keras_loss_and_gradients(model: ElmanRNN, X, y):
    """Loss and gradients in :meth:`ElmanRNN.parameters` order, by ``tf.GradientTape``
    (mean squared error computed in float64)."""
    from utils.frameworks import import_keras

    keras = import_keras()
    import tensorflow as tf

    net = keras_rnn(model)
    X, y = model._check_data(X, y)
    loss_fn = keras.losses.MeanSquaredError(dtype="float64")
    with tf.GradientTape() as tape:
        prediction, _ = net(tf.constant(X), training=True)
        loss = loss_fn(tf.constant(y), prediction)
    variables = net.trainable_variables  # kernel, recurrent_kernel, bias, Dense kernel, bias
    return float(loss), [g.numpy() for g in tape.gradient(loss, variables)]
