"""utils.plotting: the fixed colours and the two plotting helpers (Agg backend)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from utils import plotting  # noqa: E402
from utils.activations import ACTIVATIONS  # noqa: E402
from utils.plotting import ALIASES, COLORS, color, plot_per_layer, plot_runs  # noqa: E402

# Which series share a figure, so must never share a colour. Every key of COLORS
# must be in exactly one group (checked below), so a new name forces a decision.
GROUPS = {
    "activations": {"sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu", "selu", "gelu",
                    "gelu_tanh", "swish", "softplus", "identity"},
    "initializers": {"zeros", "small_normal", "standard_normal", "glorot", "he", "lecun",
                     "torch_default"},
    "optimizers": {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"},
    "implementations": {"numpy", "pytorch", "keras"},
}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_groups_cover_every_colour_exactly_once():
    names = [n for group in GROUPS.values() for n in group]
    assert sorted(names) == sorted(COLORS)
    # every activation the NumPy code implements has a colour
    assert set(ACTIVATIONS) <= GROUPS["activations"]


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_no_two_series_of_a_kind_share_a_colour(group):
    colours = {name: to_hex(COLORS[name]).lower() for name in GROUPS[group]}
    assert len(set(colours.values())) == len(colours), colours


@pytest.mark.parametrize("name", sorted(COLORS))
def test_color_maps_every_name_and_is_case_insensitive(name):
    assert color(name) == COLORS[name]
    assert color(name.upper()) == COLORS[name]
    assert color(f"  {name}  ") == COLORS[name]
    to_hex(color(name))  # a colour matplotlib understands


@pytest.mark.parametrize("label, target", [
    ("xavier", "glorot"), ("Xavier", "glorot"), ("Kaiming", "he"), ("kaiming", "he"),
    ("ReLU + He", "relu"), ("relu+he", "relu"), ("tanh (Glorot)", "tanh"),
    ("leaky-relu", "leaky_relu"), ("LeakyReLU", "leaky_relu"), ("SiLU", "swish"),
    ("linear", "identity"), ("torch", "pytorch"), ("TensorFlow", "keras"),
])
def test_color_aliases_and_suffixes(label, target):
    assert color(label) == COLORS[target]


def test_every_alias_points_to_a_colour():
    for alias, target in ALIASES.items():
        assert target in COLORS, alias
        assert alias not in COLORS, f"{alias} is both an alias and a name"


def test_unknown_colour_name():
    with pytest.raises(ValueError, match="no book colour for 'mish'") as info:
        color("mish")
    assert "relu" in str(info.value)  # the known names are listed
    with pytest.raises(TypeError, match="string"):
        color(None)


def test_use_book_style_changes_rcparams():
    with matplotlib.rc_context():  # restored afterwards: other tests see the defaults
        matplotlib.rcdefaults()
        before = dict(matplotlib.rcParams)
        plotting.use_book_style()
        after = matplotlib.rcParams
        changed = {k for k in before if before[k] != after[k]}
        assert {"figure.figsize", "axes.grid", "axes.spines.top",
                "axes.prop_cycle"} <= changed
        assert after["axes.grid"] is True
        assert after["axes.spines.right"] is False
        cycle = [to_hex(c["color"]).lower() for c in after["axes.prop_cycle"]]
        assert sorted(cycle) == sorted(c.lower() for c in plotting.OKABE_ITO)
        assert after["figure.dpi"] == after["savefig.dpi"]


def _legend_labels(ax):
    legend = ax.get_legend()
    assert legend is not None
    return [t.get_text() for t in legend.get_texts()]


def test_plot_per_layer_figure():
    series = {"sigmoid": [1.0, 0.5, 0.25], "ReLU + He": np.array([1.0, 1.1, 0.9, 1.0])}
    fig = plot_per_layer(series, ylabel="gradient norm", logy=True, title="t", first_layer=2)
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert ax.get_xlabel() == "layer" and ax.get_ylabel() == "gradient norm"
    assert ax.get_title() == "t" and ax.get_yscale() == "log"
    assert _legend_labels(ax) == list(series)
    lines = ax.get_lines()
    np.testing.assert_array_equal(lines[0].get_xdata(), [2, 3, 4])  # starts at first_layer
    np.testing.assert_array_equal(lines[1].get_ydata(), series["ReLU + He"])
    # each series in its book colour
    assert [to_hex(line.get_color()) for line in lines] == [
        to_hex(color("sigmoid")), to_hex(color("relu"))]


def test_plot_per_layer_onto_given_axes_and_colour_override():
    fig, axes = plt.subplots(1, 2)
    out = plot_per_layer({"my run": [1.0, 2.0]}, ylabel="y", ax=axes[1],
                         colors={"my run": "#123456"})
    assert out is fig
    assert not axes[0].get_lines() and len(axes[1].get_lines()) == 1
    assert to_hex(axes[1].get_lines()[0].get_color()) == "#123456"


def test_plot_per_layer_allows_nan_gaps_on_a_log_axis():
    """A NaN (e.g. a layer that was not measured) is a gap, not an error."""
    fig = plot_per_layer({"a": [1.0, np.nan, 2.0]}, ylabel="y", logy=True)
    assert isinstance(fig, Figure)


@pytest.mark.parametrize("series", [{}, [], None, ()])
def test_plot_per_layer_rejects_empty_input(series):
    with pytest.raises(ValueError, match="non-empty"):
        plot_per_layer(series, ylabel="y")


@pytest.mark.parametrize("bad", [[1.0, 0.0], [1.0, -2.0]])
def test_plot_per_layer_rejects_nonpositive_values_on_log_axis(bad):
    with pytest.raises(ValueError, match="<= 0"):
        plot_per_layer({"a": bad}, ylabel="y", logy=True)
    assert isinstance(plot_per_layer({"a": bad}, ylabel="y"), Figure)  # fine on a linear axis


def test_plot_per_layer_rejects_wrong_shape():
    with pytest.raises(ValueError, match="1-dimensional"):
        plot_per_layer({"a": np.ones((2, 3))}, ylabel="y")


def test_plot_runs_figure():
    x = np.arange(4)
    runs = {"sgd": np.array([[4.0, 3, 2, 1], [6.0, 5, 4, 3]]), "adam": np.ones((3, 4))}
    fig = plot_runs(x, runs, xlabel="epoch", ylabel="loss", logy=True, title="t")
    (ax,) = fig.axes
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "loss"
    assert ax.get_yscale() == "log" and ax.get_title() == "t"
    assert _legend_labels(ax) == ["sgd (mean of 2)", "adam (mean of 3)"]
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), runs["sgd"].mean(axis=0))
    assert to_hex(ax.get_lines()[0].get_color()) == to_hex(color("sgd"))
    assert len(ax.collections) == 2  # one min-max band per label


def test_plot_runs_rejects_empty_and_mismatched_input():
    with pytest.raises(ValueError, match="non-empty"):
        plot_runs([0, 1], {}, xlabel="x", ylabel="y")
    with pytest.raises(ValueError, match="3 points per seed, x has 2"):
        plot_runs([0, 1], {"a": np.ones((2, 3))}, xlabel="x", ylabel="y")
    with pytest.raises(ValueError, match="2-dimensional"):
        plot_runs([0, 1], {"a": np.ones(2)}, xlabel="x", ylabel="y")


def test_plot_runs_rejects_nonpositive_values_on_log_axis():
    with pytest.raises(ValueError, match="<= 0"):
        plot_runs([0, 1, 2], {"a": [[1.0, -1.0, 2.0]]}, xlabel="x", ylabel="y", logy=True)


def test_unknown_labels_get_distinct_palette_colours():
    fig = plot_per_layer({"run A": [1.0], "run B": [2.0], "run C": [3.0]}, ylabel="y")
    colours = [to_hex(line.get_color()) for line in fig.axes[0].get_lines()]
    assert len(set(colours)) == 3
