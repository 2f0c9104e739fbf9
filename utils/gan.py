"""A small GAN on a 2-D mixture of Gaussians, and the measures that judge its samples.

The data is the classic toy problem for generative adversarial networks
(Goodfellow et al., 2014): ``num_modes`` Gaussian blobs of standard deviation ``std``
spaced evenly on a circle. It is small enough to train many GANs in seconds on a CPU,
and, unlike images, its samples can be scored exactly:

* :func:`mode_coverage` counts how many blobs the generator reaches. A sample is
  *high quality* if it lies within ``num_std`` standard deviations of the centre of its
  nearest blob; a blob is *covered* if it receives at least ``min_share`` of its fair
  share (``n / num_modes``) of the high-quality samples. With the defaults (3 std, a
  quarter of the fair share) a generator that drops a mode, or leaves only a trickle of
  samples on it, is not credited with it.
* :func:`sliced_wasserstein` is a distance between two sample sets: the average, over
  random directions, of the 1-D Wasserstein-1 distance between the projections
  (:func:`wasserstein_1d`, which equals ``scipy.stats.wasserstein_distance``). It is 0
  for identical sets and grows with a shift by the shift's size, so it also sees a
  generator that covers every mode but smears them out.

The NumPy parts need no framework. The networks are PyTorch ``nn.Sequential`` MLPs with
LeakyReLU hidden layers (:func:`make_generator`, :func:`make_discriminator`), initialised
by :func:`initialize` either as PyTorch leaves them (``"default"``) or as source note
004 did (``"xavier_he"``: He for layers followed by LeakyReLU, Xavier for layers followed
by tanh or the sigmoid of the loss). :func:`train_gans` trains many of them at once:
their weights are stacked along a leading *run* axis (:class:`StackedSequential`) so
that one batched matrix product serves every run, and runs never interact.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from utils._validation import (
    as_float_array,
    check_fraction,
    check_positive_float,
    check_positive_int,
    check_rng,
)
from utils.frameworks import import_torch

SCHEMES = ("default", "xavier_he")

# --- data ------------------------------------------------------------------------------


def ring_centers(num_modes: int = 8, radius: float = 0.8) -> np.ndarray:
    """The ``num_modes`` centres, evenly spaced on a circle of ``radius``, shape (num_modes, 2).

    The first centre is at angle 0, i.e. at (radius, 0).
    """
    num_modes = check_positive_int(num_modes, "num_modes")
    radius = check_positive_float(radius, "radius")
    angles = 2 * np.pi * np.arange(num_modes) / num_modes
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def ring_of_gaussians(n: int, rng: np.random.Generator, *, num_modes: int = 8,
                      radius: float = 0.8, std: float = 0.02) -> np.ndarray:
    """``n`` samples from an equal mixture of isotropic Gaussians on a ring, shape (n, 2).

    Each sample picks one of :func:`ring_centers` uniformly at random and adds
    N(0, std^2) noise to each coordinate. The default radius 0.8 keeps the data inside
    (-1, 1), the range of the generator's tanh output.
    """
    n = check_positive_int(n, "n")
    rng = check_rng(rng)
    std = check_positive_float(std, "std")
    centers = ring_centers(num_modes, radius)
    which = rng.integers(num_modes, size=n)
    return centers[which] + std * rng.standard_normal((n, 2))


# --- quality measures -------------------------------------------------------------------


@dataclass(frozen=True)
class ModeCoverage:
    """Result of :func:`mode_coverage`."""

    modes_covered: int          # blobs with at least min_share of their fair share
    counts: np.ndarray          # high-quality samples per blob, shape (num_modes,)
    high_quality_fraction: float  # share of all samples within num_std std of a centre


def mode_coverage(samples, centers, std: float, *, num_std: float = 3.0,
                  min_share: float = 0.25) -> ModeCoverage:
    """How many of the mixture's modes a sample set reaches (criterion in the module doc).

    ``samples`` has shape (n, d), ``centers`` (num_modes, d). A sample counts for the
    nearest centre if its distance to it is at most ``num_std * std``; a mode is covered
    if its count is at least ``min_share * n / num_modes``.
    """
    samples = as_float_array(samples, "samples", ndim=2)
    centers = as_float_array(centers, "centers", ndim=2)
    if samples.shape[0] == 0:
        raise ValueError("samples is empty")
    if centers.shape[0] == 0:
        raise ValueError("centers is empty")
    if samples.shape[1] != centers.shape[1]:
        raise ValueError(f"samples have {samples.shape[1]} coordinates, centers "
                         f"{centers.shape[1]}")
    std = check_positive_float(std, "std")
    num_std = check_positive_float(num_std, "num_std")
    min_share = check_positive_float(min_share, "min_share")
    dist = np.linalg.norm(samples[:, None, :] - centers[None, :, :], axis=2)
    nearest = dist.argmin(axis=1)
    close = dist[np.arange(len(samples)), nearest] <= num_std * std
    counts = np.bincount(nearest[close], minlength=len(centers))
    fair_share = len(samples) / len(centers)
    return ModeCoverage(modes_covered=int(np.sum(counts >= min_share * fair_share)),
                        counts=counts, high_quality_fraction=float(close.mean()))


def wasserstein_1d(u, v) -> float:
    """Wasserstein-1 distance between two 1-D samples (equal weights), exactly.

    W1 is the area between the two empirical CDFs, the integral of |F_u(t) - F_v(t)|:
    between consecutive points of the pooled, sorted sample both CDFs are constant, so
    the integral is a finite sum. Same definition as ``scipy.stats.wasserstein_distance``.
    For two samples of equal size it is simply ``mean(|sort(u) - sort(v)|)``: the best
    way to move one sample onto the other pairs the k-th smallest values.
    """
    u = as_float_array(u, "u", ndim=1)
    v = as_float_array(v, "v", ndim=1)
    if u.size == 0 or v.size == 0:
        raise ValueError("u and v must each hold at least one value")
    u, v = np.sort(u), np.sort(v)
    pooled = np.sort(np.concatenate([u, v]))
    widths = np.diff(pooled)
    cdf_u = np.searchsorted(u, pooled[:-1], side="right") / u.size
    cdf_v = np.searchsorted(v, pooled[:-1], side="right") / v.size
    return float(np.sum(np.abs(cdf_u - cdf_v) * widths))


def random_directions(num_projections: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    """``num_projections`` unit vectors drawn uniformly on the sphere in ``dim`` dimensions."""
    num_projections = check_positive_int(num_projections, "num_projections")
    dim = check_positive_int(dim, "dim")
    rng = check_rng(rng)
    d = rng.standard_normal((num_projections, dim))
    return d / np.linalg.norm(d, axis=1, keepdims=True)


def sliced_wasserstein(a, b, rng: np.random.Generator, *, num_projections: int = 64) -> float:
    """Sliced Wasserstein-1 distance between sample sets ``a`` (n, d) and ``b`` (m, d).

    The mean over ``num_projections`` random unit directions theta of
    W1(a theta, b theta) (:func:`wasserstein_1d`). Pass the same seeded ``rng`` to compare
    several sample sets along the same directions. In one dimension every direction is
    +1 or -1, so the result is exactly W1. A shift of every point of ``a`` by a vector
    ``s`` adds about ``|s| * E|cos angle|`` (``2|s|/pi`` in 2-D) when ``|s|`` is large.
    """
    a = as_float_array(a, "a", ndim=2)
    b = as_float_array(b, "b", ndim=2)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"a has {a.shape[1]} coordinates, b has {b.shape[1]}")
    if a.shape[0] == 0 or b.shape[0] == 0:
        raise ValueError("a and b must each hold at least one sample")
    directions = random_directions(num_projections, a.shape[1], rng)
    pa, pb = a @ directions.T, b @ directions.T
    if len(a) == len(b):
        # equal sizes: the optimal 1-D matching pairs the k-th smallest values
        return float(np.mean(np.abs(np.sort(pa, axis=0) - np.sort(pb, axis=0))))
    return float(np.mean([wasserstein_1d(pa[:, k], pb[:, k]) for k in range(len(directions))]))


def moving_average(values, window: int) -> np.ndarray:
    """Trailing mean over ``window`` steps along the last axis (for noisy per-step losses).

    Entry ``t`` is the mean of ``values[..., t - window + 1 : t + 1]``; the first
    ``window - 1`` entries, which lack a full window, average what there is.
    """
    values = as_float_array(values, "values")
    window = check_positive_int(window, "window")
    if values.ndim == 0 or values.shape[-1] == 0:
        raise ValueError("values must have at least one step along the last axis")
    csum = np.cumsum(values, axis=-1)
    out = csum.copy()
    out[..., window:] = csum[..., window:] - csum[..., :-window]
    counts = np.minimum(np.arange(1, values.shape[-1] + 1), window)
    return out / counts


# --- networks ---------------------------------------------------------------------------


def _mlp(sizes: Sequence[int], slope: float, last):
    nn = import_torch().nn
    sizes = [check_positive_int(s, "layer size") for s in sizes]
    if len(sizes) < 2:
        raise ValueError(f"sizes needs at least an input and an output size, got {sizes}")
    slope = check_positive_float(slope, "slope", allow_zero=True)
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(fan_in, fan_out))
        if i < len(sizes) - 2:
            layers.append(nn.LeakyReLU(slope))
    if last is not None:
        layers.append(last)
    return nn.Sequential(*layers)


def make_generator(latent_dim: int = 2, hidden: Sequence[int] = (64, 64), data_dim: int = 2,
                   *, slope: float = 0.2):
    """Generator MLP: Linear + LeakyReLU(slope) per hidden layer, then Linear + Tanh."""
    return _mlp([latent_dim, *hidden, data_dim], slope, import_torch().nn.Tanh())


def make_discriminator(data_dim: int = 2, hidden: Sequence[int] = (64, 64), *,
                       slope: float = 0.2):
    """Discriminator MLP: Linear + LeakyReLU(slope) per hidden layer, then Linear to one logit.

    The sigmoid that turns the logit into a probability is part of the loss
    (``binary_cross_entropy_with_logits``), which is numerically safer than ``nn.Sigmoid``.
    """
    return _mlp([data_dim, *hidden, 1], slope, None)


BIASES = ("scheme", "default", "zero")


def initialize(model, scheme: str, *, generator=None, biases: str = "scheme"):
    """Initialise every ``nn.Linear`` of a ``nn.Sequential`` in place; return the model.

    ``"default"``: what ``nn.Linear`` does when it is created, redrawn here
    (``reset_parameters``: weights U(+-1/sqrt(fan_in)), from ``kaiming_uniform_`` with
    a = sqrt(5), and biases U(+-1/sqrt(fan_in))). ``"xavier_he"``: source note 004's scheme
    with zero biases: a Linear followed by LeakyReLU gets He/Kaiming normal weights,
    written as in the note, ``kaiming_normal_(w, a=0, mode="fan_in",
    nonlinearity="leaky_relu")``, i.e. N(0, 2/fan_in); a Linear followed by Tanh, or by
    nothing (the sigmoid in the loss), gets Xavier/Glorot normal weights,
    N(0, 2/(fan_in + fan_out)).

    ``generator``: an optional ``torch.Generator`` that the draws use (else the global one).

    ``biases``: ``"scheme"`` (the scheme's own: drawn for ``"default"``, zero for
    ``"xavier_he"``), ``"default"`` (drawn from U(+-1/sqrt(fan_in)), as ``nn.Linear``
    does, right after each layer's weights) or ``"zero"``. It separates the two things
    the note's scheme changes at once, the weights' scale and the biases.
    """
    torch = import_torch()
    nn = torch.nn
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"model must be a torch.nn.Sequential, got {type(model).__name__}")
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
    if biases not in BIASES:
        raise ValueError(f"biases must be one of {BIASES}, got {biases!r}")
    if biases == "scheme":
        biases = "default" if scheme == "default" else "zero"
    modules = list(model)
    linears = [i for i, m in enumerate(modules) if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError("model has no nn.Linear layer to initialise")
    with torch.no_grad():
        for i in linears:
            layer = modules[i]
            w, b = layer.weight, layer.bias
            fan_in = w.shape[1]
            following = modules[i + 1] if i + 1 < len(modules) else None
            if scheme == "default":
                nn.init.kaiming_uniform_(w, a=np.sqrt(5.0), generator=generator)
            elif isinstance(following, nn.LeakyReLU):
                nn.init.kaiming_normal_(w, a=0, mode="fan_in", nonlinearity="leaky_relu",
                                        generator=generator)
            elif following is None or isinstance(following, (nn.Tanh, nn.Sigmoid)):
                nn.init.xavier_normal_(w, generator=generator)
            else:
                raise ValueError(f"no xavier_he rule for a Linear followed by "
                                 f"{type(following).__name__}")
            if b is None:
                continue
            if biases == "default":
                bound = 1.0 / np.sqrt(fan_in)
                nn.init.uniform_(b, -bound, bound, generator=generator)
            else:
                nn.init.zeros_(b)
    return model


def init_std(fan_in: int, fan_out: int, scheme: str, following: str) -> float:
    """The weight standard deviation that :func:`initialize` aims for.

    ``following`` is ``"leaky_relu"``, ``"tanh"`` or ``"sigmoid"``: the nonlinearity after
    the layer. Default: 1/sqrt(3 fan_in) (the std of U(+-1/sqrt(fan_in))) whatever follows;
    xavier_he: sqrt(2/fan_in) before LeakyReLU, sqrt(2/(fan_in + fan_out)) otherwise.
    """
    fan_in = check_positive_int(fan_in, "fan_in")
    fan_out = check_positive_int(fan_out, "fan_out")
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
    if following not in ("leaky_relu", "tanh", "sigmoid"):
        raise ValueError(f'following must be "leaky_relu", "tanh" or "sigmoid", got {following!r}')
    if scheme == "default":
        return float(1.0 / np.sqrt(3.0 * fan_in))
    if following == "leaky_relu":
        return float(np.sqrt(2.0 / fan_in))
    return float(np.sqrt(2.0 / (fan_in + fan_out)))


class StackedSequential:
    """Several same-shaped ``nn.Sequential`` MLPs evaluated as one batched computation.

    Built from a list of models (Linear, LeakyReLU and Tanh layers), it holds each
    Linear's weights stacked as a tensor of shape (runs, fan_out, fan_in) and biases of
    shape (runs, 1, fan_out), copies of the models' initial values. ``forward(x)`` takes
    ``x`` of shape (runs, batch, fan_in): run ``r`` sees only ``x[r]`` and its own weights,
    so it computes exactly what ``models[r](x[r])`` computes.
    """

    def __init__(self, models, dtype=None):
        torch = import_torch()
        nn = torch.nn
        models = list(models)
        if not models:
            raise ValueError("pass at least one model")
        self.layers = []   # ("linear", index into params) or ("leaky_relu", slope) / ("tanh",)
        self.params = []
        template = list(models[0])
        for model in models:
            if [type(m) for m in model] != [type(m) for m in template] or any(
                    isinstance(m, nn.Linear) and m.weight.shape != t.weight.shape
                    for m, t in zip(model, template, strict=True)):
                raise ValueError("all models must have the same layers and shapes")
        for i, module in enumerate(template):
            if isinstance(module, nn.Linear):
                w = torch.stack([m[i].weight.detach() for m in models]).to(dtype).clone()
                b = torch.stack([m[i].bias.detach() for m in models])[:, None, :].to(dtype).clone()
                self.layers.append(("linear", len(self.params)))
                self.params += [w.requires_grad_(), b.requires_grad_()]
            elif isinstance(module, nn.LeakyReLU):
                self.layers.append(("leaky_relu", module.negative_slope))
            elif isinstance(module, nn.Tanh):
                self.layers.append(("tanh", None))
            else:
                raise TypeError(f"StackedSequential supports Linear, LeakyReLU and Tanh, got "
                                f"{type(module).__name__}")
        self.num_runs = len(models)

    def parameters(self):
        return list(self.params)

    def forward(self, x):
        torch = import_torch()
        for kind, arg in self.layers:
            if kind == "linear":
                w, b = self.params[arg], self.params[arg + 1]
                x = torch.baddbmm(b, x, w.transpose(1, 2))
            elif kind == "leaky_relu":
                x = torch.nn.functional.leaky_relu(x, arg)
            else:
                x = torch.tanh(x)
        return x

    __call__ = forward


# --- training ---------------------------------------------------------------------------


@dataclass
class GANHistory:
    """Per-run records of :func:`train_gans`; arrays have the run on the first axis."""

    generator_loss: np.ndarray      # (runs, steps)
    discriminator_loss: np.ndarray  # (runs, steps)
    eval_steps: np.ndarray          # (evals,) steps after which samples were scored (0 = start)
    modes_covered: np.ndarray       # (runs, evals)
    high_quality: np.ndarray        # (runs, evals) fraction of samples within num_std std
    distance: np.ndarray            # (runs, evals) sliced Wasserstein to a target sample
    final_samples: np.ndarray       # (runs, num_eval_samples, 2)


def _check_seeds(seeds, num_runs: int) -> list[int]:
    if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__"):
        raise TypeError(f"seeds must be a list of non-negative integers, one per run, got "
                        f"{type(seeds).__name__}")
    seeds = list(seeds)
    if len(seeds) != num_runs:
        raise ValueError(f"got {len(seeds)} seeds for {num_runs} runs")
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, numbers.Integral):
            raise TypeError(f"seeds must be non-negative integers, got {s!r}")
        if s < 0:
            raise ValueError(f"seeds must be non-negative integers, got {s!r}")
    return [int(s) for s in seeds]


def _check_models(models, name: str) -> list:
    """``models`` as a list of ``nn.Sequential`` MLPs that start with an ``nn.Linear`` and
    hold only finite weights (NaN weights would make every loss NaN without an error)."""
    torch = import_torch()
    if isinstance(models, torch.nn.Module) or not hasattr(models, "__iter__"):
        raise TypeError(f"{name} must be a list of torch.nn.Sequential models, one per run, "
                        f"got {type(models).__name__}")
    models = list(models)
    for r, model in enumerate(models):
        if not isinstance(model, torch.nn.Sequential):
            raise TypeError(f"{name}[{r}] must be a torch.nn.Sequential, got "
                            f"{type(model).__name__}")
        if not len(model) or not isinstance(model[0], torch.nn.Linear):
            raise ValueError(f"{name}[{r}] must start with an nn.Linear layer")
        with torch.no_grad():
            bad = sum(int((~torch.isfinite(p)).sum()) for p in model.parameters())
        if bad:
            raise ValueError(f"{name}[{r}] has {bad} NaN or infinite weight(s)")
    return models


def _check_betas(betas) -> tuple[float, float]:
    """Adam's (beta1, beta2): two numbers in [0, 1)."""
    if isinstance(betas, (str, bytes)) or not hasattr(betas, "__len__"):
        raise TypeError(f"betas must be a pair of numbers in [0, 1), got {betas!r}")
    if len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {len(betas)} values")
    return (check_fraction(betas[0], "betas[0]"), check_fraction(betas[1], "betas[1]"))


def train_gans(generators, discriminators, seeds, *, steps: int = 2000, batch_size: int = 64,
               lr: float = 1e-3, betas: tuple[float, float] = (0.5, 0.999),
               eval_every: int = 100, num_eval_samples: int = 1000, num_modes: int = 8,
               radius: float = 0.8, std: float = 0.02, dtype: str = "float64") -> GANHistory:
    """Train ``generators[r]`` against ``discriminators[r]`` for every run ``r``, all at once.

    The standard GAN game of Goodfellow et al. (2014) with the non-saturating generator
    loss, one discriminator step then one generator step per iteration, Adam for both
    (lr=1e-3 and the DCGAN momentum betas=(0.5, 0.999) by default):

    * discriminator loss ``-log D(x) - log(1 - D(G(z)))`` (its minimum is 0; at the
      game's equilibrium, D = 1/2 everywhere, it is 2 ln 2 = 1.386);
    * generator loss ``-log D(G(z))`` (ln 2 = 0.693 at the equilibrium).

    Run ``r`` draws its real batches (:func:`ring_of_gaussians`) and its latent noise
    N(0, I) from ``np.random.default_rng(seeds[r])``, so runs that share a seed see
    exactly the same data and noise and differ only in their initial weights. The models
    themselves are not modified (their weights are copied into a
    :class:`StackedSequential`). Every ``eval_every`` steps, and before the first,
    ``num_eval_samples`` samples from fixed noise are scored against a fixed target sample
    of the same size: :func:`mode_coverage` and :func:`sliced_wasserstein` (64 fixed
    directions).

    ``dtype``: the runs are computed in float64 by default. A GAN's training is chaotic:
    a relative change of 1e-9 in the initial weights visibly changes where a run ends
    after 2,000 steps, so float32 rounding (1e-7) would make results depend on the CPU
    and library build; float64 rounding (1e-16) stays far below that.
    """
    torch = import_torch()
    functional = torch.nn.functional
    generators = _check_models(generators, "generators")
    discriminators = _check_models(discriminators, "discriminators")
    if len(generators) != len(discriminators):
        raise ValueError(f"{len(generators)} generators but {len(discriminators)} discriminators")
    if not generators:
        raise ValueError("pass at least one generator and one discriminator (one per run)")
    seeds = _check_seeds(seeds, len(generators))
    steps = check_positive_int(steps, "steps")
    batch_size = check_positive_int(batch_size, "batch_size")
    lr = check_positive_float(lr, "lr")
    eval_every = check_positive_int(eval_every, "eval_every")
    num_eval_samples = check_positive_int(num_eval_samples, "num_eval_samples")
    betas = _check_betas(betas)
    latent_dim = generators[0][0].in_features
    data_dim = discriminators[0][0].in_features
    output_dim = [m for m in generators[0] if isinstance(m, torch.nn.Linear)][-1].out_features
    if data_dim != 2 or output_dim != 2:
        raise ValueError("the ring data is 2-D: generators must output 2 and discriminators "
                         "take 2 coordinates")

    if dtype not in ("float32", "float64"):
        raise ValueError(f'dtype must be "float32" or "float64", got {dtype!r}')
    tdtype = getattr(torch, dtype)
    G = StackedSequential(generators, dtype=tdtype)
    D = StackedSequential(discriminators, dtype=tdtype)
    opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=betas, foreach=True)
    opt_d = torch.optim.Adam(D.parameters(), lr=lr, betas=betas, foreach=True)
    runs = len(seeds)
    unique_seeds = sorted(set(seeds))
    rngs = [np.random.default_rng(s) for s in unique_seeds]
    run_of_seed = [unique_seeds.index(s) for s in seeds]  # runs sharing a seed share draws
    centers = ring_centers(num_modes, radius)
    target = ring_of_gaussians(num_eval_samples, np.random.default_rng(10_000), num_modes=num_modes,
                               radius=radius, std=std)
    eval_noise = torch.from_numpy(np.stack([
        np.random.default_rng([s, 1]).standard_normal((num_eval_samples, latent_dim))
        for s in seeds])).to(tdtype)
    # sliced_wasserstein(fake, target, np.random.default_rng(0)), with the target's sorted
    # projections computed once instead of at every evaluation of every run
    directions = random_directions(64, 2, np.random.default_rng(0))
    target_sorted = np.sort(target @ directions.T, axis=0)
    ones = torch.ones(runs, batch_size, 1, dtype=tdtype)
    zeros = torch.zeros(runs, batch_size, 1, dtype=tdtype)

    def draw():
        real = np.stack([ring_of_gaussians(batch_size, r, num_modes=num_modes, radius=radius,
                                           std=std) for r in rngs])
        noise = np.stack([r.standard_normal((batch_size, latent_dim)) for r in rngs])
        return (torch.from_numpy(real[run_of_seed]).to(tdtype),
                torch.from_numpy(noise[run_of_seed]).to(tdtype))

    def per_run_bce(logits, target_labels):
        # mean over the batch, one value per run; summed over runs for backward
        return functional.binary_cross_entropy_with_logits(
            logits, target_labels, reduction="none").mean(dim=(1, 2))

    g_losses = np.empty((runs, steps))
    d_losses = np.empty((runs, steps))
    eval_steps, modes, quality, dist = [], [], [], []

    def evaluate(step):
        with torch.no_grad():
            fake = G(eval_noise).numpy().astype(np.float64)
        eval_steps.append(step)
        cover = [mode_coverage(f, centers, std) for f in fake]
        modes.append([c.modes_covered for c in cover])
        quality.append([c.high_quality_fraction for c in cover])
        dist.append([float(np.mean(np.abs(np.sort(f @ directions.T, axis=0) - target_sorted)))
                     for f in fake])
        return fake

    fake_eval = evaluate(0)
    for step in range(steps):
        real, noise = draw()
        # discriminator step: real -> 1, fake -> 0 (the fake batch is detached from G)
        fake = G(noise)
        logits = D(torch.cat([real, fake.detach()], dim=1))  # one pass over both halves
        d_loss = per_run_bce(logits[:, :batch_size], ones) + per_run_bce(logits[:, batch_size:],
                                                                          zeros)
        opt_d.zero_grad()
        d_loss.sum().backward()
        opt_d.step()
        # generator step: make the updated discriminator call the fakes real
        for p in D.params:  # D is fixed here: no gradients for its weights
            p.requires_grad_(False)
        g_loss = per_run_bce(D(fake), ones)
        opt_g.zero_grad()
        g_loss.sum().backward()
        opt_g.step()
        for p in D.params:
            p.requires_grad_(True)
        d_losses[:, step] = d_loss.detach().numpy()
        g_losses[:, step] = g_loss.detach().numpy()
        if (step + 1) % eval_every == 0 or step + 1 == steps:
            fake_eval = evaluate(step + 1)
    return GANHistory(generator_loss=g_losses, discriminator_loss=d_losses,
                      eval_steps=np.array(eval_steps), modes_covered=np.array(modes).T,
                      high_quality=np.array(quality).T, distance=np.array(dist).T,
                      final_samples=fake_eval)
