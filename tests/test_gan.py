"""utils.gan: the ring-of-Gaussians data, the sample-quality measures, the two
initialization schemes and the batched GAN training loop; and the chapter's self-checks."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import wasserstein_distance

from utils import checks, gan
from utils.frameworks import import_torch

torch = import_torch()
nn = torch.nn

# --- data ------------------------------------------------------------------------------


def test_ring_centers_lie_on_the_circle_evenly_spaced():
    c = gan.ring_centers(8, radius=2.0)
    assert c.shape == (8, 2)
    np.testing.assert_allclose(np.linalg.norm(c, axis=1), 2.0, rtol=1e-12)
    np.testing.assert_allclose(c[0], [2.0, 0.0], atol=1e-12)
    gaps = np.linalg.norm(np.diff(np.vstack([c, c[:1]]), axis=0), axis=1)
    np.testing.assert_allclose(gaps, 2 * 2.0 * np.sin(np.pi / 8), rtol=1e-12)  # chord length


def test_ring_of_gaussians_shape_seed_and_statistics():
    x = gan.ring_of_gaussians(20_000, np.random.default_rng(0), num_modes=8, radius=0.8, std=0.02)
    assert x.shape == (20_000, 2)
    np.testing.assert_array_equal(x, gan.ring_of_gaussians(
        20_000, np.random.default_rng(0), num_modes=8, radius=0.8, std=0.02))
    assert not np.array_equal(x, gan.ring_of_gaussians(
        20_000, np.random.default_rng(1), num_modes=8, radius=0.8, std=0.02))
    centers = gan.ring_centers(8, 0.8)
    nearest = np.linalg.norm(x[:, None] - centers[None], axis=2).argmin(axis=1)
    residual = x - centers[nearest]
    # per-coordinate std 0.02 (standard error of a std from 40,000 values: 0.4 %)
    np.testing.assert_allclose(residual.std(axis=0), 0.02, rtol=0.02)
    np.testing.assert_allclose(residual.mean(axis=0), 0.0, atol=5 * 0.02 / np.sqrt(20_000))
    # modes equally likely: each holds 1/8 of the samples within 5 binomial std errors
    share = np.bincount(nearest, minlength=8) / len(x)
    assert np.all(np.abs(share - 1 / 8) < 5 * np.sqrt(1 / 8 * 7 / 8 / len(x)))


@pytest.mark.parametrize("kwargs, error", [
    ({"n": 0, "rng": np.random.default_rng(0)}, ValueError),
    ({"n": 10, "rng": 0}, TypeError),
    ({"n": 10, "rng": np.random.default_rng(0), "std": -0.1}, ValueError),
    ({"n": 10, "rng": np.random.default_rng(0), "num_modes": 0}, ValueError),
    ({"n": 2.5, "rng": np.random.default_rng(0)}, TypeError),
])
def test_ring_of_gaussians_rejects_bad_input(kwargs, error):
    with pytest.raises(error):
        gan.ring_of_gaussians(**kwargs)


# --- mode coverage ----------------------------------------------------------------------

CENTERS = gan.ring_centers(8, 0.8)
STD = 0.02


def blobs(counts, rng, spread=STD):
    """counts[k] samples around centre k."""
    return np.vstack([CENTERS[k] + spread * rng.standard_normal((c, 2))
                      for k, c in enumerate(counts) if c])


def test_mode_coverage_all_modes():
    x = gan.ring_of_gaussians(4000, np.random.default_rng(0), std=STD)
    cov = gan.mode_coverage(x, CENTERS, STD)
    assert cov.modes_covered == 8
    # within 3 std in 2-D: P(chi_2 <= 9) = 1 - exp(-4.5) = 0.9889
    assert abs(cov.high_quality_fraction - (1 - np.exp(-4.5))) < 0.01
    assert cov.counts.sum() == round(cov.high_quality_fraction * 4000)


def test_mode_coverage_one_mode_and_off_mode_samples():
    rng = np.random.default_rng(1)
    one = blobs([0, 0, 0, 500, 0, 0, 0, 0], rng)
    cov = gan.mode_coverage(one, CENTERS, STD)
    assert cov.modes_covered == 1 and cov.counts.argmax() == 3
    # halfway between two neighbouring modes, on the ring: far from both
    angle = np.pi / 8 + 2 * np.pi * np.arange(8) / 8
    between = 0.8 * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    off = np.repeat(between, 50, axis=0) + 0.005 * rng.standard_normal((400, 2))
    cov = gan.mode_coverage(off, CENTERS, STD)
    assert cov.modes_covered == 0 and cov.high_quality_fraction == 0.0
    # all samples at the origin: also nothing
    assert gan.mode_coverage(np.zeros((100, 2)), CENTERS, STD).modes_covered == 0


def test_mode_coverage_needs_a_fair_share_and_blurry_modes_do_not_count():
    rng = np.random.default_rng(2)
    # 1000 samples, fair share 125: a mode with 20 (< 0.25 * 125 = 31.25) is not covered
    x = blobs([140, 140, 140, 140, 140, 140, 140, 20], rng)
    assert gan.mode_coverage(x, CENTERS, STD).modes_covered == 7
    assert gan.mode_coverage(x, CENTERS, STD, min_share=0.1).modes_covered == 8
    # the right modes, but ten times too wide: few samples within 3 std
    wide = blobs([125] * 8, rng, spread=10 * STD)
    cov = gan.mode_coverage(wide, CENTERS, STD)
    assert cov.high_quality_fraction < 0.1 and cov.modes_covered == 0


@pytest.mark.parametrize("samples, centers, std, error", [
    (np.zeros((5, 3)), CENTERS, STD, ValueError),        # dimension mismatch
    (np.zeros((0, 2)), CENTERS, STD, ValueError),        # no samples
    (np.zeros(10), CENTERS, STD, ValueError),            # not 2-D
    (np.zeros((5, 2)), CENTERS, 0.0, ValueError),        # std must be > 0
    (np.full((5, 2), np.nan), CENTERS, STD, ValueError),
    ("samples", CENTERS, STD, TypeError),
])
def test_mode_coverage_rejects_bad_input(samples, centers, std, error):
    with pytest.raises(error):
        gan.mode_coverage(samples, centers, std)


# --- distances --------------------------------------------------------------------------


@pytest.mark.parametrize("n, m", [(1, 1), (7, 7), (50, 80), (300, 11)])
def test_wasserstein_1d_matches_scipy(n, m):
    rng = np.random.default_rng(n + m)
    u, v = rng.standard_normal(n), rng.exponential(size=m) - 0.3
    assert abs(gan.wasserstein_1d(u, v) - wasserstein_distance(u, v)) < 1e-12
    # symmetric, zero for identical samples, a shift by c costs exactly |c|
    assert abs(gan.wasserstein_1d(u, v) - gan.wasserstein_1d(v, u)) < 1e-12
    assert gan.wasserstein_1d(u, u) == 0.0
    assert abs(gan.wasserstein_1d(u, u + 0.7) - 0.7) < 1e-12


def test_wasserstein_1d_rejects_bad_input():
    with pytest.raises(ValueError):
        gan.wasserstein_1d([], [1.0])
    with pytest.raises(ValueError):
        gan.wasserstein_1d(np.zeros((2, 2)), [1.0])
    with pytest.raises(TypeError):
        gan.wasserstein_1d(["a"], [1.0])


def test_sliced_wasserstein_zero_for_identical_sets_and_grows_with_shift():
    x = gan.ring_of_gaussians(1000, np.random.default_rng(0))
    assert gan.sliced_wasserstein(x, x.copy(), np.random.default_rng(0)) == 0.0
    shifts = [0.01, 0.05, 0.2, 0.5, 1.0]
    d = [gan.sliced_wasserstein(x + [s, 0.0], x, np.random.default_rng(0)) for s in shifts]
    assert np.all(np.diff(d) > 0)
    # a pure shift s moves every projection by |s| |cos angle|: exactly the mean of that
    dirs = gan.random_directions(64, 2, np.random.default_rng(0))
    np.testing.assert_allclose(d, np.array(shifts) * np.abs(dirs[:, 0]).mean(), rtol=1e-12)
    # and, averaged over many directions, 2|s|/pi in the plane
    many = gan.sliced_wasserstein(x + [0.5, 0.0], x, np.random.default_rng(1),
                                  num_projections=4000)
    assert abs(many - 0.5 * 2 / np.pi) < 0.01  # standard error about 0.0025


def test_sliced_wasserstein_in_one_dimension_is_scipy_w1():
    rng = np.random.default_rng(3)
    u, v = rng.standard_normal((200, 1)), 2 + 0.5 * rng.standard_normal((200, 1))
    want = wasserstein_distance(u[:, 0], v[:, 0])
    assert abs(gan.sliced_wasserstein(u, v, np.random.default_rng(0)) - want) < 1e-12
    # unequal sizes go through the exact CDF formula
    w = v[:150]
    assert abs(gan.sliced_wasserstein(u, w, np.random.default_rng(0))
               - wasserstein_distance(u[:, 0], w[:, 0])) < 1e-12


def test_sliced_wasserstein_equal_and_unequal_size_paths_agree():
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((60, 2)), rng.standard_normal((60, 2)) + [0.3, -0.2]
    fast = gan.sliced_wasserstein(a, b, np.random.default_rng(5))
    dirs = gan.random_directions(64, 2, np.random.default_rng(5))
    slow = np.mean([wasserstein_distance(a @ t, b @ t) for t in dirs])
    assert abs(fast - slow) < 1e-12


def test_sliced_wasserstein_rejects_bad_input():
    x = np.zeros((5, 2))
    with pytest.raises(ValueError):
        gan.sliced_wasserstein(x, np.zeros((5, 3)), np.random.default_rng(0))
    with pytest.raises(TypeError):
        gan.sliced_wasserstein(x, x, 0)
    with pytest.raises(ValueError):
        gan.sliced_wasserstein(x, x, np.random.default_rng(0), num_projections=0)
    with pytest.raises(ValueError):
        gan.sliced_wasserstein(np.zeros((0, 2)), x, np.random.default_rng(0))


def test_moving_average_matches_a_loop():
    rng = np.random.default_rng(0)
    values = rng.standard_normal((3, 40))
    got = gan.moving_average(values, 7)
    want = np.array([[row[max(0, t - 6):t + 1].mean() for t in range(40)] for row in values])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gan.moving_average(values[0], 1), values[0])
    with pytest.raises(ValueError):
        gan.moving_average(values, 0)
    with pytest.raises(ValueError):
        gan.moving_average(np.zeros((2, 0)), 3)


# --- networks and initialization --------------------------------------------------------


def test_networks_have_the_stated_layers():
    g = gan.make_generator(3, (16, 8), 2, slope=0.1)
    assert [type(m).__name__ for m in g] == ["Linear", "LeakyReLU", "Linear", "LeakyReLU",
                                             "Linear", "Tanh"]
    assert g[0].in_features == 3 and g[-2].out_features == 2 and g[1].negative_slope == 0.1
    d = gan.make_discriminator(2, (16,))
    assert [type(m).__name__ for m in d] == ["Linear", "LeakyReLU", "Linear"]
    assert d[-1].out_features == 1
    with pytest.raises(ValueError):
        gan.make_generator(2, (16, 0))
    with pytest.raises(ValueError):
        gan.make_discriminator(2, (16,), slope=-0.2)


def test_default_scheme_is_what_nn_linear_does():
    torch.manual_seed(0)
    reference = gan.make_generator(2, (32, 32))  # nn.Linear's own reset_parameters
    model = gan.make_generator(2, (32, 32))
    torch.manual_seed(0)
    gan.initialize(model, "default")
    for a, b in zip(reference.parameters(), model.parameters(), strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize("scheme", gan.SCHEMES)
def test_initializer_weight_std_follows_the_formula(scheme):
    """Wide layers, so the sample std of each weight matrix is within 3 % of the formula
    (relative standard error of a std from >= 65,000 values: < 0.5 %)."""
    g = gan.initialize(gan.make_generator(256, (512, 256), 128), scheme,
                       generator=torch.Generator().manual_seed(0))
    d = gan.initialize(gan.make_discriminator(128, (512, 256)), scheme,
                       generator=torch.Generator().manual_seed(1))
    cases = [(g[0], "leaky_relu"), (g[2], "leaky_relu"), (g[4], "tanh"),
             (d[0], "leaky_relu"), (d[2], "leaky_relu"), (d[4], "sigmoid")]
    for layer, following in cases:
        fan_out, fan_in = layer.weight.shape
        want = gan.init_std(fan_in, fan_out, scheme, following)
        got = layer.weight.std().item()
        assert abs(got / want - 1) < 0.03, (scheme, following, got, want)
        bias = layer.bias.detach()
        if scheme == "default":
            assert bias.abs().max() <= 1 / np.sqrt(fan_in) and bias.abs().max() > 0
        else:
            assert torch.count_nonzero(bias) == 0
    # the formulas themselves: He before LeakyReLU, Xavier before tanh, default U(+-1/sqrt(n))
    assert gan.init_std(100, 50, "xavier_he", "leaky_relu") == pytest.approx(np.sqrt(2 / 100))
    assert gan.init_std(100, 50, "xavier_he", "tanh") == pytest.approx(np.sqrt(2 / 150))
    assert gan.init_std(100, 50, "default", "tanh") == pytest.approx(np.sqrt(1 / 300))


def test_xavier_he_matches_torch_functions_called_as_in_the_note():
    model = gan.make_discriminator(2, (64, 64))
    gan.initialize(model, "xavier_he", generator=torch.Generator().manual_seed(7))
    ref = gan.make_discriminator(2, (64, 64))
    gen = torch.Generator().manual_seed(7)
    with torch.no_grad():
        for i in (0, 2):
            nn.init.kaiming_normal_(ref[i].weight, a=0, mode="fan_in",
                                    nonlinearity="leaky_relu", generator=gen)
            nn.init.zeros_(ref[i].bias)
        nn.init.xavier_normal_(ref[4].weight, generator=gen)
        nn.init.zeros_(ref[4].bias)
    for a, b in zip(ref.parameters(), model.parameters(), strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize("scheme", gan.SCHEMES)
def test_biases_option_changes_only_the_biases(scheme):
    """biases="scheme" is the scheme's own choice; "zero" and "default" override it and
    leave the weights' distribution alone."""
    def build(biases):
        model = gan.make_discriminator(64, (256, 256))
        return gan.initialize(model, scheme, biases=biases,
                              generator=torch.Generator().manual_seed(3))

    own, zero, drawn = build("scheme"), build("zero"), build("default")
    for i in (0, 2, 4):
        fan_in = own[i].weight.shape[1]
        assert torch.count_nonzero(zero[i].bias) == 0
        bound = 1 / np.sqrt(fan_in)
        assert 0 < drawn[i].bias.abs().max() <= bound
        if drawn[i].bias.numel() > 1:  # spread over the interval
            assert drawn[i].bias.std().item() > bound / 3
        if scheme == "default":
            assert torch.equal(own[i].bias, drawn[i].bias)
        else:
            assert torch.equal(own[i].bias, zero[i].bias)
        stds = [m[i].weight.std().item() for m in (own, zero, drawn)]
        assert max(stds) / min(stds) < 1.1  # the same scale of weights
    # the first layer's weights are drawn first, whatever happens to the biases
    assert torch.equal(own[0].weight, zero[0].weight) and torch.equal(own[0].weight,
                                                                       drawn[0].weight)


def test_initialize_rejects_bad_input():
    with pytest.raises(TypeError):
        gan.initialize(nn.Linear(2, 2), "default")
    with pytest.raises(ValueError, match="scheme"):
        gan.initialize(gan.make_generator(), "he")
    with pytest.raises(ValueError, match="no nn.Linear"):
        gan.initialize(nn.Sequential(nn.Tanh()), "default")
    with pytest.raises(ValueError, match="ReLU"):
        gan.initialize(nn.Sequential(nn.Linear(2, 2), nn.ReLU()), "xavier_he")
    with pytest.raises(ValueError, match="biases"):
        gan.initialize(gan.make_generator(), "default", biases="uniform")
    with pytest.raises(ValueError):
        gan.init_std(10, 10, "default", "relu")
    with pytest.raises(ValueError):
        gan.init_std(0, 10, "default", "tanh")


# --- batched training -------------------------------------------------------------------


def small_models(schemes, seeds):
    gs, ds = [], []
    for scheme, seed in zip(schemes, seeds, strict=True):
        gen = torch.Generator().manual_seed(seed)
        gs.append(gan.initialize(gan.make_generator(2, (8, 8)), scheme, generator=gen))
        ds.append(gan.initialize(gan.make_discriminator(2, (8, 8)), scheme, generator=gen))
    return gs, ds


def test_stacked_forward_equals_each_model():
    gs, _ = small_models(["default", "xavier_he", "default"], [0, 1, 2])
    stacked = gan.StackedSequential(gs, dtype=torch.float64)
    x = torch.randn(3, 10, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    out = stacked(x)
    for r, g in enumerate(gs):
        want = g.double()(x[r])
        assert torch.allclose(out[r], want, rtol=0, atol=1e-12)
    with pytest.raises(ValueError):
        gan.StackedSequential([gan.make_generator(2, (8,)), gan.make_generator(2, (9,))])
    with pytest.raises(TypeError):
        gan.StackedSequential([nn.Sequential(nn.Linear(2, 2), nn.ReLU())])
    with pytest.raises(ValueError):
        gan.StackedSequential([])


def test_train_gans_runs_are_independent_and_reproducible():
    gs, ds = small_models(["default", "default", "xavier_he"], [0, 0, 1])
    before = [p.clone() for p in gs[0].parameters()]
    h = gan.train_gans(gs, ds, [0, 0, 1], steps=30, batch_size=16, eval_every=10,
                       num_eval_samples=200)
    assert h.generator_loss.shape == h.discriminator_loss.shape == (3, 30)
    np.testing.assert_array_equal(h.eval_steps, [0, 10, 20, 30])
    assert h.modes_covered.shape == h.distance.shape == h.high_quality.shape == (3, 4)
    assert h.final_samples.shape == (3, 200, 2) and np.abs(h.final_samples).max() < 1
    # same seed and same initial weights: the same run, bit for bit
    np.testing.assert_array_equal(h.generator_loss[0], h.generator_loss[1])
    # the user's models are left untouched
    assert all(torch.equal(a, b) for a, b in zip(before, gs[0].parameters(), strict=True))
    # a run trained alone takes the same steps as inside the batch (to float64 rounding)
    alone = gan.train_gans(gs[2:], ds[2:], [1], steps=30, batch_size=16, eval_every=10,
                           num_eval_samples=200)
    np.testing.assert_allclose(alone.generator_loss[0], h.generator_loss[2], rtol=1e-10)
    np.testing.assert_allclose(alone.distance[0], h.distance[2], rtol=1e-9)
    # the recorded distance is sliced_wasserstein against train_gans' target sample
    target = gan.ring_of_gaussians(200, np.random.default_rng(10_000))
    for r in range(3):
        assert abs(h.distance[r, -1] - gan.sliced_wasserstein(
            h.final_samples[r], target, np.random.default_rng(0))) < 1e-12
    # at step 0 both losses of an untrained pair are near the equilibrium values
    assert np.all(np.abs(h.discriminator_loss[:, 0] - 2 * np.log(2)) < 0.3)


def test_train_gans_learns_something():
    """300 steps: every seed's samples end much closer to the ring than they started."""
    gs, ds = [], []
    for seed in (3, 4, 5):
        gen = torch.Generator().manual_seed(seed)
        gs.append(gan.initialize(gan.make_generator(2, (32, 32)), "default", generator=gen))
        ds.append(gan.initialize(gan.make_discriminator(2, (32, 32)), "default", generator=gen))
    h = gan.train_gans(gs, ds, [3, 4, 5], steps=300, eval_every=300, num_eval_samples=500)
    assert np.all(h.distance[:, -1] < 0.5 * h.distance[:, 0])


def test_train_gans_rejects_bad_input():
    gs, ds = small_models(["default", "default"], [0, 1])
    with pytest.raises(ValueError, match="discriminators"):
        gan.train_gans(gs, ds[:1], [0, 1])
    with pytest.raises(ValueError, match="seeds"):
        gan.train_gans(gs, ds, [0])
    with pytest.raises(ValueError):
        gan.train_gans(gs, ds, [0, -1])
    with pytest.raises(ValueError):
        gan.train_gans(gs, ds, [0, 1], steps=0)
    with pytest.raises(ValueError):
        gan.train_gans(gs, ds, [0, 1], betas=(0.5, 1.0))
    with pytest.raises(ValueError):
        gan.train_gans(gs, ds, [0, 1], dtype="float16")
    three_d = [gan.make_generator(2, (8,), data_dim=3)] * 2
    with pytest.raises(ValueError, match="2-D"):
        gan.train_gans(three_d, ds, [0, 1])


# --- the chapter's self-checks ----------------------------------------------------------


def w1_sorted(u, v):
    return float(np.mean(np.abs(np.sort(u) - np.sort(v))))


def test_check_wasserstein_accepts_right_answers(capsys):
    checks.check_wasserstein_1d(w1_sorted)
    checks.check_wasserstein_1d(wasserstein_distance)
    assert capsys.readouterr().out.startswith("Correct")


@pytest.mark.parametrize("wrong, hint", [
    (lambda u, v: float(np.mean(np.abs(np.asarray(u) - np.asarray(v)))), "sort"),
    (lambda u, v: float(np.mean((np.sort(u) - np.sort(v)) ** 2)), "square"),
    (lambda u, v: float(np.mean(np.sort(u) - np.sort(v))), "absolute"),
    (lambda u, v: float(np.sum(np.abs(np.sort(u) - np.sort(v)))), "mean"),
])
def test_check_wasserstein_rejects_wrong_answers(wrong, hint):
    with pytest.raises(AssertionError, match=hint):
        checks.check_wasserstein_1d(wrong)


def test_check_wasserstein_rejects_answers_that_modify_the_input():
    def sorts_in_place(u, v):
        u.sort()
        v.sort()
        return float(np.mean(np.abs(u - v)))

    with pytest.raises(AssertionError, match="input"):
        checks.check_wasserstein_1d(sorts_in_place)
    with pytest.raises(TypeError):
        checks.check_wasserstein_1d(0.5)


def test_check_gan_equilibrium_losses(capsys):
    checks.check_gan_equilibrium_losses(2 * np.log(2), np.log(2))
    assert capsys.readouterr().out.startswith("Correct")
    with pytest.raises(AssertionError, match="two terms"):
        checks.check_gan_equilibrium_losses(np.log(2), np.log(2))
    with pytest.raises(AssertionError, match="generator"):
        checks.check_gan_equilibrium_losses(2 * np.log(2), 2 * np.log(2))
    with pytest.raises(AssertionError, match="generator"):
        checks.check_gan_equilibrium_losses(2 * np.log(2), 0.5)
    with pytest.raises(AssertionError, match="number"):
        checks.check_gan_equilibrium_losses("1.386", np.log(2))
