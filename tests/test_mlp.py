"""utils.nets.numpy_mlp: shapes, backprop against finite differences, PyTorch and Keras, training, errors."""

from __future__ import annotations

import numpy as np
import pytest

from utils.activations import Activation
from utils.gradcheck import check_mlp_gradients
from utils.nets.numpy_mlp import (
    MLP,
    Trace,
    cross_entropy,
    relative_weight_change,
    softmax,
)
from utils.nets.numpy_stack import History, train_sgd
from utils.nets.twins import (
    keras_twin,
    keras_weight_grad_norms,
    torch_twin,
    torch_weight_grad_norms,
)

SIZES = [5, 4, 3, 3]  # input, two hidden layers, output
HIDDEN = ["sigmoid", "tanh", "relu", "identity"]
# Backprop and autograd do the same float64 arithmetic in a different order; the
# measured disagreement is at most 1.3e-13 relative (identity net, Keras). 1e-10
# leaves room for other BLAS builds while still catching any wrong term, which
# would be O(1). The tiny absolute term only matters for entries that are exactly
# zero in one library (dead ReLU units) and a few ulps in the other.
GRAD_RTOL, GRAD_ATOL = 1e-10, 1e-15


def make_problem(activation, seed=0, n=6, sizes=SIZES, weight_init=0.7):
    rng = np.random.default_rng(seed)
    model = MLP.create(sizes, activation, rng, weight_init=weight_init)
    X = rng.normal(size=(n, sizes[0]))
    y = rng.integers(0, sizes[-1], size=n)
    return model, X, y


def hidden_preactivations(model, X):
    _, cache = model.forward(X)
    return [z for _, z in cache[:-1]]


def torch_gradients(torch, model, X, y):
    """Loss and [(dW, db), ...] by PyTorch autograd, in the NumPy (fan_in, fan_out) layout."""
    net = torch_twin(model)
    device = next(net.parameters()).device
    loss = torch.nn.functional.cross_entropy(
        net(torch.as_tensor(X, device=device)), torch.as_tensor(y, device=device))
    loss.backward()
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    return loss.item(), [(m.weight.grad.cpu().numpy().T, m.bias.grad.cpu().numpy())
                         for m in linears]


def keras_gradients(keras, tf, model, X, y):
    """Loss and [(dW, db), ...] by tf.GradientTape on the Keras copy, loss in float64."""
    net = keras_twin(model)
    variables = [v for layer in net.layers for v in (layer.kernel, layer.bias)]
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True, dtype="float64")
    with tf.GradientTape() as tape:
        loss = loss_fn(y, net(tf.constant(X), training=True))
    grads = [g.numpy() for g in tape.gradient(loss, variables)]
    return float(loss), list(zip(grads[::2], grads[1::2], strict=True))


def assert_same_gradients(ours, theirs):
    assert len(ours) == len(theirs)
    for layer, ((dw, db), (tw, tb)) in enumerate(zip(ours, theirs, strict=True)):
        assert dw.shape == tw.shape and db.shape == tb.shape, f"layer {layer}"
        np.testing.assert_allclose(dw, tw, rtol=GRAD_RTOL, atol=GRAD_ATOL, err_msg=f"dW{layer}")
        np.testing.assert_allclose(db, tb, rtol=GRAD_RTOL, atol=GRAD_ATOL, err_msg=f"db{layer}")


# --- construction ----------------------------------------------------------------------


def test_create_shapes_and_zero_biases(rng):
    sizes = [7, 5, 4, 3]
    model = MLP.create(sizes, "tanh", rng)
    assert model.layer_sizes == sizes
    assert model.num_layers == len(sizes) - 1
    for w, b, fan_in, fan_out in zip(model.weights, model.biases, sizes[:-1], sizes[1:],
                                     strict=True):
        assert w.shape == (fan_in, fan_out) and w.dtype == np.float64
        assert b.shape == (fan_out,)
        np.testing.assert_array_equal(b, np.zeros_like(b))
    assert model.activation.name == "tanh"
    # parameters() are the arrays themselves (in-place updates must stick), in order
    params = model.parameters()
    assert len(params) == 2 * model.num_layers
    assert all(p is q for p, q in zip(params[::2], model.weights, strict=True))
    assert all(p is q for p, q in zip(params[1::2], model.biases, strict=True))


def test_create_weight_std_and_determinism():
    sizes = [200, 300, 10]
    model = MLP.create(sizes, "relu", np.random.default_rng(3), weight_init=0.5)
    same = MLP.create(sizes, "relu", np.random.default_rng(3), weight_init=0.5)
    for w, v in zip(model.weights, same.weights, strict=True):
        np.testing.assert_array_equal(w, v)
    # sample std of 60,000 N(0, 0.5^2) draws: relative standard error 1/sqrt(2n) = 0.3 %;
    # 2 % is more than 6 standard errors.
    assert model.weights[0].std() == pytest.approx(0.5, rel=0.02)
    zero = MLP.create(sizes, "relu", np.random.default_rng(3), weight_init=0.0)
    assert all(not w.any() for w in zero.weights)


def test_create_calls_weight_init_with_fan_in_fan_out_and_rng(rng):
    calls = []

    def init(fan_in, fan_out, r):
        calls.append((fan_in, fan_out, r))
        return np.full((fan_in, fan_out), fan_in + fan_out / 10)

    model = MLP.create([4, 3, 2], "relu", rng, weight_init=init)
    assert [(a, b) for a, b, _ in calls] == [(4, 3), (3, 2)]
    assert all(r is rng for _, _, r in calls)
    for (fan_in, fan_out, _), w in zip(calls, model.weights, strict=True):
        np.testing.assert_array_equal(w, np.full((fan_in, fan_out), fan_in + fan_out / 10))


def test_copy_is_independent(rng):
    model = MLP.create([3, 4, 2], "sigmoid", rng)
    clone = model.copy()
    clone.weights[0] += 1.0
    clone.biases[1] += 1.0
    assert not np.array_equal(model.weights[0], clone.weights[0])
    assert not model.biases[1].any()
    assert clone.activation is model.activation


# --- softmax and cross-entropy ---------------------------------------------------------


def test_softmax_rows_sum_to_one_and_do_not_overflow(torch, rng):
    logits = rng.normal(size=(5, 4)) * 3
    logits[0] = [1e4, -1e4, 0.0, 1e4 - 1.0]  # exp(1e4) would overflow
    logits[1] = [-1e4, -1e4 + 2.0, -1e4, -1e4 + 1.0]  # exp(-1e4) would underflow to 0/0
    # Overflow and invalid operations would be bugs; the underflow of exp(-2e4) to 0
    # in the shifted form is the exact float64 answer, so it stays silent as by default.
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        p = softmax(logits)
    assert np.isfinite(p).all() and (p >= 0).all()
    # rows sum to 1 up to rounding of a 4-term sum (a few eps)
    np.testing.assert_allclose(p.sum(axis=1), np.ones(len(p)), rtol=0, atol=1e-15)
    # torch.softmax uses the same shifted formula; values agree to a few ulps
    np.testing.assert_allclose(p, torch.softmax(torch.tensor(logits), dim=1).numpy(),
                               rtol=1e-13, atol=1e-300)
    # invariant to adding a constant to a row
    np.testing.assert_allclose(softmax(logits[2:] + 50.0), p[2:], rtol=1e-12)


def test_cross_entropy_matches_torch(torch, rng):
    logits = rng.normal(size=(8, 5)) * 4
    logits[0, 0] = 1e4  # a confident row, fine in the log-sum-exp form
    y = rng.integers(0, 5, size=8)
    y[0] = 1  # ... and confidently wrong: loss about 1e4
    want = torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor(y)).item()
    # same log-sum-exp arithmetic in a different order: rtol 1e-13 is ~500 ulps
    assert cross_entropy(logits, y) == pytest.approx(want, rel=1e-13)


def test_cross_entropy_and_softmax_validate_input(rng):
    logits = rng.normal(size=(3, 4))
    with pytest.raises(ValueError, match="2-dimensional"):
        softmax(logits[0])
    with pytest.raises(ValueError, match="NaN"):
        softmax(np.where(logits > 0, np.nan, logits))
    with pytest.raises(ValueError, match="labels"):
        cross_entropy(logits, np.array([0, 1, 4]))
    with pytest.raises(ValueError, match="1-D"):
        cross_entropy(logits, np.array([0, 1]))
    with pytest.raises(TypeError, match="integer"):
        cross_entropy(logits, np.array([0.0, 1.0, 2.0]))


# --- gradients -------------------------------------------------------------------------


@pytest.mark.parametrize("activation", HIDDEN)
def test_backprop_passes_finite_difference_check(activation):
    """Central differences with h = 1e-5: truncation O(h^2) ~ 1e-10 and rounding
    eps/h ~ 1e-11 relative, so a correct backward pass gives ~1e-10 (measured at
    most 5e-10), while a wrong term gives O(1). Threshold 1e-7 as in CS231n.

    ReLU: a finite difference across a kink is wrong by O(1), so the test first
    checks that every hidden pre-activation is far from 0 compared with how far a
    perturbation of h can move it (h times the largest input or weight, ~1e-5):
    the measured minimum |z| is 0.047.
    """
    model, X, y = make_problem(activation)
    if activation == "relu":
        smallest = min(np.abs(z).min() for z in hidden_preactivations(model, X))
        assert smallest > 1e-3, "the check would cross a ReLU kink; choose another seed"
    errors = check_mlp_gradients(model, X, y)
    assert len(errors) == 2 * model.num_layers
    assert max(errors) < 1e-7, errors


def test_finite_difference_check_detects_a_wrong_backward_pass():
    """The check above can fail: a derivative off by 10 % is caught."""
    model, X, y = make_problem("tanh")
    act = model.activation
    model.activation = Activation(act.name, act.f, lambda x: 1.1 * act.f_prime(x))
    assert max(check_mlp_gradients(model, X, y)) > 1e-3


@pytest.mark.parametrize("activation", HIDDEN)
def test_backprop_equals_pytorch_autograd(torch, activation):
    model, X, y = make_problem(activation)
    loss, grads = model.loss_and_gradients(X, y)
    torch_loss, torch_grads = torch_gradients(torch, model, X, y)
    assert loss == pytest.approx(torch_loss, rel=1e-13)  # same float64 loss, a few ulps
    assert_same_gradients(grads, torch_grads)


@pytest.mark.parametrize("activation", HIDDEN)
def test_backprop_equals_keras_gradient_tape(keras, tf, activation):
    model, X, y = make_problem(activation)
    loss, grads = model.loss_and_gradients(X, y)
    keras_loss, keras_grads = keras_gradients(keras, tf, model, X, y)
    assert loss == pytest.approx(keras_loss, rel=1e-13)
    assert_same_gradients(grads, keras_grads)


def test_framework_copies_do_not_share_memory_with_the_numpy_model(torch, keras):
    model, X, y = make_problem("tanh")
    before = [p.copy() for p in model.parameters()]
    net = torch_twin(model)
    kn = keras_twin(model)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(1.0)
    for layer in kn.layers:
        layer.kernel.assign(layer.kernel + 1.0)
    for p, q in zip(model.parameters(), before, strict=True):
        np.testing.assert_array_equal(p, q)


def test_keras_default_loss_is_float32_which_is_why_the_helper_sets_float64(keras, tf):
    """Pin down the framework default the helper works around: a Keras 3 loss
    computes in floatx() = float32 even for a float64 model unless given dtype."""
    model, X, y = make_problem("tanh")
    net = keras_twin(model)
    logits = net(tf.constant(X))
    default = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(y, logits)
    explicit = keras.losses.SparseCategoricalCrossentropy(from_logits=True,
                                                          dtype="float64")(y, logits)
    assert logits.dtype == tf.float64
    assert default.dtype == tf.float32
    assert explicit.dtype == tf.float64
    # the float32 loss is the float64 one rounded (eps32 = 1.2e-7) ...
    assert float(default) == pytest.approx(float(explicit), rel=1e-6)
    # ... and that rounding is visible: it is not equal to 1e-12
    assert float(default) != pytest.approx(float(explicit), rel=1e-12)
    assert float(explicit) == pytest.approx(model.loss(X, y), rel=1e-13)


@pytest.mark.parametrize("activation", HIDDEN)
def test_framework_grad_norm_helpers_equal_trace(torch, keras, activation):
    model, X, y = make_problem(activation)
    trace = model.trace(X, y)
    # norms of equal gradients; the loss is float64 in both helpers (Keras's is
    # set explicitly, see the test above), so the agreement is at rounding level:
    # measured 2.2e-16 relative; 1e-12 is ~4500 ulps.
    np.testing.assert_allclose(torch_weight_grad_norms(torch_twin(model), X, y),
                               trace.weight_grad_norm, rtol=1e-12)
    np.testing.assert_allclose(keras_weight_grad_norms(keras_twin(model), X, y),
                               trace.weight_grad_norm, rtol=1e-12)


# --- trace -----------------------------------------------------------------------------


@pytest.mark.parametrize("activation", HIDDEN)
def test_trace_lengths_and_values(activation):
    model, X, y = make_problem(activation, sizes=[5, 6, 4, 4, 3], n=20)
    trace = model.trace(X, y)
    assert isinstance(trace, Trace)
    hidden_fields = ("activation_mean", "activation_std", "saturated_fraction",
                     "mean_derivative")
    for field in hidden_fields:
        assert getattr(trace, field).shape == (model.num_layers - 1,), field
    for field in ("weight_grad_norm", "bias_grad_norm"):
        assert getattr(trace, field).shape == (model.num_layers,), field

    # recompute the statistics with a plain loop, independent of MLP.forward
    act = model.activation
    a, hidden, local = X, [], []
    for w, b in zip(model.weights[:-1], model.biases[:-1], strict=True):
        z = a @ w + b
        local.append(act.f_prime(z))
        a = act.f(z)
        hidden.append(a)
    # same operations, different order at most: rounding level (~1e-16 relative)
    np.testing.assert_allclose(trace.activation_mean, [h.mean() for h in hidden],
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(trace.activation_std, [h.std() for h in hidden], rtol=1e-12)
    np.testing.assert_allclose(trace.mean_derivative, [d.mean() for d in local], rtol=1e-12)
    loss, grads = model.loss_and_gradients(X, y)
    assert trace.loss == loss == model.loss(X, y)
    np.testing.assert_array_equal(trace.weight_grad_norm, [np.linalg.norm(g) for g, _ in grads])
    np.testing.assert_array_equal(trace.bias_grad_norm, [np.linalg.norm(g) for _, g in grads])
    assert np.all((trace.saturated_fraction >= 0) & (trace.saturated_fraction <= 1))


def test_trace_saturation_is_seen_for_large_sigmoid_weights():
    """Large weights saturate sigmoid units (outputs near 0 or 1) and shrink f'."""
    small, X, y = make_problem("sigmoid", sizes=[20, 30, 30, 3], n=50, weight_init=0.01)
    large = MLP([w * 1000 for w in small.weights], small.biases, "sigmoid")
    t_small, t_large = small.trace(X, y), large.trace(X, y)
    assert np.all(t_small.saturated_fraction == 0)
    assert np.all(t_large.saturated_fraction > 0.5)
    assert np.all(t_large.mean_derivative < t_small.mean_derivative)


def test_relu_saturated_fraction_counts_dead_units():
    model, X, y = make_problem("relu", sizes=[4, 8, 3], n=30)
    model.biases[0][:] = -1e3  # every hidden unit is dead
    assert model.trace(X, y).saturated_fraction[0] == 1.0


# --- training --------------------------------------------------------------------------


def separable_problem(seed=0, n=40):
    """Two well-separated Gaussian blobs in 2-D."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = rng.normal(scale=0.5, size=(n, 2)) + np.where(y[:, None] == 1, 2.0, -2.0)
    return X, y


def test_train_sgd_lowers_the_loss():
    X, y = separable_problem()
    X_val, y_val = separable_problem(seed=1, n=20)
    model = MLP.create([2, 8, 2], "tanh", np.random.default_rng(0), weight_init=0.5)
    history = train_sgd(model, X, y, lr=0.5, epochs=10, batch_size=8,
                        rng=np.random.default_rng(1), X_val=X_val, y_val=y_val)
    assert isinstance(history, History)
    for series in (history.train_loss, history.val_loss, history.val_accuracy):
        assert len(series) == 10 + 1  # index 0 is before training
    assert history.train_loss[0] == pytest.approx(
        MLP.create([2, 8, 2], "tanh", np.random.default_rng(0), weight_init=0.5).loss(X, y))
    # the problem is separable: a working SGD cuts the loss by far more than 4x
    assert history.train_loss[-1] < history.train_loss[0] / 4
    assert history.val_accuracy[-1] == 1.0
    assert history.train_loss[-1] == model.loss(X, y)  # trained in place


def test_train_sgd_is_reproducible_with_the_same_rng():
    X, y = separable_problem()
    runs = []
    for _ in range(2):
        model = MLP.create([2, 4, 2], "relu", np.random.default_rng(0), weight_init=0.5)
        runs.append(train_sgd(model, X, y, lr=0.1, epochs=3, batch_size=7,
                              rng=np.random.default_rng(5)).train_loss)
    assert runs[0] == runs[1]
    assert runs[0][-1] != runs[0][0]


def test_train_sgd_raises_floating_point_error_for_absurd_learning_rate():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 4))
    y = (X[:, 0] > 0).astype(np.int64)
    model = MLP.create([4, 16, 16, 2], "relu", np.random.default_rng(0), weight_init=0.5)
    # the overflow itself is expected here; silence numpy's warning about it locally
    with np.errstate(over="ignore", invalid="ignore"), \
            pytest.raises(FloatingPointError, match="learning rate"):
        train_sgd(model, X, y, lr=1e6, epochs=20, batch_size=8, rng=np.random.default_rng(1))


def test_train_sgd_absurd_learning_rate_does_raise():
    """Training must not go on silently after the weights overflow."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 4))
    y = (X[:, 0] > 0).astype(np.int64)
    model = MLP.create([4, 16, 16, 2], "relu", np.random.default_rng(0), weight_init=0.5)
    with np.errstate(over="ignore", invalid="ignore"), \
            pytest.raises((FloatingPointError, ValueError), match="NaN|infinite|learning rate"):
        train_sgd(model, X, y, lr=1e6, epochs=20, batch_size=8, rng=np.random.default_rng(1))


@pytest.mark.parametrize("kwargs, error", [
    ({"lr": 0.0}, ValueError), ({"lr": -0.1}, ValueError), ({"lr": float("nan")}, ValueError),
    ({"lr": "0.1"}, TypeError), ({"epochs": 0}, ValueError), ({"epochs": 1.5}, TypeError),
    ({"batch_size": 0}, ValueError), ({"rng": 0}, TypeError),
    ({"rng": np.random.RandomState(0)}, TypeError),
])
def test_train_sgd_validates_arguments(kwargs, error):
    X, y = separable_problem(n=10)
    model = MLP.create([2, 3, 2], "relu", np.random.default_rng(0))
    args = {"lr": 0.1, "epochs": 1, "batch_size": 4, "rng": np.random.default_rng(0)} | kwargs
    with pytest.raises(error):
        train_sgd(model, X, y, **args)


def test_train_sgd_needs_both_validation_arrays():
    X, y = separable_problem(n=10)
    model = MLP.create([2, 3, 2], "relu", np.random.default_rng(0))
    with pytest.raises(ValueError, match="X_val and y_val"):
        train_sgd(model, X, y, lr=0.1, epochs=1, batch_size=4, rng=np.random.default_rng(0),
                  X_val=X)


def test_relative_weight_change():
    model = MLP.create([3, 4, 2], "relu", np.random.default_rng(0))
    scaled = MLP([1.5 * w for w in model.weights], model.biases, "relu")
    # ||1.5 W - W|| / ||W|| = 0.5 for every layer, up to rounding
    np.testing.assert_allclose(relative_weight_change(model, scaled),
                               np.full(model.num_layers, 0.5), rtol=1e-14)
    np.testing.assert_array_equal(relative_weight_change(model, model.copy()),
                                  np.zeros(model.num_layers))


def test_relative_weight_change_errors():
    model = MLP.create([3, 4, 2], "relu", np.random.default_rng(0))
    zero = MLP.create([3, 4, 2], "relu", np.random.default_rng(0), weight_init=0.0)
    with pytest.raises(ValueError, match="all-zero"):
        relative_weight_change(zero, model)
    other = MLP.create([3, 5, 2], "relu", np.random.default_rng(0))
    with pytest.raises(ValueError, match="different layer sizes"):
        relative_weight_change(model, other)


# --- input errors ----------------------------------------------------------------------


@pytest.mark.parametrize("weights, biases, match", [
    ([np.ones((3, 4))], [np.ones(3)], "biases\\[0\\] has 3 entries"),
    ([np.ones((3, 4)), np.ones((5, 2))], [np.ones(4), np.ones(2)], "expects 5 inputs"),
    ([np.ones((3, 4))], [], "one bias per weight"),
    ([], [], "at least one layer"),
    ([np.ones(4)], [np.ones(4)], "2-dimensional"),
    ([np.ones((3, 4))], [np.ones((1, 4))], "1-dimensional"),
    ([np.full((3, 4), np.nan)], [np.ones(4)], "NaN"),
])
def test_mlp_rejects_inconsistent_parameters(weights, biases, match):
    with pytest.raises(ValueError, match=match):
        MLP(weights, biases, "relu")


def test_mlp_rejects_unknown_activation():
    with pytest.raises(ValueError, match="known"):
        MLP([np.ones((3, 4))], [np.ones(4)], "swishy")


@pytest.mark.parametrize("sizes, error", [
    ([4, 0, 2], ValueError), ([4, -3, 2], ValueError), ([4, 2.5, 2], TypeError),
    ([4], ValueError), ([4, True, 2], TypeError),
])
def test_create_rejects_bad_layer_sizes(rng, sizes, error):
    with pytest.raises(error, match="layer"):
        MLP.create(sizes, "relu", rng)


@pytest.mark.parametrize("bad_rng", [0, None, np.random.RandomState(0)],
                         ids=["int", "None", "RandomState"])
def test_create_rejects_wrong_rng_type(bad_rng):
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        MLP.create([3, 2], "relu", bad_rng)


def test_create_rejects_bad_weight_init(rng):
    with pytest.raises(ValueError, match=r"shape \(4, 3\), expected \(3, 4\)"):
        MLP.create([3, 4], "relu", rng, weight_init=lambda fan_in, fan_out, r: np.ones((4, 3)))
    with pytest.raises(ValueError, match="standard deviation"):
        MLP.create([3, 4], "relu", rng, weight_init=-1.0)
    with pytest.raises(TypeError, match="standard deviation"):
        MLP.create([3, 4], "relu", rng, weight_init="he")


@pytest.mark.parametrize("method", ["forward", "loss", "loss_and_gradients", "trace",
                                    "accuracy"])
def test_methods_validate_inputs_and_labels(rng, method):
    model = MLP.create([3, 4, 2], "relu", rng)
    X = rng.normal(size=(5, 3))
    y = np.array([0, 1, 1, 0, 1])

    def call(X_, y_):
        fn = getattr(model, method)
        return fn(X_) if method == "forward" else fn(X_, y_)

    with pytest.raises(ValueError, match="4 features but the network expects 3"):
        call(rng.normal(size=(5, 4)), y)
    with pytest.raises(ValueError, match="2-dimensional"):
        call(X[0], y[:3])  # 3 labels for the 3 "rows" of a 1-D X: only X is wrong
    if method == "forward":
        return
    with pytest.raises(TypeError, match="integer"):
        call(X, y.astype(float))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        call(X, np.array([0, 1, 2, 0, 1]))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        call(X, np.array([0, -1, 1, 0, 1]))
    with pytest.raises(ValueError, match="1-D array of 5"):
        call(X, y[:4])
