"""utils.health: the verdicts name the known pathology, PyTorch and Keras agree, bad input fails.

The pathological models are small (a few hundred examples, a few steps), so the whole file
runs in a few seconds; each pathology is strong enough that the verdict does not depend
on the seed.
"""

from __future__ import annotations

import numpy as np
import pytest

from utils import health
from utils.frameworks import import_keras, import_torch

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def blobs():
    """400 examples of 32 standardized features in 4 separable classes."""
    rng = np.random.default_rng(0)
    centers = rng.normal(0, 1.5, size=(4, 32))
    y = rng.integers(0, 4, size=400)
    X = centers[y] + rng.normal(size=(400, 32))
    X = ((X - X.mean(0)) / X.std(0)).astype(np.float32)
    return X, y.astype(np.int64)


def torch_net(activation, sizes, *, std=None, bias=0.0, batch_norm=False, seed=0):
    torch = import_torch()
    torch.manual_seed(seed)
    nn = torch.nn
    acts = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU, "tanh": nn.Tanh}
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        linear = nn.Linear(a, b)
        with torch.no_grad():
            if std is None:
                nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
            else:
                linear.weight.normal_(0, std)
            linear.bias.fill_(bias if i < len(sizes) - 2 else 0.0)
        layers.append(linear)
        if i < len(sizes) - 2:
            if batch_norm:
                layers.append(nn.BatchNorm1d(b))
            layers.append(acts[activation]())
    return nn.Sequential(*layers)


def run(model, data, *, lr=0.1, steps=4, every=1, batch_size=100):
    X, y = data
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    epochs = max(1, -(-steps * batch_size // len(X)))
    report, _ = health.check(model, X, y, optimizer=opt, epochs=epochs, batch_size=batch_size,
                             every=every, seed=0)
    return report


# --- the statistics --------------------------------------------------------------------


def test_saturation_and_dead_fraction_by_hand():
    a = np.array([[-0.995, 0.5, 0.999], [0.0, -0.2, 0.991]])
    assert health.saturation_fraction(a, "tanh") == pytest.approx(3 / 6)
    s = np.array([0.005, 0.5, 0.995, 0.01, 0.99, 0.3])
    assert health.saturation_fraction(s, "sigmoid") == pytest.approx(2 / 6)  # bounds inclusive
    assert np.isnan(health.saturation_fraction(s, "relu"))
    r = np.array([[0.0, 1.0, 0.0], [0.0, 2.0, 3.0]])
    assert health.dead_fraction(r, "relu") == pytest.approx(1 / 3)
    assert np.isnan(health.dead_fraction(r, "sigmoid"))


def test_the_table_has_one_row_per_weight_layer(blobs):
    model = torch_net("relu", [32, 16, 16, 4])
    report = run(model, blobs, steps=4, every=3)  # one epoch of 4 steps
    assert report.steps == [1, 4]
    assert len(report.loss) == 2 and np.isfinite(report.loss).all()
    assert len(report.table_rows()) == 3 and report.kinds == ["relu", "relu", "linear"]
    assert "grad norm" in report.table()


# --- known pathologies -------------------------------------------------------------------


def test_deep_sigmoid_with_standard_normal_weights_saturates(blobs):
    model = torch_net("sigmoid", [32] + [64] * 8 + [4], std=1.0)
    report = run(model, blobs)
    problems = report.problems()
    assert "saturated" in problems
    s = report.summary()
    assert np.nanmin(s["saturated"][:-1]) > health.THRESHOLDS["saturated_fraction"]
    assert s["act_std"][0] > 0.3  # outputs pushed towards 0 and 1, far from 0.5


def test_relu_with_negative_bias_shift_has_dead_units(blobs):
    model = torch_net("relu", [32, 64, 64, 64, 4], bias=-3.0)
    report = run(model, blobs)
    assert "dead" in report.problems()
    assert np.nanmax(report.summary()["dead"]) > 0.5


def test_healthy_he_batchnorm_net_has_no_problem(blobs):
    model = torch_net("relu", [32] + [64] * 6 + [4], batch_norm=True)
    report = run(model, blobs, lr=0.05, steps=8, every=2)
    assert report.problems() == set(), report.report()
    assert report.healthy()


def test_exploding_relu_net(blobs):
    model = torch_net("relu", [32] + [64] * 8 + [4], std=0.5)
    report = run(model, blobs, lr=1e-9, steps=2)
    assert "exploding" in report.problems(), report.report()


def test_nan_is_detected_and_located(blobs):
    model = torch_net("relu", [32, 32, 32, 4])
    with torch.no_grad():
        model[2].weight[0, 0] = float("nan")  # one poisoned weight in the second layer
    report = run(model, blobs, steps=2)
    assert report.diverged_at == 1 and "diverged" in report.problems()
    nonfinite = report.summary()["nonfinite"]
    assert nonfinite[1] and nonfinite[2]  # layer 1 only through its NaN gradient
    act_std = report.array("act_std")[-1]
    assert np.isfinite(act_std[0]) and not np.isfinite(act_std[1:]).any()  # where it starts
    assert "non-finite" in report.report()


def test_learning_rate_far_too_large_is_flagged(blobs):
    model = torch_net("relu", [32, 32, 32, 4], batch_norm=True)
    report = run(model, blobs, lr=50.0, steps=2)
    assert "updates too large" in report.problems() or "diverged" in report.problems()


def test_hooks_are_removed_and_the_model_is_unchanged(blobs):
    model = torch_net("relu", [32, 16, 4])
    run(model, blobs, steps=3, every=2)
    for m in model.modules():
        assert not m._forward_hooks and not m._backward_hooks
    for p in model.parameters():
        assert not p._backward_hooks
    assert len(list(model.modules())) == 4


def test_statistics_match_a_manual_computation(blobs):
    """Step 1's statistics equal a hand-made forward/backward pass on the same batch."""
    X, y = blobs
    model = torch_net("tanh", [32, 16, 16, 4], std=0.4)
    reference = torch_net("tanh", [32, 16, 16, 4], std=0.4)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    report, _ = health.check(model, X, y, optimizer=opt, epochs=1, batch_size=len(X), every=1)
    X_t, y_t = torch.as_tensor(X), torch.as_tensor(y)
    h1 = reference[1](reference[0](X_t))
    loss = torch.nn.functional.cross_entropy(reference(X_t), y_t)
    loss.backward()
    h1 = h1.detach().numpy()
    assert report.array("act_std")[0, 0] == pytest.approx(h1.std(), rel=1e-5)
    assert report.array("saturated")[0, 0] == pytest.approx(np.mean(np.abs(h1) > 0.99))
    g0 = float(reference[0].weight.grad.norm())
    assert report.array("grad_norm")[0, 0] == pytest.approx(g0, rel=1e-5)
    w0 = reference[0].weight.detach()
    ratio = float((0.1 * reference[0].weight.grad).norm() / w0.norm())
    assert report.array("update_ratio")[0, 0] == pytest.approx(ratio, rel=1e-4)


def test_a_float64_model_is_checked_in_float64(blobs):
    """A float64 model gets float64 data (as in torch_fit.fit), also in the probe after a
    divergence; its statistics equal the float32 model's to float32 precision."""
    single = run(torch_net("tanh", [32, 16, 16, 4], std=0.4), blobs, steps=3, every=1)
    double = run(torch_net("tanh", [32, 16, 16, 4], std=0.4).double(), blobs, steps=3,
                 every=1)
    for name in ("act_std", "saturated", "grad_norm", "update_ratio"):
        np.testing.assert_allclose(double.array(name), single.array(name), rtol=1e-4,
                                   atol=1e-6)
    model = torch_net("relu", [32, 32, 32, 4]).double()
    with torch.no_grad():
        model[2].weight[0, 0] = float("nan")
    report = run(model, blobs, steps=2)
    assert report.diverged_at == 1 and report.summary()["nonfinite"][1]
    assert all(p.dtype == torch.float64 for p in model.parameters())


# --- PyTorch and Keras agree on the same weights --------------------------------------


def test_pytorch_and_keras_statistics_agree(blobs):
    keras = import_keras()
    X, y = blobs
    sizes = [32, 24, 24, 4]
    tnet = torch_net("sigmoid", sizes, std=1.5, bias=0.2)
    layers = [keras.Input(shape=(32,))]
    for i, n in enumerate(sizes[1:]):
        layers.append(keras.layers.Dense(n, activation=None if i == len(sizes) - 2 else "sigmoid"))
    knet = keras.Sequential(layers)
    linears = [m for m in tnet if isinstance(m, torch.nn.Linear)]
    for dense, linear in zip(knet.layers, linears, strict=True):
        dense.set_weights([linear.weight.detach().numpy().T, linear.bias.detach().numpy()])
    # full batches: both frameworks see the same data in every step whatever their shuffling
    rt, _ = health.check(tnet, X, y, optimizer=torch.optim.SGD(tnet.parameters(), lr=0.5),
                         epochs=3, batch_size=len(X), every=1)
    rk, _ = health.check(knet, X, y, optimizer=keras.optimizers.SGD(learning_rate=0.5),
                         epochs=3, batch_size=len(X), every=1)
    assert rt.steps == rk.steps == [1, 2, 3]
    assert rt.kinds == rk.kinds == ["sigmoid", "sigmoid", "linear"]
    # float32 in both: agreement to 1e-4 relative (a few ulps accumulated over 3 layers, 3 steps)
    for name in ("act_mean", "act_std", "grad_norm", "update_ratio"):
        np.testing.assert_allclose(rt.array(name), rk.array(name), rtol=1e-4, atol=1e-7,
                                   err_msg=name)
    # counts of values beyond a threshold: at most one value of 9,600 may fall differently
    np.testing.assert_allclose(rt.array("saturated")[:, :2], rk.array("saturated")[:, :2],
                               atol=2 / (400 * 24))
    np.testing.assert_allclose(rt.loss, rk.loss, rtol=1e-5)
    assert rt.problems() == rk.problems()


def test_keras_relu_layers_and_dead_units(blobs):
    keras = import_keras()
    X, y = blobs
    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(32,))
    h = keras.layers.Dense(64, bias_initializer=keras.initializers.Constant(-3.0))(inputs)
    h = keras.layers.ReLU()(h)
    h = keras.layers.Dense(64, activation="relu",
                           bias_initializer=keras.initializers.Constant(-3.0))(h)
    model = keras.Model(inputs, keras.layers.Dense(4)(h))
    report, _ = health.check(model, X, y, optimizer=keras.optimizers.SGD(learning_rate=0.1),
                             epochs=1, batch_size=100, every=2)
    assert report.kinds == ["relu", "relu", "linear"] and report.steps == [1, 3]
    assert "dead" in report.problems()


# --- bad input -------------------------------------------------------------------------


def test_bad_input_gets_clear_errors(blobs):
    X, y = blobs
    model = torch_net("relu", [32, 8, 4])
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(TypeError, match="torch.nn.Module or a keras.Model"):
        health.check("not a model", X, y, optimizer=opt)
    with pytest.raises(ValueError, match="no trainable weight layers"):
        health.check(torch.nn.Sequential(torch.nn.ReLU()), X, y, optimizer=opt)
    frozen = torch_net("relu", [32, 8, 4])
    for p in frozen.parameters():
        p.requires_grad_(False)
    with pytest.raises(ValueError, match="no trainable weight layers"):
        health.check(frozen, X, y, optimizer=opt)
    with pytest.raises(ValueError, match="does not fit the model"):
        health.check(model, X[:, :10], y, optimizer=opt)
    with pytest.raises(ValueError, match="one label per row"):
        health.check(model, X, y[:-1], optimizer=opt)
    with pytest.raises(TypeError, match="integer class labels"):
        health.check(model, X, y.astype(float), optimizer=opt)
    for labels in (y + 4, y - 1):  # the net has 4 outputs: labels must be 0..3
        with pytest.raises(ValueError, match="labels must lie in 0..3"):
            health.check(model, X, labels, optimizer=opt)
    with pytest.raises(TypeError, match="array of numbers"):
        health.check(model, "X", y, optimizer=opt)
    with pytest.raises(TypeError, match="optimizer"):
        health.check(model, X, y, optimizer="sgd")
    for every, error in [(0, ValueError), (-3, ValueError), (1.5, TypeError), (True, TypeError)]:
        with pytest.raises(error, match="every"):
            health.check(model, X, y, optimizer=opt, every=every)
    with pytest.raises(ValueError, match="flat|empty"):
        health.saturation_fraction([], "tanh")
    with pytest.raises(TypeError):
        health.saturation_fraction([0.5], 3)
    with pytest.raises(ValueError, match="batch"):
        health.dead_fraction([1.0, 2.0], "relu")


def test_bad_keras_input(blobs):
    keras = import_keras()
    X, y = blobs
    model = keras.Sequential([keras.Input(shape=(32,)), keras.layers.Dense(4)])
    opt = keras.optimizers.SGD(learning_rate=0.1)
    with pytest.raises(ValueError, match="model expects"):
        health.check(model, X[:, :10], y, optimizer=opt)
    with pytest.raises(ValueError, match="labels must lie in 0..3"):
        health.check(model, X, y + 4, optimizer=opt)
    with pytest.raises(TypeError, match="keras.optimizers.Optimizer"):
        health.check(model, X, y, optimizer=torch.optim.SGD([torch.zeros(1)], lr=0.1))
    empty = keras.Sequential([keras.Input(shape=(32,)), keras.layers.ReLU()])
    with pytest.raises(ValueError, match="no trainable weight layers"):
        health.check(empty, X, y, optimizer=opt)


def test_keras_nan_is_detected(blobs):
    keras = import_keras()
    X, y = blobs
    model = keras.Sequential([keras.Input(shape=(32,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(4)])
    kernel = model.layers[1].kernel.numpy()
    kernel[0, 0] = np.inf
    model.layers[1].kernel.assign(kernel)
    report, _ = health.check(model, X, y, optimizer=keras.optimizers.SGD(learning_rate=0.1),
                             epochs=1, batch_size=100, every=1)
    assert report.diverged_at == 1 and {"diverged", "nonfinite"} <= report.problems()
    assert report.summary()["nonfinite"][1]


def test_standard_figure(blobs):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    report = run(torch_net("sigmoid", [32, 16, 16, 4], std=1.0), blobs, steps=4, every=2)
    fig = report.plot(title="t")
    panels = fig.axes[:3]
    assert [ax.get_yscale() for ax in panels] == ["log", "log", "linear"]
    assert all(len(ax.get_lines()) == 3 for ax in panels[:2])
    assert "no ReLU-family layers" in [t.get_text() for t in panels[2].texts]
    plt.close(fig)
    with pytest.raises(ValueError, match="no records"):
        health.HealthReport(layers=["a"], kinds=["relu"], every=1).plot()


# --- the history: first step, persistence, transient problems, cause of death ------


def synthetic_report(dead, update, *, steps=None, kinds=("relu", "linear")):
    """A report built record by record: ``dead`` and ``update`` give, per record, the
    dead fraction of the first (hidden) layer and the update ratio of every layer; all
    other statistics are healthy."""
    steps = steps or [1 + 10 * k for k in range(len(dead))]
    report = health.HealthReport(layers=["1: hidden", "2: out"], kinds=list(kinds),
                                 every=10)
    for step, d, u in zip(steps, dead, update, strict=True):
        stats = [{"act_mean": 0.4, "act_std": 0.8, "saturated": np.nan, "dead": d,
                  "grad_norm": 1.0, "update_ratio": u, "nonfinite": False},
                 {"act_mean": 0.0, "act_std": 1.0, "saturated": np.nan, "dead": np.nan,
                  "grad_norm": 1.0, "update_ratio": u, "nonfinite": False}]
        report._record(step, stats, 1.0)
    return report


def test_a_transient_problem_is_reported_with_its_steps():
    report = synthetic_report([0.0] * 5, [0.5, 0.3, 1e-3, 1e-3, 1e-3])
    assert report.problems(when="end") == set()  # the last record and the median: fine
    assert report.problems() == {"updates too large"} and not report.healthy()
    entries = report.timeline()
    assert [(e["index"], e["problem"], e["first"], e["last"], e["records"], e["at_end"])
            for e in entries] == [(0, "updates too large", 1, 11, 2, False),
                                  (1, "updates too large", 1, 11, 2, False)]
    assert entries[0]["peak"] == pytest.approx(0.5)
    text = dict(report.verdicts())["1: hidden"]
    assert text == ["earlier, updates too large: at 2 records, steps 1 to 11 (up to "
                    "5e-01 of the weights per step), not at the last record (step 41)"]
    one = synthetic_report([0.0] * 3, [0.5, 1e-3, 1e-3])
    assert "at step 1 (up to 5e-01" in dict(one.verdicts())["2: out"][0]
    with pytest.raises(ValueError, match="when"):
        report.problems(when="last")


def test_a_lasting_problem_says_since_when():
    report = synthetic_report([0.0, 0.1, 0.6, 0.7], [1e-3] * 4)
    (entry,) = report.timeline()
    assert (entry["problem"], entry["first"], entry["last"], entry["at_end"]) == \
        ("dead", 21, 31, True)
    verdict = dict(report.verdicts())["1: hidden"][0]
    assert verdict.startswith("dying units (since step 21):")
    assert report.problems() == report.problems(when="end") == {"dead"}


def test_death_cause_initialization_large_updates_or_unknown():
    at_init = synthetic_report([0.9, 0.9, 0.9], [1e-3] * 3)
    cause = at_init.death_cause(0)
    assert cause["cause"] == "initialization" and cause["alive_until"] is None
    assert cause["dead_from"] == 1
    assert "before any update" in dict(at_init.verdicts())["1: hidden"][0]
    # alive at steps 1 and 11, a large update at step 1, dead from step 21 on
    killed = synthetic_report([0.0, 0.1, 0.8, 0.9], [1.5, 0.01, 0.01, 0.01])
    cause = killed.death_cause(0)
    assert cause["cause"] == "large updates" and cause["alive_until"] == 11
    assert cause["dead_from"] == 21 and cause["peak_update"] == pytest.approx(1.5)
    assert cause["peak_layer"] == "1: hidden"
    assert killed.problems(when="end") == {"dead"}  # median update 0.01: fine
    assert killed.problems() == {"dead", "updates too large"}
    assert "after updates of up to 2e+00" in dict(killed.verdicts())["1: hidden"][0]
    # a large update *after* the death is not its cause
    late = synthetic_report([0.0, 0.8, 0.9], [0.01, 0.01, 1.5])
    assert late.death_cause(0)["cause"] == "unknown"
    assert "record more often" in dict(late.verdicts())["1: hidden"][0]
    # died, came back, died again: the final death counts
    relapse = synthetic_report([0.0, 0.9, 0.1, 0.9], [0.01, 0.01, 0.5, 0.01])
    assert relapse.death_cause(0)["alive_until"] == 21
    assert relapse.death_cause(0)["cause"] == "large updates"
    recovered = synthetic_report([0.0, 0.9, 0.1], [0.01] * 3)
    assert recovered.death_cause(0) is None
    assert killed.death_cause(1) is None  # not a ReLU layer
    with pytest.raises(IndexError):
        killed.death_cause(2)
    with pytest.raises(TypeError):
        killed.death_cause(0.5)
    with pytest.raises(ValueError, match="no records"):
        health.HealthReport(layers=["a"], kinds=["relu"], every=1).death_cause(0)


def test_verdicts_at_one_record():
    report = synthetic_report([0.0, 0.6], [0.5, 1e-3])
    assert dict(report.verdicts_at(0))["1: hidden"][0].startswith("updates too large")
    assert dict(report.verdicts_at(-1))["1: hidden"][0].startswith("dying units")
    with pytest.raises(IndexError):
        report.verdicts_at(2)
    with pytest.raises(TypeError):
        report.verdicts_at("0")
    with pytest.raises(ValueError, match="no records"):
        health.HealthReport(layers=["a"], kinds=["relu"], every=1).timeline()


def test_a_large_learning_rate_with_batch_norm_is_named_as_the_cause(blobs):
    """Units alive at step 1 and dead later, after a first update larger than the
    weights: the history names the learning rate where the median update is moderate."""
    model = torch_net("relu", [32] + [32] * 4 + [4], batch_norm=True)
    report = run(model, blobs, lr=20.0, steps=12, every=3)
    causes = [c for i in range(len(report.layers)) if (c := report.death_cause(i))]
    assert causes, report.report()
    assert all(c["cause"] == "large updates" and c["alive_until"] is not None
               for c in causes)
    assert {"dead", "updates too large"} <= report.problems()


def test_relu_dead_from_the_start_is_blamed_on_the_initialization(blobs):
    model = torch_net("relu", [32, 64, 64, 64, 4], bias=-3.0)
    report = run(model, blobs)
    causes = [c for i in range(len(report.layers)) if (c := report.death_cause(i))]
    assert causes and all(c["cause"] == "initialization" for c in causes)
