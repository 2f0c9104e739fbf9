"""Plausible wrong answers to the assignment `dropout_clipping`, graded by tests/test_assignments.py.

Each is the code a student writes in one solution cell of an otherwise correct submission,
and the test cells that must lose all their points because of it (every other test cell
keeps its points). ``ALSO_RIGHT`` holds answers that differ from the reference but are
right (another standard convention, another way to draw the mask) and must lose nothing.
"""

from ._wrong import wrong

ANSWERS = [
    # --- Part 1: inverted dropout ---------------------------------------------------------
    wrong("vanilla-dropout-scaling", "dropout", """
        def dropout_forward(x, rate, rng, training):
            if training:
                multiplier = (rng.random(x.shape) >= rate).astype(float)
            else:
                multiplier = np.full_like(x, 1.0 - rate)
            return x * multiplier, multiplier
        """, "test_dropout_train", "test_dropout_inference"),
    wrong("dropout-also-at-inference", "dropout", """
        def dropout_forward(x, rate, rng, training):
            rng = rng if rng is not None else np.random.default_rng()
            multiplier = (rng.random(x.shape) >= rate) / (1.0 - rate)
            return x * multiplier, multiplier
        """, "test_dropout_inference"),
    wrong("rate-taken-as-the-keep-probability", "dropout", """
        def dropout_forward(x, rate, rng, training):
            if not training:
                return x.copy(), np.ones_like(x)
            multiplier = (rng.random(x.shape) < rate) / rate
            return x * multiplier, multiplier
        """, "test_dropout_train"),
    wrong("dropout-backward-forgets-the-scale", "dropout_backward", """
        def dropout_backward(dout, multiplier):
            return dout * (multiplier != 0)
        """, "test_dropout_backward"),
    wrong("dropout-drops-an-exact-fraction", "dropout", """
        def dropout_forward(x, rate, rng, training):
            if not training:
                return x.copy(), np.ones_like(x)
            keep = np.ones(x.size, dtype=bool)
            keep[rng.permutation(x.size)[:int(round(rate * x.size))]] = False
            multiplier = keep.reshape(x.shape) / (1.0 - rate)
            return x * multiplier, multiplier
        """, "test_dropout_train"),
    wrong("dropout-same-mask-for-every-row", "dropout", """
        def dropout_forward(x, rate, rng, training):
            if not training:
                return x.copy(), np.ones_like(x)
            keep = rng.random(x.shape[-1]) >= rate  # one mask, broadcast over the rows
            multiplier = np.broadcast_to(keep / (1.0 - rate), x.shape).copy()
            return x * multiplier, multiplier
        """, "test_dropout_train"),
    wrong("dropout-mask-ignores-rng", "dropout", """
        def dropout_forward(x, rate, rng, training):
            if not training:
                return x.copy(), np.ones_like(x)
            multiplier = (np.random.random(x.shape) >= rate) / (1.0 - rate)
            return x * multiplier, multiplier
        """, "test_dropout_train"),
    wrong("dropout-mask-from-a-fixed-seed", "dropout", """
        def dropout_forward(x, rate, rng, training):
            if not training:
                return x.copy(), np.ones_like(x)
            keep = np.random.default_rng(0).random(x.shape) >= rate
            multiplier = keep / (1.0 - rate)
            return x * multiplier, multiplier
        """, "test_dropout_train"),
    wrong("dropout-divides-by-the-rate", "dropout", """
        def dropout_forward(x, rate, rng, training):
            if not training:
                return x.copy(), np.ones_like(x)
            multiplier = (rng.random(x.shape) >= rate) / rate
            return x * multiplier, multiplier
        """, "test_dropout_train"),
    wrong("dropout-modifies-its-input", "dropout", """
        def dropout_forward(x, rate, rng, training):
            if not training:
                return x, np.ones_like(x)
            multiplier = (rng.random(x.shape) >= rate) / (1.0 - rate)
            x *= multiplier
            return x, multiplier
        """, "test_dropout_train"),
    wrong("dropout-delegates-to-the-book", "dropout", """
        from utils import regularization as book_regularization


        def dropout_forward(x, rate, rng, training):
            return book_regularization.inverted_dropout(x, rate, rng, training=training)
        """, "test_dropout_train", "test_dropout_inference"),
    wrong("dropout-backward-delegates-to-the-book", "dropout_backward", """
        from utils.regularization import dropout_backward as book_dropout_backward


        def dropout_backward(dout, multiplier):
            return book_dropout_backward(dout, multiplier)
        """, "test_dropout_backward"),
    wrong("why-inverted-ticks-dropout-is-too-slow", "why_inverted", """
        WHY_INVERTED = {"A", "B", "D", "F"}
        """, "test_why_inverted"),
    wrong("why-inverted-rescales-at-inference", "why_inverted", """
        WHY_INVERTED = {"A", "C", "D", "F"}
        """, "test_why_inverted"),
    wrong("why-inverted-keeps-the-variance", "why_inverted", """
        WHY_INVERTED = {"A", "D", "E", "F"}
        """, "test_why_inverted"),
    wrong("why-inverted-misses-the-keep-drop-mix-up", "why_inverted", """
        WHY_INVERTED = {"A", "D"}
        """, "test_why_inverted"),

    # --- Part 2: clipping by the global norm ---------------------------------------------
    wrong("global-norm-sum-of-per-array-norms", "global_norm", """
        def global_norm(grads):
            return float(sum(np.linalg.norm(g) for g in grads))
        """, "test_global_norm", "test_clip"),
    # clipping then scales by c / norm**2: seed 0's clipped run ends above 1/6 (0.18)
    wrong("global-norm-forgets-the-square-root", "global_norm", """
        def global_norm(grads):
            return float(sum(np.sum(g ** 2) for g in grads))
        """, "test_global_norm", "test_clip", "test_rnn"),
    wrong("global-norm-of-the-largest-array", "global_norm", """
        def global_norm(grads):
            return float(max(np.linalg.norm(g) for g in grads))
        """, "test_global_norm", "test_clip"),
    wrong("global-norm-delegates-to-the-book", "global_norm", """
        from utils.clipping import global_norm as book_global_norm


        def global_norm(grads):
            return book_global_norm(grads)
        """, "test_global_norm", "test_clip", "test_rnn"),
    wrong("clip-each-array-by-its-own-norm", "clip", """
        def clip_by_global_norm(grads, max_norm):
            clipped = []
            for g in grads:
                n = np.linalg.norm(g)
                clipped.append(g * (max_norm / n) if n > max_norm else g.copy())
            return clipped, global_norm(grads)
        """, "test_clip"),
    wrong("clip-always-rescales-to-max-norm", "clip", """
        def clip_by_global_norm(grads, max_norm):
            norm = global_norm(grads)
            return [g * (max_norm / norm) for g in grads], norm
        """, "test_clip"),
    wrong("clip-returns-the-input-below-the-threshold", "clip", """
        def clip_by_global_norm(grads, max_norm):
            norm = global_norm(grads)
            if norm <= max_norm:
                return grads, norm
            return [g * (max_norm / norm) for g in grads], norm
        """, "test_clip"),
    wrong("clip-returns-the-same-arrays-below-the-threshold", "clip", """
        def clip_by_global_norm(grads, max_norm):
            norm = global_norm(grads)
            if norm <= max_norm:
                return [g for g in grads], norm
            return [g * (max_norm / norm) for g in grads], norm
        """, "test_clip"),
    wrong("clip-scales-in-place", "clip", """
        def clip_by_global_norm(grads, max_norm):
            norm = global_norm(grads)
            if norm > max_norm:
                for g in grads:
                    g *= max_norm / norm
            return list(grads), norm
        """, "test_clip"),
    wrong("clip-divides-by-a-zero-norm", "clip", """
        def clip_by_global_norm(grads, max_norm):
            norm = global_norm(grads)
            scale = min(1.0, max_norm / norm)
            return [g * scale for g in grads], norm
        """, "test_clip"),
    wrong("clip-returns-the-norm-after-clipping", "clip", """
        def clip_by_global_norm(grads, max_norm):
            norm = global_norm(grads)
            scale = max_norm / norm if norm > max_norm else 1.0
            clipped = [g * scale for g in grads]
            return clipped, global_norm(clipped)
        """, "test_clip"),
    wrong("clip-delegates-to-the-book", "clip", """
        from utils.clipping import clip_by_global_norm as book_clip


        def clip_by_global_norm(grads, max_norm):
            return book_clip(grads, max_norm)
        """, "test_clip", "test_rnn"),
    wrong("predict-per-array-as-the-global-clip", "predict_clip", """
        PREDICT_NORM = 25.0
        PREDICT_GLOBAL = [np.array([2.0, -3.0, 6.0]) / 5, np.array([24.0]) / 5]
        PREDICT_PER_ARRAY = [np.array([2.0, -3.0, 6.0]) / 5, np.array([24.0]) / 5]
        """, "test_predict_clip"),
    wrong("predict-norm-as-the-sum-of-array-norms", "predict_clip", """
        PREDICT_NORM = 31.0  # 7 + 24
        PREDICT_GLOBAL = [np.array([2.0, -3.0, 6.0]) * 5 / 31, np.array([24.0]) * 5 / 31]
        PREDICT_PER_ARRAY = [np.array([2.0, -3.0, 6.0]) * 5 / 7, np.array([5.0])]
        """, "test_predict_clip"),
    wrong("predict-per-array-clips-each-component", "predict_clip", """
        PREDICT_NORM = 25.0
        PREDICT_GLOBAL = [np.array([2.0, -3.0, 6.0]) / 5, np.array([24.0]) / 5]
        PREDICT_PER_ARRAY = [np.array([2.0, -3.0, 5.0]), np.array([5.0])]  # by value
        """, "test_predict_clip"),
    wrong("predict-rounded-to-two-decimals", "predict_clip", """
        PREDICT_NORM = 25.0
        PREDICT_GLOBAL = [np.array([0.4, -0.6, 1.2]), np.array([4.8])]
        PREDICT_PER_ARRAY = [np.array([1.43, -2.14, 4.29]), np.array([5.0])]
        """, "test_predict_clip"),

    # --- Part 3: the exploding RNN ------------------------------------------------------
    wrong("train-updates-with-the-unclipped-gradient", "train", """
        def train(params, X, y, lr, steps, max_norm=None):
            params = [p.copy() for p in params]
            losses, norms = [], []
            with np.errstate(over="ignore", invalid="ignore"):
                for _ in range(steps):
                    loss, grads = rnn_loss_and_grads(params, X, y)
                    norm = global_norm(grads)
                    losses.append(loss)
                    norms.append(norm)
                    if not (np.isfinite(loss) and np.isfinite(norm)):
                        break
                    if max_norm is not None:
                        clipped, _ = clip_by_global_norm(grads, max_norm)
                    for p, g in zip(params, grads):
                        p -= lr * g
            return losses, norms
        """, "test_rnn"),
    wrong("train-never-stops", "train", """
        def train(params, X, y, lr, steps, max_norm=None):
            params = [p.copy() for p in params]
            losses, norms = [], []
            with np.errstate(over="ignore", invalid="ignore"):
                for _ in range(steps):
                    loss, grads = rnn_loss_and_grads(params, X, y)
                    losses.append(loss)
                    norms.append(global_norm(grads))
                    if max_norm is not None:
                        grads, _ = clip_by_global_norm(grads, max_norm)
                    for p, g in zip(params, grads):
                        p -= lr * g
            return losses, norms
        """, "test_rnn"),
    wrong("train-records-the-norm-after-clipping", "train", """
        def train(params, X, y, lr, steps, max_norm=None):
            params = [p.copy() for p in params]
            losses, norms = [], []
            with np.errstate(over="ignore", invalid="ignore"):
                for _ in range(steps):
                    loss, grads = rnn_loss_and_grads(params, X, y)
                    if max_norm is not None:
                        grads, _ = clip_by_global_norm(grads, max_norm)
                    norm = global_norm(grads)
                    losses.append(loss)
                    norms.append(norm)
                    if not (np.isfinite(loss) and np.isfinite(norm)):
                        break
                    for p, g in zip(params, grads):
                        p -= lr * g
            return losses, norms
        """, "test_rnn"),
    wrong("train-stops-only-on-a-non-finite-loss", "train", """
        def train(params, X, y, lr, steps, max_norm=None):
            params = [p.copy() for p in params]
            losses, norms = [], []
            with np.errstate(over="ignore", invalid="ignore"):
                for _ in range(steps):
                    loss, grads = rnn_loss_and_grads(params, X, y)
                    losses.append(loss)
                    norms.append(global_norm(grads))
                    if not np.isfinite(loss):
                        break
                    if max_norm is not None:
                        grads, _ = clip_by_global_norm(grads, max_norm)
                    for p, g in zip(params, grads):
                        p -= lr * g
            return losses, norms
        """, "test_rnn"),
    wrong("train-stops-before-recording", "train", """
        def train(params, X, y, lr, steps, max_norm=None):
            params = [p.copy() for p in params]
            losses, norms = [], []
            with np.errstate(over="ignore", invalid="ignore"):
                for _ in range(steps):
                    loss, grads = rnn_loss_and_grads(params, X, y)
                    norm = global_norm(grads)
                    if not (np.isfinite(loss) and np.isfinite(norm)):
                        break
                    losses.append(loss)
                    norms.append(norm)
                    if max_norm is not None:
                        grads, _ = clip_by_global_norm(grads, max_norm)
                    for p, g in zip(params, grads):
                        p -= lr * g
            return losses, norms
        """, "test_rnn"),
    wrong("train-modifies-the-parameters", "train", """
        def train(params, X, y, lr, steps, max_norm=None):
            losses, norms = [], []
            with np.errstate(over="ignore", invalid="ignore"):
                for _ in range(steps):
                    loss, grads = rnn_loss_and_grads(params, X, y)
                    norm = global_norm(grads)
                    losses.append(loss)
                    norms.append(norm)
                    if not (np.isfinite(loss) and np.isfinite(norm)):
                        break
                    if max_norm is not None:
                        grads, _ = clip_by_global_norm(grads, max_norm)
                    for p, g in zip(params, grads):
                        p -= lr * g
            return losses, norms
        """, "test_rnn"),
    wrong("train-delegates-to-the-book", "train", """
        from utils import clipping as book_clipping


        def train(params, X, y, lr, steps, max_norm=None):
            params = [p.copy() for p in params]
            losses, norms = [], []
            with np.errstate(over="ignore", invalid="ignore"):
                for _ in range(steps):
                    loss, grads = rnn_loss_and_grads(params, X, y)
                    norm = float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))
                    losses.append(loss)
                    norms.append(norm)
                    if not (np.isfinite(loss) and np.isfinite(norm)):
                        break
                    if max_norm is not None:
                        grads, _ = book_clipping.clip_by_global_norm(grads, max_norm)
                    for p, g in zip(params, grads):
                        p -= lr * g
            return losses, norms
        """, "test_rnn"),
    wrong("first-spike-counts-steps-from-one", "spike", """
        def first_spike(norms, threshold):
            for step, norm in enumerate(norms, start=1):
                if norm > threshold:
                    return step, float(norm)
            return None
        """, "test_spike"),
    wrong("first-spike-at-or-above-the-threshold", "spike", """
        def first_spike(norms, threshold):
            for step, norm in enumerate(norms):
                if norm >= threshold:
                    return step, float(norm)
            return None
        """, "test_spike"),
    wrong("first-spike-never-none", "spike", """
        def first_spike(norms, threshold):
            step = int(np.argmax(np.asarray(norms) > threshold))
            return step, float(norms[step])
        """, "test_spike"),
    wrong("first-spike-returns-the-largest-norm", "spike", """
        def first_spike(norms, threshold):
            norms = np.asarray(norms, dtype=float)
            if not np.any(norms > threshold):
                return None
            step = int(np.argmax(norms))
            return step, float(norms[step])
        """, "test_spike"),
    wrong("first-spike-hard-coded", "spike", """
        def first_spike(norms, threshold):
            return 2, 1144.71  # seed 0, threshold 100, read off the run
        """, "test_spike"),
]

ALSO_RIGHT = [
    wrong("clip-pytorch-convention", "clip", """
        def clip_by_global_norm(grads, max_norm):
            norm = global_norm(grads)
            coef = min(max_norm / (norm + 1e-6), 1.0)  # torch.nn.utils.clip_grad_norm_
            return [g * coef for g in grads], norm
        """),
    wrong("clip-scale-by-the-larger-of-norm-and-threshold", "clip", """
        def clip_by_global_norm(grads, max_norm):
            norm = global_norm(grads)
            return [g * (max_norm / max(norm, max_norm)) for g in grads], norm
        """),
    wrong("global-norm-of-the-concatenated-entries", "global_norm", """
        def global_norm(grads):
            return float(np.linalg.norm(np.concatenate([np.ravel(g) for g in grads])))
        """),
    wrong("dropout-binomial-mask", "dropout", """
        def dropout_forward(x, rate, rng, training):
            if not training:
                return x, np.ones_like(x)
            multiplier = rng.binomial(1, 1.0 - rate, size=x.shape) / (1.0 - rate)
            return x * multiplier, multiplier
        """),
    wrong("dropout-uniform-keep-below", "dropout", """
        def dropout_forward(x, rate, rng, training):
            if not training:
                return x.copy(), 1.0
            keep = rng.uniform(size=x.shape) < 1.0 - rate
            out = np.where(keep, x / (1.0 - rate), 0.0)
            return out, keep / (1.0 - rate)
        """),
    wrong("first-spike-with-flatnonzero", "spike", """
        def first_spike(norms, threshold):
            above = np.flatnonzero(np.asarray(norms, dtype=float) > threshold)
            if above.size == 0:
                return None
            return int(above[0]), float(norms[above[0]])
        """),
]
