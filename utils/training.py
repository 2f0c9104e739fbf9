"""One small, reproducible PyTorch training loop for the book's classification experiments.

Chapters compare initializers, activations, normalization, optimizers and
regularizers on the same data with the same loop, so that only the thing being
compared changes. Batches are drawn from a seeded ``torch.Generator``, so a run is
repeatable; evaluation happens in ``model.eval()`` mode on the whole set, once per
epoch (and before the first epoch).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from utils._validation import as_float_array, check_integer, check_positive_int
from utils.frameworks import import_torch, torch_device


@dataclass
class TrainHistory:
    """Per-epoch records; index 0 is before training."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list)

    def as_arrays(self) -> dict[str, np.ndarray]:
        return {k: np.asarray(v) for k, v in self.__dict__.items()}


def to_tensors(X, y, device=None, dtype=None):
    """Features (float32 unless ``dtype`` says otherwise) and int64 labels on the book's
    device."""
    torch = import_torch()
    X = as_float_array(X, "X", ndim=2)
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != len(X):
        raise ValueError(f"y must be 1-D with {len(X)} labels, got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"y must hold integer class labels, got dtype {y.dtype}")
    device = device or torch_device()
    return (torch.as_tensor(X, dtype=dtype or torch.float32, device=device),
            torch.as_tensor(y, dtype=torch.int64, device=device))


def evaluate(model, X, y) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of ``model`` on (X, y), in eval mode, no gradients.

    The features are given the dtype of the model's parameters (float32 or float64)."""
    torch = import_torch()
    first = next(model.parameters())
    X_t, y_t = to_tensors(X, y, first.device, first.dtype)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        logits = model(X_t)
        loss = float(torch.nn.functional.cross_entropy(logits, y_t))
        acc = float((logits.argmax(dim=1) == y_t).float().mean())
    model.train(was_training)
    return loss, acc


def fit(model, X, y, *, optimizer, epochs: int, batch_size: int, seed: int,
        X_val=None, y_val=None, loss_fn: Callable | None = None,
        after_step: Callable | None = None, scheduler=None) -> TrainHistory:
    """Train ``model`` with minibatches of (X, y); return the per-epoch history.

    ``loss_fn(model, logits, targets)`` replaces plain cross-entropy (e.g. to add a
    penalty); ``after_step(model, step)`` runs after every optimizer step (e.g. to log
    gradient norms); ``scheduler.step()`` is called once per epoch if given. The data
    take the dtype of the model's parameters, so a float64 model (``mlp(...,
    dtype=torch.float64)`` or ``model.double()``) trains in float64. Raises
    ``FloatingPointError`` as soon as the loss is NaN or infinite.
    """
    torch = import_torch()
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    seed = check_integer(seed, "seed", minimum=0)
    has_val = X_val is not None
    if has_val != (y_val is not None):
        raise ValueError("pass both X_val and y_val, or neither")
    first = next(model.parameters())
    device = first.device
    X_t, y_t = to_tensors(X, y, device, first.dtype)
    generator = torch.Generator().manual_seed(seed)
    history = TrainHistory()

    def record() -> None:
        loss, acc = evaluate(model, X, y)
        history.train_loss.append(loss)
        history.train_accuracy.append(acc)
        if has_val:
            loss, acc = evaluate(model, X_val, y_val)
            history.val_loss.append(loss)
            history.val_accuracy.append(acc)

    record()
    step = 0
    model.train()
    for epoch in range(epochs):
        order = torch.randperm(len(X_t), generator=generator).to(device)
        for start in range(0, len(X_t), batch_size):
            idx = order[start:start + batch_size]
            logits = model(X_t[idx])
            if loss_fn is None:
                loss = torch.nn.functional.cross_entropy(logits, y_t[idx])
            else:
                loss = loss_fn(model, logits, y_t[idx])
            if not torch.isfinite(loss.detach()):
                raise FloatingPointError(f"the loss became {loss.item()} at step {step} "
                                         f"(epoch {epoch + 1})")
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            history.step_loss.append(loss.item())
            step += 1
            if after_step is not None:
                after_step(model, step)
        if scheduler is not None:
            scheduler.step()
        record()
    return history


def mlp(sizes, activation: str = "relu", *, init: Callable | None = None,
        batch_norm: bool = False, dropout: float = 0.0, dtype=None):
    """A ``torch.nn.Sequential`` MLP: Linear [-> BatchNorm1d] -> activation [-> Dropout] per
    hidden layer, and a final Linear producing logits.

    ``activation`` is a name from ``torch.nn`` in lower case ("relu", "tanh", "sigmoid",
    "elu", "selu", "gelu", "silu", "leaky_relu"); ``init(weight_tensor)`` is applied to
    every Linear weight in place (biases are set to zero), e.g.
    ``lambda w: torch.nn.init.kaiming_normal_(w, nonlinearity="relu")``. Uses the current
    torch seed: call ``seed_everything`` first. ``dtype=torch.float64`` gives a float64
    model whose initial weights are the float32 ones, converted: the same starting point,
    with rounding errors that stay too small to depend on the CPU's instruction set.
    """
    torch = import_torch()
    nn = torch.nn
    names = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "elu": nn.ELU,
             "selu": nn.SELU, "gelu": nn.GELU, "silu": nn.SiLU, "swish": nn.SiLU,
             "leaky_relu": nn.LeakyReLU, "identity": nn.Identity, "softplus": nn.Softplus}
    if activation not in names:
        raise ValueError(f"unknown activation {activation!r}; known: {', '.join(sorted(names))}")
    sizes = [check_positive_int(s, "layer size") for s in sizes]
    if len(sizes) < 2:
        raise ValueError(f"sizes needs an input and an output size, got {sizes}")
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        linear = nn.Linear(n_in, n_out)
        if init is not None:
            init(linear.weight.data)
            nn.init.zeros_(linear.bias)
        layers.append(linear)
        if i < len(sizes) - 2:
            if batch_norm:
                layers.append(nn.BatchNorm1d(n_out))
            layers.append(names[activation]())
            if dropout:
                layers.append(nn.Dropout(dropout))
    model = nn.Sequential(*layers).to(torch_device())
    if dtype is not None:
        if dtype not in (torch.float32, torch.float64):
            raise ValueError(f"dtype must be torch.float32 or torch.float64, got {dtype!r}")
        model = model.to(dtype)
    return model
