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
    # the error's own digits are truncation and rounding noise: print the bound it meets
    print("Correct: largest error below 1e-8 against the exact gradient.")


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


# --- Regularization: dropout scaling and weight penalties -------------------------------


def check_inverted_dropout(fn: Callable) -> None:
    """Your ``inverted_dropout(x, rate, rng, training)`` returning the output array.

    In training each entry must be dropped with probability ``rate`` (drawn from ``rng``)
    and the survivors divided by ``1 - rate``; at inference the input comes back unchanged.
    """
    if not callable(fn):
        raise TypeError("pass your function itself, e.g. check_inverted_dropout(my_fn)")
    x = 1.0 + np.random.default_rng(3).random((400, 250))  # positive: a 0 means "dropped"
    for rate in (0.2, 0.5):
        x_before = x.copy()
        out = np.asarray(fn(x, rate, np.random.default_rng(0), True), dtype=np.float64)
        if not np.array_equal(x, x_before):
            raise AssertionError("x was modified in place: return a new array")
        if out.shape != x.shape:
            raise AssertionError(f"expected an output of shape {x.shape}, got {out.shape}")
        dropped = float(np.mean(out == 0))
        tol = 5 * np.sqrt(rate * (1 - rate) / x.size)  # five binomial standard errors
        if abs(dropped - rate) > tol:
            hint = (" rate is the probability of DROPPING a unit (as PyTorch's p and Keras' "
                    "rate), not of keeping it." if abs(dropped - (1 - rate)) <= tol else "")
            raise AssertionError(f"rate={rate}: {dropped:.3f} of the entries were dropped, "
                                 f"expected {rate} ± {tol:.3f}.{hint}")
        kept = out != 0
        ratio = out[kept] / x[kept]
        if not np.allclose(ratio, 1 / (1 - rate), rtol=1e-9):
            seen = float(np.median(ratio))
            hint = ""
            if np.isclose(seen, 1.0):
                hint = (" The survivors are not rescaled: that is vanilla dropout, which needs "
                        "a rescaling at test time instead.")
            elif np.isclose(seen, 1 - rate):
                hint = " You multiplied by the keep probability; inverted dropout divides by it."
            raise AssertionError(f"rate={rate}: kept entries are multiplied by {seen:.4g}, "
                                 f"expected 1/(1 - rate) = {1 / (1 - rate):.4g}.{hint}")
        again = np.asarray(fn(x, rate, np.random.default_rng(0), True), dtype=np.float64)
        if not np.array_equal(out, again):
            raise AssertionError("two calls with identically seeded rng gave different masks: "
                                 "draw the mask from the rng argument (e.g. rng.random(x.shape))")
        test_out = np.asarray(fn(x, rate, np.random.default_rng(1), False), dtype=np.float64)
        if not np.allclose(test_out, x, rtol=1e-12, atol=0):
            raise AssertionError(f"rate={rate}, training=False: inverted dropout must return the "
                                 f"input unchanged at inference (got {float(np.median(test_out / x)):.4g}"
                                 " times the input)")
    print("Correct: drops the right fraction, rescales survivors by 1/(1 - rate), and is the "
          "identity at inference.")


def check_dropout_test_scale(answer, *, rate: float = 0.3, variant: str = "vanilla") -> None:
    """The factor to multiply activations by at test time after training with dropout of
    drop probability ``rate`` (``variant`` "vanilla" or "inverted")."""
    if variant not in ("vanilla", "inverted"):
        raise ValueError(f'variant must be "vanilla" or "inverted", got {variant!r}')
    if isinstance(answer, bool) or not isinstance(answer, (int, float, np.floating, np.integer)):
        raise AssertionError(f"answer with a number, got {answer!r}")
    want = 1.0 - rate if variant == "vanilla" else 1.0
    if abs(answer - want) > 1e-9:
        hints = [(1 / (1 - rate), "1/(1 - rate) is the factor inverted dropout applies during "
                                  "training, not at test time."),
                 (rate, "rate is the probability of dropping a unit; the expected fraction "
                        "kept is 1 - rate."),
                 (1 - rate, "inverted dropout already rescaled during training, so inference "
                            "needs no further scaling."),
                 (1.0, "vanilla dropout never rescaled during training, so the test-time "
                       "activations are too large by 1/(1 - rate) unless you scale them.")]
        hint = next((h for value, h in hints if np.isclose(float(answer), value)), "")
        raise AssertionError(f"{answer} is not the {variant}-dropout test-time factor for "
                             f"rate={rate}. {hint}".rstrip())
    print(f"Correct: {variant} dropout with rate {rate} needs a test-time factor of {want:g}.")


def check_keras_l2_for_weight_decay(answer, *, weight_decay: float = 5e-4) -> None:
    """The Keras ``regularizers.l2`` coefficient that reproduces PyTorch SGD with
    ``weight_decay`` (same learning rate, plain SGD)."""
    if isinstance(answer, bool) or not isinstance(answer, (int, float, np.floating, np.integer)):
        raise AssertionError(f"answer with a number, got {answer!r}")
    want = weight_decay / 2
    if not np.isclose(answer, want, rtol=1e-9, atol=0):
        hint = ""
        if np.isclose(answer, weight_decay, rtol=1e-9):
            hint = (" Keras' l2(c) adds c * sum(w**2), whose gradient is 2c * w, twice the "
                    "weight decay you asked for.")
        elif np.isclose(answer, 2 * weight_decay, rtol=1e-9):
            hint = " The factor 2 goes the other way: the gradient of c * sum(w**2) is 2c * w."
        raise AssertionError(f"Keras l2({answer:g}) is not PyTorch weight_decay={weight_decay:g}."
                             + hint)
    print(f"Correct: the gradient of {want:g} * sum(w**2) is {weight_decay:g} * w, "
          "PyTorch's weight decay.")


# --- weight initialization ---------------------------------------------------------------

# (distribution, scale, mode) of the initializers a student may be asked to write
_INIT_TARGETS = {
    "he_uniform": ("uniform", 2.0, "fan_in"),
    "he_normal": ("normal", 2.0, "fan_in"),
    "glorot_uniform": ("uniform", 1.0, "fan_avg"),
    "glorot_normal": ("normal", 1.0, "fan_avg"),
    "lecun_uniform": ("uniform", 1.0, "fan_in"),
    "lecun_normal": ("normal", 1.0, "fan_in"),
}


def _target_variance(scale: float, mode: str, fan_in: int, fan_out: int) -> float:
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    return scale / n


def check_initializer(fn: Callable, name: str = "he_uniform") -> None:
    """Your initializer ``fn(fan_in, fan_out, rng)`` for ``name`` (e.g. "he_uniform").

    It must return an array of shape (fan_in, fan_out), draw from ``rng`` (not NumPy's
    global generator), and have the right distribution, variance and, if uniform, limit.
    Variances are compared within 5 standard errors of the sample variance.
    """
    if name not in _INIT_TARGETS:
        raise ValueError(f"unknown initializer {name!r}; known: {', '.join(_INIT_TARGETS)}")
    if not callable(fn):
        raise TypeError(f"pass your function itself, e.g. check_initializer(my_fn, {name!r})")
    distribution, scale, mode = _INIT_TARGETS[name]
    for fan_in, fan_out in [(400, 100), (100, 400)]:
        w = np.asarray(fn(fan_in, fan_out, np.random.default_rng(0)), dtype=np.float64)
        if w.shape != (fan_in, fan_out):
            hint = (" (that is PyTorch's (fan_out, fan_in) layout)" if w.shape == (fan_out, fan_in)
                    else "")
            raise AssertionError(f"fn({fan_in}, {fan_out}, rng) returned shape {w.shape}; "
                                 f"expected (fan_in, fan_out) = {(fan_in, fan_out)}{hint}")
        again = np.asarray(fn(fan_in, fan_out, np.random.default_rng(0)), dtype=np.float64)
        other = np.asarray(fn(fan_in, fan_out, np.random.default_rng(1)), dtype=np.float64)
        if not np.array_equal(w, again) or np.array_equal(w, other):
            raise AssertionError("draw the numbers from the rng argument (rng.uniform, "
                                 "rng.normal), not from np.random: the same generator state "
                                 "must give the same weights, different seeds different ones")
        want = _target_variance(scale, mode, fan_in, fan_out)
        got = float(np.mean(w**2))
        kurtosis_minus_1 = 0.8 if distribution == "uniform" else 2.0
        se = want * np.sqrt(kurtosis_minus_1 / w.size)
        if abs(float(w.mean())) > 5 * np.sqrt(want / w.size):
            raise AssertionError(f"the weights should have mean 0, got {w.mean():.3g}")
        if abs(got - want) > 5 * se:
            hints = []
            for wrong_mode in ("fan_in", "fan_out", "fan_avg"):
                for wrong_scale in (1.0, 2.0, 3.0, 6.0, 2.0 / 3.0):
                    guess = _target_variance(wrong_scale, wrong_mode, fan_in, fan_out)
                    if abs(got - guess) <= 5 * guess * np.sqrt(kurtosis_minus_1 / w.size):
                        hints.append(f"it looks like Var[W] = {wrong_scale:g}/{wrong_mode}")
            if distribution == "uniform":
                hints.append("for U(-a, a), Var = a**2 / 3, so a = sqrt(3 * Var)")
            raise AssertionError(
                f"for fan_in={fan_in}, fan_out={fan_out} the variance should be "
                f"{scale:g}/{mode} = {want:.4g}, yours is {got:.4g}"
                + (f" ({'; '.join(hints)})" if hints else ""))
        centred = w - w.mean()
        kurtosis = float(np.mean(centred**4) / np.mean(centred**2) ** 2)
        if distribution == "uniform":
            if kurtosis > 2.2:
                raise AssertionError(f"{name} is uniform, but your values have kurtosis "
                                     f"{kurtosis:.2f} (uniform: 1.8, normal: 3)")
            limit = np.sqrt(3 * want)
            if np.abs(w).max() > limit * (1 + 1e-9):
                raise AssertionError(f"values beyond the limit sqrt(3 * Var) = {limit:.4g}: "
                                     f"max |w| = {np.abs(w).max():.4g}")
        elif kurtosis < 2.6:
            raise AssertionError(f"{name} is a normal distribution, but your values have "
                                 f"kurtosis {kurtosis:.2f} (uniform: 1.8, normal: 3)")
    print(f"Correct: {name} has the right shape, distribution and variance ({scale:g}/{mode}), "
          "and draws from rng.")


def check_output_logit_std(answers) -> None:
    """The standard deviation of the logits of a 1000 -> 10 output layer at initialization,
    for inputs with mean square E[a^2] = 1 and zero biases, as a dict with the keys
    "glorot_uniform", "he_normal", "lecun_normal" and "zeros"."""
    fan_in, fan_out = 1000, 10
    want = {"glorot_uniform": np.sqrt(fan_in * 2 / (fan_in + fan_out)),
            "he_normal": np.sqrt(fan_in * 2 / fan_in),
            "lecun_normal": np.sqrt(fan_in * 1 / fan_in),
            "zeros": 0.0}
    if not isinstance(answers, dict) or set(answers) != set(want):
        raise AssertionError(f"answer with a dict with the keys {sorted(want)}")
    for key, value in answers.items():
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
            raise AssertionError(f"answers[{key!r}] must be a number, got {value!r}")
        if not np.isclose(value, want[key], rtol=1e-3, atol=1e-9):
            hint = ""
            if want[key] > 0 and np.isclose(value, want[key] ** 2, rtol=1e-3):
                hint = " That is the variance; take its square root."
            elif want[key] > 0 and np.isclose(value, want[key] / np.sqrt(fan_in), rtol=1e-3):
                hint = (" That is the weights' standard deviation; a logit sums 1000 "
                        "products, so its variance is fan_in * Var[W] * E[a^2].")
            raise AssertionError(f"{key}: the logit standard deviation is not {value:.4g}.{hint}")
    print("Correct: Var[logit] = fan_in * Var[W] * E[a^2]: "
          + ", ".join(f"{k} {v:.3f}" for k, v in want.items()) + ".")


# --- optimizers and the learning rate -----------------------------------------------------

STABILITY_HESSIAN = np.array([[3.0, 2.0], [2.0, 6.0]])  # the exercise's quadratic


def _adam_reference(gradient: Callable, x0: np.ndarray, steps: int, lr: float, beta1: float,
                    beta2: float, eps: float, variant: str = "correct") -> np.ndarray:
    """Adam iterates, right or with one of the usual mistakes (for the diagnosis)."""
    p, m, v = x0.copy(), np.zeros_like(x0), np.zeros_like(x0)
    path = [p.copy()]
    for t in range(1, steps + 1):
        g = gradient(p)
        if variant == "accumulating":
            m += beta1 * m + (1 - beta1) * g
            v += beta2 * v + (1 - beta2) * g * g
        else:
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g * g
        k = t + 1 if variant == "t_plus_one" else t
        c1, c2 = 1 - beta1**k, 1 - beta2**k
        if variant == "no_correction":
            p = p - lr * m / (np.sqrt(v) + eps)
        elif variant == "epsilon_hat":
            p = p - lr * np.sqrt(c2) / c1 * m / (np.sqrt(v) + eps)
        elif variant == "eps_inside_sqrt":
            p = p - lr * (m / c1) / np.sqrt(v / c2 + eps)
        else:
            p = p - lr * (m / c1) / (np.sqrt(v / c2) + eps)
        path.append(p.copy())
    return np.array(path)


_ADAM_HINTS = {
    "no_correction": "your steps are Adam without bias correction: divide m by (1 - beta1**t) "
                     "and v by (1 - beta2**t) before taking the step",
    "epsilon_hat": "you add eps to sqrt(v) before the bias correction (Keras' variant); here "
                   "eps is added to sqrt(v_hat), as in PyTorch and the paper's Algorithm 1",
    "eps_inside_sqrt": "eps goes outside the square root: sqrt(v_hat) + eps",
    "t_plus_one": "your bias correction is one step ahead: the first call has t = 1, and the "
                  "correction uses beta**t",
    "accumulating": "m and v are running averages: assign m = beta1 * m + (1 - beta1) * g "
                    "(and likewise v); adding to the old value makes them grow without bound",
}


def check_adam_step(fn: Callable) -> None:
    """Your ``adam_step(p, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8)``.

    It must return the new ``(p, m, v)`` after step number ``t`` (1 for the first step).
    It is run for 60 steps on the Rosenbrock function and compared, step by step, with
    :class:`utils.optimizers.Adam`, once with large gradients and default betas and once
    with tiny gradients (where eps matters) and other betas.
    """
    from utils.landscapes import Rosenbrock
    from utils.optimizers import Adam, trajectory

    if not callable(fn):
        raise TypeError("pass your function itself, e.g. check_adam_step(adam_step)")
    rb = Rosenbrock()
    x0 = np.array([-1.2, 1.0])
    settings = [("large gradients", 1.0, dict(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8)),
                ("gradients of size ~1e-8", 1e-10, dict(lr=0.01, beta1=0.8, beta2=0.99,
                                                          eps=1e-8))]
    for what, scale, hp in settings:
        def gradient(x, scale=scale):
            return scale * rb.gradient(x)

        want = trajectory(Adam(hp["lr"], beta1=hp["beta1"], beta2=hp["beta2"], eps=hp["eps"]),
                          gradient, x0, 60)
        p, m, v = x0.copy(), np.zeros(2), np.zeros(2)
        got = [p.copy()]
        for t in range(1, 61):
            out = fn(p.copy(), gradient(p), m.copy(), v.copy(), t, **hp)
            if not isinstance(out, tuple) or len(out) != 3:
                raise AssertionError("adam_step must return a tuple (p, m, v)")
            p, m, v = (np.asarray(a, dtype=float) for a in out)
            if p.shape != (2,) or m.shape != (2,) or v.shape != (2,):
                raise AssertionError(f"p, m and v must keep the parameter's shape (2,), got "
                                     f"{p.shape}, {m.shape}, {v.shape}")
            got.append(p.copy())
        got = np.array(got)
        if np.allclose(got, want, rtol=1e-9, atol=1e-12):
            continue
        for variant, hint in _ADAM_HINTS.items():
            wrong = _adam_reference(gradient, x0, 60, hp["lr"], hp["beta1"], hp["beta2"],
                                    hp["eps"], variant)
            if np.allclose(got, wrong, rtol=1e-9, atol=1e-12):
                raise AssertionError(f"with {what}: {hint}.")
        bad = int(np.flatnonzero(~np.isclose(got, want, rtol=1e-9, atol=1e-12).all(axis=1))[0])
        raise AssertionError(f"with {what}: first difference after step {bad}: expected "
                             f"p = {want[bad]}, got {got[bad]}")
    print("Correct: 60 steps match utils.optimizers.Adam with large and with tiny gradients.")


def check_max_stable_lr(answer, hessian=None) -> None:
    """The largest learning rate for which gradient descent on ``f(x) = 1/2 x^T H x``
    converges from every start (the supremum of the stable learning rates)."""
    H = STABILITY_HESSIAN if hessian is None else np.asarray(hessian, dtype=float)
    if isinstance(answer, bool) or not isinstance(answer, (int, float, np.floating, np.integer)):
        raise AssertionError(f"answer with a number, got {answer!r}")
    lam = np.linalg.eigvalsh(H)
    want = 2.0 / lam[-1]
    answer = float(answer)
    if abs(answer - want) <= 1e-6 * want:
        print(f"Correct: lambda_max = {lam[-1]:.4g}, so gradient descent is stable for "
              f"lr < 2 / lambda_max = {want:.4g}.")
        return
    near = {
        1.0 / lam[-1]: "that learning rate removes the steep component in one step, but "
                       "gradient descent stays stable up to twice that",
        2.0 / lam[0]: "stability is limited by the largest eigenvalue, not the smallest",
        2.0 / (lam[0] + lam[-1]): "that is the learning rate with the fastest worst-case "
                                  "convergence, not the limit of stability",
        2.0 / np.diag(H).max(): "the diagonal entries of H are not its eigenvalues "
                                "(H is not diagonal)",
    }
    for value, hint in near.items():
        if abs(answer - value) <= 1e-6 * value:
            raise AssertionError(f"{answer:.4g} is not it: {hint}.")
    direction = "diverges" if answer > want else "still converges above it"
    raise AssertionError(f"{answer:.4g} is not the limit: gradient descent {direction}. "
                         "Compute the eigenvalues of H (np.linalg.eigvalsh).")


# --- activation functions ------------------------------------------------------------------

def check_softplus(fn: Callable) -> None:
    """Your softplus, log(1 + e^x), accurate and finite for |x| up to 1000."""
    _check_elementwise(fn, activations.softplus, "softplus(x)", rtol=1e-9, atol=1e-12)


def check_elu_prime(fn: Callable) -> None:
    """Your derivative of ELU with alpha = 1 (use the left derivative, 1, at x = 0)."""
    _check_elementwise(fn, activations.elu_prime, "elu'(x)")


def check_dead_units(fn: Callable) -> None:
    """Your ``dead_units(z)``: given the pre-activations ``z`` of a ReLU layer for a batch
    (shape (examples, units)), return a boolean array with one entry per unit, True where
    the unit outputs 0 for every example (and so passes no gradient for any of them)."""
    if not callable(fn):
        raise TypeError("pass your function itself, e.g. check_dead_units(dead_units)")
    rng = np.random.default_rng(7)
    z = rng.normal(size=(200, 12))
    z[:, [1, 4, 9]] = -np.abs(z[:, [1, 4, 9]])  # negative for every example: dead
    z[:, 6] = -np.abs(z[:, 6])
    z[::3, 6] = 0.0  # zero or negative: dead too, since ReLU'(0) = 0
    z[:, 2] = -np.abs(z[:, 2])
    z[17, 2] = 0.5  # active on one example: alive
    want = np.all(z <= 0, axis=0)
    got = np.asarray(fn(z.copy()))
    if got.shape != want.shape:
        hint = (" (one entry per example: reduce over axis 0, the examples)"
                if got.shape == (z.shape[0],) else "")
        raise AssertionError(f"expected one entry per unit, shape {want.shape}, got "
                             f"{got.shape}{hint}")
    if got.dtype != np.bool_:
        raise AssertionError(f"return a boolean mask, got dtype {got.dtype}")
    if not np.array_equal(got, want):
        wrong = np.flatnonzero(got != want)
        hints = {2: "unit 2 is active on one example, so it is alive",
                 6: "unit 6 has inputs that are exactly 0 or negative: ReLU outputs 0 and "
                    "passes no gradient, so it is dead"}
        hint = next((hints[i] for i in wrong if i in hints), "")
        raise AssertionError(f"wrong for units {wrong.tolist()}. {hint}".rstrip())
    print(f"Correct: units {np.flatnonzero(want).tolist()} of 12 are dead.")


# --- SELU and self-normalization ------------------------------------------------------------

def check_selu(fn: Callable) -> None:
    """Your SELU, with lambda ~ 1.0507 and alpha ~ 1.6733 to full double precision."""
    _check_elementwise(fn, activations.selu, "selu(x)", rtol=1e-12, atol=1e-12)


def check_selu_prime(fn: Callable) -> None:
    """Your derivative of SELU (the left derivative, lambda * alpha, at x = 0)."""
    _check_elementwise(fn, activations.selu_prime, "selu'(x)", rtol=1e-12, atol=1e-12)


def check_alpha_dropout_params(fn: Callable) -> None:
    """Your ``alpha_dropout_params(rate)``, returning AlphaDropout's ``(a, b)``: kept units
    become a * x + b, dropped ones a * alpha' + b, with alpha' = -lambda * alpha."""
    from utils.self_normalization import alpha_dropout_params

    if not callable(fn):
        raise TypeError("pass your function itself")
    for rate in (0.05, 0.1, 0.2, 0.5):
        want_a, want_b, alpha_p = alpha_dropout_params(rate)
        out = fn(rate)
        if not isinstance(out, tuple) or len(out) != 2:
            raise AssertionError("return a tuple (a, b)")
        a, b = (float(v) for v in out)
        if np.isclose(a, want_a, rtol=1e-9) and np.isclose(b, want_b, rtol=1e-9):
            continue
        hint = ""
        if np.isclose(a, 1 / (1 - rate), rtol=1e-9):
            hint = (" 1/(1 - rate) is ordinary dropout's scaling; AlphaDropout must also "
                    "undo the variance that the value alpha' adds.")
        elif np.isclose(b, -want_b, rtol=1e-9):
            hint = " b has the wrong sign: dropped units sit at alpha' < 0, so b > 0."
        raise AssertionError(f"rate={rate}: expected a = {want_a:.6g}, b = {want_b:.6g}; got "
                             f"a = {a:.6g}, b = {b:.6g}.{hint}")
    print("Correct: (a, b) restore mean 0 and variance 1 for every rate tried.")


# --- gradient clipping ---------------------------------------------------------------------


def _as_array_list(answer, what: str) -> list[np.ndarray]:
    if isinstance(answer, np.ndarray) or not isinstance(answer, (list, tuple)):
        raise AssertionError(f"{what}: answer with a list of arrays, one per parameter array")
    try:
        return [np.asarray(a, dtype=np.float64) for a in answer]
    except (TypeError, ValueError) as exc:
        raise AssertionError(f"{what}: could not read your answer as arrays ({exc})") from None


def _same(answer: list[np.ndarray], want: list[np.ndarray], atol: float, rtol: float) -> bool:
    return len(answer) == len(want) and all(
        a.shape == w.shape and np.allclose(a, w, rtol=rtol, atol=atol)
        for a, w in zip(answer, want, strict=True))


def check_clip_by_global_norm(fn: Callable) -> None:
    """Your ``clip_by_global_norm(grads, max_norm)``: it takes a list of gradient arrays and
    returns the list of clipped arrays (returning ``(clipped, norm)`` is fine too).

    Tried on gradients above and below the threshold, and on a zero gradient. All arrays
    must be scaled by one common factor, never scaled up, and the input left unchanged.
    """
    from utils import clipping

    if not callable(fn):
        raise TypeError("pass your function itself, e.g. check_clip_by_global_norm(my_fn)")
    rng = np.random.default_rng(7)
    cases = [
        ([np.array([3.0, -4.0]), np.array([12.0])], 4.5),  # norm 13: all scaled by 4.5/13
        ([rng.normal(size=(4, 3)), rng.normal(size=3), 5 * rng.normal(size=2)], 1.0),
        ([0.01 * rng.normal(size=(4, 3)), 0.01 * rng.normal(size=3)], 1.0),  # below: as is
        ([np.zeros((2, 2)), np.zeros(1)], 1.0),  # zero: stays zero, no 0/0
    ]
    for grads, c in cases:
        before = [g.copy() for g in grads]
        with np.errstate(all="ignore"):
            out = fn(grads, c)
        if isinstance(out, tuple) and len(out) == 2 and np.ndim(out[1]) == 0:
            out = out[0]
        out = _as_array_list(out, "clip_by_global_norm")
        if not all(np.array_equal(g, b) for g, b in zip(grads, before, strict=True)):
            raise AssertionError("the input gradients were modified in place: return new arrays")
        want, norm = clipping.clip_by_global_norm(before, c)
        # 1e-6 relative: PyTorch's clip_grad_norm_ adds 1e-6 to the norm, and that is fine
        if _same(out, want, atol=1e-12, rtol=1e-6):
            continue
        if len(out) != len(want) or any(o.shape != w.shape for o, w in zip(out, want, strict=True)):
            raise AssertionError("return one array per input array, each of the same shape")
        if any(not np.isfinite(o).all() for o in out):
            raise AssertionError("your result contains NaN or inf: a zero gradient must stay "
                                 "zero (do not divide by a norm of 0)")
        if _same(out, clipping.clip_by_norm(before, c), atol=1e-12, rtol=1e-6):
            raise AssertionError("each array was clipped to the threshold on its own (that is "
                                 "Keras' clipnorm, per variable); global-norm clipping scales "
                                 "all arrays by one common factor")
        got = clipping.global_norm(out)
        if norm <= c and abs(got - c) <= 1e-6 * c:
            raise AssertionError(f"the gradient's norm {norm:.3g} was already below max_norm = "
                                 f"{c}, and you scaled it up to {got:.3g}: clipping only shrinks")
        if _same(out, clipping.clip_by_value(before, c), atol=1e-12, rtol=1e-6):
            raise AssertionError("that is value clipping (each component to [-c, c]); scale "
                                 "the whole gradient instead")
        raise AssertionError(f"for a gradient of global norm {norm:.4g} and max_norm = {c}, "
                             f"expected a result of norm {min(norm, c):.4g} in the same "
                             f"direction; yours has norm {got:.4g}")
    print("Correct: one common factor min(1, max_norm / norm) for all arrays, on all "
          f"{len(cases)} cases.")


def check_clipped_vectors(value, norm, global_norm) -> None:
    """Predict, by hand, the three clipped versions of the gradient
    ``[array([3., -4.]), array([12.])]`` (two parameter arrays) with threshold 4: by value,
    by norm (per array) and by global norm. Pass each as a list of two arrays; two
    decimals are enough."""
    from utils import clipping

    grads = [np.array([3.0, -4.0]), np.array([12.0])]
    want = {"value": clipping.clip_by_value(grads, 4.0),
            "norm": clipping.clip_by_norm(grads, 4.0),
            "global_norm": clipping.clip_by_global_norm(grads, 4.0)[0]}
    answers = {"value": value, "norm": norm, "global_norm": global_norm}
    for rule, answer in answers.items():
        got = _as_array_list(answer, rule)
        if _same(got, want[rule], atol=6e-3, rtol=0.0):
            continue
        hint = ""
        for other, other_want in want.items():
            if other != rule and _same(got, other_want, atol=6e-3, rtol=0.0):
                hint = f" That is what the {other!r} rule gives."
        if rule == "norm" and not hint:
            hint = " Clip [3, -4] (norm 5) and [12] (norm 12) separately, each to norm 4."
        if rule == "global_norm" and not hint:
            hint = " The norm of everything together is sqrt(9 + 16 + 144) = 13."
        raise AssertionError(f"{rule}: not quite.{hint}")
    print("Correct: value [3, -4], [4]; per array [2.4, -3.2], [4]; "
          "global [0.923, -1.231], [3.692] (the direction kept).")


# --- normalization: batch-norm backward pass and running statistics ------------------------


def check_batchnorm_backward(fn: Callable) -> None:
    """Your training-mode batch-norm backward pass ``fn(dout, x, gamma, eps)`` returning
    ``(dx, dgamma, dbeta)``, compared with central finite differences of
    ``sum(batchnorm(x) * dout)`` on three batches (one of them a batch of three)."""
    from utils.gradcheck import numerical_gradient, relative_error
    from utils.normalization import batchnorm_forward

    if not callable(fn):
        raise TypeError(f"pass your function itself, e.g. check(bn_backward), got {type(fn).__name__}")
    rng = np.random.default_rng(7)
    for m, d, eps in [(6, 4, 1e-5), (3, 3, 1e-5), (32, 5, 1e-3)]:
        x = rng.normal(2.0, 3.0, size=(m, d))
        gamma = rng.normal(1.0, 0.5, size=d)
        beta = rng.normal(size=d)
        dout = rng.normal(size=(m, d))
        args = (dout.copy(), x.copy(), gamma.copy(), eps)
        got = fn(*args)
        if not isinstance(got, (tuple, list)) or len(got) != 3:
            raise AssertionError("return the tuple (dx, dgamma, dbeta)")
        dx, dgamma, dbeta = (np.asarray(g, dtype=float) for g in got)
        for name, value, shape in [("dx", dx, (m, d)), ("dgamma", dgamma, (d,)), ("dbeta", dbeta, (d,))]:
            if value.shape != shape:
                hint = " (sum over the batch axis, axis=0)" if name != "dx" else ""
                raise AssertionError(f"{name} should have shape {shape}, got {value.shape}{hint}")

        def loss(x=x, gamma=gamma, eps=eps, beta=beta, dout=dout):
            return float(np.sum(batchnorm_forward(x, gamma, beta, eps)[0] * dout))

        numeric = [numerical_gradient(loss, p) for p in (x, gamma, beta)]
        for name, value, want in zip(("dx", "dgamma", "dbeta"), (dx, dgamma, dbeta), numeric,
                                     strict=True):
            if relative_error(value, want) > 1e-6:
                hint = ""
                if name == "dx":
                    inv = 1.0 / np.sqrt(x.var(axis=0) + eps)
                    constant_stats = dout * gamma * inv
                    no_var_path = gamma * inv / m * (m * dout - dout.sum(axis=0))
                    if relative_error(dx, constant_stats) < 1e-6:
                        hint = (" You treated the batch mean and variance as constants; both "
                                "depend on every x_i of the batch.")
                    elif relative_error(dx, no_var_path) < 1e-6:
                        hint = (" The path through the mean is there; the path through the "
                                "variance (the x_hat * sum(dout * x_hat) term) is missing.")
                raise AssertionError(f"{name} differs from the finite-difference gradient "
                                     f"(relative error {relative_error(value, want):.1e}) for a "
                                     f"batch of {m}.{hint}")
    print("Correct: dx, dgamma and dbeta match central finite differences (relative error "
          "below 1e-6) on three batches of 3 to 32 examples.")


def check_running_mean(torch_answer, keras_answer, *, steps: int = 20,
                       batch_mean: float = 5.0) -> None:
    """The running mean after ``steps`` training steps, starting from 0, when every batch
    has mean ``batch_mean``: with PyTorch's default momentum (0.1, the weight of the new
    batch) and with Keras' (0.99, the weight of the old value)."""
    answers = {}
    for name, value in (("torch_answer", torch_answer), ("keras_answer", keras_answer)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
            raise AssertionError(f"{name} should be a number, got {value!r}")
        answers[name] = float(value)
    want_torch = batch_mean * (1 - 0.9 ** steps)
    want_keras = batch_mean * (1 - 0.99 ** steps)

    def close(a, b):
        return abs(a - b) <= 1e-4 * abs(b)

    if close(answers["torch_answer"], want_keras) and close(answers["keras_answer"], want_torch):
        raise AssertionError("the two answers are swapped: Keras' default averages over more "
                             "batches, so its running mean moves more slowly")
    for name, want, wrong, hint in [
            ("torch_answer", want_torch, batch_mean * (1 - 0.1 ** steps),
             "PyTorch's momentum=0.1 is the weight of the new batch, not of the old value"),
            ("keras_answer", want_keras, batch_mean * (1 - 0.01 ** steps),
             "Keras' momentum=0.99 is the weight of the old value, not of the new batch")]:
        if close(answers[name], want):
            continue
        if close(answers[name], wrong):
            raise AssertionError(f"{name}: {hint}")
        if close(answers[name], batch_mean):
            raise AssertionError(f"{name}: the running mean starts at 0 and only approaches "
                                 f"{batch_mean:g} step by step")
        raise AssertionError(f"{name}: not quite; after k steps the estimate is "
                             "batch_mean * (1 - (1 - weight_of_new_batch)**k)")
    print(f"Correct: after {steps} steps PyTorch's running mean is {want_torch:.4g} and "
          f"Keras' is {want_keras:.4g} (of {batch_mean:g}).")


# --- training health: diagnosing a network that does not train ----------------------------


def check_saturation_fraction(fn: Callable) -> None:
    """Your ``saturation_fraction(a, kind)``: the fraction of activation values in the flat
    tails, ``|a| > 0.99`` for ``kind="tanh"`` and outside ``[0.01, 0.99]`` for
    ``kind="sigmoid"`` (the bounds themselves are not saturated)."""
    from utils.health import saturation_fraction

    if not callable(fn):
        raise TypeError(f"pass your function itself, e.g. check(saturation_fraction), got "
                        f"{type(fn).__name__}")
    rng = np.random.default_rng(3)
    edges = np.array([0.99, -0.99, 0.01, 0.5, 0.995, -0.995, 0.005, 0.999999])
    cases = {
        "tanh": [np.tanh(rng.normal(0, 2, size=(50, 8))), edges.reshape(2, 4)],
        "sigmoid": [1 / (1 + np.exp(-rng.normal(0, 4, size=(50, 8)))),
                    np.abs(edges).reshape(4, 2)],
    }
    for kind, arrays in cases.items():
        for a in arrays:
            got = fn(a.copy(), kind)
            if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, float, np.number)):
                raise AssertionError(f"return one number (a fraction), got {type(got).__name__}")
            want = saturation_fraction(a, kind)
            if abs(float(got) - want) > 1e-12:
                count = want * a.size
                hint = ""
                if abs(float(got) - count) < 1e-9:
                    hint = " You returned a count; divide by the number of values."
                elif kind == "tanh" and abs(float(got) - np.mean(a > 0.99)) < 1e-12:
                    hint = " tanh saturates at both ends: use the absolute value."
                elif kind == "sigmoid" and abs(float(got) - np.mean(np.abs(a) > 0.99)) < 1e-12:
                    hint = " The sigmoid's lower tail is near 0, not near -1."
                elif abs(float(got) - np.mean((a <= 0.01) | (a >= 0.99))) < 1e-12 or \
                        abs(float(got) - np.mean(np.abs(a) >= 0.99)) < 1e-12:
                    hint = " The bounds 0.01 and 0.99 themselves are not saturated (use < and >)."
                raise AssertionError(f"{kind}: expected {want:.4g} on an array of shape "
                                     f"{a.shape}, got {float(got):.4g}.{hint}")
    print("Correct: your saturation fraction matches the toolkit's for tanh and the sigmoid, "
          "including values exactly on the bounds.")


# --- GAN case study: comparing sample sets ------------------------------------------------


def check_wasserstein_1d(fn: Callable) -> None:
    """Your ``fn(u, v)``: the Wasserstein-1 distance between two 1-D samples of equal size.

    Compared with :func:`utils.gan.wasserstein_1d` on unsorted samples of different
    shapes and scales; the inputs must not be modified.
    """
    from utils.gan import wasserstein_1d

    if not callable(fn):
        raise TypeError(f"pass your function itself, e.g. check(my_w1), got {type(fn).__name__}")
    rng = np.random.default_rng(11)
    cases = [(rng.standard_normal(200), 1.5 + 0.5 * rng.standard_normal(200)),
             (rng.exponential(size=50), rng.uniform(-1, 1, size=50)),
             (np.array([3.0, 1.0, 2.0]), np.array([2.0, 3.0, 1.0])),  # same values, shuffled
             (rng.standard_normal(100), rng.standard_normal(100) - 0.2)]
    for u, v in cases:
        u_in, v_in = u.copy(), v.copy()
        got = fn(u_in, v_in)
        if not np.array_equal(u_in, u) or not np.array_equal(v_in, v):
            raise AssertionError("your function changed its input arrays (sorting in place?); "
                                 "use np.sort(u), which returns a sorted copy")
        if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, float, np.number)):
            raise AssertionError(f"return one number, got {type(got).__name__}")
        got = float(got)
        want = wasserstein_1d(u, v)
        if abs(got - want) <= 1e-9 * max(1.0, want):
            continue
        su, sv = np.sort(u), np.sort(v)
        hint = ""
        if abs(got - np.mean(np.abs(u - v))) < 1e-9:
            hint = " You paired the values in the order given: sort both samples first."
        elif abs(got - np.mean((su - sv) ** 2)) < 1e-9 or abs(got - np.sqrt(np.mean((su - sv) ** 2))) < 1e-9:
            hint = (" That is a squared (W2-type) cost: W1 averages the absolute differences, "
                    "do not square them.")
        elif abs(got - abs(np.mean(su - sv))) < 1e-9 or abs(got - np.mean(su - sv)) < 1e-9:
            hint = (" Without the absolute value, positive and negative differences cancel "
                    "(you get the difference of the means).")
        elif abs(got - np.sum(np.abs(su - sv))) < 1e-9:
            hint = " Take the mean of the absolute differences, not their sum."
        raise AssertionError(f"on samples of size {len(u)} expected {want:.6g}, got {got:.6g}."
                             f"{hint}")
    print("Correct: your W1 matches the exact distance on four pairs of samples, "
          "including two shuffled copies of the same values (distance 0).")


def check_gan_equilibrium_losses(discriminator_loss, generator_loss) -> None:
    """The two losses of :func:`utils.gan.train_gans` when D(x) = 1/2 for every input.

    Discriminator: -log D(x) - log(1 - D(G(z))) (two terms, real and fake);
    generator (non-saturating): -log D(G(z)).
    """
    for name, value in (("discriminator_loss", discriminator_loss),
                        ("generator_loss", generator_loss)):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
            raise AssertionError(f"{name} must be a number, got {value!r}")
    d, g = float(discriminator_loss), float(generator_loss)
    if abs(d - 2 * np.log(2)) > 1e-3:
        hint = (" The discriminator's loss has two terms, -log(1/2) for the real batch and "
                "-log(1 - 1/2) for the fake one." if abs(d - np.log(2)) < 1e-3 else "")
        raise AssertionError(f"discriminator loss: expected {2 * np.log(2):.4f}, got {d:.4g}.{hint}")
    if abs(g - np.log(2)) > 1e-3:
        raise AssertionError(f"generator loss: expected {np.log(2):.4f}, got {g:.4g}. The "
                             "generator's loss is the single term -log D(G(z)) with D = 1/2.")
    print(f"Correct: at D = 1/2 the discriminator's loss is 2 ln 2 = {2 * np.log(2):.4f} and "
          f"the generator's ln 2 = {np.log(2):.4f}.")
