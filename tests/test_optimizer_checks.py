"""utils.checks for the optimizer exercises: right answers pass, the usual wrong ones fail
with a message that names the mistake."""

from __future__ import annotations

import numpy as np
import pytest

from utils import checks
from utils.landscapes import Rosenbrock
from utils.optimizers import Adam, trajectory


def adam_step(p, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def adam_step_pytorch_arrangement(p, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    """PyTorch's arithmetic: (lr / c1) * m / (sqrt(v) / sqrt(c2) + eps), in place."""
    m *= beta1
    m += (1 - beta1) * g
    v *= beta2
    v += (1 - beta2) * g * g
    denom = np.sqrt(v) / np.sqrt(1 - beta2**t) + eps
    p -= lr / (1 - beta1**t) * m / denom
    return p, m, v


def without_correction(p, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    return p - lr * m / (np.sqrt(v) + eps), m, v


def keras_epsilon(p, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    alpha = lr * np.sqrt(1 - beta2**t) / (1 - beta1**t)
    return p - alpha * m / (np.sqrt(v) + eps), m, v


def eps_inside(p, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    return p - lr * (m / (1 - beta1**t)) / np.sqrt(v / (1 - beta2**t) + eps), m, v


def one_step_ahead(p, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    return adam_step(p, g, m, v, t + 1, lr, beta1, beta2, eps)


def accumulating(p, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m = m + beta1 * m + (1 - beta1) * g
    v = v + beta2 * v + (1 - beta2) * g**2
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def hard_coded_betas(p, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    return adam_step(p, g, m, v, t, lr, 0.9, 0.999, eps)


def sign_descent(p, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    return p - lr * np.sign(g), m, v


@pytest.mark.parametrize("answer", [adam_step, adam_step_pytorch_arrangement])
def test_adam_check_accepts_right_answers(answer, capsys):
    checks.check_adam_step(answer)
    assert capsys.readouterr().out.startswith("Correct")


@pytest.mark.parametrize("answer, message", [
    (without_correction, "without bias correction"),
    (keras_epsilon, "before the bias correction"),
    (eps_inside, "outside the square root"),
    (one_step_ahead, "one step ahead"),
    (accumulating, "running averages"),
    (hard_coded_betas, "size ~1e-8: first difference after step 2"),  # step 1 is beta-free
    (sign_descent, "first difference after step 2"),
])
def test_adam_check_names_the_mistake(answer, message):
    with pytest.raises(AssertionError, match=message):
        checks.check_adam_step(answer)


def test_adam_check_rejects_bad_return_values():
    with pytest.raises(AssertionError, match="tuple"):
        checks.check_adam_step(lambda p, g, m, v, t, **kw: p)
    with pytest.raises(TypeError, match="pass your function"):
        checks.check_adam_step("adam")


def test_adam_reference_variants_agree_with_the_optimizer_classes():
    """The diagnosis uses its own references; two of them must equal utils.optimizers."""
    rb = Rosenbrock()
    x0 = np.array([-1.2, 1.0])
    for variant, opt in [("correct", Adam(0.01)),
                         ("no_correction", Adam(0.01, bias_correction=False)),
                         ("epsilon_hat", Adam(0.01, epsilon_hat=True))]:
        ref = checks._adam_reference(rb.gradient, x0, 30, 0.01, 0.9, 0.999, 1e-8, variant)
        np.testing.assert_allclose(ref, trajectory(opt, rb.gradient, x0, 30), rtol=1e-12)


def test_max_stable_lr_check(capsys):
    lam = np.linalg.eigvalsh(checks.STABILITY_HESSIAN)
    checks.check_max_stable_lr(2 / lam[-1])
    assert capsys.readouterr().out.startswith("Correct")
    checks.check_max_stable_lr(1.0, hessian=np.diag([2.0, 0.5]))
    assert capsys.readouterr().out.startswith("Correct")


@pytest.mark.parametrize("answer, message", [
    (1 / 7, "twice that"),
    (1.0, "largest eigenvalue"),
    (2 / 9, "fastest worst-case"),
    (2 / 6, "diagonal entries"),
    (0.3, "diverges"),
    (0.2, "still converges"),
    ("2/7", "a number"),
])
def test_max_stable_lr_check_explains_wrong_answers(answer, message):
    assert np.allclose(np.linalg.eigvalsh(checks.STABILITY_HESSIAN), [2.0, 7.0])
    with pytest.raises(AssertionError, match=message):
        checks.check_max_stable_lr(answer)
