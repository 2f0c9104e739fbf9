"""utils.regularization: penalties, dropout and augmentation against PyTorch, Keras, SciPy
and finite differences; the self-checks of the regularization chapter."""

from __future__ import annotations

import numpy as np
import pytest

from utils import checks
from utils import regularization as reg
from utils.gradcheck import numerical_gradient, relative_error

# Penalty values are sums of a few hundred float64 terms; the frameworks add them in
# another order, so agreement is to rounding (~1e-15 relative). 1e-12 leaves room for
# other BLAS/reduction orders and still catches any wrong factor, which is O(1).
RTOL = 1e-12


def weight_list(rng):
    w = [rng.normal(size=(5, 4)), rng.normal(size=(4, 3)), rng.normal(size=(3,))]
    w[0][0, :2] = 0.0  # exact zeros: the L1 subgradient there must be 0, as in autograd
    return w


# --- penalties: formulas ---------------------------------------------------------------


def test_penalties_on_a_hand_computed_example():
    w = np.array([1.0, -2.0, 0.0])
    value, grad = reg.l2_penalty(w, 0.5)
    assert value == 0.5 * 0.5 * 5.0 and np.array_equal(grad, [0.5, -1.0, 0.0])
    value, grad = reg.l1_penalty(w, 0.5)
    assert value == 1.5 and np.array_equal(grad, [0.5, -0.5, 0.0])
    value, grad = reg.elastic_net_penalty(w, 0.5, 0.5)
    assert value == 1.5 + 1.25 and np.array_equal(grad, [1.0, -1.5, 0.0])


def test_penalties_keep_the_structure_of_the_weights(rng):
    ws = weight_list(rng)
    for fn, args in [(reg.l1_penalty, (0.1,)), (reg.l2_penalty, (0.1,)),
                     (reg.elastic_net_penalty, (0.1, 0.2))]:
        value, grads = fn(ws, *args)
        assert isinstance(value, float) and isinstance(grads, list)
        assert [g.shape for g in grads] == [w.shape for w in ws]
        single_value, single_grad = fn(ws[0], *args)
        assert isinstance(single_grad, np.ndarray) and single_grad.shape == ws[0].shape
        assert np.isclose(value, sum(fn(w, *args)[0] for w in ws), rtol=RTOL)


def test_zero_strength_is_no_penalty(rng):
    ws = weight_list(rng)
    for fn in (reg.l1_penalty, reg.l2_penalty):
        value, grads = fn(ws, 0.0)
        assert value == 0.0 and all(not g.any() for g in grads)


@pytest.mark.parametrize("fn, args", [(reg.l2_penalty, (0.3,)),
                                      (reg.elastic_net_penalty, (0.2, 0.3)),
                                      (reg.l1_penalty, (0.2,))])
def test_penalty_gradients_against_finite_differences(fn, args, rng):
    w = rng.normal(size=(6, 5))
    w[np.abs(w) < 0.05] = 0.1  # keep away from the kink of |w| (h = 1e-5)
    numeric = numerical_gradient(lambda: fn(w, *args)[0], w)
    assert relative_error(fn(w, *args)[1], numeric) < 1e-8


@pytest.mark.parametrize("bad, error", [(-0.1, ValueError), (float("nan"), ValueError),
                                        (float("inf"), ValueError), ("0.1", TypeError),
                                        (True, TypeError)])
def test_penalties_reject_bad_strengths(bad, error):
    for call in (lambda: reg.l1_penalty(np.ones(3), bad), lambda: reg.l2_penalty(np.ones(3), bad),
                 lambda: reg.elastic_net_penalty(np.ones(3), bad, 0.1),
                 lambda: reg.elastic_net_penalty(np.ones(3), 0.1, bad),
                 lambda: reg.soft_threshold(np.ones(3), bad)):
        with pytest.raises(error):
            call()


def test_penalties_reject_bad_weights():
    for bad in ([], "weights", None, [np.ones(2), "x"], [np.array([1.0, np.nan])]):
        with pytest.raises((TypeError, ValueError)):
            reg.l2_penalty(bad, 0.1)


def test_negative_strength_message_is_clear():
    with pytest.raises(ValueError, match="lam must be >= 0"):
        reg.l2_penalty(np.ones(3), -1.0)


# --- penalties: Keras -------------------------------------------------------------------


def keras_penalty(keras, regularizer, ws):
    return float(sum(keras.ops.convert_to_numpy(regularizer(w)) for w in ws))


# Keras converts a regularizer's factor to a float32 tensor before casting it to the
# weights' dtype, so a factor such as 0.03 is rounded (relative error up to 2**-24) even
# for float64 weights. The identities below use factors that float32 represents exactly
# (multiples of powers of two); test_keras_rounds_factors_to_float32 pins the rounding.


def test_keras_l1_equals_numpy_l1(keras, rng):
    ws = weight_list(rng)
    want, _ = reg.l1_penalty(ws, 0.0625)
    assert np.isclose(keras_penalty(keras, keras.regularizers.l1(0.0625), ws), want, rtol=RTOL)


def test_keras_l2_has_no_one_half(keras, rng):
    """Keras l2(x) = x * sum w^2; the book's l2_penalty(w, lam) = lam/2 * sum w^2."""
    ws = weight_list(rng)
    lam = 0.125
    ours, _ = reg.l2_penalty(ws, lam)
    assert np.isclose(keras_penalty(keras, keras.regularizers.l2(lam / 2), ws), ours, rtol=RTOL)
    assert np.isclose(keras_penalty(keras, keras.regularizers.l2(lam), ws), 2 * ours, rtol=RTOL)


def test_keras_l1_l2_equals_elastic_net_with_doubled_l2(keras, rng):
    ws = weight_list(rng)
    ours, _ = reg.elastic_net_penalty(ws, 0.03125, 0.125)
    theirs = keras_penalty(keras, keras.regularizers.l1_l2(l1=0.03125, l2=0.0625), ws)
    assert np.isclose(theirs, ours, rtol=RTOL)


def test_keras_rounds_factors_to_float32(keras, rng):
    ws = weight_list(rng)
    f32 = float(np.float32(0.03))
    for regularizer, ours in [(keras.regularizers.l1(0.03), lambda c: reg.l1_penalty(ws, c)[0]),
                              (keras.regularizers.l2(0.03), lambda c: reg.l2_penalty(ws, 2 * c)[0]),
                              (keras.regularizers.l1_l2(l1=0.03), lambda c: reg.l1_penalty(ws, c)[0])]:
        got = keras_penalty(keras, regularizer, ws)
        assert np.isclose(got, ours(f32), rtol=RTOL)
        assert not np.isclose(got, ours(0.03), rtol=1e-10)
        assert np.isclose(got, ours(0.03), rtol=2.0**-24)


@pytest.mark.parametrize("name", ["l1", "l2", "elastic"])
def test_keras_regularizer_gradients(keras, tf, rng, name):
    w = weight_list(rng)[0]
    regularizer, (value, grad) = {
        "l1": (keras.regularizers.l1(0.0625), reg.l1_penalty(w, 0.0625)),
        "l2": (keras.regularizers.l2(0.0625), reg.l2_penalty(w, 0.125)),
        "elastic": (keras.regularizers.l1_l2(l1=0.0625, l2=0.0625),
                    reg.elastic_net_penalty(w, 0.0625, 0.125)),
    }[name]
    var = tf.Variable(w)
    with tf.GradientTape() as tape:
        out = regularizer(var)
    assert np.isclose(float(out), value, rtol=RTOL)
    assert np.allclose(tape.gradient(out, var).numpy(), grad, rtol=RTOL, atol=0)


# --- penalties: PyTorch -----------------------------------------------------------------


def test_torch_autograd_of_penalties(torch, rng):
    ws = weight_list(rng)
    tensors = [torch.tensor(w, requires_grad=True) for w in ws]
    total = sum(0.02 * t.abs().sum() + 0.5 * 0.3 * (t * t).sum() for t in tensors)
    total.backward()
    value, grads = reg.elastic_net_penalty(ws, 0.02, 0.3)
    assert np.isclose(total.item(), value, rtol=RTOL)
    for t, g in zip(tensors, grads, strict=True):
        assert np.allclose(t.grad.numpy(), g, rtol=RTOL, atol=0)


def test_torch_weight_penalty_covers_linear_weights_only(torch):
    from utils.nets.torch_fit import mlp

    torch.manual_seed(0)
    net = mlp([6, 5, 4, 3], dropout=0.2).double()
    weights = [m.weight.detach().numpy() for m in net if isinstance(m, torch.nn.Linear)]
    got = reg.torch_weight_penalty(net, l1=0.01, l2=0.2).item()
    assert np.isclose(got, reg.elastic_net_penalty(weights, 0.01, 0.2)[0], rtol=RTOL)
    with pytest.raises(ValueError, match="no torch.nn.Linear"):
        reg.torch_weight_penalty(torch.nn.Sequential(torch.nn.ReLU()), l2=0.1)


def test_penalized_cross_entropy(torch):
    from utils.nets.torch_fit import mlp

    torch.manual_seed(0)
    net = mlp([6, 5, 3]).double()
    x = torch.randn(8, 6, dtype=torch.float64)
    y = torch.randint(0, 3, (8,))
    logits = net(x)
    plain = torch.nn.functional.cross_entropy(logits, y)
    assert reg.penalized_cross_entropy()(net, logits, y).item() == plain.item()
    got = reg.penalized_cross_entropy(l2=0.1)(net, logits, y).item()
    assert np.isclose(got, plain.item() + reg.torch_weight_penalty(net, l2=0.1).item(), rtol=RTOL)
    with pytest.raises(ValueError):
        reg.penalized_cross_entropy(l1=-1.0)


# --- L2 penalty and weight decay ----------------------------------------------------------


def softmax_regression_problem(rng, n=40, d=6, k=3):
    X = rng.normal(size=(n, d))
    y = rng.integers(0, k, size=n)
    return X, y, rng.normal(scale=0.3, size=(d, k)), np.zeros(k)


def numpy_sgd(X, y, W, b, *, lr, lam, steps, penalty="l2"):
    from utils.nets.numpy_mlp import MLP

    net = MLP([W.copy()], [b.copy()], "identity")
    for _ in range(steps):
        _, [(gW, gb)] = net.loss_and_gradients(X, y)
        if penalty == "l2":
            gW = gW + reg.l2_penalty(net.weights[0], lam)[1]
        net.weights[0] -= lr * gW
        net.biases[0] -= lr * gb
    return net.weights[0], net.biases[0]


def torch_sgd(torch, X, y, W, b, *, lr, weight_decay, steps, momentum=0.0, penalty=0.0):
    """PyTorch linear softmax classifier; weight decay on the weight only (param groups)."""
    lin = torch.nn.Linear(W.shape[0], W.shape[1]).double()
    with torch.no_grad():
        lin.weight.copy_(torch.tensor(W.T))
        lin.bias.copy_(torch.tensor(b))
    opt = torch.optim.SGD([{"params": [lin.weight], "weight_decay": weight_decay},
                           {"params": [lin.bias], "weight_decay": 0.0}], lr=lr, momentum=momentum)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    for _ in range(steps):
        loss = torch.nn.functional.cross_entropy(lin(Xt), yt)
        if penalty:
            loss = loss + 0.5 * penalty * (lin.weight ** 2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return lin.weight.detach().numpy().T, lin.bias.detach().numpy()


def keras_sgd(keras, tf, X, y, W, b, *, lr, l2, steps):
    layer = keras.layers.Dense(W.shape[1], kernel_regularizer=keras.regularizers.l2(l2),
                               dtype="float64")
    model = keras.Sequential([keras.Input(shape=(W.shape[0],), dtype="float64"), layer])
    layer.set_weights([W, b])
    opt = keras.optimizers.SGD(learning_rate=lr)
    ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True, dtype="float64")
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = ce(y, model(X, training=True)) + tf.add_n(model.losses)
        opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables),
                                model.trainable_variables, strict=True))
    return [v.numpy() for v in layer.weights]


# Trajectories of 30 float64 SGD steps: the three libraries do the same arithmetic in a
# different order; measured differences are ~1e-16, 1e-11 allows for other builds.
TRAJ_TOL = 1e-11


def test_l2_penalty_is_weight_decay_for_sgd_in_torch(torch, rng):
    X, y, W, b = softmax_regression_problem(rng)
    lam, lr = 0.2, 0.3
    w_np, b_np = numpy_sgd(X, y, W, b, lr=lr, lam=lam, steps=30)
    w_wd, b_wd = torch_sgd(torch, X, y, W, b, lr=lr, weight_decay=lam, steps=30)
    w_pen, b_pen = torch_sgd(torch, X, y, W, b, lr=lr, weight_decay=0.0, steps=30, penalty=lam)
    for a, c in [(w_np, w_wd), (w_np, w_pen), (b_np, b_wd), (b_np, b_pen)]:
        assert np.allclose(a, c, rtol=0, atol=TRAJ_TOL)
    # and the penalty matters: without it the weights end elsewhere
    w_none, _ = numpy_sgd(X, y, W, b, lr=lr, lam=0.0, steps=30)
    assert np.abs(w_none - w_np).max() > 1e-2


def test_l2_penalty_is_weight_decay_with_momentum_too(torch, rng):
    """PyTorch adds weight_decay * w to the gradient before the momentum buffer, so the
    equivalence also holds for SGD with momentum (not for Adam)."""
    X, y, W, b = softmax_regression_problem(rng)
    a = torch_sgd(torch, X, y, W, b, lr=0.1, weight_decay=0.2, steps=30, momentum=0.9)
    c = torch_sgd(torch, X, y, W, b, lr=0.1, weight_decay=0.0, steps=30, momentum=0.9,
                  penalty=0.2)
    assert np.allclose(a[0], c[0], rtol=0, atol=TRAJ_TOL)


def test_keras_l2_half_lambda_is_torch_weight_decay(keras, tf, torch, rng):
    X, y, W, b = softmax_regression_problem(rng)
    # Keras keeps the factor and the learning rate in float32: use exactly representable ones
    lam, lr = 0.25, 0.25
    w_torch, b_torch = torch_sgd(torch, X, y, W, b, lr=lr, weight_decay=lam, steps=30)
    w_keras, b_keras = keras_sgd(keras, tf, X, y, W, b, lr=lr, l2=lam / 2, steps=30)
    assert np.allclose(w_keras, w_torch, rtol=0, atol=TRAJ_TOL)
    assert np.allclose(b_keras, b_torch, rtol=0, atol=TRAJ_TOL)
    # the common mistake: Keras l2(lam) is weight_decay = 2 lam
    w_double, _ = keras_sgd(keras, tf, X, y, W, b, lr=lr, l2=lam, steps=30)
    w_torch2, _ = torch_sgd(torch, X, y, W, b, lr=lr, weight_decay=2 * lam, steps=30)
    assert np.allclose(w_double, w_torch2, rtol=0, atol=TRAJ_TOL)
    assert np.abs(w_double - w_torch).max() > 1e-3


def test_torch_weight_decay_also_decays_biases_by_default(torch):
    """Without parameter groups, weight_decay shrinks every parameter, biases included."""
    lin = torch.nn.Linear(2, 2).double()
    with torch.no_grad():
        lin.bias.fill_(1.0)
    opt = torch.optim.SGD(lin.parameters(), lr=0.1, weight_decay=0.5)
    opt.zero_grad()
    (0.0 * lin(torch.zeros(1, 2, dtype=torch.float64)).sum()).backward()  # zero loss gradient
    opt.step()
    assert np.allclose(lin.bias.detach().numpy(), 1.0 - 0.1 * 0.5)


# --- soft thresholding ------------------------------------------------------------------


def test_soft_threshold_is_the_l1_proximal_step(rng):
    """argmin_z 0.5 (z - w)^2 + t |z|, found by brute force on a fine grid."""
    w = rng.normal(size=7)
    t = 0.4
    grid = np.linspace(-4, 4, 800_001)
    brute = np.array([grid[np.argmin(0.5 * (grid - wi) ** 2 + t * np.abs(grid))] for wi in w])
    assert np.allclose(reg.soft_threshold(w, t), brute, atol=2e-5)
    assert np.array_equal(reg.soft_threshold(w, t) == 0, np.abs(w) <= t)


def test_soft_threshold_against_frameworks(torch, keras, rng):
    w = rng.normal(size=50)
    ours = reg.soft_threshold(w, 0.5)
    assert np.array_equal(ours, torch.nn.functional.softshrink(torch.tensor(w), 0.5).numpy())
    theirs = keras.ops.convert_to_numpy(keras.ops.soft_shrink(w, 0.5))
    assert np.allclose(ours, theirs, rtol=1e-15, atol=0)


# --- dropout ------------------------------------------------------------------------------

DROPOUTS = [reg.vanilla_dropout, reg.inverted_dropout]


@pytest.mark.parametrize("fn", DROPOUTS)
@pytest.mark.parametrize("bad", [-0.1, 1.0, 1.5, float("nan")])
def test_dropout_rejects_rates_outside_0_1(fn, bad, rng):
    with pytest.raises(ValueError, match=r"rate .*must be in \[0, 1\)"):
        fn(np.ones(3), bad, rng, training=True)
    with pytest.raises(ValueError):
        reg.dropout_mask((3,), bad, rng)


@pytest.mark.parametrize("fn", DROPOUTS)
def test_dropout_rejects_other_bad_arguments(fn, rng):
    with pytest.raises(TypeError):
        fn(np.ones(3), "0.5", rng, training=True)
    with pytest.raises(TypeError, match="training must be True or False"):
        fn(np.ones(3), 0.5, rng, training=1)
    with pytest.raises(TypeError, match="rng"):
        fn(np.ones(3), 0.5, training=True)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        fn(np.ones(3), 0.5, np.random.RandomState(0), training=True)
    with pytest.raises(ValueError, match="keep must be a boolean array"):
        fn(np.ones(3), 0.5, training=True, keep=np.ones(3))
    with pytest.raises(ValueError, match="keep must be a boolean array"):
        fn(np.ones(3), 0.5, training=True, keep=np.ones(4, dtype=bool))
    with pytest.raises(TypeError):
        fn(["a"], 0.5, rng, training=True)


def test_inference_modes(rng):
    x = rng.normal(size=(4, 5))
    out, mult = reg.inverted_dropout(x, 0.3, training=False)
    assert np.array_equal(out, x) and np.all(mult == 1)
    out, mult = reg.vanilla_dropout(x, 0.3, training=False)
    assert np.allclose(out, 0.7 * x, rtol=1e-15) and np.allclose(mult, 0.7)


@pytest.mark.parametrize("fn", DROPOUTS)
def test_rate_zero_is_the_identity_in_training(fn, rng):
    x = rng.normal(size=(4, 5))
    out, _ = fn(x, 0.0, rng, training=True)
    assert np.array_equal(out, x)


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.8])
def test_drop_fraction_and_scaling(rate, rng):
    x = 1.0 + rng.random((200, 500))
    out, mult = reg.inverted_dropout(x, rate, rng, training=True)
    dropped = np.mean(out == 0)
    assert abs(dropped - rate) < 5 * np.sqrt(rate * (1 - rate) / x.size)  # 5 standard errors
    assert np.allclose(out[out != 0] / x[out != 0], 1 / (1 - rate), rtol=1e-14)
    vout, vmult = reg.vanilla_dropout(x, rate, training=True, keep=mult > 0)
    assert np.array_equal(vout != 0, out != 0) and np.array_equal(vout[vout != 0], x[vout != 0])


@pytest.mark.parametrize("fn", DROPOUTS)
@pytest.mark.parametrize("rate", [0.2, 0.5])
def test_expected_training_output_equals_inference_output(fn, rate):
    """Averaged over masks, training output = inference output, for both variants.

    Per entry, the training output is x * Bernoulli(1-rate) [/ (1-rate)]: its standard
    deviation over M masks is |x| sqrt(rate/(1-rate)) / sqrt(M) (inverted) and
    |x| sqrt(rate (1-rate)) / sqrt(M) (vanilla); 5 of them bound every entry's error.
    """
    rng = np.random.default_rng(1)
    x = rng.normal(size=40)
    masks = 20_000
    train = np.stack([fn(x, rate, rng, training=True)[0] for _ in range(masks)]).mean(axis=0)
    infer, _ = fn(x, rate, training=False)
    if fn is reg.inverted_dropout:
        sd = np.abs(x) * np.sqrt(rate / (1 - rate))
    else:
        sd = np.abs(x) * np.sqrt(rate * (1 - rate))
    assert np.all(np.abs(train - infer) <= 5 * sd / np.sqrt(masks) + 1e-15)


def test_mixing_variants_scales_by_the_keep_probability(rng):
    """Train inverted, test as vanilla: outputs x (1 - rate) instead of x; and vice versa."""
    x = rng.normal(size=10)
    rate = 0.4
    inverted_test, _ = reg.inverted_dropout(x, rate, training=False)
    vanilla_test, _ = reg.vanilla_dropout(x, rate, training=False)
    assert np.allclose(vanilla_test / inverted_test, 1 - rate)


def test_dropout_backward_against_finite_differences(rng):
    x = rng.normal(size=(5, 6))
    g = rng.normal(size=(5, 6))
    for fn in DROPOUTS:
        for training in (True, False):
            keep = reg.dropout_mask(x.shape, 0.3, rng) if training else None
            _, mult = fn(x, 0.3, training=training, keep=keep)
            numeric = numerical_gradient(
                lambda fn=fn, training=training, keep=keep: float(
                    np.sum(g * fn(x, 0.3, training=training, keep=keep)[0])), x)
            assert relative_error(reg.dropout_backward(g, mult), numeric) < 1e-9
    with pytest.raises(ValueError, match="shape"):
        reg.dropout_backward(np.ones(3), np.ones(4))


def test_inverted_dropout_equals_torch_with_the_same_mask(torch):
    """Train mode: torch's output is x * mask / (1 - p); with torch's mask, ours is equal.
    Both compute in float32 here, so they agree to float32 rounding (rtol 1e-6)."""
    torch.manual_seed(0)
    p = 0.3
    x = 1.0 + torch.rand(300, 400)
    layer = torch.nn.Dropout(p)
    layer.train()
    out = layer(x).numpy()
    keep = out != 0
    assert abs(1 - keep.mean() - p) < 5 * np.sqrt(p * (1 - p) / keep.size)
    ours, _ = reg.inverted_dropout(x.numpy(), p, training=True, keep=keep)
    assert np.allclose(ours, out, rtol=1e-6, atol=0)
    layer.eval()
    assert torch.equal(layer(x), x)  # identity at inference
    vanilla, _ = reg.vanilla_dropout(x.numpy(), p, training=True, keep=keep)
    assert np.allclose(vanilla, (1 - p) * out, rtol=1e-6)


def test_dropout_gradient_equals_torch_autograd(torch):
    torch.manual_seed(1)
    x = (1.0 + torch.rand(50, 40, dtype=torch.float64)).requires_grad_()
    g = torch.randn(50, 40, dtype=torch.float64)
    layer = torch.nn.Dropout(0.4)
    out = layer(x)
    out.backward(g)
    _, mult = reg.inverted_dropout(x.detach().numpy(), 0.4, training=True,
                                   keep=out.detach().numpy() != 0)
    assert np.allclose(reg.dropout_backward(g.numpy(), mult), x.grad.numpy(), rtol=1e-14)


def test_inverted_dropout_equals_keras_with_the_same_mask(keras):
    rate = 0.3
    x = 1.0 + np.random.default_rng(2).random((300, 400)).astype("float32")
    layer = keras.layers.Dropout(rate, seed=3)
    out = keras.ops.convert_to_numpy(layer(x, training=True))
    keep = out != 0
    assert abs(1 - keep.mean() - rate) < 5 * np.sqrt(rate * (1 - rate) / keep.size)
    ours, _ = reg.inverted_dropout(x, rate, training=True, keep=keep)
    assert np.allclose(ours, out, rtol=1e-6, atol=0)
    assert np.array_equal(keras.ops.convert_to_numpy(layer(x, training=False)), x)
    assert np.array_equal(keras.ops.convert_to_numpy(layer(x)), x)  # default: inference


# --- augmentation -------------------------------------------------------------------------


@pytest.mark.parametrize("angle", [0.0, 7.0, -12.5, 33.0, 90.0, 180.0])
def test_rotation_matches_scipy(angle, rng):
    from scipy import ndimage

    x = rng.random((3, 8, 8))
    want = np.stack([ndimage.rotate(im, angle, reshape=False, order=1, mode="grid-constant",
                                    cval=0.0) for im in x])
    assert np.allclose(reg.transform_images(x, angle), want, rtol=0, atol=1e-12)


def test_per_image_rotation_and_shift_match_scipy_affine_transform(rng):
    from scipy import ndimage

    x = rng.random((4, 8, 8))
    angles = np.array([5.0, -20.0, 45.0, 0.0])
    shifts = np.array([[0.3, -0.7], [1.0, 1.0], [-0.5, 0.25], [2.0, -1.0]])
    got = reg.transform_images(x, angles, shifts)
    c = np.array([3.5, 3.5])
    for i in range(4):
        t = np.deg2rad(angles[i])
        rot = np.array([[np.cos(t), np.sin(t)], [-np.sin(t), np.cos(t)]])  # output -> input
        want = ndimage.affine_transform(x[i], rot, offset=c - rot @ (shifts[i] + c), order=1,
                                        mode="grid-constant", cval=0.0)
        assert np.allclose(got[i], want, rtol=0, atol=1e-12)


@pytest.mark.parametrize("angle", [10.0, -25.0, 90.0])
def test_rotation_matches_keras_random_rotation(keras, angle, rng):
    """Keras' RandomRotation with a fixed factor (fraction of a full turn, counter-clockwise),
    bilinear, constant fill 0. Keras computes in float32: agreement to 1e-5."""
    x = rng.random((3, 8, 8)).astype("float32")
    layer = keras.layers.RandomRotation(factor=(angle / 360, angle / 360), fill_mode="constant",
                                        interpolation="bilinear", fill_value=0.0)
    want = keras.ops.convert_to_numpy(layer(x[..., None], training=True))[..., 0]
    assert np.allclose(reg.transform_images(x.astype(float), angle), want, rtol=0, atol=1e-5)


@pytest.mark.parametrize("shift", [(1.0, -2.0), (0.5, 0.25)])
def test_shift_matches_keras_random_translation(keras, shift, rng):
    """Keras' RandomTranslation with fixed factors (fractions of the height and width)."""
    x = rng.random((3, 8, 8)).astype("float32")
    layer = keras.layers.RandomTranslation(height_factor=(shift[0] / 8,) * 2,
                                           width_factor=(shift[1] / 8,) * 2, fill_mode="constant",
                                           interpolation="bilinear", fill_value=0.0)
    want = keras.ops.convert_to_numpy(layer(x[..., None], training=True))[..., 0]
    assert np.allclose(reg.transform_images(x.astype(float), 0.0, shift), want, rtol=0, atol=1e-5)


def test_integer_shifts_and_quarter_turns_are_exact(rng):
    x = rng.random((2, 8, 8))
    shifted = reg.transform_images(x, 0.0, (1, -2))
    want = np.zeros_like(x)
    want[:, 1:, :6] = x[:, :7, 2:]
    assert np.array_equal(shifted, want)
    assert np.allclose(reg.transform_images(x, 90.0), np.rot90(x, 1, axes=(1, 2)), atol=1e-12)
    assert np.allclose(reg.transform_images(x, 360.0), x, atol=1e-12)


def test_flat_images_keep_their_shape_and_flips(rng):
    x = rng.random((5, 64))
    assert reg.transform_images(x, 10.0).shape == (5, 64)
    flipped = reg.flip_horizontal(x)
    assert flipped.shape == (5, 64)
    assert np.array_equal(flipped.reshape(5, 8, 8), x.reshape(5, 8, 8)[:, :, ::-1])
    assert np.array_equal(reg.flip_horizontal(flipped), x)


def test_augment_images(rng):
    from utils.data import load_digits

    raw = load_digits(standardize=False).X_train[:50]
    a = reg.augment_images(raw, np.random.default_rng(5), max_shift=1.0, max_angle=10.0,
                           noise_std=1.0)
    b = reg.augment_images(raw, np.random.default_rng(5), max_shift=1.0, max_angle=10.0,
                           noise_std=1.0)
    assert a.shape == raw.shape and np.array_equal(a, b)  # reproducible from the rng
    assert a.min() >= 0 and a.max() <= 16 and not np.array_equal(a, raw)
    same = reg.augment_images(raw, rng, max_shift=0.0, max_angle=0.0)
    assert np.array_equal(same, raw)
    # small transformations keep most of the ink where it was
    assert np.corrcoef(a.ravel(), raw.ravel())[0, 1] > 0.6


def test_augmentation_rejects_bad_inputs(rng):
    with pytest.raises(ValueError, match="square"):
        reg.transform_images(np.ones((2, 10)), 5.0)
    with pytest.raises(ValueError, match="one value per image"):
        reg.transform_images(np.ones((2, 8, 8)), [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="shifts"):
        reg.transform_images(np.ones((2, 8, 8)), 0.0, np.ones((3, 2)))
    with pytest.raises(ValueError, match="shape"):
        reg.flip_horizontal(np.ones(64))
    with pytest.raises(ValueError):
        reg.augment_images(np.ones((2, 64)), rng, max_shift=-1.0)
    with pytest.raises(ValueError):
        reg.augment_images(np.ones((2, 64)), rng, max_angle=float("nan"))
    with pytest.raises(ValueError, match="pixel_range"):
        reg.augment_images(np.ones((2, 64)), rng, pixel_range=(1.0, 0.0))
    with pytest.raises(TypeError, match="Generator"):
        reg.augment_images(np.ones((2, 64)), 0)
    with pytest.raises(ValueError, match="max_zoom must be in"):
        reg.augment_images(np.ones((2, 64)), rng, max_zoom=1.0)
    with pytest.raises(ValueError, match="crop_padding must be an integer >= 0"):
        reg.augment_images(np.ones((2, 64)), rng, crop_padding=-1)
    with pytest.raises(TypeError, match="crop_padding must be an integer"):
        reg.augment_images(np.ones((2, 64)), rng, crop_padding=1.5)
    with pytest.raises(ValueError, match="scales must be > 0"):
        reg.transform_images(np.ones((2, 8, 8)), 0.0, scales=[1.0, 0.0])
    with pytest.raises(ValueError, match="scales contains"):
        reg.transform_images(np.ones((2, 8, 8)), 0.0, scales=float("nan"))


# --- scale augmentation (zoom) and random crops ---------------------------------------------


def test_zoom_rotation_and_shift_match_scipy_affine_transform(rng):
    from scipy import ndimage

    x = rng.random((4, 8, 8))
    angles = np.array([0.0, -20.0, 45.0, 7.0])
    scales = np.array([1.2, 0.8, 1.0, 0.9])
    shifts = np.array([[0.0, 0.0], [1.0, -0.5], [0.3, 0.2], [-1.0, 1.0]])
    got = reg.transform_images(x, angles, shifts, scales=scales)
    c = np.array([3.5, 3.5])
    for i in range(4):
        t = np.deg2rad(angles[i])
        rot = np.array([[np.cos(t), np.sin(t)], [-np.sin(t), np.cos(t)]]) / scales[i]
        want = ndimage.affine_transform(x[i], rot, offset=c - rot @ (shifts[i] + c), order=1,
                                        mode="grid-constant", cval=0.0)
        assert np.allclose(got[i], want, rtol=0, atol=1e-12)


@pytest.mark.parametrize("scale", [0.8, 1.25, 1.1])
def test_zoom_matches_keras_random_zoom(keras, scale, rng):
    """Keras' RandomZoom samples the input at centre + (1 + factor) * (output - centre):
    our factor ``scale`` is Keras' ``factor = 1 / scale - 1`` (positive zooms out).
    Keras computes in float32: agreement to 1e-5."""
    x = rng.random((3, 8, 8)).astype("float32")
    f = 1 / scale - 1
    layer = keras.layers.RandomZoom(height_factor=(f, f), width_factor=(f, f),
                                    fill_mode="constant", interpolation="bilinear",
                                    fill_value=0.0)
    want = keras.ops.convert_to_numpy(layer(x[..., None], training=True))[..., 0]
    got = reg.transform_images(x.astype(float), 0.0, scales=scale)
    assert np.allclose(got, want, rtol=0, atol=1e-5)


@pytest.mark.parametrize("scale", [0.8, 1.25])
def test_zoom_matches_torch_grid_sample(torch, scale, rng):
    """PyTorch's affine_grid + grid_sample (align_corners=True: -1 and 1 are the centres of
    the corner pixels; zero padding) with theta = I / scale."""
    x = rng.random((3, 8, 8))
    theta = torch.tensor([[1 / scale, 0.0, 0.0], [0.0, 1 / scale, 0.0]],
                         dtype=torch.float64).repeat(3, 1, 1)
    inp = torch.tensor(x)[:, None]
    grid = torch.nn.functional.affine_grid(theta, list(inp.shape), align_corners=True)
    want = torch.nn.functional.grid_sample(inp, grid, mode="bilinear", padding_mode="zeros",
                                           align_corners=True)[:, 0].numpy()
    assert np.allclose(reg.transform_images(x, 0.0, scales=scale), want, rtol=0, atol=1e-12)


def test_zoom_keeps_the_centre_and_enlarges(rng):
    x = np.zeros((1, 9, 9))
    x[0, 3:6, 3:6] = 1.0  # a 3x3 square around the centre pixel
    big = reg.transform_images(x, 0.0, scales=2.0)[0]
    small = reg.transform_images(x, 0.0, scales=0.5)[0]
    assert big[4, 4] == 1.0 and small[4, 4] == 1.0
    assert (big > 0.5).sum() > (x[0] > 0.5).sum() > (small > 0.5).sum()
    assert np.allclose(big, big[::-1, ::-1]) and np.allclose(small, small.T)
    same = rng.random((2, 8, 8))
    assert np.array_equal(reg.transform_images(same, 0.0, scales=1.0), same)


def test_random_crop_is_a_whole_pixel_shift(rng):
    """Pad by p, crop back at a random offset: every output is one of the (2p + 1)**2
    integer shifts of its input (no interpolation), and all offsets occur."""
    x = 1.0 + rng.random((300, 8, 8))  # > 0 everywhere, so that every shift differs
    out = reg.augment_images(x, np.random.default_rng(1), max_shift=0.0, max_angle=0.0,
                             crop_padding=1, pixel_range=None)
    candidates = np.stack([reg.transform_images(x, 0.0, (dy, dx))
                           for dy in (-1, 0, 1) for dx in (-1, 0, 1)])
    match = np.all(candidates == out[None], axis=(2, 3))  # (9, n)
    assert np.all(match.sum(axis=0) == 1)
    assert set(np.argmax(match, axis=0)) == set(range(9))
    assert np.array_equal(out, reg.augment_images(
        x, np.random.default_rng(1), max_shift=0.0, max_angle=0.0, crop_padding=1,
        pixel_range=None))


def test_random_crop_matches_torch_pad_and_slice(torch, rng):
    """The same windows cut from torch.nn.functional.pad's zero-padded images."""
    x = rng.random((20, 8, 8))
    out = reg.augment_images(x, np.random.default_rng(3), max_shift=0.0, max_angle=0.0,
                             crop_padding=2, pixel_range=None)
    draws = np.random.default_rng(3)  # replay the draws: angles, shifts, then offsets
    draws.uniform(size=20)
    draws.uniform(size=(20, 2))
    top, left = draws.integers(0, 5, size=(2, 20))
    padded = torch.nn.functional.pad(torch.tensor(x), (2, 2, 2, 2))
    want = np.stack([padded[i, t:t + 8, s:s + 8].numpy()
                     for i, (t, s) in enumerate(zip(top, left, strict=True))])
    assert np.array_equal(out, want)


def test_random_crop_matches_keras_padding_and_random_crop(keras, rng):
    """Keras: ZeroPadding2D(1) then RandomCrop(8, 8) (its offsets are its own): each of
    its crops is one of the nine windows that ours draws from."""
    x = 1.0 + rng.random((40, 8, 8)).astype("float32")
    padded = keras.layers.ZeroPadding2D(1)(x[..., None])
    crops = keras.ops.convert_to_numpy(
        keras.layers.RandomCrop(8, 8, seed=0)(padded, training=True))[..., 0]
    candidates = np.stack([reg.transform_images(x.astype(float), 0.0, (dy, dx))
                           for dy in (-1, 0, 1) for dx in (-1, 0, 1)])
    assert np.all(np.any(np.all(np.isclose(candidates, crops[None], rtol=0, atol=1e-6),
                                axis=(2, 3)), axis=0))


def test_zoom_and_crop_options_off_draw_nothing_extra(rng):
    """With max_zoom=0 and crop_padding=0, augment_images draws exactly what it drew before
    these options existed (angles, shifts, noise), so earlier results are unchanged."""
    x = 16 * rng.random((10, 8, 8))
    got = reg.augment_images(x, np.random.default_rng(4), max_shift=1.0, max_angle=10.0,
                             noise_std=1.0)
    draws = np.random.default_rng(4)
    angles = draws.uniform(-10.0, 10.0, size=10)
    shifts = draws.uniform(-1.0, 1.0, size=(10, 2))
    want = reg.transform_images(x, angles, shifts) + draws.normal(0.0, 1.0, size=(10, 8, 8))
    assert np.array_equal(got, np.clip(want, 0.0, 16.0))


def test_zoom_augmentation_draws_factors_in_range(rng):
    x = np.zeros((500, 9, 9))
    x[:, 4, 4] = 1.0  # one bright centre pixel: its zoomed size tells the factor
    out = reg.augment_images(x, np.random.default_rng(0), max_shift=0.0, max_angle=0.0,
                             max_zoom=0.2, pixel_range=None)
    assert not np.array_equal(out, x)
    assert np.allclose(out[:, 4, 4], 1.0)  # the centre stays put
    # bilinear weight of the neighbour at distance 1 is 1 - 1 / scale for scale > 1
    neighbour = out[:, 4, 5]
    scales = 1 / (1 - neighbour[neighbour > 0])
    assert scales.min() >= 1.0 and scales.max() <= 1.2 + 1e-12
    assert 0.3 < np.mean(neighbour > 0) < 0.7  # about half the factors are above 1


# --- PyTorch inference helpers ------------------------------------------------------------


def test_mc_dropout_proba(torch):
    from utils.nets.torch_fit import mlp

    torch.manual_seed(0)
    net = mlp([6, 16, 16, 3], batch_norm=True, dropout=0.5)
    net.train()
    x = np.random.default_rng(0).normal(size=(20, 6))
    bn = next(m for m in net if isinstance(m, torch.nn.BatchNorm1d))
    running = bn.running_mean.clone()
    state = torch.get_rng_state()
    probs = reg.mc_dropout_proba(net, x, passes=7, seed=3)
    assert probs.shape == (7, 20, 3) and np.allclose(probs.sum(axis=2), 1.0, atol=1e-6)
    assert not np.allclose(probs[0], probs[1])  # the masks differ between passes
    assert torch.equal(bn.running_mean, running)  # BN stayed in eval mode
    assert torch.equal(torch.get_rng_state(), state)  # the caller's RNG is untouched
    assert net.training and all(m.training for m in net.modules())  # mode restored
    assert np.array_equal(probs, reg.mc_dropout_proba(net, x, passes=7, seed=3))
    net.eval()
    reg.mc_dropout_proba(net, x, passes=2, seed=0)
    assert not any(m.training for m in net.modules())
    with pytest.raises(ValueError, match="no torch.nn.Dropout"):
        reg.mc_dropout_proba(mlp([6, 3]), x, passes=2, seed=0)
    with pytest.raises(ValueError):
        reg.mc_dropout_proba(net, x, passes=0, seed=0)
    with pytest.raises(ValueError, match="seed"):
        reg.mc_dropout_proba(net, x, passes=2, seed=-1)


def test_mc_dropout_proba_masks_like_inverted_dropout(torch):
    """Each pass drops entries with probability p and divides the rest by 1 - p, with
    masks drawn row by row from the private generator."""
    torch.manual_seed(0)
    first, second = torch.nn.Linear(5, 40).double(), torch.nn.Linear(40, 3).double()
    net = torch.nn.Sequential(first, torch.nn.ReLU(), torch.nn.Dropout(0.3), second)
    x = np.random.default_rng(1).normal(size=(6, 5))
    probs = reg.mc_dropout_proba(net, x, passes=4, seed=9)
    gen = torch.Generator().manual_seed(9)
    with torch.no_grad():
        h = torch.relu(first(torch.as_tensor(x).repeat(4, 1)))
        keep = torch.rand(h.shape, generator=gen) >= 0.3
        want = torch.softmax(second(h * keep / 0.7), dim=1).reshape(4, 6, 3).numpy()
    assert np.allclose(probs, want, rtol=1e-12, atol=0)
    assert 0.6 < keep.double().mean() < 0.8


def test_weight_penalty_of_a_stack_is_per_member(torch):
    from utils.nets import torch_stack

    stack = torch_stack.StackedMLP([6, 8, 8, 3], seeds=[0, 1, 2], dtype=torch.float64)
    lams = np.array([0.0, 0.1, 0.3])
    got = reg.torch_weight_penalty(stack, l1=0.01, l2=lams)
    assert got.shape == (3,)
    for k in range(3):
        want = reg.torch_weight_penalty(stack.to_sequential(k), l1=0.01, l2=float(lams[k]))
        assert torch.allclose(got[k], want, rtol=1e-12, atol=0)
    x = torch.as_tensor(np.random.default_rng(0).normal(size=(5, 6)))
    y = torch.tensor([0, 1, 2, 0, 1])
    losses = reg.penalized_cross_entropy(l2=lams)(stack, stack(x), y)
    plain = torch_stack.member_losses(stack(x), y)
    assert torch.allclose(losses - plain, reg.torch_weight_penalty(stack, l2=lams))
    with pytest.raises(ValueError, match="one per member"):
        reg.torch_weight_penalty(stack, l2=[0.1, 0.2])
    with pytest.raises(ValueError, match="per-member strengths"):
        reg.torch_weight_penalty(stack.to_sequential(0), l2=[0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match=">= 0"):
        reg.penalized_cross_entropy(l2=[0.1, -0.2, 0.3])


def test_predict_proba_is_the_eval_mode_softmax(torch):
    from utils.nets.torch_fit import mlp

    torch.manual_seed(0)
    net = mlp([6, 8, 3], dropout=0.5)
    net.train()
    x = np.random.default_rng(0).normal(size=(5, 6))
    probs = reg.predict_proba(net, x)
    net.eval()
    want = torch.softmax(net(torch.as_tensor(x, dtype=torch.float32)), dim=1).detach().numpy()
    assert np.allclose(probs, want, rtol=1e-6)
    net.train()
    reg.predict_proba(net, x)
    assert net.training



def test_predict_proba_of_a_stack_is_per_member(torch):
    from utils.nets import torch_stack

    stack = torch_stack.StackedMLP([6, 8, 3], seeds=[0, 1], dtype=torch.float64)
    x = np.random.default_rng(0).normal(size=(5, 6))
    probs = reg.predict_proba(stack, x)
    assert probs.shape == (2, 5, 3)
    for k in range(2):
        assert np.allclose(probs[k], reg.predict_proba(stack.to_sequential(k), x),
                           rtol=1e-12, atol=0)


def test_inference_helpers_follow_a_float64_model(torch):
    """predict_proba and mc_dropout_proba feed X in the model's dtype: float64 models work,
    and their probabilities are those of the float64 computation."""
    from utils.nets.torch_fit import mlp

    torch.manual_seed(0)
    net64 = mlp([6, 8, 3], dropout=0.5, dtype=torch.float64)
    x = np.random.default_rng(0).normal(size=(5, 6))
    net64.eval()
    want = torch.softmax(net64(torch.as_tensor(x, dtype=torch.float64)), dim=1).detach().numpy()
    assert np.allclose(reg.predict_proba(net64, x), want, rtol=1e-12, atol=0)
    mc = reg.mc_dropout_proba(net64, x, passes=3, seed=1)
    assert mc.shape == (3, 5, 3) and np.allclose(mc.sum(axis=2), 1.0, rtol=0, atol=1e-12)
    net32 = mlp([6, 8, 3], dropout=0.5)  # float32 models keep float32 inputs
    assert reg.predict_proba(net32, x).dtype == np.float64
    assert reg.mc_dropout_proba(net32, x, passes=2, seed=0).shape == (2, 5, 3)

# --- the chapter's self-checks --------------------------------------------------------------


def reference_inverted_dropout(x, rate, rng, training=True):
    return reg.inverted_dropout(x, rate, rng if training else None, training=training)[0]


def test_check_inverted_dropout_accepts_the_reference(capsys):
    checks.check_inverted_dropout(reference_inverted_dropout)
    assert capsys.readouterr().out.startswith("Correct")


@pytest.mark.parametrize("wrong, message", [
    (lambda x, r, rng, t=True: x * (rng.random(x.shape) >= r) if t else x, "vanilla dropout"),
    (lambda x, r, rng, t=True: x * (rng.random(x.shape) >= r) * (1 - r) if t else x,
     "multiplied by the keep probability"),
    (lambda x, r, rng, t=True: x * (rng.random(x.shape) < r) / r if t else x, "DROPPING"),
    (lambda x, r, rng, t=True: x * (rng.random(x.shape) >= r) / (1 - r) if t else x * (1 - r),
     "unchanged at inference"),
    (lambda x, r, rng, t=True: x * (np.random.default_rng().random(x.shape) >= r) / (1 - r)
     if t else x, "rng argument"),
])
def test_check_inverted_dropout_rejects_plausible_mistakes(wrong, message):
    with pytest.raises(AssertionError, match=message):
        checks.check_inverted_dropout(wrong)


def test_check_inverted_dropout_rejects_in_place_and_bad_shapes():
    def in_place(x, r, rng, t=True):
        x *= 1.0
        x[0, 0] = 0.0
        return x

    with pytest.raises(AssertionError, match="in place"):
        checks.check_inverted_dropout(in_place)
    with pytest.raises(AssertionError, match="shape"):
        checks.check_inverted_dropout(lambda x, r, rng, t=True: x.ravel())
    with pytest.raises(TypeError):
        checks.check_inverted_dropout(0.5)


def test_check_dropout_test_scale(capsys):
    checks.check_dropout_test_scale(0.7, rate=0.3, variant="vanilla")
    checks.check_dropout_test_scale(1.0, rate=0.3, variant="inverted")
    assert capsys.readouterr().out.count("Correct") == 2
    for answer, hint in [(1 / 0.7, "during training"), (0.3, "probability of dropping"),
                         (1.0, "never rescaled")]:
        with pytest.raises(AssertionError, match=hint):
            checks.check_dropout_test_scale(answer, rate=0.3, variant="vanilla")
    with pytest.raises(AssertionError, match="already rescaled"):
        checks.check_dropout_test_scale(0.7, rate=0.3, variant="inverted")
    with pytest.raises(AssertionError, match="number"):
        checks.check_dropout_test_scale("0.7")
    with pytest.raises(ValueError):
        checks.check_dropout_test_scale(0.7, variant="alpha")


def test_check_keras_l2_for_weight_decay(capsys):
    checks.check_keras_l2_for_weight_decay(2.5e-4, weight_decay=5e-4)
    assert capsys.readouterr().out.startswith("Correct")
    with pytest.raises(AssertionError, match="twice"):
        checks.check_keras_l2_for_weight_decay(5e-4, weight_decay=5e-4)
    with pytest.raises(AssertionError, match="other way"):
        checks.check_keras_l2_for_weight_decay(1e-3, weight_decay=5e-4)
    with pytest.raises(AssertionError):
        checks.check_keras_l2_for_weight_decay(None)
