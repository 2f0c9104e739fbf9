"""utils.reproducibility.seed_everything: same seed, same draws, in every library."""

from __future__ import annotations

import random

import numpy as np
import pytest

from utils.reproducibility import seed_everything


def _tf_determinism():
    """TF's op-determinism switch. Only `enable_op_determinism` is public, so reading and
    resetting it needs the module that implements it (None if that ever moves)."""
    try:
        from tensorflow.python.framework import config
    except ImportError:  # pragma: no cover - depends on TF internals
        return None
    if not hasattr(config, "is_op_determinism_enabled"):  # pragma: no cover
        return None
    return config


@pytest.fixture
def restore_determinism(torch, tf):
    """seed_everything switches on global determinism flags; put them back afterwards."""
    torch_flag = torch.are_deterministic_algorithms_enabled()
    config = _tf_determinism()
    tf_flag = config.is_op_determinism_enabled() if config else None
    yield
    torch.use_deterministic_algorithms(torch_flag)
    if config and not tf_flag:
        config.disable_op_determinism()


def draws(torch, tf, keras):
    """One draw from every generator seed_everything is meant to control."""
    dense = keras.layers.Dense(4)
    dense.build((None, 3))
    return {
        "random": random.random(),
        # the legacy global generator is exactly what seed_everything seeds for numpy
        "numpy": np.random.rand(3),  # noqa: NPY002
        "torch": torch.rand(3).numpy(),
        "tf": tf.random.normal((3,)).numpy(),
        "keras.random": keras.random.normal((3,)).numpy(),
        "keras Dense init": dense.kernel.numpy(),
    }


@pytest.mark.usefixtures("restore_determinism")
def test_same_seed_same_draws_other_seed_other_draws(torch, tf, keras):
    seeded = seed_everything(7, frameworks=("torch", "tensorflow"))
    assert seeded == ("random", "numpy", "torch", "tensorflow")
    first = draws(torch, tf, keras)
    continued = draws(torch, tf, keras)
    seed_everything(7, frameworks=("torch", "tensorflow"))
    again = draws(torch, tf, keras)
    seed_everything(8, frameworks=("torch", "tensorflow"))
    other = draws(torch, tf, keras)
    for name in first:
        np.testing.assert_array_equal(first[name], again[name], err_msg=name)
        # the check can fail: the generators do move on, and another seed differs
        assert not np.array_equal(first[name], continued[name]), name
        assert not np.array_equal(first[name], other[name]), name


@pytest.mark.usefixtures("restore_determinism")
def test_deterministic_algorithms_are_switched_on(torch, tf):
    torch.use_deterministic_algorithms(False)
    config = _tf_determinism()
    seed_everything(0, frameworks=("torch", "tensorflow"))
    assert torch.are_deterministic_algorithms_enabled()
    assert torch.backends.cudnn.benchmark is False
    if config is not None:
        assert config.is_op_determinism_enabled()


@pytest.mark.usefixtures("restore_determinism")
def test_torch_only(torch):
    torch.use_deterministic_algorithms(False)
    assert seed_everything(3, frameworks=("torch",)) == ("random", "numpy", "torch")
    a = torch.rand(2)
    seed_everything(3, frameworks=("torch",))
    assert torch.equal(a, torch.rand(2))
    assert torch.are_deterministic_algorithms_enabled()


@pytest.mark.usefixtures("restore_determinism")
def test_imported_seeds_what_is_imported(torch, keras):
    assert seed_everything(1) == ("random", "numpy", "torch", "tensorflow")
    assert seed_everything(1, frameworks=()) == ("random", "numpy")


def test_numpy_only_chapter_imports_no_framework(run_python):
    """The default seeds only frameworks already imported, and imports none."""
    result = run_python(
        "import sys\n"
        "from utils.reproducibility import seed_everything\n"
        "print(seed_everything(0))\n"
        "print(sorted(m for m in ('torch', 'tensorflow', 'keras') if m in sys.modules))\n")
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode().split("\n")[:2] == ["('random', 'numpy')", "[]"]


def test_python_and_numpy_are_seeded_without_frameworks():
    seed_everything(11, frameworks=())
    a = (random.random(), np.random.rand(2))  # noqa: NPY002 (the global generator is tested)
    seed_everything(11, frameworks=())
    b = (random.random(), np.random.rand(2))  # noqa: NPY002
    assert a[0] == b[0]
    np.testing.assert_array_equal(a[1], b[1])


@pytest.mark.parametrize("seed", [np.int64(5), 0, 2**32 - 1])
def test_accepts_integers_in_range(seed):
    assert seed_everything(seed, frameworks=()) == ("random", "numpy")


@pytest.mark.parametrize("seed, error", [
    (-1, ValueError), (2**32, ValueError), (1.5, TypeError), (True, TypeError),
    ("0", TypeError), (None, TypeError), (np.float64(1.0), TypeError),
])
def test_bad_seeds_raise(seed, error):
    with pytest.raises(error, match="seed"):
        seed_everything(seed, frameworks=())


@pytest.mark.parametrize("frameworks", ["torch", ("jax",), ["torch"], ("torch", "keras")])
def test_bad_frameworks_raise(frameworks):
    with pytest.raises(ValueError, match="frameworks"):
        seed_everything(0, frameworks=frameworks)


def test_seed_everything_pins_torch_and_blas_threads(torch):
    from threadpoolctl import threadpool_info

    before = torch.get_num_threads()
    try:
        seed_everything(0, threads=2)
        assert torch.get_num_threads() == 2
        seed_everything(0)  # the default pins one thread
        assert torch.get_num_threads() == 1
        blas = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
        assert blas and all(n == 1 for n in blas)
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("threads", [0, -1, 1.5, True, "1"])
def test_seed_everything_rejects_bad_thread_counts(threads):
    with pytest.raises(ValueError, match="threads"):
        seed_everything(0, threads=threads)
