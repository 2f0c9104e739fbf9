"""How far to trust a classifier's probabilities: calibration and predictive uncertainty.

A classifier is *calibrated* if, among the examples it predicts with confidence 0.8,
80 % are right. The reliability diagram bins the predictions by confidence (the largest
predicted probability) and compares each bin's accuracy with its mean confidence; the
expected calibration error (ECE) is the average gap, weighted by the bin sizes
(Naeini et al. 2015; Guo et al. 2017).

Bins are equal-width, ``(edges[b], edges[b + 1]]`` with ``edges = linspace(0, 1, n_bins
+ 1)``; a confidence of exactly 0 goes into the first bin.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from utils._validation import (
    as_float_array,
    check_labels,
    check_positive_float,
    check_positive_int,
)


def check_probabilities(probs, name: str = "probs", *, atol: float = 1e-6) -> np.ndarray:
    """``probs`` as a float array of shape (n, classes) whose rows are distributions."""
    p = as_float_array(probs, name, ndim=2)
    if p.shape[1] < 2:
        raise ValueError(f"{name} needs at least two classes (columns), got shape {p.shape}")
    if p.size and (p.min() < 0 or p.max() > 1):
        raise ValueError(f"{name} must lie in [0, 1]; got values from {p.min():.3g} to "
                         f"{p.max():.3g} (pass probabilities, not logits)")
    sums = p.sum(axis=1)
    if p.size and np.abs(sums - 1).max() > atol:
        raise ValueError(f"every row of {name} must sum to 1; a row sums to "
                         f"{sums[np.abs(sums - 1).argmax()]:.6g}")
    return p


_labels = check_labels


@dataclass(frozen=True)
class ReliabilityBins:
    """Per confidence bin: the number of predictions, their mean confidence and accuracy
    (NaN for empty bins)."""

    edges: np.ndarray
    count: np.ndarray
    confidence: np.ndarray
    accuracy: np.ndarray

    @property
    def gap(self) -> np.ndarray:
        """accuracy - confidence per bin: negative where the model is overconfident."""
        return self.accuracy - self.confidence


def reliability_bins(probs, y, n_bins: int = 10) -> ReliabilityBins:
    """Bin the predictions by confidence: the data of a reliability diagram."""
    p = check_probabilities(probs)
    y = _labels(y, len(p), p.shape[1])
    n_bins = check_positive_int(n_bins, "n_bins")
    if len(p) == 0:
        raise ValueError("probs is empty")
    confidence = p.max(axis=1)
    correct = (p.argmax(axis=1) == y).astype(float)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # smallest i with edges[i] >= c, minus one: bin b holds (edges[b], edges[b + 1]]
    bins = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, n_bins - 1)
    count = np.bincount(bins, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(bins, weights=confidence, minlength=n_bins) / count
        accuracy = np.bincount(bins, weights=correct, minlength=n_bins) / count
    return ReliabilityBins(edges, count, mean_conf, accuracy)


def expected_calibration_error(probs, y, n_bins: int = 10) -> float:
    """ECE = sum over bins of (bin size / n) * |bin accuracy - bin mean confidence|."""
    b = reliability_bins(probs, y, n_bins)
    filled = b.count > 0
    weights = b.count[filled] / b.count.sum()
    return float(np.sum(weights * np.abs(b.accuracy[filled] - b.confidence[filled])))


def negative_log_likelihood(probs, y, *, eps: float = 1e-12) -> float:
    """Mean ``-log p(true class)``: the cross-entropy of predicted probabilities
    (clipped at ``eps`` so that a confident mistake costs ``-log eps``, not infinity)."""
    p = check_probabilities(probs)
    y = _labels(y, len(p), p.shape[1])
    eps = check_positive_float(eps, "eps")
    return float(-np.mean(np.log(np.maximum(p[np.arange(len(y)), y], eps))))


def predictive_entropy(probs) -> np.ndarray:
    """Entropy of each predicted distribution in nats: 0 when certain, ``log(classes)``
    when uniform."""
    p = check_probabilities(probs)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log(p), 0.0)
    return -terms.sum(axis=1)
