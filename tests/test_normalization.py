"""Batch and layer normalization (utils.normalization) and the chapter's self-checks (the
stacked PyTorch networks the chapter trains are tested in tests/test_torch_stack.py).

Tolerances: the NumPy layers are compared with PyTorch and Keras in float64, where the
only differences are the order of floating-point operations, so 1e-12 (absolute, on
values of order 1-10) leaves a margin of about 1e4 over the observed 1e-16. Finite
differences (central, h = 1e-5) are accurate to about 1e-10 relative here; 1e-7 is the
threshold.
"""

from __future__ import annotations

import numpy as np
import pytest

from utils import checks, normalization
from utils.gradcheck import numerical_gradient, relative_error

TOL = 1e-12


def bn_loss_factory(x, gamma, beta, dout, eps=1e-5, layer="batch"):
    forward = normalization.batchnorm_forward if layer == "batch" else normalization.layernorm_forward

    def loss():
        return float(np.sum(forward(x, gamma, beta, eps)[0] * dout))

    return loss


# --- NumPy: forward, backward, finite differences -----------------------------------------


def test_batchnorm_forward_standardizes_each_feature_and_can_be_undone(rng):
    x = rng.normal(3.0, 5.0, size=(20, 4))
    out, _ = normalization.batchnorm_forward(x, np.ones(4), np.zeros(4))
    assert np.allclose(out.mean(axis=0), 0, atol=1e-12)
    assert np.allclose(out.std(axis=0), 1, atol=1e-6)
    eps = 1e-5
    undo, _ = normalization.batchnorm_forward(x, np.sqrt(x.var(axis=0) + eps), x.mean(axis=0), eps)
    assert np.allclose(undo, x, atol=1e-12)


def test_batch_of_two_normalizes_to_plus_minus_one(rng):
    out, _ = normalization.batchnorm_forward(rng.normal(size=(2, 5)) * 10, np.ones(5), np.zeros(5))
    assert np.allclose(np.abs(out), 1.0, atol=1e-4)
    assert np.allclose(out[0], -out[1])


@pytest.mark.parametrize("backward", [normalization.batchnorm_backward,
                                      normalization.batchnorm_backward_graph],
                         ids=["closed-form", "graph"])
@pytest.mark.parametrize("shape,eps", [((3, 2), 1e-5), ((7, 4), 1e-5), ((16, 3), 1e-3)])
def test_batchnorm_backward_matches_finite_differences(backward, shape, eps, rng):
    x = rng.normal(1.0, 2.0, size=shape)
    gamma, beta = rng.normal(1.0, 0.5, size=shape[1]), rng.normal(size=shape[1])
    dout = rng.normal(size=shape)
    _, cache = normalization.batchnorm_forward(x, gamma, beta, eps)
    analytic = backward(dout, cache)
    loss = bn_loss_factory(x, gamma, beta, dout, eps)
    for a, p in zip(analytic, (x, gamma, beta), strict=True):
        assert relative_error(a, numerical_gradient(loss, p)) < 1e-7


def test_graph_and_closed_form_backward_agree(rng):
    x = rng.normal(size=(9, 5))
    _, cache = normalization.batchnorm_forward(x, rng.normal(size=5), rng.normal(size=5))
    dout = rng.normal(size=(9, 5))
    for a, b in zip(normalization.batchnorm_backward(dout, cache),
                    normalization.batchnorm_backward_graph(dout, cache), strict=True):
        assert np.abs(a - b).max() < TOL


def test_batchnorm_input_gradient_sums_to_zero_so_a_bias_before_bn_gets_none(rng):
    x = rng.normal(size=(12, 3))
    _, cache = normalization.batchnorm_forward(x + 100.0, np.ones(3), np.zeros(3))
    dx, _, _ = normalization.batchnorm_backward(rng.normal(size=(12, 3)), cache)
    assert np.abs(dx.sum(axis=0)).max() < 1e-12
    shifted, _ = normalization.batchnorm_forward(x + 100.0, np.ones(3), np.zeros(3))
    plain, _ = normalization.batchnorm_forward(x, np.ones(3), np.zeros(3))
    assert np.abs(shifted - plain).max() < 1e-10


@pytest.mark.parametrize("shape", [(1, 5), (4, 6)])
def test_layernorm_backward_matches_finite_differences(shape, rng):
    x = rng.normal(1.0, 2.0, size=shape)
    gamma, beta = rng.normal(1.0, 0.5, size=shape[1]), rng.normal(size=shape[1])
    dout = rng.normal(size=shape)
    _, cache = normalization.layernorm_forward(x, gamma, beta)
    loss = bn_loss_factory(x, gamma, beta, dout, layer="layer")
    for a, p in zip(normalization.layernorm_backward(dout, cache), (x, gamma, beta), strict=True):
        assert relative_error(a, numerical_gradient(loss, p)) < 1e-7


def test_layernorm_does_not_depend_on_the_batch(rng):
    x = rng.normal(size=(5, 6))
    g, b = rng.normal(size=6), rng.normal(size=6)
    together = normalization.layernorm_forward(x, g, b)[0]
    alone = np.concatenate([normalization.layernorm_forward(r[None], g, b)[0] for r in x])
    crowd = normalization.layernorm_forward(np.vstack([x, 50 * rng.normal(size=(30, 6))]), g, b)[0]
    assert np.array_equal(together, alone) and np.array_equal(together, crowd[:5])


def test_batchnorm_layer_training_and_inference_modes(rng):
    layer = normalization.BatchNorm(3, momentum=0.5)
    x = rng.normal(2.0, 3.0, size=(6, 3))
    layer.forward(x)
    assert np.allclose(layer.running_mean, 0.5 * x.mean(axis=0))
    assert np.allclose(layer.running_var, 0.5 + 0.5 * x.var(axis=0, ddof=1))
    before = (layer.running_mean.copy(), layer.running_var.copy())
    single = layer.eval()(x[:1])  # one example is fine in inference mode, and changes nothing
    assert np.allclose(single, (x[:1] - before[0]) / np.sqrt(before[1] + layer.eps))
    assert np.array_equal(layer.running_mean, before[0]) and np.array_equal(layer.running_var, before[1])


def test_momentum_none_is_the_plain_average_of_unbiased_batch_variances(rng):
    layer = normalization.BatchNorm(2, momentum=None)
    batches = [rng.normal(size=(5, 2)) * (i + 1) for i in range(4)]
    for b in batches:
        layer.forward(b)
    assert np.allclose(layer.running_mean, np.mean([b.mean(axis=0) for b in batches], axis=0))
    assert np.allclose(layer.running_var, np.mean([b.var(axis=0, ddof=1) for b in batches], axis=0))


@pytest.mark.parametrize("momentum,want", [(0.1, 44), (0.01, 459), (0.5, 7), (1.0, 1)])
def test_steps_to_converge(momentum, want):
    got = normalization.steps_to_converge(momentum)
    assert got == want
    value, k = 0.0, 0
    while abs(value - 1.0) > 0.01:  # brute force: an average started at 0, target 1
        value = (1 - momentum) * value + momentum
        k += 1
    assert k == got


# --- NumPy: clear errors ---------------------------------------------------------------


def test_batch_of_one_in_training_mode_is_refused_with_an_explanation():
    with pytest.raises(ValueError, match="at least 2 examples"):
        normalization.batchnorm_forward(np.ones((1, 3)), np.ones(3), np.zeros(3))
    with pytest.raises(ValueError, match="at least 2 examples"):
        normalization.BatchNorm(3).forward(np.ones((1, 3)))


@pytest.mark.parametrize("x,match", [
    (np.ones(4), r"x\[None, :\]"),
    (np.ones((2, 4, 3)), "move the channels last"),
])
def test_wrong_number_of_axes(x, match):
    with pytest.raises(ValueError, match=match):
        normalization.batchnorm_forward(x, np.ones(4), np.zeros(4))
    with pytest.raises(ValueError, match=match):
        normalization.layernorm_forward(x, np.ones(4), np.zeros(4))


def test_features_on_the_wrong_axis_are_diagnosed(rng):
    x = rng.normal(size=(8, 3))
    with pytest.raises(ValueError, match=r"did you pass x\.T"):
        normalization.batchnorm_forward(x.T, np.ones(3), np.zeros(3))
    with pytest.raises(ValueError, match="one entry per feature"):
        normalization.layernorm_forward(x, np.ones(4), np.zeros(3))


@pytest.mark.parametrize("eps", [-1e-5, float("nan")])
def test_bad_epsilon(eps):
    with pytest.raises(ValueError, match="eps"):
        normalization.batchnorm_forward(np.ones((2, 2)), np.ones(2), np.zeros(2), eps)
    with pytest.raises(ValueError, match="eps"):
        normalization.BatchNorm(2, eps=eps)


@pytest.mark.parametrize("momentum,error", [(-0.1, ValueError), (1.5, ValueError),
                                            ("0.1", TypeError), (True, TypeError)])
def test_bad_momentum(momentum, error):
    with pytest.raises(error, match="momentum"):
        normalization.BatchNorm(2, momentum=momentum)


def test_other_bad_inputs(rng):
    with pytest.raises(ValueError, match="NaN"):
        normalization.batchnorm_forward(np.array([[1.0, np.nan], [0.0, 1.0]]), np.ones(2), np.zeros(2))
    with pytest.raises(ValueError, match="num_features"):
        normalization.BatchNorm(0)
    with pytest.raises(TypeError, match="unbiased_running_var"):
        normalization.BatchNorm(2, unbiased_running_var=1)
    layer = normalization.BatchNorm(2)
    with pytest.raises(RuntimeError, match="training mode"):
        layer.backward(np.ones((3, 2)))
    layer.forward(rng.normal(size=(3, 2)))
    with pytest.raises(ValueError, match="shape"):
        layer.backward(np.ones((2, 2)))
    with pytest.raises(TypeError, match="NormCache"):
        normalization.batchnorm_backward(np.ones((3, 2)), None)
    _, ln_cache = normalization.layernorm_forward(np.ones((2, 2)) + np.eye(2), np.ones(2), np.zeros(2))
    _, bn_cache = normalization.batchnorm_forward(np.ones((2, 2)) + np.eye(2), np.ones(2), np.zeros(2))
    with pytest.raises(ValueError, match="batchnorm_backward"):
        normalization.layernorm_backward(np.ones((2, 2)), bn_cache)
    assert ln_cache.axis == 1
    with pytest.raises(ValueError, match="tolerance"):
        normalization.steps_to_converge(0.1, tolerance=0.0)
    with pytest.raises(ValueError, match="momentum"):
        normalization.steps_to_converge(None)


# --- PyTorch and Keras: the same numbers, and the conventions pinned down ----------------


def test_framework_defaults_are_what_the_chapter_says(torch, keras):
    bn_t, bn_k = torch.nn.BatchNorm1d(3), keras.layers.BatchNormalization()
    assert (bn_t.momentum, bn_t.eps) == (0.1, 1e-5)
    assert (bn_k.momentum, bn_k.epsilon) == (0.99, 1e-3)
    assert torch.nn.LayerNorm(3).eps == 1e-5
    assert keras.layers.LayerNormalization().epsilon == 1e-3


def _run_torch(torch, layer, ours, batches, douts):
    for x, g in zip(batches, douts, strict=True):
        out, dx, dgamma, dbeta = normalization.torch_forward_backward(layer, x, g)
        assert np.abs(out - ours.forward(x)).max() < TOL
        assert np.abs(dx - ours.backward(g)).max() < TOL
        assert np.abs(dgamma - ours.dgamma).max() < TOL and np.abs(dbeta - ours.dbeta).max() < TOL
        assert np.abs(layer.running_mean.numpy() - ours.running_mean).max() < TOL
        assert np.abs(layer.running_var.numpy() - ours.running_var).max() < TOL


@pytest.mark.parametrize("momentum", ["default", 0.3, None])
@pytest.mark.parametrize("batch", [2, 7])
def test_batchnorm_matches_torch_step_by_step(torch, momentum, batch, rng):
    kwargs = {} if momentum == "default" else {"momentum": momentum}
    layer = torch.nn.BatchNorm1d(4, dtype=torch.float64, **kwargs)
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(rng.normal(1.0, 0.3, size=4)))
        layer.bias.copy_(torch.from_numpy(rng.normal(size=4)))
    ours = normalization.BatchNorm(4, eps=layer.eps, momentum=layer.momentum)
    ours.gamma, ours.beta = layer.weight.detach().numpy().copy(), layer.bias.detach().numpy().copy()
    batches = [rng.normal(2.0, 3.0, size=(batch, 4)) for _ in range(4)]
    _run_torch(torch, layer, ours, batches, [rng.normal(size=(batch, 4)) for _ in batches])
    x_new = rng.normal(size=(3, 4))
    layer.eval()
    assert np.abs(layer(torch.from_numpy(x_new)).detach().numpy() - ours.eval()(x_new)).max() < TOL


def test_torch_stores_the_unbiased_variance_not_the_biased_one(torch, rng):
    layer = torch.nn.BatchNorm1d(3, dtype=torch.float64)
    biased = normalization.BatchNorm(3, momentum=layer.momentum, unbiased_running_var=False)
    x = rng.normal(size=(5, 3))
    layer(torch.from_numpy(x))
    biased.forward(x)
    # the Keras convention gives a different running variance: the comparison can fail
    assert np.abs(layer.running_var.numpy() - biased.running_var).max() > 1e-3
    assert np.allclose(layer.running_var.numpy(), 0.9 + 0.1 * x.var(axis=0, ddof=1), rtol=1e-12)


@pytest.mark.parametrize("keras_momentum", ["default", 0.9])
@pytest.mark.parametrize("batch", [2, 7])
def test_batchnorm_matches_keras_step_by_step(keras, keras_momentum, batch, rng):
    kwargs = {} if keras_momentum == "default" else {"momentum": keras_momentum}
    layer = keras.layers.BatchNormalization(dtype="float64", **kwargs)
    layer.build((None, 4))
    gamma, beta = rng.normal(1.0, 0.3, size=4), rng.normal(size=4)
    layer.gamma.assign(gamma)
    layer.beta.assign(beta)
    ours = normalization.BatchNorm(4, eps=layer.epsilon, momentum=1 - layer.momentum,
                                   unbiased_running_var=False)
    ours.gamma, ours.beta = gamma.copy(), beta.copy()
    for _ in range(4):
        x, g = rng.normal(2.0, 3.0, size=(batch, 4)), rng.normal(size=(batch, 4))
        out, dx, dgamma, dbeta = normalization.keras_forward_backward(layer, x, g, training=True)
        assert np.abs(out - ours.forward(x)).max() < TOL
        assert np.abs(dx - ours.backward(g)).max() < TOL
        assert np.abs(dgamma - ours.dgamma).max() < TOL and np.abs(dbeta - ours.dbeta).max() < TOL
        assert np.abs(np.asarray(layer.moving_mean) - ours.running_mean).max() < TOL
        assert np.abs(np.asarray(layer.moving_variance) - ours.running_var).max() < TOL
    x_new = rng.normal(size=(3, 4))
    assert np.abs(np.asarray(layer(x_new, training=False)) - ours.eval()(x_new)).max() < TOL


def test_keras_stores_the_biased_variance_and_weights_the_old_value(keras, rng):
    layer = keras.layers.BatchNormalization(dtype="float64")
    x = rng.normal(size=(5, 3))
    layer(x, training=True)
    stored = np.asarray(layer.moving_variance)
    m = layer.momentum
    assert np.allclose(stored, m * 1.0 + (1 - m) * x.var(axis=0), rtol=1e-12)
    # neither the unbiased variance nor momentum-as-new-weight reproduces it
    assert not np.allclose(stored, m + (1 - m) * x.var(axis=0, ddof=1), rtol=1e-6)
    assert not np.allclose(stored, (1 - m) + m * x.var(axis=0), rtol=1e-6)


def test_batch_of_one_in_training_mode_torch_raises_keras_returns_beta(torch, keras, rng):
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        torch.nn.BatchNorm1d(3)(torch.ones(1, 3))
    layer = keras.layers.BatchNormalization(dtype="float64")
    layer.build((None, 3))
    layer.beta.assign(np.array([0.5, -1.0, 2.0]))
    out = np.asarray(layer(rng.normal(size=(1, 3)) * 10, training=True))
    assert np.array_equal(out, [[0.5, -1.0, 2.0]])


def test_frozen_keras_batchnorm_uses_running_statistics_even_in_training(keras, rng):
    layer = keras.layers.BatchNormalization(dtype="float64")
    layer.build((None, 3))
    layer.trainable = False
    x = rng.normal(5.0, 2.0, size=(8, 3))
    assert np.allclose(np.asarray(layer(x, training=True)), x / np.sqrt(1 + layer.epsilon))
    assert np.array_equal(np.asarray(layer.moving_mean), np.zeros(3))


@pytest.mark.parametrize("batch", [1, 5])
def test_layernorm_matches_torch_and_keras(torch, keras, batch, rng):
    x, g = rng.normal(1.0, 2.0, size=(batch, 6)), rng.normal(size=(batch, 6))
    gamma, beta = rng.normal(1.0, 0.3, size=6), rng.normal(size=6)
    out, cache = normalization.layernorm_forward(x, gamma, beta, eps=1e-5)
    ours = (out, *normalization.layernorm_backward(g, cache))
    t_layer = torch.nn.LayerNorm(6, eps=1e-5, dtype=torch.float64)
    with torch.no_grad():
        t_layer.weight.copy_(torch.from_numpy(gamma))
        t_layer.bias.copy_(torch.from_numpy(beta))
    k_layer = keras.layers.LayerNormalization(epsilon=1e-5, dtype="float64")
    k_layer.build(x.shape)
    k_layer.set_weights([gamma, beta])
    for theirs in (normalization.torch_forward_backward(t_layer, x, g),
                   normalization.keras_forward_backward(k_layer, x, g, training=True)):
        for a, b in zip(theirs, ours, strict=True):
            assert np.abs(a - b).max() < TOL


def test_keras_layernorm_default_epsilon_changes_the_output(torch, keras, rng):
    x = rng.normal(size=(4, 6)) * 0.1  # small variance: epsilon matters
    t_out = torch.nn.LayerNorm(6, dtype=torch.float64)(torch.from_numpy(x)).detach().numpy()
    k_out = np.asarray(keras.layers.LayerNormalization(dtype="float64")(x))
    assert np.abs(t_out - k_out).max() > 1e-2
    assert np.abs(t_out - normalization.layernorm_forward(x, np.ones(6), np.zeros(6))[0]).max() < TOL


# --- the chapter's self-checks ------------------------------------------------------------


def _reference_bn_backward(dout, x, gamma, eps):
    _, cache = normalization.batchnorm_forward(x, gamma, np.zeros_like(gamma), eps)
    return normalization.batchnorm_backward(dout, cache)


def test_check_batchnorm_backward_accepts_the_right_answer(capsys):
    checks.check_batchnorm_backward(_reference_bn_backward)
    assert capsys.readouterr().out.startswith("Correct")


def _constant_statistics(dout, x, gamma, eps):
    dx, dgamma, dbeta = _reference_bn_backward(dout, x, gamma, eps)
    return dout * gamma / np.sqrt(x.var(axis=0) + eps), dgamma, dbeta


def _no_variance_path(dout, x, gamma, eps):
    dx, dgamma, dbeta = _reference_bn_backward(dout, x, gamma, eps)
    m = len(x)
    return gamma / np.sqrt(x.var(axis=0) + eps) / m * (m * dout - dout.sum(axis=0)), dgamma, dbeta


def _unbiased_variance(dout, x, gamma, eps):
    m = len(x)
    inv = 1 / np.sqrt(x.var(axis=0, ddof=1) + eps)
    x_hat = (x - x.mean(axis=0)) * inv
    dbeta, dgamma = dout.sum(axis=0), (dout * x_hat).sum(axis=0)
    return gamma * inv / m * (m * dout - dbeta - x_hat * dgamma), dgamma, dbeta


def _keepdims(dout, x, gamma, eps):
    dx, dgamma, dbeta = _reference_bn_backward(dout, x, gamma, eps)
    return dx, dgamma[None, :], dbeta


def _gamma_not_summed(dout, x, gamma, eps):
    dx, dgamma, dbeta = _reference_bn_backward(dout, x, gamma, eps)
    return dx, dgamma / len(x), dbeta


@pytest.mark.parametrize("wrong,match", [
    (_constant_statistics, "constants"),
    (_no_variance_path, "variance"),
    (_unbiased_variance, "dx differs"),
    (_keepdims, "shape"),
    (_gamma_not_summed, "dgamma differs"),
    (lambda dout, x, gamma, eps: (dout, dout.sum(axis=0)), "tuple"),
])
def test_check_batchnorm_backward_rejects_plausible_mistakes(wrong, match):
    with pytest.raises(AssertionError, match=match):
        checks.check_batchnorm_backward(wrong)


def test_check_running_mean_accepts_the_right_answers(capsys):
    checks.check_running_mean(5 * (1 - 0.9 ** 20), 5 * (1 - 0.99 ** 20))
    assert capsys.readouterr().out.startswith("Correct")


@pytest.mark.parametrize("answers,steps,match", [
    ((5 * (1 - 0.99 ** 20), 5 * (1 - 0.9 ** 20)), 20, "swapped"),
    ((5 * (1 - 0.1 ** 20), 5 * (1 - 0.99 ** 20)), 20, "weight of the new batch"),
    ((5 * (1 - 0.9 ** 20), 5 * (1 - 0.01 ** 20)), 20, "weight of the old value"),
    ((5.0, 5 * (1 - 0.99 ** 2)), 2, "starts at 0"),
    ((4.0, 1.0), 20, "not quite"),
    (("4.39", 0.91), 20, "should be a number"),
])
def test_check_running_mean_rejects_plausible_mistakes(answers, steps, match):
    with pytest.raises(AssertionError, match=match):
        checks.check_running_mean(*answers, steps=steps)
