"""utils.checks: each self-check accepts the right answer and explains wrong ones."""

from __future__ import annotations

import numpy as np
import pytest

from utils import activations, checks
from utils.gradcheck import numerical_gradient


def assert_correct(check, answer, capsys, **kwargs):
    check(answer, **kwargs)
    assert capsys.readouterr().out.startswith("Correct")


# --- sigmoid' and tanh' ----------------------------------------------------------------


def naive_sigmoid_prime(x):
    """The textbook formula through the naive sigmoid: right, and finite at |x| = 1000
    (exp(1000) = inf gives s = 0, and s (1 - s) = 0 is the correct float64 value)."""
    s = 1 / (1 + np.exp(-x))
    return s * (1 - s)


def sigmoid_prime_via_exp(x):
    """e^-x / (1 + e^-x)^2: algebraically right, but inf / inf = NaN at x = -1000."""
    e = np.exp(-x)
    return e / (1 + e) ** 2


@pytest.mark.parametrize("answer", [
    activations.sigmoid_prime,
    lambda x: activations.sigmoid(x) * activations.sigmoid(-x),  # more accurate in the tail
    naive_sigmoid_prime,
], ids=["reference", "symmetric-form", "naive-sigmoid"])
def test_sigmoid_prime_accepts_right_answers(answer, capsys):
    assert_correct(checks.check_sigmoid_prime, answer, capsys)


def test_sigmoid_prime_rejects_wrong_sign():
    def wrong(x):
        s = activations.sigmoid(x)
        return s * (1 + s)

    with pytest.raises(AssertionError, match=r"sigmoid'\(x\): at x = .* expected .* got"):
        checks.check_sigmoid_prime(wrong)


def test_sigmoid_prime_rejects_overflowing_answer_with_a_helpful_message():
    # the NaN comes from inf/inf, an "invalid" operation the check leaves to numpy's
    # settings; silence numpy's warning about it here, it is what is being tested
    with np.errstate(invalid="ignore"), \
            pytest.raises(AssertionError, match="non-finite output") as info:
        checks.check_sigmoid_prime(sigmoid_prime_via_exp)
    message = str(info.value)
    assert "-1000" in message  # where it happens
    assert "overflow" in message and "stable" in message  # why, and what to do


def test_tanh_prime(capsys):
    assert_correct(checks.check_tanh_prime, activations.tanh_prime, capsys)
    assert_correct(checks.check_tanh_prime, lambda x: 1 / np.cosh(x) ** 2, capsys)
    with pytest.raises(AssertionError, match=r"tanh'\(x\): at x = "):
        checks.check_tanh_prime(lambda x: 1 - np.tanh(x))


@pytest.mark.parametrize("check", [checks.check_sigmoid_prime, checks.check_tanh_prime])
def test_elementwise_checks_reject_wrong_shape_and_non_callables(check):
    with pytest.raises(AssertionError, match="shape"):
        check(lambda x: np.zeros(3))
    with pytest.raises(TypeError, match="function itself"):
        check(activations.sigmoid_prime(np.zeros(3)))


def test_elementwise_check_does_not_let_the_student_modify_the_grid():
    def vandal(x):
        x[:] = 0.0
        return activations.sigmoid_prime(x)

    with pytest.raises(AssertionError):
        checks.check_sigmoid_prime(vandal)
    checks.check_sigmoid_prime(activations.sigmoid_prime)  # the shared grid is intact


# --- numerical gradient ----------------------------------------------------------------


def forward_difference(f, x, h):
    return numerical_gradient(f, x, h, method="forward")


def forgets_to_restore(f, x, h):
    grad = np.empty_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        f_plus = f()
        x[i] = old - h
        grad[i] = (f_plus - f()) / (2 * h)
    return grad


def test_numerical_gradient_accepts_central_difference(capsys):
    assert_correct(checks.check_numerical_gradient, numerical_gradient, capsys)


def test_numerical_gradient_hint_for_forward_difference():
    with pytest.raises(AssertionError, match="central") as info:
        checks.check_numerical_gradient(forward_difference)
    assert "largest error" in str(info.value)


def test_numerical_gradient_rejects_unrestored_x():
    with pytest.raises(AssertionError, match="x was changed"):
        checks.check_numerical_gradient(forgets_to_restore)


def test_numerical_gradient_wrong_answers_without_the_central_hint():
    """A far-off answer (error >= 1e-3) is not a forward-difference mistake: no hint."""
    with pytest.raises(AssertionError, match="largest error") as info:
        checks.check_numerical_gradient(lambda f, x, h: np.zeros_like(x))
    assert "central" not in str(info.value)
    with pytest.raises(AssertionError, match="shape"):
        checks.check_numerical_gradient(lambda f, x, h: np.zeros(3))
    with pytest.raises(TypeError):
        checks.check_numerical_gradient(None)


# --- vanishing depth -------------------------------------------------------------------


def smallest_depth(factor, shrink_to):
    """Reference by counting layers, in exact rational arithmetic of the decimal
    inputs (float powers such as 0.1**6 = 1.0000000000000004e-06 would be off by one)."""
    from fractions import Fraction

    f, target, depth = Fraction(str(factor)), Fraction(str(shrink_to)), 0
    while f**depth > target:
        depth += 1
    return depth


@pytest.mark.parametrize("kwargs", [
    {}, {"factor": 0.5, "shrink_to": 1e-3}, {"factor": 0.9, "shrink_to": 0.01},
    {"factor": 0.5, "shrink_to": 2.0**-10}, {"factor": 0.1, "shrink_to": 1e-6},
    {"factor": 0.2, "shrink_to": 0.008},
], ids=["default", "half-1e-3", "0.9", "exact-power-of-2", "exact-power-of-10",
        "exact-power-0.2"])
def test_vanishing_depth(kwargs, capsys):
    want = smallest_depth(kwargs.get("factor", 0.25), kwargs.get("shrink_to", 1e-6))
    assert_correct(checks.check_vanishing_depth, want, capsys, **kwargs)
    assert_correct(checks.check_vanishing_depth, np.int64(want), capsys, **kwargs)
    with pytest.raises(AssertionError, match="too few"):
        checks.check_vanishing_depth(want - 1, **kwargs)
    with pytest.raises(AssertionError, match="too many"):
        checks.check_vanishing_depth(want + 1, **kwargs)


@pytest.mark.parametrize("answer", [10.0, "10", True, None, 9.97])
def test_vanishing_depth_needs_a_whole_number(answer):
    with pytest.raises(AssertionError, match="whole number"):
        checks.check_vanishing_depth(answer)


# --- training health: saturation fraction ------------------------------------------------


def test_saturation_fraction_accepts_the_reference(capsys):
    from utils import health

    assert_correct(checks.check_saturation_fraction, health.saturation_fraction, capsys)

    def own(a, kind):
        a = np.asarray(a)
        tail = np.abs(a) > 0.99 if kind == "tanh" else (a < 0.01) | (a > 0.99)
        return float(tail.sum() / tail.size)

    assert_correct(checks.check_saturation_fraction, own, capsys)


@pytest.mark.parametrize("wrong, hint", [
    (lambda a, k: float(np.sum(np.abs(a) > 0.99) if k == "tanh"
                        else np.sum((a < 0.01) | (a > 0.99))), "count"),
    (lambda a, k: float(np.mean(a > 0.99) if k == "tanh"
                        else np.mean((a < 0.01) | (a > 0.99))), "both ends"),
    (lambda a, k: float(np.mean(np.abs(a) > 0.99)), "lower tail"),
    (lambda a, k: float(np.mean(np.abs(a) >= 0.99) if k == "tanh"
                        else np.mean((a <= 0.01) | (a >= 0.99))), "bounds"),
    (lambda a, k: 0.5, "expected"),
    (lambda a, k: np.abs(a) > 0.99, "one number"),
], ids=["count", "no-abs", "tanh-band-for-sigmoid", "inclusive-bounds", "constant", "array"])
def test_saturation_fraction_rejects_wrong_answers(wrong, hint):
    with pytest.raises(AssertionError, match=hint):
        checks.check_saturation_fraction(wrong)


def test_saturation_fraction_needs_a_function():
    with pytest.raises(TypeError, match="function itself"):
        checks.check_saturation_fraction(0.3)
