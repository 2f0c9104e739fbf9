"""Self-checks for the exercises: call one with your answer to see if it is right.

Each check prints a short confirmation when the answer is right and raises an
``AssertionError`` that says what is wrong otherwise, so it works both in a
notebook and in an autograder.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from utils import activations

_GRID = np.concatenate([np.linspace(-30, 30, 601), [-1e3, -50.0, 0.0, 50.0, 1e3]])


def _check_elementwise(student: Callable, reference: Callable, what: str,
                       grid: np.ndarray = _GRID, rtol: float = 1e-7, atol: float = 1e-10) -> None:
    if not callable(student):
        raise TypeError(f"pass your function itself, e.g. check(my_fn), got {type(student).__name__}")
    with np.errstate(over="ignore", under="ignore"):
        got = np.asarray(student(grid.copy()), dtype=np.float64)
    want = reference(grid)
    if got.shape != want.shape:
        raise AssertionError(f"{what}: expected an array of shape {want.shape} (one value per "
                             f"input), got shape {got.shape}")
    if not np.isfinite(got).all():
        bad = grid[~np.isfinite(got)][:3]
        raise AssertionError(f"{what}: non-finite output at x = {bad} (overflow in exp? "
                             "compute it from a numerically stable form)")
    wrong = ~np.isclose(got, want, rtol=rtol, atol=atol)
    if wrong.any():
        i = np.flatnonzero(wrong)[0]
        raise AssertionError(f"{what}: at x = {grid[i]:g} expected {want[i]:.6g}, got {got[i]:.6g}")
    print(f"Correct: {what} matches the reference at {len(grid)} points, including |x| = 1000.")


def check_sigmoid_prime(fn: Callable) -> None:
    """Your derivative of the logistic sigmoid."""
    _check_elementwise(fn, activations.sigmoid_prime, "sigmoid'(x)")


def check_tanh_prime(fn: Callable) -> None:
    """Your derivative of tanh."""
    _check_elementwise(fn, activations.tanh_prime, "tanh'(x)")


def check_numerical_gradient(fn: Callable) -> None:
    """Your central-difference gradient ``fn(f, x, h)``, as in :func:`utils.gradcheck.numerical_gradient`.

    It is tried on f(x) = sum(sin(x) * x**2), whose gradient is known exactly.
    """
    if not callable(fn):
        raise TypeError("pass your function itself")
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 4))
    x_before = x.copy()
    exact = np.cos(x) * x**2 + 2 * x * np.sin(x)
    got = np.asarray(fn(lambda: float(np.sum(np.sin(x) * x**2)), x, 1e-5), dtype=float)
    if not np.array_equal(x, x_before):
        raise AssertionError("x was changed: restore each entry after perturbing it")
    if got.shape != x.shape:
        raise AssertionError(f"expected a gradient of shape {x.shape}, got {got.shape}")
    err = np.max(np.abs(got - exact))
    if err > 1e-8:
        hint = (" A one-sided difference (f(x+h) - f(x)) / h has error O(h); use the central "
                "difference (f(x+h) - f(x-h)) / 2h." if err < 1e-3 else "")
        raise AssertionError(f"largest error {err:.2e} against the exact gradient.{hint}")
    print(f"Correct: largest error {err:.1e} against the exact gradient.")


def check_vanishing_depth(answer, *, factor: float = 0.25, shrink_to: float = 1e-6) -> None:
    """How many layers, each multiplying the gradient by at most ``factor``, until it is
    ``shrink_to`` times smaller? (The smallest depth at which that is guaranteed.)"""
    if isinstance(answer, bool) or not isinstance(answer, (int, np.integer)):
        raise AssertionError(f"answer with a whole number of layers, got {answer!r}")
    # smallest whole L with factor**L <= shrink_to (a relative slack absorbs log rounding)
    want = int(np.ceil(np.log(shrink_to) / np.log(factor) - 1e-9))
    if answer != want:
        direction = "few" if answer < want else "many"
        raise AssertionError(f"{answer} layers is too {direction}: {factor}**{answer} = "
                             f"{factor ** answer:.2g}")
    print(f"Correct: {factor}**{want} = {factor ** want:.2g} <= {shrink_to:g}.")
