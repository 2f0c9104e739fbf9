"""A training-health check for a real model, in PyTorch or Keras, in one call.

``health.check(model, X, y, optimizer=..., epochs=..., batch_size=..., every=k)`` trains
``model`` on (X, y) with mean cross-entropy and, every ``k`` optimizer steps, records per
layer:

* the mean and standard deviation of the layer's activations (the output of the
  activation that follows a weight layer, or of the weight layer itself if none follows),
* the saturated fraction of those activations (``|tanh| > 0.99``; sigmoid outside
  ``[0.01, 0.99]``) and, for the ReLU family, the fraction of dead units (units whose
  output is never positive on the batch),
* the Frobenius norm of the weight gradient and the update-to-weight ratio
  ``||W_after - W_before|| / ||W_before||`` of that step,
* whether any activation, gradient or weight is NaN or infinite.

The result is a :class:`HealthReport`: a plain table (:meth:`HealthReport.table`), one
standard figure (:meth:`HealthReport.plot`) and a text verdict per layer
(:meth:`HealthReport.verdicts`) with the thresholds in :data:`THRESHOLDS`. The verdicts
read the whole recorded history: each problem comes with the first step that showed it
and whether the last record still shows it (:meth:`HealthReport.timeline`), and dead
units with their likely cause (:meth:`HealthReport.death_cause`).

How the statistics are collected without changing the user's model:

* **PyTorch**: forward hooks on the weight and activation modules and gradient hooks on
  the weight tensors (``Tensor.register_hook``) are registered just before a recorded
  step and removed right after it, so the other steps run exactly as without the
  toolkit. Training itself is :func:`utils.nets.torch_fit.fit`, through its ``after_step``
  callback. Activations are found as modules (``nn.ReLU``, ``nn.Sigmoid``, ...); an
  activation written as a function call inside ``forward`` (``F.relu``) is invisible to
  hooks, and the statistics are then those of the weight layer's output.
* **Keras 3 (TensorFlow backend)**: Keras layers have no hooks. The toolkit builds a
  *probe* model, ``keras.Model(model.inputs, [outputs of the monitored layers])``, which
  shares the layers and variables of the user's model (nothing is copied or rebuilt),
  and trains with its own small loop: one ``tf.function`` step under ``tf.GradientTape``
  that calls the probe, so that the activations and kernel gradients come out with the
  logits (the probe computes exactly what the model computes). They are copied out of
  TensorFlow only on the recorded steps. The user's model, its optimizer and its
  compiled state are otherwise untouched. The model must be a functional or
  ``Sequential`` model that has been built
  (``keras.Input(shape=...)`` first), because the probe needs the layers' symbolic
  outputs.

After a ``NaN`` or infinite loss, training stops and one extra forward and backward pass
on the training set, without an update, records where the non-finite values are (the
step number of this record is one past the last step). PyTorch's loop stops before the
step whose loss is not finite; Keras' after it.
"""

from __future__ import annotations

import numbers
import time
from dataclasses import dataclass, field

import numpy as np

from utils._validation import as_float_array, check_positive_int

#: Thresholds of the verdicts. The chapter "This network does not train" measures the
#: statistics on healthy and broken networks and shows where these sit between them.
THRESHOLDS = {
    "saturated_fraction": 0.10,   # more than 10 % of sigmoid/tanh outputs in the flat tails
    "dead_fraction": 0.25,        # more than a quarter of a ReLU layer never active
    "vanishing_ratio": 1e-3,      # grad norm below 1/1000 of the last layer's
    "exploding_ratio": 1e3,       # grad norm above 1000 times the last layer's
    "exploding_activation_std": 1e2,  # activations 100 times the scale of standardized inputs
    "update_ratio_high": 1e-1,    # one step changes a layer's weights by more than 10 %
    "update_ratio_low": 1e-5,     # one step changes them by less than 0.001 %
}

SATURATING = ("sigmoid", "tanh")
RELU_FAMILY = ("relu", "relu6", "leaky_relu", "prelu", "elu", "selu", "gelu", "silu")

_TORCH_KINDS = {"Sigmoid": "sigmoid", "Tanh": "tanh", "ReLU": "relu", "ReLU6": "relu6",
                "LeakyReLU": "leaky_relu", "PReLU": "prelu", "ELU": "elu", "SELU": "selu",
                "GELU": "gelu", "SiLU": "silu", "Softplus": "softplus", "Hardtanh": "hardtanh"}
_KERAS_KINDS = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "relu", "relu6": "relu6",
                "leaky_relu": "leaky_relu", "elu": "elu", "selu": "selu", "gelu": "gelu",
                "silu": "silu", "swish": "silu", "softplus": "softplus", "linear": "linear"}


#: Every activation kind the statistics accept: those found in PyTorch and Keras models,
#: "linear" (no activation after the weight layer) and "other" (one not recognised).
KINDS = tuple(sorted({*_TORCH_KINDS.values(), *_KERAS_KINDS.values(), "linear", "other"}))


# --- the statistics, in NumPy -------------------------------------------------------------


def _check_kind(kind) -> str:
    """``kind`` if it is a name in :data:`KINDS`: a misspelt name would otherwise give the
    NaN meant for activations without a saturation band or dead units."""
    if not isinstance(kind, str):
        raise TypeError(f"kind must be an activation name, got {type(kind).__name__}")
    if kind not in KINDS:
        raise ValueError(f"unknown activation kind {kind!r}; known: {', '.join(KINDS)}")
    return kind


def saturation_fraction(a, kind: str) -> float:
    """Fraction of activation values in the flat tails: ``|a| > 0.99`` for tanh, ``a < 0.01``
    or ``a > 0.99`` for the sigmoid. NaN for any other activation (no saturation band)."""
    a = as_float_array(a, "a", allow_nonfinite=True)
    kind = _check_kind(kind)
    if a.size == 0:
        raise ValueError("a must not be empty")
    if kind == "tanh":
        return float(np.mean(np.abs(a) > 0.99))
    if kind == "sigmoid":
        return float(np.mean((a < 0.01) | (a > 0.99)))
    return float("nan")


def dead_fraction(a, kind: str) -> float:
    """Fraction of units (columns of ``a``, shape (batch, units, ...)) whose output is never
    positive on the batch, for the ReLU family; NaN for other activations."""
    a = as_float_array(a, "a", allow_nonfinite=True)
    kind = _check_kind(kind)
    if a.ndim < 2 or a.shape[0] == 0:
        raise ValueError(f"a must have shape (batch, units, ...) with batch > 0, got {a.shape}")
    if kind not in RELU_FAMILY:
        return float("nan")
    active = (a > 0).reshape(a.shape[0], -1).any(axis=0)
    return float(1.0 - active.mean())


# --- the report ---------------------------------------------------------------------------


@dataclass
class HealthReport:
    """Per-layer statistics, one row per recorded step (arrays of shape (records, layers)).

    Entries that do not apply are NaN: saturation for non-saturating activations, the dead
    fraction outside the ReLU family, the update ratio of a layer whose weights are zero.
    """

    layers: list[str]
    kinds: list[str]
    every: int
    steps: list[int] = field(default_factory=list)
    act_mean: list[list[float]] = field(default_factory=list)
    act_std: list[list[float]] = field(default_factory=list)
    saturated: list[list[float]] = field(default_factory=list)
    dead: list[list[float]] = field(default_factory=list)
    grad_norm: list[list[float]] = field(default_factory=list)
    update_ratio: list[list[float]] = field(default_factory=list)
    nonfinite: list[list[bool]] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    diverged_at: int | None = None
    seconds: float = float("nan")

    def array(self, name: str) -> np.ndarray:
        """One statistic as an array of shape (records, layers)."""
        if name not in ("act_mean", "act_std", "saturated", "dead", "grad_norm",
                        "update_ratio", "nonfinite"):
            raise ValueError(f"unknown statistic {name!r}")
        values = getattr(self, name)
        dtype = bool if name == "nonfinite" else float
        return np.asarray(values, dtype=dtype).reshape(len(values), len(self.layers))

    def _record(self, step, stats, loss) -> None:
        self.steps.append(int(step))
        for name in ("act_mean", "act_std", "saturated", "dead", "grad_norm", "update_ratio",
                     "nonfinite"):
            getattr(self, name).append([s[name] for s in stats])
        self.loss.append(float(loss))

    def summary(self) -> dict[str, np.ndarray]:
        """Per layer: the last record's statistics, the median update ratio over the records
        and whether a non-finite value was ever seen."""
        if not self.steps:
            raise ValueError("the report holds no records")
        out = {name: self.array(name)[-1] for name in ("act_mean", "act_std", "saturated",
                                                        "dead", "grad_norm")}
        with np.errstate(all="ignore"):
            ratios = self.array("update_ratio")
            finite = np.where(np.isfinite(ratios), ratios, np.nan)
            all_nan = np.isnan(finite).all(axis=0)
            median = np.full(len(self.layers), np.nan)
            if (~all_nan).any():
                median[~all_nan] = np.nanmedian(finite[:, ~all_nan], axis=0)
            out["update_ratio"] = median
        out["nonfinite"] = self.array("nonfinite").any(axis=0)
        return out

    def _layer_problems(self, stats, i: int) -> list[tuple[str, str]]:
        """(key, text) of every problem of layer ``i`` in one set of statistics: a dict
        of per-layer arrays such as :meth:`summary` returns, or one record's row."""
        t = THRESHOLDS
        kind = self.kinds[i]
        grads = stats["grad_norm"]
        reference = grads[-1]
        found = []
        if stats["nonfinite"][i]:
            found.append(("nonfinite", "non-finite values (NaN/Inf) in activations, "
                                       "gradients or weights"))
        if stats["saturated"][i] > t["saturated_fraction"]:
            found.append(("saturated", f"saturated: {stats['saturated'][i]:.0%} of "
                                       f"{kind} outputs in the flat tails"))
        if stats["dead"][i] > t["dead_fraction"]:
            found.append(("dead", f"dying units: {stats['dead'][i]:.0%} of {kind} "
                                  "units never active"))
        std = stats["act_std"][i]
        if kind not in SATURATING and std > t["exploding_activation_std"]:
            found.append(("exploding", f"exploding activations: std {std:.2g}"))
        last = i == len(self.layers) - 1
        if not last and np.isfinite(grads[i]) and np.isfinite(reference):
            if reference > 0:
                ratio = grads[i] / reference
                if ratio < t["vanishing_ratio"]:
                    found.append(("vanishing", f"vanishing gradients: {ratio:.0e} x "
                                               "the last layer's"))
                elif ratio > t["exploding_ratio"]:
                    found.append(("exploding", f"exploding gradients: {ratio:.0e} x "
                                               "the last layer's"))
        u = stats["update_ratio"][i]
        if np.isfinite(u) and u > t["update_ratio_high"]:
            found.append(("updates too large", f"updates too large: {u:.0e} of the "
                                               "weights per step (learning rate too "
                                               "high?)"))
        elif np.isfinite(u) and u < t["update_ratio_low"]:
            found.append(("barely moving", f"weights barely move: {u:.0e} per step"))
        return found

    def _record_stats(self, index: int) -> dict[str, np.ndarray]:
        if not self.steps:
            raise ValueError("the report holds no records")
        if isinstance(index, bool) or not isinstance(index, numbers.Integral):
            raise TypeError(f"index must be an integer, got {index!r}")
        n = len(self.steps)
        if not -n <= index < n:
            raise IndexError(f"record {index} out of range: the report holds {n} "
                             "records")
        names = ("act_mean", "act_std", "saturated", "dead", "grad_norm",
                 "update_ratio", "nonfinite")
        return {name: self.array(name)[index] for name in names}

    def verdicts_at(self, index: int) -> list[tuple[str, list[str]]]:
        """(layer, problems) per layer at one record (``index`` into :attr:`steps`,
        negative from the end), from that record's statistics alone, its own update
        ratio included."""
        stats = self._record_stats(index)
        return [(name, [text for _, text in self._layer_problems(stats, i)])
                for i, name in enumerate(self.layers)]

    def timeline(self) -> list[dict]:
        """Every problem found at any record, one entry per layer and kind of problem.

        Each entry is a dict: ``layer`` and ``index`` (the layer), ``problem`` (a key
        of :meth:`problems`), ``first`` and ``last`` (the first and last step at which a
        record showed it), ``records`` (at how many records), ``at_end`` (whether the
        last record shows it: the problem persisted) and ``peak`` (the largest update
        ratio of the layer over the records that showed "updates too large", else
        NaN). Entries are in the order of their first step, then of the layers."""
        if not self.steps:
            raise ValueError("the report holds no records")
        entries = {}
        last = len(self.steps) - 1
        ratios = self.array("update_ratio")
        for r in range(len(self.steps)):
            stats = self._record_stats(r)
            for i, _ in enumerate(self.layers):
                for key in dict(self._layer_problems(stats, i)):
                    entry = entries.setdefault((i, key), {
                        "layer": self.layers[i], "index": i, "problem": key,
                        "first": self.steps[r], "last": self.steps[r], "records": 0,
                        "at_end": False, "peak": float("nan")})
                    entry["last"] = self.steps[r]
                    entry["records"] += 1
                    entry["at_end"] = r == last
                    if key == "updates too large":
                        entry["peak"] = float(np.nanmax([entry["peak"], ratios[r, i]]))
        return sorted(entries.values(), key=lambda e: (e["first"], e["index"]))

    def death_cause(self, index: int) -> dict | None:
        """Why the units of layer ``index`` are dead at the last record, read from the
        history; ``None`` if that layer is not dead at the end.

        A dict with ``alive_until`` (the last step at which the layer's dead fraction
        was within :data:`THRESHOLDS`, or ``None`` if it was dead from the first
        record), ``dead_from`` (the first step of the final run of records at which it
        was dead), ``peak_update`` and ``peak_layer`` (the largest update ratio of any
        layer at the records up to ``alive_until``, the steps that could have killed
        the units; NaN and ``None`` if there are none) and ``cause``:
        ``"initialization"`` (dead at the first record, which is taken before the first
        update), ``"large updates"`` (a recorded update above ``update_ratio_high``
        came before the death) or ``"unknown"`` (no recorded update was that large:
        record more often to see the steps in between)."""
        if not self.steps:
            raise ValueError("the report holds no records")
        if isinstance(index, bool) or not isinstance(index, numbers.Integral):
            raise TypeError(f"index must be an integer, got {index!r}")
        if not 0 <= index < len(self.layers):
            raise IndexError(f"layer {index} out of range: {len(self.layers)} layers")
        dead = self.array("dead")[:, index] > THRESHOLDS["dead_fraction"]
        if not dead[-1]:
            return None
        alive = np.flatnonzero(~dead)
        if len(alive) == 0:
            return {"alive_until": None, "dead_from": self.steps[0],
                    "peak_update": float("nan"), "peak_layer": None,
                    "cause": "initialization"}
        a = int(alive[-1])
        with np.errstate(all="ignore"):
            ratios = self.array("update_ratio")[:a + 1]
        ratios = np.where(np.isfinite(ratios), ratios, -np.inf)
        r, layer = np.unravel_index(int(np.argmax(ratios)), ratios.shape)
        peak = float(ratios[r, layer])
        large = peak > THRESHOLDS["update_ratio_high"]
        return {"alive_until": self.steps[a], "dead_from": self.steps[a + 1],
                "peak_update": peak if np.isfinite(peak) else float("nan"),
                "peak_layer": self.layers[layer] if np.isfinite(peak) else None,
                "cause": "large updates" if large else "unknown"}

    def verdicts(self) -> list[tuple[str, list[str]]]:
        """(layer, problems) per layer, over the whole recorded history; an empty list
        means nothing was found at any record.

        First the problems of the end state (the last record's statistics, with the
        median update ratio over the records), each with the step of the first record
        that showed it; for dead units also their cause (:meth:`death_cause`). Then the
        problems that earlier records showed and the last one does not (a transient
        problem), with the steps at which they were seen."""
        s = self.summary()
        history = {(e["index"], e["problem"]): e for e in self.timeline()}
        found = []
        for i, name in enumerate(self.layers):
            problems, now = [], set()
            for key, text in self._layer_problems(s, i):
                now.add(key)
                entry = history.get((i, key))
                if entry is not None and entry["first"] < self.steps[-1]:
                    head, tail = text.split(":", 1)
                    text = f"{head} (since step {entry['first']}):{tail}"
                if key == "dead":
                    text += _death_text(self.death_cause(i))
                problems.append(text)
            for (j, key), entry in history.items():
                if j != i or key in now:
                    continue
                problems.append(f"earlier, {_KEY_TEXT[key]}: {_when(entry)}, not at "
                                f"the last record (step {self.steps[-1]})")
            found.append((name, problems))
        return found

    def problems(self, *, when: str = "any") -> set[str]:
        """The kinds of problem found: a subset of {"nonfinite", "saturated", "dead",
        "exploding", "vanishing", "updates too large", "barely moving", "diverged"}.

        ``when="any"`` (the default): at any record or in the end state of
        :meth:`verdicts`; ``when="end"``: in the end state only, as a check that reads
        only the last record would report."""
        if when not in ("any", "end"):
            raise ValueError(f"when must be 'any' or 'end', got {when!r}")
        s = self.summary()
        out = {key for i in range(len(self.layers))
               for key, _ in self._layer_problems(s, i)}
        if when == "any":
            out.update(e["problem"] for e in self.timeline())
        if self.diverged_at is not None:
            out.add("diverged")
        return out

    def healthy(self) -> bool:
        """No problem at any record, and no divergence."""
        return not self.problems()

    def table_rows(self) -> list[list]:
        s = self.summary()
        rows = []
        for i, (name, kind) in enumerate(zip(self.layers, self.kinds, strict=True)):
            rows.append([name, kind, _fmt(s["act_mean"][i], ".3g"), _fmt(s["act_std"][i], ".3g"),
                         _fmt(s["saturated"][i], ".0%"), _fmt(s["dead"][i], ".0%"),
                         _fmt(s["grad_norm"][i], ".1e"), _fmt(s["update_ratio"][i], ".0e"),
                         "yes" if s["nonfinite"][i] else "no"])
        return rows

    TABLE_HEADERS = ("layer", "activation", "mean", "std", "saturated", "dead", "grad norm",
                     "update/weight", "NaN/Inf")

    def table(self) -> str:
        """The statistics of :meth:`summary` as a plain-text table."""
        from utils.display import format_table

        return format_table(self.table_rows(), self.TABLE_HEADERS)

    def report(self) -> str:
        """The table, then one verdict line per layer."""
        lines = [self.table(), ""]
        if self.diverged_at is not None:
            lines.append(f"the loss became NaN or infinite at step {self.diverged_at}")
        for name, problems in self.verdicts():
            lines.append(f"{name}: " + ("; ".join(problems) if problems else "ok"))
        return "\n".join(lines)

    def plot(self, *, title: str | None = None):
        """The standard figure: per-layer activation std and gradient norm (log axes) and
        dead fraction over the recorded steps, one line per layer coloured by depth."""
        import matplotlib as mpl
        import matplotlib.pyplot as plt

        if not self.steps:
            raise ValueError("the report holds no records")
        n = len(self.layers)
        cmap = mpl.colormaps["viridis"]
        colors = [cmap(i / max(n - 1, 1) * 0.9) for i in range(n)]
        fig, axes = plt.subplots(1, 3, figsize=(10, 3.2))
        steps = np.asarray(self.steps)
        panels = [("act_std", "activation std", True),
                  ("grad_norm", "weight-gradient norm", True),
                  ("dead", "dead fraction (ReLU family)", False)]
        for ax, (name, label, logy) in zip(axes, panels, strict=True):
            values = self.array(name)
            with np.errstate(invalid="ignore"):
                shown = np.where(values > 0, values, np.nan) if logy else values
            for i in range(n):
                ax.plot(steps, shown[:, i], color=colors[i],
                        marker="o" if len(steps) < 3 else None)
            if logy and np.isfinite(shown).any():
                ax.set_yscale("log")
            if name == "dead":
                ax.set_ylim(-0.03, 1.03)
                if not np.isfinite(values).any():
                    ax.text(0.5, 0.5, "no ReLU-family layers", ha="center", va="center",
                            transform=ax.transAxes, color="0.4")
            ax.set_xlim(steps.min(), max(steps.max(), steps.min() + 1))
            ax.set_xlabel("training step")
            ax.set_ylabel(label)
        bounds = np.arange(0.5, n + 1.0)
        norm = mpl.colors.BoundaryNorm(bounds, n)
        sm = mpl.cm.ScalarMappable(norm=norm, cmap=mpl.colors.ListedColormap(colors))
        bar = fig.colorbar(sm, ax=axes, fraction=0.03, pad=0.01)
        bar.set_label("layer (1 = input side)")
        bar.set_ticks(np.unique(np.linspace(1, n, min(n, 9)).round()))
        if title:
            fig.suptitle(title)
        return fig


_KEY_TEXT = {"nonfinite": "non-finite values", "saturated": "saturated units",
             "dead": "dying units", "exploding": "exploding activations or gradients",
             "vanishing": "vanishing gradients",
             "updates too large": "updates too large",
             "barely moving": "weights barely moving"}


def _when(entry: dict) -> str:
    """'at step 1' or 'at 3 records, steps 1 to 31', with the peak update ratio."""
    if entry["records"] == 1:
        text = f"at step {entry['first']}"
    else:
        text = (f"at {entry['records']} records, steps {entry['first']} to "
                f"{entry['last']}")
    if np.isfinite(entry["peak"]):
        text += f" (up to {entry['peak']:.0e} of the weights per step)"
    return text


def _death_text(cause: dict | None) -> str:
    if cause is None:
        return ""
    if cause["cause"] == "initialization":
        return ("; dead from the first record, before any update: initialization or "
                "biases")
    text = (f"; alive at step {cause['alive_until']}, dead from step "
            f"{cause['dead_from']}")
    if cause["cause"] == "large updates":
        return (text + f", after updates of up to {cause['peak_update']:.0e} of the "
                "weights per step (learning rate too high?)")
    return (text + "; no recorded update before it was large: record more often "
            "(smaller every) to see the steps in between")


def _fmt(value, spec: str) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(value)
    return "-" if not np.isfinite(value) else format(float(value), spec)


def _check_every(every) -> int:
    if isinstance(every, bool) or not isinstance(every, numbers.Integral):
        raise TypeError(f"every must be a positive integer, got {every!r}")
    if every <= 0:
        raise ValueError(f"every must be a positive integer (record every k-th step), got {every}")
    return int(every)


def _check_data(X, y):
    X = as_float_array(X, "X")
    if X.ndim < 2:
        raise ValueError(f"X must have shape (examples, features...), got {X.shape}")
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != len(X):
        raise ValueError(f"y must be 1-D with one label per row of X ({len(X)}), got shape "
                         f"{y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"y must hold integer class labels, got dtype {y.dtype}")
    return X, y


def _check_label_range(y: np.ndarray, num_outputs: int) -> None:
    """Class labels must index the model's outputs (0 .. num_outputs - 1)."""
    if len(y) and (y.min() < 0 or y.max() >= num_outputs):
        raise ValueError(f"y holds labels from {y.min()} to {y.max()}, but the model has "
                         f"{num_outputs} outputs: labels must lie in 0..{num_outputs - 1}")


def _stats(act: np.ndarray, kind: str) -> dict:
    with np.errstate(all="ignore"):
        finite = bool(np.isfinite(act).all())
        return {"act_mean": float(act.mean()), "act_std": float(act.std()),
                "saturated": saturation_fraction(act, kind), "dead": dead_fraction(act, kind),
                "nonfinite": not finite}


def _update_ratio(before: np.ndarray, after: np.ndarray) -> tuple[float, bool]:
    with np.errstate(all="ignore"):
        finite = bool(np.isfinite(after).all())
        w = float(np.linalg.norm(before))
        ratio = float(np.linalg.norm(after - before)) / w if w > 0 else float("nan")
    return ratio, finite


# --- PyTorch ------------------------------------------------------------------------------


class TorchHealthMonitor:
    """Hooks that record a :class:`HealthReport` for a ``torch.nn.Module``.

    Use as a context manager and pass :meth:`after_step` to :func:`utils.nets.torch_fit.fit`
    (``after_step=monitor.after_step``); :func:`check` does this for you. Hooks exist only
    during the recorded steps (1, k + 1, 2k + 1, ...) and are all removed on exit.
    """

    def __init__(self, model, every: int):
        torch = _torch()
        if not isinstance(model, torch.nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        self.every = _check_every(every)
        self.model = model
        self.units = _torch_units(model)
        self._handles = []
        self._armed = False
        self._acts = {}
        self._grads = {}
        self._before = None
        names = [f"{i + 1}: {name}" for i, (name, _, _, _) in enumerate(self.units)]
        self.report = HealthReport(layers=names, kinds=[u[3] for u in self.units],
                                   every=self.every)

    def __enter__(self):
        self._arm()
        return self

    def __exit__(self, *exc):
        self._disarm()
        return False

    def _arm(self) -> None:
        if self._armed:
            return
        self._acts, self._grads = {}, {}
        self._before = [u[1].weight.detach().cpu().numpy().copy() for u in self.units]
        for i, (_, weight_module, act_module, _) in enumerate(self.units):
            source = act_module if act_module is not None else weight_module
            self._handles.append(source.register_forward_hook(self._forward_hook(i)))
            self._handles.append(weight_module.weight.register_hook(self._grad_hook(i)))
        self._armed = True

    def _disarm(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []
        self._armed = False

    def _forward_hook(self, i):
        def hook(module, inputs, output):
            # training-mode calls only (not fit's evaluation passes); a module called twice
            # in one step is recorded at its first call
            if module.training and i not in self._acts:
                self._acts[i] = output.detach().cpu().numpy().copy()
        return hook

    def _grad_hook(self, i):
        def hook(grad):
            self._grads[i] = grad.detach().cpu().numpy().copy()
        return hook

    def after_step(self, model, step: int) -> None:
        """Call after every optimizer step with the number of steps taken so far."""
        if (step - 1) % self.every == 0:
            self._finish(step)
        if step % self.every == 0:
            self._arm()

    def _finish(self, step: int, loss: float = float("nan")) -> None:
        stats = []
        for i, (_, weight_module, _, kind) in enumerate(self.units):
            act = self._acts.get(i)
            s = _stats(act, kind) if act is not None else {
                "act_mean": np.nan, "act_std": np.nan, "saturated": np.nan, "dead": np.nan,
                "nonfinite": False}
            grad = self._grads.get(i)
            if grad is None and weight_module.weight.grad is not None:
                grad = weight_module.weight.grad.detach().cpu().numpy()
            with np.errstate(all="ignore"):
                s["grad_norm"] = float(np.linalg.norm(grad)) if grad is not None else np.nan
                if grad is not None and not np.isfinite(grad).all():
                    s["nonfinite"] = True
            after = weight_module.weight.detach().cpu().numpy()
            if self._before is not None:
                s["update_ratio"], ok = _update_ratio(self._before[i], after)
            else:
                s["update_ratio"], ok = np.nan, bool(np.isfinite(after).all())
            s["nonfinite"] = s["nonfinite"] or not ok
            stats.append(s)
        self.report._record(step, stats, loss)
        self._disarm()

    def probe(self, X, y, step: int) -> None:
        """One forward and backward pass on (X, y) with every hook armed, recorded as ``step``
        without an update (used after the loss became non-finite)."""
        torch = _torch()
        from utils.nets.torch_fit import to_tensors

        first = next(self.model.parameters())
        X_t, y_t = to_tensors(X, y, first.device, first.dtype)  # float32 or float64 model
        self._disarm()
        self._arm()
        self._before = None
        self.model.zero_grad()
        with np.errstate(all="ignore"):
            loss = torch.nn.functional.cross_entropy(self.model(X_t), y_t)
            loss.backward()
        self._finish(step, float(loss.detach()))


def _torch():
    from utils.frameworks import import_torch

    return import_torch()


def _torch_units(model) -> list[tuple]:
    """(name, weight module, activation module or None, activation kind) per weight layer,
    in registration order; the activation is the first one before the next weight layer."""
    torch = _torch()
    units = []
    for name, module in model.named_modules():
        weight = getattr(module, "weight", None)
        if isinstance(weight, torch.nn.Parameter) and weight.ndim >= 2 and weight.requires_grad:
            units.append([f"{type(module).__name__}({name})" if name else type(module).__name__,
                          module, None, "linear"])
        elif type(module).__name__ in _TORCH_KINDS and units and units[-1][2] is None:
            units[-1][2] = module
            units[-1][3] = _TORCH_KINDS[type(module).__name__]
    if not units:
        raise ValueError("the model has no trainable weight layers (Linear, Conv, ...) to "
                         "monitor")
    return [tuple(u) for u in units]


def _check_torch(model, X, y, *, optimizer, epochs, batch_size, every, seed, X_val, y_val):
    from utils.nets.torch_fit import fit

    torch = _torch()
    monitor = TorchHealthMonitor(model, every)
    X, y = _check_data(X, y)
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
    first = next(model.parameters())
    try:
        with torch.no_grad():
            model.eval()
            # the model's own dtype: a float64 model trains in float64 (torch_fit.fit)
            logits = model(torch.as_tensor(X[:2], dtype=first.dtype, device=first.device))
            model.train()
    except RuntimeError as exc:
        raise ValueError(f"X of shape {X.shape} does not fit the model: {exc}") from None
    _check_label_range(y, logits.shape[-1])
    start = time.perf_counter()
    steps_done = [0]

    def after_step(m, step):
        steps_done[0] = step
        monitor.after_step(m, step)

    history = None
    with monitor:
        try:
            history = fit(model, X, y, optimizer=optimizer, epochs=epochs, batch_size=batch_size,
                          seed=seed, X_val=X_val, y_val=y_val, after_step=after_step)
        except FloatingPointError:
            monitor.report.diverged_at = steps_done[0] + 1
            monitor.probe(X, y, steps_done[0] + 1)
    monitor.report.seconds = time.perf_counter() - start
    if history is not None:  # the training loss of each recorded step
        monitor.report.loss = [history.step_loss[s - 1] for s in monitor.report.steps]
    return monitor.report, history


# --- Keras --------------------------------------------------------------------------------


def _keras_units(model):
    keras = _keras()
    units = []
    for layer in model.layers:
        if hasattr(layer, "kernel") and getattr(layer, "trainable", True):
            activation = getattr(layer, "activation", None)
            kind = _KERAS_KINDS.get(getattr(activation, "__name__", "linear"), "other")
            units.append([f"{type(layer).__name__}({layer.name})", layer, None, kind])
        elif units and units[-1][2] is None and units[-1][3] == "linear":
            kind = None
            if isinstance(layer, keras.layers.Activation):
                kind = _KERAS_KINDS.get(getattr(layer.activation, "__name__", ""), "other")
            elif isinstance(layer, keras.layers.ReLU):
                kind = "relu"
            elif isinstance(layer, keras.layers.LeakyReLU):
                kind = "leaky_relu"
            elif isinstance(layer, keras.layers.ELU):
                kind = "elu"
            if kind is not None:
                units[-1][2] = layer
                units[-1][3] = kind
    if not units:
        raise ValueError("the model has no trainable weight layers (Dense, Conv, ...) to monitor")
    return [tuple(u) for u in units]


def _keras():
    from utils.frameworks import import_keras

    return import_keras()


def _check_keras(model, X, y, *, optimizer, epochs, batch_size, every, seed, X_val, y_val):
    keras = _keras()
    import tensorflow as tf

    every = _check_every(every)
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    X, y = _check_data(X, y)
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        raise TypeError(f"optimizer must be a keras.optimizers.Optimizer, got "
                        f"{type(optimizer).__name__}")
    units = _keras_units(model)
    try:
        inputs = model.inputs
        outputs = [(act or layer).output for _, layer, act, _ in units]
    except (AttributeError, ValueError) as exc:
        raise ValueError("the Keras model must be a built functional or Sequential model "
                         f"(start with keras.Input(shape=...)): {exc}") from None
    expected = tuple(inputs[0].shape[1:])
    if tuple(X.shape[1:]) != expected:
        raise ValueError(f"X has examples of shape {tuple(X.shape[1:])}, the model expects "
                         f"{expected}")
    _check_label_range(y, int(model.outputs[0].shape[-1]))
    probe = keras.Model(inputs, [*outputs, model.outputs[0]])
    dtype = model.inputs[0].dtype
    X_t = tf.constant(X, dtype=dtype)
    y_t = tf.constant(y, dtype=tf.int64)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    kernels = [layer.kernel for _, layer, _, _ in units]
    weights = model.trainable_variables

    index = {id(v): i for i, v in enumerate(weights)}
    kernel_pos = [index[id(k)] for k in kernels]

    # One compiled step for every step (any batch size, so the last, smaller batch of an
    # epoch does not trigger a second trace). The activations and kernel gradients it
    # returns are computed by the step anyway; they are copied out of TensorFlow only on
    # the recorded steps.
    @tf.function(input_signature=[tf.TensorSpec([None, *X.shape[1:]], dtype),
                                  tf.TensorSpec([None], tf.int64)])
    def train_step(xb, yb):
        with tf.GradientTape() as tape:
            out = probe(xb, training=True)
            loss = loss_fn(yb, out[-1])
        grads = tape.gradient(loss, weights)
        optimizer.apply_gradients(zip(grads, weights, strict=True))
        return loss, out[:-1], [grads[i] for i in kernel_pos]

    names = [f"{i + 1}: {u[0]}" for i, u in enumerate(units)]
    report = HealthReport(layers=names, kinds=[u[3] for u in units], every=every)

    def record(step, loss, acts, grads, before):
        stats = []
        for i, kind in enumerate(report.kinds):
            st = _stats(acts[i].numpy(), kind)
            g = grads[i].numpy()
            with np.errstate(all="ignore"):
                st["grad_norm"] = float(np.linalg.norm(g))
                st["nonfinite"] = st["nonfinite"] or not np.isfinite(g).all()
            after = kernels[i].numpy()
            if before is None:
                st["update_ratio"], ok = float("nan"), bool(np.isfinite(after).all())
            else:
                st["update_ratio"], ok = _update_ratio(before[i], after)
            st["nonfinite"] = st["nonfinite"] or not ok
            stats.append(st)
        report._record(step, stats, float(loss))
    rng = np.random.default_rng(seed)
    history = {"val_accuracy": []}
    start = time.perf_counter()
    step = 0
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for s in range(0, len(X), batch_size):
            idx = tf.constant(order[s:s + batch_size])
            xb, yb = tf.gather(X_t, idx), tf.gather(y_t, idx)
            step += 1
            if (step - 1) % every == 0:
                before = [k.numpy().copy() for k in kernels]
                loss, acts, grads = train_step(xb, yb)
                record(step, loss, acts, grads, before)
            else:
                loss, _, _ = train_step(xb, yb)
            if not np.isfinite(float(loss)):
                report.diverged_at = step
                # one more pass on the training set, no update: where are the NaNs now?
                with tf.GradientTape() as tape:
                    out = probe(X_t, training=True)
                    loss = loss_fn(y_t, out[-1])
                record(step + 1, loss, out[:-1], tape.gradient(loss, kernels), None)
                break
        if report.diverged_at is not None:
            break
        if X_val is not None:
            logits = model(tf.constant(np.asarray(X_val), dtype=dtype), training=False)
            history["val_accuracy"].append(float(np.mean(np.argmax(logits, 1) == y_val)))
    report.seconds = time.perf_counter() - start
    return report, history


# --- the one call -------------------------------------------------------------------------


def check(model, X, y, *, optimizer, epochs: int = 1, batch_size: int = 64, every: int = 10,
          seed: int = 0, X_val=None, y_val=None):
    """Train ``model`` on (X, y) and record its health every ``every`` steps.

    ``model`` is a ``torch.nn.Module`` or a ``keras.Model`` producing class logits;
    ``optimizer`` belongs to the same framework. Returns ``(report, history)``: the
    :class:`HealthReport` and the training history (PyTorch: the
    :class:`utils.nets.torch_fit.TrainHistory` of :func:`utils.nets.torch_fit.fit`,
    ``None`` if the loss became non-finite; Keras: a dict with the validation accuracy per
    epoch).
    """
    every = _check_every(every)
    kind = _framework_of(model)
    runner = _check_torch if kind == "torch" else _check_keras
    return runner(model, X, y, optimizer=optimizer, epochs=epochs, batch_size=batch_size,
                  every=every, seed=seed, X_val=X_val, y_val=y_val)


def _framework_of(model) -> str:
    import sys

    if "torch" in sys.modules and isinstance(model, sys.modules["torch"].nn.Module):
        return "torch"
    if "keras" in sys.modules and isinstance(model, sys.modules["keras"].Model):
        return "keras"
    raise TypeError("model must be a torch.nn.Module or a keras.Model, got "
                    f"{type(model).__name__}")
