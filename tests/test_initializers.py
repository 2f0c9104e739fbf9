"""utils.initializers against the formulas, against keras.initializers and torch.nn.init.

Statistical tolerances. For n independent weights with mean 0 and variance s^2, the
estimate v = mean(w^2) has standard error s^2 sqrt((kurtosis - 1) / n): kurtosis 3 for a
normal, 9/5 for a uniform and 2.366 for a normal truncated at two standard deviations.
Every variance below is compared within Z = 5 standard errors (a correct sampler fails
such a check with probability 6e-7), and the sample sizes are chosen so that 5 standard
errors stay below 5 %: a wrong fan (fan_avg for fan_in, fan_out for fan_in) or a missing
factor of 2 or 3 is a 40 % or larger error with the non-square shapes used, so it fails.

Uniform limits: the largest |w| of n draws from U(-a, a) is below a (1 - eps) with
probability (1 - eps)^n, so ``max |w| > a (1 - 20/n)`` fails with probability e^-20.

Layouts: Keras kernels are (fan_in, fan_out), PyTorch weights are (fan_out, fan_in); the
NumPy functions return (fan_in, fan_out) like Keras.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
from scipy import stats

from utils import initializers as init
from utils.nets.numpy_mlp import MLP

Z = 5.0
KURTOSIS = {"normal": 3.0, "uniform": 1.8,
            "truncated_normal": 3.0 + float(stats.truncnorm(-2, 2).stats(moments="k"))}
# (fan_in, fan_out): non-square both ways, so that fan_in, fan_out and fan_avg differ
SHAPES = [(600, 150), (150, 600), (300, 300)]
# name -> (scale, mode, distribution): the textbook definitions, written out independently
DEFINITIONS = {
    "glorot_normal": (1.0, "fan_avg", "normal"),
    "glorot_uniform": (1.0, "fan_avg", "uniform"),
    "glorot_truncated_normal": (1.0, "fan_avg", "truncated_normal"),
    "he_normal": (2.0, "fan_in", "normal"),
    "he_uniform": (2.0, "fan_in", "uniform"),
    "he_truncated_normal": (2.0, "fan_in", "truncated_normal"),
    "lecun_normal": (1.0, "fan_in", "normal"),
    "lecun_uniform": (1.0, "fan_in", "uniform"),
    "lecun_truncated_normal": (1.0, "fan_in", "truncated_normal"),
    "torch_linear_default": (1.0 / 3.0, "fan_in", "uniform"),
}
TRUNCATION = 2.0 / 0.87962566103423978  # Keras' cut-off, in units of the final std


def formula_variance(scale, mode, fan_in, fan_out):
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    return scale / n


def assert_variance(w, want, distribution, what=""):
    """mean(w^2) within Z standard errors of ``want`` (weights have mean 0)."""
    w = np.asarray(w, dtype=np.float64).ravel()
    se = want * math.sqrt((KURTOSIS[distribution] - 1.0) / w.size)
    assert Z * se < 0.05 * want, "sample too small for a meaningful check"
    got = float(np.mean(w**2))
    assert abs(got - want) <= Z * se, (
        f"{what}: variance {got:.5g}, expected {want:.5g} (tolerance {Z * se:.2g})")
    assert abs(w.mean()) <= Z * math.sqrt(want / w.size), f"{what}: mean {w.mean():.3g}"


def assert_uniform_limit(w, limit, what=""):
    w = np.abs(np.asarray(w, dtype=np.float64))
    assert w.max() <= limit * (1 + 1e-6), f"{what}: max |w| {w.max():.6g} > limit {limit:.6g}"
    assert w.max() > limit * (1 - 20 / w.size), f"{what}: max |w| {w.max():.6g} << {limit:.6g}"


# --- the NumPy initializers against the formulas ------------------------------------------


@pytest.mark.parametrize("fan_in, fan_out", SHAPES)
@pytest.mark.parametrize("name", sorted(DEFINITIONS))
def test_variance_and_limits_match_the_formula(name, fan_in, fan_out):
    scale, mode, distribution = DEFINITIONS[name]
    fn = init.get_initializer(name)
    w = fn(fan_in, fan_out, np.random.default_rng(sorted(DEFINITIONS).index(name) * 10 + fan_in))
    assert w.shape == (fan_in, fan_out) and w.dtype == np.float64
    want = formula_variance(scale, mode, fan_in, fan_out)
    assert_variance(w, want, distribution, name)
    if distribution == "uniform":
        assert_uniform_limit(w, math.sqrt(3 * want), name)
    elif distribution == "truncated_normal":
        assert np.abs(w).max() <= TRUNCATION * math.sqrt(want)
        # ... and it really is cut: no value beyond, but some close to, the cut-off
        assert np.abs(w).max() > 0.98 * TRUNCATION * math.sqrt(want)
    else:  # untruncated: with 90,000 draws some are beyond 3 std (P(none) ~ e^-243)
        assert np.abs(w).max() > 3.0 * math.sqrt(want)


def test_the_uniform_limits_of_the_source_notes():
    """He U(±sqrt(6/fan_in)), Glorot U(±sqrt(6/(fan_in+fan_out))), LeCun U(±sqrt(3/fan_in))."""
    rng = np.random.default_rng(1)
    fan_in, fan_out = 500, 200
    assert_uniform_limit(init.he_uniform(fan_in, fan_out, rng), math.sqrt(6 / fan_in))
    assert_uniform_limit(init.glorot_uniform(fan_in, fan_out, rng),
                         math.sqrt(6 / (fan_in + fan_out)))
    w = init.lecun_uniform(fan_in, fan_out, rng)
    assert_uniform_limit(w, math.sqrt(3 / fan_in))
    # the limit written in one source note, 3 / fan_in, is a different (100x smaller) one
    assert np.abs(w).max() > 10 * (3 / fan_in)


def test_truncated_std_constant_is_the_std_of_a_normal_cut_at_two_sigma():
    assert math.isclose(init.TRUNCATED_STD, float(stats.truncnorm(-2, 2).std()), rel_tol=1e-12)
    assert math.isclose(init.TRUNCATED_STD ** 2, init.truncated_normal_variance(1.0, -2.0, 2.0),
                        rel_tol=1e-12)


@pytest.mark.parametrize("std, a, b, mean", [
    (1.0, -2.0, 2.0, 0.0), (0.5, -2.0, 2.0, 0.0), (0.02, -2.0, 2.0, 0.0),
    (1.0, -0.5, 3.0, 0.0), (2.0, -1.0, 1.0, 0.3), (1.0, 1.0, 4.0, 0.0),
])
def test_truncated_normal_variance_against_scipy(std, a, b, mean):
    ref = stats.truncnorm((a - mean) / std, (b - mean) / std, loc=mean, scale=std)
    assert math.isclose(init.truncated_normal_variance(std, a, b, mean), float(ref.var()),
                        rel_tol=1e-9)


@pytest.mark.parametrize("std, a, b, mean", [
    (1.0, -2.0, 2.0, 0.0), (0.3, -0.5, 0.5, 0.0), (1.0, -0.5, 3.0, 0.2), (1.0, 1.0, 4.0, 0.0),
])
def test_trunc_normal_samples_the_truncated_distribution(std, a, b, mean):
    w = init.trunc_normal(400, 250, np.random.default_rng(2), mean=mean, std=std, a=a, b=b)
    assert w.shape == (400, 250)
    assert w.min() >= a and w.max() <= b
    ref = stats.truncnorm((a - mean) / std, (b - mean) / std, loc=mean, scale=std)
    # Kolmogorov-Smirnov against the exact CDF: p < 1e-6 would be a real mismatch
    assert stats.kstest(w.ravel(), ref.cdf).pvalue > 1e-6
    n, var = w.size, float(ref.var())
    assert abs(w.mean() - float(ref.mean())) <= Z * math.sqrt(var / n)


def test_trunc_normal_cutoffs_are_absolute_and_nothing_is_rescaled():
    rng = np.random.default_rng(3)
    small = init.trunc_normal(500, 400, rng, std=0.02)  # cut at ±2 = ±100 std: no effect
    assert_variance(small, 0.02**2, "normal", "std=0.02")
    assert np.abs(small).max() < 0.2
    unit = init.trunc_normal(500, 400, rng, std=1.0)  # cut at ±2 std: variance 0.774
    assert_variance(unit, init.truncated_normal_variance(1.0, -2.0, 2.0), "truncated_normal")
    assert float(np.var(unit)) < 0.8


def test_variance_scaling_modes_and_scale():
    rng = np.random.default_rng(4)
    for mode in init.MODES:
        for distribution in init.DISTRIBUTIONS:
            w = init.variance_scaling(600, 150, rng, scale=3.0, mode=mode,
                                      distribution=distribution)
            assert_variance(w, formula_variance(3.0, mode, 600, 150), distribution,
                            f"{mode}/{distribution}")


def test_fan_for_mode():
    assert init.fan_for_mode(100, 300, "fan_in") == 100
    assert init.fan_for_mode(100, 300, "fan_out") == 300
    assert init.fan_for_mode(100, 300, "fan_avg") == 200


@pytest.mark.parametrize("name", sorted(init.INITIALIZERS))
def test_reproducible_from_rng_and_usable_as_mlp_weight_init(name):
    fn = init.get_initializer(name)
    a = fn(30, 20, np.random.default_rng(5))
    b = fn(30, 20, np.random.default_rng(5))
    c = fn(30, 20, np.random.default_rng(6))
    assert np.array_equal(a, b)
    if name == "identity":  # the one deterministic initializer
        assert np.array_equal(a, c)
    else:
        assert not np.array_equal(a, c)
    net = MLP.create([8, 30, 20, 3], "relu", np.random.default_rng(0), weight_init=fn)
    assert [w.shape for w in net.weights] == [(8, 30), (30, 20), (20, 3)]


def test_get_initializer_is_case_insensitive():
    assert init.get_initializer("He_Normal") is init.he_normal


# --- PyTorch's definitions, mirrored -----------------------------------------------------


@pytest.mark.parametrize("nonlinearity, param", [
    ("linear", None), ("identity", None), ("sigmoid", None), ("tanh", None), ("relu", None),
    ("selu", None), ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5)),
    ("leaky_relu", 0),
])
def test_calculate_gain_matches_torch(torch, nonlinearity, param):
    if nonlinearity == "identity":
        want = 1.0  # torch has no "identity" name; ours is an alias of "linear"
    else:
        want = torch.nn.init.calculate_gain(nonlinearity, param)
    assert math.isclose(init.calculate_gain(nonlinearity, param), want, rel_tol=1e-12)


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("nonlinearity, a", [("relu", 0.0), ("leaky_relu", 0.2),
                                             ("linear", 0.0), ("selu", 0.0),
                                             ("leaky_relu", math.sqrt(5))])
def test_kaiming_matches_torch(torch, mode, nonlinearity, a):
    fan_in, fan_out = 600, 150
    n = fan_in if mode == "fan_in" else fan_out
    gain = torch.nn.init.calculate_gain(nonlinearity, a)
    want = gain**2 / n
    torch.manual_seed(0)
    t_normal = torch.nn.init.kaiming_normal_(torch.empty(fan_out, fan_in, dtype=torch.float64),
                                             a=a, mode=mode, nonlinearity=nonlinearity)
    t_uniform = torch.nn.init.kaiming_uniform_(torch.empty(fan_out, fan_in, dtype=torch.float64),
                                               a=a, mode=mode, nonlinearity=nonlinearity)
    rng = np.random.default_rng(7)
    ours_normal = init.kaiming_normal(fan_in, fan_out, rng, a=a, mode=mode,
                                      nonlinearity=nonlinearity)
    ours_uniform = init.kaiming_uniform(fan_in, fan_out, rng, a=a, mode=mode,
                                        nonlinearity=nonlinearity)
    for w, dist, what in [(t_normal.numpy(), "normal", "torch normal"),
                          (ours_normal, "normal", "numpy normal"),
                          (t_uniform.numpy(), "uniform", "torch uniform"),
                          (ours_uniform, "uniform", "numpy uniform")]:
        assert_variance(w, want, dist, what)
    bound = gain * math.sqrt(3 / n)
    assert_uniform_limit(t_uniform.numpy(), bound, "torch")
    assert_uniform_limit(ours_uniform, bound, "numpy")
    # same distribution: two-sample Kolmogorov-Smirnov
    assert stats.ks_2samp(t_normal.numpy().ravel(), ours_normal.ravel()).pvalue > 1e-6


@pytest.mark.parametrize("gain", [1.0, 5.0 / 3.0])
def test_xavier_matches_torch(torch, gain):
    fan_in, fan_out = 600, 150
    want = gain**2 * 2 / (fan_in + fan_out)
    torch.manual_seed(1)
    t_n = torch.nn.init.xavier_normal_(torch.empty(fan_out, fan_in, dtype=torch.float64), gain)
    t_u = torch.nn.init.xavier_uniform_(torch.empty(fan_out, fan_in, dtype=torch.float64), gain)
    rng = np.random.default_rng(8)
    ours_n = init.xavier_normal(fan_in, fan_out, rng, gain=gain)
    ours_u = init.xavier_uniform(fan_in, fan_out, rng, gain=gain)
    assert_variance(t_n.numpy(), want, "normal", "torch")
    assert_variance(ours_n, want, "normal", "numpy")
    assert_variance(t_u.numpy(), want, "uniform", "torch")
    assert_variance(ours_u, want, "uniform", "numpy")
    assert_uniform_limit(ours_u, math.sqrt(3 * want))
    assert_uniform_limit(t_u.numpy(), math.sqrt(3 * want))
    assert stats.ks_2samp(t_n.numpy().ravel(), ours_n.ravel()).pvalue > 1e-6


def test_nn_linear_default_is_kaiming_uniform_with_a_sqrt5(torch):
    """U(±1/sqrt(fan_in)), variance 1/(3 fan_in): a sixth of He's. Bias U(±1/sqrt(fan_in))."""
    fan_in, fan_out = 600, 300
    torch.manual_seed(2)
    layer = torch.nn.Linear(fan_in, fan_out)
    assert tuple(layer.weight.shape) == (fan_out, fan_in)  # PyTorch layout
    w = layer.weight.detach().double().numpy()
    assert_variance(w, 1 / (3 * fan_in), "uniform", "nn.Linear")
    assert_uniform_limit(w, 1 / math.sqrt(fan_in), "nn.Linear")
    ours = init.torch_linear_default(fan_in, fan_out, np.random.default_rng(9))
    assert_variance(ours, 1 / (3 * fan_in), "uniform", "numpy")
    assert_uniform_limit(ours, 1 / math.sqrt(fan_in), "numpy")
    b = layer.bias.detach().double().numpy()
    assert np.abs(b).max() <= 1 / math.sqrt(fan_in) and np.abs(b).max() > 0.9 / math.sqrt(fan_in)
    # variance ratio to He: 1/6
    assert math.isclose((1 / (3 * fan_in)) / (2 / fan_in), 1 / 6)


def test_torch_trunc_normal_cutoffs_are_absolute(torch):
    torch.manual_seed(3)
    small = torch.nn.init.trunc_normal_(torch.empty(400, 500, dtype=torch.float64), std=0.02)
    assert_variance(small.numpy(), 0.02**2, "normal", "torch std=0.02")  # nothing is cut
    unit = torch.nn.init.trunc_normal_(torch.empty(400, 500, dtype=torch.float64), std=1.0)
    assert_variance(unit.numpy(), init.truncated_normal_variance(1.0, -2.0, 2.0),
                    "truncated_normal", "torch std=1")
    ours = init.trunc_normal(500, 400, np.random.default_rng(10), std=1.0)
    assert stats.ks_2samp(unit.numpy().ravel(), ours.ravel()).pvalue > 1e-6
    # the PyTorch spelling of Keras' he_normal: rescale the std and cut at ±2 of it
    fan_in = 500
    std = math.sqrt(2 / fan_in) / init.TRUNCATED_STD
    keras_like = torch.nn.init.trunc_normal_(torch.empty(400, fan_in, dtype=torch.float64),
                                             std=std, a=-2 * std, b=2 * std)
    assert_variance(keras_like.numpy(), 2 / fan_in, "truncated_normal", "rescaled")


def test_torch_fans_come_from_the_weight_layout(torch):
    """kaiming_* reads fan_in from dimension 1: a tensor in Keras' (fan_in, fan_out)
    layout silently gets the other fan."""
    fan_in, fan_out = 4000, 25
    torch.manual_seed(4)
    right = torch.nn.init.kaiming_normal_(torch.empty(fan_out, fan_in, dtype=torch.float64),
                                          nonlinearity="relu")
    wrong = torch.nn.init.kaiming_normal_(torch.empty(fan_in, fan_out, dtype=torch.float64),
                                          nonlinearity="relu")
    assert_variance(right.numpy(), 2 / fan_in, "normal", "(out, in)")
    assert_variance(wrong.numpy(), 2 / fan_out, "normal", "(in, out)")


# --- Keras -------------------------------------------------------------------------------


KERAS_NAMES = {  # Keras string -> our NumPy function with the same distribution
    "glorot_uniform": "glorot_uniform",
    "glorot_normal": "glorot_truncated_normal",
    "he_uniform": "he_uniform",
    "he_normal": "he_truncated_normal",
    "lecun_uniform": "lecun_uniform",
    "lecun_normal": "lecun_truncated_normal",
}


def keras_sample(keras, initializer, shape, seed=0):
    if isinstance(initializer, str):
        initializer = keras.initializers.get({"class_name": initializer,
                                              "config": {"seed": seed}})
    return keras.ops.convert_to_numpy(initializer(shape=shape, dtype="float64"))


@pytest.mark.parametrize("fan_in, fan_out", SHAPES[:2])
@pytest.mark.parametrize("keras_name", sorted(KERAS_NAMES))
def test_keras_initializers_match_numpy(keras, keras_name, fan_in, fan_out):
    ours_name = KERAS_NAMES[keras_name]
    scale, mode, distribution = DEFINITIONS[ours_name]
    want = formula_variance(scale, mode, fan_in, fan_out)
    kw = keras_sample(keras, keras_name, (fan_in, fan_out))  # Keras layout (fan_in, fan_out)
    ours = init.get_initializer(ours_name)(fan_in, fan_out, np.random.default_rng(11))
    assert_variance(kw, want, distribution, f"keras {keras_name}")
    assert_variance(ours, want, distribution, ours_name)
    if distribution == "uniform":
        assert_uniform_limit(kw, math.sqrt(3 * want), keras_name)
    assert stats.ks_2samp(kw.ravel(), ours.ravel()).pvalue > 1e-6


@pytest.mark.parametrize("keras_name, torch_fn, kwargs", [
    ("glorot_normal", "xavier_normal_", {}),
    ("he_normal", "kaiming_normal_", {"nonlinearity": "relu"}),
    ("lecun_normal", "kaiming_normal_", {"nonlinearity": "linear"}),
])
def test_keras_normals_are_truncated_and_torch_normals_are_not(keras, torch, keras_name,
                                                               torch_fn, kwargs):
    """Same variance, different distributions: Keras cuts at 2.27 std, PyTorch does not."""
    fan_in, fan_out = 600, 150
    scale, mode, _ = DEFINITIONS[keras_name]
    want = formula_variance(scale, mode, fan_in, fan_out)
    kw = keras_sample(keras, keras_name, (fan_in, fan_out))
    torch.manual_seed(5)
    tw = getattr(torch.nn.init, torch_fn)(torch.empty(fan_out, fan_in, dtype=torch.float64),
                                          **kwargs).numpy()
    assert_variance(kw, want, "truncated_normal", "keras")
    assert_variance(tw, want, "normal", "torch")
    std = math.sqrt(want)
    assert np.abs(kw).max() <= TRUNCATION * std
    assert np.mean(np.abs(tw) > TRUNCATION * std) > 0.01  # 2.3 % of a normal is beyond
    assert np.abs(tw).max() > 3.5 * std
    # and the two samples are distinguishable as distributions
    assert stats.ks_2samp(kw.ravel(), tw.ravel()).pvalue < 1e-6
    # ... while the untruncated ones agree with our untruncated functions
    ours = init.get_initializer(keras_name)(fan_in, fan_out, np.random.default_rng(12))
    assert stats.ks_2samp(tw.ravel(), ours.ravel()).pvalue > 1e-6


def test_keras_variance_scaling_normal_means_truncated(keras):
    fan_in, fan_out = 600, 150
    vs = keras.initializers.VarianceScaling(scale=1.0, mode="fan_in", distribution="normal",
                                            seed=0)
    w = keras_sample(keras, vs, (fan_in, fan_out))
    assert_variance(w, 1 / fan_in, "truncated_normal")
    assert np.abs(w).max() <= TRUNCATION / math.sqrt(fan_in)
    plain = keras.initializers.VarianceScaling(scale=1.0, mode="fan_in",
                                               distribution="untruncated_normal", seed=0)
    assert np.abs(keras_sample(keras, plain, (fan_in, fan_out))).max() > 3.5 / math.sqrt(fan_in)


def test_keras_truncated_normal_class_is_not_rescaled(keras):
    w = keras_sample(keras, keras.initializers.TruncatedNormal(stddev=1.0, seed=0), (600, 150))
    assert_variance(w, init.truncated_normal_variance(1.0, -2.0, 2.0), "truncated_normal")
    assert np.abs(w).max() <= 2.0


def test_keras_dense_defaults_and_layout(keras):
    layer = keras.layers.Dense(150)
    layer.build((None, 600))
    assert tuple(layer.kernel.shape) == (600, 150)  # Keras layout (fan_in, fan_out)
    assert type(layer.kernel_initializer).__name__ == "GlorotUniform"
    assert type(layer.bias_initializer).__name__ == "Zeros"
    kernel, bias = layer.get_weights()
    assert_variance(kernel.astype(np.float64), 2 / 750, "uniform", "Dense default")
    assert not np.any(bias)


# --- bad arguments -----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(init.INITIALIZERS))
@pytest.mark.parametrize("fan_in, fan_out, error, match", [
    (0, 10, ValueError, "fan_in must be a positive integer"),
    (10, -3, ValueError, "fan_out must be a positive integer"),
    (2.5, 10, TypeError, "fan_in must be a positive integer"),
    (True, 10, TypeError, "fan_in"),
    ("10", 10, TypeError, "fan_in"),
])
def test_bad_fans(name, fan_in, fan_out, error, match):
    with pytest.raises(error, match=match):
        init.get_initializer(name)(fan_in, fan_out, np.random.default_rng(0))


@pytest.mark.parametrize("fn", [init.he_normal, init.trunc_normal, init.kaiming_uniform,
                                init.xavier_normal, init.torch_linear_default])
def test_rng_must_be_a_generator(fn):
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        fn(10, 10, 0)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        fn(10, 10, np.random.RandomState(0))  # noqa: NPY002 (the legacy API is the error)


def test_bad_variance_scaling_arguments():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="mode must be one of"):
        init.variance_scaling(10, 10, rng, mode="fan_sum")
    with pytest.raises(ValueError, match="distribution must be one of"):
        init.variance_scaling(10, 10, rng, distribution="gaussian")
    with pytest.raises(ValueError, match="scale must be > 0"):
        init.variance_scaling(10, 10, rng, scale=0.0)
    with pytest.raises(TypeError, match="scale must be a number"):
        init.variance_scaling(10, 10, rng, scale="2")


def test_bad_torch_style_arguments():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="PyTorch has no"):
        init.kaiming_normal(10, 10, rng, mode="fan_avg")
    with pytest.raises(ValueError, match="unknown nonlinearity"):
        init.kaiming_uniform(10, 10, rng, nonlinearity="swish")
    with pytest.raises(TypeError, match="nonlinearity must be a name"):
        init.calculate_gain(None)
    with pytest.raises(ValueError, match="only used with leaky_relu"):
        init.calculate_gain("relu", 0.2)
    with pytest.raises(ValueError, match="gain must be > 0"):
        init.xavier_uniform(10, 10, rng, gain=-1.0)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"a": 1.0, "b": -1.0}, ValueError, "a < b"),
    ({"a": 1.0, "b": 1.0}, ValueError, "a < b"),
    ({"std": 0.0}, ValueError, "std must be > 0"),
    ({"std": float("nan")}, ValueError, "std must be finite"),
    ({"mean": float("inf")}, ValueError, "mean must be finite"),
    ({"a": "x"}, TypeError, "a must be a number"),
    ({"a": 50.0, "b": 60.0}, ValueError, "almost none"),
])
def test_bad_truncation_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        init.trunc_normal(10, 10, np.random.default_rng(0), **kwargs)
    if "mean" not in kwargs and "std" not in kwargs:
        with pytest.raises(error, match=match):
            init.truncated_normal_variance(1.0, kwargs.get("a", -2.0), kwargs.get("b", 2.0))


def test_get_initializer_errors():
    with pytest.raises(ValueError, match="unknown initializer 'xavier'; known: "):
        init.get_initializer("xavier")
    with pytest.raises(TypeError, match="must be a name"):
        init.get_initializer(init.he_normal)


def test_partial_binds_torch_keywords_for_mlp():
    he_fan_out = functools.partial(init.kaiming_normal, mode="fan_out", nonlinearity="relu")
    net = MLP.create([400, 100, 10], "relu", np.random.default_rng(0), weight_init=he_fan_out)
    assert_variance(net.weights[0], 2 / 100, "normal", "fan_out")


# --- orthogonal and identity -------------------------------------------------------
# Orthogonal matrices from different generators differ entry by entry, so the tests
# compare what must agree: the shape, orthonormal rows or columns, singular values all
# equal to the gain, and the distribution (uniform over orthogonal matrices, thanks to
# the sign correction). Identity matrices must agree exactly.

ORTHO_SHAPES = [(128, 128), (200, 50), (50, 200), (1, 7), (7, 1)]  # (fan_in, fan_out)


def assert_semi_orthogonal(w, gain, what=""):
    """Orthonormal columns if fan_in >= fan_out, else orthonormal rows, times gain."""
    fan_in, fan_out = w.shape
    gram = w.T @ w if fan_in >= fan_out else w @ w.T
    err = np.abs(gram - gain**2 * np.eye(min(fan_in, fan_out))).max()
    assert err < 1e-5 * max(gain**2, 1.0), f"{what}: |Gram - gain^2 I| = {err:.2g}"
    s = np.linalg.svd(w, compute_uv=False)
    assert np.allclose(s, gain, rtol=1e-5), f"{what}: {s.min()}-{s.max()}"


@pytest.mark.parametrize("gain", [1.0, math.sqrt(2.0)])
@pytest.mark.parametrize("fan_in, fan_out", ORTHO_SHAPES)
def test_orthogonal_against_keras_and_torch(keras, torch, fan_in, fan_out, gain):
    ours = init.orthogonal(fan_in, fan_out, np.random.default_rng(13), gain=gain)
    kw = keras_sample(keras, keras.initializers.Orthogonal(gain=gain, seed=0),
                      (fan_in, fan_out))  # Keras layout (fan_in, fan_out)
    torch.manual_seed(6)
    tw = torch.nn.init.orthogonal_(torch.empty(fan_out, fan_in, dtype=torch.float64),
                                   gain=gain).numpy()
    assert tw.shape == (fan_out, fan_in)  # PyTorch layout: transpose to compare
    for w, what in [(ours, "numpy"), (kw, "keras"), (tw.T, "torch")]:
        assert w.shape == (fan_in, fan_out) and w.dtype == np.float64
        assert_semi_orthogonal(w, gain, what)
        # unit vectors as rows/columns: the mean square is gain^2 / max(fans), exactly
        assert math.isclose(float(np.mean(w**2)), gain**2 / max(fan_in, fan_out),
                            rel_tol=1e-9)
    # the same map: x @ W (Keras, NumPy) and W_torch @ x keep the norm of x when the
    # columns of W (Keras layout) are orthonormal, i.e. fan_in <= fan_out
    if fan_in <= fan_out:
        x = np.random.default_rng(14).standard_normal((5, fan_in))
        for w in (ours, kw, tw.T):
            assert np.allclose(np.linalg.norm(x @ w, axis=1),
                               gain * np.linalg.norm(x, axis=1), rtol=1e-9)


def test_orthogonal_is_uniformly_distributed_like_keras_and_torch(keras, torch):
    """Haar measure: with the sign correction the first entry of a 4 x 3 orthogonal
    matrix is symmetric about 0 and its distribution is the same in all three
    implementations. Without it, Householder QR (LAPACK) makes R's diagonal negative
    whenever the first entry of the column is positive, so Q[0, 0] is never positive."""
    draws = 300
    ours = np.array([init.orthogonal(4, 3, np.random.default_rng(s))[0, 0]
                     for s in range(draws)])
    kw = np.array([keras_sample(keras, keras.initializers.Orthogonal(seed=s),
                                (4, 3))[0, 0] for s in range(draws)])
    torch.manual_seed(7)
    empty = functools.partial(torch.empty, 3, 4, dtype=torch.float64)  # torch layout
    tw = np.array([torch.nn.init.orthogonal_(empty())[0, 0].item()
                   for _ in range(draws)])
    for sample in (ours, kw, tw):
        positive = int(np.sum(sample > 0))
        assert abs(positive - draws / 2) < Z * math.sqrt(draws / 4)  # a fair coin
        assert abs(float(np.mean(sample**2)) - 1 / 4) < 0.05  # E[q^2] = 1/4 on S^3
    assert stats.ks_2samp(ours, kw).pvalue > 1e-6
    assert stats.ks_2samp(ours, tw).pvalue > 1e-6
    gaussians = [np.random.default_rng(s).standard_normal((4, 3)) for s in range(draws)]
    raw = np.array([np.linalg.qr(a)[0][0, 0] for a in gaussians])
    assert np.all(raw < 0)  # what the correction repairs


@pytest.mark.parametrize("fan_in, fan_out", [(6, 6), (4, 7), (7, 4)])
@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_identity_equals_keras_and_torch_exactly(keras, torch, fan_in, fan_out, gain):
    ours = init.identity(fan_in, fan_out, gain=gain)
    kw = keras.ops.convert_to_numpy(keras.initializers.Identity(gain=gain)(
        shape=(fan_in, fan_out), dtype="float64"))
    tw = torch.nn.init.eye_(torch.empty(fan_out, fan_in, dtype=torch.float64)).numpy()
    assert tw.shape == (fan_out, fan_in)  # PyTorch layout; eye_ has no gain
    assert np.array_equal(ours, kw)
    assert np.array_equal(ours, gain * tw.T)
    assert np.array_equal(ours, gain * np.eye(fan_in, fan_out))
    # the same rng-taking signature as the others, and nothing random
    with_rng = init.identity(fan_in, fan_out, np.random.default_rng(0), gain=gain)
    assert np.array_equal(with_rng, ours)


def test_identity_stack_is_the_identity_map_and_needs_square_layers():
    X = np.random.default_rng(15).standard_normal((20, 6))
    square = MLP.create([6] * 9, "identity", np.random.default_rng(0), init.identity)
    assert np.array_equal(square.forward(X)[0], X)
    relu = MLP.create([6] * 9, "relu", np.random.default_rng(0), init.identity)
    assert np.array_equal(relu.forward(X)[0], np.maximum(X, 0))  # first layer's ReLU
    wide = MLP.create([6, 10, 10], "relu", np.random.default_rng(0), init.identity)
    hidden = wide.forward(X)[1][1][0]  # the 10 outputs of the first layer
    assert np.array_equal(hidden[:, :6], np.maximum(X, 0)) and not hidden[:, 6:].any()


def test_orthogonal_and_identity_registered_under_the_keras_names():
    assert init.get_initializer("orthogonal") is init.orthogonal
    assert init.get_initializer("Identity") is init.identity


@pytest.mark.parametrize("call, error, match", [
    (lambda: init.orthogonal(4, 3, np.random.default_rng(0), gain=0.0), ValueError,
     "gain must be > 0"),
    (lambda: init.orthogonal(4, 3, np.random.default_rng(0), gain=math.nan), ValueError,
     "gain must be finite"),
    (lambda: init.orthogonal(4, 3, np.random.default_rng(0), gain="1"), TypeError,
     "gain must be a number"),
    (lambda: init.orthogonal(4, 3, 0), TypeError, "rng must be a numpy.random"),
    (lambda: init.orthogonal(4, 3, None), TypeError, "rng must be a numpy.random"),
    (lambda: init.identity(4, 3, gain=-1.0), ValueError, "gain must be > 0"),
    (lambda: init.identity(4, 3, gain=math.inf), ValueError, "gain must be finite"),
    (lambda: init.identity(4, 3, 7), TypeError, "rng must be a numpy.random.Generator"),
    (lambda: init.identity(4.0, 3), TypeError, "fan_in must be a positive integer"),
    (lambda: init.identity(4, 0), ValueError, "fan_out must be a positive integer"),
])
def test_orthogonal_and_identity_validate_their_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()
