"""The initialization self-checks in utils.checks accept right answers and explain wrong ones."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from utils import checks, initializers


def student_he_uniform(fan_in, fan_out, rng):
    limit = np.sqrt(6 / fan_in)
    return rng.uniform(-limit, limit, size=(fan_in, fan_out))


@pytest.mark.parametrize("name, answer", [
    ("he_uniform", initializers.he_uniform),
    ("he_uniform", student_he_uniform),
    ("he_uniform", functools.partial(initializers.kaiming_uniform, nonlinearity="relu")),
    ("he_normal", initializers.he_normal),
    ("he_normal", functools.partial(initializers.kaiming_normal, nonlinearity="relu")),
    ("glorot_uniform", initializers.glorot_uniform),
    ("glorot_normal", initializers.glorot_normal),
    ("lecun_uniform", initializers.lecun_uniform),
    ("lecun_normal", initializers.lecun_normal),
])
def test_check_initializer_accepts_right_answers(name, answer, capsys):
    checks.check_initializer(answer, name)
    assert capsys.readouterr().out.startswith("Correct")


def uniform_with(limit_fn):
    def fn(fan_in, fan_out, rng):
        limit = limit_fn(fan_in, fan_out)
        return rng.uniform(-limit, limit, size=(fan_in, fan_out))
    return fn


def with_outlier(fan_in, fan_out, rng):
    w = student_he_uniform(fan_in, fan_out, rng)
    w[0, 0] = 2 * np.sqrt(6 / fan_in)
    return w


@pytest.mark.parametrize("answer, match", [
    (initializers.glorot_uniform, r"variance should be 2/fan_in .* looks like Var\[W\] = 1/fan_avg"),
    (initializers.he_normal, "is uniform, but your values have kurtosis"),
    (uniform_with(lambda fi, fo: np.sqrt(2 / fi)), r"a = sqrt\(3 \* Var\)"),  # std as limit
    (uniform_with(lambda fi, fo: np.sqrt(6 / fo)), r"looks like Var\[W\] = 2/fan_out"),
    (uniform_with(lambda fi, fo: 6 / fi), "variance should be"),  # no square root
    (lambda fi, fo, rng: student_he_uniform(fo, fi, rng), r"PyTorch's \(fan_out, fan_in\)"),
    (lambda fi, fo, rng: np.random.uniform(-np.sqrt(6 / fi), np.sqrt(6 / fi), (fi, fo)),  # noqa: NPY002
     "from the rng argument"),
    (lambda fi, fo, rng: student_he_uniform(fi, fo, rng) + 0.05, "mean 0"),
    (with_outlier, "beyond the limit"),
])
def test_check_initializer_rejects_plausible_mistakes(answer, match):
    with pytest.raises(AssertionError, match=match):
        checks.check_initializer(answer, "he_uniform")


def test_check_initializer_rejects_uniform_for_normal_and_bad_arguments():
    with pytest.raises(AssertionError, match="is a normal distribution"):
        checks.check_initializer(initializers.lecun_uniform, "lecun_normal")
    with pytest.raises(ValueError, match="unknown initializer"):
        checks.check_initializer(initializers.he_uniform, "kaiming")
    with pytest.raises(TypeError, match="function itself"):
        checks.check_initializer(np.zeros((3, 3)), "he_uniform")


def test_check_output_logit_std(capsys):
    right = {"glorot_uniform": np.sqrt(2000 / 1010), "he_normal": np.sqrt(2.0),
             "lecun_normal": 1.0, "zeros": 0.0}
    checks.check_output_logit_std(right)
    assert capsys.readouterr().out.startswith("Correct")
    with pytest.raises(AssertionError, match="That is the variance"):
        checks.check_output_logit_std({**right, "he_normal": 2.0})
    with pytest.raises(AssertionError, match="weights' standard deviation"):
        checks.check_output_logit_std({**right, "lecun_normal": 1 / np.sqrt(1000)})
    with pytest.raises(AssertionError, match="glorot_uniform"):  # fan_out used instead
        checks.check_output_logit_std({**right, "glorot_uniform": np.sqrt(2.0)})
    with pytest.raises(AssertionError, match="keys"):
        checks.check_output_logit_std({"he_normal": 1.41})
    with pytest.raises(AssertionError, match="must be a number"):
        checks.check_output_logit_std({**right, "zeros": "0"})
