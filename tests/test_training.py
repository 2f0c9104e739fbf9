"""utils.nets.torch_fit: the PyTorch loop for a single network, in float32 and float64
(stacks: tests/test_torch_stack.py)."""

from __future__ import annotations

import numpy as np
import pytest

from utils.nets import torch_fit
from utils.reproducibility import seed_everything


@pytest.fixture(scope="module")
def toy():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(96, 5))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(np.int64)
    return X, y


def _run(torch, toy, dtype):
    X, y = toy
    seed_everything(3)
    model = torch_fit.mlp([5, 8, 2], "tanh", dtype=dtype)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    hist = torch_fit.fit(model, X, y, optimizer=opt, epochs=3, batch_size=16, seed=1,
                        X_val=X, y_val=y)
    return model, hist


def test_float64_model_trains_in_float64_from_the_same_start(torch, toy):
    seed_everything(3)
    start32 = [p.detach().clone() for p in torch_fit.mlp([5, 8, 2], "tanh").parameters()]
    model64, hist64 = _run(torch, toy, torch.float64)
    assert all(p.dtype == torch.float64 for p in model64.parameters())
    seed_everything(3)
    start64 = list(torch_fit.mlp([5, 8, 2], "tanh", dtype=torch.float64).parameters())
    for a, b in zip(start32, start64, strict=True):
        assert torch.equal(a.double(), b.detach())
    _, hist32 = _run(torch, toy, None)
    # the same run up to float32 rounding
    np.testing.assert_allclose(hist64.step_loss, hist32.step_loss, rtol=1e-4)
    assert hist64.val_accuracy[-1] == pytest.approx(hist32.val_accuracy[-1], abs=1 / 96 + 1e-9)


def test_mlp_refuses_other_dtypes(torch):
    with pytest.raises(ValueError, match="float32 or torch.float64"):
        torch_fit.mlp([3, 2], dtype=torch.float16)


def test_to_tensors_default_is_float32(torch, toy):
    X, y = toy
    X_t, y_t = torch_fit.to_tensors(X, y)
    assert X_t.dtype == torch.float32 and y_t.dtype == torch.int64
    assert torch_fit.to_tensors(X, y, dtype=torch.float64)[0].dtype == torch.float64
