"""utils.rnn: the Elman RNN's forward pass and backpropagation through time against finite
differences, PyTorch's nn.RNN and Keras' SimpleRNN; stacks of networks; SGD training with
clipping; the adding problem; and clear errors for bad inputs."""

from __future__ import annotations

import numpy as np
import pytest

from utils import clipping, rnn
from utils.data import adding_problem
from utils.gradcheck import numerical_gradient, relative_error

# NumPy and the frameworks do the same float64 arithmetic in a different order; the
# measured disagreement is below 1e-15 relative. 1e-10 leaves room for other BLAS builds
# while still catching any wrong term, which would be O(1).
RTOL = 1e-10
# Central differences with h = 1e-6 on float64: truncation O(h^2) ~ 1e-12 and rounding
# O(eps / h) ~ 1e-10 relative; measured errors are about 1e-10.
FD_TOL = 1e-7


def make_problem(seed=0, batch=4, steps=6, sizes=(3, 5, 2), scale=1.2, bias=True):
    """A small float64 network with non-zero biases, and random data."""
    rng = np.random.default_rng(seed)
    model = rnn.ElmanRNN.create(*sizes, rng, recurrent_scale=scale)
    if bias:
        model.b_h[:] = rng.normal(0, 0.3, size=model.b_h.shape)
        model.b_y[:] = rng.normal(0, 0.3, size=model.b_y.shape)
    X = rng.normal(size=(batch, steps, sizes[0]))
    y = rng.normal(size=(batch, sizes[2]))
    return model, X, y


def loop_forward(X, W_xh, W_hh, b_h, h0):
    """The recurrence written out plainly, one example and one step at a time."""
    out = np.empty((X.shape[0], X.shape[1], W_hh.shape[0]))
    for i in range(X.shape[0]):
        h = h0[i]
        for t in range(X.shape[1]):
            h = np.tanh(X[i, t] @ W_xh + h @ W_hh + b_h)
            out[i, t] = h
    return out


# --- forward ----------------------------------------------------------------------------


def test_forward_is_the_recurrence(rng):
    model, X, _ = make_problem()
    h0 = rng.normal(size=(4, 5))
    H = rnn.rnn_forward(X, model.W_xh, model.W_hh, model.b_h, h0)
    np.testing.assert_allclose(H, loop_forward(X, model.W_xh, model.W_hh, model.b_h, h0),
                               rtol=1e-13, atol=1e-15)
    H_zero = rnn.rnn_forward(X, model.W_xh, model.W_hh, model.b_h)
    np.testing.assert_allclose(H_zero, loop_forward(X, model.W_xh, model.W_hh, model.b_h,
                                                    np.zeros((4, 5))), rtol=1e-13, atol=1e-15)
    prediction, states = model.forward(X)
    np.testing.assert_array_equal(states, H_zero)
    np.testing.assert_allclose(prediction, H_zero[:, -1] @ model.W_hy + model.b_y, rtol=1e-14)
    assert model.loss(X, np.zeros((4, 2))) == pytest.approx(np.mean(prediction**2), rel=1e-14)


def test_float32_stays_float32():
    model = rnn.ElmanRNN.create(2, 4, 1, np.random.default_rng(0), dtype=np.float32)
    assert all(p.dtype == np.float32 for p in model.parameters())
    X, y = adding_problem(3, 5, np.random.default_rng(1), dtype=np.float32)
    loss, grads, bptt = model.gradients(X, y)
    assert model.forward(X)[1].dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads) and bptt.dh.dtype == np.float32
    assert np.isfinite(loss)


def test_scaled_orthogonal_has_equal_singular_values():
    W = rnn.scaled_orthogonal(20, 1.7, np.random.default_rng(0))
    np.testing.assert_allclose(np.linalg.svd(W, compute_uv=False), 1.7, rtol=1e-12)
    np.testing.assert_array_equal(W, rnn.scaled_orthogonal(20, 1.7, np.random.default_rng(0)))
    assert not np.allclose(W, rnn.scaled_orthogonal(20, 1.7, np.random.default_rng(1)))


def test_create_scales():
    model = rnn.ElmanRNN.create(2, 64, 3, np.random.default_rng(0), recurrent_scale=0.8)
    assert np.linalg.norm(model.W_hh, 2) == pytest.approx(0.8, rel=1e-12)
    assert not model.b_h.any() and not model.b_y.any()
    # sample std of 192 N(0, 1/64) draws: 2 standard errors is about 10 %; 25 % is safe
    assert model.W_hy.std() == pytest.approx(1 / 8, rel=0.25)


# --- backward: finite differences --------------------------------------------------------


def test_every_parameter_gradient_matches_finite_differences():
    model, X, y = make_problem()
    _, grads = model.loss_and_gradients(X, y)
    for name, p, g in zip(rnn.PARAMETER_NAMES, model.parameters(), grads, strict=True):
        numeric = numerical_gradient(lambda: model.loss(X, y), p, h=1e-6)
        assert relative_error(g, numeric) < FD_TOL, name


def test_input_and_initial_state_gradients_match_finite_differences(rng):
    """rnn_backward with an output at every step: loss = sum(H * R)."""
    model, X, _ = make_problem(steps=5)
    h0 = rng.normal(0, 0.5, size=(4, 5))
    R = rng.normal(size=(4, 5, 5))

    def loss():
        return float(np.sum(rnn.rnn_forward(X, model.W_xh, model.W_hh, model.b_h, h0) * R))

    H = rnn.rnn_forward(X, model.W_xh, model.W_hh, model.b_h, h0)
    bptt = rnn.rnn_backward(X, H, model.W_xh, model.W_hh, model.b_h, R, h0)
    checks = {"X": (X, bptt.X), "h0": (h0, bptt.h0), "W_xh": (model.W_xh, bptt.W_xh),
              "W_hh": (model.W_hh, bptt.W_hh), "b_h": (model.b_h, bptt.b_h)}
    for name, (array, analytic) in checks.items():
        assert relative_error(analytic, numerical_gradient(loss, array, h=1e-6)) < FD_TOL, name


@pytest.mark.parametrize("t", [0, 2, 4])
def test_dh_is_the_total_gradient_at_each_hidden_state(rng, t):
    """dh[:, t] against finite differences of the loss in h_{t+1}, by re-running the
    rest of the sequence from a perturbed state."""
    model, X, _ = make_problem(steps=6)
    R = rng.normal(size=(4, 6, 5))
    H = rnn.rnn_forward(X, model.W_xh, model.W_hh, model.b_h)
    bptt = rnn.rnn_backward(X, H, model.W_xh, model.W_hh, model.b_h, R)
    state = H[:, t].copy()

    def loss_from_state():
        rest = rnn.rnn_forward(X[:, t + 1:], model.W_xh, model.W_hh, model.b_h, state)
        return float(np.sum(state * R[:, t]) + np.sum(rest * R[:, t + 1:]))

    numeric = numerical_gradient(loss_from_state, state, h=1e-6)
    assert relative_error(bptt.dh[:, t], numeric) < FD_TOL


def test_dh_obeys_the_singular_value_bound():
    """With tanh' <= 1, each step back multiplies ||dh|| by at most the largest singular
    value of W_hh (Pascanu et al., 2013), for every example."""
    for scale in (0.5, 0.9):
        model = rnn.ElmanRNN.create(2, 16, 1, np.random.default_rng(0), recurrent_scale=scale)
        X, y = adding_problem(64, 40, np.random.default_rng(1))
        _, _, bptt = model.gradients(X, y)
        norms = np.linalg.norm(bptt.dh, axis=-1)  # (batch, T)
        distance = np.arange(40)[::-1]  # steps from each state to the last
        bound = norms[:, -1:] * scale**distance
        assert np.all(norms <= bound * (1 + 1e-12))
        assert np.all(norms[:, 0] < 1e-3 * norms[:, -1]) or scale > 0.8


# --- backward: PyTorch and Keras ---------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1])
def test_gradients_match_pytorch(torch, seed):
    model, X, y = make_problem(seed)
    loss, grads = model.loss_and_gradients(X, y)
    split = np.random.default_rng(seed + 10).normal(size=5)  # any split of b_h in two
    t_loss, t_grads, t_bias_hh = rnn.torch_loss_and_gradients(model, X, y, bias_hh=split)
    assert t_loss == pytest.approx(loss, rel=RTOL)
    for name, g, t in zip(rnn.PARAMETER_NAMES, grads, t_grads, strict=True):
        assert t.shape == g.shape, name
        np.testing.assert_allclose(t, g, rtol=RTOL, atol=1e-15, err_msg=name)
    # PyTorch's two bias vectors get the same gradient, that of our single b_h
    np.testing.assert_allclose(t_bias_hh, grads[2], rtol=RTOL, atol=1e-15)


def test_pytorch_hidden_states_depend_only_on_the_bias_sum(torch):
    model, X, _ = make_problem()
    expected = model.forward(X)[1]
    for split in (np.zeros(5), np.full(5, 3.0), -model.b_h):
        net, _ = rnn.torch_rnn(model, bias_hh=split)
        states, h_last = net(torch.as_tensor(X))
        np.testing.assert_allclose(states.detach().cpu().numpy(), expected, rtol=RTOL,
                                   atol=1e-15)
        np.testing.assert_allclose(h_last[0].detach().cpu().numpy(), expected[:, -1],
                                   rtol=RTOL, atol=1e-15)
    # and PyTorch's layout is the transpose of ours
    net, _ = rnn.torch_rnn(model)
    assert tuple(net.weight_ih_l0.shape) == model.W_xh.T.shape


@pytest.mark.parametrize("seed", [0, 1])
def test_gradients_and_states_match_keras(keras, tf, seed):
    model, X, y = make_problem(seed)
    loss, grads = model.loss_and_gradients(X, y)
    k_loss, k_grads = rnn.keras_loss_and_gradients(model, X, y)
    assert k_loss == pytest.approx(loss, rel=RTOL)
    for name, g, k in zip(rnn.PARAMETER_NAMES, grads, k_grads, strict=True):
        assert k.shape == g.shape, name
        np.testing.assert_allclose(k, g, rtol=RTOL, atol=1e-15, err_msg=name)
    prediction, states = rnn.keras_rnn(model)(tf.constant(X))
    np.testing.assert_allclose(states.numpy(), model.forward(X)[1], rtol=RTOL, atol=1e-15)
    np.testing.assert_allclose(prediction.numpy(), model.predict(X), rtol=RTOL, atol=1e-15)


def test_keras_weight_layout_is_ours(keras):
    model, _, _ = make_problem()
    layer = rnn.keras_rnn(model).layers[1]
    kernel, recurrent, bias = layer.get_weights()
    np.testing.assert_array_equal(kernel, model.W_xh)
    np.testing.assert_array_equal(recurrent, model.W_hh)
    np.testing.assert_array_equal(bias, model.b_h)


# --- stacks of networks ------------------------------------------------------------------


def test_stack_computes_each_network_as_alone():
    nets = [make_problem(seed)[0] for seed in range(3)]
    _, X, y = make_problem(7)
    stack = rnn.ElmanRNN.stack(nets)
    assert stack.stack_shape == (3,)
    losses, grads, bptt = stack.gradients(X, y)
    assert losses.shape == (3,)
    for r, net in enumerate(nets):
        loss, g, b = net.gradients(X, y)
        assert losses[r] == pytest.approx(loss, rel=1e-13)
        for a, c in zip(grads, g, strict=True):
            np.testing.assert_allclose(a[r], c, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(bptt.dh[r], b.dh, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(bptt.X[r], b.X, rtol=1e-12, atol=1e-15)
    # per-network inputs work as well
    X_each = np.stack([X, X + 1, X - 1])
    losses_each = stack.loss(X_each, y)
    assert losses_each[1] == pytest.approx(nets[1].loss(X + 1, y), rel=1e-13)
    back = stack.unstack()
    for a, b in zip(back, nets, strict=True):
        for p, q in zip(a.parameters(), b.parameters(), strict=True):
            np.testing.assert_array_equal(p, q)


# --- training ----------------------------------------------------------------------------


def test_training_learns_the_adding_problem():
    X, y = adding_problem(2000, 8, np.random.default_rng(0))
    model = rnn.ElmanRNN.create(2, 16, 1, np.random.default_rng(1))
    before = model.loss(X, y)
    history = rnn.train_sgd(model, X, y, lr=0.1, steps=600, batch_size=32,
                            rng=np.random.default_rng(2), clip="global_norm", threshold=1.0)
    after = model.loss(X, y)
    assert history.diverged_at == -1 and history.loss.shape == (600,)
    # predicting the mean sum gives 1/6; using both numbers is needed to go below 1/12
    assert before > 0.5 and after < 1 / 12


def test_training_logs_the_unclipped_norm_and_applies_the_clipped_step():
    X, y = adding_problem(50, 6, np.random.default_rng(0))
    model = rnn.ElmanRNN.create(2, 4, 1, np.random.default_rng(1), recurrent_scale=2.0)
    start = model.copy()
    history = rnn.train_sgd(model, X, y, lr=0.5, steps=1, batch_size=8,
                            rng=np.random.default_rng(3), clip="global_norm", threshold=0.01)
    idx = np.random.default_rng(3).integers(0, 50, size=8)  # the same minibatch
    _, grads = start.loss_and_gradients(X[idx], y[idx])
    assert history.grad_norm[0] == pytest.approx(clipping.global_norm(grads), rel=1e-12)
    step = [p0 - p for p0, p in zip(start.parameters(), model.parameters(), strict=True)]
    assert clipping.global_norm(step) == pytest.approx(0.5 * 0.01, rel=1e-10)


def test_a_stack_trains_like_its_networks_one_by_one():
    X, y = adding_problem(200, 6, np.random.default_rng(0))
    nets = [rnn.ElmanRNN.create(2, 8, 1, np.random.default_rng(s)) for s in range(3)]
    rules = [(None, None), ("value", 0.05), ("global_norm", 0.3)]
    stack = rnn.ElmanRNN.stack(nets)
    stacked = rnn.train_sgd(stack, X, y, lr=0.2, steps=30, batch_size=16,
                            rng=np.random.default_rng(5), clip=[c for c, _ in rules],
                            threshold=[t for _, t in rules])
    for r, (net, (mode, value)) in enumerate(zip(nets, rules, strict=True)):
        alone = rnn.train_sgd(net, X, y, lr=0.2, steps=30, batch_size=16,
                              rng=np.random.default_rng(5), clip=mode, threshold=value)
        np.testing.assert_allclose(stacked.loss[:, r], alone.loss, rtol=1e-10)
        np.testing.assert_allclose(stacked.grad_norm[:, r], alone.grad_norm, rtol=1e-10)
        for p, q in zip(stack.parameters(), net.parameters(), strict=True):
            np.testing.assert_allclose(p[r], q, rtol=1e-9, atol=1e-12)


def test_each_network_is_clipped_and_updated_as_clip_gradients_says():
    """The vectorised clipping and update of a stack: bit for bit the reference loop."""
    X, y = adding_problem(100, 6, np.random.default_rng(0))
    rules = [(None, None), ("value", 0.05), ("norm", 0.2), ("global_norm", 0.3)]
    lrs = [0.1, 0.2, 0.3, 0.4]
    nets = [rnn.ElmanRNN.create(2, 5, 1, np.random.default_rng(s), recurrent_scale=1.5)
            for s in range(len(rules))]
    stack = rnn.ElmanRNN.stack(nets)
    history = rnn.train_sgd(stack, X, y, lr=lrs, steps=20, batch_size=8,
                            rng=np.random.default_rng(4), clip=[m for m, _ in rules],
                            threshold=[c for _, c in rules])
    batches = np.random.default_rng(4)
    reference = rnn.ElmanRNN.stack(nets)  # the same start, updated network by network
    for step in range(20):
        idx = batches.integers(0, len(X), size=8)
        losses, grads = reference.loss_and_gradients(X[idx], y[idx])
        for r, (mode, c) in enumerate(rules):
            clipped, norm = clipping.clip_gradients([g[r] for g in grads], mode, c)
            assert history.loss[step, r] == losses[r]
            assert history.grad_norm[step, r] == norm
            for p, g in zip(reference.parameters(), clipped, strict=True):
                p[r] -= lrs[r] * g
    for p, q in zip(stack.parameters(), reference.parameters(), strict=True):
        np.testing.assert_array_equal(p, q)


def test_divergence_is_recorded_and_isolated():
    X, y = adding_problem(200, 10, np.random.default_rng(0))
    nets = [rnn.ElmanRNN.create(2, 8, 1, np.random.default_rng(0), recurrent_scale=1.5)
            for _ in range(2)]
    stack = rnn.ElmanRNN.stack(nets)
    # the same network twice; only the first is clipped. lr = 5 without clipping overflows.
    with np.errstate(all="raise"):  # train_sgd handles its own overflows, silently
        history = rnn.train_sgd(stack, X, y, lr=5.0, steps=200, batch_size=16,
                                rng=np.random.default_rng(1), clip=["global_norm", None],
                                threshold=[0.1, None])
    assert history.diverged_at[0] == -1 and history.diverged_at[1] >= 0
    k = history.diverged_at[1]
    assert np.isfinite(history.loss[:k, 1]).all() and np.isnan(history.loss[k:, 1]).all()
    assert np.isnan(stack.W_hh[1]).all() and np.isfinite(stack.W_hh[0]).all()
    alone = rnn.train_sgd(nets[0], X, y, lr=5.0, steps=200, batch_size=16,
                          rng=np.random.default_rng(1), clip="global_norm", threshold=0.1)
    np.testing.assert_allclose(history.loss[:, 0], alone.loss, rtol=1e-9)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"clip": "global"}, ValueError, "mode must be"),
    ({"clip": "value"}, ValueError, "needs a threshold"),
    ({"clip": "norm", "threshold": -1.0}, ValueError, "finite number > 0"),
    ({"clip": ["value", None]}, ValueError, "2 entries for 1 network"),
    ({"lr": 0.0}, ValueError, "lr must be > 0"),
    ({"lr": [0.1, 0.2]}, ValueError, "lr has 2 entries for 1 network"),
    ({"steps": 0}, ValueError, "steps must be a positive integer"),
    ({"rng": 0}, TypeError, "numpy.random.Generator"),
])
def test_train_sgd_rejects_bad_arguments(kwargs, error, match):
    X, y = adding_problem(10, 4, np.random.default_rng(0))
    model = rnn.ElmanRNN.create(2, 3, 1, np.random.default_rng(0))
    args = {"lr": 0.1, "steps": 2, "batch_size": 4, "rng": np.random.default_rng(0)} | kwargs
    before = model.copy()
    with pytest.raises(error, match=match):
        rnn.train_sgd(model, X, y, **args)
    for p, q in zip(model.parameters(), before.parameters(), strict=True):
        np.testing.assert_array_equal(p, q)  # nothing was trained


# --- the adding problem ------------------------------------------------------------------


def test_adding_problem_structure():
    X, y = adding_problem(500, 20, np.random.default_rng(0))
    assert X.shape == (500, 20, 2) and y.shape == (500, 1) and X.dtype == np.float64
    markers = X[..., 1]
    assert np.all(markers.sum(axis=1) == 2) and set(np.unique(markers)) == {0.0, 1.0}
    assert np.all(markers[:, :10].sum(axis=1) == 1) and np.all(markers[:, 10:].sum(axis=1) == 1)
    np.testing.assert_allclose(y[:, 0], np.sum(X[..., 0] * markers, axis=1), rtol=1e-15)
    assert X[..., 0].min() >= 0 and X[..., 0].max() < 1
    X2, y2 = adding_problem(500, 20, np.random.default_rng(0))
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert adding_problem(3, 4, np.random.default_rng(0), dtype=np.float32)[0].dtype == np.float32


def test_adding_problem_baselines():
    """Always predicting 1 scores 1/6; the best guess without the first number, 1/12."""
    X, y = adding_problem(200_000, 10, np.random.default_rng(0))
    assert np.mean((y - 1) ** 2) == pytest.approx(1 / 6, rel=0.01)
    second = np.sum(X[:, 5:, 0] * X[:, 5:, 1], axis=1)
    assert np.mean((y[:, 0] - second - 0.5) ** 2) == pytest.approx(1 / 12, rel=0.01)


@pytest.mark.parametrize("kwargs, error", [
    ({"n": 0}, ValueError), ({"seq_len": 1}, ValueError), ({"seq_len": 2.5}, TypeError),
    ({"rng": 3}, TypeError), ({"dtype": np.int64}, ValueError),
])
def test_adding_problem_rejects_bad_arguments(kwargs, error):
    args = {"n": 5, "seq_len": 6, "rng": np.random.default_rng(0)} | kwargs
    with pytest.raises(error):
        adding_problem(args.pop("n"), args.pop("seq_len"), args.pop("rng"), **args)


# --- bad inputs ----------------------------------------------------------------------------


def test_bad_shapes_raise_clear_errors():
    model, X, y = make_problem()
    W_xh, W_hh, b_h = model.W_xh, model.W_hh, model.b_h
    with pytest.raises(ValueError, match=r"X must have shape \(batch, T, 3\)"):
        rnn.rnn_forward(X[0], W_xh, W_hh, b_h)
    with pytest.raises(ValueError, match=r"X must have shape"):
        rnn.rnn_forward(X[..., :2], W_xh, W_hh, b_h)
    with pytest.raises(ValueError, match="at least one sequence"):
        rnn.rnn_forward(X[:, :0], W_xh, W_hh, b_h)
    with pytest.raises(ValueError, match="W_hh must be square"):
        rnn.rnn_forward(X, W_xh, W_hh[:, :4], b_h)
    with pytest.raises(ValueError, match="W_xh must have shape"):
        rnn.rnn_forward(X, W_xh[:, :4], W_hh, b_h)
    with pytest.raises(ValueError, match=r"b_h must have shape \(5,\)"):
        rnn.rnn_forward(X, W_xh, W_hh, b_h[:4])
    with pytest.raises(ValueError, match=r"h0 must have shape \(4, 5\)"):
        rnn.rnn_forward(X, W_xh, W_hh, b_h, np.zeros((3, 5)))
    H = rnn.rnn_forward(X, W_xh, W_hh, b_h)
    with pytest.raises(ValueError, match="dH must have shape"):
        rnn.rnn_backward(X, H, W_xh, W_hh, b_h, H[:, 1:])
    with pytest.raises(ValueError, match="H must have shape"):
        rnn.rnn_backward(X, H[:2], W_xh, W_hh, b_h, H)
    with pytest.raises(ValueError, match=r"y must have shape \(4, 2\)"):
        model.loss(X, y[:3])
    with pytest.raises(ValueError, match="W_hy must have shape"):
        rnn.ElmanRNN(W_xh, W_hh, b_h, model.W_hy[:4], model.b_y)
    with pytest.raises(ValueError, match="b_y must have shape"):
        rnn.ElmanRNN(W_xh, W_hh, b_h, model.W_hy, model.b_y[:1])


def test_bad_values_and_types_raise_clear_errors():
    model, X, y = make_problem()
    X_bad = X.copy()
    X_bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="X contains 1 NaN"):
        model.loss(X_bad, y)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        rnn.ElmanRNN.create(2, 3, 1, 0)
    with pytest.raises(ValueError, match="hidden_size must be a positive integer"):
        rnn.ElmanRNN.create(2, 0, 1, np.random.default_rng(0))
    with pytest.raises(ValueError, match="dtype must be"):
        rnn.ElmanRNN.create(2, 3, 1, np.random.default_rng(0), dtype=np.float16)
    with pytest.raises(ValueError, match="largest_singular_value must be >= 0"):
        rnn.scaled_orthogonal(3, -1.0, np.random.default_rng(0))
    with pytest.raises(TypeError, match="non-empty list of ElmanRNN"):
        rnn.ElmanRNN.stack([])
    with pytest.raises(ValueError, match="different sizes"):
        rnn.ElmanRNN.stack([make_problem()[0], make_problem(sizes=(3, 4, 2))[0]])
    with pytest.raises(ValueError, match="not a stack"):
        rnn.torch_rnn(rnn.ElmanRNN.stack([model, model]))


def test_torch_clip_grad_norm_counts_the_rnn_bias_twice(torch):
    """nn.RNN holds b_h twice, so the total norm over its parameters counts the bias
    gradient twice: sqrt(||g||^2 + ||dL/db_h||^2), not our ||g||."""
    model, X, y = make_problem()
    _, grads = model.loss_and_gradients(X, y)
    net, readout = rnn.torch_rnn(model)
    _, h_last = net(torch.as_tensor(X))
    torch.nn.functional.mse_loss(readout(h_last[0]), torch.as_tensor(y)).backward()
    total = float(torch.nn.utils.clip_grad_norm_([*net.parameters(), *readout.parameters()],
                                                 1e9))
    ours = clipping.global_norm(grads)
    assert total == pytest.approx(np.sqrt(ours**2 + np.sum(grads[2] ** 2)), rel=1e-12)
    assert abs(total - ours) > 1e-6 * ours
