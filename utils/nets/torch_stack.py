"""Many small PyTorch MLPs trained at once, as one batched computation.

A sweep over learning rates, weight scales and seeds trains hundreds of small
networks. One at a time, the Python overhead of each step dominates and a sweep takes
minutes on a CPU; stacked along a leading *member* axis, each layer of all networks is
one batched matrix product (``torch.bmm``), and the sweep takes seconds.

Member ``k`` of a :class:`StackedMLP` is an ordinary fully connected network::

    z_1 = x W_1 + b_1
    z_l = g(z_{l-1}) W_l + b_l  (+ z_{l-1} if the member is residual),   l = 2..L
    logits = g(z_L) W_out + b_out

with ``g = dropout(activation(norm(.)))`` for ``placement="before"`` (Linear -> Norm ->
activation, batch norm's usual place) or ``g = norm(dropout(activation(.)))`` for
``placement="after"``, and ``norm`` one of ``"none"``, ``"batch"`` (batch normalization,
PyTorch's conventions) or ``"layer"`` (layer normalization); the activation, the
normalization, the initialization and the dropout rate are chosen per member. Members
never interact: the loss that is differentiated is the sum of the members' losses, so
member ``k``'s gradient is its own. Trained by :func:`utils.nets.torch_fit.fit` (which
takes member ``k``'s batch order from ``seeds[k]``), a member takes exactly the steps
that ``fit`` with ``seed=seeds[k]`` takes on the network :meth:`StackedMLP.to_sequential`
returns, with SGD or any other element-wise optimizer (the tests check this).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from utils._validation import as_float_array, check_fraction, check_positive_int
from utils.frameworks import import_torch, torch_device

# PyTorch is imported on first use, not when this module is imported, so that a reader
# without PyTorch gets a MissingFrameworkError naming it from the cell that needs it.
# ``StackedMLP`` (an ``nn.Module``) is created then too, by the module's ``__getattr__``.
torch = nn = None
NORMS = ("none", "batch", "layer")
# the activations a member can have: torch.nn.functional's, with PyTorch's default
# parameters, and the torch.nn modules that to_sequential gives them
ACTIVATIONS = ("relu", "tanh", "sigmoid", "identity", "elu", "selu", "gelu", "silu",
               "leaky_relu", "softplus")
_MODULES = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "identity": "Identity",
            "elu": "ELU", "selu": "SELU", "gelu": "GELU", "silu": "SiLU",
            "leaky_relu": "LeakyReLU", "softplus": "Softplus"}
INITS = ("torch_default", "he_normal", "lecun_normal", "he_uniform", "glorot_uniform")
_FUNCTIONS = {}


def _load_torch():
    """Import PyTorch (once) into this module's globals ``torch`` and ``nn``."""
    global torch, nn
    if torch is None:
        torch = import_torch()
        nn = torch.nn
        F = nn.functional
        _FUNCTIONS.update(relu=F.relu, tanh=torch.tanh, sigmoid=torch.sigmoid,
                          identity=lambda t: t, elu=F.elu, selu=F.selu, gelu=F.gelu,
                          silu=F.silu, leaky_relu=F.leaky_relu, softplus=F.softplus)
    return torch


def __getattr__(name: str):
    if name == "StackedMLP":
        _load_torch()
        cls = type("StackedMLP", (_StackedMLPMethods, nn.Module),
                   {"__module__": __name__, "__qualname__": "StackedMLP",
                    "__doc__": _StackedMLPMethods.__doc__})
        globals()["StackedMLP"] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _per_member(value, num_members: int, name: str) -> list:
    if isinstance(value, (str, bytes, numbers.Number)) or value is None:
        return [value] * num_members
    values = list(value)
    if len(values) != num_members:
        raise ValueError(f"{name} has {len(values)} entries, expected one per member "
                         f"({num_members})")
    return values


class _StackedMLPMethods:
    """``num_members`` independent MLPs with layer sizes ``sizes``, evaluated together.

    Parameters (each per-member argument takes one value for all members or a sequence):

    sizes: widths from input to output, e.g. ``[64, 32, 32, 10]``.
    seeds: per member, the seed of its weight initialization (``torch.Generator``) and, in
        :func:`utils.nets.torch_fit.fit`, of its batch order.
    num_members: needed only when ``seeds`` is a single integer shared by all members.
    activation: per member, one of :data:`ACTIVATIONS` (``torch.nn.functional``'s, with
        PyTorch's default parameters: ``leaky_relu`` slope 0.01, ``elu`` alpha 1,
        ``gelu`` exact, ``softplus`` beta 1), after every hidden layer.
    norm: per member, ``"none"``, ``"batch"`` or ``"layer"``, after every hidden Linear.
    residual: per member, add an identity skip connection around every hidden layer
        after the first (needs equal hidden widths).
    init: per member, how the weights of every layer except the output layer are drawn:
        ``"torch_default"`` (PyTorch's ``nn.Linear`` default, U(-1/sqrt(fan_in),
        1/sqrt(fan_in)) for weights and biases), ``"he_normal"`` (N(0, 2/fan_in)),
        ``"lecun_normal"`` (N(0, 1/fan_in)), ``"he_uniform"`` (U(-sqrt(6/fan_in),
        sqrt(6/fan_in))), ``"glorot_uniform"`` (U(-sqrt(6/(fan_in + fan_out)), ...)) or a
        float, the standard deviation of N(0, std^2) weights; all but the first with zero
        biases. The output layer always gets PyTorch's default.
    dropout: per member, the rate of inverted dropout (in [0, 1)) on the output of every
        hidden activation, in training mode only; the masks come from torch's global
        generator, like ``nn.Dropout``'s. A member with rate 0 is never changed by it.
    placement: per member, ``"before"`` (Linear -> Norm -> activation) or ``"after"``
        (Linear -> activation -> Norm).
    bias: per member, whether the hidden Linear layers have a bias (the output layer
        always has one). Biases are drawn for every member, so members that differ only
        here start from the same weights.
    dtype, device: of the parameters (default float32, :func:`utils.frameworks.torch_device`).
    eps, momentum: batch/layer norm epsilon and batch norm momentum (the weight of the
        new batch, PyTorch's convention and defaults); running variances store the
        unbiased batch variance, as PyTorch does.

    Attribute ``norm_noise`` (default ``None``): a list with one ``(scale, shift)`` pair
    of tensors of shape (members, 1, width) per hidden layer; in training mode every
    normalization output ``y`` becomes ``scale * y + shift`` (Santurkar et al.'s "noisy
    batch norm", see :func:`draw_norm_noise`). Eval mode ignores it.
    """

    def __init__(self, sizes: Sequence[int], *, seeds: int | Sequence[int],
                 num_members: int | None = None, activation: str | Sequence[str] = "relu",
                 norm: str | Sequence[str] = "none", residual: bool | Sequence[bool] = False,
                 init: str | float | Sequence = "torch_default",
                 placement: str | Sequence[str] = "before", bias: bool | Sequence[bool] = True,
                 dropout: float | Sequence[float] = 0.0,
                 eps: float = 1e-5, momentum: float = 0.1,
                 dtype=None, device=None):
        super().__init__()
        sizes = [check_positive_int(s, "layer size") for s in sizes]
        if len(sizes) < 3:
            raise ValueError(f"sizes needs an input, at least one hidden and an output size, "
                             f"got {sizes}")
        if num_members is None:
            if isinstance(seeds, numbers.Integral):
                raise ValueError("pass num_members, or one seed per member")
            num_members = len(list(seeds))
        k = check_positive_int(num_members, "num_members")
        seeds = [int(s) for s in _per_member(seeds, k, "seeds")]
        norms = _per_member(norm, k, "norm")
        if any(n not in NORMS for n in norms):
            raise ValueError(f"norm must be one of {NORMS}, got {sorted(set(norms))}")
        residuals = [bool(r) for r in _per_member(residual, k, "residual")]
        inits = _per_member(init, k, "init")
        for i in inits:
            if not (i in INITS or (isinstance(i, numbers.Real) and not isinstance(i, bool)
                                   and i > 0 and math.isfinite(i))):
                raise ValueError(f"init must be one of {', '.join(map(repr, INITS))} or a "
                                 f"positive standard deviation, got {i!r}")
        activations = _per_member(activation, k, "activation")
        unknown = sorted({repr(a) for a in activations if a not in ACTIVATIONS})
        if unknown:
            raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}, "
                             f"got {', '.join(unknown)}")
        dropouts = [check_fraction(d, "dropout") for d in _per_member(dropout, k, "dropout")]
        placements = _per_member(placement, k, "placement")
        if any(p not in ("before", "after") for p in placements):
            raise ValueError(f'placement must be "before" or "after", got {sorted(set(placements))}')
        biases_on = [bool(b) for b in _per_member(bias, k, "bias")]
        hidden = sizes[1:-1]
        if any(residuals) and len(set(hidden)) != 1:
            raise ValueError(f"residual members need equal hidden widths, got {hidden}")
        if eps < 0:
            raise ValueError(f"eps must be >= 0, got {eps}")
        if not 0 <= momentum <= 1:
            raise ValueError(f"momentum must be in [0, 1], got {momentum}")
        dtype = dtype or torch.float32
        device = device or torch_device()

        self.sizes, self.num_members, self.seeds = sizes, k, seeds
        self.norms, self.residuals, self.inits = norms, residuals, inits
        self.activations, self.placements, self.biases_on = activations, placements, biases_on
        self.dropouts = dropouts
        self.eps, self.momentum = float(eps), float(momentum)
        self.update_running_stats = True  # switched off by probes that must not change them
        self.norm_noise = None  # (scale, shift) per hidden layer, see draw_norm_noise
        self._kinds = set(norms)
        # members grouped by activation (buffers, so that .to(device) moves the indices)
        self._act_names = sorted(set(activations), key=ACTIVATIONS.index)
        if len(self._act_names) > 1:
            groups = [torch.tensor([m for m, b in enumerate(activations) if b == a],
                                   device=device) for a in self._act_names]
            for j, idx in enumerate(groups):
                self.register_buffer(f"_act_members_{j}", idx, persistent=False)
            # where each member's row lands in the concatenated groups
            self.register_buffer("_act_inverse", torch.argsort(torch.cat(groups)),
                                 persistent=False)
        self._drop_same = len(set(dropouts)) == 1

        weights = [[] for _ in sizes[1:]]
        biases = [[] for _ in sizes[1:]]
        for member, seed in enumerate(seeds):
            gen = torch.Generator().manual_seed(seed)
            for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
                how = "torch_default" if layer == len(sizes) - 2 else inits[member]
                w, b = _draw_layer(fan_in, fan_out, how, gen)
                weights[layer].append(w)
                biases[layer].append(b)
        self.weights = nn.ParameterList(
            [nn.Parameter(torch.stack(w).to(dtype=dtype, device=device)) for w in weights])
        self.biases = nn.ParameterList(
            [nn.Parameter(torch.stack(b)[:, None, :].to(dtype=dtype, device=device))
             for b in biases])
        self.gammas = nn.ParameterList(
            [nn.Parameter(torch.ones(k, 1, h, dtype=dtype, device=device)) for h in hidden])
        self.betas = nn.ParameterList(
            [nn.Parameter(torch.zeros(k, 1, h, dtype=dtype, device=device)) for h in hidden])
        for i, h in enumerate(hidden):
            self.register_buffer(f"running_mean_{i}", torch.zeros(k, 1, h, dtype=dtype,
                                                                  device=device))
            self.register_buffer(f"running_var_{i}", torch.ones(k, 1, h, dtype=dtype,
                                                                device=device))
        codes = torch.tensor([NORMS.index(n) for n in norms], device=device)
        self.register_buffer("_is_batch", (codes == 1).view(k, 1, 1))
        self.register_buffer("_is_layer", (codes == 2).view(k, 1, 1))
        self.register_buffer("_skip", torch.tensor(residuals, dtype=dtype,
                                                   device=device).view(k, 1, 1))
        self.register_buffer("_bias_on", torch.tensor(biases_on, dtype=dtype,
                                                      device=device).view(k, 1, 1))
        self.register_buffer("_after", torch.tensor([p == "after" for p in placements],
                                                    device=device).view(k, 1, 1))
        self.register_buffer("_keep", 1.0 - torch.tensor(dropouts, dtype=dtype,
                                                         device=device).view(k, 1, 1),
                             persistent=False)

    @property
    def activation(self) -> str | None:
        """The members' activation if they all share one, else ``None``."""
        return self.activations[0] if len(set(self.activations)) == 1 else None

    # --- the forward pass -----------------------------------------------------------

    @property
    def num_hidden(self) -> int:
        return len(self.sizes) - 2

    def _bias(self, layer: int):
        b = self.biases[layer]
        if layer == self.num_hidden or all(self.biases_on):
            return b
        if not any(self.biases_on):
            return None
        return b * self._bias_on  # members without bias: zero bias, zero gradient

    def _linear(self, a, layer: int):
        b = self._bias(layer)
        if b is None:
            return torch.bmm(a, self.weights[layer])
        return torch.baddbmm(b, a, self.weights[layer])

    def _norm(self, h, i: int):
        out = self._norm_clean(h, i)
        if self.norm_noise is not None and self.training:
            scale, shift = self.norm_noise[i]
            out = out * scale + shift
        return out

    def _norm_clean(self, h, i: int):
        kinds = self._kinds
        if kinds == {"none"}:
            return h
        gamma, beta = self.gammas[i], self.betas[i]
        out_bn = out_ln = None
        if "batch" in kinds:
            k, n, width = h.shape
            if self.training and n < 2:
                raise ValueError("batch normalization in training mode needs at least 2 "
                                 f"examples per batch, got {n}")
            stats = self.training and self.update_running_stats or not self.training
            # PyTorch's fused kernel, with the members' features side by side: (batch, k*width)
            flat = nn.functional.batch_norm(
                h.transpose(0, 1).reshape(n, k * width),
                getattr(self, f"running_mean_{i}").view(-1) if stats else None,
                getattr(self, f"running_var_{i}").view(-1) if stats else None,
                gamma.reshape(-1), beta.reshape(-1), training=self.training,
                momentum=self.momentum, eps=self.eps)
            out_bn = flat.view(n, k, width).transpose(0, 1)
            if len(kinds) == 1:
                return out_bn
        if "layer" in kinds:
            out_ln = nn.functional.layer_norm(h, h.shape[-1:], eps=self.eps) * gamma + beta
            if len(kinds) == 1:
                return out_ln
        out = h
        if out_bn is not None:
            out = torch.where(self._is_batch, out_bn, out)
        if out_ln is not None:
            out = torch.where(self._is_layer, out_ln, out)
        return out

    def _act(self, h):
        """Each member's activation, then its dropout (training mode only)."""
        names = self._act_names
        if len(names) == 1:
            out = _FUNCTIONS[names[0]](h)
        else:  # one call per activation on its members' rows, put back in member order
            rows = [getattr(self, f"_act_members_{j}") for j in range(len(names))]
            out = torch.cat([_FUNCTIONS[a](h.index_select(0, idx))
                             for a, idx in zip(names, rows, strict=True)])
            out = out.index_select(0, self._act_inverse)
        if not self.training or not any(self.dropouts):
            return out
        if self._drop_same:  # nn.Dropout's own kernel and random draws
            return nn.functional.dropout(out, self.dropouts[0], training=True)
        keep = self._keep.expand_as(out)
        return out * torch.bernoulli(keep) / keep  # keep = 1: the mask is all ones

    def _g(self, h, i: int):
        if all(p == "before" for p in self.placements):
            return self._act(self._norm(h, i))
        if all(p == "after" for p in self.placements):
            return self._norm(self._act(h), i)
        # mixed: one normalization call, fed act(h) for "after" members and h otherwise
        normed = self._norm(torch.where(self._after, self._act(h), h), i)
        return torch.where(self._after, normed, self._act(normed))

    def forward(self, X, *, return_hidden: bool = False):
        """Logits of shape (members, batch, classes) for ``X`` of shape (batch, features)
        (the same examples for every member) or (members, batch, features).

        With ``return_hidden=True`` also the list of hidden representations ``g(z_l)``,
        the inputs of the Linear layers after the first, each (members, batch, width).
        """
        if X.dim() == 2:
            X = X.expand(self.num_members, *X.shape)
        if X.dim() != 3 or X.shape[0] != self.num_members or X.shape[2] != self.sizes[0]:
            raise ValueError(f"X must be (batch, {self.sizes[0]}) or ({self.num_members}, "
                             f"batch, {self.sizes[0]}), got {tuple(X.shape)}")
        hidden = []
        h = self._linear(X, 0)
        for layer in range(1, self.num_hidden + 1):
            a = self._g(h, layer - 1)
            hidden.append(a)
            z = self._linear(a, layer)
            if layer == self.num_hidden:
                return (z, hidden) if return_hidden else z
            h = z + self._skip * h if any(self.residuals) else z

    # --- one member as an ordinary PyTorch network ---------------------------------

    def to_sequential(self, member: int):
        """Member ``member`` as a ``torch.nn.Sequential`` with copies of its weights and
        statistics (Linear, [BatchNorm1d | LayerNorm], activation, ..., Linear), e.g. to
        compare with :func:`utils.nets.torch_fit.mlp`. A dropout rate above 0 becomes an
        ``nn.Dropout`` after the activation. Residual members have no Sequential form."""
        if not 0 <= member < self.num_members:
            raise ValueError(f"member must be in [0, {self.num_members}), got {member}")
        if self.residuals[member]:
            raise ValueError("a residual member is not a Sequential network")
        act = getattr(nn, _MODULES[self.activations[member]])
        rate = self.dropouts[member]
        norm = self.norms[member]
        layers = []
        with torch.no_grad():
            for layer in range(self.num_hidden + 1):
                w = self.weights[layer][member]
                has_bias = layer == self.num_hidden or self.biases_on[member]
                lin = nn.Linear(*w.shape, bias=has_bias, dtype=w.dtype, device=w.device)
                lin.weight.copy_(w.T)
                if has_bias:
                    lin.bias.copy_(self.biases[layer][member, 0])
                layers.append(lin)
                if layer == self.num_hidden:
                    break
                block = [act()] + ([nn.Dropout(rate)] if rate else [])
                if norm != "none":
                    block.insert(0 if self.placements[member] == "before" else 1,
                                 self._norm_module(norm, layer, member))
                layers.extend(block)
        return nn.Sequential(*layers).train(self.training)

    def _norm_module(self, norm: str, i: int, member: int):
        h = self.sizes[i + 1]
        w = self.gammas[i]
        if norm == "batch":
            mod = nn.BatchNorm1d(h, eps=self.eps, momentum=self.momentum, dtype=w.dtype,
                                 device=w.device)
            mod.running_mean.copy_(getattr(self, f"running_mean_{i}")[member, 0])
            mod.running_var.copy_(getattr(self, f"running_var_{i}")[member, 0])
        else:
            mod = nn.LayerNorm(h, eps=self.eps, dtype=w.dtype, device=w.device)
        mod.weight.copy_(self.gammas[i][member, 0])
        mod.bias.copy_(self.betas[i][member, 0])
        return mod


if TYPE_CHECKING:  # the real class is made on first use, see __getattr__
    StackedMLP = _StackedMLPMethods


def _draw_layer(fan_in: int, fan_out: int, how, gen):
    """Weights (fan_in, fan_out) and biases (fan_out,), drawn from ``gen`` in float64."""
    _load_torch()
    if how == "torch_default":
        # nn.Linear: kaiming_uniform_(a=sqrt(5)) for W, U(-1/sqrt(fan_in), ...) for b; both
        # bounds are 1/sqrt(fan_in). Drawn in PyTorch's (fan_out, fan_in) layout.
        bound = 1.0 / math.sqrt(fan_in)
        w = (torch.rand(fan_out, fan_in, generator=gen, dtype=torch.float64) * 2 - 1) * bound
        b = (torch.rand(fan_out, generator=gen, dtype=torch.float64) * 2 - 1) * bound
        return w.T.contiguous(), b
    zeros = torch.zeros(fan_out, dtype=torch.float64)
    if how in ("he_uniform", "glorot_uniform"):
        bound = math.sqrt(6.0 / (fan_in if how == "he_uniform" else fan_in + fan_out))
        w = (torch.rand(fan_in, fan_out, generator=gen, dtype=torch.float64) * 2 - 1) * bound
        return w, zeros
    std = {"he_normal": math.sqrt(2.0 / fan_in),
           "lecun_normal": math.sqrt(1.0 / fan_in)}.get(how, how)
    w = torch.randn(fan_in, fan_out, generator=gen, dtype=torch.float64) * float(std)
    return w, zeros


def draw_norm_noise(model: StackedMLP, rng: np.random.Generator, strength) -> None:
    """Set ``model.norm_noise`` to a fresh random scale and shift for every unit of every
    normalization layer: for a member with noise strength ``c`` (one value for all
    members or one per member, ``0 <= c < 1``; 0 means no noise), each unit's output
    ``y`` becomes ``s * y + t`` with ``s ~ U(1 - c, 1 + c)`` and ``t ~ U(-c, c)`` drawn
    from ``rng``. Called after every step (``fit``'s ``after_step``), it makes
    the mean and scale of every later layer's input jump at every step: deliberately
    injected covariate shift (the "noisy batch norm" of Santurkar et al., 2018)."""
    _check_model(model)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    values = _per_member(strength, model.num_members, "strength")
    if any(isinstance(c, bool) or not isinstance(c, numbers.Real) for c in values):
        raise TypeError("strength must be a number per member")
    c = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(c)):
        raise ValueError(f"strength contains {int(np.sum(~np.isfinite(c)))} NaN or infinite "
                         "value(s)")
    if not np.all((c >= 0) & (c < 1)):
        raise ValueError(f"noise strengths must be in [0, 1), got {c}")
    if any(ci > 0 and n == "none" for ci, n in zip(c, model.norms, strict=True)):
        raise ValueError('noise goes on normalization outputs, but a member with norm="none" '
                         "has a strength above 0")
    p = model.weights[0]
    c = c[:, None, None]
    noise = []
    for width in model.sizes[1:-1]:
        shape = (model.num_members, 1, width)
        scale = 1.0 + c * rng.uniform(-1.0, 1.0, size=shape)
        shift = c * rng.uniform(-1.0, 1.0, size=shape)
        noise.append(tuple(torch.as_tensor(v, dtype=p.dtype, device=p.device)
                           for v in (scale, shift)))
    model.norm_noise = noise


# --- losses and checks ----------------------------------------------------------------


def member_losses(logits, y):
    """Mean cross-entropy per member: ``logits`` (members, batch, classes), ``y``
    (members, batch) or (batch,) integer labels. Returns shape (members,)."""
    _load_torch()
    k, n, c = logits.shape
    if y.dim() == 1:
        y = y.expand(k, n)
    return nn.functional.cross_entropy(logits.reshape(k * n, c), y.reshape(k * n),
                                       reduction="none").view(k, n).mean(dim=1)


def is_stack(model) -> bool:
    """Whether ``model`` is a :class:`StackedMLP` (imports nothing)."""
    return isinstance(model, _StackedMLPMethods)


def _check_model(model) -> None:
    if not is_stack(model):
        raise TypeError(f"model must be a StackedMLP, got {type(model).__name__}")


def _tensors(model: StackedMLP, X, y):
    _load_torch()
    _check_model(model)
    X = as_float_array(X, "X", ndim=2)
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != len(X) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y must be 1-D integer labels, one per row of X; got {y.shape}, "
                         f"{y.dtype}")
    p = model.weights[0]
    return (torch.as_tensor(X, dtype=p.dtype, device=p.device),
            torch.as_tensor(y, dtype=torch.int64, device=p.device))


# --- measurements ---------------------------------------------------------------------


def _member_grad_sq(model: StackedMLP):
    total = None
    for p in model.parameters():
        if p.grad is None:
            continue
        sq = p.grad.pow(2).reshape(model.num_members, -1).sum(dim=1)
        total = sq if total is None else total + sq
    return total


def weight_grad_norms(model: StackedMLP, X, y) -> np.ndarray:
    """||dL/dW_l|| for every layer (hidden layers and the output layer), per member:
    shape (members, layers). Training mode (batch statistics), running statistics untouched."""
    X_t, y_t = _tensors(model, X, y)
    was_training, was_updating = model.training, model.update_running_stats
    model.train()
    model.update_running_stats = False
    try:
        model.zero_grad(set_to_none=True)
        member_losses(model(X_t), y_t).sum().backward()
        norms = torch.stack([w.grad.reshape(model.num_members, -1).norm(dim=1)
                             for w in model.weights], dim=1)
    finally:
        model.train(was_training)
        model.update_running_stats = was_updating
        model.zero_grad(set_to_none=True)
    return norms.cpu().double().numpy()


@dataclass
class GradientProbe:
    """How the loss and the gradient change along the negative gradient, per member.

    ``loss[k, j]`` is L(theta_k - eta_j g_k), ``grad_change[k, j]`` is
    ||grad L(theta_k - eta_j g_k) - g_k||, with g_k = grad L(theta_k); ``grad_norm[k]`` is
    ||g_k|| and ``loss0[k]`` is L(theta_k).
    """

    step_sizes: np.ndarray
    loss0: np.ndarray
    grad_norm: np.ndarray
    loss: np.ndarray
    grad_change: np.ndarray

    @property
    def loss_range(self) -> np.ndarray:
        """max_j L - min_j L over the step sizes (and the current point), per member."""
        all_losses = np.concatenate([self.loss0[:, None], self.loss], axis=1)
        return all_losses.max(axis=1) - all_losses.min(axis=1)

    @property
    def beta_smoothness(self) -> np.ndarray:
        """max_j ||grad change|| / ||step||, the "effective beta-smoothness" of
        Santurkar et al. (2018), per member."""
        steps = self.step_sizes[None, :] * self.grad_norm[:, None]
        return (self.grad_change / steps).max(axis=1)


def probe_gradient_direction(model: StackedMLP, X, y, step_sizes) -> GradientProbe:
    """Loss and gradient at theta - eta * grad L(theta) for each step size eta (Santurkar et
    al., 2018), on the batch (X, y), in training mode (batch statistics) without
    touching the running statistics; the parameters are restored afterwards."""
    etas = as_float_array(step_sizes, "step_sizes", ndim=1)
    if np.any(etas <= 0):
        raise ValueError("step sizes must be positive")
    X_t, y_t = _tensors(model, X, y)
    was_training, was_updating = model.training, model.update_running_stats
    model.train()
    model.update_running_stats = False
    params = list(model.parameters())
    saved = [p.detach().clone() for p in params]
    try:
        model.zero_grad(set_to_none=True)
        loss0 = member_losses(model(X_t), y_t)
        loss0.sum().backward()
        grads = [torch.zeros_like(p) if p.grad is None else p.grad.detach().clone()
                 for p in params]
        grad_norm = _member_grad_sq(model).sqrt()
        losses, changes = [], []
        for eta in etas:
            with torch.no_grad():
                for p, p0, g in zip(params, saved, grads, strict=True):
                    p.copy_(p0 - eta * g)
            model.zero_grad(set_to_none=True)
            loss = member_losses(model(X_t), y_t)
            loss.sum().backward()
            diff = None
            for p, g in zip(params, grads, strict=True):
                new = torch.zeros_like(p) if p.grad is None else p.grad
                sq = (new - g).pow(2).reshape(model.num_members, -1).sum(dim=1)
                diff = sq if diff is None else diff + sq
            losses.append(loss.detach())
            changes.append(diff.sqrt())
    finally:
        with torch.no_grad():
            for p, p0 in zip(params, saved, strict=True):
                p.copy_(p0)
        model.zero_grad(set_to_none=True)
        model.train(was_training)
        model.update_running_stats = was_updating

    def arr(t):
        return t.detach().cpu().double().numpy()

    return GradientProbe(etas, arr(loss0), arr(grad_norm), arr(torch.stack(losses, dim=1)),
                         arr(torch.stack(changes, dim=1)))
