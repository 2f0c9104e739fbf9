"""One small, reproducible PyTorch training loop, for one network or a stack of many.

Chapters compare initializers, activations, normalization, optimizers and
regularizers on the same data with the same loop, so that only the thing being
compared changes. Batches are drawn from a seeded ``torch.Generator``, so a run is
repeatable; evaluation happens in ``model.eval()`` mode on the whole set, once per
epoch (and before the first epoch).

The same loop trains a :class:`utils.nets.torch_stack.StackedMLP`, many MLPs as one
batched model: a single network is its one-member case. Members never interact (the
loss that is differentiated is the sum of the members' losses), member ``k`` draws its
batches from ``seeds[k]`` as a single network does from ``seed``, and a member whose
loss becomes NaN or infinite is frozen while the others go on.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from utils._validation import (
    as_float_array,
    check_callable,
    check_integer,
    check_positive_int,
)
from utils.frameworks import import_torch, torch_device
from utils.nets import torch_stack


@dataclass
class TrainHistory:
    """Per-epoch records; index 0 is before training (with ``evaluate_every_epoch=False``
    only two entries: before and after). ``step_loss`` has one entry per step.

    For a single network each record is a list of floats; for a ``StackedMLP`` an array
    whose first axis is the member, (members, epochs + 1) and (members, steps).
    ``diverged_at`` is the step whose loss was NaN or infinite, -1 if none (one per
    member for a stack; a single network raises ``FloatingPointError`` instead); a
    diverged member is frozen and its later records are NaN."""

    train_loss: list[float] | np.ndarray = field(default_factory=list)
    val_loss: list[float] | np.ndarray = field(default_factory=list)
    val_accuracy: list[float] | np.ndarray = field(default_factory=list)
    train_accuracy: list[float] | np.ndarray = field(default_factory=list)
    step_loss: list[float] | np.ndarray = field(default_factory=list)
    diverged_at: int | np.ndarray = -1

    @property
    def diverged(self) -> bool | np.ndarray:
        return self.diverged_at >= 0

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


def _check_module(model) -> bool:
    """True for a StackedMLP, False for any other ``torch.nn.Module``."""
    torch = import_torch()
    if not isinstance(model, torch.nn.Module):
        raise TypeError("model must be a torch.nn.Module (a network or a StackedMLP), got "
                        f"{type(model).__name__}")
    return torch_stack.is_stack(model)


def _model_tensors(model, X, y):
    first = next(model.parameters())
    return to_tensors(X, y, first.device, first.dtype)


def _member_losses(model, stacked: bool, logits, targets, loss_fn=None):
    """The loss of each member, shape (members,) for a stack; a single network is one
    member, whose loss is plain mean cross-entropy (or ``loss_fn``'s), a scalar."""
    torch = import_torch()
    if loss_fn is not None:
        loss = loss_fn(model, logits, targets)
        want = (model.num_members,) if stacked else ()
        if not isinstance(loss, torch.Tensor) or tuple(loss.shape) != want:
            what = "one loss per member, shape" if stacked else "a scalar loss, shape"
            got = tuple(loss.shape) if isinstance(loss, torch.Tensor) else type(loss).__name__
            raise ValueError(f"loss_fn must return {what} {want}, got {got}")
    elif stacked:
        loss = torch_stack.member_losses(logits, targets)
    else:
        loss = torch.nn.functional.cross_entropy(logits, targets)
    return loss


def _evaluate_members(model, stacked: bool, X_t, y_t):
    """Per-member mean cross-entropy and accuracy as float64 arrays (members,)."""
    torch = import_torch()
    was_training = model.training
    model.eval()
    with torch.no_grad():
        logits = model(X_t)
        loss = _member_losses(model, stacked, logits, y_t)
        # accuracy in the logits' dtype for a stack, in float32 for a single network
        right = (logits.argmax(dim=-1) == y_t).to(logits.dtype if stacked else torch.float32)
        acc = right.mean(dim=-1)
    model.train(was_training)
    return (loss.reshape(-1).cpu().double().numpy(),
            acc.reshape(-1).cpu().double().numpy())


def evaluate(model, X, y):
    """Mean cross-entropy and accuracy of ``model`` on (X, y), in eval mode, no gradients:
    two floats for a single network, two arrays (members,) for a ``StackedMLP``.

    The features are given the dtype of the model's parameters (float32 or float64)."""
    stacked = _check_module(model)
    X_t, y_t = _model_tensors(model, X, y)
    loss, acc = _evaluate_members(model, stacked, X_t, y_t)
    if stacked:
        return loss, acc
    return float(loss[0]), float(acc[0])


class _MemberSGD:
    """Plain SGD with one learning rate per member of a stack (every parameter of a
    StackedMLP has the member axis first)."""

    def __init__(self, params, lrs):
        torch = import_torch()
        self.params = list(params)
        p0 = self.params[0]
        self.neg_lr = (-torch.as_tensor(lrs, dtype=p0.dtype, device=p0.device)).view(-1, 1, 1)

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        torch = import_torch()
        with torch.no_grad():
            for p in self.params:
                if p.grad is not None:
                    p.addcmul_(self.neg_lr, p.grad)


def _check_lr(lr, k: int, stacked: bool) -> np.ndarray:
    if stacked:
        values = torch_stack._per_member(lr, k, "lr")
    elif isinstance(lr, numbers.Number):
        values = [lr]
    else:
        raise TypeError(f"lr of a single network must be a number, got {type(lr).__name__}")
    if any(isinstance(v, bool) or not isinstance(v, numbers.Real) for v in values):
        raise TypeError(f"learning rates must be numbers, got {values}")
    lrs = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(lrs) & (lrs > 0)):
        raise ValueError(f"learning rates must be positive, got {lrs}")
    return lrs


def fit(model, X, y, *, optimizer=None, lr=None, epochs: int, batch_size: int,
        seed: int | None = None, X_val=None, y_val=None, loss_fn: Callable | None = None,
        after_step: Callable | None = None, scheduler=None, drop_last: bool = False,
        evaluate_every_epoch: bool = True) -> TrainHistory:
    """Train ``model`` with minibatches of (X, y); return the per-epoch history.

    ``model`` is any ``torch.nn.Module`` producing logits, or a
    :class:`~utils.nets.torch_stack.StackedMLP` (many MLPs trained as one batched model;
    a single network is its one-member case, trained by the same code).

    The update: ``optimizer`` is any ``torch.optim`` optimizer over the model's
    parameters; or ``lr`` instead means plain SGD (for a stack one learning rate per
    member, or one for all). For a stack every optimizer whose rule is element-wise
    (SGD, with momentum or weight decay, Adam, AdamW, RMSprop, Adagrad, ...) is exactly
    that optimizer applied to each member on its own, because members never share a
    parameter element and the loss differentiated is the sum of the members' losses;
    rules that couple elements (gradient clipping by a global norm, LBFGS) are not.

    The batch order: a ``torch.Generator`` seeded with ``seed`` (a single network) or
    with ``model.seeds[k]`` (member ``k`` of a stack; pass no ``seed``), one
    ``randperm`` per epoch. ``drop_last`` skips an incomplete last batch (batch
    normalization cannot train on a batch of one).

    ``loss_fn(model, logits, targets)`` replaces plain mean cross-entropy (e.g. to add a
    penalty; for a stack it returns one loss per member); ``after_step(model, step)``
    runs after every optimizer step (e.g. to log gradient norms); ``scheduler.step()`` is
    called once per epoch if given. Evaluates in eval mode before training and after every
    epoch (with ``evaluate_every_epoch=False`` only after the last one). The data take the
    dtype of the model's parameters, so a float64 model (``mlp(..., dtype=torch.float64)``,
    ``model.double()``, ``StackedMLP(..., dtype=torch.float64)``) trains in float64.

    Divergence: a single network raises ``FloatingPointError`` as soon as its loss is NaN
    or infinite; a member of a stack is frozen instead (no more updates, NaN records, its
    step in ``history.diverged_at``) and the others go on.
    """
    torch = import_torch()
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    stacked = _check_module(model)
    if stacked:
        if seed is not None:
            raise ValueError("a StackedMLP draws member k's batches from model.seeds[k]; "
                             "pass no seed")
        seeds = model.seeds
    else:
        if seed is None:
            raise TypeError("fit needs seed= for a single network (the seed of its batch "
                            "order)")
        seeds = [check_integer(seed, "seed", minimum=0)]
    k = len(seeds)
    has_val = X_val is not None
    if has_val != (y_val is not None):
        raise ValueError("pass both X_val and y_val, or neither")
    for name, fn in (("loss_fn", loss_fn), ("after_step", after_step)):
        if fn is not None:
            check_callable(fn, name)
    X_t, y_t = _model_tensors(model, X, y)
    if has_val:
        Xv_t, yv_t = _model_tensors(model, X_val, y_val)
    if (optimizer is None) == (lr is None):
        raise ValueError("pass optimizer (a torch.optim optimizer) or lr (plain SGD), "
                         "not both or neither")
    if optimizer is not None and not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError("optimizer must be a torch.optim.Optimizer, got "
                        f"{type(optimizer).__name__}")
    if lr is not None:
        if scheduler is not None:
            raise ValueError("a scheduler needs the optimizer it changes: pass optimizer= "
                             "instead of lr=")
        lrs = _check_lr(lr, k, stacked)
        optimizer = (_MemberSGD(model.parameters(), lrs) if stacked
                     else torch.optim.SGD(model.parameters(), lr=float(lrs[0])))
    device = X_t.device
    n = len(X_t)
    params = list(model.parameters())
    # one generator per distinct seed: members with the same seed see the same batches
    distinct = sorted(set(seeds))
    gens = {s: torch.Generator().manual_seed(s) for s in distinct}
    rows = torch.tensor([distinct.index(s) for s in seeds], device=device)
    diverged_at = np.full(k, -1)
    alive = torch.ones(k, dtype=torch.bool, device=device)
    all_alive = True
    records = {name: [] for name in ("train_loss", "train_accuracy", "val_loss",
                                     "val_accuracy")}

    def record() -> None:
        for split, (Xs, ys) in (("train", (X_t, y_t)), ("val", (Xv_t, yv_t) if has_val
                                                        else (None, None))):
            if Xs is None:
                continue
            loss, acc = _evaluate_members(model, stacked, Xs, ys)
            dead = diverged_at >= 0
            loss[dead], acc[dead] = np.nan, np.nan
            records[f"{split}_loss"].append(loss)
            records[f"{split}_accuracy"].append(acc)

    record()
    model.train()
    step_losses = []
    step = 0
    stop = n - n % batch_size if drop_last else n
    for epoch in range(epochs):
        orders = torch.stack([torch.randperm(n, generator=gens[s]) for s in distinct])
        orders = orders.to(device)[rows]  # (members, n)
        if not stacked:
            orders = orders[0]
        for start in range(0, stop, batch_size):
            idx = orders[..., start:start + batch_size]
            losses = _member_losses(model, stacked, model(X_t[idx]), y_t[idx], loss_fn)
            finite = torch.isfinite(losses.detach())
            if not all_alive:
                finite |= ~alive
            if not finite.all():
                bad = ~finite
                if not stacked:
                    raise FloatingPointError(f"the loss became {losses.item()} at step "
                                             f"{step} (epoch {epoch + 1})")
                diverged_at[bad.cpu().numpy()] = step  # frozen: no updates, NaN records
                alive &= ~bad
                all_alive = False
            optimizer.zero_grad()
            (losses.sum() if stacked else losses).backward()  # members never interact
            if all_alive:
                optimizer.step()
            else:
                dead = ~alive
                with torch.no_grad():
                    for p in params:
                        if p.grad is not None:
                            p.grad = torch.nan_to_num(p.grad, 0.0, 0.0, 0.0)
                    frozen = [p.detach()[dead].clone() for p in params]
                optimizer.step()
                with torch.no_grad():
                    for p, value in zip(params, frozen, strict=True):
                        p[dead] = value
            step_losses.append(losses.detach())
            step += 1
            if after_step is not None:
                after_step(model, step)
        if scheduler is not None:
            scheduler.step()
        if evaluate_every_epoch or epoch == epochs - 1:
            record()
    step_loss = (torch.stack(step_losses, dim=-1).reshape(k, -1).cpu().double().numpy()
                 if step_losses else np.empty((k, 0)))
    for member, at in enumerate(diverged_at):
        if at >= 0:
            step_loss[member, at:] = np.nan
    if not stacked:  # the one-member case: lists of floats, as for any network
        return TrainHistory(**{name: [float(v) for v in np.asarray(r)[:, 0]] if r else []
                               for name, r in records.items()},
                            step_loss=[float(v) for v in step_loss[0]], diverged_at=-1)
    empty = np.empty((k, 0))
    return TrainHistory(
        train_loss=np.array(records["train_loss"]).T,
        train_accuracy=np.array(records["train_accuracy"]).T,
        val_loss=np.array(records["val_loss"]).T if has_val else empty,
        val_accuracy=np.array(records["val_accuracy"]).T if has_val else empty,
        step_loss=step_loss, diverged_at=diverged_at)


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
