"""Self-normalizing networks (Klambauer et al., 2017) in NumPy.

Three pieces:

* :func:`selu_moments` and :func:`selu_layer_map`: the mean and variance of a SELU
  layer's output when its pre-activation is Gaussian, in closed form. A layer whose
  inputs have mean ``mu`` and variance ``nu`` per unit, with weights that sum to
  ``omega`` and whose squares sum to ``tau``, has pre-activation
  ``z ~ N(mu * omega, nu * tau)`` (LeCun-normal weights give omega ~ 0, tau ~ 1).
* :func:`solve_selu_constants`: the (scale, alpha) for which a given (mean, variance)
  is a fixed point of that map; for (0, 1) it recovers SELU's lambda ~ 1.0507 and
  alpha ~ 1.6733.
* :func:`alpha_dropout`: dropout that keeps the mean and variance of SELU-normalized
  activations, with the semantics of ``torch.nn.AlphaDropout`` and
  ``keras.layers.AlphaDropout``.

:func:`forward_statistics` runs a deep dense network forward, vectorised, and records
each layer's activation mean and standard deviation, with the conditions of
self-normalization switched on or off one at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from utils._validation import (
    as_float_array,
    check_fraction,
    check_positive_float,
    check_positive_int,
    check_rng,
)
from utils.activations import SELU_ALPHA, SELU_SCALE, get_activation


def _check_params(scale, alpha):
    return check_positive_float(scale, "scale"), check_positive_float(alpha, "alpha")


def selu_moments(mean, var, *, scale: float = SELU_SCALE, alpha: float = SELU_ALPHA):
    """Mean and variance of ``scale * elu(z, alpha)`` for ``z ~ N(mean, var)``, exactly.

    With s = sqrt(var), Phi the normal CDF and phi its density:
    E[z; z>0] = mean Phi(mean/s) + s phi(mean/s),
    E[z^2; z>0] = (mean^2 + var) Phi(mean/s) + mean s phi(mean/s),
    E[e^{kz}; z<=0] = exp(k mean + k^2 var / 2) Phi(-(mean + k var) / s) for k = 1, 2.
    The last products are formed in log space (``log_ndtr``), so they neither overflow
    nor underflow. ``mean`` and ``var`` broadcast against each other.
    """
    from scipy.special import log_ndtr, ndtr

    scale, alpha = _check_params(scale, alpha)
    mean = as_float_array(mean, "mean").astype(np.float64)
    var = as_float_array(var, "var").astype(np.float64)
    if np.any(var <= 0):
        raise ValueError("var must be > 0 (a Gaussian pre-activation with positive variance)")
    s = np.sqrt(var)
    r = mean / s
    pdf = np.exp(-0.5 * r * r) / np.sqrt(2.0 * np.pi)
    pos1 = mean * ndtr(r) + s * pdf
    pos2 = (mean * mean + var) * ndtr(r) + mean * s * pdf
    p_neg = ndtr(-r)
    e1 = np.exp(mean + 0.5 * var + log_ndtr(-(mean + var) / s))
    e2 = np.exp(2.0 * mean + 2.0 * var + log_ndtr(-(mean + 2.0 * var) / s))
    first = scale * (pos1 + alpha * (e1 - p_neg))
    second = scale**2 * (pos2 + alpha**2 * (e2 - 2.0 * e1 + p_neg))
    return first, second - first**2


def selu_layer_map(mean, var, *, omega: float = 0.0, tau: float = 1.0,
                   scale: float = SELU_SCALE, alpha: float = SELU_ALPHA):
    """(mean, variance) of a SELU layer's outputs from those of its inputs.

    The pre-activation is z ~ N(mean * omega, var * tau), where omega is the sum of a
    unit's weights and tau the sum of their squares (Klambauer et al., 2017, eq. 3-5).
    """
    if isinstance(omega, bool) or not isinstance(omega, (int, float, np.integer, np.floating)):
        raise TypeError(f"omega must be a real number, got {omega!r}")
    if not np.isfinite(omega):
        raise ValueError(f"omega must be finite, got {omega}")
    tau = check_positive_float(tau, "tau")
    mean = as_float_array(mean, "mean")
    var = as_float_array(var, "var")
    return selu_moments(mean * omega, var * tau, scale=scale, alpha=alpha)


def random_weight_layer_map(mean, var, *, gain: float = 1.0, scale: float = SELU_SCALE,
                            alpha: float = SELU_ALPHA):
    """(mean, variance) of a SELU layer's outputs *pooled over its units*, for random
    weights W ~ N(0, gain / fan_in) (gain 1: LeCun normal; 2: He normal).

    Unit j's weights sum to omega_j ~ N(0, gain) and their squares to tau ~ gain, so its
    pre-activation is N(mean * omega_j, var * gain); over the units that mixture is
    exactly N(0, gain * (var + mean^2)). A non-zero input mean therefore acts like extra
    variance, which is why the pooled statistics depend on the second moment.
    """
    gain = check_positive_float(gain, "gain")
    mean = as_float_array(mean, "mean")
    var = as_float_array(var, "var")
    return selu_moments(0.0, gain * (var + mean * mean), scale=scale, alpha=alpha)


def solve_selu_constants(fixed_mean: float = 0.0, fixed_var: float = 1.0, *,
                         initial=(1.0, 1.0)) -> tuple[float, float]:
    """The (scale, alpha) that make (``fixed_mean``, ``fixed_var``) a fixed point of the
    SELU layer map with omega = 0 and tau = 1 (LeCun-normal weights).

    Solves the two equations mean(z) = fixed_mean and var(z) = fixed_var, with
    z ~ N(0, fixed_var), by Powell's hybrid method (``scipy.optimize.root``) on the
    closed-form moments of :func:`selu_moments`. Raises ``RuntimeError`` if it does not
    converge.
    """
    from scipy.optimize import root

    if isinstance(fixed_mean, bool) or not isinstance(fixed_mean, (int, float)):
        raise TypeError(f"fixed_mean must be a real number, got {fixed_mean!r}")
    if not np.isfinite(fixed_mean):
        raise ValueError(f"fixed_mean must be finite, got {fixed_mean}")
    fixed_var = check_positive_float(fixed_var, "fixed_var")
    start = as_float_array(initial, "initial", ndim=1)
    if start.shape != (2,) or np.any(start <= 0):
        raise ValueError(f"initial must be two positive numbers (scale, alpha), got {initial!r}")

    def residual(params):
        scale, alpha = np.abs(params)  # keep the search on positive parameters
        m, v = selu_moments(0.0, fixed_var, scale=scale, alpha=alpha)
        return [float(m) - fixed_mean, float(v) - fixed_var]

    sol = root(residual, start, method="hybr", tol=1e-15)
    scale, alpha = np.abs(sol.x)
    # judged by the residual: hybr may report "no further improvement" once it is at 1e-16
    if max(abs(r) for r in residual(sol.x)) > 1e-12:
        raise RuntimeError(f"no fixed point found from {initial!r}: {sol.message}")
    return float(scale), float(alpha)


# --- AlphaDropout ---------------------------------------------------------------------------

def alpha_dropout_params(rate: float, *, scale: float = SELU_SCALE, alpha: float = SELU_ALPHA):
    """The affine correction (a, b) of AlphaDropout and the value alpha' dropped units take.

    Dropped units are set to alpha' = -scale * alpha, SELU's negative saturation value,
    and then every unit is mapped to a * x + b with
    a = ((1 - rate) (1 + rate alpha'^2))^(-1/2) and b = -a alpha' rate,
    which restores mean 0 and variance 1 (Klambauer et al., 2017, section 4).
    """
    rate = check_fraction(rate, "rate")
    scale, alpha = _check_params(scale, alpha)
    alpha_p = -scale * alpha
    a = ((1.0 - rate) * (1.0 + rate * alpha_p**2)) ** -0.5
    b = -a * alpha_p * rate
    return a, b, alpha_p


def alpha_dropout_moments(mean, var, rate: float):
    """Mean and variance after AlphaDropout (in expectation over the mask) of inputs with
    mean ``mean`` and variance ``var``: (0, 1) stays (0, 1) for every rate."""
    a, b, alpha_p = alpha_dropout_params(rate)
    mean = as_float_array(mean, "mean")
    var = as_float_array(var, "var")
    if np.any(var < 0):
        raise ValueError("var must be >= 0")
    q = 1.0 - rate
    dropped_mean = q * mean + (1.0 - q) * alpha_p
    second = q * (var + mean * mean) + (1.0 - q) * alpha_p**2
    return a * dropped_mean + b, a * a * (second - dropped_mean**2)


def apply_alpha_dropout_mask(x, keep, rate: float):
    """AlphaDropout with a given boolean mask ``keep`` (True = unit kept)."""
    x = as_float_array(x)
    keep = np.asarray(keep)
    if keep.dtype != np.bool_:
        raise TypeError(f"keep must be a boolean mask, got dtype {keep.dtype}")
    if keep.shape != x.shape:
        raise ValueError(f"keep has shape {keep.shape}, x has {x.shape}")
    a, b, alpha_p = alpha_dropout_params(rate)
    return (a * np.where(keep, x, alpha_p) + b).astype(x.dtype, copy=False)


def alpha_dropout(x, rate: float, rng: np.random.Generator, *, training: bool = True):
    """AlphaDropout: each unit is dropped with probability ``rate`` (the *drop* probability,
    like ``p`` in PyTorch and ``rate`` in Keras), then the affine correction is applied.

    In inference (``training=False``) or with ``rate=0`` it is the identity.
    """
    x = as_float_array(x)
    rate = check_fraction(rate, "rate")
    rng = check_rng(rng)
    if not isinstance(training, bool):
        raise TypeError(f"training must be True or False, got {training!r}")
    if not training or rate == 0:
        return x.copy()
    keep = rng.random(x.shape) >= rate  # Keras' rule: keep where uniform >= rate
    return apply_alpha_dropout_mask(x, keep, rate)


def _inverted_dropout(h, rate, rng):
    """Ordinary (inverted) dropout in training mode: zero with probability rate, scale the rest."""
    keep = rng.random(h.shape) >= rate
    return np.where(keep, h / (1.0 - rate), 0.0)


# --- deep forward passes --------------------------------------------------------------------

@dataclass(frozen=True)
class LayerStatistics:
    """Per-layer mean and standard deviation of the activations (index 0 = first layer),
    over all units and examples."""

    mean: np.ndarray
    std: np.ndarray


def forward_statistics(X, depth: int, rng: np.random.Generator, *, activation="selu",
                       weight_init: Callable | None = None, width: int = 256,
                       dropout: str | None = None, rate: float = 0.0, skip: bool = False,
                       batch_norm: bool = False, eps: float = 1e-5) -> LayerStatistics:
    """Push ``X`` through ``depth`` dense layers of ``width`` units, freshly initialized,
    and record each layer's activation mean and standard deviation.

    Each layer computes z = h W (biases are 0 at initialization); then optionally
    batch normalization of z (per unit, over the batch, with gamma = 1 and beta = 0, as
    at initialization); then h = f(z); then optionally dropout in training mode
    (``dropout="standard"``: inverted dropout; ``dropout="alpha"``: AlphaDropout), and
    with ``skip=True`` an identity skip connection h = h_prev + f(...) from layer 2 on.
    ``weight_init(fan_in, fan_out, rng)`` defaults to LeCun normal.
    """
    from utils.initializers import lecun_normal

    X = as_float_array(X, "X", ndim=2)
    depth = check_positive_int(depth, "depth")
    width = check_positive_int(width, "width")
    rng = check_rng(rng)
    act = get_activation(activation)
    init = lecun_normal if weight_init is None else weight_init
    if not callable(init):
        raise TypeError("weight_init must be a function (fan_in, fan_out, rng) -> array")
    if dropout not in (None, "standard", "alpha"):
        raise ValueError(f'dropout must be None, "standard" or "alpha", got {dropout!r}')
    rate = check_fraction(rate, "rate")
    if dropout is not None and rate == 0:
        raise ValueError("dropout needs a rate > 0")
    eps = check_positive_float(eps, "eps")
    if batch_norm and len(X) < 2:
        raise ValueError("batch normalization needs at least 2 examples")
    h = X
    means, stds = np.empty(depth), np.empty(depth)
    for layer in range(depth):
        w = np.asarray(init(h.shape[1], width, rng), dtype=np.float64)
        z = h @ w
        if batch_norm:
            z = (z - z.mean(axis=0)) / np.sqrt(z.var(axis=0) + eps)
        out = act.f(z)
        if dropout == "standard":
            out = _inverted_dropout(out, rate, rng)
        elif dropout == "alpha":
            out = alpha_dropout(out, rate, rng)
        h = h + out if skip and layer > 0 else out
        with np.errstate(over="ignore", invalid="ignore"):
            means[layer], stds[layer] = h.mean(), h.std()
        if not (np.isfinite(means[layer]) and np.isfinite(stds[layer])):
            raise FloatingPointError(f"activations overflowed at layer {layer + 1}")
    return LayerStatistics(means, stds)
