"""The networks and where they are trained: one engine per framework.

NumPy:

- :mod:`utils.nets.numpy_mlp`: the fully connected network ``MLP`` with its
  hand-written backward pass (the one the chapters derive and check against finite
  differences, PyTorch and Keras), and the per-layer statistics of ``MLP.trace``.
- :mod:`utils.nets.numpy_stack`: the one NumPy training loop, ``train``, for one MLP,
  a list of them, or an ``MLPStack`` (many MLPs with their parameters stacked, so that
  a sweep over seeds, learning rates or initializers costs little more than one
  network); ``train_sgd`` is its plain-SGD shorthand.

PyTorch:

- :mod:`utils.nets.torch_fit`: the one reproducible PyTorch training loop, ``fit``, for
  any model, one network or a :class:`~utils.nets.torch_stack.StackedMLP`
  (``evaluate``; the ``mlp`` builder of a ``torch.nn.Sequential``).
- :mod:`utils.nets.torch_stack`: many PyTorch MLPs as one batched model
  (``StackedMLP``: per member its seed, activation, initialization, normalization and
  dropout), and measurements on it.
- :mod:`utils.nets.twins`: the NumPy MLP rebuilt in PyTorch and Keras with the same
  weights (``torch_twin``, ``keras_twin``).

In each framework one network is the one-member case of the stack: the tests check
that a member takes exactly the steps that the single network takes.
"""
