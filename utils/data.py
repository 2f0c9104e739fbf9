"""The book's datasets: real data that ships with scikit-learn, and synthetic sets.

Nothing here downloads anything. The default dataset is scikit-learn's 8x8
handwritten digits (1,797 images, 10 classes), split once into fixed training,
validation and test sets and standardized with the training statistics.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from utils._validation import check_fraction, check_integer, check_positive_int, check_rng


@dataclass(frozen=True)
class Split:
    """Features ``X_*`` of shape (n, num_features) and integer labels ``y_*``."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray

    @property
    def num_features(self) -> int:
        return self.X_train.shape[1]

    @property
    def num_classes(self) -> int:
        return int(max(self.y_train.max(), self.y_val.max(), self.y_test.max())) + 1

    def sizes(self) -> tuple[int, int, int]:
        return len(self.y_train), len(self.y_val), len(self.y_test)


def load_digits(*, val_fraction: float = 0.2, test_fraction: float = 0.2,
                standardize: bool = True, dtype=np.float64, seed: int = 0) -> Split:
    """scikit-learn's digits, split per class (stratified) with a fixed seed.

    With ``standardize=True`` every pixel is shifted and scaled by the training-set
    mean and standard deviation (pixels that are constant in the training set,
    such as some corners, are only shifted). Pixel values are 0..16 otherwise.
    """
    from sklearn.datasets import load_digits as _sklearn_digits

    val_fraction = check_fraction(val_fraction, "val_fraction")
    test_fraction = check_fraction(test_fraction, "test_fraction")
    seed = check_integer(seed, "seed", minimum=0)
    if val_fraction + test_fraction >= 1:
        raise ValueError("val_fraction + test_fraction must be < 1, got "
                         f"{val_fraction} + {test_fraction}")
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be np.float32 or np.float64, got {dtype}")
    X, y = _sklearn_digits(return_X_y=True)
    rng = np.random.default_rng(seed)
    parts = {"train": [], "val": [], "test": []}
    for label in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == label))
        n_val = round(val_fraction * len(idx))
        n_test = round(test_fraction * len(idx))
        parts["val"].append(idx[:n_val])
        parts["test"].append(idx[n_val:n_val + n_test])
        parts["train"].append(idx[n_val + n_test:])
    # shuffle within each part so that classes are interleaved
    index = {k: rng.permutation(np.concatenate(v)) for k, v in parts.items()}
    X = X.astype(np.float64)
    if standardize:
        mean = X[index["train"]].mean(axis=0)
        std = X[index["train"]].std(axis=0)
        std[std == 0] = 1.0
        X = (X - mean) / std
    X = X.astype(dtype)
    y = y.astype(np.int64)
    return Split(X[index["train"]], y[index["train"]], X[index["val"]], y[index["val"]],
                 X[index["test"]], y[index["test"]])


def subsample(X, y, n: int, rng: np.random.Generator):
    """``n`` examples drawn without replacement (e.g. a small training set that overfits)."""
    n = check_positive_int(n, "n")
    rng = check_rng(rng)
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same length: {len(X)} examples, {len(y)} labels")
    if n > len(X):
        raise ValueError(f"cannot draw {n} examples from {len(X)}")
    idx = rng.choice(len(X), size=n, replace=False)
    return X[idx], y[idx]


# --- Synthetic sequences ------------------------------------------------------------------


def adding_problem(n: int, seq_len: int, rng: np.random.Generator, *, dtype=np.float64):
    """The adding problem (Hochreiter & Schmidhuber, 1997): sum two marked numbers.

    Each of the ``n`` sequences has ``seq_len`` steps with two input channels: a number
    drawn uniformly from [0, 1], and a marker that is 1 at exactly two steps (one in the
    first half of the sequence, one in the second) and 0 elsewhere. The target is the sum
    of the two marked numbers. Returns ``X`` of shape (n, seq_len, 2) and ``y`` of shape
    (n, 1). The first marker lies up to ``seq_len`` steps before the end, so the longer
    the sequence, the further back in time the gradient must carry the information.
    Always predicting 1 (the mean target) gives a mean squared error of 1/6.
    """
    n = check_positive_int(n, "n")
    seq_len = check_positive_int(seq_len, "seq_len")
    if seq_len < 2:
        raise ValueError(f"seq_len must be at least 2 (two marked steps), got {seq_len}")
    rng = check_rng(rng)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be np.float32 or np.float64, got {dtype}")
    half = seq_len // 2
    values = rng.uniform(0.0, 1.0, size=(n, seq_len))
    first = rng.integers(0, half, size=n)
    second = rng.integers(half, seq_len, size=n)
    markers = np.zeros((n, seq_len))
    rows = np.arange(n)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    X = np.stack([values, markers], axis=-1).astype(dtype)
    y = (values[rows, first] + values[rows, second])[:, None].astype(dtype)
    return X, y
