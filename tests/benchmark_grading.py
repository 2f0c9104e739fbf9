"""Time the autograding of a class: N generated students, each submitting every assignment.

    python3 tasks.py benchmark --grading 60 [--jobs J]

Each student's notebook is the reference solution or one of the known wrong answers of
tests/assignment_answers (a third right, the rest wrong, in turn), so the kernels run
what a real class hands in: code that passes, fails, raises and overflows. Grades with
``assignments/grading.py`` (real nbgrader, ``--jobs`` worker processes) in a temporary
course folder, checks that every right submission got full marks, and prints the
seconds per submission and what a class of 200 would take.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
import assignment_answers  # noqa: E402

_spec = importlib.util.spec_from_file_location("course_grading",
                                               ROOT / "assignments" / "grading.py")
grading = importlib.util.module_from_spec(_spec)
sys.modules["course_grading"] = grading
_spec.loader.exec_module(grading)


def make_class(base: Path, students: int, names: list[str]) -> tuple[Path, Path, set]:
    work = base / "course"
    releases = grading.generate(work, names)
    subs = base / "submissions"
    right = set()
    for name in names:
        source = grading.SOURCE / name / f"{name}.ipynb"
        wrong = assignment_answers.WRONG_ANSWERS[name]
        for i in range(students):
            student = f"student{i:03d}"
            if i % 3 == 0:
                nb = grading.fill_submission(releases[name], source)
                right.add((student, name))
            else:
                nb = grading.fill_submission(releases[name], source,
                                             wrong[i % len(wrong)].answers)
            dest = subs / student / name / f"{name}.ipynb"
            dest.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, dest)
    return work, subs, right


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("students", type=int)
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--assignments", nargs="*", default=grading.assignment_names())
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="grading-") as tmp:
        work, subs, right = make_class(Path(tmp), args.students, args.assignments)
        start = time.perf_counter()
        rows = grading.autograde(subs, work, args.jobs)
        seconds = time.perf_counter() - start
    n = args.students * len(args.assignments)
    totals = {}
    for r in rows:
        t = totals.setdefault((r.student, r.assignment), [0.0, 0.0])
        t[0] += 0.0 if r.needs_manual_grade else r.score
        t[1] += 0.0 if r.needs_manual_grade else r.max_score
    assert len(totals) == n, (len(totals), n)
    bad = [k for k in right if totals[k][0] != totals[k][1]]
    assert not bad, f"right submissions without full marks: {bad}"
    jobs = args.jobs or os.cpu_count()
    per = seconds / n
    print(f"{n} submissions ({args.students} students x {len(args.assignments)} "
          f"assignments, {len(right)} right) autograded in {seconds:.0f} s with {jobs} "
          f"worker(s) on {os.cpu_count()} cores: {per:.2f} s per submission; 200 students "
          f"would take {200 * per / 60:.1f} min per assignment")


if __name__ == "__main__":
    main()
