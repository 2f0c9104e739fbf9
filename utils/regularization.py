"""Regularization: weight penalties, dropout and data augmentation for small images.

Conventions (the frameworks differ; the tests pin each difference down):

* ``l2_penalty(w, lam)`` is ``(lam / 2) * sum(w**2)``, so its gradient ``lam * w`` is
  exactly PyTorch's ``weight_decay=lam``. Keras' ``regularizers.l2(l2)`` is
  ``l2 * sum(w**2)`` with no one-half: Keras ``l2(lam / 2)`` equals ``l2_penalty(w, lam)``.
* ``l1_penalty(w, lam)`` is ``lam * sum(|w|)``, the same as Keras ``regularizers.l1(lam)``;
  its subgradient at ``w = 0`` is taken as 0, as autograd does.
* ``rate`` is the probability of *dropping* a unit, as Keras' ``rate`` and PyTorch's ``p``;
  the keep probability is ``1 - rate``.

NumPy functions take an explicit ``np.random.Generator``. The PyTorch helpers at the end
import torch lazily.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

from utils._validation import (
    as_float_array,
    check_fraction,
    check_instance,
    check_integer,
    check_positive_float,
    check_rng,
)

# --- weight penalties ------------------------------------------------------------------


def _weight_list(weights) -> tuple[list[np.ndarray], bool]:
    """A list of float arrays, and whether a single array was given."""
    if isinstance(weights, np.ndarray) or isinstance(weights, numbers.Real):
        return [as_float_array(weights, "weights")], True
    if not isinstance(weights, Sequence) or isinstance(weights, (str, bytes)) or not weights:
        raise TypeError("weights must be an array or a non-empty list of arrays, "
                        f"got {type(weights).__name__}")
    return [as_float_array(w, f"weights[{i}]") for i, w in enumerate(weights)], False


def _strength(lam, name: str = "lam") -> float:
    return check_positive_float(lam, name, allow_zero=True)


def l1_penalty(weights, lam: float):
    """``lam * sum |w|`` over one array or a list of arrays, and its subgradient.

    Returns ``(value, grad)``; ``grad`` has the structure of ``weights`` (one array, or a
    list of arrays) and is ``lam * sign(w)``, which is 0 where ``w == 0``.
    """
    ws, single = _weight_list(weights)
    lam = _strength(lam)
    value = lam * sum(float(np.abs(w).sum()) for w in ws)
    grads = [lam * np.sign(w) for w in ws]
    return value, grads[0] if single else grads


def l2_penalty(weights, lam: float):
    """``(lam / 2) * sum w**2`` and its gradient ``lam * w`` (PyTorch's weight decay).

    Keras' ``regularizers.l2(x)`` is ``x * sum w**2`` (no one-half): it equals this
    penalty for ``x = lam / 2``.
    """
    ws, single = _weight_list(weights)
    lam = _strength(lam)
    value = 0.5 * lam * sum(float(np.sum(w * w)) for w in ws)
    grads = [lam * w for w in ws]
    return value, grads[0] if single else grads


def elastic_net_penalty(weights, l1: float, l2: float):
    """``l1 * sum |w| + (l2 / 2) * sum w**2`` and its (sub)gradient.

    Keras' ``regularizers.l1_l2(l1=a, l2=b)`` is ``a * sum |w| + b * sum w**2``, i.e.
    this penalty with ``l1=a, l2=2b``.
    """
    v1, g1 = l1_penalty(weights, _strength(l1, "l1"))
    v2, g2 = l2_penalty(weights, _strength(l2, "l2"))
    if isinstance(g1, np.ndarray):
        return v1 + v2, g1 + g2
    return v1 + v2, [a + b for a, b in zip(g1, g2, strict=True)]


def soft_threshold(w, threshold: float) -> np.ndarray:
    """The proximal step of the L1 penalty: shrink every entry toward 0 by ``threshold``
    and set those with ``|w| <= threshold`` to exactly 0.

    After a gradient step with learning rate ``lr``, ``soft_threshold(w, lr * lam)``
    applies ``lam * sum |w|`` (proximal gradient descent, ISTA); unlike the subgradient
    ``lam * sign(w)``, it produces exact zeros.
    """
    w = as_float_array(w, "w")
    threshold = check_positive_float(threshold, "threshold", allow_zero=True)
    return np.sign(w) * np.maximum(np.abs(w) - threshold, 0.0)


# --- dropout ---------------------------------------------------------------------------


def dropout_mask(shape, rate: float, rng: np.random.Generator) -> np.ndarray:
    """Boolean keep-mask: each entry ``True`` (kept) with probability ``1 - rate``."""
    rate = check_fraction(rate, "rate")
    rng = check_rng(rng)
    dims = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
    if any(isinstance(d, bool) or not isinstance(d, numbers.Integral) or d < 0 for d in dims):
        raise ValueError(f"shape must be a tuple of non-negative integers, got {shape!r}")
    return rng.random(dims) >= rate


def _dropout_inputs(x, rate, rng, training, keep):
    x = as_float_array(x, "x")
    rate = check_fraction(rate, "rate (the drop probability)")
    if not isinstance(training, bool):
        raise TypeError(f"training must be True or False, got {training!r}")
    if not training:
        return x, rate, None
    if keep is None:
        if rng is None:
            raise TypeError("training mode draws a random mask: pass rng=np.random.default_rng(...)"
                            " (or a keep mask)")
        keep = dropout_mask(x.shape, rate, rng)
    else:
        keep = np.asarray(keep)
        if keep.dtype != bool or keep.shape != x.shape:
            raise ValueError(f"keep must be a boolean array of shape {x.shape}, "
                             f"got {keep.dtype} {keep.shape}")
    return x, rate, keep


def vanilla_dropout(x, rate: float, rng: np.random.Generator | None = None, *, training: bool,
                    keep=None):
    """Dropout as first published: drop units in training, scale by the keep probability
    ``1 - rate`` at inference.

    Returns ``(out, multiplier)`` with ``out = x * multiplier``; the backward pass is
    ``grad_x = grad_out * multiplier`` (:func:`dropout_backward`). In training a keep mask
    is drawn from ``rng`` unless one is given as ``keep``.
    """
    x, rate, keep = _dropout_inputs(x, rate, rng, training, keep)
    if training:
        multiplier = keep.astype(x.dtype)
    else:
        multiplier = np.full_like(x, 1.0 - rate)
    return x * multiplier, multiplier


def inverted_dropout(x, rate: float, rng: np.random.Generator | None = None, *, training: bool,
                     keep=None):
    """Dropout as the frameworks implement it: drop units and divide the survivors by the
    keep probability ``1 - rate`` in training; do nothing at inference.

    Returns ``(out, multiplier)`` like :func:`vanilla_dropout`.
    """
    x, rate, keep = _dropout_inputs(x, rate, rng, training, keep)
    if training:
        multiplier = keep.astype(x.dtype) / (1.0 - rate)
    else:
        multiplier = np.ones_like(x)
    return x * multiplier, multiplier


def dropout_backward(grad_out, multiplier) -> np.ndarray:
    """Gradient of dropout's input: dropout multiplies by a fixed (random) array, so the
    gradient is multiplied by the same array."""
    grad_out = as_float_array(grad_out, "grad_out")
    multiplier = as_float_array(multiplier, "multiplier")
    if grad_out.shape != multiplier.shape:
        raise ValueError(f"grad_out has shape {grad_out.shape}, multiplier {multiplier.shape}")
    return grad_out * multiplier


# --- data augmentation for small grey-scale images -------------------------------------


def _as_images(images, name: str = "images") -> tuple[np.ndarray, tuple[int, ...]]:
    """(n, side, side) float images and the original shape; flat rows must be square."""
    x = as_float_array(images, name)
    shape = x.shape
    if x.ndim == 2:
        side = int(round(np.sqrt(x.shape[1])))
        if side * side != x.shape[1]:
            raise ValueError(f"{name} rows have {x.shape[1]} pixels, not a square image")
        x = x.reshape(len(x), side, side)
    elif x.ndim != 3:
        raise ValueError(f"{name} must have shape (n, pixels) or (n, height, width), "
                         f"got {shape}")
    return x, shape


def _per_image(values, n: int, name: str) -> np.ndarray:
    v = as_float_array(values, name)
    if v.ndim == 0:
        v = np.full(n, float(v))
    if v.shape != (n,):
        raise ValueError(f"{name} needs one value per image ({n}), got shape {v.shape}")
    return v


def transform_images(images, angles_deg=0.0, shifts=(0.0, 0.0), *, scales=1.0,
                     fill: float = 0.0):
    """Zoom each image about its centre by the factor ``scales`` (> 1 enlarges), rotate it
    about its centre (counter-clockwise, in degrees) and then shift it by ``(down,
    right)`` pixels, with bilinear interpolation; pixels from outside the image take the
    value ``fill`` (the background).

    ``images`` has shape (n, pixels) with square images, or (n, height, width); the
    result has the same shape. ``angles_deg`` and ``scales`` are a number or one value
    per image, ``shifts`` a pair or an array of shape (n, 2). Integer shifts without
    rotation or zoom move pixels exactly.
    """
    x, shape = _as_images(images)
    n, h, w = x.shape
    angles = np.deg2rad(_per_image(angles_deg, n, "angles_deg"))
    scales = _per_image(scales, n, "scales")
    if np.any(scales <= 0):
        raise ValueError(f"scales must be > 0, got {scales[scales <= 0][0]}")
    shifts = as_float_array(shifts, "shifts")
    shifts = np.broadcast_to(shifts, (n, 2)) if shifts.shape in ((2,), (n, 2)) else None
    if shifts is None:
        raise ValueError(f"shifts must be a (down, right) pair or have shape ({n}, 2)")
    fill = float(fill)
    # For every output pixel, the input position it comes from (the inverse map).
    rows, cols = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    cy, cx = (h - 1) / 2, (w - 1) / 2
    dy = rows[None] - shifts[:, 0, None, None] - cy  # centred output coordinates
    dx = cols[None] - shifts[:, 1, None, None] - cx
    cos, sin = np.cos(angles)[:, None, None], np.sin(angles)[:, None, None]
    zoom = scales[:, None, None]
    # Counter-clockwise on screen (rows grow downwards): rotate the sampling grid clockwise;
    # enlarging by `zoom` samples the input on a grid `zoom` times finer.
    src_y = (cos * dy + sin * dx) / zoom + cy
    src_x = (-sin * dy + cos * dx) / zoom + cx
    # Bilinear interpolation in a copy padded with one ring of `fill`.
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1)), constant_values=fill)
    src_y = np.clip(src_y + 1, 0, h + 1)
    src_x = np.clip(src_x + 1, 0, w + 1)
    y0 = np.minimum(np.floor(src_y).astype(int), h)
    x0 = np.minimum(np.floor(src_x).astype(int), w)
    fy, fx = src_y - y0, src_x - x0
    idx = np.arange(n)[:, None, None]
    out = ((1 - fy) * (1 - fx) * padded[idx, y0, x0] + (1 - fy) * fx * padded[idx, y0, x0 + 1]
           + fy * (1 - fx) * padded[idx, y0 + 1, x0] + fy * fx * padded[idx, y0 + 1, x0 + 1])
    return out.reshape(shape)


def flip_horizontal(images) -> np.ndarray:
    """Mirror each image left to right (same shape as the input)."""
    x, shape = _as_images(images)
    return x[:, :, ::-1].reshape(shape)


def augment_images(images, rng: np.random.Generator, *, max_shift: float = 1.0,
                   max_angle: float = 10.0, noise_std: float = 0.0,
                   pixel_range: tuple[float, float] | None = (0.0, 16.0),
                   max_zoom: float = 0.0, crop_padding: int = 0) -> np.ndarray:
    """Random label-preserving variants of digit images: a rotation by an angle drawn
    uniformly from ``[-max_angle, max_angle]`` degrees, a shift drawn uniformly from
    ``[-max_shift, max_shift]`` pixels in each direction (sub-pixel shifts interpolate),
    a zoom by a factor drawn uniformly from ``[1 - max_zoom, 1 + max_zoom]`` (scale
    augmentation, resampled in the same bilinear step), a random crop (pad every side
    with ``crop_padding`` background pixels and cut the original size back out at a
    random offset: a whole-pixel shift of up to ``crop_padding``), Gaussian pixel noise
    of standard deviation ``noise_std``, then clipping to ``pixel_range`` (None: no
    clipping).

    Works on raw pixels, where the background is 0 (scikit-learn's digits are 0..16);
    standardize afterwards. No flips: a mirrored digit is a different symbol.
    """
    x, shape = _as_images(images)
    rng = check_rng(rng)
    max_shift = check_positive_float(max_shift, "max_shift", allow_zero=True)
    max_angle = check_positive_float(max_angle, "max_angle", allow_zero=True)
    noise_std = check_positive_float(noise_std, "noise_std", allow_zero=True)
    max_zoom = check_fraction(max_zoom, "max_zoom")
    crop_padding = check_integer(crop_padding, "crop_padding", minimum=0)
    n, h, w = x.shape
    angles = rng.uniform(-max_angle, max_angle, size=n)
    shifts = rng.uniform(-max_shift, max_shift, size=(n, 2))
    scales = rng.uniform(1 - max_zoom, 1 + max_zoom, size=n) if max_zoom else 1.0
    out = transform_images(x, angles, shifts, scales=scales)
    if crop_padding:
        p = crop_padding
        padded = np.pad(out, ((0, 0), (p, p), (p, p)))  # background (0) all around
        top, left = rng.integers(0, 2 * p + 1, size=(2, n))  # the window's corner
        rows = (top[:, None] + np.arange(h))[:, :, None]
        cols = (left[:, None] + np.arange(w))[:, None, :]
        out = padded[np.arange(n)[:, None, None], rows, cols]
    if noise_std:
        out = out + rng.normal(0.0, noise_std, size=out.shape)
    if pixel_range is not None:
        low, high = pixel_range
        if not low < high:
            raise ValueError(f"pixel_range must be (low, high) with low < high, got {pixel_range}")
        out = np.clip(out, low, high)
    return out.reshape(shape)


# --- PyTorch helpers -------------------------------------------------------------------


def _is_stack(model) -> bool:
    from utils.nets import torch_stack

    return isinstance(model, torch_stack.StackedMLP)


def _strengths(value, name: str):
    """A strength >= 0, or one per member of a stack (a 1-D array)."""
    if np.ndim(value) == 0:
        return _strength(value, name)
    values = as_float_array(value, name, ndim=1)
    if np.any(values < 0):
        raise ValueError(f"{name} must be >= 0 for every member, got {values.min()}")
    return values


def torch_weight_penalty(model, *, l1=0.0, l2=0.0):
    """``l1 * sum |W| + (l2 / 2) * sum W**2`` over the weight matrices of every
    ``torch.nn.Linear`` in ``model`` (biases are not penalized), as a torch scalar.

    For a stack of networks (:class:`utils.nets.torch_stack.StackedMLP`) each member's
    penalty is computed on its own weight matrices: the result has one entry per member,
    and ``l1`` and ``l2`` may be one strength for all members or one per member."""
    from utils.frameworks import import_torch

    torch = import_torch()
    l1, l2 = _strengths(l1, "l1"), _strengths(l2, "l2")
    use_l1, use_l2 = bool(np.any(np.asarray(l1) != 0)), bool(np.any(np.asarray(l2) != 0))
    if _is_stack(model):
        weights, sum_dims = list(model.weights), (1, 2)  # each (members, fan_in, fan_out)
        first = weights[0]
        for name, value in (("l1", l1), ("l2", l2)):
            if np.ndim(value) and len(value) != model.num_members:
                raise ValueError(f"{name} has {len(value)} entries, expected one per member "
                                 f"({model.num_members})")
        l1, l2 = (torch.as_tensor(v, dtype=first.dtype, device=first.device)
                  for v in (l1, l2))
        total = first.new_zeros(model.num_members)
    else:
        if np.ndim(l1) or np.ndim(l2):
            raise ValueError("per-member strengths need a stack of networks (StackedMLP)")
        weights = [m.weight for m in model.modules() if isinstance(m, torch.nn.Linear)]
        if not weights:
            raise ValueError("model has no torch.nn.Linear layers to penalize")
        sum_dims = None
        total = weights[0].new_zeros(())
    for w in weights:
        if use_l1:
            total = total + l1 * w.abs().sum(dim=sum_dims)
        if use_l2:
            total = total + 0.5 * l2 * (w * w).sum(dim=sum_dims)
    return total


def penalized_cross_entropy(*, l1=0.0, l2=0.0):
    """A ``loss_fn(model, logits, targets)`` for :func:`utils.nets.torch_fit.fit`: mean
    cross-entropy plus :func:`torch_weight_penalty`. For a stack of networks, one loss
    per member (each member's cross-entropy plus its own penalty), with ``l1`` and ``l2``
    one strength for all members or one per member."""
    from utils.frameworks import import_torch

    torch = import_torch()
    l1, l2 = _strengths(l1, "l1"), _strengths(l2, "l2")
    penalized = bool(np.any(np.asarray(l1) != 0) or np.any(np.asarray(l2) != 0))

    def loss_fn(model, logits, targets):
        if _is_stack(model):
            from utils.nets import torch_stack

            loss = torch_stack.member_losses(logits, targets)
        else:
            loss = torch.nn.functional.cross_entropy(logits, targets)
        return loss + torch_weight_penalty(model, l1=l1, l2=l2) if penalized else loss

    return loss_fn


def _input_dtype(torch, parameter):
    """float64 for a float64 model, float32 otherwise (the book's default)."""
    return torch.float64 if parameter.dtype == torch.float64 else torch.float32


def predict_proba(model, X) -> np.ndarray:
    """Softmax probabilities of a PyTorch classifier in eval mode (dropout off), as NumPy:
    shape (n, classes), or (members, n, classes) for a stack of networks such as
    :class:`utils.nets.torch_stack.StackedMLP`.

    ``X`` gets the dtype of the model's parameters (float32 or float64)."""
    from utils.frameworks import import_torch

    X = as_float_array(X, "X", ndim=2)
    torch = import_torch()
    check_instance(model, torch.nn.Module, "model")
    first = next(model.parameters())
    device = first.device
    X = torch.as_tensor(X, dtype=_input_dtype(torch, first), device=device)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        probs = torch.softmax(model(X), dim=-1).cpu().numpy().astype(np.float64)
    model.train(was_training)
    return probs


def mc_dropout_proba(model, X, passes: int, seed: int) -> np.ndarray:
    """Monte Carlo dropout: ``passes`` stochastic forward passes, in which every
    ``torch.nn.Dropout`` applies a fresh random mask (inverted dropout, as in training)
    and everything else (BatchNorm included) stays in eval mode. Returns the softmax
    probabilities, shape (passes, n, classes).

    The passes run as one forward pass over ``passes`` copies of ``X`` stacked on top of
    each other (every row draws its own mask, so each copy is one pass). The masks come
    from a private generator seeded with ``seed``: the caller's torch RNG is untouched.
    ``X`` gets the dtype of the model's parameters (float32 or float64).
    """
    from utils._validation import check_positive_int
    from utils.frameworks import import_torch

    passes = check_positive_int(passes, "passes")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    X = as_float_array(X, "X", ndim=2)
    torch = import_torch()
    check_instance(model, torch.nn.Module, "model")
    dropouts = [m for m in model.modules() if isinstance(m, torch.nn.Dropout)]
    if not dropouts:
        raise ValueError("model has no torch.nn.Dropout layer: MC dropout would repeat one "
                         "deterministic prediction")
    first = next(model.parameters())
    device = first.device
    X = torch.as_tensor(X, dtype=_input_dtype(torch, first), device=device)
    generator = torch.Generator(device=device).manual_seed(int(seed))

    def apply_mask(layer, inputs, out):
        """In eval mode the layer passes its input through; drop and rescale it here."""
        keep = torch.rand(out.shape, generator=generator, device=device) >= layer.p
        return out * keep / (1 - layer.p) if layer.p < 1 else out * 0

    was_training = model.training
    model.eval()
    hooks = [m.register_forward_hook(apply_mask) for m in dropouts]
    try:
        with torch.no_grad():
            logits = model(X.repeat(passes, 1))
    finally:
        for hook in hooks:
            hook.remove()
        model.train(was_training)
    probs = torch.softmax(logits, dim=1).reshape(passes, len(X), -1)
    return probs.cpu().numpy().astype(np.float64)
