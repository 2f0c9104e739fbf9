"""Weight initializers in NumPy: Glorot (Xavier), He (Kaiming) and LeCun, as Keras and
PyTorch define them.

All of them are variance scaling: draw weights with variance ``scale / n`` where ``n``
is ``fan_in``, ``fan_out`` or their average, from a normal, a truncated normal or a
uniform distribution. Each function has the signature
``(fan_in, fan_out, rng) -> array of shape (fan_in, fan_out)``, so it can be passed
as ``weight_init`` to :meth:`utils.nets.numpy_mlp.MLP.create`. Keyword arguments (PyTorch's ``mode``,
``nonlinearity``, ``a``, ``gain``) come after ``rng``; bind them with ``functools.partial``.

| name | scale | n |
| --- | --- | --- |
| Glorot / Xavier | 1 | (fan_in + fan_out) / 2 |
| He / Kaiming | 2 | fan_in |
| LeCun | 1 | fan_in |

Naming: ``glorot_normal``, ``he_normal`` and ``lecun_normal`` here are *untruncated*
normals, like PyTorch's ``xavier_normal_`` and ``kaiming_normal_``. Keras' initializers of
those names are truncated at two standard deviations and rescaled; their NumPy versions
are ``glorot_truncated_normal``, ``he_truncated_normal`` and ``lecun_truncated_normal``.
PyTorch's own functions are mirrored by :func:`kaiming_normal`, :func:`kaiming_uniform`,
:func:`xavier_normal`, :func:`xavier_uniform`, :func:`trunc_normal` (absolute cut-offs) and
:func:`torch_linear_default` (what ``nn.Linear`` does by default).

Two initializers are not variance scaling: :func:`orthogonal` (Keras' ``Orthogonal``,
PyTorch's ``orthogonal_``), whose singular values all equal ``gain``, and
:func:`identity` (Keras' ``Identity``, PyTorch's ``eye_``), the identity matrix,
rectangular if need be.
"""

from __future__ import annotations

import numbers

import numpy as np

from utils._validation import check_positive_float, check_positive_int, check_rng

# Standard deviation of a standard normal truncated to [-2, 2]; Keras divides by it so
# that its truncated normals have the intended variance.
TRUNCATED_STD = 0.87962566103423978

MODES = ("fan_in", "fan_out", "fan_avg")
DISTRIBUTIONS = ("normal", "truncated_normal", "uniform")


def fan_for_mode(fan_in: int, fan_out: int, mode: str) -> float:
    """The ``n`` of Var[W] = scale / n for a mode: fan_in, fan_out or their average."""
    fan_in = check_positive_int(fan_in, "fan_in")
    fan_out = check_positive_int(fan_out, "fan_out")
    if mode == "fan_in":
        return float(fan_in)
    if mode == "fan_out":
        return float(fan_out)
    if mode == "fan_avg":
        return (fan_in + fan_out) / 2.0
    raise ValueError(f"mode must be one of {MODES}, got {mode!r}")


def variance_scaling(fan_in: int, fan_out: int, rng: np.random.Generator, *, scale: float = 1.0,
                     mode: str = "fan_in", distribution: str = "normal") -> np.ndarray:
    """Weights of shape (fan_in, fan_out) with variance ``scale / n`` (n set by ``mode``).

    ``normal``: N(0, scale/n). ``uniform``: U(-a, a) with a = sqrt(3 scale / n), since
    Var[U(-a, a)] = a^2 / 3. ``truncated_normal``: a normal cut at two standard
    deviations and rescaled (as Keras does) so that its variance is still scale/n.
    """
    rng = check_rng(rng)
    scale = check_positive_float(scale, "scale")
    if distribution not in DISTRIBUTIONS:
        raise ValueError(f"distribution must be one of {DISTRIBUTIONS}, got {distribution!r}")
    variance = scale / fan_for_mode(fan_in, fan_out, mode)
    shape = (fan_in, fan_out)
    if distribution == "uniform":
        limit = np.sqrt(3.0 * variance)
        return rng.uniform(-limit, limit, size=shape)
    std = np.sqrt(variance)
    if distribution == "normal":
        return rng.normal(0.0, std, size=shape)
    std = std / TRUNCATED_STD
    out = rng.normal(0.0, std, size=shape)
    bad = np.abs(out) > 2 * std
    while bad.any():  # redraw the values outside [-2 std, 2 std]
        out[bad] = rng.normal(0.0, std, size=int(bad.sum()))
        bad = np.abs(out) > 2 * std
    return out


def glorot_normal(fan_in, fan_out, rng):
    """Glorot/Xavier normal: N(0, 2 / (fan_in + fan_out))."""
    return variance_scaling(fan_in, fan_out, rng, scale=1.0, mode="fan_avg", distribution="normal")


def glorot_uniform(fan_in, fan_out, rng):
    """Glorot/Xavier uniform: U(±sqrt(6 / (fan_in + fan_out)))."""
    return variance_scaling(fan_in, fan_out, rng, scale=1.0, mode="fan_avg", distribution="uniform")


def he_normal(fan_in, fan_out, rng):
    """He/Kaiming normal: N(0, 2 / fan_in)."""
    return variance_scaling(fan_in, fan_out, rng, scale=2.0, mode="fan_in", distribution="normal")


def he_uniform(fan_in, fan_out, rng):
    """He/Kaiming uniform: U(±sqrt(6 / fan_in))."""
    return variance_scaling(fan_in, fan_out, rng, scale=2.0, mode="fan_in", distribution="uniform")


def lecun_normal(fan_in, fan_out, rng):
    """LeCun normal: N(0, 1 / fan_in)."""
    return variance_scaling(fan_in, fan_out, rng, scale=1.0, mode="fan_in", distribution="normal")


def lecun_uniform(fan_in, fan_out, rng):
    """LeCun uniform: U(±sqrt(3 / fan_in))."""
    return variance_scaling(fan_in, fan_out, rng, scale=1.0, mode="fan_in", distribution="uniform")


INITIALIZERS = {
    "glorot_normal": glorot_normal,
    "glorot_uniform": glorot_uniform,
    "he_normal": he_normal,
    "he_uniform": he_uniform,
    "lecun_normal": lecun_normal,
    "lecun_uniform": lecun_uniform,
}


def get_initializer(name: str):
    """Look up an initializer by name, e.g. ``get_initializer("he_normal")``."""
    if not isinstance(name, str):
        raise TypeError(f"initializer must be a name (str), got {type(name).__name__}")
    try:
        return INITIALIZERS[name.lower()]
    except KeyError:
        known = ", ".join(sorted(INITIALIZERS))
        raise ValueError(f"unknown initializer {name!r}; known: {known}") from None


# --- Keras' truncated normals ------------------------------------------------------------
# keras.initializers.GlorotNormal / HeNormal / LecunNormal (and the strings "glorot_normal",
# "he_normal", "lecun_normal") draw from a normal truncated at two standard deviations and
# divided by TRUNCATED_STD, so that the variance is still scale / n. The functions above with
# "normal" in their name are untruncated, like PyTorch's xavier_normal_ and kaiming_normal_.


def glorot_truncated_normal(fan_in, fan_out, rng):
    """Keras' ``glorot_normal``: truncated at ±2 std and rescaled, variance 2 / (fan_in + fan_out)."""
    return variance_scaling(fan_in, fan_out, rng, scale=1.0, mode="fan_avg",
                            distribution="truncated_normal")


def he_truncated_normal(fan_in, fan_out, rng):
    """Keras' ``he_normal``: truncated at ±2 std and rescaled, variance 2 / fan_in."""
    return variance_scaling(fan_in, fan_out, rng, scale=2.0, mode="fan_in",
                            distribution="truncated_normal")


def lecun_truncated_normal(fan_in, fan_out, rng):
    """Keras' ``lecun_normal``: truncated at ±2 std and rescaled, variance 1 / fan_in."""
    return variance_scaling(fan_in, fan_out, rng, scale=1.0, mode="fan_in",
                            distribution="truncated_normal")


# --- truncated normals with absolute cut-offs (PyTorch's trunc_normal_) -------------------


def _check_real(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def _check_truncation(mean, std, a, b) -> tuple[float, float, float, float]:
    mean = _check_real(mean, "mean")
    std = check_positive_float(std, "std")
    a = _check_real(a, "a")
    b = _check_real(b, "b")
    if not a < b:
        raise ValueError(f"the cut-offs must satisfy a < b, got a={a}, b={b}")
    return mean, std, a, b


def truncated_normal_variance(std: float = 1.0, a: float = -2.0, b: float = 2.0,
                              mean: float = 0.0) -> float:
    """Variance of N(mean, std^2) restricted to [a, b] (absolute cut-offs).

    With alpha = (a - mean)/std, beta = (b - mean)/std and Z = Phi(beta) - Phi(alpha):
    Var = std^2 [1 + (alpha phi(alpha) - beta phi(beta)) / Z - ((phi(alpha) - phi(beta)) / Z)^2].
    ``sqrt(truncated_normal_variance(1, -2, 2))`` is :data:`TRUNCATED_STD`.
    """
    from scipy.special import ndtr

    mean, std, a, b = _check_truncation(mean, std, a, b)
    alpha, beta = (a - mean) / std, (b - mean) / std
    mass = ndtr(beta) - ndtr(alpha)
    if mass < 1e-12:
        raise ValueError(f"[{a}, {b}] holds almost none of N({mean}, {std}^2): "
                         f"probability {mass:.1e}")

    def phi(t):
        return np.exp(-0.5 * t * t) / np.sqrt(2 * np.pi) if np.isfinite(t) else 0.0

    def t_phi(t):
        return t * phi(t) if np.isfinite(t) else 0.0

    ratio = (phi(alpha) - phi(beta)) / mass
    return float(std**2 * (1.0 + (t_phi(alpha) - t_phi(beta)) / mass - ratio**2))


def trunc_normal(fan_in, fan_out, rng: np.random.Generator, *, mean: float = 0.0,
                 std: float = 1.0, a: float = -2.0, b: float = 2.0) -> np.ndarray:
    """PyTorch's ``nn.init.trunc_normal_``: N(mean, std^2) restricted to [a, b].

    The cut-offs ``a`` and ``b`` are absolute values, not multiples of ``std``, and nothing
    is rescaled: ``trunc_normal(..., std=0.02)`` is practically an untruncated N(0, 0.02^2),
    and ``trunc_normal(..., std=1)`` has variance 0.774, not 1
    (:func:`truncated_normal_variance`). Sampled by the inverse CDF, as PyTorch does.
    """
    from scipy.special import ndtr, ndtri

    fan_in = check_positive_int(fan_in, "fan_in")
    fan_out = check_positive_int(fan_out, "fan_out")
    rng = check_rng(rng)
    mean, std, a, b = _check_truncation(mean, std, a, b)
    lo, hi = ndtr((a - mean) / std), ndtr((b - mean) / std)
    if hi - lo < 1e-12:
        raise ValueError(f"[{a}, {b}] holds almost none of N({mean}, {std}^2): "
                         f"probability {hi - lo:.1e}")
    u = rng.uniform(lo, hi, size=(fan_in, fan_out))
    return np.clip(mean + std * ndtri(u), a, b)


# --- PyTorch's gains and its kaiming_* / xavier_* functions --------------------------------

NONLINEARITIES = ("linear", "identity", "sigmoid", "tanh", "relu", "leaky_relu", "selu")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """PyTorch's ``nn.init.calculate_gain``: the factor by which kaiming_* and xavier_* scale
    the standard deviation.

    linear/identity/sigmoid: 1; tanh: 5/3; relu: sqrt(2); leaky_relu with negative slope
    ``param`` (default 0.01): sqrt(2 / (1 + param^2)); selu: 3/4 (an empirical value; for
    self-normalizing networks PyTorch recommends "linear", i.e. variance 1/fan_in).
    """
    if not isinstance(nonlinearity, str):
        raise TypeError(f"nonlinearity must be a name (str), got {type(nonlinearity).__name__}")
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"unknown nonlinearity {nonlinearity!r}; known: {', '.join(NONLINEARITIES)}")
    if param is not None and nonlinearity != "leaky_relu":
        raise ValueError(f"param is only used with leaky_relu, got param={param!r} "
                         f"for {nonlinearity!r}")
    if nonlinearity in ("linear", "identity", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return float(np.sqrt(2.0))
    if nonlinearity == "selu":
        return 0.75
    slope = 0.01 if param is None else _check_real(param, "param (the negative slope)")
    return float(np.sqrt(2.0 / (1.0 + slope**2)))


def _check_torch_mode(mode: str) -> str:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f'mode must be "fan_in" or "fan_out" (PyTorch has no "fan_avg"), '
                         f"got {mode!r}")
    return mode


def kaiming_normal(fan_in, fan_out, rng: np.random.Generator, *, a: float = 0.0,
                   mode: str = "fan_in", nonlinearity: str = "leaky_relu") -> np.ndarray:
    """PyTorch's ``kaiming_normal_``: N(0, std^2) with std = gain / sqrt(fan), untruncated.

    ``a`` is the negative slope used when ``nonlinearity="leaky_relu"`` (the default, with
    a = 0 it is ReLU's gain sqrt(2)). Returns shape (fan_in, fan_out), unlike PyTorch's
    (fan_out, fan_in) weights.
    """
    rng = check_rng(rng)
    n = fan_for_mode(fan_in, fan_out, _check_torch_mode(mode))
    gain = calculate_gain(nonlinearity, a if nonlinearity == "leaky_relu" else None)
    return rng.normal(0.0, gain / np.sqrt(n), size=(fan_in, fan_out))


def kaiming_uniform(fan_in, fan_out, rng: np.random.Generator, *, a: float = 0.0,
                    mode: str = "fan_in", nonlinearity: str = "leaky_relu") -> np.ndarray:
    """PyTorch's ``kaiming_uniform_``: U(-bound, bound) with bound = gain sqrt(3 / fan)."""
    rng = check_rng(rng)
    n = fan_for_mode(fan_in, fan_out, _check_torch_mode(mode))
    gain = calculate_gain(nonlinearity, a if nonlinearity == "leaky_relu" else None)
    bound = gain * np.sqrt(3.0 / n)
    return rng.uniform(-bound, bound, size=(fan_in, fan_out))


def xavier_normal(fan_in, fan_out, rng: np.random.Generator, *, gain: float = 1.0) -> np.ndarray:
    """PyTorch's ``xavier_normal_``: N(0, gain^2 * 2 / (fan_in + fan_out)), untruncated."""
    gain = check_positive_float(gain, "gain")
    return gain * variance_scaling(fan_in, fan_out, rng, scale=1.0, mode="fan_avg",
                                   distribution="normal")


def xavier_uniform(fan_in, fan_out, rng: np.random.Generator, *, gain: float = 1.0) -> np.ndarray:
    """PyTorch's ``xavier_uniform_``: U(±gain sqrt(6 / (fan_in + fan_out)))."""
    gain = check_positive_float(gain, "gain")
    return gain * variance_scaling(fan_in, fan_out, rng, scale=1.0, mode="fan_avg",
                                   distribution="uniform")


def torch_linear_default(fan_in, fan_out, rng: np.random.Generator) -> np.ndarray:
    """The weights of a freshly made ``torch.nn.Linear``: ``kaiming_uniform_(w, a=sqrt(5))``.

    The gain is sqrt(2 / (1 + 5)) = 1/sqrt(3), so the bound is 1/sqrt(fan_in): U(±1/sqrt(fan_in)),
    variance 1 / (3 fan_in), a third of LeCun's and a sixth of He's. (``nn.Linear`` also draws
    its bias from U(±1/sqrt(fan_in)); the book's networks start with zero biases.)
    """
    return kaiming_uniform(fan_in, fan_out, rng, a=float(np.sqrt(5.0)), mode="fan_in",
                           nonlinearity="leaky_relu")


INITIALIZERS.update({
    "glorot_truncated_normal": glorot_truncated_normal,
    "he_truncated_normal": he_truncated_normal,
    "lecun_truncated_normal": lecun_truncated_normal,
    "torch_linear_default": torch_linear_default,
})


# --- orthogonal and identity (not variance scaling) -----------------------------


def orthogonal(fan_in, fan_out, rng: np.random.Generator, *,
               gain: float = 1.0) -> np.ndarray:
    """Keras' ``Orthogonal(gain)`` and PyTorch's ``orthogonal_(w, gain)``: a random
    (semi-)orthogonal matrix of shape (fan_in, fan_out) times ``gain``.

    As both frameworks do: draw a Gaussian matrix of shape (max, min) of the two fans,
    take its QR decomposition and multiply each column of Q by the sign of the matching
    diagonal entry of R. Without that correction Q would inherit the sign convention of
    the QR routine and not be uniformly (Haar) distributed. If fan_in < fan_out the
    result is Q transposed. So the columns are orthonormal (W^T W = gain^2 I) when
    fan_in >= fan_out, the rows (W W^T = gain^2 I) when fan_in < fan_out, and all
    min(fan_in, fan_out) singular values equal ``gain``.
    """
    fan_in = check_positive_int(fan_in, "fan_in")
    fan_out = check_positive_int(fan_out, "fan_out")
    rng = check_rng(rng)
    gain = check_positive_float(gain, "gain")
    a = rng.standard_normal((max(fan_in, fan_out), min(fan_in, fan_out)))
    q, r = np.linalg.qr(a)  # reduced: q has orthonormal columns
    q = q * np.where(np.diag(r) < 0, -1.0, 1.0)  # a zero diagonal entry keeps the sign
    if fan_in < fan_out:
        q = q.T
    return gain * q


def identity(fan_in, fan_out, rng: np.random.Generator | None = None, *,
             gain: float = 1.0) -> np.ndarray:
    """Keras' ``Identity(gain)`` and PyTorch's ``eye_`` (which has no gain): ``gain``
    times the identity matrix of shape (fan_in, fan_out), ones on the main diagonal.

    For a non-square layer only min(fan_in, fan_out) inputs are passed on; with
    fan_out > fan_in the extra outputs get all-zero weights. ``rng`` is accepted (and
    checked if given) so that the function has the signature of the other initializers,
    e.g. as ``weight_init`` of :meth:`utils.nets.numpy_mlp.MLP.create`; nothing is random.
    """
    fan_in = check_positive_int(fan_in, "fan_in")
    fan_out = check_positive_int(fan_out, "fan_out")
    if rng is not None:
        check_rng(rng)
    gain = check_positive_float(gain, "gain")
    return gain * np.eye(fan_in, fan_out)


INITIALIZERS.update({"orthogonal": orthogonal, "identity": identity})
