"""utils.nets.numpy_stack: a stack of R networks computes exactly what R separate
utils.nets.numpy_mlp.MLPs compute.

The reference is utils.nets.numpy_mlp (whose backward pass test_mlp.py checks against finite
differences, PyTorch and Keras); here the stacked losses, gradients and whole training
runs must equal it to float64 rounding (1e-12), and the stacked backward pass gets its
own finite-difference check.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from reference_loops import sgd_reference

from utils import optimizers
from utils.gradcheck import numerical_gradient, relative_error
from utils.nets.numpy_mlp import MLP
from utils.nets.numpy_stack import MLPStack, train

SIZES = [5, 6, 4, 3]


def networks(activation, seeds=(0, 1, 2)):
    return [MLP.create(SIZES, activation, np.random.default_rng(s), weight_init=0.6)
            for s in seeds]


def data(n=9, seed=10):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, SIZES[0])), rng.integers(0, SIZES[-1], size=n)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_losses_and_gradients_equal_separate_networks(activation):
    nets = networks(activation)
    stacked = MLPStack.from_networks(nets)
    X, y = data()
    losses, grads = stacked.loss_and_gradients(X, y)
    np.testing.assert_allclose(losses, stacked.losses(X, y), rtol=1e-14)
    for r, net in enumerate(nets):
        loss, pairs = net.loss_and_gradients(X, y)
        assert losses[r] == pytest.approx(loss, rel=1e-12)
        flat = [g for pair in pairs for g in pair]
        for ours, ref in zip(grads, flat, strict=True):
            np.testing.assert_allclose(ours[r].reshape(ref.shape), ref, rtol=1e-12, atol=1e-15)
        assert stacked.accuracies(X, y)[r] == net.accuracy(X, y)


def test_per_run_inputs():
    nets = networks("tanh")
    stacked = MLPStack.from_networks(nets)
    Xs = np.stack([data(seed=s)[0] for s in range(3)])
    ys = np.stack([data(seed=s)[1] for s in range(3)])
    losses = stacked.losses(Xs, ys)
    for r, net in enumerate(nets):
        assert losses[r] == pytest.approx(net.loss(Xs[r], ys[r]), rel=1e-12)


def test_stacked_backward_pass_against_finite_differences():
    stacked = MLPStack.from_networks(networks("tanh", seeds=(3, 4)))
    X, y = data(n=5)
    _, grads = stacked.loss_and_gradients(X, y)
    for p, g in zip(stacked.parameters(), grads, strict=True):
        numeric = numerical_gradient(lambda: float(stacked.losses(X, y).sum()), p)
        assert relative_error(g, numeric) < 1e-8


def test_training_equals_the_single_network_loop_run_by_run():
    X, y = data(n=40)
    nets = networks("relu")
    stacked = MLPStack.from_networks(nets)
    history = train(stacked, optimizers.SGD(0.2), X, y, epochs=3, batch_size=8,
                            rngs=[np.random.default_rng(100 + r) for r in range(3)],
                            X_val=X[:10], y_val=y[:10])
    for r, net in enumerate(nets):
        reference = sgd_reference(net, X, y, lr=0.2, epochs=3, batch_size=8,
                                  rng=np.random.default_rng(100 + r))
        np.testing.assert_allclose(history.train_loss[:, r], reference["train_loss"],
                                   rtol=1e-12)
        for ours, ref in zip(stacked.network(r).parameters(), net.parameters(), strict=True):
            np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-14)
    assert history.step_loss.shape == (3 * 5, 3) and not history.diverged.any()


def test_one_diverging_run_leaves_the_others_alone():
    X, y = data(n=40)
    lrs = np.array([0.1, 1e4, 0.3])[:, None, None]

    def run(lr_array, runs):
        stacked = MLPStack.from_networks([networks("relu", seeds=(7,))[0] for _ in runs])
        opt = optimizers.Adam(lr_array)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no overflow or invalid-value warnings
            history = train(stacked, opt, X, y, epochs=4, batch_size=8,
                                    rngs=[np.random.default_rng(1) for _ in runs])
        return stacked, history

    together, history = run(lrs, range(3))
    assert history.diverged.tolist() == [False, True, False]
    assert np.isnan(history.train_loss[-1, 1]) and np.isfinite(history.train_loss[-1, [0, 2]]).all()
    first = np.flatnonzero(np.isnan(history.step_loss[:, 1]))[0]
    assert np.isnan(history.step_loss[first:, 1]).all()
    for r in (0, 2):
        alone, _ = run(lrs[[r]], [r])
        for a, b in zip(together.parameters(), alone.parameters(), strict=True):
            np.testing.assert_allclose(a[r], b[0], rtol=1e-13)


def test_schedule_and_eval_every():
    X, y = data(n=16)
    seen = []
    stacked = MLPStack.from_networks(networks("tanh", seeds=(0,)))
    opt = optimizers.SGD(0.1)
    history = train(stacked, opt, X, y, epochs=4, batch_size=8,
                            rngs=[np.random.default_rng(0)],
                            lr_schedule=lambda k: seen.append(k) or 0.1 / (k + 1), eval_every=2)
    assert seen == list(range(8)) and opt.lr == pytest.approx(0.1 / 8)
    assert np.isnan(history.train_loss[[1, 3], 0]).all()
    assert np.isfinite(history.train_loss[[0, 2, 4], 0]).all()


def test_input_errors():
    stacked = MLPStack.from_networks(networks("tanh"))
    X, y = data()
    with pytest.raises(ValueError, match="one numpy Generator per run"):
        train(stacked, optimizers.SGD(0.1), X, y, epochs=1, batch_size=4,
                      rngs=[np.random.default_rng(0)])
    with pytest.raises(ValueError, match="features"):
        stacked.losses(X[:, :3], y)
    with pytest.raises(ValueError, match="one integer label per row of X"):
        stacked.losses(X, y[:4])
    with pytest.raises(ValueError, match="same layer sizes"):
        MLPStack.from_networks([networks("tanh")[0],
                                  MLP.create([5, 3], "tanh", np.random.default_rng(0))])
    with pytest.raises(ValueError, match="run must be"):
        stacked.network(3)
    with pytest.raises(ValueError, match="pass both"):
        train(stacked, optimizers.SGD(0.1), X, y, epochs=1, batch_size=4,
                      rngs=[np.random.default_rng(r) for r in range(3)], X_val=X)


def test_plot_sweep_marks_diverged_settings():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from utils.plotting import plot_sweep

    x = np.array([1e-3, 1e-2, 1e-1, 1.0])
    runs = {"sgd": np.array([[2.0, 1.0, 0.5, np.nan], [2.1, 1.1, 0.4, 0.3]]),
            "adam": np.array([[1.0, 0.2, 0.1, 0.2], [1.1, 0.3, 0.1, 0.1]])}
    fig = plot_sweep(x, runs, xlabel="lr", ylabel="loss", logy=True)
    ax = fig.axes[0]
    sgd_line = ax.lines[0]
    np.testing.assert_allclose(sgd_line.get_xdata(), x[:3])  # the diverged setting is left out
    np.testing.assert_allclose(sgd_line.get_ydata(), [2.05, 1.05, 0.45])
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "diverged (any seed)" in labels and "adam (mean of 2)" in labels
    plt.close(fig)
    with pytest.raises(ValueError, match="points per seed"):
        plot_sweep(x[:3], runs, xlabel="lr", ylabel="loss")
