"""Helpers for the book *Training Deep Networks*.

Organised by concern; import the module you need, e.g. ``from utils import plotting``.
PyTorch and TensorFlow are imported lazily, inside the functions that need them,
so the NumPy parts work (and load fast) without either framework installed.

Where to look:

- the networks and their training: :mod:`utils.nets` (the NumPy MLP with its
  hand-written backward pass in ``numpy_mlp``; the one NumPy training loop, for one
  network or a stack of many, in ``numpy_stack``; the one PyTorch loop in ``torch_fit``
  and the batched PyTorch stack in ``torch_stack``; the same network in PyTorch and
  Keras in ``twins``);
- the pieces they are made of: ``activations``, ``initializers``, ``normalization``,
  ``optimizers``, ``schedules``, ``regularization``, ``clipping``, ``rnn``, ``gan``;
- measurements and diagnosis: ``health``, ``self_normalization``, ``calibration``,
  ``landscapes``, ``gradcheck``, ``checks`` (the exercises' self-checks);
- the rest: ``data``, ``plotting``, ``display``, ``frameworks``,
  ``framework_optimizers``, ``reproducibility``.
"""

__version__ = "0.1.0"
