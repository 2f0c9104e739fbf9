"""utils.plotting.plot_layer_histograms: one panel per layer (Agg backend)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from utils import plotting  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def layers(n, scale=1.0, seed=0):
    rng = np.random.default_rng(seed)
    return [scale * 0.5**i * rng.standard_normal((50, 20)) for i in range(n)]


def visible_axes(fig):
    return [ax for ax in fig.axes if ax.get_visible()]


def test_single_series_wraps_into_a_grid():
    fig = plotting.plot_layer_histograms(layers(7), ncols=3, value_range=(-2, 2), bins=10)
    axes = visible_axes(fig)
    assert len(axes) == 7 and len(fig.axes) == 9  # 3x3 grid, two unused panels hidden
    assert [ax.get_title().split("\n")[0] for ax in axes] == [f"layer {i}" for i in range(1, 8)]
    for ax in axes:
        heights = ax.patches[0].get_data().values
        assert len(heights) == 10
        assert np.isclose(heights.sum(), 1.0)  # fractions of the layer's values
        assert ax.get_xlim() == (-2.0, 2.0)


def test_panel_titles_show_the_statistics_of_each_layer():
    data = layers(3)
    fig = plotting.plot_layer_histograms(data, first_layer=5)
    for i, (ax, values) in enumerate(zip(visible_axes(fig), data, strict=True)):
        title = ax.get_title()
        assert title.startswith(f"layer {5 + i}\n")
        assert f"std {values.std():.2g}" in title and f"mean {values.mean():.1g}" in title


def test_rows_compare_conditions_with_book_colours():
    fig = plotting.plot_layer_histograms({"tanh + Glorot": layers(4), "ReLU + He": layers(4, 2.0)})
    axes = visible_axes(fig)
    assert len(axes) == 8
    assert to_hex(axes[0].patches[0].get_facecolor()) == plotting.color("tanh").lower()
    assert to_hex(axes[4].patches[0].get_facecolor()) == plotting.color("relu").lower()
    assert axes[0].get_ylabel() == "tanh + Glorot" and axes[4].get_ylabel() == "ReLU + He"
    # without value_range each row gets the range of its own values
    assert axes[4].get_xlim()[1] > axes[0].get_xlim()[1]


def test_out_of_range_values_land_in_the_edge_bins():
    fig = plotting.plot_layer_histograms([np.array([-5.0, 0.0, 5.0, 5.0])], value_range=(-1, 1),
                                         bins=4)
    heights = fig.axes[0].patches[0].get_data().values
    np.testing.assert_allclose(heights, [0.25, 0, 0.25, 0.5])


def test_constant_layer_and_log_axis():
    fig = plotting.plot_layer_histograms([np.zeros(10), np.ones(10)], logy=True)
    assert fig.axes[0].get_yscale() == "log"


@pytest.mark.parametrize("bad, error, match", [
    ([], ValueError, "at least one layer"),
    ({}, ValueError, "must not be empty"),
    (np.zeros((3, 4)), TypeError, "sequence of arrays"),
    ({"a": [np.zeros(3)], "b": [np.zeros(3), np.zeros(3)]}, ValueError, "same number of layers"),
    ([np.array([1.0, np.nan])], ValueError, "NaN"),
])
def test_bad_input(bad, error, match):
    with pytest.raises(error, match=match):
        plotting.plot_layer_histograms(bad)


def test_bad_options():
    with pytest.raises(ValueError, match="value_range"):
        plotting.plot_layer_histograms(layers(2), value_range=(1, -1))
    with pytest.raises(ValueError, match="ncols applies to a single series"):
        plotting.plot_layer_histograms({"a": layers(2), "b": layers(2)}, ncols=2)
    with pytest.raises(ValueError, match="bins must be a positive integer"):
        plotting.plot_layer_histograms(layers(2), bins=0)


def test_automatic_range_ignores_a_few_outliers():
    values = np.random.default_rng(0).uniform(-1, 1, size=10_000)
    values[0] = 1e6  # one outlier must not squeeze the histogram into one bin
    fig = plotting.plot_layer_histograms([values], bins=20)
    low, high = fig.axes[0].get_xlim()
    assert -1.0 <= low < -0.99 and 0.99 < high <= 1.0
    heights = fig.axes[0].patches[0].get_data().values
    assert heights.max() < 0.1 and np.isclose(heights.sum(), 1.0)  # the outlier is in the last bin
