"""utils.data: the digits split (sizes, stratification, standardization) and subsample."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.datasets

from utils.data import Split, load_digits, subsample

PARTS = ("train", "val", "test")


@pytest.fixture(scope="module")
def raw():
    """scikit-learn's digits as shipped: the reference the split is checked against."""
    X, y = sklearn.datasets.load_digits(return_X_y=True)
    return X.astype(np.float64), y


@pytest.fixture(scope="module")
def split():
    return load_digits()


@pytest.fixture(scope="module")
def unscaled():
    """The same split (same seed) without standardization: raw pixel values."""
    return load_digits(standardize=False)


def parts(s: Split):
    return {"train": (s.X_train, s.y_train), "val": (s.X_val, s.y_val),
            "test": (s.X_test, s.y_test)}


def rows_with_labels(X, y):
    """Rows [pixels..., label] sorted lexicographically: a multiset of examples."""
    table = np.column_stack([X, y])
    return table[np.lexsort(table.T[::-1])]


def test_sizes_add_up_and_shapes(split, raw):
    X, y = raw
    assert sum(split.sizes()) == len(y)
    assert split.num_features == X.shape[1]
    assert split.num_classes == len(np.unique(y))
    for name, (Xp, yp) in parts(split).items():
        assert Xp.shape == (len(yp), X.shape[1]), name
        assert Xp.dtype == np.float64 and yp.dtype == np.int64, name


def test_parts_partition_the_dataset(unscaled, raw):
    """Together the three parts are exactly the dataset: nothing lost, nothing twice.

    Compared as multisets of (pixels, label) rows, which also catches a row that
    appears in two parts (it would then be counted twice) without relying on the
    rows being distinct (the digits contain a few duplicate images).
    """
    X_all = np.concatenate([p[0] for p in parts(unscaled).values()])
    y_all = np.concatenate([p[1] for p in parts(unscaled).values()])
    np.testing.assert_array_equal(rows_with_labels(X_all, y_all), rows_with_labels(*raw))


@pytest.mark.parametrize("val_fraction, test_fraction", [(0.2, 0.2), (0.1, 0.3), (0.0, 0.25)])
def test_split_is_stratified(raw, val_fraction, test_fraction):
    s = load_digits(val_fraction=val_fraction, test_fraction=test_fraction, standardize=False)
    _, y = raw
    fractions = {"val": val_fraction, "test": test_fraction,
                 "train": 1 - val_fraction - test_fraction}
    for label in np.unique(y):
        n_class = np.count_nonzero(y == label)
        for name, (_, yp) in parts(s).items():
            got = np.count_nonzero(yp == label)
            # per class, each part gets its share rounded to a whole example
            assert abs(got - fractions[name] * n_class) <= 1, (name, label, got)


def test_same_seed_same_split_other_seed_other_split():
    a, b, c = load_digits(seed=0), load_digits(seed=0), load_digits(seed=1)
    for (Xa, ya), (Xb, yb), (Xc, yc) in zip(parts(a).values(), parts(b).values(),
                                            parts(c).values(), strict=True):
        np.testing.assert_array_equal(Xa, Xb)
        np.testing.assert_array_equal(ya, yb)
        assert ya.shape == yc.shape  # same sizes ...
        assert not np.array_equal(Xa, Xc)  # ... different examples
    assert a.sizes() == c.sizes()


def test_classes_are_interleaved(split):
    """Shuffled within each part: the labels are not sorted by class."""
    for name, (_, yp) in parts(split).items():
        assert np.any(np.diff(yp) < 0), name


def test_standardized_with_training_statistics(split, unscaled):
    mean = unscaled.X_train.mean(axis=0)
    std = unscaled.X_train.std(axis=0)
    constant = std == 0
    assert constant.any(), "the digits have constant corner pixels; the test relies on it"
    # training features: mean 0, std 1 (std 0 for pixels constant in the training set,
    # which are only shifted); 1e-12 is far above the rounding of a 1000-row mean.
    np.testing.assert_allclose(split.X_train.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(split.X_train.std(axis=0), np.where(constant, 0.0, 1.0),
                               atol=1e-12)
    # validation and test sets use the *training* mean and std, not their own
    scale = np.where(constant, 1.0, std)
    for name in PARTS:
        X_raw = parts(unscaled)[name][0]
        X_std = parts(split)[name][0]
        np.testing.assert_allclose(X_std, (X_raw - mean) / scale, rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(parts(split)[name][1], parts(unscaled)[name][1])
    own_means = np.abs(split.X_val.mean(axis=0))
    assert own_means.max() > 1e-3  # own statistics would have given exactly 0


def test_unscaled_values_are_raw_pixels(unscaled, raw):
    X, _ = raw
    assert unscaled.X_train.min() == X.min() and unscaled.X_train.max() == X.max()
    np.testing.assert_array_equal(unscaled.X_train, np.round(unscaled.X_train))


def test_float32_option(split):
    s32 = load_digits(dtype=np.float32)
    for (X64, y64), (X32, y32) in zip(parts(split).values(), parts(s32).values(), strict=True):
        assert X32.dtype == np.float32
        # computed in float64, then rounded once: exactly the float64 values cast
        np.testing.assert_array_equal(X32, X64.astype(np.float32))
        np.testing.assert_array_equal(y32, y64)


@pytest.mark.parametrize("kwargs, error", [
    ({"val_fraction": 1.0}, ValueError),
    ({"val_fraction": -0.1}, ValueError),
    ({"test_fraction": 1.5}, ValueError),
    ({"test_fraction": float("nan")}, ValueError),
    ({"val_fraction": 0.5, "test_fraction": 0.5}, ValueError),
    ({"val_fraction": 0.6, "test_fraction": 0.45}, ValueError),
    ({"val_fraction": "0.2"}, TypeError),
    ({"dtype": np.int64}, ValueError),
    ({"dtype": np.float16}, ValueError),
])
def test_bad_arguments_raise(kwargs, error):
    with pytest.raises(error):
        load_digits(**kwargs)


# --- subsample -------------------------------------------------------------------------


def test_subsample_draws_aligned_distinct_examples():
    y = np.arange(50)
    X = np.column_stack([10 * y, -y])
    Xs, ys = subsample(X, y, 20, np.random.default_rng(0))
    assert Xs.shape == (20, 2) and ys.shape == (20,)
    np.testing.assert_array_equal(Xs[:, 0], 10 * ys)  # rows stay with their labels
    assert len(np.unique(ys)) == 20  # without replacement
    Xs2, ys2 = subsample(X, y, 20, np.random.default_rng(0))
    np.testing.assert_array_equal(ys, ys2)
    assert not np.array_equal(ys, subsample(X, y, 20, np.random.default_rng(1))[1])
    # n = len(X) is allowed: a permutation
    _, perm = subsample(X, y, 50, np.random.default_rng(0))
    np.testing.assert_array_equal(np.sort(perm), y)


@pytest.mark.parametrize("n, error, match", [
    (0, ValueError, "positive"), (-1, ValueError, "positive"), (11, ValueError, "cannot draw 11"),
    (2.5, TypeError, "integer"), (True, TypeError, "integer"),
])
def test_subsample_rejects_bad_n(n, error, match):
    with pytest.raises(error, match=match):
        subsample(np.zeros((10, 2)), np.zeros(10), n, np.random.default_rng(0))


def test_subsample_rejects_wrong_rng_type():
    with pytest.raises(TypeError, match="Generator"):
        subsample(np.zeros((10, 2)), np.zeros(10), 3, 0)


def test_subsample_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="len|length|same number"):
        subsample(np.zeros((10, 2)), np.zeros(3), 5, np.random.default_rng(0))
