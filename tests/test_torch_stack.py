"""utils.nets.torch_stack (many PyTorch MLPs as one batched model) trained by
utils.nets.torch_fit.fit, the same loop that trains a single network.

Tolerances: in float64 a stacked member and its ``to_sequential`` copy differ only in the
order of floating-point operations (batched vs unbatched matrix products), about 1e-16
per step; 1e-10 on losses and weights of order 1 over 40-80 steps leaves a wide margin
while any wrong term (another member's gradient, a wrong batch) is O(1e-2) or more.
The float32 runs keep the 1e-5 of losses of order 1 over 40 steps.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

TOL = 1e-12
TRAIN_TOL64 = 1e-10
ACTIVATIONS = ["relu", "tanh", "sigmoid", "identity", "elu", "selu", "gelu", "silu",
               "leaky_relu", "softplus"]


@pytest.fixture(scope="module")
def digits():
    from utils import data

    return data.load_digits()


@pytest.fixture
def stack(torch):
    from utils.nets import torch_stack

    torch.set_num_threads(1)
    return torch_stack


@pytest.fixture
def fit(torch):
    from utils.nets import torch_fit

    return torch_fit


def _max_diff(a, b) -> float:
    return float(np.max(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b))))


def _same_weights(model, net, k) -> float:
    return max(float((a - b).detach().abs().max())
               for a, b in zip(model.parameters(), net.to_sequential(k).parameters(),
                               strict=True))


# --- the one loop: a member takes exactly the steps of the single network -------------


@pytest.mark.parametrize("norm", ["none", "batch"])
def test_stacked_member_trains_exactly_like_fit_on_its_sequential(torch, stack, fit, digits,
                                                                   norm):
    X, y = digits.X_train[:200], digits.y_train[:200]
    net = stack.StackedMLP([64, 16, 16, 10], seeds=[3, 4], norm=norm, init=["he_normal", 0.3])
    copies = [net.to_sequential(k) for k in range(2)]
    hist = fit.fit(net, X, y, lr=[0.1, 0.05], epochs=2, batch_size=10,
                   X_val=digits.X_val, y_val=digits.y_val)
    assert hist.step_loss.shape == (2, 40) and hist.val_loss.shape == (2, 3)
    for k, (model, lr, seed) in enumerate(zip(copies, [0.1, 0.05], [3, 4], strict=True)):
        ref = fit.fit(model, X, y, optimizer=torch.optim.SGD(model.parameters(), lr=lr),
                      epochs=2, batch_size=10, seed=seed, X_val=digits.X_val, y_val=digits.y_val)
        assert _max_diff(ref.step_loss, hist.step_loss[k]) < 1e-5
        assert _max_diff(ref.val_loss, hist.val_loss[k]) < 1e-5
        assert _same_weights(model, net, k) < 1e-5


def test_float64_member_equals_its_sequential_to_rounding_and_other_seeds_differ(
        torch, stack, fit, digits):
    X, y = digits.X_train[:160], digits.y_train[:160]
    net = stack.StackedMLP([64, 12, 10], seeds=[5, 6], dtype=torch.float64)
    model = net.to_sequential(0)
    hist = fit.fit(net, X, y, optimizer=torch.optim.SGD(net.parameters(), lr=0.1),
                   epochs=2, batch_size=8)
    ref = fit.fit(model, X, y, optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
                  epochs=2, batch_size=8, seed=5)
    assert _max_diff(ref.step_loss, hist.step_loss[0]) < TRAIN_TOL64
    assert _same_weights(model, net, 0) < TRAIN_TOL64
    # the check can fail: another seed is another batch order
    other = net.to_sequential(1)
    wrong = fit.fit(other, X, y, lr=0.1, epochs=2, batch_size=8, seed=5)
    assert _max_diff(wrong.step_loss, hist.step_loss[1]) > 1e-3


@pytest.mark.parametrize("make", ["adam", "adamw", "momentum", "rmsprop"])
def test_element_wise_optimizers_are_exact_per_member(torch, stack, fit, digits, make):
    """A 2-member stack trained by one optimizer = two single networks, each with its own
    instance of that optimizer (its state included)."""
    opts = {"adam": lambda p: torch.optim.Adam(p, lr=3e-3),
            "adamw": lambda p: torch.optim.AdamW(p, lr=3e-3, weight_decay=0.1),
            "momentum": lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
            "rmsprop": lambda p: torch.optim.RMSprop(p, lr=1e-3)}
    X, y = digits.X_train[:120], digits.y_train[:120]
    net = stack.StackedMLP([64, 16, 16, 10], seeds=[0, 1], norm=["batch", "none"],
                           activation=["tanh", "relu"], dtype=torch.float64)
    singles = [net.to_sequential(k) for k in range(2)]
    hist = fit.fit(net, X, y, optimizer=opts[make](net.parameters()), epochs=3, batch_size=12,
                   X_val=digits.X_val, y_val=digits.y_val)
    for k, model in enumerate(singles):
        ref = fit.fit(model, X, y, optimizer=opts[make](model.parameters()), epochs=3,
                      batch_size=12, seed=k, X_val=digits.X_val, y_val=digits.y_val)
        assert _max_diff(ref.step_loss, hist.step_loss[k]) < TRAIN_TOL64
        assert _max_diff(ref.val_loss, hist.val_loss[k]) < TRAIN_TOL64
        # a single network's accuracy is computed in float32
        assert _max_diff(ref.val_accuracy, hist.val_accuracy[k]) < 1e-6
        assert _same_weights(model, net, k) < TRAIN_TOL64
    assert _max_diff(hist.step_loss[0], hist.step_loss[1]) > 1e-2  # members differ


def test_a_single_network_is_the_one_member_case(torch, stack, fit, digits):
    """lr= for a single network is torch.optim.SGD; a one-member stack takes the same
    steps; the history keeps the single network's lists."""
    X, y = digits.X_train[:100], digits.y_train[:100]
    net = stack.StackedMLP([64, 8, 10], seeds=[2], dtype=torch.float64)
    a, b = net.to_sequential(0), net.to_sequential(0)
    h_lr = fit.fit(a, X, y, lr=0.2, epochs=2, batch_size=16, seed=2, X_val=X, y_val=y)
    h_opt = fit.fit(b, X, y, optimizer=torch.optim.SGD(b.parameters(), lr=0.2), epochs=2,
                    batch_size=16, seed=2, X_val=X, y_val=y)
    h_stack = fit.fit(net, X, y, lr=0.2, epochs=2, batch_size=16, X_val=X, y_val=y)
    assert h_lr.step_loss == h_opt.step_loss and h_lr.val_loss == h_opt.val_loss
    assert isinstance(h_lr.step_loss, list) and isinstance(h_lr.val_accuracy[-1], float)
    assert len(h_lr.step_loss) == 14 and len(h_lr.train_loss) == 3
    assert h_lr.diverged_at == -1 and not h_lr.diverged
    assert _max_diff(h_lr.step_loss, h_stack.step_loss[0]) < TRAIN_TOL64
    assert set(h_lr.as_arrays()) == {"train_loss", "val_loss", "val_accuracy",
                                     "train_accuracy", "step_loss", "diverged_at"}


def test_drop_last_and_evaluating_only_at_the_end(torch, stack, fit, digits):
    X, y = digits.X_train[:50], digits.y_train[:50]
    net = stack.StackedMLP([64, 8, 10], seeds=[0, 1], norm="batch")
    hist = fit.fit(net, X, y, lr=0.1, epochs=3, batch_size=8, drop_last=True,
                   evaluate_every_epoch=False, X_val=X, y_val=y)
    assert hist.step_loss.shape == (2, 18) and hist.train_loss.shape == (2, 2)
    single = net.to_sequential(0)
    h1 = fit.fit(single, X, y, lr=0.1, epochs=3, batch_size=8, seed=0, drop_last=True,
                 evaluate_every_epoch=False)
    assert len(h1.step_loss) == 18 and len(h1.train_loss) == 2 and h1.val_loss == []


def test_evaluate_gives_floats_for_a_network_and_arrays_for_a_stack(torch, stack, fit, digits):
    X, y = digits.X_val, digits.y_val
    net = stack.StackedMLP([64, 8, 10], seeds=[0, 1], dtype=torch.float64)
    loss, acc = fit.evaluate(net, X, y)
    assert loss.shape == acc.shape == (2,)
    for k in range(2):
        one = fit.evaluate(net.to_sequential(k), X, y)
        assert isinstance(one[0], float) and abs(one[0] - loss[k]) < TOL
        assert abs(one[1] - acc[k]) < 1e-6  # a single network's accuracy is float32


def test_scheduler_steps_once_per_epoch_for_a_stack(torch, stack, fit, digits):
    X, y = digits.X_train[:64], digits.y_train[:64]
    net = stack.StackedMLP([64, 8, 10], seeds=[0, 1], dtype=torch.float64)
    opt = torch.optim.SGD(net.parameters(), lr=0.05)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    fit.fit(net, X, y, optimizer=opt, epochs=2, batch_size=16, scheduler=sched)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.0125)


def test_doubled_loss_equals_doubled_learning_rate(torch, stack, fit, digits):
    X, y = digits.X_train[:64], digits.y_train[:64]
    a = stack.StackedMLP([64, 8, 10], seeds=[0, 1], dtype=torch.float64)
    b = stack.StackedMLP([64, 8, 10], seeds=[0, 1], dtype=torch.float64)
    ha = fit.fit(a, X, y, lr=[0.05, 0.1], epochs=2, batch_size=16,
                 loss_fn=lambda m, z, t: 2 * stack.member_losses(z, t))
    hb = fit.fit(b, X, y, lr=[0.1, 0.2], epochs=2, batch_size=16)
    assert _max_diff(ha.step_loss, 2 * hb.step_loss) < TRAIN_TOL64
    with pytest.raises(ValueError, match="one loss per member"):
        fit.fit(a, X, y, lr=0.1, epochs=1, batch_size=16,
                loss_fn=lambda m, z, t: stack.member_losses(z, t).sum())


# --- divergence -------------------------------------------------------------------------


def test_a_diverging_member_does_not_disturb_the_others(stack, fit, digits):
    X, y = digits.X_train[:120], digits.y_train[:120]

    def run(lrs):
        net = stack.StackedMLP([64, 16, 16, 10], seeds=[0] * len(lrs), activation="identity")
        return fit.fit(net, X, y, lr=lrs, epochs=3, batch_size=20)

    alone = run([0.01])
    together = run([0.01, 100.0])
    assert together.diverged.tolist() == [False, True]
    assert np.isnan(together.train_loss[1, -1]) and np.isnan(together.step_loss[1, -1])
    assert np.abs(together.step_loss[0] - alone.step_loss[0]).max() < 1e-6


def test_a_diverged_member_is_frozen_under_adamw_too(torch, stack, fit, digits):
    """Weight decay would move a member even with zero gradients: frozen is frozen."""
    X, y = digits.X_train[:120], digits.y_train[:120]
    kwargs = dict(activation="identity", dtype=torch.float64)
    net = stack.StackedMLP([64, 16, 16, 10], seeds=[0, 1], init=[0.1, 1e160], **kwargs)
    ref = stack.StackedMLP([64, 16, 16, 10], seeds=[0, 0], init=0.1, **kwargs)
    snapshots = []  # member 1's parameters before the first step and after every step

    def after_step(model, step):
        snapshots.append([p.detach()[1].clone() for p in model.parameters()])

    after_step(net, 0)
    hist = fit.fit(net, X, y, optimizer=torch.optim.AdamW(net.parameters(), weight_decay=0.5),
                   epochs=2, batch_size=20, after_step=after_step)
    href = fit.fit(ref, X, y, optimizer=torch.optim.AdamW(ref.parameters(), weight_decay=0.5),
                   epochs=2, batch_size=20)
    at = int(hist.diverged_at[1])
    assert hist.diverged.tolist() == [False, True] and 0 <= at < 5
    assert np.isnan(hist.step_loss[1, at:]).all() and np.isnan(hist.train_loss[1, -1])
    frozen = snapshots[at]  # the values before the step whose loss was not finite
    assert len(snapshots) == 13
    for later in snapshots[at + 1:]:
        assert all(torch.equal(a, b) for a, b in zip(frozen, later, strict=True))
    assert _max_diff(hist.step_loss[0], href.step_loss[0]) < TRAIN_TOL64


def test_a_single_network_raises_when_its_loss_is_not_finite(torch, fit, digits):
    model = fit.mlp([64, 8, 10], "identity", init=lambda w: w.normal_(0, 1e3))
    with pytest.raises(FloatingPointError, match=r"the loss became .* at step \d+ \(epoch 1\)"):
        fit.fit(model, digits.X_train[:100], digits.y_train[:100], lr=1e3, epochs=3,
                batch_size=10, seed=0)


# --- activations, initializations and dropout per member ---------------------------------


def test_every_activation_per_member_matches_its_sequential(torch, stack, rng):
    acts = ACTIVATIONS[5:] + ACTIVATIONS[:5][::-1]  # not in the order of the groups
    net = stack.StackedMLP([5, 7, 7, 3], seeds=list(range(10)), activation=acts,
                           norm=["none", "batch"] * 5, placement=["before"] * 6 + ["after"] * 4,
                           dtype=torch.float64)
    assert net.activations == acts and net.activation is None
    X = torch.from_numpy(rng.normal(size=(6, 5)) * 2)
    for mode in ("train", "eval"):
        getattr(net, mode)()
        seqs = [getattr(net.to_sequential(k), mode)() for k in range(10)]
        with torch.no_grad():
            out = net(X)
            for k, seq in enumerate(seqs):
                assert float((out[k] - seq(X)).abs().max()) < TOL, acts[k]
    # PyTorch's default parameters (the modules to_sequential builds use them)
    kinds = {type(m).__name__ for k in range(10) for m in net.to_sequential(k)}
    assert {"ELU", "SELU", "GELU", "SiLU", "LeakyReLU", "Softplus", "Identity"} <= kinds
    assert stack.StackedMLP([3, 4, 2], seeds=[0], activation="gelu").activation == "gelu"


def test_members_with_different_activations_train_like_their_sequentials(torch, stack, fit,
                                                                          digits):
    X, y = digits.X_train[:96], digits.y_train[:96]
    acts = ["selu", "tanh", "leaky_relu", "tanh"]
    net = stack.StackedMLP([64, 12, 12, 10], seeds=[0, 1, 2, 3], activation=acts,
                           init="lecun_normal", dtype=torch.float64)
    singles = [net.to_sequential(k) for k in range(4)]
    hist = fit.fit(net, X, y, lr=0.05, epochs=2, batch_size=12)
    for k, model in enumerate(singles):
        ref = fit.fit(model, X, y, lr=0.05, epochs=2, batch_size=12, seed=k)
        assert _max_diff(ref.step_loss, hist.step_loss[k]) < TRAIN_TOL64, acts[k]
        assert _same_weights(model, net, k) < TRAIN_TOL64


def test_dropout_rate_zero_is_no_dropout(torch, stack, fit, digits):
    """A member with rate 0 next to a member with dropout takes exactly the steps of a
    member without any dropout, and a stack whose rates are all 0 is a stack without."""
    X, y = digits.X_train[:96], digits.y_train[:96]
    kwargs = dict(seeds=[0, 0], activation="relu", dtype=torch.float64)
    plain = stack.StackedMLP([64, 12, 12, 10], **kwargs)
    mixed = stack.StackedMLP([64, 12, 12, 10], dropout=[0.0, 0.5], **kwargs)
    zeros = stack.StackedMLP([64, 12, 12, 10], dropout=0.0, **kwargs)
    torch.manual_seed(0)
    h_plain = fit.fit(plain, X, y, lr=0.1, epochs=2, batch_size=12)
    torch.manual_seed(0)
    h_mixed = fit.fit(mixed, X, y, lr=0.1, epochs=2, batch_size=12)
    torch.manual_seed(0)
    h_zeros = fit.fit(zeros, X, y, lr=0.1, epochs=2, batch_size=12)
    assert np.array_equal(h_plain.step_loss[0], h_mixed.step_loss[0])
    assert np.array_equal(h_plain.step_loss, h_zeros.step_loss)
    assert _max_diff(h_mixed.step_loss[1], h_plain.step_loss[1]) > 1e-2  # dropout acts
    assert [type(m).__name__ for m in mixed.to_sequential(1)].count("Dropout") == 2
    assert "Dropout" not in [type(m).__name__ for m in mixed.to_sequential(0)]


def test_one_member_with_dropout_draws_the_masks_of_nn_dropout(torch, stack, fit, digits):
    X, y = digits.X_train[:96], digits.y_train[:96]
    net = stack.StackedMLP([64, 12, 12, 10], seeds=[4], dropout=0.3, dtype=torch.float64)
    model = net.to_sequential(0)
    torch.manual_seed(7)
    hist = fit.fit(net, X, y, lr=0.1, epochs=2, batch_size=12)
    torch.manual_seed(7)
    ref = fit.fit(model, X, y, lr=0.1, epochs=2, batch_size=12, seed=4)
    assert _max_diff(ref.step_loss, hist.step_loss[0]) < TRAIN_TOL64
    assert _same_weights(model, net, 0) < TRAIN_TOL64


def test_dropout_drops_at_its_rate_rescales_and_is_off_in_eval_mode(torch, stack):
    rates = [0.0, 0.2, 0.5, 0.8]
    net = stack.StackedMLP([20, 400, 2], seeds=[0] * 4, dropout=rates, activation="identity",
                           dtype=torch.float64)
    X = torch.ones(50, 20, dtype=torch.float64)
    torch.manual_seed(0)
    with torch.no_grad():
        clean = net.eval()(X, return_hidden=True)[1][0]
        dropped = net.train()(X, return_hidden=True)[1][0]
    for k, rate in enumerate(rates):
        zero = dropped[k] == 0
        assert abs(float(zero.double().mean()) - rate) < 0.01, rate  # 20,000 draws
        kept = dropped[k][~zero] / clean[k][~zero]
        assert float((kept - 1 / (1 - rate)).abs().max()) < TOL
    assert torch.equal(net.eval()(X), net.eval()(X))


@pytest.mark.parametrize("init,std", [
    ("lecun_normal", lambda fi, fo: math.sqrt(1 / fi)),
    ("he_normal", lambda fi, fo: math.sqrt(2 / fi)),
    ("he_uniform", lambda fi, fo: math.sqrt(6 / fi) / math.sqrt(3)),
    ("glorot_uniform", lambda fi, fo: math.sqrt(6 / (fi + fo)) / math.sqrt(3)),
    (0.05, lambda fi, fo: 0.05),
])
def test_initializations_have_their_scale_and_zero_biases(torch, stack, init, std):
    net = stack.StackedMLP([200, 300, 10], seeds=[0, 1], init=init, dtype=torch.float64)
    w, b = net.weights[0].detach(), net.biases[0].detach()
    want = std(200, 300)
    assert abs(float(w.std()) / want - 1) < 0.01  # 120,000 draws: 0.3 % standard error
    assert float(b.abs().max()) == 0.0
    if "uniform" in str(init):
        assert float(w.abs().max()) <= want * math.sqrt(3)
    assert not torch.equal(w[0], w[1])  # members' own seeds
    out = net.weights[1].detach()  # the output layer keeps PyTorch's default
    assert float(out.abs().max()) <= 1 / math.sqrt(300)


# --- the forward pass, normalization, residual members -----------------------------------


def test_stacked_forward_matches_sequential_for_every_kind_of_member(torch, stack, rng):
    kinds = [("none", "before", True), ("batch", "before", False), ("batch", "after", True),
             ("layer", "before", True), ("layer", "after", False)]
    net = stack.StackedMLP([5, 7, 7, 3], seeds=list(range(5)), dtype=torch.float64,
                           norm=[k[0] for k in kinds], placement=[k[1] for k in kinds],
                           bias=[k[2] for k in kinds])
    with torch.no_grad():  # give gamma, beta and the running statistics non-trivial values
        for p in list(net.gammas) + list(net.betas):
            p.add_(torch.from_numpy(rng.normal(size=tuple(p.shape)) * 0.3))
    X = torch.from_numpy(rng.normal(size=(6, 5)))
    for mode in ("train", "eval"):
        getattr(net, mode)()
        seqs = [getattr(net.to_sequential(k), mode)() for k in range(5)]
        with torch.no_grad():
            out = net(X)
            for k, seq in enumerate(seqs):
                assert float((out[k] - seq(X)).abs().max()) < TOL
        if mode == "train":  # both updated their running statistics the same way
            for k in (1, 2):
                bn = seqs[k][1 if k == 1 else 2]
                assert float((bn.running_mean - net.running_mean_0[k, 0]).abs().max()) < TOL
                assert float((bn.running_var - net.running_var_0[k, 0]).abs().max()) < TOL


def test_residual_member_adds_the_identity(torch, stack, rng):
    net = stack.StackedMLP([4, 6, 6, 6, 2], seeds=[0, 0], residual=[False, True],
                           dtype=torch.float64)
    X = torch.from_numpy(rng.normal(size=(3, 4)))
    with torch.no_grad():
        out = net(X)
        W, b = net.weights, net.biases
        h = X @ W[0][1] + b[0][1]
        for layer in (1, 2):
            h = h + torch.relu(h) @ W[layer][1] + b[layer][1]
        want = torch.relu(h) @ W[3][1] + b[3][1]
        plain = net.to_sequential(0)(X)
    assert float((out[1] - want).abs().max()) < TOL
    assert float((out[0] - plain).abs().max()) < TOL
    with pytest.raises(ValueError, match="residual member"):
        net.to_sequential(1)


def test_stacked_batch_norm_refuses_a_batch_of_one(torch, stack):
    net = stack.StackedMLP([3, 4, 2], seeds=[0, 1], norm=["batch", "layer"])
    with pytest.raises(ValueError, match="at least 2"):
        net(torch.ones(1, 3))
    net.eval()
    assert net(torch.ones(1, 3)).shape == (2, 1, 2)
    ln_only = stack.StackedMLP([3, 4, 2], seeds=[0], norm="layer")
    assert ln_only(torch.ones(1, 3)).shape == (1, 1, 2)


# --- measurements -----------------------------------------------------------------------


def test_norm_noise_scales_and_shifts_each_unit_in_training_mode_only(torch, stack, rng):
    net = stack.StackedMLP([4, 6, 6, 2], seeds=[0, 0, 0], norm=["batch", "batch", "none"],
                           dtype=torch.float64)
    X = torch.from_numpy(rng.normal(size=(8, 4)))
    net.update_running_stats = False
    with torch.no_grad():
        clean = net(X, return_hidden=True)[1]
        stack.draw_norm_noise(net, np.random.default_rng(0), [0.0, 0.5, 0.0])
        noisy_logits, noisy = net(X, return_hidden=True)
        # by hand for member 1: scale and shift the first normalization output
        scale, shift = net.norm_noise[0]
        W, b = net.weights, net.biases
        z = X @ W[0][1] + b[0][1]
        y = torch.nn.functional.batch_norm(z, None, None, training=True, eps=net.eps)
        want = torch.relu(y * scale[1] + shift[1])
        net.eval()
        eval_logits = net(X)
        net.norm_noise = None
        clean_eval = net(X)
    assert float((noisy[0][1] - want).abs().max()) < TOL
    for member in (0, 2):  # strength 0: untouched
        assert float((noisy[0][member] - clean[0][member]).abs().max()) < TOL
        assert float((noisy[1][member] - clean[1][member]).abs().max()) < TOL
    assert float((noisy[0][1] - clean[0][1]).abs().max()) > 0.01
    assert float(scale[1].min()) >= 0.5 and float(scale[1].max()) <= 1.5
    assert float(shift[1].abs().max()) <= 0.5
    assert float((eval_logits - clean_eval).abs().max()) == 0.0  # eval mode ignores the noise
    assert noisy_logits.shape == (3, 8, 2)


def test_norm_noise_is_redrawn_and_reproducible(torch, stack):
    net = stack.StackedMLP([4, 6, 2], seeds=[0, 1], norm="batch", dtype=torch.float64)
    stack.draw_norm_noise(net, np.random.default_rng(3), 0.3)
    first = [t.clone() for pair in net.norm_noise for t in pair]
    stack.draw_norm_noise(net, np.random.default_rng(3), 0.3)
    again = [t.clone() for pair in net.norm_noise for t in pair]
    stack.draw_norm_noise(net, np.random.default_rng(4), 0.3)
    other = [t for pair in net.norm_noise for t in pair]
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert not torch.equal(first[0], other[0])


def test_norm_noise_bad_arguments(stack):
    net = stack.StackedMLP([4, 6, 2], seeds=[0, 1], norm=["batch", "none"])
    rng = np.random.default_rng(0)
    with pytest.raises(TypeError, match="Generator"):
        stack.draw_norm_noise(net, 0, 0.1)
    with pytest.raises(ValueError, match=r"in \[0, 1\)"):
        stack.draw_norm_noise(net, rng, [1.0, 0.0])
    with pytest.raises(ValueError, match='norm="none"'):
        stack.draw_norm_noise(net, rng, 0.1)
    with pytest.raises(ValueError, match="one per member"):
        stack.draw_norm_noise(net, rng, [0.1, 0.0, 0.0])
    with pytest.raises(TypeError, match="number per member"):
        stack.draw_norm_noise(net, rng, [True, 0.0])
    with pytest.raises(TypeError, match="StackedMLP"):
        stack.draw_norm_noise("net", rng, 0.1)


def test_probe_along_the_gradient_restores_everything(torch, stack, digits):
    X, y = digits.X_train[:64], digits.y_train[:64]
    net = stack.StackedMLP([64, 16, 16, 10], seeds=[0, 1], norm=["none", "batch"],
                           init="he_normal")
    state = {k: v.clone() for k, v in net.state_dict().items()}
    probe = stack.probe_gradient_direction(net, X, y, [0.01, 0.1])
    for k, v in net.state_dict().items():
        assert torch.equal(v, state[k]), k
    X_t, y_t = torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y)
    net.zero_grad()
    loss = stack.member_losses(net(X_t), y_t)
    loss.sum().backward()
    with torch.no_grad():  # the loss after one step of 0.1 along the gradient, by hand
        for p in net.parameters():
            p -= 0.1 * p.grad
        net.update_running_stats = False
        stepped = stack.member_losses(net(X_t), y_t)
    assert np.allclose(probe.loss0, loss.detach().numpy(), atol=1e-6)
    assert np.allclose(probe.loss[:, 1], stepped.numpy(), atol=1e-5)
    assert probe.loss_range.shape == probe.beta_smoothness.shape == (2,)


def test_weight_grad_norms_match_autograd_on_the_sequential_copy(torch, stack, digits):
    X, y = digits.X_train[:50], digits.y_train[:50]
    net = stack.StackedMLP([64, 8, 8, 10], seeds=[2, 5], norm=["batch", "none"],
                           dtype=torch.float64)
    norms = stack.weight_grad_norms(net, X, y)
    for k in range(2):
        seq = net.to_sequential(k).train()
        loss = torch.nn.functional.cross_entropy(seq(torch.from_numpy(X)), torch.from_numpy(y))
        loss.backward()
        want = [float(m.weight.grad.norm()) for m in seq if isinstance(m, torch.nn.Linear)]
        assert np.allclose(norms[k], want, rtol=1e-10)


# --- bad arguments ----------------------------------------------------------------------


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(sizes=[4, 5, 6, 2], residual=True), ValueError, "equal hidden widths"),
    (dict(norm="group"), ValueError, "norm must be"),
    (dict(init=-1.0), ValueError, "init must be"),
    (dict(init="xavier"), ValueError, "init must be one of 'torch_default'"),
    (dict(init=float("nan")), ValueError, "init must be"),
    (dict(placement="middle"), ValueError, "placement"),
    (dict(sizes=[4, 2]), ValueError, "at least one hidden"),
    (dict(seeds=[0, 1], norm=["batch"]), ValueError, "one per member"),
    (dict(activation="relu6"), ValueError, "activation must be one of relu, tanh"),
    (dict(activation=["relu", "swish"]), ValueError, "got 'swish'"),
    (dict(activation=["relu"]), ValueError, "activation has 1 entries"),
    (dict(dropout=1.0), ValueError, r"dropout must be in \[0, 1\)"),
    (dict(dropout=[0.1, -0.1]), ValueError, r"dropout must be in \[0, 1\)"),
    (dict(dropout=float("nan")), ValueError, r"dropout must be in \[0, 1\)"),
    (dict(dropout="0.5"), TypeError, "dropout must be a number"),
    (dict(dropout=[0.1, 0.2, 0.3]), ValueError, "dropout has 3 entries"),
])
def test_stacked_mlp_bad_arguments(stack, kwargs, error, match):
    args = dict(sizes=[4, 5, 5, 2], seeds=[0, 1])
    args.update(kwargs)
    with pytest.raises(error, match=match):
        stack.StackedMLP(args.pop("sizes"), **args)


def test_fit_bad_arguments(torch, stack, fit, digits):
    X, y = digits.X_train[:40], digits.y_train[:40]
    net = stack.StackedMLP([64, 4, 10], seeds=[0, 1])
    single = fit.mlp([64, 4, 10])
    sgd = torch.optim.SGD(single.parameters(), lr=0.1)
    cases = [
        (dict(model=net, lr=[0.1, -1]), ValueError, "learning rates must be positive"),
        (dict(model=net, lr=[0.1, 0.1, 0.1]), ValueError, "lr has 3 entries"),
        (dict(model=net, lr=[0.1, True]), TypeError, "learning rates must be numbers"),
        (dict(model=net, lr=0.1, X_val=X), ValueError, "X_val and y_val"),
        (dict(model=net, lr=0.1, seed=0), ValueError, "pass no seed"),
        (dict(model=net), ValueError, "pass optimizer .* or lr"),
        (dict(model=single, optimizer=sgd, lr=0.1, seed=0), ValueError, "not both"),
        (dict(model=single, optimizer=sgd), TypeError, "needs seed="),
        (dict(model=single, lr=[0.1], seed=0), TypeError, "must be a number"),
        (dict(model=single, optimizer="sgd", seed=0), TypeError, "torch.optim.Optimizer"),
        (dict(model=single, lr=0.1, seed=0, scheduler=object()), ValueError,
         "a scheduler needs the optimizer"),
        (dict(model=single, lr=0.1, seed=0, loss_fn=3), TypeError, "loss_fn must be callable"),
        (dict(model=single, lr=0.1, seed=0, after_step="x"), TypeError, "after_step must be"),
        (dict(model=single, lr=0.1, seed=0,
              loss_fn=lambda m, z, t: torch.nn.functional.cross_entropy(z, t,
                                                                        reduction="none")),
         ValueError, "a scalar loss"),
        (dict(model="net", lr=0.1, seed=0), TypeError, "model must be a torch.nn.Module"),
        (dict(model=single, lr=0.1, seed=0, epochs=0), ValueError, "epochs must be a positive"),
    ]
    for kwargs, error, match in cases:
        args = dict(epochs=1, batch_size=8)
        args.update(kwargs)
        model = args.pop("model")
        with pytest.raises(error, match=match):
            fit.fit(model, X, y, **args)
