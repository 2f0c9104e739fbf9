"""The book's series colours stay distinguishable with the common colour-vision deficiencies.

The palette is Okabe & Ito's (utils.plotting), chosen because it was designed for
colour-blind readers. Colours that can share an axes (one family: activations,
initializers, optimizers, implementations) are simulated as a dichromat sees them,
with the matrices of Machado, Oliveira & Fernandes (2009) at full severity applied
in linear sRGB, and compared in CIEDE2000.

Threshold: Delta E00 >= 10 for every pair in a family, with normal vision and in each
simulation. Delta E00 = 1 is about the smallest difference visible between two large
patches side by side; a line 2 px wide or a 4 px marker, matched against its legend
entry, needs far more. 10 is what the Okabe-Ito palette itself keeps in all three
simulations (its closest pair, orange and reddish purple for a tritanope, is 10.9
apart): a family passes if it is no harder to read than the palette made for this.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

THRESHOLD = 10.0

# Machado et al. (2009), Table: severity 1.0, for linear RGB.
MACHADO_2009 = {
    "protanopia": [[0.152286, 1.052583, -0.204868],
                   [0.114503, 0.786281, 0.099216],
                   [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968],
                     [0.280085, 0.672501, 0.047413],
                     [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779],
                   [-0.078411, 0.930809, 0.147602],
                   [0.004733, 0.691367, 0.303900]],
}
VISIONS = ["normal", *MACHADO_2009]

# Which names of utils.plotting.COLORS can be plotted on the same axes.
FAMILIES = {
    "activations": ["sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu", "selu", "gelu",
                    "gelu_tanh", "swish", "softplus", "identity"],
    "initializers": ["zeros", "small_normal", "standard_normal", "glorot", "he", "lecun",
                     "torch_default"],
    "optimizers": ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"],
    "implementations": ["numpy", "pytorch", "keras"],
}


def srgb_to_linear(hex_color: str) -> np.ndarray:
    c = np.array([int(hex_color.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)])
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def linear_to_lab(rgb: np.ndarray) -> np.ndarray:
    """CIELAB (D65 white) of a linear sRGB colour."""
    to_xyz = np.array([[0.4124564, 0.3575761, 0.1804375],
                       [0.2126729, 0.7151522, 0.0721750],
                       [0.0193339, 0.1191920, 0.9503041]])
    t = to_xyz @ rgb / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def seen_as(hex_color: str, vision: str) -> np.ndarray:
    """CIELAB of a colour as seen with ``vision`` (normal or a simulated dichromacy)."""
    rgb = srgb_to_linear(hex_color)
    if vision != "normal":
        rgb = np.clip(np.array(MACHADO_2009[vision]) @ rgb, 0, 1)
    return linear_to_lab(rgb)


def ciede2000(lab1, lab2) -> float:
    """CIEDE2000 colour difference (Sharma, Wu & Dalal 2005), kL = kC = kH = 1."""
    (l1, a1, b1), (l2, a2, b2) = lab1, lab2
    c_mean = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_mean**7 / (c_mean**7 + 25**7)))
    a1, a2 = (1 + g) * a1, (1 + g) * a2
    c1, c2 = np.hypot(a1, b1), np.hypot(a2, b2)
    h1, h2 = np.degrees(np.arctan2(b1, a1)) % 360, np.degrees(np.arctan2(b2, a2)) % 360
    dh = 0.0 if c1 * c2 == 0 else (h2 - h1 + 180) % 360 - 180
    if c1 * c2 == 0:
        h_mean = h1 + h2
    elif abs(h1 - h2) <= 180:
        h_mean = (h1 + h2) / 2
    else:
        h_mean = (h1 + h2 + 360) / 2 if h1 + h2 < 360 else (h1 + h2 - 360) / 2
    d_l, d_c = l2 - l1, c2 - c1
    d_h = 2 * np.sqrt(c1 * c2) * np.sin(np.radians(dh / 2))
    l_mean, c_mean = (l1 + l2) / 2, (c1 + c2) / 2
    t = (1 - 0.17 * np.cos(np.radians(h_mean - 30)) + 0.24 * np.cos(np.radians(2 * h_mean))
         + 0.32 * np.cos(np.radians(3 * h_mean + 6)) - 0.20 * np.cos(np.radians(4 * h_mean - 63)))
    s_l = 1 + 0.015 * (l_mean - 50) ** 2 / np.sqrt(20 + (l_mean - 50) ** 2)
    s_c, s_h = 1 + 0.045 * c_mean, 1 + 0.015 * c_mean * t
    r_t = (-2 * np.sqrt(c_mean**7 / (c_mean**7 + 25**7))
           * np.sin(np.radians(60 * np.exp(-(((h_mean - 275) / 25) ** 2)))))
    return float(np.sqrt((d_l / s_l) ** 2 + (d_c / s_c) ** 2 + (d_h / s_h) ** 2
                         + r_t * (d_c / s_c) * (d_h / s_h)))


@pytest.mark.parametrize(("lab1", "lab2", "expected"), [
    # test data of Sharma, Wu & Dalal (2005), pairs 1, 7, 17 and 25
    ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
    ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
    ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
])
def test_ciede2000_matches_published_values(lab1, lab2, expected):
    assert ciede2000(lab1, lab2) == pytest.approx(expected, abs=1e-4)
    assert ciede2000(lab2, lab1) == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize("vision", list(MACHADO_2009))
def test_simulation_keeps_greys(vision):
    """Each row of a Machado matrix sums to 1: white and greys look the same."""
    for grey in ("#FFFFFF", "#888888", "#000000"):
        assert ciede2000(seen_as(grey, vision), seen_as(grey, "normal")) < 0.5


def test_every_book_colour_is_in_a_family():
    from utils.plotting import COLORS

    listed = {name for names in FAMILIES.values() for name in names}
    assert set(COLORS) == listed, ("update FAMILIES with the colours added to or removed "
                                   f"from utils.plotting.COLORS: {set(COLORS) ^ listed}")


# Twelve activation colours are more than any palette keeps apart under every
# colour-vision deficiency (Okabe-Ito has eight), so activations have a second channel:
# utils.plotting.linestyle (used by plotting.style and the plotting helpers). A pair of
# activations whose colours are too close for some vision passes if their line styles
# differ; the other families must be told apart by colour alone.
SECOND_CHANNEL = {"activations"}


@pytest.mark.parametrize("vision", VISIONS)
@pytest.mark.parametrize("family", list(FAMILIES))
def test_family_colours_are_distinguishable(family, vision):
    from utils.plotting import COLORS, linestyle

    too_close = []
    for a, b in itertools.combinations(FAMILIES[family], 2):
        d = ciede2000(seen_as(COLORS[a], vision), seen_as(COLORS[b], vision))
        if d < THRESHOLD and not (family in SECOND_CHANNEL and linestyle(a) != linestyle(b)):
            too_close.append(f"{a} {COLORS[a]} / {b} {COLORS[b]}: {d:.1f}")
    assert not too_close, (f"{family} with {vision} vision, pairs closer than Delta E00 = "
                           f"{THRESHOLD:g}:\n" + "\n".join(too_close))


def test_second_channel_is_needed_and_used():
    """The line styles are not decoration: without them the activations fail, and the
    plotting helpers draw each activation in its line style."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from utils import plotting

    merged = [(a, b) for a, b in itertools.combinations(FAMILIES["activations"], 2)
              if min(ciede2000(seen_as(plotting.COLORS[a], v), seen_as(plotting.COLORS[b], v))
                     for v in VISIONS) < THRESHOLD]
    assert merged, "no pair needs the second channel: drop it"
    assert all(plotting.linestyle(a) != plotting.linestyle(b) for a, b in merged)
    assert plotting.style("PReLU (a = 0.25)") == {"color": plotting.COLORS["prelu"],
                                                   "linestyle": "--"}
    names = ["relu", "prelu", "gelu_tanh", "identity"]
    fig = plotting.plot_runs(np.arange(3), {n: np.ones((2, 3)) for n in names},
                             xlabel="epoch", ylabel="loss")
    drawn = {line.get_label().split(" (")[0]: line.get_linestyle()
             for line in fig.axes[0].get_lines()}
    plt.close(fig)
    assert drawn == {"relu": "-", "prelu": "--", "gelu_tanh": "--", "identity": ":"}
