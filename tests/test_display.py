"""utils.display: tables and the source-code display used to show tested code."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from IPython.display import Code

from utils import display
from utils.activations import sigmoid, sigmoid_prime
from utils.display import format_table, print_table, show_source
from utils.nets.numpy_mlp import MLP


def test_format_table_alignment_and_floats():
    rows = [["sigmoid", 0.123456, 3], ["relu", 12.5, 10]]
    text = format_table(rows, ["activation", "grad", "depth"])
    lines = text.split("\n")
    assert len(lines) == 2 + len(rows)  # header, rule, rows
    header, rule, first, second = lines
    widths = [len(part) for part in rule.split("  ")]
    # each column as wide as its widest cell: "activation", "0.123" (formatted), "depth"
    assert widths == [len("activation"), len(format(0.123456, ".3g")), len("depth")]
    # first column left-aligned, the others right-aligned under their headers
    assert first.startswith("sigmoid ") and second.startswith("relu ")
    assert first.endswith("    3") and second.endswith("   10")
    assert header.split() == ["activation", "grad", "depth"]
    # floats use floatfmt (default .3g); ints are not touched
    assert first.split() == ["sigmoid", format(0.123456, ".3g"), "3"]
    assert second.split()[1] == format(12.5, ".3g")
    # every line as wide as the rule, apart from nothing (no trailing spaces)
    assert all(len(line) == len(rule) for line in lines)
    assert all(line == line.rstrip() for line in lines)


def test_format_table_custom_floatfmt_and_numpy_float64():
    text = format_table([["a", 2 / 3, np.float64(1 / 3)]], ["n", "x", "y"], floatfmt=".2f")
    assert text.split("\n")[2].split() == ["a", "0.67", "0.33"]


def test_format_table_formats_float32():
    text = format_table([["a", np.float32(0.123456789)]], ["n", "x"])
    assert text.split("\n")[2].split() == ["a", format(0.123456789, ".3g")]


def test_format_table_errors():
    with pytest.raises(ValueError, match="row 1 has 2 entries, expected 3"):
        format_table([[1, 2, 3], [1, 2]], ["a", "b", "c"])
    with pytest.raises(ValueError, match="headers"):
        format_table([], [])


def test_format_table_without_rows():
    assert format_table([], ["a", "bb"]) == "a  bb\n-  --"


def test_print_table_prints_format_table(capsys):
    rows, headers = [["x", 1.5]], ["name", "value"]
    print_table(rows, headers)
    assert capsys.readouterr().out == format_table(rows, headers) + "\n"


def test_show_source_returns_code_with_the_def_line():
    code = show_source(sigmoid)
    assert isinstance(code, Code)
    assert code.data.startswith("def sigmoid(x):")
    assert code.data == inspect.getsource(sigmoid).rstrip()  # the tested code itself
    assert "sigmoid" in code._repr_html_()  # renders (highlighted HTML) in a notebook


def test_show_source_of_several_objects_and_a_class():
    code = show_source(sigmoid, sigmoid_prime, MLP)
    for line in ("def sigmoid(x):", "def sigmoid_prime(x):", "class MLP:"):
        assert line in code.data
    assert code.data.index("def sigmoid(x)") < code.data.index("def sigmoid_prime(x)")


@pytest.mark.parametrize("obj", [len, np.add, 3], ids=["builtin", "ufunc", "int"])
def test_show_source_rejects_objects_without_source(obj):
    with pytest.raises(TypeError, match="cannot show the source"):
        show_source(obj)


def test_show_source_needs_an_object():
    with pytest.raises(ValueError, match="at least one"):
        show_source()


def test_print_setup_lists_versions(capsys):
    display.print_setup(seeded=("random", "numpy"))
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    assert first.startswith("python ") and f"numpy {np.__version__}" in first
    assert out.rstrip().endswith("seeded: random, numpy")
