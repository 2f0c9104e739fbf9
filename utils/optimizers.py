"""Gradient-descent update rules in NumPy, one small class per rule.

Every optimizer has the same interface::

    opt = Adam(lr=1e-3)
    for _ in range(num_steps):
        grads = gradient(params)      # one array per parameter array
        opt.step(params, grads)       # updates every array of `params` in place

The per-parameter state (velocities, running averages) is created on the first
call to :meth:`Optimizer.step` and kept in ``opt.state``, one dict per parameter
array; ``opt.t`` counts the steps taken. The learning rate ``opt.lr`` may be
changed between steps (that is how a schedule is applied), and it may be an
array that broadcasts against every parameter array, e.g. one learning rate per
run when several runs are stacked along axis 0.

The defaults and the placement of epsilon follow PyTorch (``torch.optim``);
options reproduce Keras (``keras.optimizers``) exactly where the two differ:

============  ==============================  =====================================
rule          PyTorch                         Keras
============  ==============================  =====================================
momentum      v = mu v + g,  p -= lr v        v = mu v - lr g,  p += v
AdaGrad       g / (sqrt(G) + eps), G0 = 0     g / sqrt(G + eps), G0 = 0.1
RMSProp       rho = 0.99, eps outside sqrt    rho = 0.9, eps inside sqrt
Adam          m_hat / (sqrt(v_hat) + eps)     eps added to sqrt(v) before the
                                              bias correction: eps / sqrt(1 - b2^t)
                                              in the PyTorch form ("epsilon hat")
eps default   1e-8 (AdaGrad 1e-10)            1e-7
weight decay  added to the gradient (L2),     decoupled: p -= lr wd p, for every
              decoupled only in AdamW         optimizer
============  ==============================  =====================================
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from utils._validation import (
    as_float_array,
    check_callable,
    check_fraction,
    check_instance,
    check_positive_float,
)

__all__ = ["SGD", "Momentum", "Adagrad", "RMSprop", "Adam", "AdamW", "Optimizer", "NAMES",
           "create", "trajectory", "tune_learning_rate", "TuningResult"]


def _check_lr(lr):
    """A learning rate >= 0: a number, or an array of them (one per stacked run)."""
    if isinstance(lr, np.ndarray):
        arr = as_float_array(lr, "lr")
        if arr.size == 0 or np.any(arr < 0):
            raise ValueError("lr must be >= 0 (every entry of an lr array), got "
                             f"minimum {arr.min() if arr.size else 'of an empty array'}")
        return arr
    return check_positive_float(lr, "lr", allow_zero=True)


def _check_epsilon(eps) -> float:
    return check_positive_float(eps, "eps")  # eps <= 0 raises: it guards a division


def _check_bool(value, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _as_list(params, name: str) -> list:
    if isinstance(params, np.ndarray):
        return [params]
    if isinstance(params, (str, bytes)) or not isinstance(params, Sequence):
        raise TypeError(f"{name} must be a NumPy array or a list of them, "
                        f"got {type(params).__name__}")
    return list(params)


class Optimizer:
    """The common part: learning rate, weight decay, step count and per-parameter state.

    ``weight_decay`` (>= 0) is applied in one of two ways:

    * ``decoupled_weight_decay=False`` (PyTorch's ``weight_decay`` in SGD, RMSprop,
      Adagrad and Adam): the gradient of the L2 penalty ``wd/2 * ||p||^2`` is added to
      the gradient, ``g <- g + wd * p``, and goes through the update rule with it.
    * ``decoupled_weight_decay=True`` (PyTorch's ``AdamW``, and every Keras optimizer's
      ``weight_decay``): the weights are shrunk directly, ``p <- p - lr * wd * p``,
      before the update rule sees the gradient.
    """

    def __init__(self, lr, *, weight_decay: float = 0.0, decoupled_weight_decay: bool = False):
        self.lr = lr
        self.weight_decay = check_positive_float(weight_decay, "weight_decay", allow_zero=True)
        self.decoupled_weight_decay = _check_bool(decoupled_weight_decay,
                                                  "decoupled_weight_decay")
        self.t = 0
        self.state: list[dict[str, np.ndarray]] | None = None
        self._shapes: list[tuple[int, ...]] | None = None

    @property
    def lr(self):
        return self._lr

    @lr.setter
    def lr(self, value):
        self._lr = _check_lr(value)

    def _init_state(self, p: np.ndarray) -> dict[str, np.ndarray]:
        return {}

    def _direction(self, g: np.ndarray, state: dict[str, np.ndarray]) -> np.ndarray:
        """The step to subtract from the parameter; updates ``state`` in place."""
        raise NotImplementedError

    def step(self, params, grads) -> None:
        """Apply one update to every array in ``params`` (in place) given ``grads``."""
        params = _as_list(params, "params")
        grads = _as_list(grads, "grads")
        if len(params) != len(grads) or not params:
            raise ValueError(f"need one gradient per parameter array, got {len(params)} "
                             f"parameter arrays and {len(grads)} gradients")
        for i, p in enumerate(params):
            if not isinstance(p, np.ndarray) or not np.issubdtype(p.dtype, np.floating):
                raise TypeError(f"params[{i}] must be a floating-point NumPy array (it is "
                                f"updated in place), got {type(p).__name__}")
        grads = [np.asarray(g) for g in grads]
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            if g.shape != p.shape:
                raise ValueError(f"grads[{i}] has shape {g.shape}, params[{i}] has {p.shape}")
        shapes = [p.shape for p in params]
        if self.state is None:
            self.state = [self._init_state(p) for p in params]
            self._shapes = shapes
        elif shapes != self._shapes:
            raise ValueError(f"this optimizer holds state for parameters of shapes "
                             f"{self._shapes}, got {shapes}; create a new optimizer")
        self.t += 1
        for p, g, state in zip(params, grads, self.state, strict=True):
            if self.weight_decay:
                if self.decoupled_weight_decay:
                    p -= self.lr * self.weight_decay * p  # shrink the weights directly
                else:
                    g = g + self.weight_decay * p  # gradient of (wd/2) * ||p||^2
            p -= self._direction(g, state)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr!r})"


class SGD(Optimizer):
    """Plain gradient descent: ``p <- p - lr * g``."""

    def _direction(self, g, state):
        return self.lr * g


class Momentum(Optimizer):
    """Gradient descent with (heavy-ball) momentum, in one of three equivalent-looking forms.

    * ``form="pytorch"`` (``torch.optim.SGD``): ``v <- mu v + g``, ``p <- p - lr v``.
    * ``form="keras"`` (``keras.optimizers.SGD``, Sutskever et al. 2013):
      ``v <- mu v - lr g``, ``p <- p + v``. For a constant ``lr`` it is the PyTorch form
      with ``v_keras = -lr v_pytorch``; when ``lr`` changes the two differ, because the
      Keras velocity remembers the learning rates of past steps.
    * ``form="ema"`` (an exponential moving average, as in some courses):
      ``v <- mu v + (1 - mu) g``, ``p <- p - lr v``. It is the PyTorch form with the
      learning rate multiplied by ``1 - mu``: for a constant gradient the step tends to
      ``lr g`` instead of ``lr g / (1 - mu)``.

    ``nesterov=True`` evaluates the momentum step "one step ahead": PyTorch form
    ``p <- p - lr (g + mu v)``, Keras form ``p <- p + mu v - lr g`` (after updating ``v``).
    """

    FORMS = ("pytorch", "keras", "ema")

    def __init__(self, lr, momentum: float = 0.9, *, form: str = "pytorch",
                 nesterov: bool = False, weight_decay: float = 0.0,
                 decoupled_weight_decay: bool = False):
        super().__init__(lr, weight_decay=weight_decay,
                         decoupled_weight_decay=decoupled_weight_decay)
        self.momentum = check_fraction(momentum, "momentum")
        if form not in self.FORMS:
            raise ValueError(f"form must be one of {self.FORMS}, got {form!r}")
        self.form = form
        self.nesterov = _check_bool(nesterov, "nesterov")
        if self.nesterov and (form == "ema" or self.momentum == 0):
            raise ValueError("nesterov=True needs momentum > 0 and the 'pytorch' or "
                             "'keras' form")

    def _init_state(self, p):
        return {"velocity": np.zeros_like(p)}

    def _direction(self, g, state):
        v, mu, lr = state["velocity"], self.momentum, self.lr
        if self.form == "pytorch":
            v *= mu
            v += g
            return lr * (g + mu * v) if self.nesterov else lr * v
        if self.form == "keras":
            v *= mu
            v -= lr * g
            return -(mu * v - lr * g) if self.nesterov else -v
        v *= mu  # "ema"
        v += (1 - mu) * g
        return lr * v


class Adagrad(Optimizer):
    """AdaGrad (Duchi et al. 2011): divide by the root of the sum of all squared gradients.

    ``G <- G + g^2``, ``p <- p - lr g / (sqrt(G) + eps)``. Keras adds eps inside the
    square root (``eps_inside_sqrt=True``) and starts ``G`` at 0.1
    (``initial_accumulator_value``); PyTorch starts it at 0 with ``eps = 1e-10``.
    """

    def __init__(self, lr, *, eps: float = 1e-10, initial_accumulator_value: float = 0.0,
                 eps_inside_sqrt: bool = False, weight_decay: float = 0.0,
                 decoupled_weight_decay: bool = False):
        super().__init__(lr, weight_decay=weight_decay,
                         decoupled_weight_decay=decoupled_weight_decay)
        self.eps = _check_epsilon(eps)
        self.initial_accumulator_value = check_positive_float(
            initial_accumulator_value, "initial_accumulator_value", allow_zero=True)
        self.eps_inside_sqrt = _check_bool(eps_inside_sqrt, "eps_inside_sqrt")

    def _init_state(self, p):
        return {"sum_squares": np.full_like(p, self.initial_accumulator_value)}

    def _direction(self, g, state):
        G = state["sum_squares"]
        G += g * g
        denom = np.sqrt(G + self.eps) if self.eps_inside_sqrt else np.sqrt(G) + self.eps
        return self.lr * g / denom


class RMSprop(Optimizer):
    """RMSProp (Tieleman & Hinton 2012): a running average of squared gradients.

    ``s <- rho s + (1 - rho) g^2``, ``p <- p - lr g / (sqrt(s) + eps)``. The running
    average is *assigned*, not added to the old value: ``s += ...`` would grow without
    bound. PyTorch's defaults are ``rho=0.99`` (its ``alpha``) and eps = 1e-8 outside the
    root; Keras' are ``rho=0.9`` and eps = 1e-7 inside it (``eps_inside_sqrt=True``).
    With ``momentum > 0``: ``b <- mu b + g / (sqrt(s) + eps)``, ``p <- p - lr b`` (Keras
    keeps ``lr`` inside ``b``; the same for a constant ``lr``).
    """

    def __init__(self, lr, *, rho: float = 0.99, eps: float = 1e-8, momentum: float = 0.0,
                 eps_inside_sqrt: bool = False, weight_decay: float = 0.0,
                 decoupled_weight_decay: bool = False):
        super().__init__(lr, weight_decay=weight_decay,
                         decoupled_weight_decay=decoupled_weight_decay)
        self.rho = check_fraction(rho, "rho")
        self.eps = _check_epsilon(eps)
        self.momentum = check_fraction(momentum, "momentum")
        self.eps_inside_sqrt = _check_bool(eps_inside_sqrt, "eps_inside_sqrt")

    def _init_state(self, p):
        state = {"square_avg": np.zeros_like(p)}
        if self.momentum:
            state["momentum_buffer"] = np.zeros_like(p)
        return state

    def _direction(self, g, state):
        s = state["square_avg"]
        s *= self.rho
        s += (1 - self.rho) * g * g
        denom = np.sqrt(s + self.eps) if self.eps_inside_sqrt else np.sqrt(s) + self.eps
        if not self.momentum:
            return self.lr * g / denom
        b = state["momentum_buffer"]
        b *= self.momentum
        b += g / denom
        return self.lr * b


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015): momentum on g and a running average of g^2, bias-corrected.

    ``m <- b1 m + (1 - b1) g``, ``v <- b2 v + (1 - b2) g^2``,
    ``m_hat = m / (1 - b1^t)``, ``v_hat = v / (1 - b2^t)``,
    ``p <- p - lr m_hat / (sqrt(v_hat) + eps)``.

    ``bias_correction=False`` drops the two divisions (the common mistake, for
    demonstration). ``epsilon_hat=True`` is Keras' form (the paper's "efficient" version):
    ``p <- p - lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)``, i.e. eps is added
    before the bias correction, which equals the form above with eps replaced by
    ``eps / sqrt(1 - b2^t)``: about 32 eps at step 1, shrinking to eps.
    """

    def __init__(self, lr, *, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 bias_correction: bool = True, epsilon_hat: bool = False,
                 weight_decay: float = 0.0, decoupled_weight_decay: bool = False):
        super().__init__(lr, weight_decay=weight_decay,
                         decoupled_weight_decay=decoupled_weight_decay)
        self.beta1 = check_fraction(beta1, "beta1")
        self.beta2 = check_fraction(beta2, "beta2")
        self.eps = _check_epsilon(eps)
        self.bias_correction = _check_bool(bias_correction, "bias_correction")
        self.epsilon_hat = _check_bool(epsilon_hat, "epsilon_hat")

    def _init_state(self, p):
        return {"m": np.zeros_like(p), "v": np.zeros_like(p)}

    def _direction(self, g, state):
        m, v, t = state["m"], state["v"], self.t
        m *= self.beta1
        m += (1 - self.beta1) * g
        v *= self.beta2
        v += (1 - self.beta2) * g * g
        if not self.bias_correction:
            return self.lr * m / (np.sqrt(v) + self.eps)
        correction1, correction2 = 1 - self.beta1**t, 1 - self.beta2**t
        if self.epsilon_hat:
            return (self.lr * np.sqrt(correction2) / correction1) * m / (np.sqrt(v) + self.eps)
        m_hat, v_hat = m / correction1, v / correction2
        return self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019): ``p <- p - lr wd p``
    before the Adam step, so the decay is not divided by ``sqrt(v_hat)``. PyTorch's
    default ``weight_decay`` is 0.01, Keras' 0.004."""

    def __init__(self, lr, *, weight_decay: float = 0.01, beta1: float = 0.9,
                 beta2: float = 0.999, eps: float = 1e-8, bias_correction: bool = True,
                 epsilon_hat: bool = False):
        super().__init__(lr, beta1=beta1, beta2=beta2, eps=eps,
                         bias_correction=bias_correction, epsilon_hat=epsilon_hat,
                         weight_decay=weight_decay, decoupled_weight_decay=True)


NAMES = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw")


def create(name: str, lr, **kwargs) -> Optimizer:
    """An optimizer by the book's name for it (see :data:`NAMES`), e.g. ``create("adam", 1e-3)``.

    ``"momentum"`` and ``"nesterov"`` are :class:`Momentum` with ``momentum=0.9`` unless
    given; the other names map to the class of that name.
    """
    if name == "nesterov":
        return Momentum(lr, **{"momentum": 0.9, **kwargs}, nesterov=True)
    classes = {"sgd": SGD, "momentum": Momentum, "adagrad": Adagrad, "rmsprop": RMSprop,
               "adam": Adam, "adamw": AdamW}
    if name not in classes:
        raise ValueError(f"unknown optimizer {name!r}; known: {', '.join(NAMES)}")
    return classes[name](lr, **kwargs)


def trajectory(optimizer: Optimizer, gradient: Callable, x0, num_steps: int, *,
               lr_schedule: Callable[[int], float] | None = None,
               max_norm: float = 1e8) -> np.ndarray:
    """Run ``num_steps`` steps from ``x0``; return every iterate, shape (num_steps + 1, size).

    ``gradient(x)`` gets the current parameters in the structure of ``x0`` (an array or a
    list of arrays, copies of ``x0`` in float64) and returns gradients in the same
    structure. Row ``k`` is the concatenation of all parameters after ``k`` steps. If
    ``lr_schedule`` is given, ``optimizer.lr = lr_schedule(k)`` before step ``k`` (from 0).
    Once an iterate is non-finite or its norm exceeds ``max_norm``, the run is treated as
    diverged and the remaining rows are NaN.
    """
    if isinstance(num_steps, bool) or not isinstance(num_steps, numbers.Integral) \
            or num_steps < 0:
        raise ValueError(f"num_steps must be a non-negative integer, got {num_steps!r}")
    check_instance(optimizer, Optimizer, "optimizer")
    check_callable(gradient, "gradient")
    max_norm = check_positive_float(max_norm, "max_norm")
    single = isinstance(x0, np.ndarray) or np.isscalar(x0)
    params = [as_float_array(x, "x0").astype(np.float64, copy=True)
              for x in ([x0] if single else _as_list(x0, "x0"))]
    size = sum(p.size for p in params)
    path = np.full((num_steps + 1, size), np.nan)
    path[0] = np.concatenate([p.ravel() for p in params])
    for k in range(num_steps):
        if lr_schedule is not None:
            optimizer.lr = lr_schedule(k)
        grads = gradient(params[0] if single else params)
        optimizer.step(params, [grads] if single else grads)
        row = np.concatenate([p.ravel() for p in params])
        if not np.all(np.isfinite(row)) or np.linalg.norm(row) > max_norm:
            break
        path[k + 1] = row
    return path


@dataclass(frozen=True)
class TuningResult:
    """What :func:`tune_learning_rate` measured, one entry per learning rate tried."""

    lrs: np.ndarray
    final_values: np.ndarray  # objective after the last step; inf where the run diverged
    paths: np.ndarray  # iterates, shape (num_steps + 1, len(lrs), dim); NaN after divergence
    best_lr: float

    @property
    def best_path(self) -> np.ndarray:
        return self.paths[:, int(np.flatnonzero(self.lrs == self.best_lr)[0])]


def tune_learning_rate(make_optimizer: Callable[[np.ndarray], Optimizer], objective: Callable,
                       gradient: Callable, x0, num_steps: int, lrs, *,
                       max_norm: float = 1e8,
                       max_loss_ratio: float | None = None) -> TuningResult:
    """Run one optimizer per learning rate in ``lrs`` from ``x0``; pick the lowest final value.

    All runs go at once: ``x0`` (a 1-D array) is stacked ``len(lrs)`` times and
    ``make_optimizer`` receives the learning rates as an array of shape ``(len(lrs), 1)``,
    so ``objective`` and ``gradient`` must accept points stacked along the first axis
    (as :mod:`utils.landscapes` does). A run whose iterate leaves the ball of radius
    ``max_norm`` (or becomes NaN) is stopped there and counts as diverged; with
    ``max_loss_ratio``, so does a run whose objective ever exceeds ``max_loss_ratio``
    times its starting value (``max_loss_ratio=1``: the loss may never rise above where it
    started). Ties go to the smaller learning rate.
    """
    lrs = as_float_array(lrs, "lrs", ndim=1)
    if lrs.size == 0 or np.any(lrs <= 0):
        raise ValueError("lrs must be a non-empty list of positive learning rates")
    if isinstance(num_steps, bool) or not isinstance(num_steps, numbers.Integral) \
            or num_steps < 1:
        raise ValueError(f"num_steps must be a positive integer, got {num_steps!r}")
    max_norm = check_positive_float(max_norm, "max_norm")
    if max_loss_ratio is not None:
        max_loss_ratio = check_positive_float(max_loss_ratio, "max_loss_ratio")
    x0 = as_float_array(x0, "x0", ndim=1).astype(np.float64)
    loss_limit = None if max_loss_ratio is None else max_loss_ratio * float(objective(x0))
    base = lrs[:, None].copy()
    optimizer = make_optimizer(base.copy())
    X = np.tile(x0, (len(lrs), 1))
    paths = np.full((num_steps + 1, len(lrs), len(x0)), np.nan)
    paths[0] = X
    diverged = np.zeros(len(lrs), dtype=bool)
    for k in range(num_steps):
        optimizer.step(X, gradient(X))
        bad = ~(np.linalg.norm(X, axis=1) <= max_norm)  # NaN counts as too far
        if loss_limit is not None:
            bad[~bad] |= ~(objective(X[~bad]) <= loss_limit)
        new = bad & ~diverged
        if new.any():  # freeze diverged runs at a harmless point with lr 0
            diverged |= new
            X[new] = x0
            optimizer.lr = np.where(diverged[:, None], 0.0, base)
            for state in optimizer.state:
                for value in state.values():
                    value[new] = 0.0
        paths[k + 1] = np.where(diverged[:, None], np.nan, X)
    finals = np.full(len(lrs), np.inf)
    finals[~diverged] = objective(X[~diverged])
    if diverged.all():
        raise ValueError("every learning rate diverged; try smaller ones")
    best = float(lrs[int(np.argmin(finals))])
    return TuningResult(lrs=lrs, final_values=finals, paths=paths, best_lr=best)
