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
import os
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import assignment_answers
import pytest

ROOT = Path(__file__).resolve().parents[1]
pytest.importorskip("nbgrader", reason="nbgrader is in requirements.txt; install it to grade")
nbformat = pytest.importorskip("nbformat")

_spec = importlib.util.spec_from_file_location("course_grading", ROOT / "assignments" / "grading.py")
grading = importlib.util.module_from_spec(_spec)
sys.modules["course_grading"] = grading  # dataclasses look their module up by name
_spec.loader.exec_module(grading)

ASSIGNMENTS = ["batchnorm", "dropout_clipping", "initializers", "optimizers"]
# ASSIGNMENTS_ONLY=optimizers,batchnorm grades only those (while working on one assignment)
GRADED = [n for n in ASSIGNMENTS
          if n in (os.environ.get("ASSIGNMENTS_ONLY") or ",".join(ASSIGNMENTS)).split(",")]


WRONG_ANSWERS = assignment_answers.WRONG_ANSWERS
ALSO_RIGHT = assignment_answers.ALSO_RIGHT
# Understanding parts (explanations, predictions, choices among explanations) are the graded
# cells with these grade_id prefixes; each assignment gives them at least this share of its
# points.
UNDERSTANDING = ("explain_", "test_why_", "test_predict_")
UNDERSTANDING_SHARE = 0.2
OWN_CODE = (ROOT / "assignments" / "own_code.py").read_text().split("\n\n", 1)[1].strip()


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
                                                                 w.answers)
    for w in ALSO_RIGHT.get(name, []):
        students[f"right-{w.student}"] = grading.fill_submission(release, source_of(name),
                                                                 w.answers)
    for student, nb in students.items():
        dest = subs / student / name / f"{name}.ipynb"
        dest.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, dest)
    start = time.perf_counter()
    rows = grading.autograde(subs, work, jobs=1)  # two assignments are graded at a time
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
        order = sorted(GRADED, key=lambda n: n != "optimizers")
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


@pytest.mark.parametrize("jobs", [0, -2, 1.5])
def test_autograde_rejects_a_bad_number_of_jobs(tmp_path, jobs):
    with pytest.raises(ValueError, match="jobs must be a positive number"):
        grading.autograde(tmp_path, tmp_path / "course", jobs=jobs)


def test_every_assignment_is_in_the_course():
    assert grading.assignment_names() == ASSIGNMENTS


def test_wrong_answers_name_real_cells():
    for name, answers in WRONG_ANSWERS.items():
        cells = graded_cells(source_of(name))
        for w in ALSO_RIGHT[name]:
            assert not w.loses, (name, w.student, "an answer that is right loses nothing")
        nb = nbformat.read(source_of(name), as_version=4)
        solutions = {c.metadata["nbgrader"]["grade_id"] for c in nb.cells
                     if c.metadata.get("nbgrader", {}).get("solution")}
        assert len({w.student for w in answers}) == len(answers)
        for w in answers:
            assert set(w.answers) <= solutions, (name, sorted(w.answers))
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


@pytest.mark.parametrize("name", GRADED)
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


@pytest.mark.parametrize("name", GRADED)
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


@pytest.mark.parametrize("name", GRADED)
def test_unmodified_student_version_gets_zero_everywhere(course, name):
    got = course["scores"][("unmodified", name)]
    assert set(got) == set(graded_cells(source_of(name)))
    for cell_id, row in got.items():
        assert row.score == 0 and not row.needs_manual_grade, (cell_id, row)


CASES = [(name, w) for name, answers in WRONG_ANSWERS.items() if name in GRADED
         for w in answers]


@pytest.mark.parametrize("name, answer", CASES, ids=[f"{n}:{w.student}" for n, w in CASES])
def test_known_wrong_answer_loses_exactly_the_expected_points(course, name, answer):
    got = course["scores"][(f"wrong-{answer.student}", name)]
    auto = {cell_id: row for cell_id, row in got.items() if not row.needs_manual_grade}
    lost = {cell_id for cell_id, row in auto.items() if row.score < row.max_score}
    assert lost == answer.loses, f"lost {sorted(lost)}, expected {sorted(answer.loses)}"
    for cell_id in answer.loses:
        assert auto[cell_id].score == 0


RIGHT = [(name, w) for name, answers in ALSO_RIGHT.items() if name in GRADED
         for w in answers]


@pytest.mark.parametrize("name, answer", RIGHT, ids=[f"{n}:{w.student}" for n, w in RIGHT])
def test_another_right_answer_gets_full_marks(course, name, answer):
    got = course["scores"][(f"right-{answer.student}", name)]
    lost = {cell_id: row.score for cell_id, row in got.items()
            if not row.needs_manual_grade and row.score < row.max_score}
    assert not lost, lost


@pytest.mark.parametrize("name", GRADED)
def test_understanding_is_at_least_a_fifth_of_the_points(name):
    cells = graded_cells(source_of(name))
    total = sum(m["points"] for m in cells.values())
    understanding = sum(m["points"] for cell_id, m in cells.items()
                        if cell_id.startswith(UNDERSTANDING))
    manual = [cell_id for cell_id, m in cells.items() if m.get("solution")]
    assert understanding >= UNDERSTANDING_SHARE * total, (understanding, total)
    assert any(c.startswith("explain_") for c in manual), "no answer graded by hand"
    assert set(manual) <= {c for c in cells if c.startswith("explain_")}, manual
    assert any(c.startswith(("test_why_", "test_predict_")) for c in cells), \
        "no understanding part graded automatically"


@pytest.mark.parametrize("name", GRADED)
def test_graded_functions_are_checked_to_be_the_students_own(name):
    """The read-only cell own_code is the same in every assignment, and every test cell
    that calls a student's function calls it through own_code at least once."""
    nb = nbformat.read(source_of(name), as_version=4)
    by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}
    cell = by_id.get("own_code")
    assert cell is not None and cell.source.strip() == OWN_CODE
    assert cell.metadata["nbgrader"]["locked"] and not cell.metadata["nbgrader"]["grade"]
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            if not cell["metadata"]["nbgrader"]["grade_id"].startswith(UNDERSTANDING):
                assert "own_code(" in cell.source, meta["grade_id"]
            assert "utils" not in cell.source, (meta["grade_id"], "a test imports utils")


def test_the_command_line_prints_a_score_table(course):
    table = grading.score_table([r for per in course["scores"].values() for r in per.values()])
    lines = table.splitlines()
    assert lines[0].split()[:4] == ["student", "assignment", "score", "max"]
    ref = [ln for ln in lines if ln.startswith("reference ")]
    assert len(ref) == len(GRADED)
    for name in GRADED:  # the automatic points, the maximum, the cells graded by hand
        cells = graded_cells(source_of(name))
        manual = [m["points"] for m in cells.values() if m.get("solution")]
        auto = sum(m["points"] for m in cells.values()) - sum(manual)
        top = sum(m["points"] for m in cells.values())
        hand = f"{len(manual)} cell\\(s\\), {sum(manual):g} points" if manual else "-"
        line = next(ln for ln in ref if ln.split()[1] == name)
        assert re.fullmatch(rf"reference\s+{name}\s+{auto:.1f}\s+{top:.0f}\s+{hand}", line), line


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_instructor_notebook_was_run_top_to_bottom_without_errors(name):
    nb = nbformat.read(source_of(name), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    for cell in code:
        for out in cell.outputs:
            assert out.output_type != "error" and out.get("name") != "stderr", cell.source[:80]
    assert nb.metadata["kernelspec"]["name"] == "python3"
