"""Weight initializers in NumPy: Glorot (Xavier), He (Kaiming) and LeCun.

All of them are variance scaling: draw weights with variance ``scale / n`` where ``n``
is ``fan_in``, ``fan_out`` or their average, from a normal, a truncated normal or a
uniform distribution. Each function has the signature
``(fan_in, fan_out, rng) -> array of shape (fan_in, fan_out)``, so it can be passed
as ``weight_init`` to :meth:`utils.mlp.MLP.create`.

| name | scale | n |
| --- | --- | --- |
| Glorot / Xavier | 1 | (fan_in + fan_out) / 2 |
| He / Kaiming | 2 | fan_in |
| LeCun | 1 | fan_in |
"""

from __future__ import annotations

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
