"""Batch normalization and layer normalization in NumPy, forward and backward.

Inputs are ``(batch, features)`` arrays. Both layers normalize, then scale by a
learned ``gamma`` and shift by a learned ``beta`` (one of each per feature):

* **batch normalization** standardizes each *feature* over the examples of the batch
  (training mode) or with running estimates of the mean and variance (inference mode);
* **layer normalization** standardizes each *example* over its features, the same way in
  training and inference, so it never depends on the rest of the batch.

Conventions of :class:`BatchNorm` (the frameworks differ; the tests pin both down):

* ``momentum`` is the weight of the **new** batch statistic, as in PyTorch:
  ``running = (1 - momentum) * running + momentum * batch``. Keras' ``momentum`` is the
  weight of the **old** value, so Keras' ``momentum=m`` is ``momentum=1 - m`` here.
  ``momentum=None`` keeps the plain average of all batch statistics so far (PyTorch's
  ``momentum=None``; the population statistics of Ioffe and Szegedy's Algorithm 2).
* The batch is normalized with the *biased* batch variance (divide by n). The running
  variance is updated with the *unbiased* one (divide by n - 1) when
  ``unbiased_running_var=True`` (PyTorch) and with the biased one otherwise (Keras).
* ``eps`` is added to the variance inside the square root, in both frameworks.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from utils._validation import (
    as_float_array,
    check_fraction,
    check_instance,
    check_positive_float,
    check_positive_int,
)


@dataclass(frozen=True)
class NormCache:
    """What the backward pass needs from the forward pass.

    ``x_hat`` is the normalized input, ``inv_std`` is 1 / sqrt(var + eps) (shape (1, D)
    for batch norm, (N, 1) for layer norm), ``axis`` is the axis the statistics were
    taken over (0: batch norm, 1: layer norm).
    """

    x: np.ndarray
    x_hat: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    inv_std: np.ndarray
    gamma: np.ndarray
    eps: float
    axis: int


# --- input checks ---------------------------------------------------------------------


def _check_eps(eps) -> float:
    return check_positive_float(eps, "eps", allow_zero=True)


def _check_x(x, what: str) -> np.ndarray:
    x = as_float_array(x, "x")
    if x.ndim == 1:
        raise ValueError(f"{what} expects x of shape (batch, features), got the 1-D shape "
                         f"{x.shape}; for a single example pass x[None, :]")
    if x.ndim != 2:
        raise ValueError(f"{what} expects x of shape (batch, features), got shape {x.shape}; "
                         "for (batch, channels, length) data move the channels last and "
                         "flatten: x.transpose(0, 2, 1).reshape(-1, channels)")
    return x


def _check_affine(x: np.ndarray, gamma, beta, what: str):
    n, d = x.shape
    gamma = as_float_array(gamma, "gamma")
    beta = as_float_array(beta, "beta")
    for name, p in (("gamma", gamma), ("beta", beta)):
        if p.shape != (d,):
            hint = ""
            if p.shape == (n,) and n != d:
                hint = (" It matches the batch axis of x instead: x must be (batch, features)"
                        " with the features on the last axis (did you pass x.T?)")
            raise ValueError(f"{what}: {name} must have shape ({d},), one entry per feature "
                             f"of x (shape {x.shape}), got shape {p.shape}.{hint}")
    return gamma, beta


def _check_momentum(momentum):
    if momentum is None:
        return None
    if isinstance(momentum, bool) or not isinstance(momentum, numbers.Real):
        raise TypeError(f"momentum must be a number in [0, 1] or None, got {momentum!r}")
    return check_fraction(momentum, "momentum (the weight of the new batch)",
                          high_inclusive=True)


# --- batch normalization --------------------------------------------------------------


def batchnorm_forward(x, gamma, beta, eps: float = 1e-5):
    """Batch normalization in training mode: normalize each feature with the statistics
    of this batch. Returns ``(out, cache)``; ``cache`` feeds the backward pass.

    ``out = gamma * (x - mean) / sqrt(var + eps) + beta`` with the batch mean and the
    biased batch variance of each column of ``x`` (shape (batch, features), batch >= 2).
    """
    x = _check_x(x, "batchnorm_forward")
    gamma, beta = _check_affine(x, gamma, beta, "batchnorm_forward")
    eps = _check_eps(eps)
    if x.shape[0] < 2:
        raise ValueError(
            "batch normalization in training mode needs at least 2 examples per batch, got "
            f"x of shape {x.shape}: with one example every feature equals its batch mean, so "
            "the output would be beta whatever the input. Use inference mode (running "
            "statistics) for single examples, or layer normalization.")
    mean = x.mean(axis=0, keepdims=True)
    var = x.var(axis=0, keepdims=True)  # biased: divides by the batch size
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mean) * inv_std
    out = gamma * x_hat + beta
    return out, NormCache(x, x_hat, mean, var, inv_std, gamma, eps, axis=0)


def batchnorm_backward_graph(dout, cache: NormCache):
    """Backward pass of :func:`batchnorm_forward`, node by node through the computational graph.

    Forward graph (per feature, over the batch of size n)::

        mu = mean(x);  xc = x - mu;  var = mean(xc**2);  s = sqrt(var + eps)
        inv = 1 / s;   x_hat = xc * inv;   out = gamma * x_hat + beta

    Each line below is the chain rule for one node, from ``out`` back to ``x``; a
    value used twice (``xc``, ``x``) collects the gradients of both uses.
    """
    dout = _check_dout(dout, cache)
    n = dout.shape[0]
    xc = cache.x - cache.mean
    s = np.sqrt(cache.var + cache.eps)
    inv = cache.inv_std
    # out = gamma * x_hat + beta
    dbeta = dout.sum(axis=0)
    dgamma = (dout * cache.x_hat).sum(axis=0)
    dx_hat = dout * cache.gamma
    # x_hat = xc * inv
    dinv = (dx_hat * xc).sum(axis=0, keepdims=True)
    dxc = dx_hat * inv
    # inv = 1 / s
    ds = -dinv / s**2
    # s = sqrt(var + eps)
    dvar = ds * 0.5 / s
    # var = mean(xc**2): the second path into xc
    dxc = dxc + dvar * 2.0 * xc / n
    # xc = x - mu: x gets dxc directly, mu gets -sum(dxc)
    dmu = -dxc.sum(axis=0, keepdims=True)
    dx = dxc.copy()
    # mu = mean(x): the second path into x
    dx += dmu / n
    return dx, dgamma, dbeta


def batchnorm_backward(dout, cache: NormCache):
    """Backward pass of :func:`batchnorm_forward` in closed form.

    With ``x_hat`` the normalized input, ``inv = 1 / sqrt(var + eps)`` and the sums over
    the batch (size n)::

        dx = gamma * inv / n * (n * dout - sum(dout) - x_hat * sum(dout * x_hat))

    The same numbers as :func:`batchnorm_backward_graph`, in three array operations.
    """
    dout = _check_dout(dout, cache)
    n = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * cache.x_hat).sum(axis=0)
    dx = (cache.gamma * cache.inv_std / n) * (n * dout - dbeta - cache.x_hat * dgamma)
    return dx, dgamma, dbeta


def batchnorm_inference(x, gamma, beta, running_mean, running_var, eps: float = 1e-5):
    """Batch normalization in inference mode: the stored running statistics, not the batch's.

    Every example is transformed on its own (any batch size, including 1), by the
    fixed affine map ``gamma * (x - running_mean) / sqrt(running_var + eps) + beta``.
    """
    x = _check_x(x, "batchnorm_inference")
    gamma, beta = _check_affine(x, gamma, beta, "batchnorm_inference")
    running_mean, running_var = _check_affine(x, running_mean, running_var,
                                              "batchnorm_inference (running statistics)")
    eps = _check_eps(eps)
    if np.any(running_var < 0):
        raise ValueError("running_var must be >= 0")
    return gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta


def _check_dout(dout, cache: NormCache) -> np.ndarray:
    if not isinstance(cache, NormCache):
        raise TypeError(f"cache must be the NormCache returned by the forward pass, got "
                        f"{type(cache).__name__}")
    dout = as_float_array(dout, "dout")
    if dout.shape != cache.x.shape:
        raise ValueError(f"dout must have the shape of the forward output {cache.x.shape}, "
                         f"got {dout.shape}")
    return dout


class BatchNorm:
    """A batch-normalization layer with learned ``gamma``, ``beta`` and running statistics.

    ``momentum`` weights the new batch (PyTorch's convention; Keras' ``momentum=m`` is
    ``1 - m`` here); ``None`` averages all batches equally. ``unbiased_running_var``
    chooses what is stored: PyTorch stores the unbiased batch variance, Keras the biased
    one (both normalize the batch itself with the biased one).

    In training mode (:meth:`train`, the default) :meth:`forward` normalizes with the
    batch statistics and updates the running ones; in inference mode (:meth:`eval`) it
    uses the running statistics and changes nothing. ``gamma`` and ``beta`` are used as
    they are in both modes: they are parameters, learned by gradient descent
    (:meth:`backward` stores ``dgamma`` and ``dbeta``), not statistics.
    """

    def __init__(self, num_features: int, *, eps: float = 1e-5, momentum: float | None = 0.1,
                 unbiased_running_var: bool = True):
        num_features = check_positive_int(num_features, "num_features")
        self.eps = _check_eps(eps)
        self.momentum = _check_momentum(momentum)
        if not isinstance(unbiased_running_var, bool):
            raise TypeError("unbiased_running_var must be True (PyTorch) or False (Keras)")
        self.unbiased_running_var = unbiased_running_var
        self.gamma = np.ones(num_features)
        self.beta = np.zeros(num_features)
        self.running_mean = np.zeros(num_features)
        self.running_var = np.ones(num_features)
        self.num_batches_tracked = 0
        self.training = True
        self.dgamma = self.dbeta = None
        self._cache: NormCache | None = None

    @property
    def num_features(self) -> int:
        return self.gamma.shape[0]

    def train(self, mode: bool = True) -> BatchNorm:
        self.training = bool(mode)
        return self

    def eval(self) -> BatchNorm:
        return self.train(False)

    def forward(self, x):
        """Normalize ``x`` (batch, features); in training mode also update the running statistics."""
        if not self.training:
            self._cache = None
            return batchnorm_inference(x, self.gamma, self.beta, self.running_mean,
                                       self.running_var, self.eps)
        out, cache = batchnorm_forward(x, self.gamma, self.beta, self.eps)
        self._cache = cache
        self._update_running_stats(cache.mean[0], cache.var[0], n=cache.x.shape[0])
        return out

    __call__ = forward

    def _update_running_stats(self, batch_mean, batch_var, n: int) -> None:
        self.num_batches_tracked += 1
        if self.unbiased_running_var:
            batch_var = batch_var * n / (n - 1)
        m = 1.0 / self.num_batches_tracked if self.momentum is None else self.momentum
        self.running_mean = (1.0 - m) * self.running_mean + m * batch_mean
        self.running_var = (1.0 - m) * self.running_var + m * batch_var

    def backward(self, dout):
        """Gradient with respect to the last training-mode input; sets ``dgamma``, ``dbeta``."""
        if self._cache is None:
            raise RuntimeError("call forward in training mode before backward (inference "
                               "mode keeps no cache: it is a fixed affine map)")
        dx, self.dgamma, self.dbeta = batchnorm_backward(dout, self._cache)
        return dx


# --- layer normalization --------------------------------------------------------------


def layernorm_forward(x, gamma, beta, eps: float = 1e-5):
    """Layer normalization: standardize each example (row of ``x``) over its features,
    then scale by ``gamma`` and shift by ``beta`` (per feature). Returns ``(out, cache)``.

    The same computation in training and inference; a batch of one example is fine.
    """
    x = _check_x(x, "layernorm_forward")
    gamma, beta = _check_affine(x, gamma, beta, "layernorm_forward")
    eps = _check_eps(eps)
    mean = x.mean(axis=1, keepdims=True)
    var = x.var(axis=1, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mean) * inv_std
    out = gamma * x_hat + beta
    return out, NormCache(x, x_hat, mean, var, inv_std, gamma, eps, axis=1)


def layernorm_backward(dout, cache: NormCache):
    """Backward pass of :func:`layernorm_forward`: batch norm's closed form along the
    feature axis (d features per example), with ``dgamma`` and ``dbeta`` summed over
    the batch::

        dx_hat = dout * gamma
        dx = inv / d * (d * dx_hat - sum_f(dx_hat) - x_hat * sum_f(dx_hat * x_hat))
    """
    dout = _check_dout(dout, cache)
    if cache.axis != 1:
        raise ValueError("this cache comes from batchnorm_forward; use batchnorm_backward")
    d = dout.shape[1]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * cache.x_hat).sum(axis=0)
    dx_hat = dout * cache.gamma
    dx = (cache.inv_std / d) * (d * dx_hat - dx_hat.sum(axis=1, keepdims=True)
                                - cache.x_hat * (dx_hat * cache.x_hat).sum(axis=1, keepdims=True))
    return dx, dgamma, dbeta


# --- running statistics ---------------------------------------------------------------


def steps_to_converge(momentum: float, tolerance: float = 0.01) -> int:
    """Training steps until an exponential moving average started at 0 is within
    ``tolerance`` (relative) of a constant target: the smallest k with
    ``(1 - momentum)**k <= tolerance`` (``momentum`` weights the new value)."""
    momentum = _check_momentum(momentum)
    if momentum is None or momentum == 0:
        raise ValueError("momentum must be in (0, 1] for an exponential moving average")
    tolerance = check_fraction(tolerance, "tolerance", low_inclusive=False)
    if momentum == 1:
        return 1
    k = int(np.ceil(np.log(tolerance) / np.log1p(-momentum)))
    while (1 - momentum) ** (k - 1) <= tolerance and k > 1:  # guard against log rounding
        k -= 1
    while (1 - momentum) ** k > tolerance:
        k += 1
    return k


# --- the same layers in the frameworks, for comparisons --------------------------------


def torch_forward_backward(layer, x, dout):
    """Run a PyTorch ``BatchNorm1d`` or ``LayerNorm`` on ``x`` and backpropagate ``dout``.

    Returns NumPy arrays ``(out, dx, dgamma, dbeta)``. The layer's own mode decides which
    statistics are used (``layer.train()``: the batch's, updating the running ones;
    ``layer.eval()``: the running ones), as in a real network.
    """
    from utils.frameworks import import_torch

    x = as_float_array(x, "x")
    dout = as_float_array(dout, "dout")
    if dout.shape != x.shape:
        raise ValueError(f"dout must have the shape of x {x.shape}, got {dout.shape}")
    torch = import_torch()
    check_instance(layer, (torch.nn.BatchNorm1d, torch.nn.LayerNorm), "layer")
    p = layer.weight
    x_t = torch.tensor(x, dtype=p.dtype, device=p.device, requires_grad=True)
    layer.zero_grad(set_to_none=True)
    out = layer(x_t)
    out.backward(torch.as_tensor(np.asarray(dout), dtype=p.dtype, device=p.device))
    return tuple(t.detach().cpu().numpy() for t in (out, x_t.grad, layer.weight.grad,
                                                     layer.bias.grad))


def keras_forward_backward(layer, x, dout, *, training: bool):
    """Run a Keras ``BatchNormalization`` or ``LayerNormalization`` on ``x`` (with
    ``training=training``) under ``tf.GradientTape`` and backpropagate ``dout``.

    Returns NumPy arrays ``(out, dx, dgamma, dbeta)``. In training mode a Keras batch
    norm layer also updates its moving statistics, as in ``model.fit``.
    """
    from utils.frameworks import import_keras, import_tensorflow

    x = as_float_array(x, "x")
    dout = as_float_array(dout, "dout")
    if dout.shape != x.shape:
        raise ValueError(f"dout must have the shape of x {x.shape}, got {dout.shape}")
    keras = import_keras()
    tf = import_tensorflow()
    check_instance(layer, (keras.layers.BatchNormalization, keras.layers.LayerNormalization),
                   "layer")
    if not layer.built:
        layer.build(x.shape)
    x_t = tf.constant(x, dtype=layer.variable_dtype)
    with tf.GradientTape() as tape:
        tape.watch(x_t)
        out = layer(x_t, training=training)
        loss = tf.reduce_sum(out * tf.constant(np.asarray(dout), dtype=out.dtype))
    dx, dgamma, dbeta = tape.gradient(loss, [x_t, layer.gamma, layer.beta])
    return tuple(np.asarray(t) for t in (out, dx, dgamma, dbeta))
