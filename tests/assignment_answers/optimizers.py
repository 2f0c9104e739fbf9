"""Plausible wrong answers to the assignment `optimizers`, graded by tests/test_assignments.py.

Each is the code a student writes in one solution cell of an otherwise correct submission,
and the test cells that must lose all their points because of it (every other test cell
keeps its points). `test_best` runs the student's `best_learning_rates` with reference
optimizers and a reference `tune_lr`, and `test_tune` tunes stand-in optimizers, so a
mistake in an optimizer or in `tune_lr` is charged to its own part only.
"""

from ._wrong import wrong

PREDICT = """
    STEP_1 = {}
    STEP_1_UNCORRECTED = {}
    STEP_2_UNCORRECTED = {}
    """

ANSWERS = [
    # ---- Part 1: momentum
    wrong("momentum-dampened-velocity", "momentum", """
        class Momentum:
            def __init__(self, lr, momentum=0.9):
                self.lr, self.momentum, self.velocity = lr, momentum, 0.0

            def step(self, w, g):
                self.velocity = self.momentum * self.velocity + (1 - self.momentum) * g
                return w - self.lr * self.velocity
        """, "test_momentum"),
    wrong("momentum-steps-with-the-old-velocity", "momentum", """
        class Momentum:
            def __init__(self, lr, momentum=0.9):
                self.lr, self.momentum, self.velocity = lr, momentum, 0.0

            def step(self, w, g):
                w = w - self.lr * self.velocity
                self.velocity = self.momentum * self.velocity + g
                return w
        """, "test_momentum"),
    wrong("momentum-nesterov-instead-of-heavy-ball", "momentum", """
        class Momentum:
            def __init__(self, lr, momentum=0.9):
                self.lr, self.momentum, self.velocity = lr, momentum, 0.0

            def step(self, w, g):
                self.velocity = self.momentum * self.velocity + g
                return w - self.lr * (g + self.momentum * self.velocity)
        """, "test_momentum"),
    wrong("momentum-subclasses-the-books-momentum", "momentum", """
        from utils.optimizers import Momentum as _BookMomentum

        class Momentum(_BookMomentum):
            def __init__(self, lr, momentum=0.9):
                super().__init__(lr, momentum)

            def step(self, w, g):
                w = np.array(w, dtype=float)
                super().step([w], [np.asarray(g, dtype=float)])
                return w
        """, "test_momentum"),
    wrong("momentum-wraps-torch-optim-sgd", "momentum", """
        class Momentum:
            def __init__(self, lr, momentum=0.9):
                self.lr, self.momentum, self.w = lr, momentum, None

            def step(self, w, g):
                if self.w is None:
                    self.w = torch.tensor(np.array(w, dtype=float), requires_grad=True)
                    self.opt = torch.optim.SGD([self.w], lr=self.lr, momentum=self.momentum)
                self.w.grad = torch.tensor(np.array(g, dtype=float))
                self.opt.step()
                return self.w.detach().numpy().copy()
        """, "test_momentum"),
    # ---- Part 2: RMSProp
    wrong("rmsprop-eps-inside-the-square-root", "rmsprop", """
        class RMSProp:
            def __init__(self, lr, alpha=0.99, eps=1e-8):
                self.lr, self.alpha, self.eps, self.s = lr, alpha, eps, 0.0

            def step(self, w, g):
                self.s = self.alpha * self.s + (1 - self.alpha) * g ** 2
                return w - self.lr * g / np.sqrt(self.s + self.eps)
        """, "test_rmsprop"),
    wrong("rmsprop-without-one-minus-alpha", "rmsprop", """
        class RMSProp:
            def __init__(self, lr, alpha=0.99, eps=1e-8):
                self.lr, self.alpha, self.eps, self.s = lr, alpha, eps, 0.0

            def step(self, w, g):
                self.s = self.alpha * self.s + g ** 2
                return w - self.lr * g / (np.sqrt(self.s) + self.eps)
        """, "test_rmsprop"),
    wrong("rmsprop-cache-accumulates-like-adagrad", "rmsprop", """
        class RMSProp:
            def __init__(self, lr, alpha=0.99, eps=1e-8):
                self.lr, self.alpha, self.eps, self.s = lr, alpha, eps, 0.0

            def step(self, w, g):
                self.s += g ** 2
                return w - self.lr * g / (np.sqrt(self.s) + self.eps)
        """, "test_rmsprop"),
    wrong("rmsprop-cache-plus-equals-the-average", "rmsprop", """
        class RMSProp:
            def __init__(self, lr, alpha=0.99, eps=1e-8):
                self.lr, self.alpha, self.eps, self.s = lr, alpha, eps, 0.0

            def step(self, w, g):
                self.s += self.alpha * self.s + (1 - self.alpha) * g ** 2
                return w - self.lr * g / (np.sqrt(self.s) + self.eps)
        """, "test_rmsprop"),
    wrong("rmsprop-subclasses-the-books-rmsprop", "rmsprop", """
        from utils import optimizers as _book

        class RMSProp(_book.RMSprop):
            def __init__(self, lr, alpha=0.99, eps=1e-8):
                super().__init__(lr, rho=alpha, eps=eps)

            def step(self, w, g):
                w = np.array(w, dtype=float)
                super().step([w], [np.asarray(g, dtype=float)])
                return w
        """, "test_rmsprop"),
    wrong("rmsprop-wraps-torch-optim-rmsprop", "rmsprop", """
        class RMSProp:
            def __init__(self, lr, alpha=0.99, eps=1e-8):
                self.hyper, self.w = dict(lr=lr, alpha=alpha, eps=eps), None

            def step(self, w, g):
                if self.w is None:
                    self.w = torch.tensor(np.array(w, dtype=float), requires_grad=True)
                    self.opt = torch.optim.RMSprop([self.w], **self.hyper)
                self.w.grad = torch.tensor(np.array(g, dtype=float))
                self.opt.step()
                return self.w.detach().numpy().copy()
        """, "test_rmsprop"),
    # ---- Part 3: Adam, the prediction
    wrong("predict-first-step-is-lr-times-g", "predict_adam_steps",
          PREDICT.format(0.04, 0.0316, 0.0425), "test_predict_adam_steps"),
    wrong("predict-uncorrected-step-is-smaller", "predict_adam_steps",
          PREDICT.format(0.01, 0.001, 0.0019), "test_predict_adam_steps"),
    wrong("predict-uncorrected-step-stays-the-same", "predict_adam_steps",
          PREDICT.format(0.01, 0.0316, 0.0316), "test_predict_adam_steps"),
    # ---- Part 3: Adam, the implementation
    wrong("adam-without-bias-correction", "adam", """
        class Adam:
            def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
                self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
                self.m = self.v = 0.0

            def step(self, w, g):
                self.m = self.beta1 * self.m + (1 - self.beta1) * g
                self.v = self.beta2 * self.v + (1 - self.beta2) * g ** 2
                return w - self.lr * self.m / (np.sqrt(self.v) + self.eps)
        """, "test_adam"),
    wrong("adam-corrects-only-the-first-moment", "adam", """
        class Adam:
            def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
                self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
                self.m = self.v = 0.0
                self.t = 0

            def step(self, w, g):
                self.t += 1
                self.m = self.beta1 * self.m + (1 - self.beta1) * g
                self.v = self.beta2 * self.v + (1 - self.beta2) * g ** 2
                m_hat = self.m / (1 - self.beta1 ** self.t)
                return w - self.lr * m_hat / (np.sqrt(self.v) + self.eps)
        """, "test_adam"),
    wrong("adam-counts-the-step-after-the-correction", "adam", """
        class Adam:
            def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
                self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
                self.m = self.v = 0.0
                self.t = 0

            def step(self, w, g):
                self.m = self.beta1 * self.m + (1 - self.beta1) * g
                self.v = self.beta2 * self.v + (1 - self.beta2) * g ** 2
                with np.errstate(divide="ignore", invalid="ignore"):
                    m_hat = self.m / (1 - self.beta1 ** self.t)
                    v_hat = self.v / (1 - self.beta2 ** self.t)
                self.t += 1
                return w - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
        """, "test_adam"),
    wrong("adam-keras-epsilon-before-the-correction", "adam", """
        class Adam:
            def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
                self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
                self.m = self.v = 0.0
                self.t = 0

            def step(self, w, g):
                self.t += 1
                self.m = self.beta1 * self.m + (1 - self.beta1) * g
                self.v = self.beta2 * self.v + (1 - self.beta2) * g ** 2
                scale = np.sqrt(1 - self.beta2 ** self.t) / (1 - self.beta1 ** self.t)
                return w - self.lr * scale * self.m / (np.sqrt(self.v) + self.eps)
        """, "test_adam"),
    wrong("adam-subclasses-the-books-adam", "adam", """
        from utils.optimizers import Adam as _BookAdam

        class Adam(_BookAdam):
            def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
                super().__init__(lr, beta1=beta1, beta2=beta2, eps=eps)

            def step(self, w, g):
                w = np.array(w, dtype=float)
                super().step([w], [np.asarray(g, dtype=float)])
                return w
        """, "test_adam"),
    wrong("adam-wraps-torch-optim-adam", "adam", """
        class Adam:
            def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
                self.hyper, self.w = dict(lr=lr, betas=(beta1, beta2), eps=eps), None

            def step(self, w, g):
                if self.w is None:
                    self.w = torch.tensor(np.array(w, dtype=float), requires_grad=True)
                    self.opt = torch.optim.Adam([self.w], **self.hyper)
                self.w.grad = torch.tensor(np.array(g, dtype=float))
                self.opt.step()
                return self.w.detach().numpy().copy()
        """, "test_adam"),
    # ---- Part 4: what the update rules do
    wrong("why-adam-first-step-is-lr-times-g", "why_rules",
          'WHY_RULES = {"A", "B", "C", "F"}', "test_why_rules"),
    wrong("why-misses-scale-invariance", "why_rules",
          'WHY_RULES = {"A", "F"}', "test_why_rules"),
    wrong("why-uncorrected-steps-too-small", "why_rules",
          'WHY_RULES = {"A", "B", "E", "F"}', "test_why_rules"),
    wrong("why-correction-is-a-constant-factor", "why_rules",
          'WHY_RULES = {"A", "B", "D", "F"}', "test_why_rules"),
    # ---- Part 5: the grid
    wrong("grid-evenly-spaced-not-geometric", "grid", """
        def lr_grid(low, high, per_decade):
            decades = np.log10(high) - np.log10(low)
            return np.linspace(low, high, int(round(decades * per_decade)) + 1)
        """, "test_grid"),
    wrong("grid-without-the-last-value", "grid", """
        def lr_grid(low, high, per_decade):
            decades = np.log10(high) - np.log10(low)
            return np.logspace(np.log10(low), np.log10(high), int(round(decades * per_decade)),
                               endpoint=False)
        """, "test_grid"),
    wrong("grid-returns-the-exponents", "grid", """
        def lr_grid(low, high, per_decade):
            decades = np.log10(high) - np.log10(low)
            return np.linspace(np.log10(low), np.log10(high), int(round(decades * per_decade)) + 1)
        """, "test_grid"),
    wrong("grid-one-value-short", "grid", """
        def lr_grid(low, high, per_decade):
            decades = np.log10(high) - np.log10(low)
            return np.logspace(np.log10(low), np.log10(high), int(round(decades * per_decade)))
        """, "test_grid"),
    wrong("grid-uses-torch-logspace", "grid", """
        def lr_grid(low, high, per_decade):
            decades = np.log10(high) - np.log10(low)
            count = int(round(decades * per_decade)) + 1
            return torch.logspace(float(np.log10(low)), float(np.log10(high)), count,
                                  dtype=torch.float64).numpy()
        """, "test_grid"),
    # ---- Part 5: tuning
    wrong("tune-argmin-picks-a-nan", "tune", """
        def tune_lr(make_optimizer, loss, grad, w0, steps, lrs):
            with np.errstate(over="ignore", invalid="ignore"):
                losses = np.array([loss(numpy_trajectory(make_optimizer(lr), grad, w0, steps)[-1])
                                   for lr in lrs])
            return float(lrs[np.argmin(losses)]), losses
        """, "test_tune"),
    wrong("tune-returns-the-index", "tune", """
        def tune_lr(make_optimizer, loss, grad, w0, steps, lrs):
            with np.errstate(over="ignore", invalid="ignore"):
                losses = np.array([loss(numpy_trajectory(make_optimizer(lr), grad, w0, steps)[-1])
                                   for lr in lrs], dtype=float)
            return int(np.argmin(np.where(np.isfinite(losses), losses, np.inf))), losses
        """, "test_tune"),
    wrong("tune-lowest-loss-along-the-way", "tune", """
        def tune_lr(make_optimizer, loss, grad, w0, steps, lrs):
            losses = []
            with np.errstate(over="ignore", invalid="ignore"):
                for lr in lrs:
                    path = numpy_trajectory(make_optimizer(lr), grad, w0, steps)
                    losses.append(np.nanmin([loss(w) for w in path]))
            losses = np.array(losses, dtype=float)
            finite = np.where(np.isfinite(losses), losses, np.inf)
            return float(lrs[int(np.argmin(finite))]), losses
        """, "test_tune"),
    wrong("tune-one-optimizer-for-every-rate", "tune", """
        def tune_lr(make_optimizer, loss, grad, w0, steps, lrs):
            optimizer, losses = make_optimizer(lrs[0]), []
            with np.errstate(over="ignore", invalid="ignore"):
                for lr in lrs:
                    optimizer.lr = lr
                    losses.append(loss(numpy_trajectory(optimizer, grad, w0, steps)[-1]))
            losses = np.array(losses, dtype=float)
            finite = np.where(np.isfinite(losses), losses, np.inf)
            return float(lrs[int(np.argmin(finite))]), losses
        """, "test_tune"),
    wrong("tune-runs-the-books-trajectory", "tune", """
        from utils import optimizers as _book

        class _Adapter(_book.Optimizer):
            def __init__(self, inner):
                super().__init__(1.0)
                self.inner = inner

            def step(self, params, grads):
                params[0][...] = self.inner.step(params[0].copy(), grads[0])

        def tune_lr(make_optimizer, loss, grad, w0, steps, lrs):
            losses = []
            with np.errstate(over="ignore", invalid="ignore"):
                for lr in lrs:
                    path = _book.trajectory(_Adapter(make_optimizer(lr)), grad, w0, steps)
                    losses.append(loss(path[-1]))
            losses = np.array(losses, dtype=float)
            finite = np.where(np.isfinite(losses), losses, np.inf)
            return float(lrs[int(np.argmin(finite))]), losses
        """, "test_tune"),
    # ---- Part 5: the best rate of each optimizer
    wrong("best-returns-the-whole-tuple", "best", """
        def best_learning_rates(loss, grad, w0, steps, lrs):
            makers = {"momentum": lambda lr: Momentum(lr, 0.9), "rmsprop": RMSProp,
                      "adam": Adam}
            return {name: tune_lr(make, loss, grad, w0, steps, lrs)
                    for name, make in makers.items()}
        """, "test_best"),
    wrong("best-always-200-steps", "best", """
        def best_learning_rates(loss, grad, w0, steps, lrs):
            makers = {"momentum": lambda lr: Momentum(lr, 0.9), "rmsprop": RMSProp,
                      "adam": Adam}
            return {name: tune_lr(make, loss, grad, w0, 200, lrs)[0]
                    for name, make in makers.items()}
        """, "test_best"),
    wrong("best-always-the-rosenbrock-grid", "best", """
        def best_learning_rates(loss, grad, w0, steps, lrs):
            makers = {"momentum": lambda lr: Momentum(lr, 0.9), "rmsprop": RMSProp,
                      "adam": Adam}
            return {name: tune_lr(make, loss, grad, w0, steps, lr_grid(1e-4, 10.0, 4))[0]
                    for name, make in makers.items()}
        """, "test_best"),
    wrong("best-rmsprop-with-the-keras-rho", "best", """
        def best_learning_rates(loss, grad, w0, steps, lrs):
            makers = {"momentum": lambda lr: Momentum(lr, 0.9),
                      "rmsprop": lambda lr: RMSProp(lr, alpha=0.9), "adam": Adam}
            return {name: tune_lr(make, loss, grad, w0, steps, lrs)[0]
                    for name, make in makers.items()}
        """, "test_best"),
    wrong("best-runs-the-books-optimizers", "best", """
        from utils import optimizers as _book

        def best_learning_rates(loss, grad, w0, steps, lrs):
            best = {}
            for name in ("momentum", "rmsprop", "adam"):
                finals = []
                with np.errstate(over="ignore", invalid="ignore"):
                    for lr in lrs:
                        path = _book.trajectory(_book.create(name, lr), grad, w0, steps)
                        finals.append(loss(path[-1]))
                finals = np.where(np.isfinite(finals), finals, np.inf)
                best[name] = float(lrs[int(np.argmin(finals))])
            return best
        """, "test_best"),
]

ALSO_RIGHT = [
    # the Sutskever (Keras) form equals PyTorch's for a constant learning rate
    wrong("momentum-sutskever-form", "momentum", """
        class Momentum:
            def __init__(self, lr, momentum=0.9):
                self.lr, self.momentum, self.velocity = lr, momentum, 0.0

            def step(self, w, g):
                self.velocity = self.momentum * self.velocity - self.lr * g
                return w + self.velocity
        """),
    # NaN losses skipped by nanargmin, inf ones never the minimum
    wrong("tune-with-nanargmin", "tune", """
        def tune_lr(make_optimizer, loss, grad, w0, steps, lrs):
            with np.errstate(over="ignore", invalid="ignore"):
                losses = np.array([loss(numpy_trajectory(make_optimizer(lr), grad, w0, steps)[-1])
                                   for lr in lrs], dtype=float)
            return float(lrs[np.nanargmin(losses)]), losses
        """),
    # its own tuning loop instead of tune_lr, with the optimizers by name
    wrong("best-with-its-own-loop", "best", """
        def best_learning_rates(loss, grad, w0, steps, lrs):
            best = {}
            for name, make in (("momentum", lambda lr: Momentum(lr, momentum=0.9)),
                               ("rmsprop", lambda lr: RMSProp(lr)), ("adam", lambda lr: Adam(lr))):
                with np.errstate(over="ignore", invalid="ignore"):
                    finals = np.array([loss(numpy_trajectory(make(lr), grad, w0, steps)[-1])
                                       for lr in lrs], dtype=float)
                best[name] = float(lrs[int(np.argmin(np.where(np.isfinite(finals), finals,
                                                              np.inf)))])
            return best
        """),
]
