"""Small test functions for optimizers, with exact gradients: where their behaviour is visible.

* :class:`Quadratic`: ``f(x) = 1/2 x^T H x``, an ill-conditioned valley when the
  eigenvalues of ``H`` differ a lot. Gradient descent with learning rate ``lr``
  multiplies the component along an eigenvector with eigenvalue ``lam`` by
  ``1 - lr * lam`` per step, so it is stable only for ``lr < 2 / lam_max``.
* :class:`Rosenbrock`: ``f(x, y) = (a - x)^2 + b (y - x^2)^2``, a curved, narrow valley
  with its minimum at ``(a, a^2)``.

``value`` accepts any array whose last axis holds the coordinates (so a whole grid can
be evaluated for a contour plot); ``gradient`` does the same.
"""

from __future__ import annotations

import numpy as np

from utils._validation import as_float_array, check_positive_float


class Quadratic:
    """``f(x) = 1/2 x^T H x`` with a symmetric positive-definite Hessian ``H``; minimum 0 at 0."""

    def __init__(self, hessian):
        H = as_float_array(hessian, "hessian", ndim=2)
        if H.shape[0] != H.shape[1]:
            raise ValueError(f"hessian must be square, got shape {H.shape}")
        if not np.allclose(H, H.T, rtol=0, atol=1e-12 * max(1.0, np.abs(H).max())):
            raise ValueError("hessian must be symmetric")
        eigenvalues = np.linalg.eigvalsh(H)
        if eigenvalues[0] <= 0:
            raise ValueError("hessian must be positive definite, got smallest eigenvalue "
                             f"{eigenvalues[0]:.3g}")
        self.hessian = H
        self.eigenvalues = eigenvalues  # ascending

    @classmethod
    def ill_conditioned(cls, lambda_min: float = 1.0, lambda_max: float = 20.0,
                        angle_degrees: float = 0.0) -> Quadratic:
        """A 2-D valley with curvatures ``lambda_min`` and ``lambda_max``, its steep axis
        rotated by ``angle_degrees`` from the y axis."""
        lambda_min = check_positive_float(lambda_min, "lambda_min")
        lambda_max = check_positive_float(lambda_max, "lambda_max")
        if lambda_max < lambda_min:
            raise ValueError(f"lambda_max ({lambda_max}) must be >= lambda_min ({lambda_min})")
        a = np.deg2rad(float(angle_degrees))
        R = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        H = R @ np.diag([lambda_min, lambda_max]) @ R.T
        return cls((H + H.T) / 2)

    @property
    def dim(self) -> int:
        return self.hessian.shape[0]

    @property
    def condition_number(self) -> float:
        return float(self.eigenvalues[-1] / self.eigenvalues[0])

    @property
    def max_stable_lr(self) -> float:
        """Gradient descent converges for ``0 < lr < 2 / lambda_max`` and diverges above."""
        return float(2.0 / self.eigenvalues[-1])

    @property
    def best_lr(self) -> float:
        """``2 / (lambda_min + lambda_max)``: the fastest worst-case rate,
        ``(kappa - 1) / (kappa + 1)`` per step."""
        return float(2.0 / (self.eigenvalues[0] + self.eigenvalues[-1]))

    def _check(self, x) -> np.ndarray:
        x = as_float_array(x, "x", allow_nonfinite=True)
        if x.ndim == 0 or x.shape[-1] != self.dim:
            raise ValueError(f"x must have {self.dim} coordinates in its last axis, "
                             f"got shape {x.shape}")
        return x

    def value(self, x):
        x = self._check(x)
        return 0.5 * np.einsum("...i,ij,...j->...", x, self.hessian, x)

    def gradient(self, x):
        return self._check(x) @ self.hessian  # H is symmetric

    def __repr__(self) -> str:
        return f"Quadratic(eigenvalues={np.round(self.eigenvalues, 6).tolist()})"


class Rosenbrock:
    """``f(x, y) = (a - x)^2 + b (y - x^2)^2``; minimum 0 at ``(a, a^2)``."""

    def __init__(self, a: float = 1.0, b: float = 100.0):
        if isinstance(a, bool) or not isinstance(a, (int, float)) or not np.isfinite(a):
            raise TypeError(f"a must be a finite number, got {a!r}")
        self.a = float(a)
        self.b = check_positive_float(b, "b")

    @property
    def minimum(self) -> np.ndarray:
        return np.array([self.a, self.a**2])

    def _check(self, x) -> np.ndarray:
        x = as_float_array(x, "x", allow_nonfinite=True)
        if x.ndim == 0 or x.shape[-1] != 2:
            raise ValueError(f"x must have 2 coordinates in its last axis, got shape {x.shape}")
        return x

    def value(self, x):
        x = self._check(x)
        u, w = x[..., 0], x[..., 1]
        return (self.a - u) ** 2 + self.b * (w - u**2) ** 2

    def gradient(self, x):
        x = self._check(x)
        u, w = x[..., 0], x[..., 1]
        du = -2 * (self.a - u) - 4 * self.b * u * (w - u**2)
        dw = 2 * self.b * (w - u**2)
        return np.stack([du, dw], axis=-1)

    def __repr__(self) -> str:
        return f"Rosenbrock(a={self.a:g}, b={self.b:g})"
