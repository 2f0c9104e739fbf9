"""utils.nets.numpy_stack.train_sgd on a list of networks: each network takes exactly the
steps that the one-network loop written with its own backward pass takes."""

from __future__ import annotations

import numpy as np
import pytest
from reference_loops import sgd_reference

from utils import initializers, optimizers
from utils.nets import numpy_mlp, numpy_stack


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((90, 6))
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64) + (X[:, 2] > 1).astype(np.int64)
    return X[:60], y[:60], X[60:], y[60:]


def make_models(activation="tanh"):
    inits = [initializers.glorot_uniform, initializers.he_normal, 0.3, 0.0]
    return [numpy_mlp.MLP.create([6, 7, 5, 3], activation, np.random.default_rng(i), init)
            for i, init in enumerate(inits)]


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
@pytest.mark.parametrize("batch_size", [16, 60])
def test_each_network_takes_the_steps_of_the_single_network_loop(problem, activation,
                                                                 batch_size):
    X, y, X_val, y_val = problem
    many = make_models(activation)
    single = [m.copy() for m in many]
    histories = numpy_stack.train_sgd(many, X, y, lr=0.2, epochs=4, batch_size=batch_size,
                                      rng=[np.random.default_rng(10 + i) for i in range(4)],
                                      X_val=X_val, y_val=y_val)
    for i, (m, h) in enumerate(zip(single, histories, strict=True)):
        ref = sgd_reference(m, X, y, lr=0.2, epochs=4, batch_size=batch_size,
                            rng=np.random.default_rng(10 + i), X_val=X_val, y_val=y_val)
        # float64 rounding differs between stacked and 2-D matrix products: 1e-10 is
        # far above that (1e-15 per step) and far below any real difference
        for p, q in zip(many[i].parameters(), m.parameters(), strict=True):
            np.testing.assert_allclose(p, q, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(h.train_loss, ref["train_loss"], rtol=1e-10)
        np.testing.assert_allclose(h.val_loss, ref["val_loss"], rtol=1e-10)
        assert h.val_accuracy == ref["val_accuracy"]
        assert len(h.train_loss) == 5


def test_one_network_is_the_one_member_case(problem):
    X, y, _, _ = problem
    net = make_models("relu")[1]
    alone, in_list, ref = net.copy(), net.copy(), net.copy()
    h1 = numpy_stack.train_sgd(alone, X, y, lr=0.3, epochs=3, batch_size=16,
                               rng=np.random.default_rng(5))
    (h2,) = numpy_stack.train_sgd([in_list], X, y, lr=0.3, epochs=3, batch_size=16,
                                  rng=[np.random.default_rng(5)])
    want = sgd_reference(ref, X, y, lr=0.3, epochs=3, batch_size=16,
                         rng=np.random.default_rng(5))
    assert h1.train_loss == h2.train_loss
    np.testing.assert_allclose(h1.train_loss, want["train_loss"], rtol=1e-10)
    for p, q, r in zip(alone.parameters(), in_list.parameters(), ref.parameters(),
                       strict=True):
        assert np.array_equal(p, q)
        np.testing.assert_allclose(p, r, rtol=1e-10, atol=1e-12)


def test_train_with_any_optimizer_on_one_network(problem):
    """train() takes an MLP directly: Adam on one network equals Adam on its stack."""
    X, y, _, _ = problem
    net = make_models("tanh")[0]
    stack = numpy_stack.MLPStack.from_networks([net])
    a = numpy_stack.train(net, optimizers.Adam(0.01), X, y, epochs=2, batch_size=20,
                          rngs=np.random.default_rng(3))
    b = numpy_stack.train(stack, optimizers.Adam(0.01), X, y, epochs=2, batch_size=20,
                          rngs=[np.random.default_rng(3)])
    assert np.array_equal(a.train_loss, b.train_loss)
    for p, q in zip(net.parameters(), stack.network(0).parameters(), strict=True):
        assert np.array_equal(p, q)


def test_models_are_updated_in_place_and_learn(problem):
    X, y, _, _ = problem
    models = make_models()[:2]
    weights = [m.weights[0] for m in models]
    before = [w.copy() for w in weights]
    histories = numpy_stack.train_sgd(models, X, y, lr=0.5, epochs=20, batch_size=20,
                                      rng=[np.random.default_rng(1), np.random.default_rng(2)])
    for m, w, b, h in zip(models, weights, before, histories, strict=True):
        assert m.weights[0] is w and not np.array_equal(w, b)
        assert h.train_loss[-1] < 0.7 * h.train_loss[0]
        assert h.val_loss == [] and h.val_accuracy == []


def test_divergence_raises(problem):
    X, y, _, _ = problem
    big = [numpy_mlp.MLP.create([6, 50, 50, 50, 3], "relu", np.random.default_rng(0), 30.0)]
    with pytest.raises(FloatingPointError, match=r"diverged in epoch \d \(overflow"):
        numpy_stack.train_sgd(big, X * 1e3, y, lr=10.0, epochs=2, batch_size=30,
                              rng=[np.random.default_rng(0)])


def test_bad_arguments(problem):
    X, y, X_val, y_val = problem
    models = make_models()
    rngs = [np.random.default_rng(i) for i in range(4)]
    kw = {"lr": 0.1, "epochs": 1, "batch_size": 8}
    with pytest.raises(TypeError, match="non-empty list of MLPs"):
        numpy_stack.train_sgd([], X, y, rng=[], **kw)
    with pytest.raises(TypeError, match="non-empty list of MLPs"):
        numpy_stack.train_sgd([object()], X, y, rng=rngs[:1], **kw)
    with pytest.raises(TypeError, match="utils.nets.numpy_mlp.MLP"):
        numpy_stack.train_sgd("net", X, y, rng=rngs[0], **kw)
    other = numpy_mlp.MLP.create([6, 8, 3], "tanh", np.random.default_rng(0))
    with pytest.raises(ValueError, match="same layer sizes and activation"):
        numpy_stack.train_sgd([models[0], other], X, y, rng=rngs[:2], **kw)
    relu = numpy_mlp.MLP.create([6, 7, 5, 3], "relu", np.random.default_rng(0))
    with pytest.raises(ValueError, match="same layer sizes and activation"):
        numpy_stack.train_sgd([models[0], relu], X, y, rng=rngs[:2], **kw)
    with pytest.raises(ValueError, match="appears twice"):
        numpy_stack.train_sgd([models[0], models[0]], X, y, rng=rngs[:2], **kw)
    with pytest.raises(ValueError, match=r"one numpy Generator per run \(4\), got 3"):
        numpy_stack.train_sgd(models, X, y, rng=rngs[:3], **kw)
    with pytest.raises(TypeError, match="rng must be a list"):
        numpy_stack.train_sgd(models, X, y, rng=rngs[0], **kw)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        numpy_stack.train_sgd(models[:1], X, y, rng=[0], **kw)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        numpy_stack.train_sgd(models[0], X, y, rng=0, **kw)
    with pytest.raises(ValueError, match="both X_val and y_val"):
        numpy_stack.train_sgd(models, X, y, rng=rngs, X_val=X_val, **kw)
    with pytest.raises(ValueError, match="lr must be > 0"):
        numpy_stack.train_sgd(models, X, y, rng=rngs, lr=0.0, epochs=1, batch_size=8)
    with pytest.raises(ValueError, match="features"):
        numpy_stack.train_sgd(models, X[:, :5], y, rng=rngs, **kw)
    with pytest.raises(ValueError, match="on_divergence must be one of"):
        numpy_stack.train(models, optimizers.SGD(0.1), X, y, rngs=rngs,
                          on_divergence="ignore", epochs=1, batch_size=8)
    with pytest.raises(TypeError, match="update rule from utils.optimizers"):
        numpy_stack.train(models, 0.1, X, y, rngs=rngs, epochs=1, batch_size=8)
