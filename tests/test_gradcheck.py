"""utils.gradcheck: finite differences against an exactly known gradient."""

from __future__ import annotations

import numpy as np
import pytest

from utils.gradcheck import numerical_gradient, relative_error


@pytest.fixture
def problem(rng):
    """f(x) = sum(sin(x) x^2), with gradient cos(x) x^2 + 2 x sin(x) known exactly."""
    x = rng.normal(size=(3, 4))

    def f():
        return float(np.sum(np.sin(x) * x**2))

    exact = np.cos(x) * x**2 + 2 * x * np.sin(x)
    return f, x, exact


def test_central_difference_is_accurate_and_forward_is_not(problem):
    f, x, exact = problem
    central = numerical_gradient(f, x, h=1e-5, method="central")
    forward = numerical_gradient(f, x, h=1e-5, method="forward")
    central_err = np.max(np.abs(central - exact))
    forward_err = np.max(np.abs(forward - exact))
    # central: truncation h^2/6 |f'''| ~ 1e-10 plus rounding eps |f| / h ~ 1e-10
    # (measured 2e-10 for this x): 1e-9 is the bound asked of a correct implementation.
    assert central_err < 1e-9
    # forward: truncation h/2 |f''| ~ 1e-5 (measured 2e-5), so at least 1000x worse.
    assert forward_err > 1e3 * central_err
    # the default is the central difference with h = 1e-5
    np.testing.assert_array_equal(numerical_gradient(f, x), central)


def test_forward_difference_error_shrinks_linearly_in_h(problem):
    """O(h) for forward, O(h^2) for central: h 10x smaller -> error ~10x / ~100x smaller
    (checked with factors 5 and 50 to leave room for the rounding term)."""
    f, x, exact = problem

    def err(h, method):
        return np.max(np.abs(numerical_gradient(f, x, h=h, method=method) - exact))

    assert err(1e-3, "forward") / err(1e-4, "forward") > 5
    assert err(1e-2, "central") / err(1e-3, "central") > 50


@pytest.mark.parametrize("method", ["central", "forward"])
def test_x_is_restored_exactly(problem, method):
    f, x, _ = problem
    before = x.copy()
    numerical_gradient(f, x, method=method)
    np.testing.assert_array_equal(x, before)  # bit for bit, not approximately


def test_each_entry_is_perturbed_in_place(problem):
    """f reads x: the perturbation must happen in the caller's array, one entry at a time."""
    f, x, _ = problem
    seen = []

    def spy():
        seen.append(x.copy())
        return f()

    numerical_gradient(spy, x, method="central")
    assert len(seen) == 2 * x.size
    for s in seen:
        assert np.count_nonzero(s != x) == 1


def test_x_is_restored_even_if_f_raises(problem):
    f, x, _ = problem
    before = x.copy()
    calls = 0

    def flaky():
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("f failed")
        return f()

    with pytest.raises(RuntimeError):
        numerical_gradient(flaky, x)
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize("h", [0.0, -1e-5, float("nan"), float("inf")])
def test_bad_step_raises_value_error(problem, h):
    f, x, _ = problem
    with pytest.raises(ValueError, match="h"):
        numerical_gradient(f, x, h=h)


def test_non_numeric_step_raises_type_error(problem):
    f, x, _ = problem
    with pytest.raises(TypeError, match="h"):
        numerical_gradient(f, x, h="1e-5")


@pytest.mark.parametrize("method", ["backward", "Central", "", None])
def test_bad_method_raises_value_error(problem, method):
    f, x, _ = problem
    with pytest.raises(ValueError, match="method"):
        numerical_gradient(f, x, method=method)


@pytest.mark.parametrize("x", [np.arange(3), [0.0, 1.0], 1.0, np.array([True, False])],
                         ids=["int-array", "list", "scalar", "bool-array"])
def test_non_float_array_raises_type_error(x):
    with pytest.raises(TypeError, match="floating-point numpy array"):
        numerical_gradient(lambda: 0.0, x)


def test_float32_array_keeps_dtype():
    x = np.array([1.0, 2.0], dtype=np.float32)
    grad = numerical_gradient(lambda: float(np.sum(x.astype(np.float64) ** 2)), x, h=1e-2)
    assert grad.dtype == np.float32
    # d/dx x^2 = 2x; the central difference is exact for a quadratic up to the
    # float32 rounding of x + h (eps32 |x| / h ~ 2.4e-5 relative to the gradient)
    np.testing.assert_allclose(grad, 2 * x, rtol=1e-4)


def test_non_finite_function_value_raises(problem):
    _, x, _ = problem
    with pytest.raises(FloatingPointError, match="non-finite"):
        numerical_gradient(lambda: float("nan"), x)


# --- relative_error --------------------------------------------------------------------


def test_relative_error_basic_properties(rng):
    a = rng.normal(size=(4, 5))
    b = rng.normal(size=(4, 5))
    assert relative_error(a, a) == 0.0
    assert relative_error(a, -a) == pytest.approx(1.0, abs=1e-15)  # ||2a|| / 2||a||
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0  # defined, not 0/0
    assert relative_error(a, b) == relative_error(b, a)  # symmetric
    # invariant to a common scale factor (a power of 2: scaling is exact)
    assert relative_error(8 * a, 8 * b) == relative_error(a, b)
    # bounded by 1 (triangle inequality), and equal to the definition
    assert 0 < relative_error(a, b) <= 1
    want = np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b))
    assert relative_error(a, b) == pytest.approx(want, rel=1e-15)
    # a small relative perturbation gives about half of it (denominator ~ 2 ||a||)
    assert relative_error(a, a * (1 + 1e-6)) == pytest.approx(0.5e-6, rel=1e-6)
    assert isinstance(relative_error(a, b), float)


def test_relative_error_errors():
    with pytest.raises(ValueError, match="shapes differ"):
        relative_error(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="shapes differ"):
        relative_error(np.ones((2, 3)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="NaN"):
        relative_error(np.array([1.0, np.nan]), np.ones(2))
    with pytest.raises(TypeError):
        relative_error("abc", np.ones(3))
