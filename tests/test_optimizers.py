"""utils.optimizers against torch.optim and keras.optimizers, step by step, and the differences.

Every NumPy update rule is run for 60 steps from the same start on the same loss (a
small tanh network on random data, gradients from utils.nets.numpy_mlp, which test_mlp.py checks
against both frameworks) next to the framework's optimizer; the two trajectories must
agree to TRAJ_RTOL. Everything is float64. The arithmetic is the same up to the order of
operations, and the measured disagreement is below 1e-14 relative; 1e-10 leaves room for
other BLAS builds and CPUs while an epsilon in the wrong place (a 1e-8 change in a
gradient of size ~0.1, i.e. ~1e-7 relative) or any wrong term is caught, as the
"difference" tests below show.

Keras stores the learning rate in a float32 variable and casts Python-float
hyperparameters (momentum, betas, weight decay) through float32; the Keras runs pass
hyperparameters as np.float64 and the NumPy side uses keras_lr(lr), and two tests pin
down what happens otherwise.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from utils import landscapes, optimizers
from utils.framework_optimizers import keras_lr, keras_trajectory, torch_trajectory
from utils.gradcheck import numerical_gradient
from utils.nets.numpy_mlp import MLP
from utils.optimizers import SGD, Adagrad, Adam, AdamW, Momentum, RMSprop, trajectory

STEPS = 60
TRAJ_RTOL, TRAJ_ATOL = 1e-10, 1e-12
f64 = np.float64


def mlp_problem(seed=0):
    """Start (a list of 4 arrays) and gradient function of a small tanh classifier."""
    rng = np.random.default_rng(seed)
    net = MLP.create([4, 5, 3], "tanh", rng, weight_init=0.8)
    X = rng.normal(size=(12, 4))
    y = rng.integers(0, 3, size=12)

    def gradient(params):
        model = MLP([params[0], params[2]], [params[1], params[3]], "tanh")
        _, grads = model.loss_and_gradients(X, y)
        return [g for pair in grads for g in pair]

    return [p.copy() for p in net.parameters()], gradient


def numpy_path(optimizer, steps=STEPS, **kwargs):
    x0, gradient = mlp_problem()
    return trajectory(optimizer, gradient, x0, steps, **kwargs)


def assert_same_path(ours, theirs):
    assert ours.shape == theirs.shape
    assert np.all(np.isfinite(ours))
    np.testing.assert_allclose(ours, theirs, rtol=TRAJ_RTOL, atol=TRAJ_ATOL)


def relative_gap(a, b) -> float:
    return float(np.max(np.abs(a - b)) / np.max(np.abs(a)))


# --- against PyTorch ---------------------------------------------------------------------

TORCH_CASES = {
    "sgd": (lambda: SGD(0.3), lambda t, ps: t.optim.SGD(ps, lr=0.3)),
    "sgd-l2": (lambda: SGD(0.3, weight_decay=0.05),
               lambda t, ps: t.optim.SGD(ps, lr=0.3, weight_decay=0.05)),
    "momentum": (lambda: Momentum(0.05, 0.9), lambda t, ps: t.optim.SGD(ps, lr=0.05, momentum=0.9)),
    "momentum-l2": (lambda: Momentum(0.05, 0.8, weight_decay=0.05),
                    lambda t, ps: t.optim.SGD(ps, lr=0.05, momentum=0.8, weight_decay=0.05)),
    "nesterov": (lambda: Momentum(0.05, 0.9, nesterov=True),
                 lambda t, ps: t.optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True)),
    "adagrad": (lambda: Adagrad(0.1), lambda t, ps: t.optim.Adagrad(ps, lr=0.1)),
    "adagrad-l2-init": (lambda: Adagrad(0.1, weight_decay=0.05, initial_accumulator_value=0.1),
                        lambda t, ps: t.optim.Adagrad(ps, lr=0.1, weight_decay=0.05,
                                                      initial_accumulator_value=0.1)),
    "rmsprop": (lambda: RMSprop(0.01), lambda t, ps: t.optim.RMSprop(ps, lr=0.01)),
    "rmsprop-momentum-l2": (lambda: RMSprop(0.005, rho=0.9, momentum=0.5, weight_decay=0.05),
                            lambda t, ps: t.optim.RMSprop(ps, lr=0.005, alpha=0.9, momentum=0.5,
                                                          weight_decay=0.05)),
    "adam": (lambda: Adam(0.01), lambda t, ps: t.optim.Adam(ps, lr=0.01)),
    "adam-betas-eps": (lambda: Adam(0.01, beta1=0.8, beta2=0.99, eps=1e-3),
                       lambda t, ps: t.optim.Adam(ps, lr=0.01, betas=(0.8, 0.99), eps=1e-3)),
    "adam-l2": (lambda: Adam(0.01, weight_decay=0.1),
                lambda t, ps: t.optim.Adam(ps, lr=0.01, weight_decay=0.1)),
    "adamw": (lambda: AdamW(0.01, weight_decay=0.1),
              lambda t, ps: t.optim.AdamW(ps, lr=0.01, weight_decay=0.1)),
    "adamw-default-decay": (lambda: AdamW(0.01), lambda t, ps: t.optim.AdamW(ps, lr=0.01)),
    "adam-decoupled-flag": (lambda: AdamW(0.01, weight_decay=0.1),
                            lambda t, ps: t.optim.Adam(ps, lr=0.01, weight_decay=0.1,
                                                       decoupled_weight_decay=True)),
}


@pytest.mark.parametrize("case", TORCH_CASES, ids=str)
def test_matches_torch_optim(case, torch):
    make_ours, make_theirs = TORCH_CASES[case]
    x0, gradient = mlp_problem()
    theirs = torch_trajectory(lambda ps: make_theirs(torch, ps), gradient, x0, STEPS)
    assert_same_path(numpy_path(make_ours()), theirs)
    assert relative_gap(theirs[0], theirs[-1]) > 1e-2  # it really moved


# --- against Keras -----------------------------------------------------------------------

def k(value: float) -> float:
    return keras_lr(value)


KERAS_CASES = {
    "sgd": (lambda: SGD(k(0.3)), lambda ko: ko.SGD(0.3)),
    "sgd-weight-decay": (lambda: SGD(k(0.3), weight_decay=0.05, decoupled_weight_decay=True),
                         lambda ko: ko.SGD(0.3, weight_decay=f64(0.05))),
    "momentum": (lambda: Momentum(k(0.05), 0.9, form="keras"),
                 lambda ko: ko.SGD(0.05, momentum=f64(0.9))),
    "momentum-weight-decay": (
        lambda: Momentum(k(0.05), 0.8, form="keras", weight_decay=0.05,
                         decoupled_weight_decay=True),
        lambda ko: ko.SGD(0.05, momentum=f64(0.8), weight_decay=f64(0.05))),
    "nesterov": (lambda: Momentum(k(0.05), 0.9, form="keras", nesterov=True),
                 lambda ko: ko.SGD(0.05, momentum=f64(0.9), nesterov=True)),
    "adagrad": (lambda: Adagrad(k(0.1), eps=1e-7, initial_accumulator_value=0.1,
                                eps_inside_sqrt=True),
                lambda ko: ko.Adagrad(0.1, initial_accumulator_value=f64(0.1))),
    "rmsprop": (lambda: RMSprop(k(0.01), rho=0.9, eps=1e-7, eps_inside_sqrt=True),
                lambda ko: ko.RMSprop(0.01)),
    "rmsprop-momentum": (lambda: RMSprop(k(0.005), rho=0.9, eps=1e-7, eps_inside_sqrt=True,
                                         momentum=0.5),
                         lambda ko: ko.RMSprop(0.005, momentum=f64(0.5))),
    "adam": (lambda: Adam(k(0.01), eps=1e-7, epsilon_hat=True),
             lambda ko: ko.Adam(0.01, beta_1=f64(0.9), beta_2=f64(0.999))),
    "adam-betas": (lambda: Adam(k(0.01), beta1=0.8, beta2=0.99, eps=1e-3, epsilon_hat=True),
                   lambda ko: ko.Adam(0.01, beta_1=f64(0.8), beta_2=f64(0.99), epsilon=1e-3)),
    "adamw": (lambda: AdamW(k(0.01), weight_decay=0.004, eps=1e-7, epsilon_hat=True),
              lambda ko: ko.AdamW(0.01, weight_decay=f64(0.004), beta_1=f64(0.9),
                                  beta_2=f64(0.999))),
    # Keras' weight_decay is decoupled in every optimizer: Adam(weight_decay) *is* AdamW
    "adam-weight-decay-is-adamw": (
        lambda: AdamW(k(0.01), weight_decay=0.1, eps=1e-7, epsilon_hat=True),
        lambda ko: ko.Adam(0.01, weight_decay=f64(0.1), beta_1=f64(0.9), beta_2=f64(0.999))),
}


@pytest.mark.parametrize("case", KERAS_CASES, ids=str)
def test_matches_keras_optimizers(case, keras):
    make_ours, make_theirs = KERAS_CASES[case]
    x0, gradient = mlp_problem()
    theirs = keras_trajectory(make_theirs(keras.optimizers), gradient, x0, STEPS)
    assert_same_path(numpy_path(make_ours()), theirs)
    assert relative_gap(theirs[0], theirs[-1]) > 1e-2


# --- where the libraries differ, pinned down ----------------------------------------------

def test_default_hyperparameters_of_the_libraries(torch, keras):
    """Read from the libraries: an upgrade that changes a default fails here."""
    ps = [torch.zeros(1, requires_grad=True)]
    ko = keras.optimizers
    assert torch.optim.Adam(ps).defaults["eps"] == 1e-8 and ko.Adam().epsilon == 1e-7
    assert torch.optim.RMSprop(ps).defaults["alpha"] == 0.99 and ko.RMSprop().rho == 0.9
    assert torch.optim.RMSprop(ps).defaults["eps"] == 1e-8 and ko.RMSprop().epsilon == 1e-7
    adagrad = torch.optim.Adagrad(ps).defaults
    assert adagrad["eps"] == 1e-10 and adagrad["initial_accumulator_value"] == 0
    assert ko.Adagrad().epsilon == 1e-7 and ko.Adagrad().initial_accumulator_value == 0.1
    assert torch.optim.AdamW(ps).defaults["weight_decay"] == 0.01
    assert ko.AdamW().weight_decay == 0.004
    # and the NumPy defaults are PyTorch's
    assert Adam(1e-3).eps == 1e-8 and RMSprop(1e-3).rho == 0.99 and RMSprop(1e-3).eps == 1e-8
    assert Adagrad(1e-3).eps == 1e-10 and AdamW(1e-3).weight_decay == 0.01


def test_torch_adam_weight_decay_is_l2_and_keras_is_decoupled(torch, keras):
    x0, gradient = mlp_problem()
    torch_l2 = torch_trajectory(lambda ps: torch.optim.Adam(ps, lr=0.01, weight_decay=0.1),
                                gradient, x0, STEPS)
    torch_w = torch_trajectory(lambda ps: torch.optim.AdamW(ps, lr=0.01, weight_decay=0.1),
                               gradient, x0, STEPS)
    keras_adam = keras_trajectory(keras.optimizers.Adam(0.01, weight_decay=f64(0.1)),
                                  gradient, x0, STEPS)
    assert relative_gap(torch_l2, torch_w) > 1e-2  # L2 and decoupled decay really differ
    # Keras' Adam(weight_decay) is PyTorch's AdamW up to eps placement and the float32 lr
    assert relative_gap(keras_adam, torch_w) < 1e-4
    assert relative_gap(keras_adam, torch_l2) > 1e-2


def test_adam_epsilon_placement_pytorch_vs_keras():
    """eps added to sqrt(v_hat) (PyTorch) or to sqrt(v) before the correction (Keras): the
    Keras rule is the PyTorch rule with eps replaced by eps / sqrt(1 - beta2^t), 31.6 eps at
    step 1. With gradients of size ~1e-7 the first steps differ by a factor of several."""
    q = landscapes.Quadratic(np.diag([1e-6, 2e-6]))
    x0 = np.array([0.1, -0.1])
    outside = trajectory(Adam(0.01, eps=1e-7), q.gradient, x0, 50)
    hat = trajectory(Adam(0.01, eps=1e-7, epsilon_hat=True), q.gradient, x0, 50)
    step_out, step_hat = np.abs(outside[1] - x0), np.abs(hat[1] - x0)
    g = np.abs(q.gradient(x0))  # first step: lr |g| / (|g| + eps_effective)
    np.testing.assert_allclose(step_out, 0.01 * g / (g + 1e-7), rtol=1e-12)
    np.testing.assert_allclose(step_hat, 0.01 * g / (g + 1e-7 / np.sqrt(1 - 0.999)), rtol=1e-12)
    assert np.all(step_out > 5 * step_hat)


def test_keras_adam_equals_pytorch_adam_with_a_growing_epsilon():
    """Step by step: Keras' Adam with eps equals the PyTorch form with eps / sqrt(1 - b2^t)."""
    rng = np.random.default_rng(3)
    grads = rng.normal(scale=1e-6, size=(30, 3))
    p_hat, p_manual = np.zeros(3), np.zeros(3)
    keras_like = Adam(0.1, eps=1e-7, epsilon_hat=True)
    m, v = np.zeros(3), np.zeros(3)
    for t, g in enumerate(grads, start=1):
        keras_like.step(p_hat, g)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        eps_t = 1e-7 / np.sqrt(1 - 0.999**t)
        p_manual -= 0.1 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + eps_t)
        np.testing.assert_allclose(p_hat, p_manual, rtol=1e-10)


def test_momentum_forms_agree_for_constant_lr_and_differ_when_it_changes(torch, keras):
    x0, gradient = mlp_problem()
    pytorch_form = numpy_path(Momentum(0.05, 0.9))
    keras_form = numpy_path(Momentum(0.05, 0.9, form="keras"))
    assert_same_path(pytorch_form, keras_form)

    def schedule(k):  # a tenfold drop after 20 steps
        return 0.05 if k < 20 else 0.005

    torch_run = torch_trajectory(lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9),
                                 gradient, x0, STEPS, lr_schedule=schedule)
    keras_run = keras_trajectory(keras.optimizers.SGD(0.05, momentum=f64(0.9)), gradient, x0,
                                 STEPS, lr_schedule=lambda k: schedule(k))
    ours_pt = numpy_path(Momentum(0.05, 0.9), lr_schedule=schedule)
    ours_k = numpy_path(Momentum(0.05, 0.9, form="keras"),
                        lr_schedule=lambda k: keras_lr(schedule(k)))
    assert_same_path(ours_pt, torch_run)
    assert_same_path(ours_k, keras_run)
    assert relative_gap(torch_run, keras_run) > 1e-3


def test_ema_momentum_is_pytorch_momentum_with_lr_times_one_minus_mu():
    mu = 0.9
    ema = numpy_path(Momentum(0.5, mu, form="ema"))
    pytorch_form = numpy_path(Momentum(0.5 * (1 - mu), mu))
    assert_same_path(ema, pytorch_form)
    assert relative_gap(ema, numpy_path(Momentum(0.5, mu))) > 1e-2


def test_torch_dampening_is_not_the_ema_form_at_the_first_step(torch):
    """torch.optim.SGD(dampening=mu) starts its buffer at g (undamped), the EMA form at
    (1 - mu) g: the first torch step is 1 / (1 - mu) times larger."""
    x0, gradient = mlp_problem()
    mu = 0.9
    theirs = torch_trajectory(lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=mu, dampening=mu),
                              gradient, x0, 2)
    ours = numpy_path(Momentum(0.1, mu, form="ema"), steps=2)
    np.testing.assert_allclose(theirs[1] - theirs[0], (ours[1] - ours[0]) / (1 - mu),
                               rtol=1e-12, atol=1e-15)


def test_keras_keeps_lr_in_float32(keras):
    x0, gradient = mlp_problem()
    theirs = keras_trajectory(keras.optimizers.SGD(0.3), gradient, x0, STEPS)
    assert relative_gap(numpy_path(SGD(0.3)), theirs) > 1e-9  # float32(0.3) != 0.3
    assert_same_path(numpy_path(SGD(keras_lr(0.3))), theirs)
    assert keras_lr(0.3) != 0.3 and abs(keras_lr(0.3) - 0.3) / 0.3 < 2**-24


def test_keras_rounds_python_float_hyperparameters_to_float32(keras):
    x0, gradient = mlp_problem()
    theirs = keras_trajectory(keras.optimizers.SGD(0.05, momentum=0.9), gradient, x0, STEPS)
    as_float32 = numpy_path(Momentum(k(0.05), float(np.float32(0.9)), form="keras"))
    as_float64 = numpy_path(Momentum(k(0.05), 0.9, form="keras"))
    assert_same_path(as_float32, theirs)
    assert relative_gap(as_float64, theirs) > 1e-9


def test_adagrad_initial_accumulator_changes_the_first_step():
    g = np.array([0.5, -0.01])
    p_torch, p_keras = np.zeros(2), np.zeros(2)
    Adagrad(0.1).step(p_torch, g)  # PyTorch defaults: lr * sign(g)
    Adagrad(0.1, eps=1e-7, initial_accumulator_value=0.1, eps_inside_sqrt=True).step(p_keras, g)
    np.testing.assert_allclose(p_torch, -0.1 * np.sign(g), rtol=1e-7)
    np.testing.assert_allclose(p_keras, -0.1 * g / np.sqrt(0.1 + g**2 + 1e-7), rtol=1e-12)
    assert abs(p_keras[1]) < 0.05 * abs(p_torch[1])


# --- properties derived by hand ------------------------------------------------------------

def constant_gradient_steps(optimizer, g=0.3, steps=300):
    p = np.zeros(1)
    sizes = []
    for _ in range(steps):
        before = p.copy()
        optimizer.step(p, np.array([g]))
        sizes.append(float(np.abs(p - before)[0]))
    return np.array(sizes)


def test_adam_bias_correction_gives_exactly_lr_for_a_constant_gradient():
    sizes = constant_gradient_steps(Adam(0.01, eps=1e-12))
    np.testing.assert_allclose(sizes, 0.01, rtol=1e-9)


def test_adam_without_bias_correction_overshoots_as_derived():
    b1, b2 = 0.9, 0.999
    sizes = constant_gradient_steps(Adam(0.01, eps=1e-12, bias_correction=False)) / 0.01
    t = np.arange(1, len(sizes) + 1)
    derived = (1 - b1**t) / np.sqrt(1 - b2**t)
    np.testing.assert_allclose(sizes, derived, rtol=1e-8)
    assert abs(sizes[0] - 0.1 / np.sqrt(0.001)) < 1e-6  # 3.162 at step 1
    assert 6.5 < sizes.max() < 6.7 and 10 <= int(np.argmax(sizes)) + 1 <= 14


def test_momentum_terminal_step_sizes():
    mu, lr = 0.9, 0.01
    assert abs(constant_gradient_steps(Momentum(lr, mu), g=1.0)[-1] - lr / (1 - mu)) < 1e-9
    assert abs(constant_gradient_steps(Momentum(lr, mu, form="ema"), g=1.0)[-1] - lr) < 1e-9


def test_rmsprop_first_step_and_steady_state():
    sizes = constant_gradient_steps(RMSprop(0.01, rho=0.99, eps=1e-12), g=0.3, steps=2000)
    assert abs(sizes[0] - 0.01 / np.sqrt(0.01)) < 1e-9  # g / sqrt((1 - rho) g^2) = 10
    assert abs(sizes[-1] - 0.01) < 1e-9


def test_adagrad_steps_shrink_like_one_over_sqrt_t():
    sizes = constant_gradient_steps(Adagrad(0.1), g=2.0, steps=100)
    np.testing.assert_allclose(sizes, 0.1 / np.sqrt(np.arange(1, 101)), rtol=1e-9)


def test_decoupled_decay_is_not_divided_by_the_adam_denominator():
    """Zero gradient, weights w: AdamW shrinks w by lr*wd*w; Adam+L2 moves by ~lr*sign(w)."""
    w_decoupled, w_l2 = np.array([1.0, 1e-3]), np.array([1.0, 1e-3])
    zero = np.zeros(2)
    AdamW(0.01, weight_decay=0.1).step(w_decoupled, zero)
    Adam(0.01, weight_decay=0.1).step(w_l2, zero)
    np.testing.assert_allclose(w_decoupled, [1.0 - 1e-3, 1e-3 * (1 - 1e-3)], rtol=1e-12)
    np.testing.assert_allclose(w_l2, [1.0 - 0.01, 1e-3 - 0.01], rtol=1e-3)


def test_lr_array_runs_independent_problems_at_once():
    q = landscapes.Quadratic.ill_conditioned(1.0, 10.0, angle_degrees=20)
    lrs = np.array([0.01, 0.05, 0.15])
    stacked = np.tile(np.array([1.0, 2.0]), (3, 1))
    opt = Adam(lrs[:, None])
    for _ in range(40):
        opt.step(stacked, q.gradient(stacked))
    for i, lr in enumerate(lrs):
        alone = trajectory(Adam(float(lr)), q.gradient, np.array([1.0, 2.0]), 40)[-1]
        np.testing.assert_allclose(stacked[i], alone, rtol=1e-13)


# --- the helpers ------------------------------------------------------------------------

def test_create_by_name():
    assert isinstance(optimizers.create("adamw", 0.1), AdamW)
    nesterov = optimizers.create("nesterov", 0.1)
    assert isinstance(nesterov, Momentum) and nesterov.nesterov and nesterov.momentum == 0.9
    assert optimizers.create("momentum", 0.1, momentum=0.5).momentum == 0.5
    assert set(optimizers.NAMES) == {"sgd", "momentum", "nesterov", "adagrad", "rmsprop",
                                     "adam", "adamw"}
    with pytest.raises(ValueError, match="unknown optimizer 'adamax'"):
        optimizers.create("adamax", 0.1)


def test_trajectory_marks_divergence_with_nan_and_applies_schedules():
    q = landscapes.Quadratic.ill_conditioned(1.0, 20.0)
    x0 = np.array([1.0, 1.0])
    path = trajectory(SGD(1.1 * q.max_stable_lr), q.gradient, x0, 2000)
    assert np.isnan(path[-1]).all() and np.isfinite(path[1]).all()
    seen = []
    trajectory(SGD(0.01), q.gradient, x0, 5, lr_schedule=lambda k: seen.append(k) or 0.01)
    assert seen == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="num_steps"):
        trajectory(SGD(0.01), q.gradient, x0, -1)


def test_sgd_stability_threshold_is_two_over_lambda_max():
    q = landscapes.Quadratic.ill_conditioned(1.0, 20.0, angle_degrees=30)
    x0 = np.array([1.0, 1.0])
    below = trajectory(SGD(0.99 * q.max_stable_lr), q.gradient, x0, 3000)[-1]
    above = trajectory(SGD(1.01 * q.max_stable_lr), q.gradient, x0, 3000)[-1]
    assert np.linalg.norm(below) < 1e-3 and np.isnan(above).all()


def test_tune_learning_rate_picks_the_best_and_refuses_all_diverged():
    q = landscapes.Quadratic.ill_conditioned(1.0, 20.0, angle_degrees=15)
    x0 = np.array([1.0, 1.0])
    lrs = np.geomspace(1e-3, 1.0, 13)
    result = optimizers.tune_learning_rate(SGD, q.value, q.gradient, x0, 50, lrs)
    assert result.best_lr == lrs[np.argmin(result.final_values)]
    assert np.isinf(result.final_values[-1]) and result.best_lr <= q.max_stable_lr
    # each stacked run is exactly the run on its own
    for i in (0, 6):
        alone = trajectory(SGD(float(lrs[i])), q.gradient, x0, 50)
        np.testing.assert_allclose(result.paths[:, i], alone, rtol=1e-13)
        assert result.final_values[i] == pytest.approx(q.value(alone[-1]), rel=1e-12)
    np.testing.assert_array_equal(result.best_path, result.paths[:, np.argmin(result.final_values)])
    # a diverged run is NaN from the step it left the ball on, and causes no warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        wild = optimizers.tune_learning_rate(
            lambda lr: Momentum(lr, 0.9), landscapes.Rosenbrock().value,
            landscapes.Rosenbrock().gradient, np.array([-1.2, 1.0]), 300, [1e-4, 0.1])
    assert np.isnan(wild.paths[-1, 1]).all() and np.isinf(wild.final_values[1])
    with pytest.raises(ValueError, match="every learning rate diverged"):
        optimizers.tune_learning_rate(SGD, q.value, q.gradient, x0, 200, [1.0, 2.0])
    # max_loss_ratio=1: a run whose loss ever rises above its start counts as diverged
    lrs = [0.01, 0.5, 5.0]
    free = optimizers.tune_learning_rate(Adam, q.value, q.gradient, x0, 100, lrs)
    capped = optimizers.tune_learning_rate(Adam, q.value, q.gradient, x0, 100, lrs,
                                           max_loss_ratio=1.0)
    losses = q.value(free.paths)  # (steps + 1, runs)
    rose = (losses > q.value(x0)).any(axis=0)
    assert rose.tolist() == [False, False, True] and np.isfinite(free.final_values).all()
    assert np.isinf(capped.final_values[rose]).all()
    np.testing.assert_array_equal(capped.final_values[~rose], free.final_values[~rose])
    with pytest.raises(ValueError, match="positive learning rates"):
        optimizers.tune_learning_rate(SGD, q.value, q.gradient, x0, 200, [0.0, 2.0])


# --- landscapes ---------------------------------------------------------------------------

@pytest.mark.parametrize("problem", [landscapes.Rosenbrock(),
                                     landscapes.Quadratic.ill_conditioned(0.5, 30, 25)],
                         ids=["rosenbrock", "quadratic"])
def test_landscape_gradients_against_finite_differences(problem):
    x = np.array([-0.7, 1.3])
    numeric = numerical_gradient(lambda: float(problem.value(x)), x)
    np.testing.assert_allclose(problem.gradient(x), numeric, rtol=1e-7, atol=1e-8)


def test_landscapes_evaluate_grids_and_know_their_minimum():
    rb = landscapes.Rosenbrock()
    grid = np.stack(np.meshgrid(np.linspace(-2, 2, 5), np.linspace(-1, 3, 4)), axis=-1)
    assert rb.value(grid).shape == (4, 5) and rb.gradient(grid).shape == (4, 5, 2)
    assert rb.value(rb.minimum) == 0 and np.all(rb.gradient(rb.minimum) == 0)
    q = landscapes.Quadratic.ill_conditioned(2.0, 50.0, angle_degrees=40)
    np.testing.assert_allclose(q.eigenvalues, [2.0, 50.0])
    assert q.condition_number == pytest.approx(25) and q.best_lr == pytest.approx(2 / 52)


def test_landscape_input_errors():
    with pytest.raises(ValueError, match="symmetric"):
        landscapes.Quadratic([[1.0, 2.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="positive definite"):
        landscapes.Quadratic([[1.0, 0.0], [0.0, -1.0]])
    with pytest.raises(ValueError, match="lambda_max"):
        landscapes.Quadratic.ill_conditioned(5.0, 1.0)
    with pytest.raises(ValueError, match="2 coordinates"):
        landscapes.Rosenbrock().value(np.zeros(3))
    with pytest.raises(ValueError, match="b must be > 0"):
        landscapes.Rosenbrock(b=0.0)


# --- hyperparameter and input validation --------------------------------------------------

@pytest.mark.parametrize("make, message", [
    (lambda: SGD(-0.1), "lr must be >= 0"),
    (lambda: Adam(np.array([0.1, -0.1])), "lr must be >= 0"),
    (lambda: Momentum(0.1, 1.0), r"momentum must be in \[0, 1\)"),
    (lambda: Momentum(0.1, -0.1), r"momentum must be in \[0, 1\)"),
    (lambda: RMSprop(0.1, rho=1.0), r"rho must be in \[0, 1\)"),
    (lambda: Adam(0.1, beta1=1.0), r"beta1 must be in \[0, 1\)"),
    (lambda: Adam(0.1, beta2=1.5), r"beta2 must be in \[0, 1\)"),
    (lambda: Adam(0.1, beta2=-0.5), r"beta2 must be in \[0, 1\)"),
    (lambda: Adam(0.1, eps=0.0), "eps must be > 0"),
    (lambda: RMSprop(0.1, eps=-1e-8), "eps must be > 0"),
    (lambda: Adagrad(0.1, eps=0.0), "eps must be > 0"),
    (lambda: AdamW(0.1, weight_decay=-0.01), "weight_decay must be >= 0"),
    (lambda: Adagrad(0.1, initial_accumulator_value=-1.0), "initial_accumulator_value"),
    (lambda: Momentum(0.1, form="sutskever"), "form must be one of"),
    (lambda: Momentum(0.1, 0.9, form="ema", nesterov=True), "nesterov=True needs"),
    (lambda: Momentum(0.1, 0.0, nesterov=True), "nesterov=True needs"),
])
def test_bad_hyperparameters_raise_clear_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_bad_types_raise_type_errors():
    with pytest.raises(TypeError, match="lr must be a number"):
        SGD("0.1")
    with pytest.raises(TypeError, match="bias_correction must be True or False"):
        Adam(0.1, bias_correction=1)
    opt = SGD(0.1)
    with pytest.raises(ValueError, match="lr must be >= 0"):
        opt.lr = -1.0


def test_step_input_errors():
    opt = Adam(0.1)
    with pytest.raises(TypeError, match="floating-point NumPy array"):
        opt.step([[1.0, 2.0]], [np.ones(2)])
    with pytest.raises(TypeError, match="floating-point NumPy array"):
        opt.step([np.arange(3)], [np.ones(3)])
    with pytest.raises(ValueError, match="one gradient per parameter"):
        opt.step([np.zeros(2), np.zeros(3)], [np.ones(2)])
    with pytest.raises(ValueError, match=r"grads\[0\] has shape \(3,\)"):
        opt.step([np.zeros(2)], [np.ones(3)])
    opt.step([np.zeros(2)], [np.ones(2)])
    with pytest.raises(ValueError, match="create a new optimizer"):
        opt.step([np.zeros(4)], [np.ones(4)])
    assert opt.t == 1
