"""utils.schedules against torch.optim.lr_scheduler and keras.optimizers.schedules.

PyTorch's schedulers update the learning rate recursively, one multiplication per step;
the closed forms here and in Keras compute it directly. Over a few hundred steps the
recursions drift by a few ulps, so schedules are compared to 1e-12 relative (measured:
below 1e-15). Keras schedules compute in the dtype of ``initial_learning_rate``: a Python
float gives float32, so the Keras schedules here get np.float64 values, and one test
pins down the float32 behaviour.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from utils import landscapes, optimizers, schedules

N = 200
STEPS = np.arange(N)
RTOL = 1e-12
f64 = np.float64


def torch_schedule(torch, make_scheduler, lr: float, n: int = N) -> np.ndarray:
    """The learning rate of each of ``n`` steps under a ``torch.optim.lr_scheduler``."""
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    scheduler = make_scheduler(opt)
    lrs = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any scheduler warning fails the test
        for _ in range(n):
            lrs.append(opt.param_groups[0]["lr"])
            opt.step()
            scheduler.step()
    return np.array(lrs)


def keras_schedule(schedule, n: int = N) -> np.ndarray:
    return np.array([float(schedule(k)) for k in range(n)])


def test_step_decay(torch, keras):
    ours = schedules.step_decay(STEPS, 0.1, step_size=30, gamma=0.5)
    sched = torch.optim.lr_scheduler
    theirs_t = torch_schedule(torch, lambda o: sched.StepLR(o, step_size=30, gamma=0.5), 0.1)
    theirs_k = keras_schedule(keras.optimizers.schedules.ExponentialDecay(
        f64(0.1), decay_steps=30, decay_rate=f64(0.5), staircase=True))
    np.testing.assert_allclose(ours, theirs_t, rtol=RTOL)
    np.testing.assert_allclose(ours, theirs_k, rtol=RTOL)
    assert ours[29] == 0.1 and ours[30] == 0.05 and ours[-1] == 0.1 * 0.5**6


def test_cosine_decay_and_what_happens_after_the_end(torch, keras):
    T = 80
    ours = schedules.cosine_decay(STEPS, 0.1, decay_steps=T, lr_min=0.002)
    theirs_t = torch_schedule(torch, lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(
        o, T_max=T, eta_min=0.002), 0.1)
    theirs_k = keras_schedule(keras.optimizers.schedules.CosineDecay(
        f64(0.1), decay_steps=T, alpha=f64(0.02)))
    np.testing.assert_allclose(ours, theirs_k, rtol=RTOL)  # Keras stays at lr_min after T
    np.testing.assert_allclose(ours[:T + 1], theirs_t[:T + 1], rtol=RTOL)
    assert ours[T] == pytest.approx(0.002) and np.all(ours[T:] == ours[T])
    # PyTorch's CosineAnnealingLR keeps following the cosine: back to lr after 2 T
    assert theirs_t[2 * T] == pytest.approx(0.1, rel=1e-12)
    assert theirs_t[T + 20] > 5 * ours[T + 20]


def test_linear_warmup(torch):
    ours = schedules.linear_warmup(STEPS, 0.1, warmup_steps=25, start_lr=0.1 / 40)
    theirs = torch_schedule(torch, lambda o: torch.optim.lr_scheduler.LinearLR(
        o, start_factor=1 / 40, total_iters=25), 0.1)
    np.testing.assert_allclose(ours, theirs, rtol=RTOL)
    assert ours[0] == 0.1 / 40 and ours[25] == 0.1 and ours[-1] == 0.1


def test_warmup_then_cosine(torch, keras):
    W, T = 20, 150
    ours = schedules.warmup_cosine(STEPS, 0.1, warmup_steps=W, decay_steps=T, start_lr=0.002,
                                   lr_min=0.001)
    sched = torch.optim.lr_scheduler
    theirs_t = torch_schedule(torch, lambda o: sched.SequentialLR(o, [
        sched.LinearLR(o, start_factor=0.02, total_iters=W),
        sched.CosineAnnealingLR(o, T_max=T, eta_min=0.001)], milestones=[W]), 0.1)
    theirs_k = keras_schedule(keras.optimizers.schedules.CosineDecay(
        f64(0.002), decay_steps=T, alpha=f64(0.01), warmup_target=f64(0.1), warmup_steps=W))
    np.testing.assert_allclose(ours[:W + T + 1], theirs_t[:W + T + 1], rtol=RTOL)
    np.testing.assert_allclose(ours, theirs_k, rtol=RTOL)
    assert ours[0] == 0.002 and ours[W] == 0.1 and ours.argmax() == W


def test_keras_schedules_compute_in_float32_for_python_floats(keras):
    ours = schedules.cosine_decay(STEPS, 0.1, decay_steps=50)
    float32 = keras_schedule(keras.optimizers.schedules.CosineDecay(0.1, decay_steps=50))
    gap = np.max(np.abs(float32 - ours) / 0.1)
    assert 1e-10 < gap < 1e-6


def test_scalar_steps_give_floats_and_arrays_give_arrays():
    assert isinstance(schedules.cosine_decay(3, 0.1, 10), float)
    assert schedules.cosine_decay(np.array([0, 10]), 0.1, 10).tolist() == [0.1, 0.0]
    assert schedules.warmup_cosine(0, 1.0, 5, 10) == 0.0
    assert schedules.warmup_cosine(5, 1.0, 5, 10) == 1.0


@pytest.mark.parametrize("call, error, message", [
    (lambda: schedules.step_decay(-1, 0.1, 10), ValueError, "step must be >= 0"),
    (lambda: schedules.step_decay(np.array([0, -2]), 0.1, 10), ValueError, "step must be >= 0"),
    (lambda: schedules.step_decay(1.5, 0.1, 10), TypeError, "integer"),
    (lambda: schedules.step_decay(1, -0.1, 10), ValueError, "lr must be > 0"),
    (lambda: schedules.step_decay(1, 0.1, 0), ValueError, "step_size"),
    (lambda: schedules.step_decay(1, 0.1, 10, gamma=1.5), ValueError, "gamma"),
    (lambda: schedules.cosine_decay(1, 0.1, 10, lr_min=0.2), ValueError, "lr_min"),
    (lambda: schedules.linear_warmup(1, 0.1, 0), ValueError, "warmup_steps"),
])
def test_bad_schedule_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


# --- the learning-rate range test ---------------------------------------------------------

def noisy_quadratic_step(q: landscapes.Quadratic, x0, rng):
    """train_step(lr) for SGD on a quadratic with gradient noise, like minibatch noise
    (without it the steep direction has converged to ~1e-30 before the lr gets large, and
    the divergence needs many steps to surface)."""
    x = x0.copy()

    def train_step(lr):
        nonlocal x
        x = x - lr * (q.gradient(x) + rng.normal(scale=0.1, size=x.shape))
        return float(q.value(x))

    return train_step


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_range_test_finds_the_divergence_threshold_of_a_quadratic(seed):
    q = landscapes.Quadratic.ill_conditioned(1.0, 50.0, angle_degrees=10)
    step = noisy_quadratic_step(q, np.array([1.0, 1.0]), np.random.default_rng(seed))
    result = schedules.lr_range_test(step, lr_min=1e-4, lr_max=10.0, num_steps=200)
    assert result.diverged
    # it stops after the learning rate passes 2 / lambda_max, within a factor of 2; the
    # smoothed loss lags, so its minimum can lie above the threshold, its tenth does not
    assert q.max_stable_lr < result.lrs[-1] < 2 * q.max_stable_lr
    assert result.suggestion == result.best_lr / 10 < q.max_stable_lr / 2
    assert len(result.lrs) == len(result.losses) == len(result.smoothed) < 200


def test_range_test_smoothing_is_a_bias_corrected_average():
    losses = iter([4.0, 2.0, 3.0, 1.0])
    result = schedules.lr_range_test(lambda lr: next(losses), lr_min=0.1, lr_max=1.0,
                                     num_steps=4, smoothing=0.5)
    expected, avg = [], 0.0
    for k, loss in enumerate([4.0, 2.0, 3.0, 1.0]):
        avg = 0.5 * avg + 0.5 * loss
        expected.append(avg / (1 - 0.5 ** (k + 1)))
    np.testing.assert_allclose(result.smoothed, expected)
    assert not result.diverged and result.best_lr == 1.0
    np.testing.assert_allclose(result.lrs, np.geomspace(0.1, 1.0, 4))


def test_range_test_on_a_network_matches_the_optimizer_it_tests():
    """A run of the test is ordinary training with a rising lr: SGD's lr really changes."""
    q = landscapes.Quadratic.ill_conditioned(1.0, 4.0)
    x = np.array([1.0, 1.0])
    opt = optimizers.SGD(1.0)
    seen = []

    def train_step(lr):
        opt.lr = lr
        seen.append(opt.lr)
        opt.step(x, q.gradient(x))
        return float(q.value(x))

    result = schedules.lr_range_test(train_step, lr_min=1e-3, lr_max=1.0, num_steps=30)
    np.testing.assert_allclose(seen, result.lrs)


def test_range_test_errors():
    with pytest.raises(ValueError, match="lr_max"):
        schedules.lr_range_test(lambda lr: 1.0, lr_min=1.0, lr_max=0.5, num_steps=10)
    with pytest.raises(ValueError, match="first step"):
        schedules.lr_range_test(lambda lr: float("nan"), lr_min=0.1, lr_max=1.0, num_steps=10)
    with pytest.raises(ValueError, match="diverge_factor"):
        schedules.lr_range_test(lambda lr: 1.0, lr_min=0.1, lr_max=1.0, num_steps=10,
                                diverge_factor=1.0)
    with pytest.raises(ValueError, match="at least 2"):
        schedules.lr_range_test(lambda lr: 1.0, lr_min=0.1, lr_max=1.0, num_steps=1)
