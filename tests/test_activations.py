"""utils.activations against PyTorch and Keras 3, values and derivatives, in float64."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from utils.activations import ACTIVATIONS, CLASSIC_ACTIVATIONS, Activation, get_activation

NAMES = sorted(CLASSIC_ACTIVATIONS)  # the rest: tests/test_activations_family.py

# Large |x| on purpose: the saturated tails are where naive formulas overflow and
# where derivative formulas lose precision. 0.0 is appended because linspace's
# middle point is only 0 up to rounding, and 0 is ReLU's kink.
GRID = np.concatenate([np.linspace(-40.0, 40.0, 2001), [-1e3, 1e3, 0.0]])

# Tolerances (float64, eps = 2.2e-16).
# Values: every implementation computes each value to within a few ulps, so a
# relative tolerance of 1e-14 (about 45 ulps) with no absolute slack; measured
# worst case 7.8e-16 (Keras tanh).
VALUE_RTOL = 1e-14
# Derivatives: all three libraries compute s(1 - s) and 1 - t^2 from the rounded
# output, which subtracts numbers close to 1. The absolute error is a few eps,
# and in the saturated tails (f' ~ 1e-14) the *relative* error is O(1) for every
# library alike (measured: up to 1.0 against TF). So: a small absolute tolerance
# (1e-14, about 45 eps; measured worst case 1.6e-15) plus a relative one.
DERIV_RTOL, DERIV_ATOL = 1e-12, 1e-14


def _torch_reference(torch, name):
    return {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
            "identity": lambda t: t}[name]


def _keras_reference(keras, name):
    return {"sigmoid": keras.activations.sigmoid, "tanh": keras.activations.tanh,
            "relu": keras.activations.relu, "identity": keras.activations.linear}[name]


def torch_value_and_grad(torch, name, x):
    """f(x) and f'(x) by PyTorch autograd (the derivative of sum f(x_i) is f'(x_i))."""
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    y = _torch_reference(torch, name)(xt)
    (grad,) = torch.autograd.grad(y.sum(), xt)
    return y.detach().numpy(), grad.numpy()


def keras_value_and_grad(keras, tf, name, x):
    """f(x) and f'(x) by Keras 3 activations and tf.GradientTape, in float64."""
    xt = tf.constant(x, dtype=tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = _keras_reference(keras, name)(xt)
    grad = tape.gradient(y, xt)
    assert y.dtype == tf.float64, "the reference must not silently compute in float32"
    return y.numpy(), grad.numpy()


def test_registry_names_match_activation_names():
    assert set(NAMES) == {"sigmoid", "tanh", "relu", "identity"}
    assert set(NAMES) <= set(ACTIVATIONS)
    for name, act in ACTIVATIONS.items():
        assert act.name == name
        assert get_activation(name) is act
        assert get_activation(name.upper()) is act  # lookup ignores case
        assert get_activation(act) is act  # an Activation passes through
        np.testing.assert_array_equal(act(GRID), act.f(GRID))


@pytest.mark.parametrize("name", NAMES)
def test_matches_pytorch(torch, name):
    act = ACTIVATIONS[name]
    value, grad = torch_value_and_grad(torch, name, GRID)
    np.testing.assert_allclose(act.f(GRID), value, rtol=VALUE_RTOL, atol=0)
    np.testing.assert_allclose(act.f_prime(GRID), grad, rtol=DERIV_RTOL, atol=DERIV_ATOL)


@pytest.mark.parametrize("name", NAMES)
def test_matches_keras(keras, tf, name):
    act = ACTIVATIONS[name]
    value, grad = keras_value_and_grad(keras, tf, name, GRID)
    np.testing.assert_allclose(act.f(GRID), value, rtol=VALUE_RTOL, atol=0)
    np.testing.assert_allclose(act.f_prime(GRID), grad, rtol=DERIV_RTOL, atol=DERIV_ATOL)


def test_relu_derivative_at_zero_is_zero_like_autograd(torch, keras, tf):
    zero = np.array([0.0])
    ours = ACTIVATIONS["relu"].f_prime(zero)
    _, torch_grad = torch_value_and_grad(torch, "relu", zero)
    _, keras_grad = keras_value_and_grad(keras, tf, "relu", zero)
    np.testing.assert_array_equal(ours, torch_grad)
    np.testing.assert_array_equal(ours, keras_grad)
    assert ours[0] == 0.0


@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_derivative_peaks_at_zero_with_the_analytic_value(torch, name):
    """sigma' peaks at 1/4 and tanh' at 1, both at x = 0 (the docstrings' claims)."""
    act = ACTIVATIONS[name]
    d = act.f_prime(GRID)
    peak = GRID[np.argmax(d)]
    assert peak == 0.0
    # The analytic value at 0, computed from f itself rather than typed in:
    # sigma'(0) = sigma(0) (1 - sigma(0)), tanh'(0) = 1 - tanh(0)^2.
    f0 = float(act.f(np.array([0.0]))[0])
    analytic = f0 * (1.0 - f0) if name == "sigmoid" else 1.0 - f0 * f0
    # Exact equality: sigma(0) = 0.5 and tanh(0) = 0 are exact in binary floating point.
    assert d.max() == analytic
    _, torch_grad = torch_value_and_grad(torch, name, np.array([0.0]))
    assert d.max() == torch_grad[0]
    # and the documented numbers themselves
    assert d.max() == {"sigmoid": 0.25, "tanh": 1.0}[name]


def test_sigmoid_is_stable_for_large_inputs():
    x = np.array([-1e3, -50.0, 50.0, 1e3])
    # numpy's default leaves underflow silent, and exp(-1000) underflowing to 0 is the
    # correct float64 result, so underflow is not raised here; overflow, invalid
    # operations (inf/inf = nan) and division by zero are.
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s = ACTIVATIONS["sigmoid"].f(x)
        ds = ACTIVATIONS["sigmoid"].f_prime(x)
    # ... and under the default settings, no warning at all.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ACTIVATIONS["sigmoid"].f(x)
        ACTIVATIONS["sigmoid"].f_prime(x)
    assert np.isfinite(s).all() and np.isfinite(ds).all()
    assert s[0] == 0.0 and s[-1] == 1.0  # e^-1000 underflows: the exact float64 answers
    assert np.all(np.diff(s) >= 0)
    # symmetry sigma(-x) = 1 - sigma(x), to the absolute rounding of values near 1 (a few eps)
    np.testing.assert_allclose(ACTIVATIONS["sigmoid"].f(-GRID), 1 - ACTIVATIONS["sigmoid"].f(GRID),
                               rtol=0, atol=4 * np.finfo(float).eps)


@pytest.mark.parametrize("name", NAMES)
def test_derivative_matches_central_difference(name):
    """Away from ReLU's kink, f' agrees with (f(x+h) - f(x-h)) / 2h.

    Error of the central difference: h^2/6 |f'''| <= 1e-11 plus rounding
    eps/h ~ 1e-11, so 1e-8 absolute leaves a wide margin.
    """
    act = ACTIVATIONS[name]
    x = np.linspace(-6, 6, 241)
    x = x[np.abs(x) > 1e-3]
    h = 1e-5
    numeric = (act.f(x + h) - act.f(x - h)) / (2 * h)
    np.testing.assert_allclose(act.f_prime(x), numeric, rtol=0, atol=1e-8)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("which", ["f", "f_prime"])
def test_float32_input_keeps_float32(name, which):
    fn = getattr(ACTIVATIONS[name], which)
    x32 = GRID.astype(np.float32)
    out = fn(x32)
    assert out.dtype == np.float32
    # and it is the float64 result to float32 precision (eps32 = 1.2e-7; the
    # derivatives subtract numbers near 1, hence the absolute term)
    np.testing.assert_allclose(out, fn(x32.astype(np.float64)), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_integer_input_is_computed_in_float64(name):
    act = ACTIVATIONS[name]
    ints = np.arange(-5, 6)
    for fn in (act.f, act.f_prime):
        out = fn(ints)
        assert out.dtype == np.float64
        np.testing.assert_array_equal(out, fn(ints.astype(np.float64)))


@pytest.mark.parametrize("name", NAMES)
def test_output_does_not_alias_input(name):
    x = np.array([-1.0, 2.0])
    before = x.copy()
    out = ACTIVATIONS[name].f(x)
    out[...] = 123.0
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("which", ["f", "f_prime"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nonfinite_input_raises_value_error(name, which, bad):
    fn = getattr(ACTIVATIONS[name], which)
    with pytest.raises(ValueError, match="NaN"):
        fn(np.array([0.0, bad, 1.0]))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("which", ["f", "f_prime"])
@pytest.mark.parametrize("bad", ["1.0", b"1", None, np.array([1, "a"], dtype=object),
                                 np.array(["1", "2"]), np.array([1 + 2j])],
                         ids=["str", "bytes", "None", "object", "str-array", "complex"])
def test_non_numeric_input_raises_type_error(name, which, bad):
    fn = getattr(ACTIVATIONS[name], which)
    with pytest.raises(TypeError, match="must be"):
        fn(bad)


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="nope") as info:
        get_activation("nope")
    for name in NAMES:
        assert name in str(info.value)


@pytest.mark.parametrize("bad", [3, None, 1.5, ACTIVATIONS["relu"].f])
def test_non_string_name_raises_type_error(bad):
    with pytest.raises(TypeError, match="str"):
        get_activation(bad)


def test_activation_is_immutable():
    act = ACTIVATIONS["relu"]
    assert isinstance(act, Activation)
    with pytest.raises(AttributeError):
        act.name = "changed"
