"""Helpers for the book *Training Deep Networks*.

Organised by concern; import the module you need, e.g. ``from utils import plotting``.
PyTorch and TensorFlow are imported lazily, inside the functions that need them,
so the NumPy parts work (and load fast) without either framework installed.
"""

__version__ = "0.1.0"
