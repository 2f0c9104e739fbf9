"""The course assignments (assignments/source) graded by real nbgrader.

One module-scoped run generates every student version with ``nbgrader generate_assignment``
and autogrades, with ``nbgrader autograde``, one submission folder holding, per assignment:

* ``reference``: the release version with the instructor's solutions filled in;
* ``unmodified``: the release version as handed out;
* one student per known wrong answer (``WRONG_ANSWERS``): the reference solutions, except
  for one solution cell replaced by a plausible mistake.

The tests then read the gradebook: full marks for the reference, zero for the unmodified
version, and for each wrong answer exactly the expected test cells lose their points (and
every other cell keeps them, so a wrong answer is caught where it should be, not by
accident). The instructor notebooks themselves are re-run by nbval with the chapters.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytest.importorskip("nbgrader", reason="nbgrader is in requirements.txt; install it to grade")
nbformat = pytest.importorskip("nbformat")

_spec = importlib.util.spec_from_file_location("course_grading", ROOT / "assignments" / "grading.py")
grading = importlib.util.module_from_spec(_spec)
sys.modules["course_grading"] = grading  # dataclasses look their module up by name
_spec.loader.exec_module(grading)

ASSIGNMENTS = ["batchnorm", "dropout_clipping", "initializers", "optimizers"]


@dataclass(frozen=True)
class Wrong:
    """A plausible wrong answer: the code a student writes in one solution cell, and the
    test cells that must lose their points because of it."""

    student: str
    cell: str
    code: str
    loses: frozenset[str]


def wrong(student: str, cell: str, code: str, *loses: str) -> Wrong:
    return Wrong(student, cell, textwrap.dedent(code).strip() + "\n", frozenset(loses))


WRONG_ANSWERS: dict[str, list[Wrong]] = {
    "initializers": [
        wrong("lecun-uniform-limit-3-over-fan-in", "lecun", """
            def lecun_normal(fan_in, fan_out, rng):
                return rng.normal(0.0, np.sqrt(1.0 / fan_in), size=(fan_in, fan_out))

            def lecun_uniform(fan_in, fan_out, rng):
                limit = 3.0 / fan_in
                return rng.uniform(-limit, limit, size=(fan_in, fan_out))
            """, "test_lecun"),
        wrong("glorot-uses-fan-in-only", "glorot", """
            def glorot_normal(fan_in, fan_out, rng):
                return rng.normal(0.0, np.sqrt(1.0 / fan_in), size=(fan_in, fan_out))

            def glorot_uniform(fan_in, fan_out, rng):
                limit = np.sqrt(3.0 / fan_in)
                return rng.uniform(-limit, limit, size=(fan_in, fan_out))
            """, "test_glorot"),
        wrong("glorot-normal-std-is-the-variance", "glorot", """
            def glorot_normal(fan_in, fan_out, rng):
                return rng.normal(0.0, 2.0 / (fan_in + fan_out), size=(fan_in, fan_out))

            def glorot_uniform(fan_in, fan_out, rng):
                limit = np.sqrt(6.0 / (fan_in + fan_out))
                return rng.uniform(-limit, limit, size=(fan_in, fan_out))
            """, "test_glorot"),
        wrong("he-uniform-limit-is-the-std", "he", """
            def he_normal(fan_in, fan_out, rng):
                return rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_in, fan_out))

            def he_uniform(fan_in, fan_out, rng):
                limit = np.sqrt(2.0 / fan_in)
                return rng.uniform(-limit, limit, size=(fan_in, fan_out))
            """, "test_he"),
        wrong("he-draws-from-global-np-random", "he", """
            def he_normal(fan_in, fan_out, rng):
                return np.random.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_in, fan_out))

            def he_uniform(fan_in, fan_out, rng):
                limit = np.sqrt(6.0 / fan_in)
                return np.random.uniform(-limit, limit, size=(fan_in, fan_out))
            """, "test_rng", "test_measurement"),
        wrong("stds-of-the-activations-not-pre-activations", "stds", """
            def relu(z):
                return np.maximum(z, 0.0)

            def preactivation_stds(X, init, activation, depth, width, rng):
                stds, h = [], X
                for _ in range(depth):
                    h = activation(h @ init(h.shape[1], width, rng))
                    stds.append(h.std())
                return np.array(stds)
            """, "test_stds", "test_measurement"),
        wrong("stds-one-weight-matrix-for-all-hidden-layers", "stds", """
            def relu(z):
                return np.maximum(z, 0.0)

            def preactivation_stds(X, init, activation, depth, width, rng):
                W_first = init(X.shape[1], width, rng)
                W = init(width, width, rng)
                stds, h = [], X
                for layer in range(depth):
                    z = h @ (W_first if layer == 0 else W)
                    stds.append(z.std())
                    h = activation(z)
                return np.array(stds)
            """, "test_stds", "test_measurement"),
        wrong("prediction-variance-ratio-not-std-ratio", "prediction", """
            PREDICTED_RATIO = {"he_normal": 1.0, "lecun_normal": 2 ** -10, "glorot_normal": 2 ** -10}
            """, "test_prediction"),
        wrong("prediction-glorot-keeps-the-scale", "prediction", """
            PREDICTED_RATIO = {"he_normal": 1.0, "lecun_normal": 2 ** -5, "glorot_normal": 1.0}
            """, "test_prediction"),
        wrong("choice-he-for-selu", "choices", """
            CHOICES = {"relu": "he", "leaky_relu": "he", "tanh": "glorot", "sigmoid": "glorot",
                       "selu": "he"}
            """, "test_choices"),
    ],
    "batchnorm": [
        wrong("forward-unbiased-batch-variance", "forward", """
            def batchnorm_forward(x, gamma, beta, eps=1e-5):
                mean, var = x.mean(axis=0), x.var(axis=0, ddof=1)
                inv_std = 1.0 / np.sqrt(var + eps)
                x_hat = (x - mean) * inv_std
                return gamma * x_hat + beta, (x_hat, inv_std, gamma)
            """, "test_forward", "test_backward", "test_gradcheck"),
        wrong("forward-eps-outside-the-square-root", "forward", """
            def batchnorm_forward(x, gamma, beta, eps=1e-5):
                mean, var = x.mean(axis=0), x.var(axis=0)
                inv_std = 1.0 / (np.sqrt(var) + eps)
                x_hat = (x - mean) * inv_std
                return gamma * x_hat + beta, (x_hat, inv_std, gamma)
            """, "test_forward", "test_backward", "test_gradcheck"),
        wrong("backward-ignores-the-batch-statistics", "backward", """
            def batchnorm_backward(dout, cache):
                x_hat, inv_std, gamma = cache
                return dout * gamma * inv_std, (dout * x_hat).sum(axis=0), dout.sum(axis=0)
            """, "test_backward", "test_gradcheck"),
        wrong("backward-forgets-the-variance-path", "backward", """
            def batchnorm_backward(dout, cache):
                x_hat, inv_std, gamma = cache
                n = dout.shape[0]
                dbeta, dgamma = dout.sum(axis=0), (dout * x_hat).sum(axis=0)
                return (gamma * inv_std / n) * (n * dout - dbeta), dgamma, dbeta
            """, "test_backward", "test_gradcheck"),
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
        wrong("inference-uses-batch-statistics", "running", """
            class BatchNorm1d:
                def __init__(self, num_features, eps=1e-5, momentum=0.1):
                    self.gamma, self.beta = np.ones(num_features), np.zeros(num_features)
                    self.running_mean, self.running_var = np.zeros(num_features), np.ones(num_features)
                    self.eps, self.momentum, self.training = eps, momentum, True

                def train(self):
                    self.training = True
                    return self

                def eval(self):
                    self.training = False
                    return self

                def forward(self, x):
                    out, _ = batchnorm_forward(x, self.gamma, self.beta, self.eps)
                    if self.training:
                        m = self.momentum
                        self.running_mean = (1 - m) * self.running_mean + m * x.mean(axis=0)
                        self.running_var = (1 - m) * self.running_var + m * x.var(axis=0, ddof=1)
                    return out
            """, "test_inference"),
    ],
    "optimizers": [
        wrong("momentum-dampened-velocity", "momentum", """
            class Momentum:
                def __init__(self, lr, momentum=0.9):
                    self.lr, self.momentum, self.velocity = lr, momentum, 0.0

                def step(self, w, g):
                    self.velocity = self.momentum * self.velocity + (1 - self.momentum) * g
                    return w - self.lr * self.velocity
            """, "test_momentum", "test_best"),
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
            """, "test_rmsprop", "test_best"),
        wrong("adam-without-bias-correction", "adam", """
            class Adam:
                def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
                    self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
                    self.m = self.v = 0.0

                def step(self, w, g):
                    self.m = self.beta1 * self.m + (1 - self.beta1) * g
                    self.v = self.beta2 * self.v + (1 - self.beta2) * g ** 2
                    return w - self.lr * self.m / (np.sqrt(self.v) + self.eps)
            """, "test_adam", "test_best"),
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
            """, "test_adam", "test_best"),
        wrong("grid-evenly-spaced-not-geometric", "grid", """
            def lr_grid(low, high, per_decade):
                decades = np.log10(high) - np.log10(low)
                return np.linspace(low, high, int(round(decades * per_decade)) + 1)
            """, "test_grid", "test_best"),
        wrong("grid-without-the-last-value", "grid", """
            def lr_grid(low, high, per_decade):
                decades = np.log10(high) - np.log10(low)
                return np.logspace(np.log10(low), np.log10(high), int(round(decades * per_decade)),
                                   endpoint=False)
            """, "test_grid", "test_tune"),
        wrong("tune-argmin-picks-a-nan", "tune", """
            def tune_lr(make_optimizer, loss, grad, w0, steps, lrs):
                with np.errstate(over="ignore", invalid="ignore"):
                    losses = np.array([loss(numpy_trajectory(make_optimizer(lr), grad, w0, steps)[-1])
                                       for lr in lrs])
                return float(lrs[np.argmin(losses)]), losses
            """, "test_tune", "test_best"),
    ],
    "dropout_clipping": [
        wrong("vanilla-dropout-scaling", "dropout", """
            def dropout_forward(x, rate, rng, training):
                if training:
                    multiplier = (rng.random(x.shape) >= rate).astype(float)
                else:
                    multiplier = np.full_like(x, 1.0 - rate)
                return x * multiplier, multiplier
            """, "test_dropout_train", "test_dropout_inference", "test_dropout_backward"),
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
            """, "test_dropout_train", "test_dropout_backward"),
        wrong("dropout-backward-forgets-the-scale", "dropout_backward", """
            def dropout_backward(dout, multiplier):
                return dout * (multiplier != 0)
            """, "test_dropout_backward"),
        wrong("global-norm-sum-of-per-array-norms", "global_norm", """
            def global_norm(grads):
                return float(sum(np.linalg.norm(g) for g in grads))
            """, "test_global_norm", "test_clip", "test_rnn", "test_spike"),
        wrong("clip-each-array-by-its-own-norm", "clip", """
            def clip_by_global_norm(grads, max_norm):
                clipped = []
                for g in grads:
                    n = np.linalg.norm(g)
                    clipped.append(g * (max_norm / n) if n > max_norm else g.copy())
                return clipped, global_norm(grads)
            """, "test_clip", "test_rnn"),
        wrong("clip-always-rescales-to-max-norm", "clip", """
            def clip_by_global_norm(grads, max_norm):
                norm = global_norm(grads)
                return [g * (max_norm / norm) for g in grads], norm
            """, "test_clip", "test_rnn"),
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
    ],
}


def graded_cells(source_nb: Path) -> dict[str, dict]:
    nb = nbformat.read(source_nb, as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"] for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("grade")}


def source_of(name: str) -> Path:
    return grading.SOURCE / name / f"{name}.ipynb"


def _grade_one(name: str, base: Path) -> tuple[Path, list, float, float]:
    """Generate one assignment and autograde its students in a course folder of its own."""
    work = base / f"course-{name}"
    start = time.perf_counter()
    release = grading.generate(work, [name])[name]
    generated = time.perf_counter() - start
    subs = base / f"submissions-{name}"
    students = {"reference": grading.fill_submission(release, source_of(name)),
                "unmodified": grading.fill_submission(release, source_of(name), reference=False)}
    for w in WRONG_ANSWERS.get(name, []):
        students[f"wrong-{w.student}"] = grading.fill_submission(release, source_of(name),
                                                                 {w.cell: w.code})
    for student, nb in students.items():
        dest = subs / student / name / f"{name}.ipynb"
        dest.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, dest)
    start = time.perf_counter()
    rows = grading.autograde(subs, work)
    return release, rows, generated, time.perf_counter() - start


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """Generate every student version and autograde all the submissions, once.

    Each assignment gets its own course folder (and gradebook), so that two assignments
    are graded at the same time: nbgrader itself runs one notebook after another.
    """
    base = tmp_path_factory.mktemp("courses")
    with ThreadPoolExecutor(max_workers=2) as pool:
        # the slowest (each of its kernels imports PyTorch) first, the others beside it
        order = sorted(ASSIGNMENTS, key=lambda n: n != "optimizers")
        results = dict(zip(order, pool.map(lambda n: _grade_one(n, base), order), strict=True))
    releases, table, rows_all = {}, {}, []
    for name, (release, rows, generated, graded) in results.items():
        print(f"\n{name}: generate {generated:.1f} s, autograde {len(rows and {r.student for r in rows})} "
              f"students {graded:.1f} s")
        releases[name] = release
        rows_all += rows
        for r in rows:
            table.setdefault((r.student, r.assignment), {})[r.cell] = r
    print(grading.score_table(rows_all))
    return {"releases": releases, "scores": table}


def test_every_assignment_is_in_the_course():
    assert grading.assignment_names() == ASSIGNMENTS


def test_wrong_answers_name_real_cells():
    for name, answers in WRONG_ANSWERS.items():
        cells = graded_cells(source_of(name))
        nb = nbformat.read(source_of(name), as_version=4)
        solutions = {c.metadata["nbgrader"]["grade_id"] for c in nb.cells
                     if c.metadata.get("nbgrader", {}).get("solution")}
        assert len({w.student for w in answers}) == len(answers)
        for w in answers:
            assert w.cell in solutions, (name, w.cell)
            assert w.loses and w.loses <= set(cells), (name, w.student, w.loses)


def _split(text: str, begin: str, end: str) -> tuple[list[str], list[str]]:
    """(the non-empty lines between the markers, the other lines), stripped."""
    inside, outside, within = [], [], False
    for line in text.splitlines():
        if line.strip() == begin:
            within = True
        elif line.strip() == end:
            within = False
        elif line.strip():
            (inside if within else outside).append(line.strip())
    return inside, outside


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_student_version_has_no_solutions_or_hidden_tests(course, name):
    release = nbformat.read(course["releases"][name], as_version=4)
    source = nbformat.read(source_of(name), as_version=4)
    text = "\n".join(c.source for c in release.cells)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text, marker
    by_id = {c.metadata["nbgrader"]["grade_id"]: c for c in release.cells
             if "grade_id" in c.metadata.get("nbgrader", {})}
    counted = {"solution": 0, "hidden": 0}
    for cell in source.cells:
        meta = cell.metadata.get("nbgrader")
        if not meta:
            continue
        released = {ln.strip() for ln in by_id[meta["grade_id"]].source.splitlines()}
        for kind, begin, end in (("solution", "### BEGIN SOLUTION", "### END SOLUTION"),
                                 ("hidden", "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")):
            secret, visible = _split(cell.source, begin, end)
            leaked = [ln for ln in secret if ln in released and ln not in visible]
            assert not leaked, (meta["grade_id"], leaked[:3])
            counted[kind] += len(secret)
        if meta.get("solution") and cell.cell_type == "code":
            assert "raise NotImplementedError()" in by_id[meta["grade_id"]].source
    assert counted["solution"] > 0 and counted["hidden"] > 0, counted
    assert all(c.get("outputs", []) == [] for c in release.cells if c.cell_type == "code")


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_reference_solutions_get_full_marks(course, name):
    cells = graded_cells(source_of(name))
    got = course["scores"][("reference", name)]
    assert set(got) == set(cells)
    for cell_id, meta in cells.items():
        row = got[cell_id]
        assert row.max_score == meta["points"]
        if meta.get("solution"):  # a written answer: nbgrader leaves it to the instructor
            assert row.needs_manual_grade, cell_id
        else:
            assert row.score == row.max_score, (cell_id, row)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_unmodified_student_version_gets_zero_everywhere(course, name):
    got = course["scores"][("unmodified", name)]
    assert set(got) == set(graded_cells(source_of(name)))
    for cell_id, row in got.items():
        assert row.score == 0 and not row.needs_manual_grade, (cell_id, row)


CASES = [(name, w) for name, answers in WRONG_ANSWERS.items() for w in answers]


@pytest.mark.parametrize("name, answer", CASES, ids=[f"{n}:{w.student}" for n, w in CASES])
def test_known_wrong_answer_loses_exactly_the_expected_points(course, name, answer):
    got = course["scores"][(f"wrong-{answer.student}", name)]
    auto = {cell_id: row for cell_id, row in got.items() if not row.needs_manual_grade}
    lost = {cell_id for cell_id, row in auto.items() if row.score < row.max_score}
    assert lost == answer.loses, f"lost {sorted(lost)}, expected {sorted(answer.loses)}"
    for cell_id in answer.loses:
        assert auto[cell_id].score == 0


def test_the_command_line_prints_a_score_table(course):
    table = grading.score_table([r for per in course["scores"].values() for r in per.values()])
    lines = table.splitlines()
    assert lines[0].split()[:4] == ["student", "assignment", "score", "max"]
    ref = [ln for ln in lines if ln.startswith("reference ")]
    assert len(ref) == len(ASSIGNMENTS)
    assert re.search(r"initializers\s+16\.0\s+18\s+1 cell\(s\), 2 points", "\n".join(ref))


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_instructor_notebook_was_run_top_to_bottom_without_errors(name):
    nb = nbformat.read(source_of(name), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    for cell in code:
        for out in cell.outputs:
            assert out.output_type != "error" and out.get("name") != "stderr", cell.source[:80]
    assert nb.metadata["kernelspec"]["name"] == "python3"
