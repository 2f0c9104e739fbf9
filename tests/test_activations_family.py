"""The activation family in utils.activations against PyTorch and Keras 3, in float64.

Values and autograd derivatives on a grid that includes large |x| (the tails are where
naive formulas overflow or cancel), the framework defaults read from the libraries
and checked against what the layers actually do, finite-difference checks of every
hand-written derivative, and bad inputs.

Where a framework deviates, the deviation is pinned down exactly rather than hidden
behind a loose tolerance:

* ``torch.nn.functional.softplus`` returns x itself for x > 20 (``threshold=20``);
* TensorFlow's GELU casts 1/sqrt(2) and 0.044715 to float32 before using them, so
  Keras' float64 GELUs carry float32-sized errors (about 1e-8 relative);
* Keras' ``leaky_relu`` in float64 uses the slope rounded to float32;
* at x = 0, SELU's derivative is lambda*alpha in PyTorch and lambda in TensorFlow; the
  Keras PReLU layer's is 0 where PyTorch's is alpha.
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

from utils import activations as A
from utils import checks, gradcheck
from utils.nets import numpy_mlp

GRID = np.concatenate([np.linspace(-40.0, 40.0, 2001), [-1e3, 1e3, 0.0, -1e-300, 1e-300]])
EPS = np.finfo(np.float64).eps

# Tolerance: |ours - reference| <= RTOL |reference| + ATOL max(1, |x|).
# The frameworks compute the negative tails from quantities near 1 (1 + erf, 1 + tanh,
# ELU' = f + alpha from the output), so there their *absolute* error is a few eps, times
# |x| where the formula multiplies by x, and their relative error is O(1) (for GELU at
# x = -10 PyTorch returns -0.0 where the exact value is -7.6e-23). Measured worst case
# on this grid: 2.7 eps max(1, |x|) (PyTorch's tanh-GELU derivative); ATOL = 8 eps
# leaves a factor 3. Elsewhere values agree to a few ulps (RTOL = 1e-14, about 45 ulps).
RTOL, ATOL = 1e-14, 8 * EPS

NEW = ["leaky_relu", "prelu", "elu", "selu", "gelu", "gelu_tanh", "swish", "softplus"]


def assert_close(ours, ref, x, rtol=RTOL, atol=ATOL):
    ours, ref = np.asarray(ours, dtype=float), np.asarray(ref, dtype=float)
    bound = rtol * np.abs(ref) + atol * np.maximum(1.0, np.abs(x))
    bad = np.abs(ours - ref) > bound
    assert not bad.any(), (f"{bad.sum()} mismatches, first at x = {x[bad][0]!r}: ours "
                           f"{ours[bad][0]!r}, reference {ref[bad][0]!r}")


def torch_value_and_grad(torch, fn, x):
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    y = fn(xt)
    (grad,) = torch.autograd.grad(y.sum(), xt)
    return y.detach().numpy(), grad.numpy()


def keras_value_and_grad(tf, fn, x):
    xt = tf.constant(x, dtype=tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = fn(xt)
    assert y.dtype == tf.float64, "the reference must not silently compute in float32"
    return y.numpy(), tape.gradient(y, xt).numpy()


def default_of(fn, parameter):
    return inspect.signature(fn).parameters[parameter].default


# ------------------------------------------------------------------ registry

def test_registry_keeps_the_classics_and_adds_the_family():
    assert set(A.CLASSIC_ACTIVATIONS) == {"sigmoid", "tanh", "relu", "identity"}
    assert set(A.ACTIVATIONS) == set(A.CLASSIC_ACTIVATIONS) | set(NEW)
    for name, act in A.ACTIVATIONS.items():
        assert act.name == name and A.get_activation(name) is act
        assert A.get_activation(name.upper()) is act


@pytest.mark.parametrize(("alias", "name"), [("silu", "swish"), ("SiLU", "swish"),
                                             ("leakyrelu", "leaky_relu"), ("linear", "identity")])
def test_aliases(alias, name):
    assert A.get_activation(alias) is A.ACTIVATIONS[name]


def test_unknown_name_lists_every_activation():
    with pytest.raises(ValueError, match="unknown activation") as info:
        A.get_activation("mish")
    for name in A.ACTIVATIONS:
        assert name in str(info.value)


def test_registered_parameters_are_the_documented_ones():
    x = np.array([-2.0, -0.5, 0.5])
    np.testing.assert_array_equal(A.get_activation("leaky_relu").f(x),
                                  A.leaky_relu(x, A.LEAKY_RELU_SLOPE))
    np.testing.assert_array_equal(A.get_activation("prelu").f(x), A.prelu(x, A.PRELU_INIT))
    assert A.LEAKY_RELU_SLOPE == 0.01 and A.PRELU_INIT == 0.25 and A.ELU_ALPHA == 1.0


# ------------------------------------------------------------------ against PyTorch

def torch_reference(torch, name):
    F = torch.nn.functional
    slope = default_of(torch.nn.LeakyReLU, "negative_slope")
    return {
        "leaky_relu": (lambda t: F.leaky_relu(t, slope), slope),
        "prelu": (lambda t: F.prelu(t, torch.tensor([A.PRELU_INIT], dtype=torch.float64)), None),
        "elu": (F.elu, None),
        "selu": (F.selu, None),
        "gelu": (F.gelu, None),
        "gelu_tanh": (lambda t: F.gelu(t, approximate="tanh"), None),
        "swish": (F.silu, None),
        "softplus": (F.softplus, None),
    }[name]


@pytest.mark.parametrize("name", NEW)
def test_values_and_derivatives_match_pytorch(torch, name):
    fn, slope = torch_reference(torch, name)
    act = A.get_activation(name)
    if slope is not None:  # our registered slope is PyTorch's default, read from torch
        assert slope == A.LEAKY_RELU_SLOPE
    x = GRID
    if name == "softplus":  # PyTorch's threshold: tested separately below
        x = GRID[GRID <= default_of(torch.nn.Softplus, "threshold")]
    value, grad = torch_value_and_grad(torch, fn, x)
    assert_close(act.f(x), value, x)
    assert_close(act.f_prime(x), grad, x)


def test_pytorch_softplus_is_linear_above_its_threshold(torch):
    threshold = default_of(torch.nn.Softplus, "threshold")
    x = GRID[GRID > threshold]
    value, grad = torch_value_and_grad(torch, torch.nn.functional.softplus, x)
    np.testing.assert_array_equal(value, x)  # PyTorch returns x itself ...
    np.testing.assert_array_equal(grad, 1.0)
    gap = A.softplus(x) - x  # ... while the exact value is x + log1p(e^-x)
    assert_close(gap, np.log1p(np.exp(-x)), x, rtol=1e-6, atol=4 * EPS)
    assert gap.max() < 2.1e-9  # e^-20: the price of PyTorch's shortcut


@pytest.mark.parametrize("alpha", [0.5, 1.0, 2.0])
def test_elu_with_other_alphas_matches_pytorch(torch, alpha):
    value, grad = torch_value_and_grad(torch, lambda t: torch.nn.functional.elu(t, alpha), GRID)
    assert_close(A.elu(GRID, alpha), value, GRID)
    assert_close(A.elu_prime(GRID, alpha), grad, GRID)


@pytest.mark.parametrize("slope", [0.01, 0.2, 0.3, 1.5, -0.5])
def test_leaky_relu_with_any_slope_matches_pytorch(torch, slope):
    value, grad = torch_value_and_grad(
        torch, lambda t: torch.nn.functional.leaky_relu(t, slope), GRID)
    assert_close(A.leaky_relu(GRID, slope), value, GRID, rtol=0, atol=0)
    assert_close(A.leaky_relu_prime(GRID, slope), grad, GRID, rtol=0, atol=0)


def test_prelu_per_channel_matches_pytorch_including_the_slope_gradient(torch, rng):
    x = rng.normal(0, 3, size=(50, 4))
    x[0] = 0.0  # the kink
    alpha = np.array([0.25, 0.0, -0.1, 0.7])
    upstream = rng.normal(size=x.shape)
    xt = torch.tensor(x, requires_grad=True)
    at = torch.tensor(alpha, requires_grad=True)
    y = torch.nn.functional.prelu(xt, at)
    (y * torch.tensor(upstream)).sum().backward()
    assert_close(A.prelu(x, alpha), y.detach().numpy(), x)
    assert_close(A.prelu_prime(x, alpha) * upstream, xt.grad.numpy(), x)
    np.testing.assert_allclose(A.prelu_alpha_grad(x, upstream, alpha.shape), at.grad.numpy(),
                               rtol=1e-13, atol=1e-13)


# ------------------------------------------------------------------ against Keras

def keras_reference(keras, name):
    acts = keras.activations
    return {
        "elu": acts.elu,
        "selu": acts.selu,
        "swish": acts.silu,
        "softplus": acts.softplus,
    }[name]


@pytest.mark.parametrize("name", ["elu", "selu", "swish", "softplus"])
def test_values_and_derivatives_match_keras(keras, tf, name):
    act = A.get_activation(name)
    value, grad = keras_value_and_grad(tf, keras_reference(keras, name), GRID)
    assert_close(act.f(GRID), value, GRID)
    # SELU's kink is pinned below: TF picks the derivative's branch from the *output*,
    # which rounds to 0 for -1e-16 < x <= 0, so it reports the right derivative there.
    away = ~((GRID > -1e-15) & (GRID <= 0)) if name == "selu" else np.ones(len(GRID), bool)
    assert_close(act.f_prime(GRID)[away], grad[away], GRID[away])


def test_keras_and_swish_silu_are_one_function(keras):
    assert keras.activations.swish is keras.activations.silu


@pytest.mark.parametrize("slope", [0.01, 0.2, 0.3])
def test_keras_leaky_relu_uses_the_slope_rounded_to_float32(keras, tf, slope):
    value, grad = keras_value_and_grad(
        tf, lambda t: keras.activations.leaky_relu(t, negative_slope=slope), GRID)
    slope32 = float(np.float32(slope))
    assert_close(A.leaky_relu(GRID, slope32), value, GRID, rtol=0, atol=0)
    assert_close(A.leaky_relu_prime(GRID, slope32), grad, GRID, rtol=0, atol=0)
    assert slope32 != slope  # so against the exact slope they differ ...
    np.testing.assert_allclose(value, A.leaky_relu(GRID, slope), rtol=1e-7)  # ... in the 8th digit


def test_keras_exact_gelu_uses_a_float32_constant(keras, tf):
    """TF computes 0.5 x erfc(-x c) with c = float32(1/sqrt 2)."""
    from scipy.special import erfc

    c32 = float(np.float32(1 / np.sqrt(2)))
    value, grad = keras_value_and_grad(tf, keras.activations.gelu, GRID)
    with np.errstate(under="ignore"):
        pinned = 0.5 * GRID * erfc(-GRID * c32)
        pinned_grad = 0.5 * erfc(-GRID * c32) + GRID * c32 / np.sqrt(np.pi) * np.exp(
            -(GRID * c32) ** 2)
    assert_close(pinned, value, GRID)
    assert_close(pinned_grad, grad, GRID)
    # against the exact GELU: float32-sized relative errors, growing in the far left tail
    near = np.abs(GRID) <= 5
    np.testing.assert_allclose(value[near], A.gelu(GRID[near]), rtol=1e-6, atol=1e-15)
    assert np.max(np.abs(value[near] - A.gelu(GRID[near]))) > 1e-10


def test_keras_tanh_gelu_uses_a_float32_coefficient(keras, tf):
    """TF computes 0.5 x (1 + tanh(u)) with u = sqrt(2/pi) (x + c x^3), c = float32(0.044715)."""
    c32 = float(np.float32(A.GELU_TANH_COEFF))
    value, grad = keras_value_and_grad(
        tf, lambda t: keras.activations.gelu(t, approximate=True), GRID)
    k = np.sqrt(2 / np.pi)
    xc = np.clip(GRID, -50, 50)  # tanh(u) is exactly +-1 beyond; avoids x^3 overflow
    t = np.tanh(k * (xc + c32 * xc**3))
    assert_close(0.5 * GRID * (1 + t), value, GRID)
    # where tanh(u) rounds to -1 both sides are rounding noise of size eps |x u'(x)|
    assert_close(0.5 * (1 + t) + 0.5 * GRID * (1 - t * t) * k * (1 + 3 * c32 * xc**2), grad,
                 GRID, atol=ATOL * np.maximum(1.0, xc * xc))
    # against the float64 coefficient: float32-sized relative differences
    np.testing.assert_allclose(value, A.gelu_tanh(GRID), rtol=1e-6, atol=1e-13)
    assert np.max(np.abs(value - A.gelu_tanh(GRID))) > 1e-11


@pytest.mark.parametrize("x0", [0.0, -1e-300, -1e-17])
def test_selu_derivative_at_zero_left_in_pytorch_right_in_tensorflow(torch, keras, tf, x0):
    """PyTorch branches on x <= 0; TF on the output selu(x) < 0, and computes that output
    as exp(x) - 1 (not expm1), which is exactly 0 for -1e-16 < x <= 0."""
    at = np.array([x0])
    _, t_grad = torch_value_and_grad(torch, torch.nn.functional.selu, at)
    k_value, k_grad = keras_value_and_grad(tf, keras.activations.selu, at)
    assert A.selu_prime(at)[0] == pytest.approx(t_grad[0], rel=1e-15)  # scale * alpha
    assert k_value[0] == 0.0
    assert k_grad[0] == pytest.approx(A.selu_prime(np.array([1.0]))[0], rel=1e-15)  # scale
    assert t_grad[0] > 1.6 * k_grad[0]  # not a rounding difference: a jump of 1.67x


def test_prelu_matches_the_keras_layer(keras, tf, rng):
    x = rng.normal(0, 3, size=(50, 4))
    x[0] = 0.0
    alpha = np.array([0.25, 0.0, -0.1, 0.7])
    upstream = rng.normal(size=x.shape)
    layer = keras.layers.PReLU(dtype="float64")
    layer.build(x.shape)
    layer.set_weights([alpha])
    xt = tf.constant(x)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(xt)
        y = layer(xt)
        loss = tf.reduce_sum(y * upstream)
    dx = tape.gradient(loss, xt).numpy()
    dalpha = tape.gradient(loss, layer.trainable_weights[0]).numpy()
    assert_close(A.prelu(x, alpha), y.numpy(), x)
    nonzero = x != 0
    assert_close((A.prelu_prime(x, alpha) * upstream)[nonzero], dx[nonzero], x[nonzero])
    np.testing.assert_array_equal(dx[~nonzero], 0.0)  # Keras' PReLU: f'(0) = 0 (built from relu)
    np.testing.assert_allclose(A.prelu_alpha_grad(x, upstream, alpha.shape), dalpha,
                               rtol=1e-13, atol=1e-13)


# ------------------------------------------------------------------ defaults

def test_defaults_table_is_read_from_the_libraries_and_matches_their_behaviour(torch, keras, tf):
    rows = {(r.api, r.parameter): r.value for r in A.read_framework_defaults()}
    x = tf.constant([-1.0], dtype=tf.float32)
    # What each API actually does at x = -1, against the default read from its signature.
    assert float(keras.layers.LeakyReLU()(x)[0]) == pytest.approx(
        -rows["keras.layers.LeakyReLU", "negative_slope"], rel=1e-7)
    assert float(keras.activations.leaky_relu(x)[0]) == pytest.approx(
        -rows["keras.activations.leaky_relu", "negative_slope"], rel=1e-7)
    assert float(keras.activations.get("leaky_relu")(x)[0]) == pytest.approx(
        -rows["keras.activations.leaky_relu", "negative_slope"], rel=1e-7)  # Dense("leaky_relu")
    xt = torch.tensor([-1.0])
    assert float(torch.nn.LeakyReLU()(xt)[0]) == pytest.approx(
        -rows["torch.nn.LeakyReLU", "negative_slope"], rel=1e-7)
    assert float(torch.nn.PReLU().weight.detach()[0]) == pytest.approx(rows["torch.nn.PReLU", "init"])
    prelu = keras.layers.PReLU()
    prelu.build((None, 3))
    assert np.all(prelu.get_weights()[0] == 0) and rows["keras.layers.PReLU", "alpha_initializer"] == "Zeros"
    assert float(torch.nn.ELU()(xt)[0]) == pytest.approx(
        -rows["torch.nn.ELU", "alpha"] * (1 - np.exp(-1)), rel=1e-6)
    assert float(keras.layers.ELU()(x)[0]) == pytest.approx(
        -rows["keras.layers.ELU", "alpha"] * (1 - np.exp(-1)), rel=1e-6)
    assert keras.layers.LeakyReLU().get_config()["negative_slope"] == rows[
        "keras.layers.LeakyReLU", "negative_slope"]
    # and the numbers the chapter states
    assert rows["keras.layers.LeakyReLU", "negative_slope"] == 0.3
    assert rows["keras.activations.leaky_relu", "negative_slope"] == 0.2
    assert rows["torch.nn.LeakyReLU", "negative_slope"] == 0.01
    assert rows["torch.nn.ELU", "alpha"] == rows["keras.layers.ELU", "alpha"] == 1.0
    assert rows["keras.activations.gelu", "approximate"] is False
    assert rows["keras.ops.gelu", "approximate"] is True
    assert rows["torch.nn.GELU", "approximate"] == "none"


# ------------------------------------------------------------------ derivatives, numerically

@pytest.mark.parametrize("name", NEW)
def test_derivative_matches_central_difference(name):
    """Away from the kinks: central difference error h^2/6 |f'''| + eps/h ~ 1e-11."""
    act = A.get_activation(name)
    x = np.linspace(-8, 8, 321)
    x = x[np.abs(x) > 1e-3]
    h = 1e-5
    numeric = (act.f(x + h) - act.f(x - h)) / (2 * h)
    np.testing.assert_allclose(act.f_prime(x), numeric, rtol=0, atol=1e-8)


def test_prelu_slope_gradient_matches_finite_differences(rng):
    x = rng.normal(size=(6, 3))
    upstream = rng.normal(size=x.shape)
    alpha = np.array([0.1, 0.5, -0.2])
    numeric = gradcheck.numerical_gradient(lambda: float(np.sum(upstream * A.prelu(x, alpha))),
                                           alpha)
    assert gradcheck.relative_error(A.prelu_alpha_grad(x, upstream, alpha.shape), numeric) < 1e-9
    shared = np.array([0.3])
    numeric = gradcheck.numerical_gradient(lambda: float(np.sum(upstream * A.prelu(x, shared))),
                                           shared)
    assert gradcheck.relative_error(A.prelu_alpha_grad(x, upstream, (1,)), numeric) < 1e-9
    assert np.shape(A.prelu_alpha_grad(x, upstream)) == ()


@pytest.mark.parametrize("name", NEW)
def test_mlp_backward_pass_with_each_activation(name, rng):
    """The hand-written MLP backprop through every new f' agrees with finite differences."""
    X = rng.normal(size=(8, 5))
    y = rng.integers(0, 3, size=8)
    net = numpy_mlp.MLP.create([5, 6, 6, 3], name, rng, weight_init=0.7)
    assert max(gradcheck.check_mlp_gradients(net, X, y)) < 1e-7


# ------------------------------------------------------------------ properties the chapter states

def test_shapes_of_the_family():
    x = np.linspace(-10, 10, 200_001)
    assert np.all(np.diff(A.elu(x)) > 0) and np.all(np.diff(A.softplus(x)) > 0)
    assert A.gelu_prime(x).min() < -0.1 and A.swish_prime(x).min() < -0.09  # not monotonic
    assert A.selu(np.array([-1e3]))[0] == pytest.approx(-A.SELU_SCALE * A.SELU_ALPHA, rel=1e-15)
    assert np.max(np.abs(A.gelu(x) - A.gelu_tanh(x))) < 1e-3  # the approximation is close
    np.testing.assert_allclose(A.swish(x), x * A.sigmoid(x), rtol=1e-15, atol=0)
    np.testing.assert_allclose(A.softplus(x), np.log1p(np.exp(x)), rtol=1e-14)


@pytest.mark.parametrize("name", NEW)
def test_no_overflow_or_nan_at_extreme_inputs(name):
    act = A.get_activation(name)
    for dtype in (np.float64, np.float32):
        big = np.finfo(dtype).max / 2
        x = np.array([-big, -1e3, -50.0, 0.0, 50.0, 1e3, big], dtype=dtype)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with np.errstate(over="raise", invalid="raise", divide="raise"):
                v, d = act.f(x), act.f_prime(x)
        assert np.isfinite(v).all() and np.isfinite(d).all(), (dtype, v, d)
        assert v.dtype == dtype and d.dtype == dtype


@pytest.mark.parametrize("name", NEW)
@pytest.mark.parametrize("which", ["f", "f_prime"])
def test_float32_kept_and_close_to_float64(name, which):
    fn = getattr(A.get_activation(name), which)
    x32 = np.linspace(-30, 30, 601).astype(np.float32)
    out = fn(x32)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, fn(x32.astype(np.float64)), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", NEW)
def test_integer_input_and_no_aliasing(name):
    act = A.get_activation(name)
    ints = np.arange(-3, 4)
    assert act.f(ints).dtype == np.float64
    np.testing.assert_array_equal(act.f(ints), act.f(ints.astype(float)))
    x = np.array([-1.0, 2.0])
    out = act.f(x)
    out[...] = 7.0
    np.testing.assert_array_equal(x, [-1.0, 2.0])


# ------------------------------------------------------------------ bad inputs

@pytest.mark.parametrize("name", NEW)
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nonfinite_input_raises(name, bad):
    for fn in (A.get_activation(name).f, A.get_activation(name).f_prime):
        with pytest.raises(ValueError, match="NaN"):
            fn(np.array([0.0, bad]))


@pytest.mark.parametrize("name", NEW)
def test_non_numeric_input_raises(name):
    with pytest.raises(TypeError, match="must be"):
        A.get_activation(name).f("1.0")


@pytest.mark.parametrize("fn", [A.leaky_relu, A.leaky_relu_prime])
def test_leaky_relu_slope_is_checked(fn):
    with pytest.raises(TypeError, match="negative_slope"):
        fn(np.ones(2), "0.1")
    with pytest.raises(TypeError, match="negative_slope"):
        fn(np.ones(2), None)
    with pytest.raises(ValueError, match="finite"):
        fn(np.ones(2), float("nan"))
    with pytest.raises(TypeError):
        fn(np.ones(2))  # no default on purpose


@pytest.mark.parametrize("fn", [A.elu, A.elu_prime])
@pytest.mark.parametrize("alpha", [0.0, -1.0, float("inf")])
def test_elu_alpha_must_be_positive(fn, alpha):
    with pytest.raises(ValueError, match="alpha"):
        fn(np.ones(2), alpha)


def test_prelu_alpha_shape_and_values_are_checked():
    with pytest.raises(ValueError, match="broadcast"):
        A.prelu(np.ones((4, 3)), np.ones(2))
    with pytest.raises(ValueError, match="NaN"):
        A.prelu(np.ones(3), np.array([np.nan]))
    with pytest.raises(ValueError, match="upstream"):
        A.prelu_alpha_grad(np.ones((4, 3)), np.ones((4, 2)), (3,))
    with pytest.raises(ValueError, match="alpha_shape"):
        A.prelu_alpha_grad(np.ones((4, 3)), np.ones((4, 3)), (2,))


# ------------------------------------------------------------------ numpy_mlp.saturated_fraction

@pytest.mark.parametrize("name", ["elu", "selu", "softplus"])
def test_saturated_fraction_from_outputs_equals_small_derivative(name, rng):
    act = A.get_activation(name)
    z = rng.normal(-3, 4, size=20_000)
    want = np.mean(act.f_prime(z) < 0.01)
    assert 0.05 < want < 0.95  # the test exercises both sides
    assert numpy_mlp.saturated_fraction(act, act.f(z)) == pytest.approx(want, abs=1e-4)


def test_saturated_fraction_of_the_rest_of_the_family(rng):
    z = rng.normal(-3, 4, size=1000)
    for name in ("leaky_relu", "prelu"):
        act = A.get_activation(name)
        assert numpy_mlp.saturated_fraction(act, act.f(z)) == 0.0
    for name in ("gelu", "gelu_tanh", "swish"):
        act = A.get_activation(name)
        assert np.isnan(numpy_mlp.saturated_fraction(act, act.f(z)))
    # the original cases are unchanged
    assert numpy_mlp.saturated_fraction(A.get_activation("relu"), np.array([0.0, 1.0])) == 0.5
    assert numpy_mlp.saturated_fraction(A.get_activation("identity"), z) == 0.0


# ------------------------------------------------------------------ self-checks for the exercises

def test_check_softplus_accepts_the_stable_form_and_rejects_plausible_mistakes(capsys):
    checks.check_softplus(lambda x: np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x))))
    assert "Correct" in capsys.readouterr().out
    with pytest.raises(AssertionError, match="non-finite"):
        checks.check_softplus(lambda x: np.log(1 + np.exp(x)))  # overflows at x = 1000
    with pytest.raises(AssertionError):
        checks.check_softplus(lambda x: np.maximum(x, 0))  # ReLU is not softplus
    with pytest.raises(AssertionError, match="expected"):  # ReLU for x > 0: wrong near 0
        checks.check_softplus(lambda x: np.where(x > 0, x, np.log1p(np.exp(np.minimum(x, 0)))))


def test_check_elu_prime(capsys):
    checks.check_elu_prime(lambda x: np.where(x > 0, 1.0, np.exp(np.minimum(x, 0))))
    assert "Correct" in capsys.readouterr().out
    with pytest.raises(AssertionError):
        checks.check_elu_prime(lambda x: np.where(x > 0, 1.0, np.expm1(np.minimum(x, 0))))
    with pytest.raises(AssertionError):
        checks.check_elu_prime(lambda x: np.where(x >= 0, 1.0, 0.0))


def test_check_dead_units(capsys):
    def right(z):
        return np.all(z <= 0, axis=0)

    checks.check_dead_units(right)
    assert "Correct" in capsys.readouterr().out
    for wrong in (lambda z: np.all(z < 0, axis=1),  # per example instead of per unit
                  lambda z: np.any(z <= 0, axis=0),  # negative for *some* example
                  lambda z: np.mean(z <= 0, axis=0),  # a fraction, not a mask
                  lambda z: np.all(z < 0, axis=0)):  # misses units stuck at exactly 0
        with pytest.raises(AssertionError):
            checks.check_dead_units(wrong)
    with pytest.raises(TypeError):
        checks.check_dead_units(np.zeros(3))
