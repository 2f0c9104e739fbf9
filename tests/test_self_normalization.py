"""utils.self_normalization: SELU's constants from the fixed point, the moment maps,
AlphaDropout against PyTorch and Keras, and the deep forward statistics."""

from __future__ import annotations

import numpy as np
import pytest

from utils import activations as A
from utils import checks, initializers
from utils import self_normalization as sn
from utils.nets import numpy_mlp

# The closed-form moments are sums of a few terms, each accurate to a few ulps; the 2x2
# root-finding problem is well conditioned (|det J| ~ 1), so the solved constants agree
# with the reference ones to a few ulps (measured: 3.6e-16 relative for alpha).
# 1e-13 leaves a factor of about 250.
CONSTANT_RTOL = 1e-13


def library_selu_constants_torch(torch):
    """(scale, alpha) read from PyTorch by evaluating selu: selu(1) = scale and
    selu(-inf) -> -scale * alpha (selu(-1000) is exactly that in float64)."""
    x = torch.tensor([1.0, -1000.0], dtype=torch.float64)
    y = torch.nn.functional.selu(x).numpy()
    return y[0], -y[1] / y[0]


def library_selu_constants_keras(keras, tf):
    y = keras.activations.selu(tf.constant([1.0, -1000.0], dtype=tf.float64)).numpy()
    return y[0], -y[1] / y[0]


# ------------------------------------------------------------------ the constants

def test_solver_reproduces_the_constants_in_pytorch(torch):
    scale, alpha = sn.solve_selu_constants()
    t_scale, t_alpha = library_selu_constants_torch(torch)
    assert scale == pytest.approx(t_scale, rel=CONSTANT_RTOL)
    assert alpha == pytest.approx(t_alpha, rel=CONSTANT_RTOL)


def test_solver_reproduces_the_constants_in_keras(keras, tf):
    scale, alpha = sn.solve_selu_constants()
    k_scale, k_alpha = library_selu_constants_keras(keras, tf)
    assert scale == pytest.approx(k_scale, rel=CONSTANT_RTOL)
    assert alpha == pytest.approx(k_alpha, rel=CONSTANT_RTOL)


def test_solver_reproduces_the_constants_used_by_utils_activations():
    scale, alpha = sn.solve_selu_constants()
    assert scale == pytest.approx(A.SELU_SCALE, rel=CONSTANT_RTOL)
    assert alpha == pytest.approx(A.SELU_ALPHA, rel=CONSTANT_RTOL)


@pytest.mark.parametrize("initial", [(1.0, 1.0), (0.5, 3.0), (2.0, 0.5)])
def test_solver_does_not_depend_on_the_start(initial):
    assert sn.solve_selu_constants(initial=initial) == pytest.approx(
        (A.SELU_SCALE, A.SELU_ALPHA), rel=CONSTANT_RTOL)


@pytest.mark.parametrize(("fixed_mean", "fixed_var"), [(0.0, 2.0), (0.0, 0.5), (0.1, 1.0)])
def test_solver_for_other_fixed_points(fixed_mean, fixed_var):
    """Whatever the target, the solution really is a fixed point (checked by quadrature,
    independently of the closed form the solver uses)."""
    from scipy.integrate import quad

    scale, alpha = sn.solve_selu_constants(fixed_mean, fixed_var)
    s = np.sqrt(fixed_var)

    def moment(k):
        def integrand(z):
            f = scale * (z if z > 0 else alpha * np.expm1(z))
            return f**k * np.exp(-0.5 * (z / s) ** 2) / (s * np.sqrt(2 * np.pi))

        return quad(integrand, -np.inf, 0, epsabs=1e-14)[0] + quad(
            integrand, 0, np.inf, epsabs=1e-14)[0]

    m1, m2 = moment(1), moment(2)
    assert m1 == pytest.approx(fixed_mean, abs=1e-10)
    assert m2 - m1**2 == pytest.approx(fixed_var, rel=1e-10)


def test_unreachable_fixed_point_raises():
    with pytest.raises(RuntimeError, match="no fixed point"):
        sn.solve_selu_constants(5.0, 0.01)  # a mean of 5 from N(0, 0.01) inputs


@pytest.mark.parametrize(("kwargs", "error"), [
    (dict(fixed_var=0.0), ValueError), (dict(fixed_var=-1.0), ValueError),
    (dict(fixed_mean="0"), TypeError), (dict(fixed_mean=float("nan")), ValueError),
    (dict(initial=(1.0, -1.0)), ValueError), (dict(initial=(1.0, 2.0, 3.0)), ValueError),
])
def test_solver_bad_inputs(kwargs, error):
    with pytest.raises(error):
        sn.solve_selu_constants(**kwargs)


# ------------------------------------------------------------------ the moment maps

@pytest.mark.parametrize("mean", [-4.0, -0.7, 0.0, 0.3, 2.5])
@pytest.mark.parametrize("var", [0.01, 0.5, 1.0, 3.0, 40.0])
def test_selu_moments_match_quadrature(mean, var):
    from scipy.integrate import quad

    s = np.sqrt(var)

    def moment(k):
        def integrand(z):
            return A.selu(np.array([z]))[0] ** k * np.exp(-0.5 * ((z - mean) / s) ** 2) / (
                s * np.sqrt(2 * np.pi))

        return sum(quad(integrand, lo, hi, epsabs=1e-13, epsrel=1e-13, limit=200)[0]
                   for lo, hi in [(-np.inf, 0), (0, np.inf)])

    m1, m2 = moment(1), moment(2)
    got_mean, got_var = sn.selu_moments(mean, var)
    assert got_mean == pytest.approx(m1, rel=1e-9, abs=1e-12)
    assert got_var == pytest.approx(m2 - m1**2, rel=1e-9, abs=1e-12)


def test_selu_moments_match_monte_carlo(rng):
    z = rng.normal(0.4, 1.7, size=2_000_000)
    y = A.selu(z)
    mean, var = sn.selu_moments(0.4, 1.7**2)
    se_mean = np.sqrt(var / z.size)
    assert abs(y.mean() - mean) < 5 * se_mean
    se_var = np.sqrt((np.mean((y - y.mean()) ** 4) - var**2) / z.size)
    assert abs(y.var() - var) < 5 * se_var


def test_selu_moments_are_finite_far_out():
    m, v = sn.selu_moments(np.array([-300.0, 300.0]), np.array([1e-4, 1e4]))
    assert np.isfinite(m).all() and np.isfinite(v).all()
    assert m[0] == pytest.approx(-A.SELU_SCALE * A.SELU_ALPHA, rel=1e-12)


def test_zero_one_is_a_fixed_point_with_contracting_jacobian():
    m, v = sn.selu_layer_map(0.0, 1.0)
    assert abs(m) < 1e-15 and v == pytest.approx(1.0, abs=1e-15)
    h = 1e-6

    def g(mu, nu):
        return np.array(sn.selu_layer_map(mu, nu))

    jac = np.column_stack([(g(h, 1) - g(-h, 1)) / (2 * h), (g(0, 1 + h) - g(0, 1 - h)) / (2 * h)])
    norm = np.linalg.norm(jac, 2)
    assert norm == pytest.approx(0.7877, abs=5e-5)  # Klambauer et al. (2017), section 3


def test_layer_map_converges_to_zero_one_from_many_starts():
    mu, nu = np.meshgrid(np.linspace(-1, 1, 9), np.linspace(0.1, 3, 9))
    for _ in range(100):  # the Jacobian's norm is about 0.79: 0.79**100 ~ 1e-10
        mu, nu = sn.selu_layer_map(mu, nu, omega=0.05, tau=1.0)
    m_star, v_star = mu.mean(), nu.mean()
    np.testing.assert_allclose(mu, m_star, atol=1e-10)
    np.testing.assert_allclose(nu, v_star, atol=1e-10)
    assert abs(m_star) < 0.02 and abs(v_star - 1) < 0.02  # omega = 0.05 moves it only a little


def test_random_weight_map_is_the_pooled_statistic(rng):
    """Pooled over many units with LeCun-normal weights, one layer's output moments
    match random_weight_layer_map, including the input mean acting as variance."""
    n_in, n_out = 500, 4000
    x = rng.normal(0.8, 1.3, size=(400, n_in))
    w = initializers.lecun_normal(n_in, n_out, rng)
    y = A.selu(x @ w)
    mean, var = sn.random_weight_layer_map(0.8, 1.3**2)
    assert y.mean() == pytest.approx(mean, abs=0.03)
    assert y.var() == pytest.approx(var, rel=0.05)
    naive_mean, naive_var = sn.selu_layer_map(0.8, 1.3**2)  # omega = 0 ignores the mean
    assert abs(y.var() - naive_var) > 10 * abs(y.var() - var)


@pytest.mark.parametrize(("kwargs", "error"), [
    (dict(mean=0.0, var=0.0), ValueError), (dict(mean=0.0, var=-1.0), ValueError),
    (dict(mean="a", var=1.0), TypeError), (dict(mean=0.0, var=np.nan), ValueError),
])
def test_moments_bad_inputs(kwargs, error):
    with pytest.raises(error):
        sn.selu_moments(**kwargs)


def test_layer_map_bad_parameters():
    with pytest.raises(ValueError, match="tau"):
        sn.selu_layer_map(0.0, 1.0, tau=0.0)
    with pytest.raises(TypeError, match="omega"):
        sn.selu_layer_map(0.0, 1.0, omega="0")
    with pytest.raises(ValueError, match="scale"):
        sn.selu_moments(0.0, 1.0, scale=-1.0)
    with pytest.raises(ValueError, match="gain"):
        sn.random_weight_layer_map(0.0, 1.0, gain=0.0)


# ------------------------------------------------------------------ AlphaDropout

RATES = [0.05, 0.2, 0.5]


def selu_normalized(rng, n):
    """SELU outputs of standard-normal inputs: mean 0 and variance 1 (to sampling error)."""
    return A.selu(rng.standard_normal(n))


@pytest.mark.parametrize("rate", RATES)
def test_params_restore_zero_mean_unit_variance_exactly(rate):
    m, v = sn.alpha_dropout_moments(0.0, 1.0, rate)
    assert abs(m) < 1e-15 and v == pytest.approx(1.0, rel=1e-14)
    a, b, alpha_p = sn.alpha_dropout_params(rate)
    assert alpha_p == pytest.approx(-A.SELU_SCALE * A.SELU_ALPHA, rel=1e-15)
    assert a < 1 / np.sqrt(1 - rate)  # smaller than ordinary dropout's correction


@pytest.mark.parametrize("rate", RATES)
def test_numpy_alpha_dropout_keeps_mean_and_variance(rate):
    rng = np.random.default_rng(1)
    x = selu_normalized(rng, 2_000_000)
    out = sn.alpha_dropout(x, rate, rng)
    want_m, want_v = sn.alpha_dropout_moments(x.mean(), x.var(), rate)
    se_mean = np.sqrt(want_v / x.size)
    se_var = np.sqrt((np.mean((out - out.mean()) ** 4) - out.var() ** 2) / x.size)
    assert abs(out.mean() - want_m) < 5 * se_mean
    assert abs(out.var() - want_v) < 5 * se_var
    a, b, alpha_p = sn.alpha_dropout_params(rate)
    dropped = np.isclose(out, a * alpha_p + b, rtol=0, atol=1e-12)
    assert abs(dropped.mean() - rate) < 5 * np.sqrt(rate * (1 - rate) / x.size)


def recover_mask(out, rate):
    a, b, alpha_p = sn.alpha_dropout_params(rate)
    return ~np.isclose(out, a * alpha_p + b, rtol=0, atol=1e-12)


@pytest.mark.parametrize("rate", RATES)
def test_matches_pytorch_alpha_dropout_given_its_mask(torch, rate):
    rng = np.random.default_rng(2)
    x = selu_normalized(rng, 200_000)
    torch.manual_seed(0)
    out = torch.nn.functional.alpha_dropout(torch.from_numpy(x), p=rate, training=True).numpy()
    keep = recover_mask(out, rate)
    # same mask, same values: the frameworks differ only in the order of float operations
    np.testing.assert_allclose(sn.apply_alpha_dropout_mask(x, keep, rate), out,
                               rtol=1e-14, atol=1e-15)
    assert abs((~keep).mean() - rate) < 5 * np.sqrt(rate * (1 - rate) / x.size)  # p = drop
    module = torch.nn.AlphaDropout(rate).eval()
    np.testing.assert_array_equal(module(torch.from_numpy(x)).numpy(), x)  # identity in eval


@pytest.mark.parametrize("rate", RATES)
def test_matches_keras_alpha_dropout_given_its_mask(keras, rate):
    rng = np.random.default_rng(3)
    x = selu_normalized(rng, 200_000).reshape(400, 500)
    layer = keras.layers.AlphaDropout(rate, seed=0, dtype="float64")
    out = keras.ops.convert_to_numpy(layer(x, training=True))
    keep = recover_mask(out, rate)
    np.testing.assert_allclose(sn.apply_alpha_dropout_mask(x, keep, rate), out,
                               rtol=1e-14, atol=1e-15)
    assert abs((~keep).mean() - rate) < 5 * np.sqrt(rate * (1 - rate) / x.size)  # rate = drop
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(x, training=False)), x)


@pytest.mark.parametrize("rate", [0.2])
def test_all_three_keep_the_moments_of_selu_normalized_inputs(torch, keras, rate):
    rng = np.random.default_rng(4)
    x = selu_normalized(rng, 1_000_000)
    torch.manual_seed(1)
    outs = {
        "numpy": sn.alpha_dropout(x, rate, rng),
        "torch": torch.nn.functional.alpha_dropout(torch.from_numpy(x), p=rate,
                                                   training=True).numpy(),
        "keras": keras.ops.convert_to_numpy(keras.layers.AlphaDropout(
            rate, seed=1, dtype="float64")(x.reshape(1000, 1000), training=True)).ravel(),
    }
    se = np.sqrt(1 / x.size)
    for name, out in outs.items():
        assert abs(out.mean() - x.mean()) < 6 * se, name
        assert abs(out.var() - x.var()) < 0.01, name


def test_ordinary_dropout_does_not_keep_the_variance(rng):
    """The contrast: inverted dropout keeps the mean but inflates the variance."""
    x = selu_normalized(rng, 1_000_000)
    out = sn._inverted_dropout(x, 0.2, rng)
    assert abs(out.mean() - x.mean()) < 0.01
    assert out.var() == pytest.approx((x.var() + x.mean() ** 2) / 0.8 - x.mean() ** 2, rel=0.01)
    assert out.var() > 1.2


def test_alpha_dropout_inference_and_rate_zero_are_identity(rng):
    x = rng.normal(size=(5, 4))
    for out in (sn.alpha_dropout(x, 0.3, rng, training=False), sn.alpha_dropout(x, 0.0, rng)):
        np.testing.assert_array_equal(out, x)
        assert out is not x


def test_alpha_dropout_is_reproducible_and_keeps_float32():
    x = np.linspace(-2, 2, 1000).astype(np.float32)
    a = sn.alpha_dropout(x, 0.1, np.random.default_rng(5))
    b = sn.alpha_dropout(x, 0.1, np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float32


@pytest.mark.parametrize(("args", "error"), [
    ((1.0,), ValueError), ((-0.1,), ValueError), (("0.2",), TypeError), ((np.nan,), ValueError),
])
def test_alpha_dropout_bad_rate(args, error, rng):
    with pytest.raises(error, match="rate"):
        sn.alpha_dropout(np.ones(3), *args, rng)
    with pytest.raises(error, match="rate"):
        sn.alpha_dropout_params(*args)


def test_alpha_dropout_other_bad_inputs(rng):
    with pytest.raises(TypeError, match="Generator"):
        sn.alpha_dropout(np.ones(3), 0.1, 0)
    with pytest.raises(TypeError, match="training"):
        sn.alpha_dropout(np.ones(3), 0.1, rng, training="yes")
    with pytest.raises(ValueError, match="NaN"):
        sn.alpha_dropout(np.array([1.0, np.nan]), 0.1, rng)
    with pytest.raises(TypeError, match="boolean"):
        sn.apply_alpha_dropout_mask(np.ones(3), np.ones(3), 0.1)
    with pytest.raises(ValueError, match="shape"):
        sn.apply_alpha_dropout_mask(np.ones(3), np.ones(2, bool), 0.1)


# ------------------------------------------------------------------ deep forward statistics

def standardized(rng, n=500, d=64):
    return rng.standard_normal((n, d))


def test_forward_statistics_equals_the_mlp_forward_pass():
    """Same generator, same draws: the loop reproduces utils.nets.numpy_mlp.MLP's hidden activations."""
    X = standardized(np.random.default_rng(0), 50, 16)
    stats = sn.forward_statistics(X, 5, np.random.default_rng(9), width=32)
    net = numpy_mlp.MLP.create([16] + [32] * 5 + [3], "selu", np.random.default_rng(9),
                         initializers.lecun_normal)
    _, cache = net.forward(X)
    hidden = [cache[i][0] for i in range(1, 6)]
    np.testing.assert_allclose(stats.mean, [h.mean() for h in hidden], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(stats.std, [h.std() for h in hidden], rtol=1e-12)


def test_selu_lecun_stays_normalized_for_100_layers(rng):
    stats = sn.forward_statistics(standardized(rng), 100, rng)
    assert np.abs(stats.mean).max() < 0.1
    assert np.abs(stats.std - 1).max() < 0.1


def test_he_init_makes_selu_drift_upwards(rng):
    stats = sn.forward_statistics(standardized(rng), 30, rng, weight_init=initializers.he_normal)
    assert stats.std[-1] > 10 * stats.std[0]


@pytest.mark.parametrize(("option", "kwargs"), [
    ("alpha dropout", dict(dropout="alpha", rate=0.1)),
    ("batch norm", dict(batch_norm=True)),
])
def test_conditions_that_keep_the_statistics(rng, option, kwargs):
    stats = sn.forward_statistics(standardized(rng), 40, rng, **kwargs)
    assert np.abs(stats.std[-10:] - 1).max() < 0.1, option


def test_conditions_that_break_the_statistics(rng):
    dropout = sn.forward_statistics(standardized(rng), 40, rng, dropout="standard", rate=0.1)
    skip = sn.forward_statistics(standardized(rng), 40, rng, skip=True)
    assert dropout.std[-10:].min() > 1.1
    assert skip.std[-1] > 4


@pytest.mark.parametrize(("kwargs", "error"), [
    (dict(dropout="gaussian", rate=0.1), ValueError), (dict(dropout="alpha"), ValueError),
    (dict(rate=1.0), ValueError), (dict(width=0), ValueError), (dict(weight_init=0.1), TypeError),
    (dict(activation="nope"), ValueError), (dict(eps=-1.0), ValueError),
])
def test_forward_statistics_bad_inputs(rng, kwargs, error):
    with pytest.raises(error):
        sn.forward_statistics(standardized(rng, 10, 4), 3, rng, **kwargs)


def test_forward_statistics_reports_overflow(rng):
    with pytest.raises(FloatingPointError, match="layer"):
        sn.forward_statistics(standardized(rng, 10, 4), 200, rng, activation="identity",
                              weight_init=lambda i, o, r: r.normal(0, 10 / np.sqrt(i), (i, o)))


# ------------------------------------------------------------------ self-checks

def test_check_selu(capsys):
    lam, alpha = A.SELU_SCALE, A.SELU_ALPHA
    checks.check_selu(lambda x: lam * np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))))
    assert "Correct" in capsys.readouterr().out
    with pytest.raises(AssertionError):  # constants rounded as in many blog posts
        checks.check_selu(lambda x: 1.0507 * np.where(x > 0, x, 1.6733 * np.expm1(
            np.minimum(x, 0))))
    with pytest.raises(AssertionError):  # scale applied to the positive side only
        checks.check_selu(lambda x: np.where(x > 0, lam * x, alpha * np.expm1(np.minimum(x, 0))))


def test_check_selu_prime(capsys):
    lam, alpha = A.SELU_SCALE, A.SELU_ALPHA
    checks.check_selu_prime(lambda x: lam * np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0))))
    assert "Correct" in capsys.readouterr().out
    with pytest.raises(AssertionError):  # forgot the scale on the negative side
        checks.check_selu_prime(lambda x: np.where(x > 0, lam, alpha * np.exp(np.minimum(x, 0))))


def test_check_alpha_dropout_params(capsys):
    lam_alpha = A.SELU_SCALE * A.SELU_ALPHA

    def right(rate):
        a = ((1 - rate) * (1 + rate * lam_alpha**2)) ** -0.5
        return a, a * lam_alpha * rate

    checks.check_alpha_dropout_params(right)
    assert "Correct" in capsys.readouterr().out
    with pytest.raises(AssertionError, match="ordinary dropout"):
        checks.check_alpha_dropout_params(lambda r: (1 / (1 - r), 0.0))
    with pytest.raises(AssertionError, match="sign"):
        checks.check_alpha_dropout_params(lambda r: (right(r)[0], -right(r)[1]))
    with pytest.raises(AssertionError, match="tuple"):
        checks.check_alpha_dropout_params(lambda r: right(r)[0])
