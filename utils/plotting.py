"""The book's figure style and plotting helpers.

Call :func:`use_book_style` once (the setup cell of each chapter does). Every
activation, initializer, optimizer and framework has one fixed colour,
:data:`COLORS`, used in all chapters. The palette is Okabe & Ito's (2008),
designed to stay distinguishable under the common colour-vision deficiencies,
extended by a few colours from Paul Tol's "muted" scheme; series that share an
axis also differ in line style or marker where it matters.

The helpers take an optional ``ax`` and return the figure, so that panels
compose: ``fig = plot_per_layer(..., ax=axes[0])``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np

from utils._validation import as_float_array, check_positive_int

# Okabe-Ito, in their usual order, then Tol-muted extras.
OKABE_ITO = ["#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00",
             "#CC79A7"]
_EXTRA = {"indigo": "#332288", "olive": "#999933", "wine": "#882255", "teal": "#44AA99",
          "grey": "#888888"}

COLORS: dict[str, str] = {
    # activations
    "sigmoid": "#E69F00",
    "tanh": "#56B4E9",
    "relu": "#0072B2",
    "leaky_relu": "#009E73",
    "prelu": _EXTRA["teal"],
    "elu": "#CC79A7",
    "selu": "#D55E00",
    "gelu": _EXTRA["wine"],
    "gelu_tanh": _EXTRA["olive"],
    "swish": _EXTRA["indigo"],
    "softplus": "#000000",
    "identity": _EXTRA["grey"],
    # initializers
    "zeros": "#000000",
    "small_normal": "#56B4E9",
    "standard_normal": "#D55E00",
    "glorot": "#E69F00",
    "he": "#0072B2",
    "lecun": "#009E73",
    "torch_default": "#CC79A7",
    # optimizers
    "sgd": "#000000",
    "momentum": "#E69F00",
    "nesterov": "#D55E00",
    "adagrad": "#009E73",
    "rmsprop": "#56B4E9",
    "adam": "#0072B2",
    "adamw": "#CC79A7",
    # implementations
    "numpy": "#009E73",
    "pytorch": "#D55E00",
    "keras": "#0072B2",
}
ALIASES = {"xavier": "glorot", "kaiming": "he", "silu": "swish", "linear": "identity",
           "torch": "pytorch", "tensorflow": "keras", "leakyrelu": "leaky_relu"}

#: The second channel: twelve activation colours cannot all stay apart under every
#: colour-vision deficiency, so the activations whose colours merge with another's for
#: some readers (PReLU with leaky ReLU, ELU, tanh and identity; GELU-tanh with sigmoid
#: and SELU; identity with leaky ReLU and ELU) are drawn dashed or dotted; everything
#: else is solid. tests/site/test_site_palette.py checks that every pair of activations
#: closer than its colour threshold differs in line style.
LINESTYLES: dict[str, str] = {"prelu": "--", "gelu_tanh": "--", "identity": ":"}


def color(name: str) -> str:
    """The book's fixed colour for an activation, initializer, optimizer or framework.

    Matching ignores case and a suffix after the first space or "+", so
    ``"ReLU + He"`` gets the colour of ``"relu"``.
    """
    key = _book_key(name)
    if key is None:
        raise ValueError(f"no book colour for {name!r}; known: {', '.join(sorted(COLORS))}")
    return COLORS[key]


def _book_key(name: str) -> str | None:
    """The key of :data:`COLORS` that ``name`` refers to (see :func:`color`), or None."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__}")
    text = name.strip().lower().replace("-", "_")
    head = re.split(r"\s*[+,(]\s*", text)[0].strip()
    for candidate in (head.replace(" ", "_"), head.replace(" ", ""), head.split(" ")[0]):
        key = ALIASES.get(candidate, candidate)
        if key in COLORS:
            return key
    return None


def linestyle(name: str) -> str:
    """The book's line style for a series: dashed or dotted for the activations listed
    in :data:`LINESTYLES`, solid for everything else (names are matched as in :func:`color`)."""
    return LINESTYLES.get(_book_key(name), "-")


def style(name: str) -> dict[str, str]:
    """``color`` and ``linestyle`` keyword arguments for ``ax.plot``: the book's colour
    and line style for ``name``, e.g. ``ax.plot(x, y, **plotting.style("prelu"))``."""
    return {"color": color(name), "linestyle": linestyle(name)}


def _series_color(label: str, index: int, colors: Mapping[str, str] | None) -> str:
    if colors and label in colors:
        return colors[label]
    try:
        return color(label)
    except ValueError:
        return OKABE_ITO[(index + 1) % len(OKABE_ITO)]


def use_book_style() -> None:
    """Set the book's matplotlib style (sizes, fonts, grid, colour cycle, PNG resolution)."""
    import matplotlib as mpl
    from cycler import cycler

    mpl.rcParams.update({
        "figure.figsize": (6.4, 3.6),
        "figure.dpi": 90,
        "savefig.dpi": 90,
        "figure.constrained_layout.use": True,
        "font.size": 10,
        "axes.titlesize": 11,
        "axes.labelsize": 10,
        "legend.fontsize": 9,
        "legend.frameon": False,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "lines.linewidth": 1.8,
        "lines.markersize": 4,
        "axes.prop_cycle": cycler(color=OKABE_ITO[1:] + [OKABE_ITO[0]]),
        "image.cmap": "viridis",
    })


def _axes(ax):
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots()
        return fig, ax
    return ax.figure, ax


def _finish_axes(ax, *, xlabel: str, ylabel: str, title: str | None, logy: bool,
                 logx: bool = False) -> None:
    """Axis scales, labels and title: the same finish for every helper's axes."""
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)


def plot_per_layer(series: Mapping[str, np.ndarray], *, ylabel: str, ax=None,
                   logy: bool = False, title: str | None = None, xlabel: str = "layer",
                   first_layer: int = 1, colors: Mapping[str, str] | None = None):
    """One line per series of per-layer values (layer ``first_layer`` on the left)."""
    if not isinstance(series, Mapping) or not series:
        raise ValueError("series must be a non-empty mapping from label to per-layer values")
    fig, ax = _axes(ax)
    markers = "osD^vP*X"
    for i, (label, values) in enumerate(series.items()):
        values = as_float_array(values, f"series[{label!r}]", ndim=1, allow_nonfinite=True)
        if logy and np.any(values[np.isfinite(values)] <= 0):
            raise ValueError(f"series {label!r} has values <= 0, which a log axis cannot show")
        layers = np.arange(first_layer, first_layer + len(values))
        ax.plot(layers, values, marker=markers[i % len(markers)], label=label,
                color=_series_color(label, i, colors), linestyle=linestyle(label))
    _finish_axes(ax, xlabel=xlabel, ylabel=ylabel, title=title, logy=logy)
    ax.legend()
    return fig


def plot_runs(x, runs: Mapping[str, np.ndarray], *, xlabel: str, ylabel: str, ax=None,
              logy: bool = False, title: str | None = None,
              colors: Mapping[str, str] | None = None):
    """Mean over seeds as a line, the min-max range over seeds shaded.

    ``runs[label]`` has shape (num_seeds, len(x)).
    """
    if not isinstance(runs, Mapping) or not runs:
        raise ValueError("runs must be a non-empty mapping from label to (seeds, points) arrays")
    x = as_float_array(x, "x", ndim=1)
    fig, ax = _axes(ax)
    for i, (label, values) in enumerate(runs.items()):
        values = as_float_array(values, f"runs[{label!r}]", ndim=2)
        if values.shape[1] != len(x):
            raise ValueError(f"runs[{label!r}] has {values.shape[1]} points per seed, "
                             f"x has {len(x)}")
        if logy and np.any(values <= 0):
            raise ValueError(f"runs[{label!r}] has values <= 0, which a log axis cannot show")
        c = _series_color(label, i, colors)
        n = values.shape[0]
        ax.plot(x, values.mean(axis=0), color=c, linestyle=linestyle(label),
                label=f"{label} (mean of {n})")
        ax.fill_between(x, values.min(axis=0), values.max(axis=0), color=c, alpha=0.2,
                        linewidth=0)
    _finish_axes(ax, xlabel=xlabel, ylabel=ylabel, title=title, logy=logy)
    ax.legend()
    return fig


def plot_layer_histograms(layers, *, bins: int = 40, value_range: tuple[float, float] | None = None,
                          xlabel: str = "activation value", ylabel: str = "fraction of values",
                          logy: bool = False, ncols: int | None = None, first_layer: int = 1,
                          colors: Mapping[str, str] | None = None, color: str | None = None,
                          show_stats: bool = True, title: str | None = None):
    """A grid of histograms, one panel per layer (e.g. activations or gradients).

    ``layers`` is either a sequence of arrays, one per layer (each array's values are pooled),
    drawn as a grid with ``ncols`` columns (default: up to 5); or a mapping from a label to
    such a sequence, drawn with one row per label and one column per layer, so that rows
    compare conditions (e.g. ``{"tanh + Glorot": [...], "ReLU + He": [...]}``).

    Bar heights are the fraction of the layer's values in each bin (they sum to 1 per
    panel), so layers stay comparable even when their values pile up in a single bin.
    ``value_range=(low, high)`` fixes the bins of every panel, and values outside it are
    counted in the edge bins; without it each row uses the range of its own values (from
    the 0.1 % to the 99.9 % quantile of each layer, so that a few outliers do not squeeze
    the histograms into one bin; the outliers land in the edge bins). With
    ``show_stats`` every panel prints the mean and standard deviation of its values.
    Colours: ``color`` for a single series; with rows, ``colors[label]`` or the book colour
    of the label (see :func:`color`). Returns the figure.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    if isinstance(layers, Mapping):
        if not layers:
            raise ValueError("layers must not be empty")
        rows = {str(k): list(v) for k, v in layers.items()}
    elif isinstance(layers, (list, tuple)):
        rows = {"": list(layers)}
    else:
        raise TypeError("layers must be a sequence of arrays (one per layer) or a mapping from "
                        f"label to such a sequence, got {type(layers).__name__}")
    bins = check_positive_int(bins, "bins")
    counts = {label: len(v) for label, v in rows.items()}
    if min(counts.values()) == 0:
        raise ValueError(f"every row needs at least one layer, got {counts}")
    if len(set(counts.values())) != 1:
        raise ValueError(f"every row needs the same number of layers, got {counts}")
    if value_range is not None:
        if len(value_range) != 2 or not value_range[0] < value_range[1]:
            raise ValueError(f"value_range must be (low, high) with low < high, got {value_range}")
        value_range = (float(value_range[0]), float(value_range[1]))
    data = {label: [as_float_array(a, f"layers[{label!r}][{i}]").ravel() for i, a in enumerate(v)]
            for label, v in rows.items()}
    num_layers = next(iter(counts.values()))
    if len(rows) == 1:
        ncols = min(5, num_layers) if ncols is None else check_positive_int(ncols, "ncols")
        nrows = -(-num_layers // ncols)
        positions = [divmod(i, ncols) for i in range(num_layers)]
    else:
        if ncols is not None:
            raise ValueError("ncols applies to a single series; with several rows there is "
                             "one column per layer")
        nrows, ncols = len(rows), num_layers
        positions = None
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.5 * ncols + 0.6, 1.45 * nrows + 0.6),
                             squeeze=False, sharey="row")
    for r, (label, arrays) in enumerate(data.items()):
        c = _series_color(label, r, colors) if label else (color or OKABE_ITO[5])
        if value_range is not None:
            low, high = value_range
        else:  # the row's range, ignoring the most extreme 0.1 % on each side of a layer
            low = min(float(np.quantile(a, 0.001)) for a in arrays)
            high = max(float(np.quantile(a, 0.999)) for a in arrays)
            if low == high:
                low, high = low - 0.5, high + 0.5
        edges = np.linspace(low, high, bins + 1)
        for i, values in enumerate(arrays):
            row, col = positions[i] if positions else (r, i)
            ax = axes[row, col]
            hist, _ = np.histogram(np.clip(values, low, high), bins=edges)
            ax.stairs(hist / max(len(values), 1), edges, fill=True, color=c, alpha=0.85)
            ax.set_xlim(low, high)
            if logy:
                ax.set_yscale("log")
            heading = f"layer {first_layer + i}"
            if show_stats:
                heading += f"\nmean {values.mean():.1g}, std {values.std():.2g}"
            ax.set_title(heading, fontsize=8)
            ax.tick_params(labelsize=7)
            ax.xaxis.set_major_locator(MaxNLocator(2))
            if not logy:
                ax.yaxis.set_major_locator(MaxNLocator(3))
            if col == 0 and label:
                ax.set_ylabel(label, fontsize=9)
    if positions:
        for i in range(num_layers, nrows * ncols):
            axes[divmod(i, ncols)].set_visible(False)
    fig.supxlabel(xlabel, fontsize=9)
    fig.supylabel(ylabel, fontsize=9)
    if title:
        fig.suptitle(title)
    return fig


def plot_sweep(x, runs: Mapping[str, np.ndarray], *, xlabel: str, ylabel: str, ax=None,
               logx: bool = True, logy: bool = False, title: str | None = None,
               colors: Mapping[str, str] | None = None):
    """A hyperparameter sweep: the mean over seeds at each setting, the min-max range shaded.

    ``runs[label]`` has shape (num_seeds, len(x)) and may contain NaN for runs that
    diverged. A setting where any seed diverged is left out of the line and marked with
    an "x" along the top edge of the axes, so a missing point is never mistaken for a
    good one.
    """
    if not isinstance(runs, Mapping) or not runs:
        raise ValueError("runs must be a non-empty mapping from label to (seeds, points) arrays")
    x = as_float_array(x, "x", ndim=1)
    if logx and np.any(x <= 0):
        raise ValueError("x must be positive on a logarithmic axis (logx=True), got values "
                         f"down to {x.min():.3g}")
    fig, ax = _axes(ax)
    any_diverged = False
    for i, (label, values) in enumerate(runs.items()):
        values = as_float_array(values, f"runs[{label!r}]", ndim=2, allow_nonfinite=True)
        if values.shape[1] != len(x):
            raise ValueError(f"runs[{label!r}] has {values.shape[1]} points per seed, "
                             f"x has {len(x)}")
        c = _series_color(label, i, colors)
        ok = np.isfinite(values).all(axis=0)
        n = values.shape[0]
        kept = values[:, ok]
        ax.plot(x[ok], kept.mean(axis=0), marker="o", color=c, linestyle=linestyle(label),
                label=f"{label} (mean of {n})")
        ax.fill_between(x[ok], kept.min(axis=0), kept.max(axis=0), color=c, alpha=0.2,
                        linewidth=0)
        if not ok.all():
            any_diverged = True
            ax.plot(x[~ok], np.full((~ok).sum(), 0.97 - 0.03 * i), linestyle="none", marker="x",
                    color=c, transform=ax.get_xaxis_transform(), clip_on=False)
    _finish_axes(ax, xlabel=xlabel, ylabel=ylabel, title=title, logy=logy, logx=logx)
    if any_diverged:
        ax.plot([], [], linestyle="none", marker="x", color="0.3", label="diverged (any seed)")
    ax.legend()
    return fig
