"""Plausible wrong answers to the assignment `batchnorm`, graded by
tests/test_assignments.py.

Each is the code a student writes in one solution cell of an otherwise correct
submission, and the test cells that must lose all their points because of it (every
other test cell keeps its points). ``ALSO_RIGHT`` holds answers that differ from the
reference but are right (another shape of the cache, the backward pass node by node, the
layer without the function of Part 1) and must lose nothing.
"""

from ._wrong import wrong

# The class of Part 4 as handed out, with the body of forward left to fill in.
_LAYER = """
        class BatchNorm1d:
            def __init__(self, num_features, eps=1e-5, momentum=0.1):
                self.gamma, self.beta = np.ones(num_features), np.zeros(num_features)
                self.running_mean = np.zeros(num_features)
                self.running_var = np.ones(num_features)
                self.eps, self.momentum, self.training = eps, momentum, True

            def train(self):
                self.training = True
                return self

            def eval(self):
                self.training = False
                return self

            def forward(self, x):
"""


def _layer(forward_body: str) -> str:
    return _LAYER + forward_body


ANSWERS = [
    # --- Part 1: the forward pass -----------------------------------------------------
    wrong("forward-unbiased-batch-variance", "forward", """
        def batchnorm_forward(x, gamma, beta, eps=1e-5):
            mean, var = x.mean(axis=0), x.var(axis=0, ddof=1)
            inv_std = 1.0 / np.sqrt(var + eps)
            x_hat = (x - mean) * inv_std
            return gamma * x_hat + beta, (x_hat, inv_std, gamma)
        """, "test_forward"),
    wrong("forward-eps-outside-the-square-root", "forward", """
        def batchnorm_forward(x, gamma, beta, eps=1e-5):
            mean, var = x.mean(axis=0), x.var(axis=0)
            inv_std = 1.0 / (np.sqrt(var) + eps)
            x_hat = (x - mean) * inv_std
            return gamma * x_hat + beta, (x_hat, inv_std, gamma)
        """, "test_forward"),
    wrong("forward-variance-without-centring", "forward", """
        def batchnorm_forward(x, gamma, beta, eps=1e-5):
            mean, var = x.mean(axis=0), (x ** 2).mean(axis=0)
            inv_std = 1.0 / np.sqrt(var + eps)
            x_hat = (x - mean) * inv_std
            return gamma * x_hat + beta, (x_hat, inv_std, gamma)
        """, "test_forward"),
    wrong("forward-shifts-before-scaling", "forward", """
        def batchnorm_forward(x, gamma, beta, eps=1e-5):
            inv_std = 1.0 / np.sqrt(x.var(axis=0) + eps)
            x_hat = (x - x.mean(axis=0)) * inv_std
            return gamma * (x_hat + beta), (x_hat, inv_std, gamma)
        """, "test_forward"),
    wrong("forward-caches-the-std-not-its-inverse", "forward", """
        def batchnorm_forward(x, gamma, beta, eps=1e-5):
            std = np.sqrt(x.var(axis=0) + eps)
            x_hat = (x - x.mean(axis=0)) / std
            return gamma * x_hat + beta, (x_hat, std, gamma)
        """, "test_forward"),
    # the layer of Part 4 calls this function, so it is not the student's own code there
    wrong("forward-delegates-to-the-book", "forward", """
        from utils.normalization import batchnorm_forward as _book_forward

        def batchnorm_forward(x, gamma, beta, eps=1e-5):
            out, cache = _book_forward(x, gamma, beta, eps)
            return out, (cache.x_hat, cache.inv_std[0], cache.gamma)
        """, "test_forward", "test_running_stats", "test_training_mode"),

    # --- Part 2: the backward pass ----------------------------------------------------
    wrong("backward-ignores-the-batch-statistics", "backward", """
        def batchnorm_backward(dout, cache):
            x_hat, inv_std, gamma = cache
            return dout * gamma * inv_std, (dout * x_hat).sum(axis=0), dout.sum(axis=0)
        """, "test_backward"),
    wrong("backward-forgets-the-variance-path", "backward", """
        def batchnorm_backward(dout, cache):
            x_hat, inv_std, gamma = cache
            n = dout.shape[0]
            dbeta, dgamma = dout.sum(axis=0), (dout * x_hat).sum(axis=0)
            return (gamma * inv_std / n) * (n * dout - dbeta), dgamma, dbeta
        """, "test_backward"),
    wrong("backward-forgets-gamma", "backward", """
        def batchnorm_backward(dout, cache):
            x_hat, inv_std, gamma = cache
            n = dout.shape[0]
            dbeta, dgamma = dout.sum(axis=0), (dout * x_hat).sum(axis=0)
            return (inv_std / n) * (n * dout - dbeta - x_hat * dgamma), dgamma, dbeta
        """, "test_backward"),
    wrong("backward-variance-path-with-the-wrong-sign", "backward", """
        def batchnorm_backward(dout, cache):
            x_hat, inv_std, gamma = cache
            n = dout.shape[0]
            dbeta, dgamma = dout.sum(axis=0), (dout * x_hat).sum(axis=0)
            return (gamma * inv_std / n) * (n * dout - dbeta + x_hat * dgamma), dgamma, dbeta
        """, "test_backward"),
    wrong("backward-delegates-to-the-book", "backward", """
        from utils.normalization import NormCache as _Cache
        from utils.normalization import batchnorm_backward as _book_backward

        def batchnorm_backward(dout, cache):
            x_hat, inv_std, gamma = cache
            return _book_backward(dout, _Cache(x_hat, x_hat, None, None, inv_std, gamma,
                                               1e-5, axis=0))
        """, "test_backward"),

    # --- Part 3: the gradient check ---------------------------------------------------
    wrong("numerical-gradient-forward-difference", "numgrad", """
        def numerical_gradient(f, x, h=1e-5):
            grad, f_x = np.zeros_like(x), f()
            for i in np.ndindex(x.shape):
                old = x[i]
                x[i] = old + h
                grad[i] = (f() - f_x) / h
                x[i] = old
            return grad
        """, "test_numgrad", "test_gradcheck"),
    wrong("numerical-gradient-leaves-x-perturbed", "numgrad", """
        def numerical_gradient(f, x, h=1e-5):
            grad = np.zeros_like(x)
            for i in np.ndindex(x.shape):
                x[i] += h
                f_plus = f()
                x[i] -= 2 * h
                grad[i] = (f_plus - f()) / (2 * h)
            return grad
        """, "test_numgrad", "test_gradcheck"),
    wrong("numerical-gradient-divides-by-h", "numgrad", """
        def numerical_gradient(f, x, h=1e-5):
            grad = np.zeros_like(x)
            for i in np.ndindex(x.shape):
                old = x[i]
                x[i] = old + h
                f_plus = f()
                x[i] = old - h
                f_minus = f()
                x[i] = old
                grad[i] = (f_plus - f_minus) / h
            return grad
        """, "test_numgrad", "test_gradcheck"),
    wrong("numerical-gradient-loops-over-rows", "numgrad", """
        def numerical_gradient(f, x, h=1e-5):
            grad = np.zeros_like(x)
            for i in range(len(x)):
                old = x[i].copy()
                x[i] = old + h
                f_plus = f()
                x[i] = old - h
                f_minus = f()
                x[i] = old
                grad[i] = (f_plus - f_minus) / (2 * h)
            return grad
        """, "test_numgrad", "test_gradcheck"),
    # gradient_check runs numerical_gradient, so it is not the student's own code there
    wrong("numerical-gradient-delegates-to-the-book", "numgrad", """
        from utils.gradcheck import numerical_gradient
        """, "test_numgrad", "test_gradcheck"),
    wrong("gradient-check-hard-coded-to-zero", "gradcheck", """
        def gradient_check(forward, backward, x, gamma, beta, w):
            return {"dx": 0.0, "dgamma": 0.0, "dbeta": 0.0}
        """, "test_gradcheck"),
    wrong("gradient-check-with-the-sum-of-the-output", "gradcheck", """
        def gradient_check(forward, backward, x, gamma, beta, w):
            def loss():
                return float(np.sum(forward(x, gamma, beta)[0]))

            _, cache = forward(x, gamma, beta)
            analytic = backward(np.ones_like(w), cache)
            numeric = [numerical_gradient(loss, p) for p in (x, gamma, beta)]
            return {k: relative_error(a, b)
                    for k, a, b in zip(("dx", "dgamma", "dbeta"), analytic, numeric)}
        """, "test_gradcheck"),
    wrong("gradient-check-perturbs-copies", "gradcheck", """
        def gradient_check(forward, backward, x, gamma, beta, w):
            def loss():
                return float(np.sum(w * forward(x, gamma, beta)[0]))

            _, cache = forward(x, gamma, beta)
            analytic = backward(w, cache)
            # copies, to leave x, gamma and beta as they were
            numeric = [numerical_gradient(loss, p.copy()) for p in (x, gamma, beta)]
            return {k: relative_error(a, b)
                    for k, a, b in zip(("dx", "dgamma", "dbeta"), analytic, numeric)}
        """, "test_gradcheck"),
    wrong("gradient-check-delegates-to-the-book", "gradcheck", """
        from utils import gradcheck as _book

        def gradient_check(forward, backward, x, gamma, beta, w):
            def loss():
                return float(np.sum(w * forward(x, gamma, beta)[0]))

            _, cache = forward(x, gamma, beta)
            return {k: _book.relative_error(a, _book.numerical_gradient(loss, p))
                    for k, a, p in zip(("dx", "dgamma", "dbeta"), backward(w, cache),
                                       (x, gamma, beta))}
        """, "test_gradcheck"),
    wrong("why-sum-loss-thinks-dgamma-is-still-checked", "why_sum_loss", """
        WHY_SUM_LOSS = {"A", "B", "C", "D"}
        """, "test_why_sum_loss"),
    wrong("why-sum-loss-blames-the-scale", "why_sum_loss", """
        WHY_SUM_LOSS = {"A", "E"}
        """, "test_why_sum_loss"),

    # --- Part 4: running statistics and inference -------------------------------------
    wrong("predict-biased-running-variance", "predict_running", """
        PREDICTED = {"running_mean": 5 * (1 - 0.9 ** 10), "running_var": 1.0,
                     "train_one": 0.5}
        """, "test_predict_running"),
    wrong("predict-batch-of-one-normalizes-to-zero", "predict_running", """
        PREDICTED = {"running_mean": 5 * (1 - 0.9 ** 10), "running_var": 2 - 0.9 ** 10,
                     "train_one": 0.0}
        """, "test_predict_running"),
    wrong("predict-momentum-weighs-the-old-value", "predict_running", """
        PREDICTED = {"running_mean": 5 * (1 - 0.1 ** 10), "running_var": 2 - 0.1 ** 10,
                     "train_one": 0.5}
        """, "test_predict_running"),
    wrong("inference-uses-batch-statistics", "running", _layer("""
                out, _ = batchnorm_forward(x, self.gamma, self.beta, self.eps)
                if self.training:
                    m = self.momentum
                    self.running_mean = (1 - m) * self.running_mean + m * x.mean(axis=0)
                    self.running_var = (1 - m) * self.running_var + m * x.var(axis=0, ddof=1)
                return out
        """), "test_inference"),
    wrong("training-uses-running-statistics", "running", _layer("""
                if self.training:
                    m = self.momentum
                    self.running_mean = (1 - m) * self.running_mean + m * x.mean(axis=0)
                    self.running_var = (1 - m) * self.running_var + m * x.var(axis=0, ddof=1)
                x_hat = (x - self.running_mean) / np.sqrt(self.running_var + self.eps)
                return self.gamma * x_hat + self.beta
        """), "test_training_mode"),
    wrong("inference-uses-averaged-gamma-and-beta", "running", _layer("""
                if not self.training:
                    steps = getattr(self, "steps", 0)
                    gamma = self.gamma_sum / steps if steps else self.gamma
                    beta = self.beta_sum / steps if steps else self.beta
                    x_hat = (x - self.running_mean) / np.sqrt(self.running_var + self.eps)
                    return gamma * x_hat + beta
                self.steps = getattr(self, "steps", 0) + 1
                self.gamma_sum = getattr(self, "gamma_sum", 0) + self.gamma
                self.beta_sum = getattr(self, "beta_sum", 0) + self.beta
                out, _ = batchnorm_forward(x, self.gamma, self.beta, self.eps)
                m = self.momentum
                self.running_mean = (1 - m) * self.running_mean + m * x.mean(axis=0)
                self.running_var = (1 - m) * self.running_var + m * x.var(axis=0, ddof=1)
                return out
        """), "test_inference"),
    wrong("running-variance-biased", "running", _layer("""
                if not self.training:
                    x_hat = (x - self.running_mean) / np.sqrt(self.running_var + self.eps)
                    return self.gamma * x_hat + self.beta
                out, _ = batchnorm_forward(x, self.gamma, self.beta, self.eps)
                m = self.momentum
                self.running_mean = (1 - m) * self.running_mean + m * x.mean(axis=0)
                self.running_var = (1 - m) * self.running_var + m * x.var(axis=0)
                return out
        """), "test_running_stats"),
    wrong("momentum-weighs-the-old-value", "running", _layer("""
                if not self.training:
                    x_hat = (x - self.running_mean) / np.sqrt(self.running_var + self.eps)
                    return self.gamma * x_hat + self.beta
                out, _ = batchnorm_forward(x, self.gamma, self.beta, self.eps)
                m = self.momentum
                self.running_mean = m * self.running_mean + (1 - m) * x.mean(axis=0)
                self.running_var = m * self.running_var + (1 - m) * x.var(axis=0, ddof=1)
                return out
        """), "test_running_stats"),
    wrong("training-ignores-eps", "running", _layer("""
                if not self.training:
                    x_hat = (x - self.running_mean) / np.sqrt(self.running_var + self.eps)
                    return self.gamma * x_hat + self.beta
                out, _ = batchnorm_forward(x, self.gamma, self.beta)
                m = self.momentum
                self.running_mean = (1 - m) * self.running_mean + m * x.mean(axis=0)
                self.running_var = (1 - m) * self.running_var + m * x.var(axis=0, ddof=1)
                return out
        """), "test_training_mode"),
    wrong("inference-also-updates-the-running-statistics", "running", _layer("""
                if self.training:
                    out, _ = batchnorm_forward(x, self.gamma, self.beta, self.eps)
                else:
                    x_hat = (x - self.running_mean) / np.sqrt(self.running_var + self.eps)
                    out = self.gamma * x_hat + self.beta
                m = self.momentum
                self.running_mean = (1 - m) * self.running_mean + m * x.mean(axis=0)
                self.running_var = (1 - m) * self.running_var + m * x.var(axis=0, ddof=1)
                return out
        """), "test_inference"),
    wrong("layer-delegates-to-the-book", "running", """
        from utils.normalization import BatchNorm as _BookBatchNorm

        class BatchNorm1d(_BookBatchNorm):
            def __init__(self, num_features, eps=1e-5, momentum=0.1):
                super().__init__(num_features, eps=eps, momentum=momentum)
        """, "test_running_stats", "test_training_mode", "test_inference"),
    wrong("why-inference-averages-gamma-and-beta", "why_inference", """
        WHY_INFERENCE = {"A", "B", "C"}
        """, "test_why_inference"),
    wrong("why-inference-thinks-the-batch-uses-the-unbiased-variance",
          "why_inference", """
        WHY_INFERENCE = {"A", "C", "E"}
        """, "test_why_inference"),
]

ALSO_RIGHT = [
    wrong("forward-cache-with-keepdims", "forward", """
        def batchnorm_forward(x, gamma, beta, eps=1e-5):
            mean = x.mean(axis=0, keepdims=True)
            inv_std = 1.0 / np.sqrt(((x - mean) ** 2).mean(axis=0, keepdims=True) + eps)
            x_hat = (x - mean) * inv_std
            return gamma * x_hat + beta, (x_hat, inv_std, gamma)
        """),
    wrong("backward-node-by-node", "backward", """
        def batchnorm_backward(dout, cache):
            x_hat, inv_std, gamma = cache
            n = dout.shape[0]
            dbeta, dgamma = dout.sum(axis=0), (dout * x_hat).sum(axis=0)
            dx_hat = dout * gamma
            xc = x_hat / inv_std  # the centred input
            dvar = (dx_hat * xc).sum(axis=0) * -0.5 * inv_std ** 3
            dxc = dx_hat * inv_std + dvar * 2.0 * xc / n
            dx = dxc - dxc.sum(axis=0) / n
            return dx, dgamma, dbeta
        """),
    wrong("gradient-check-numeric-first", "gradcheck", """
        def gradient_check(forward, backward, x, gamma, beta, w):
            def loss():
                return float(np.sum(w * forward(x, gamma, beta)[0]))

            numeric = {"dx": numerical_gradient(loss, x),
                       "dgamma": numerical_gradient(loss, gamma),
                       "dbeta": numerical_gradient(loss, beta)}
            dx, dgamma, dbeta = backward(w, forward(x, gamma, beta)[1])
            analytic = {"dx": dx, "dgamma": dgamma, "dbeta": dbeta}
            return {k: relative_error(analytic[k], numeric[k]) for k in numeric}
        """),
    wrong("layer-normalizes-without-batchnorm-forward", "running", _layer("""
                if self.training:
                    mean, var = x.mean(axis=0), x.var(axis=0)
                    m = self.momentum
                    self.running_mean = (1 - m) * self.running_mean + m * mean
                    n = x.shape[0]
                    self.running_var = (1 - m) * self.running_var + m * var * n / (n - 1)
                else:
                    mean, var = self.running_mean, self.running_var
                return self.gamma * (x - mean) / np.sqrt(var + self.eps) + self.beta
        """)),
    wrong("predict-as-rounded-numbers", "predict_running", """
        PREDICTED = {"running_mean": 3.26, "running_var": 1.65, "train_one": 0.5}
        """),
]
