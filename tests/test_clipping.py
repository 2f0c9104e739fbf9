"""utils.clipping: each mode against PyTorch and Keras, the frameworks' own behaviour pinned
down (defaults, refusals, edge cases), and the documented errors for bad inputs."""

from __future__ import annotations

import numpy as np
import pytest

from utils import checks, clipping

# A gradient of three arrays whose norms (13, 2.2, 0.5) straddle the thresholds used
# below, so that some arrays are clipped and others are not.
GRADS = [np.array([[3.0, -12.0], [4.0, 0.0]]), np.array([0.6, -2.0, 0.7]), np.array([0.5])]
THRESHOLDS = [0.1, 1.0, 2.5, 100.0]


def fresh_grads():
    return [g.copy() for g in GRADS]


def flat(grads):
    return np.concatenate([g.ravel() for g in grads])


def torch_params(torch, grads):
    """float64 parameters whose .grad are the given arrays (the frameworks clip in place)."""
    params = []
    for g in grads:
        p = torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.float64))
        p.grad = torch.tensor(g, dtype=torch.float64)
        params.append(p)
    return params


def keras_update(keras, tf, grads, **clip_option):
    """Minus the update a Keras SGD optimizer (learning rate 1) applies to zero variables:
    the gradient after the optimizer's clipping, read off the optimizer itself."""
    variables = [keras.Variable(np.zeros(g.shape), dtype="float64") for g in grads]
    optimizer = keras.optimizers.SGD(learning_rate=1.0, **clip_option)
    optimizer.apply([tf.constant(g) for g in grads], variables)
    return [-v.numpy() for v in variables]


# --- the NumPy rules themselves ---------------------------------------------------------


def test_global_norm_is_the_norm_of_the_concatenation():
    assert clipping.global_norm(GRADS) == pytest.approx(np.linalg.norm(flat(GRADS)), rel=1e-15)


def test_global_norm_does_not_overflow():
    huge = [np.array([1e300, 1e300]), np.array([-1e300])]
    assert clipping.global_norm(huge) == pytest.approx(np.sqrt(3) * 1e300, rel=1e-15)
    assert clipping.global_norm([np.zeros(3), np.zeros((0, 2))]) == 0.0
    clipped, norm = clipping.clip_by_global_norm(huge, 1.0)
    assert norm == pytest.approx(np.sqrt(3) * 1e300, rel=1e-15)
    assert clipping.global_norm(clipped) == pytest.approx(1.0, rel=1e-15)


@pytest.mark.parametrize("c", THRESHOLDS)
def test_value_clipping_bounds_each_component(c):
    out = clipping.clip_by_value(GRADS, c)
    for g, o in zip(GRADS, out, strict=True):
        assert np.abs(o).max() <= c
        small = np.abs(g) <= c
        np.testing.assert_array_equal(o[small], g[small])  # untouched below the threshold
        np.testing.assert_array_equal(o[~small], np.sign(g[~small]) * c)


@pytest.mark.parametrize("c", THRESHOLDS)
def test_norm_clipping_is_per_array(c):
    out = clipping.clip_by_norm(GRADS, c)
    for g, o in zip(GRADS, out, strict=True):
        n = np.linalg.norm(g)
        assert np.linalg.norm(o) == pytest.approx(min(n, c), rel=1e-14)
        # each array keeps its own direction
        assert np.dot(o.ravel(), g.ravel()) == pytest.approx(np.linalg.norm(o) * n, rel=1e-14)


@pytest.mark.parametrize("c", THRESHOLDS)
def test_global_norm_clipping_scales_everything_by_one_factor(c):
    out, norm = clipping.clip_by_global_norm(GRADS, c)
    assert norm == pytest.approx(np.linalg.norm(flat(GRADS)), rel=1e-15)
    scale = min(1.0, c / norm)
    for g, o in zip(GRADS, out, strict=True):
        np.testing.assert_allclose(o, g * scale, rtol=1e-15)


def test_direction_value_changes_it_global_keeps_it():
    g = [np.array([0.5, 4.0]), np.array([3.0])]
    direction = flat(g) / np.linalg.norm(flat(g))

    def cosine(h):
        return float(np.dot(flat(h), direction) / np.linalg.norm(flat(h)))

    assert cosine(clipping.clip_by_global_norm(g, 1.0)[0]) == pytest.approx(1.0, abs=1e-15)
    # [0.5, 1, 1] against [0.5, 4, 3]: cosine 0.962; per array: [0.124, 0.992, 1], 0.990
    assert cosine(clipping.clip_by_value(g, 1.0)) < 0.97
    assert cosine(clipping.clip_by_norm(g, 1.0)) < 0.995


def test_inputs_unchanged_dtype_kept_new_arrays():
    grads = fresh_grads()
    for out in (clipping.clip_by_value(grads, 1.0), clipping.clip_by_norm(grads, 1.0),
                clipping.clip_by_global_norm(grads, 1.0)[0],
                clipping.clip_by_global_norm(grads, 1e6)[0]):
        assert all(o is not g for o, g in zip(out, grads, strict=True))
    for g, g0 in zip(grads, GRADS, strict=True):
        np.testing.assert_array_equal(g, g0)
    f32 = [g.astype(np.float32) for g in GRADS]
    for out in (clipping.clip_by_value(f32, 1.0), clipping.clip_by_norm(f32, 1.0),
                clipping.clip_by_global_norm(f32, 1.0)[0]):
        assert all(o.dtype == np.float32 for o in out)


@pytest.mark.parametrize("mode", [None, *clipping.MODES])
def test_clip_gradients_dispatches_and_reports_the_preclip_norm(mode):
    threshold = None if mode is None else 1.0
    out, norm = clipping.clip_gradients(GRADS, mode, threshold)
    assert norm == pytest.approx(clipping.global_norm(GRADS), rel=1e-15)
    expected = {None: fresh_grads(),
                "value": clipping.clip_by_value(GRADS, 1.0),
                "norm": clipping.clip_by_norm(GRADS, 1.0),
                "global_norm": clipping.clip_by_global_norm(GRADS, 1.0)[0]}[mode]
    for o, e in zip(out, expected, strict=True):
        np.testing.assert_array_equal(o, e)


# --- bad inputs: the documented decisions ----------------------------------------------


@pytest.mark.parametrize("fn", [clipping.clip_by_value, clipping.clip_by_norm,
                                clipping.clip_by_global_norm])
@pytest.mark.parametrize("threshold", [0.0, -1.0, np.inf, np.nan])
def test_non_positive_or_non_finite_threshold_raises(fn, threshold):
    with pytest.raises(ValueError, match="finite number > 0"):
        fn(GRADS, threshold)


@pytest.mark.parametrize("threshold", ["1", None, True])
def test_threshold_must_be_a_number(threshold):
    with pytest.raises(TypeError, match="must be a number"):
        clipping.clip_by_norm(GRADS, threshold)


@pytest.mark.parametrize("fn", [clipping.global_norm,
                                lambda g: clipping.clip_by_value(g, 1.0),
                                lambda g: clipping.clip_by_norm(g, 1.0),
                                lambda g: clipping.clip_by_global_norm(g, 1.0)])
def test_empty_list_raises(fn):
    with pytest.raises(ValueError, match="grads is empty"):
        fn([])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("mode", [None, *clipping.MODES])
def test_non_finite_gradient_raises_naming_the_array(bad, mode):
    grads = fresh_grads()
    grads[1][2] = bad
    with pytest.raises(FloatingPointError, match=r"grads\[1\] .* 1 NaN or infinite"):
        clipping.clip_gradients(grads, mode, None if mode is None else 1.0)


def test_wrong_containers_and_dtypes_raise():
    with pytest.raises(TypeError, match="for a single array pass"):
        clipping.clip_by_value(np.ones(3), 1.0)
    with pytest.raises(TypeError, match="generator"):
        clipping.clip_by_value((g for g in GRADS), 1.0)
    with pytest.raises(TypeError, match="floating-point"):
        clipping.clip_by_value([np.array([1, 2])], 1.0)
    with pytest.raises(ValueError, match="mode must be"):
        clipping.clip_gradients(GRADS, "global", 1.0)
    with pytest.raises(ValueError, match="needs a threshold"):
        clipping.clip_gradients(GRADS, "value")
    with pytest.raises(ValueError, match="mode is None"):
        clipping.clip_gradients(GRADS, None, 1.0)


# --- against PyTorch ---------------------------------------------------------------------

# clip_grad_norm_ multiplies by max_norm / (total_norm + 1e-6), not max_norm / total_norm:
# the clipped norm is short of max_norm by a relative 1e-6 / total_norm. The comparison
# allows that much (and no more); everything else agrees to rounding.
TORCH_EPS = 1e-6


@pytest.mark.parametrize("c", THRESHOLDS)
def test_value_matches_torch_clip_grad_value(torch, c):
    params = torch_params(torch, GRADS)
    assert torch.nn.utils.clip_grad_value_(params, c) is None  # returns nothing
    for p, o in zip(params, clipping.clip_by_value(GRADS, c), strict=True):
        np.testing.assert_array_equal(p.grad.numpy(), o)


@pytest.mark.parametrize("c", THRESHOLDS)
def test_global_norm_matches_torch_clip_grad_norm(torch, c):
    params = torch_params(torch, GRADS)
    returned = torch.nn.utils.clip_grad_norm_(params, c)
    ours, norm = clipping.clip_by_global_norm(GRADS, c)
    # PyTorch returns the total norm *before* clipping
    assert float(returned) == pytest.approx(norm, rel=1e-15)
    assert float(returned) == pytest.approx(np.linalg.norm(flat(GRADS)), rel=1e-15)
    clipped = norm > c
    for p, o in zip(params, ours, strict=True):
        np.testing.assert_allclose(p.grad.numpy(), o, rtol=TORCH_EPS / norm * 1.01 + 1e-15)
        if clipped:  # pin the epsilon down exactly
            g = GRADS[[id(q) for q in params].index(id(p))]
            np.testing.assert_allclose(p.grad.numpy(), g * c / (norm + TORCH_EPS), rtol=1e-15)


@pytest.mark.parametrize("c", THRESHOLDS)
def test_per_tensor_norm_is_clip_grad_norm_per_parameter(torch, c):
    params = torch_params(torch, GRADS)
    for p in params:  # PyTorch has no per-tensor option: call it once per parameter
        torch.nn.utils.clip_grad_norm_([p], c)
    for p, o, g in zip(params, clipping.clip_by_norm(GRADS, c), GRADS, strict=True):
        np.testing.assert_allclose(p.grad.numpy(), o, rtol=TORCH_EPS / np.linalg.norm(g) + 1e-15)


def test_torch_edge_cases_that_numpy_refuses(torch):
    """What PyTorch does where utils.clipping raises: documented in the module docstring."""
    # max_norm = 0 zeroes the gradient; a negative max_norm reverses it
    params = torch_params(torch, [np.array([3.0, 4.0])])
    torch.nn.utils.clip_grad_norm_(params, 0.0)
    np.testing.assert_array_equal(params[0].grad.numpy(), [0.0, 0.0])
    params = torch_params(torch, [np.array([3.0, 4.0])])
    torch.nn.utils.clip_grad_norm_(params, -1.0)
    np.testing.assert_allclose(params[0].grad.numpy(), [-0.6, -0.8], rtol=1e-6)
    # a negative clip value sets every component to that value
    params = torch_params(torch, [np.array([3.0, -0.5])])
    torch.nn.utils.clip_grad_value_(params, -1.0)
    np.testing.assert_array_equal(params[0].grad.numpy(), [-1.0, -1.0])
    # an empty list gives a total norm of 0, silently
    assert float(torch.nn.utils.clip_grad_norm_([], 1.0)) == 0.0
    # non-finite, by default: an infinity makes the scale 0 (finite entries become 0 and the
    # infinity 0 * inf = NaN); a NaN makes every entry NaN. On request, an error instead.
    params = torch_params(torch, [np.array([np.inf, 1.0]), np.array([2.0])])
    assert np.isinf(float(torch.nn.utils.clip_grad_norm_(params, 1.0)))
    np.testing.assert_array_equal(params[0].grad.numpy(), [np.nan, 0.0])
    np.testing.assert_array_equal(params[1].grad.numpy(), [0.0])
    params = torch_params(torch, [np.array([np.nan, 1.0]), np.array([2.0])])
    assert np.isnan(float(torch.nn.utils.clip_grad_norm_(params, 1.0)))
    assert all(np.isnan(p.grad.numpy()).all() for p in params)
    params = torch_params(torch, [np.array([np.nan, 1.0])])
    with pytest.raises(RuntimeError, match="non-finite"):
        torch.nn.utils.clip_grad_norm_(params, 1.0, error_if_nonfinite=True)


# --- against Keras -----------------------------------------------------------------------


@pytest.mark.parametrize("c", THRESHOLDS)
@pytest.mark.parametrize("option, ours", [
    ("clipvalue", lambda g, c: clipping.clip_by_value(g, c)),
    ("clipnorm", lambda g, c: clipping.clip_by_norm(g, c)),
    ("global_clipnorm", lambda g, c: clipping.clip_by_global_norm(g, c)[0]),
])
def test_matches_keras_optimizer_clipping(keras, tf, option, ours, c):
    theirs = keras_update(keras, tf, GRADS, **{option: c})
    for t, o in zip(theirs, ours(GRADS, c), strict=True):
        # the same float64 arithmetic in another order: agreement to a few ulps
        np.testing.assert_allclose(t, o, rtol=1e-14, atol=1e-300)


def test_keras_clipnorm_is_per_variable_not_global(keras, tf):
    per_variable = keras_update(keras, tf, GRADS, clipnorm=1.0)
    assert all(np.linalg.norm(v) <= 1.0 + 1e-12 for v in per_variable)
    # three variables clipped to norm 1 each: the whole update has norm sqrt(1+1+0.25) > 1
    assert np.linalg.norm(flat(per_variable)) == pytest.approx(np.sqrt(2.25), rel=1e-12)
    overall = keras_update(keras, tf, GRADS, global_clipnorm=1.0)
    assert np.linalg.norm(flat(overall)) == pytest.approx(1.0, rel=1e-12)


@pytest.mark.parametrize("pair", [("clipvalue", "clipnorm"), ("clipnorm", "global_clipnorm"),
                                  ("clipvalue", "global_clipnorm")])
def test_keras_refuses_two_clip_options(keras, pair):
    with pytest.raises(ValueError, match="Only one of `clipnorm`, `clipvalue` and "
                                         "`global_clipnorm` can be set"):
        keras.optimizers.SGD(**dict.fromkeys(pair, 1.0))


@pytest.mark.parametrize("option", ["clipvalue", "clipnorm", "global_clipnorm"])
@pytest.mark.parametrize("c", [0.0, -1.0])
def test_keras_silently_ignores_non_positive_thresholds(keras, tf, option, c):
    theirs = keras_update(keras, tf, GRADS, **{option: c})
    for t, g in zip(theirs, GRADS, strict=True):
        np.testing.assert_array_equal(t, g)  # no clipping at all, no error


def test_keras_non_finite_gradients(keras, tf):
    grads = [np.array([np.inf, 1.0]), np.array([1.0, 2.0])]
    # global_clipnorm: everything becomes NaN
    assert np.isnan(flat(keras_update(keras, tf, grads, global_clipnorm=1.0))).all()
    # clipnorm: the infinite variable becomes NaN where it was infinite, the other is clipped
    per = keras_update(keras, tf, grads, clipnorm=1.0)
    assert np.isnan(per[0][0]) and np.isfinite(per[1]).all()
    # clipvalue: the infinity is silently turned into the threshold
    np.testing.assert_array_equal(keras_update(keras, tf, grads, clipvalue=1.0)[0], [1.0, 1.0])


def test_keras_clips_before_the_optimizer_update(keras, tf):
    """With momentum the clipped gradient, not the raw one, enters the velocity."""
    grads = fresh_grads()
    variables = [keras.Variable(np.zeros(g.shape), dtype="float64") for g in grads]
    # momentum 0.5: exact in float32, the dtype Keras keeps its hyperparameters in
    optimizer = keras.optimizers.SGD(learning_rate=1.0, momentum=0.5, global_clipnorm=1.0)
    for _ in range(2):
        optimizer.apply([tf.constant(g) for g in grads], variables)
    clipped, _ = clipping.clip_by_global_norm(grads, 1.0)
    # two steps of heavy-ball momentum from zero: -(1 + (1 + 0.5)) * clipped gradient
    for v, c in zip(variables, clipped, strict=True):
        np.testing.assert_allclose(v.numpy(), -2.5 * c, rtol=1e-14)


# --- the exercise self-checks --------------------------------------------------------------


def _reference_global(grads, max_norm):
    norm = np.sqrt(sum(np.sum(g**2) for g in grads))
    return [g * (max_norm / norm) if norm > max_norm else g.copy() for g in grads]


@pytest.mark.parametrize("answer", [
    _reference_global,
    lambda g, c: clipping.clip_by_global_norm(g, c),  # returns (clipped, norm): accepted
    lambda g, c: [x * min(1.0, c / (np.sqrt(sum(np.sum(y**2) for y in g)) + 1e-6)) for x in g],
], ids=["reference", "with-norm", "torch-epsilon"])
def test_check_clip_by_global_norm_accepts_right_answers(answer, capsys):
    checks.check_clip_by_global_norm(answer)
    assert capsys.readouterr().out.startswith("Correct")


def _in_place(grads, max_norm):
    norm = np.sqrt(sum(np.sum(g**2) for g in grads))
    if norm > max_norm:
        for g in grads:
            g *= max_norm / norm
    return grads


@pytest.mark.parametrize("wrong, message", [
    (lambda g, c: clipping.clip_by_norm(g, c), "each array was clipped"),
    (lambda g, c: [x / np.sqrt(sum(np.sum(y**2) for y in g))
                   * min(c, np.sqrt(sum(np.sum(y**2) for y in g))) for x in g], "NaN or inf"),
    (lambda g, c: [x * c / max(np.sqrt(sum(np.sum(y**2) for y in g)), 1e-12) for x in g],
     "scaled it up"),
    (lambda g, c: clipping.clip_by_value(g, c), "value clipping"),
    (_in_place, "modified in place"),
    (lambda g, c: [x * min(1.0, c / np.sqrt(np.sum(x**2) + 1e-300)) * 0.5 for x in g],
     "expected a result of norm"),
    (lambda g, c: [np.concatenate([x.ravel() for x in _reference_global(g, c)])],
     "one array per input array"),
], ids=["per-tensor", "zero-division", "scales-up", "by-value", "in-place", "wrong-factor",
        "concatenated"])
def test_check_clip_by_global_norm_explains_wrong_answers(wrong, message):
    with pytest.raises(AssertionError, match=message):
        checks.check_clip_by_global_norm(wrong)


def test_check_clipped_vectors(capsys):
    right = {"value": [[3, -4], [4]], "norm": [[2.4, -3.2], [4]],
             "global_norm": [[0.92, -1.23], [3.69]]}  # two decimals are enough
    checks.check_clipped_vectors(**right)
    assert capsys.readouterr().out.startswith("Correct")
    # the per-array answer given for the global rule, and vice versa
    with pytest.raises(AssertionError, match="global_norm: .* what the 'norm' rule gives"):
        checks.check_clipped_vectors(right["value"], right["norm"], right["norm"])
    with pytest.raises(AssertionError, match="norm: .* what the 'global_norm' rule gives"):
        checks.check_clipped_vectors(right["value"], right["global_norm"], right["global_norm"])
    with pytest.raises(AssertionError, match="norm: not quite. Clip"):
        checks.check_clipped_vectors(right["value"], [[2.4, -3.2], [12]], right["global_norm"])
    with pytest.raises(AssertionError, match="sqrt"):
        checks.check_clipped_vectors(right["value"], right["norm"], [[0.6, -0.8], [1]])
    with pytest.raises(AssertionError, match="list of arrays"):
        checks.check_clipped_vectors(np.array([3, -4, 4]), right["norm"], right["global_norm"])
