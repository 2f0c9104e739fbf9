"""The NumPy :class:`utils.nets.numpy_mlp.MLP` rebuilt in PyTorch and in Keras, same weights.

Used to check the hand-written NumPy code against the frameworks' autograd:
the same weights, inputs and loss must give the same gradients. Everything is
float64 here so that the comparison is limited by the algorithms, not by
float32 rounding.
"""

from __future__ import annotations

import numpy as np

from utils._validation import as_float_array, check_instance, check_labels
from utils.frameworks import import_keras, import_torch, torch_device
from utils.nets.numpy_mlp import MLP

_TORCH_ACTIVATIONS = {"sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "ReLU", "identity": "Identity"}


def torch_twin(model: MLP):
    """A ``torch.nn.Sequential`` of Linear + activation layers holding ``model``'s weights."""
    check_instance(model, MLP, "model")
    torch = import_torch()
    nn = torch.nn
    name = model.activation.name
    if name not in _TORCH_ACTIVATIONS:
        raise ValueError(f"no PyTorch counterpart registered for activation {name!r}")
    layers = []
    for i, (w, b) in enumerate(zip(model.weights, model.biases, strict=True)):
        linear = nn.Linear(*w.shape, dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w.T))  # PyTorch stores (fan_out, fan_in)
            linear.bias.copy_(torch.from_numpy(b))
        layers.append(linear)
        if i < model.num_layers - 1:
            layers.append(getattr(nn, _TORCH_ACTIVATIONS[name])())
    return nn.Sequential(*layers).to(torch_device())


def keras_twin(model: MLP):
    """A ``keras.Sequential`` of Dense layers holding ``model``'s weights (float64)."""
    check_instance(model, MLP, "model")
    keras = import_keras()
    name = model.activation.name
    activation = "linear" if name == "identity" else name
    layers = [keras.Input(shape=(model.layer_sizes[0],), dtype="float64")]
    for i, w in enumerate(model.weights):
        last = i == model.num_layers - 1
        layers.append(keras.layers.Dense(w.shape[1], activation=None if last else activation,
                                         dtype="float64"))
    net = keras.Sequential(layers)
    for layer, w, b in zip(net.layers, model.weights, model.biases, strict=True):
        layer.set_weights([w, b])  # Keras stores kernels as (fan_in, fan_out), like the NumPy code
    return net


def torch_weight_grad_norms(net, X, y) -> np.ndarray:
    """||dL/dW|| per Linear layer of a PyTorch net, by autograd (mean cross-entropy)."""
    X = as_float_array(X, "X", ndim=2)
    y = check_labels(y, len(X), num_classes=np.iinfo(np.int64).max)
    torch = import_torch()
    check_instance(net, torch.nn.Sequential, "net")
    device = next(net.parameters()).device
    X_t = torch.as_tensor(X, dtype=torch.float64, device=device)
    y_t = torch.as_tensor(y, dtype=torch.int64, device=device)
    net.zero_grad()
    loss = torch.nn.functional.cross_entropy(net(X_t), y_t)
    loss.backward()
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    return np.array([float(m.weight.grad.norm()) for m in linears])


def keras_weight_grad_norms(net, X, y, loss_dtype: str = "float64") -> np.ndarray:
    """||dL/dW|| per Dense layer of a Keras net, by ``tf.GradientTape`` (mean cross-entropy).

    Keras losses compute in float32 unless told otherwise, even for a float64 model;
    ``loss_dtype`` sets it explicitly.
    """
    if loss_dtype not in ("float32", "float64"):
        raise ValueError(f'loss_dtype must be "float32" or "float64", got {loss_dtype!r}')
    X = as_float_array(X, "X", ndim=2)
    y = check_labels(y, len(X), num_classes=np.iinfo(np.int64).max)
    keras = import_keras()
    check_instance(net, keras.Model, "net")
    import tensorflow as tf

    X_t = tf.constant(X, dtype=tf.float64)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True, dtype=loss_dtype)
    kernels = [layer.kernel for layer in net.layers]
    with tf.GradientTape() as tape:
        loss = loss_fn(y, net(X_t, training=True))
    grads = tape.gradient(loss, kernels)
    return np.array([float(tf.norm(g)) for g in grads])
