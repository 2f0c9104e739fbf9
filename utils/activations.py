"""Activation functions and their derivatives in NumPy.

Each activation is a pair of functions ``f(x)`` and ``f_prime(x)`` (the derivative
with respect to the input, evaluated elementwise). They accept any real array,
compute in the array's floating dtype, and refuse NaN/Inf inputs with a clear
error. Look one up by name with :func:`get_activation`.

At a kink (ReLU at 0) the derivative used is the one PyTorch and TensorFlow use
in autograd: 0.

Beyond the four classics, the module holds the ReLU family and the smooth
activations used today (leaky ReLU, PReLU, ELU, SELU, GELU exact and with the
tanh approximation, swish/SiLU, softplus). They follow the same rules; at a kink
the derivative is the left one, f'(0) = f'(0-), as PyTorch's autograd does for all
of them. :data:`ACTIVATIONS` holds every registered activation (the first four,
:data:`CLASSIC_ACTIVATIONS`, are the ones of the first chapter), and
:func:`get_activation` looks names up there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from utils._validation import as_float_array, check_positive_float


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


# --- the ReLU family and the smooth activations -------------------------------------------

#: Negative slope of the registered "leaky_relu": Maas et al. (2013) and PyTorch's default.
#: Keras defaults differ (0.3 for the ``LeakyReLU`` layer, 0.2 for the function), which is
#: why :func:`leaky_relu` makes you pass the slope.
LEAKY_RELU_SLOPE = 0.01
#: Initial slope of the registered "prelu": PyTorch's ``nn.PReLU`` (Keras' PReLU starts at 0).
PRELU_INIT = 0.25
#: ELU's alpha, the value the negative side saturates to (Clevert et al., 2016).
ELU_ALPHA = 1.0
#: SELU's constants, from Klambauer et al. (2017), eq. 14; ``utils.self_normalization``
#: re-derives them as the fixed point of the mean/variance map.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
#: The cubic coefficient of the tanh approximation of GELU (Hendrycks & Gimpel, 2016).
GELU_TANH_COEFF = 0.044715


def _check_real(value, name: str) -> float:
    """A finite real number (an activation's parameter), or a clear error."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def leaky_relu(x, negative_slope):
    """x for x > 0, and ``negative_slope * x`` otherwise.

    The slope has no default here on purpose: the libraries disagree (PyTorch 0.01,
    Keras' ``leaky_relu`` 0.2, Keras' ``LeakyReLU`` layer 0.3). The registered
    "leaky_relu" uses :data:`LEAKY_RELU_SLOPE`.
    """
    x = as_float_array(x)
    slope = _check_real(negative_slope, "negative_slope")
    return np.where(x > 0, x, slope * x).astype(x.dtype, copy=False)


def leaky_relu_prime(x, negative_slope):
    """1 for x > 0, ``negative_slope`` for x <= 0 (the left derivative at the kink)."""
    x = as_float_array(x)
    slope = _check_real(negative_slope, "negative_slope")
    return np.where(x > 0, 1.0, slope).astype(x.dtype, copy=False)


def _check_prelu_alpha(alpha, x):
    alpha = as_float_array(alpha, "alpha")
    try:
        np.broadcast_shapes(alpha.shape, x.shape)
    except ValueError:
        raise ValueError(f"alpha of shape {alpha.shape} does not broadcast against x of "
                         f"shape {x.shape} (use one slope, or one per channel on the last axis)"
                         ) from None
    return alpha.astype(x.dtype, copy=False)


def prelu(x, alpha):
    """Parametric ReLU (He et al., 2015): a leaky ReLU whose slope ``alpha`` is learned.

    ``alpha`` is a number or an array that broadcasts against ``x`` (one slope per
    channel on the last axis, as ``torch.nn.PReLU(num_parameters=C)`` for 2-D input).
    """
    x = as_float_array(x)
    alpha = _check_prelu_alpha(alpha, x)
    return np.where(x > 0, x, alpha * x).astype(x.dtype, copy=False)


def prelu_prime(x, alpha):
    """df/dx: 1 for x > 0, ``alpha`` for x <= 0."""
    x = as_float_array(x)
    alpha = _check_prelu_alpha(alpha, x)
    return np.where(x > 0, np.ones_like(x), alpha).astype(x.dtype, copy=False)


def prelu_alpha_grad(x, upstream, alpha_shape=()):
    """dL/d(alpha) for a PReLU layer: the sum of ``upstream * min(x, 0)`` over every axis
    that ``alpha`` (of shape ``alpha_shape``) was broadcast along.

    ``upstream`` is dL/df, the same shape as ``x``.
    """
    x = as_float_array(x)
    upstream = as_float_array(upstream, "upstream")
    if upstream.shape != x.shape:
        raise ValueError(f"upstream has shape {upstream.shape}, x has {x.shape}")
    alpha_shape = tuple(alpha_shape)
    try:
        fits = np.broadcast_shapes(alpha_shape, x.shape) == x.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"alpha_shape {alpha_shape} does not broadcast to x's shape {x.shape}")
    g = upstream * np.minimum(x, 0.0)
    lead = g.ndim - len(alpha_shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(alpha_shape) if n == 1)
    return g.sum(axis=axes, keepdims=True).reshape(alpha_shape)


def elu(x, alpha=ELU_ALPHA):
    """Exponential linear unit: x for x > 0, ``alpha (e^x - 1)`` otherwise.

    ``expm1`` is evaluated on min(x, 0) only, so large positive inputs cannot overflow,
    and it keeps full relative precision for small negative x.
    """
    x = as_float_array(x)
    alpha = check_positive_float(alpha, "alpha")
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0))).astype(x.dtype, copy=False)


def elu_prime(x, alpha=ELU_ALPHA):
    """1 for x > 0, ``alpha e^x`` for x <= 0 (so ``alpha`` at the kink; smooth iff alpha = 1)."""
    x = as_float_array(x)
    alpha = check_positive_float(alpha, "alpha")
    return np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0.0))).astype(x.dtype, copy=False)


def selu(x):
    """Scaled ELU, ``SELU_SCALE * elu(x, SELU_ALPHA)`` (Klambauer et al., 2017)."""
    x = as_float_array(x)
    neg = SELU_ALPHA * np.expm1(np.minimum(x, 0.0))
    return (SELU_SCALE * np.where(x > 0, x, neg)).astype(x.dtype, copy=False)


def selu_prime(x):
    """``SELU_SCALE`` for x > 0, ``SELU_SCALE * SELU_ALPHA * e^x`` for x <= 0.

    The derivative jumps at 0, from about 1.758 to 1.051: SELU is not differentiable there.
    At exactly 0 this returns the left value, as PyTorch does (TensorFlow returns the right one).
    """
    x = as_float_array(x)
    neg = SELU_ALPHA * np.exp(np.minimum(x, 0.0))
    return (SELU_SCALE * np.where(x > 0, 1.0, neg)).astype(x.dtype, copy=False)


def _normal_cdf(x):
    from scipy.special import ndtr  # accurate in both tails, unlike 0.5 * (1 + erf(x / sqrt 2))

    return ndtr(x)


def gelu(x):
    """Gaussian error linear unit, exact: x Phi(x), Phi the standard normal CDF.

    Phi(x) = erfc(-x / sqrt 2) / 2 is computed with ``scipy.special.ndtr``, which stays
    accurate for large negative x, where 1 + erf(x / sqrt 2) cancels to 0.
    """
    x = as_float_array(x)
    return (x * _normal_cdf(x)).astype(x.dtype, copy=False)


def gelu_prime(x):
    """Phi(x) + x phi(x), phi the standard normal density. Negative for x < about -0.75."""
    x = as_float_array(x)
    xc = np.clip(x, -40.0, 40.0)  # phi(40) = 1.5e-348 is 0 in float64: no change, no overflow
    pdf = np.exp(-0.5 * xc * xc) / np.sqrt(2.0 * np.pi)
    return (_normal_cdf(x) + x * pdf).astype(x.dtype, copy=False)


def _gelu_tanh_u(x):
    """u(x) = sqrt(2/pi) (x + c x^3) and u'(x), for x clipped to [-50, 50].

    Beyond |x| = 50, sigma(2u) is exactly 0 or 1 in float64 and float32, so clipping
    changes no result and keeps x^3 from overflowing.
    """
    xc = np.clip(x, -50.0, 50.0)
    k = np.sqrt(2.0 / np.pi)
    return k * (xc + GELU_TANH_COEFF * xc**3), k * (1.0 + 3.0 * GELU_TANH_COEFF * xc * xc)


def gelu_tanh(x):
    """GELU with the tanh approximation: 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3).

    Written as x sigmoid(2u), the same function, so that the negative tail does not
    cancel to 0.
    """
    x = as_float_array(x)
    u, _ = _gelu_tanh_u(x)
    return (x * sigmoid(2.0 * u)).astype(x.dtype, copy=False)


def gelu_tanh_prime(x):
    """sigma(2u) + 2 x sigma(2u) sigma(-2u) u'(x), with u as in :func:`gelu_tanh`."""
    x = as_float_array(x)
    u, du = _gelu_tanh_u(x)
    s, s_neg = sigmoid(2.0 * u), sigmoid(-2.0 * u)
    return (s + 2.0 * x * s * s_neg * du).astype(x.dtype, copy=False)


def swish(x):
    """Swish with beta = 1, also called SiLU (Ramachandran et al., 2017): x sigmoid(x)."""
    x = as_float_array(x)
    return (x * sigmoid(x)).astype(x.dtype, copy=False)


def swish_prime(x):
    """sigma(x) (1 + x sigma(-x)): at least about -0.1, so swish is not monotonic."""
    x = as_float_array(x)
    return (sigmoid(x) * (1.0 + x * sigmoid(-x))).astype(x.dtype, copy=False)


def softplus(x):
    """log(1 + e^x), computed as max(x, 0) + log1p(e^(-|x|)): no overflow, no cancellation."""
    x = as_float_array(x)
    return (np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))).astype(x.dtype, copy=False)


def softplus_prime(x):
    """The derivative of softplus is the logistic sigmoid."""
    return sigmoid(x)


@dataclass(frozen=True)
class Activation:
    """An activation function with its derivative."""

    name: str
    f: Callable[[np.ndarray], np.ndarray]
    f_prime: Callable[[np.ndarray], np.ndarray]

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"name must be a non-empty string, got {self.name!r}")
        for field in ("f", "f_prime"):
            if not callable(getattr(self, field)):
                raise TypeError(f"{field} must be callable (a function), "
                                f"got {type(getattr(self, field)).__name__}")

    def __call__(self, x):
        return self.f(x)


#: The activations of the first chapter.
CLASSIC_ACTIVATIONS = ("sigmoid", "tanh", "relu", "identity")

#: Every registered activation: the four classics and the family, parameters at the
#: defaults named above (leaky ReLU slope 0.01, PReLU's initial slope 0.25, ELU alpha 1).
ACTIVATIONS: dict[str, Activation] = {
    **{a.name: a for a in (
        Activation("sigmoid", sigmoid, sigmoid_prime),
        Activation("tanh", tanh, tanh_prime),
        Activation("relu", relu, relu_prime),
        Activation("identity", identity, identity_prime),
    )},
    **{a.name: a for a in (
        Activation("leaky_relu", partial(leaky_relu, negative_slope=LEAKY_RELU_SLOPE),
                   partial(leaky_relu_prime, negative_slope=LEAKY_RELU_SLOPE)),
        Activation("prelu", partial(prelu, alpha=PRELU_INIT), partial(prelu_prime, alpha=PRELU_INIT)),
        Activation("elu", elu, elu_prime),
        Activation("selu", selu, selu_prime),
        Activation("gelu", gelu, gelu_prime),
        Activation("gelu_tanh", gelu_tanh, gelu_tanh_prime),
        Activation("swish", swish, swish_prime),
        Activation("softplus", softplus, softplus_prime),
    )},
}

#: Other names for registered activations.
ALIASES = {"silu": "swish", "leakyrelu": "leaky_relu", "linear": "identity"}


def get_activation(name: str) -> Activation:
    """Look up an activation by name, e.g. ``get_activation("tanh").f_prime(x)``."""
    if isinstance(name, Activation):
        return name
    if not isinstance(name, str):
        raise TypeError(f"activation must be a name (str), got {type(name).__name__}")
    key = name.lower()
    try:
        return ACTIVATIONS[ALIASES.get(key, key)]
    except KeyError:
        known = ", ".join(sorted(ACTIVATIONS))
        raise ValueError(f"unknown activation {name!r}; known: {known}") from None


@dataclass(frozen=True)
class FrameworkDefault:
    """One default parameter of a framework's activation, as read from the installed library."""

    library: str
    api: str
    parameter: str
    value: object


def read_framework_defaults() -> list[FrameworkDefault]:
    """The activation defaults of the installed PyTorch and Keras, read with
    ``inspect.signature`` (nothing is typed in), e.g. the negative slope of each leaky ReLU.

    Imports both frameworks (through :mod:`utils.frameworks`).
    """
    import inspect

    from utils.frameworks import import_keras, import_torch

    torch, keras = import_torch(), import_keras()

    def default(fn, parameter):
        return inspect.signature(fn).parameters[parameter].default

    nn, F, layers, acts = torch.nn, torch.nn.functional, keras.layers, keras.activations
    table = [
        ("PyTorch", "torch.nn.LeakyReLU", nn.LeakyReLU, "negative_slope"),
        ("PyTorch", "torch.nn.functional.leaky_relu", F.leaky_relu, "negative_slope"),
        ("Keras", "keras.layers.LeakyReLU", layers.LeakyReLU, "negative_slope"),
        ("Keras", "keras.activations.leaky_relu", acts.leaky_relu, "negative_slope"),
        ("PyTorch", "torch.nn.PReLU", nn.PReLU, "init"),
        ("Keras", "keras.layers.PReLU", layers.PReLU, "alpha_initializer"),
        ("PyTorch", "torch.nn.ELU", nn.ELU, "alpha"),
        ("Keras", "keras.layers.ELU", layers.ELU, "alpha"),
        ("Keras", "keras.activations.elu", acts.elu, "alpha"),
        ("PyTorch", "torch.nn.GELU", nn.GELU, "approximate"),
        ("Keras", "keras.activations.gelu", acts.gelu, "approximate"),
        ("Keras", "keras.ops.gelu", keras.ops.gelu, "approximate"),
        ("PyTorch", "torch.nn.Softplus", nn.Softplus, "beta"),
        ("PyTorch", "torch.nn.Softplus", nn.Softplus, "threshold"),
    ]
    return [FrameworkDefault(lib, api, p, default(fn, p)) for lib, api, fn, p in table]
