"""utils.calibration: ECE and reliability bins against a hand-computed example and a
loop-by-loop reference; NLL and entropy against independent formulas; bad inputs."""

from __future__ import annotations

import numpy as np
import pytest

from utils import calibration as cal
from utils.nets.numpy_mlp import cross_entropy, softmax

# Six predictions over three classes, worked out by hand below.
PROBS = np.array([[0.90, 0.05, 0.05],   # confidence 0.90, predicts 0, label 0: right
                  [0.80, 0.10, 0.10],   # 0.80, predicts 0, label 1: wrong
                  [0.20, 0.70, 0.10],   # 0.70, predicts 1, label 1: right
                  [0.30, 0.30, 0.40],   # 0.40, predicts 2, label 2: right
                  [0.10, 0.35, 0.55],   # 0.55, predicts 2, label 0: wrong
                  [0.60, 0.25, 0.15]])  # 0.60, predicts 0, label 0: right
LABELS = np.array([0, 1, 1, 2, 0, 0])


def test_ece_hand_computed_two_bins():
    # (0, 0.5]: only the 0.40 prediction, right: |1 - 0.4| = 0.6, weight 1/6.
    # (0.5, 1]: confidences 0.9, 0.8, 0.7, 0.55, 0.6 (mean 0.71), 3 of 5 right (0.6):
    #           |0.6 - 0.71| = 0.11, weight 5/6.
    want = 0.6 / 6 + 0.11 * 5 / 6
    assert np.isclose(cal.expected_calibration_error(PROBS, LABELS, n_bins=2), want, rtol=1e-12)
    bins = cal.reliability_bins(PROBS, LABELS, n_bins=2)
    assert bins.count.tolist() == [1, 5]
    assert np.allclose(bins.confidence, [0.4, 0.71]) and np.allclose(bins.accuracy, [1.0, 0.6])
    assert np.allclose(bins.gap, [0.6, -0.11])


def test_ece_hand_computed_five_bins_with_values_on_the_edges():
    # Bins are (lo, hi]: 0.4 -> (0.2, 0.4], 0.6 -> (0.4, 0.6], 0.8 -> (0.6, 0.8].
    # (0.2, 0.4]: {0.4 right}          gap 0.6
    # (0.4, 0.6]: {0.55 wrong, 0.6 right} conf 0.575, acc 0.5, gap 0.075
    # (0.6, 0.8]: {0.8 wrong, 0.7 right}  conf 0.75,  acc 0.5, gap 0.25
    # (0.8, 1.0]: {0.9 right}          gap 0.1
    want = (0.6 + 2 * 0.075 + 2 * 0.25 + 0.1) / 6
    assert np.isclose(cal.expected_calibration_error(PROBS, LABELS, n_bins=5), want, rtol=1e-12)
    bins = cal.reliability_bins(PROBS, LABELS, n_bins=5)
    assert bins.count.tolist() == [0, 1, 2, 2, 1]
    assert np.isnan(bins.confidence[0]) and np.isnan(bins.accuracy[0])  # empty bin


def loop_ece(probs, y, n_bins):
    """Reference written as the definition reads, one bin at a time."""
    conf = probs.max(axis=1)
    right = probs.argmax(axis=1) == y
    total = 0.0
    for b in range(n_bins):
        lo, hi = b / n_bins, (b + 1) / n_bins
        inside = (conf > lo) & (conf <= hi) if b else (conf <= hi)
        if inside.any():
            total += inside.mean() * abs(right[inside].mean() - conf[inside].mean())
    return total


@pytest.mark.parametrize("n_bins", [1, 3, 10, 15])
def test_ece_against_a_loop_reference(n_bins):
    rng = np.random.default_rng(n_bins)
    probs = softmax(rng.normal(scale=3.0, size=(500, 10)))
    y = rng.integers(0, 10, size=500)
    assert np.isclose(cal.expected_calibration_error(probs, y, n_bins), loop_ece(probs, y, n_bins),
                      rtol=1e-12, atol=1e-15)


def test_one_bin_ece_is_the_gap_between_mean_confidence_and_accuracy():
    acc = np.mean(PROBS.argmax(axis=1) == LABELS)
    want = abs(acc - PROBS.max(axis=1).mean())
    assert np.isclose(cal.expected_calibration_error(PROBS, LABELS, n_bins=1), want)


def test_a_calibrated_predictor_has_small_ece():
    """Labels drawn from the predicted distributions: calibrated by construction."""
    rng = np.random.default_rng(0)
    probs = softmax(rng.normal(scale=2.0, size=(40_000, 4)))
    y = (rng.random((len(probs), 1)) > probs.cumsum(axis=1)).sum(axis=1)
    assert cal.expected_calibration_error(probs, y, n_bins=10) < 0.01
    # and an overconfident one (probabilities sharpened after drawing the labels) is not
    sharp = softmax(3 * np.log(probs))
    assert cal.expected_calibration_error(sharp, y, n_bins=10) > 0.1


def test_nll_equals_cross_entropy_of_the_logits():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(30, 5))
    y = rng.integers(0, 5, size=30)
    assert np.isclose(cal.negative_log_likelihood(softmax(logits), y), cross_entropy(logits, y),
                      rtol=1e-12)
    confident_mistake = np.array([[1.0, 0.0]])
    assert np.isclose(cal.negative_log_likelihood(confident_mistake, np.array([1])),
                      -np.log(1e-12))


def test_predictive_entropy():
    from scipy.stats import entropy

    rng = np.random.default_rng(2)
    probs = softmax(rng.normal(size=(20, 6)))
    assert np.allclose(cal.predictive_entropy(probs), entropy(probs, axis=1), rtol=1e-12)
    assert np.allclose(cal.predictive_entropy(np.full((2, 4), 0.25)), np.log(4))
    assert np.array_equal(cal.predictive_entropy(np.eye(3)), np.zeros(3))


@pytest.mark.parametrize("fn", [cal.expected_calibration_error, cal.reliability_bins,
                                cal.negative_log_likelihood])
def test_bad_inputs(fn):
    with pytest.raises(ValueError, match="not logits"):
        fn(np.array([[2.0, -1.0]]), np.array([0]))
    with pytest.raises(ValueError, match="sum to 1"):
        fn(np.array([[0.5, 0.4]]), np.array([0]))
    with pytest.raises(ValueError, match="2-dimensional"):
        fn(np.array([0.5, 0.5]), np.array([0]))
    with pytest.raises(ValueError, match="at least two classes"):
        fn(np.ones((3, 1)), np.zeros(3, dtype=int))
    with pytest.raises(ValueError, match="labels"):
        fn(PROBS, LABELS[:-1])
    with pytest.raises(ValueError, match="labels must lie"):
        fn(PROBS, LABELS + 1)
    with pytest.raises(TypeError, match="integer"):
        fn(PROBS, LABELS.astype(float))
    with pytest.raises(ValueError, match="NaN"):
        fn(np.array([[np.nan, 0.5]]), np.array([0]))


def test_bad_bin_counts_and_empty_input():
    for bad in (0, -3):
        with pytest.raises(ValueError, match="n_bins"):
            cal.expected_calibration_error(PROBS, LABELS, n_bins=bad)
    with pytest.raises(TypeError, match="n_bins"):
        cal.expected_calibration_error(PROBS, LABELS, n_bins=2.5)
    with pytest.raises(ValueError, match="empty"):
        cal.expected_calibration_error(np.zeros((0, 3)), np.zeros(0, dtype=int))
