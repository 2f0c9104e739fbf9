"""utils.mlp.train_sgd_many: the vectorised twin of train_sgd gives the same networks."""

from __future__ import annotations

import numpy as np
import pytest

from utils import initializers, mlp


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((90, 6))
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64) + (X[:, 2] > 1).astype(np.int64)
    return X[:60], y[:60], X[60:], y[60:]


def make_models(activation="tanh"):
    inits = [initializers.glorot_uniform, initializers.he_normal, 0.3, 0.0]
    return [mlp.MLP.create([6, 7, 5, 3], activation, np.random.default_rng(i), init)
            for i, init in enumerate(inits)]


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
@pytest.mark.parametrize("batch_size", [16, 60])
def test_same_result_as_train_sgd_one_by_one(problem, activation, batch_size):
    X, y, X_val, y_val = problem
    many = make_models(activation)
    single = [m.copy() for m in many]
    histories = mlp.train_sgd_many(many, X, y, lr=0.2, epochs=4, batch_size=batch_size,
                                   rngs=[np.random.default_rng(10 + i) for i in range(4)],
                                   X_val=X_val, y_val=y_val)
    for i, (m, h) in enumerate(zip(single, histories, strict=True)):
        ref = mlp.train_sgd(m, X, y, lr=0.2, epochs=4, batch_size=batch_size,
                            rng=np.random.default_rng(10 + i), X_val=X_val, y_val=y_val)
        # float64 rounding differs between stacked and 2-D matrix products: 1e-10 is
        # far above that (1e-15 per step) and far below any real difference
        for p, q in zip(many[i].parameters(), m.parameters(), strict=True):
            np.testing.assert_allclose(p, q, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(h.train_loss, ref.train_loss, rtol=1e-10)
        np.testing.assert_allclose(h.val_loss, ref.val_loss, rtol=1e-10)
        assert h.val_accuracy == ref.val_accuracy
        assert len(h.train_loss) == 5


def test_models_are_updated_in_place_and_learn(problem):
    X, y, _, _ = problem
    models = make_models()[:2]
    weights = [m.weights[0] for m in models]
    before = [w.copy() for w in weights]
    histories = mlp.train_sgd_many(models, X, y, lr=0.5, epochs=20, batch_size=20,
                                   rngs=[np.random.default_rng(1), np.random.default_rng(2)])
    for m, w, b, h in zip(models, weights, before, histories, strict=True):
        assert m.weights[0] is w and not np.array_equal(w, b)
        assert h.train_loss[-1] < 0.7 * h.train_loss[0]
        assert h.val_loss == [] and h.val_accuracy == []


def test_divergence_raises(problem):
    X, y, _, _ = problem
    big = [mlp.MLP.create([6, 50, 50, 50, 3], "relu", np.random.default_rng(0), 30.0)]
    with pytest.raises(FloatingPointError, match=r"diverged in epoch \d \(overflow"):
        mlp.train_sgd_many(big, X * 1e3, y, lr=10.0, epochs=2, batch_size=30,
                           rngs=[np.random.default_rng(0)])


def test_bad_arguments(problem):
    X, y, X_val, y_val = problem
    models = make_models()
    rngs = [np.random.default_rng(i) for i in range(4)]
    kw = {"lr": 0.1, "epochs": 1, "batch_size": 8}
    with pytest.raises(ValueError, match="non-empty list"):
        mlp.train_sgd_many([], X, y, rngs=[], **kw)
    with pytest.raises(TypeError, match="utils.mlp.MLP"):
        mlp.train_sgd_many([object()], X, y, rngs=rngs[:1], **kw)
    other = mlp.MLP.create([6, 8, 3], "tanh", np.random.default_rng(0))
    with pytest.raises(ValueError, match="all must match"):
        mlp.train_sgd_many([models[0], other], X, y, rngs=rngs[:2], **kw)
    relu = mlp.MLP.create([6, 7, 5, 3], "relu", np.random.default_rng(0))
    with pytest.raises(ValueError, match="all must match"):
        mlp.train_sgd_many([models[0], relu], X, y, rngs=rngs[:2], **kw)
    with pytest.raises(ValueError, match="appears twice"):
        mlp.train_sgd_many([models[0], models[0]], X, y, rngs=rngs[:2], **kw)
    with pytest.raises(ValueError, match="one generator per model"):
        mlp.train_sgd_many(models, X, y, rngs=rngs[:3], **kw)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        mlp.train_sgd_many(models[:1], X, y, rngs=[0], **kw)
    with pytest.raises(ValueError, match="both X_val and y_val"):
        mlp.train_sgd_many(models, X, y, rngs=rngs, X_val=X_val, **kw)
    with pytest.raises(ValueError, match="lr must be > 0"):
        mlp.train_sgd_many(models, X, y, rngs=rngs, lr=0.0, epochs=1, batch_size=8)
    with pytest.raises(ValueError, match="features"):
        mlp.train_sgd_many(models, X[:, :5], y, rngs=rngs, **kw)
