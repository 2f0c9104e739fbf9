"""Student versions and autograding of the course assignments, with nbgrader.

Used by ``python3 tasks.py assignments`` / ``python3 tasks.py autograde DIR`` and by
``tests/test_assignments.py``. Run it with the Python of the environment that has
nbgrader (``.venv``)::

    python assignments/grading.py generate [--course-dir DIR]
    python assignments/grading.py autograde SUBMISSIONS [--course-dir DIR] [--jobs N]
    python assignments/grading.py reference OUT   # the reference solutions as submissions

Everything is written to a working course folder (default ``_build/nbgrader``): a copy of
``source/`` and ``nbgrader_config.py``, then nbgrader's ``release/``, ``submitted/``,
``autograded/``, ``feedback/`` and ``gradebook.db``. SUBMISSIONS is laid out as nbgrader's
``submitted/`` folder: ``SUBMISSIONS/<student>/<assignment>/<assignment>.ipynb``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

COURSE = Path(__file__).resolve().parent
SOURCE = COURSE / "source"
ROOT = COURSE.parent
DEFAULT_WORK = ROOT / "_build" / "nbgrader"
SOLUTION_MARKERS = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")


def assignment_names() -> list[str]:
    """The assignments in source/, each a folder with a notebook of the same name."""
    return sorted(p.parent.name for p in SOURCE.glob("*/*.ipynb")
                  if p.stem == p.parent.name and ".ipynb_checkpoints" not in p.parts)


def _kernel_env() -> dict[str, str]:
    env = dict(os.environ)
    # kernels started by nbgrader: one BLAS thread each (the notebooks are tiny) and the
    # book's TensorFlow settings, should an assignment ever import it
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, "1")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env["TF_ENABLE_ONEDNN_OPTS"] = "0"
    # nbgrader runs the `alembic` command of its environment to check the gradebook
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def _nbgrader(args: list[str], work: Path) -> None:
    cmd = [sys.executable, "-m", "nbgrader", *args]
    result = subprocess.run(cmd, cwd=work, env=_kernel_env(), capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed (exit {result.returncode}):\n"
                           f"{result.stdout}\n{result.stderr}")


def prepare_course(work: Path = DEFAULT_WORK, *, fresh: bool = False) -> Path:
    """A working course folder with fresh copies of nbgrader_config.py and source/.

    What nbgrader wrote there before (release/, autograded/, gradebook.db with any manual
    grades) is kept unless ``fresh``.
    """
    work = Path(work).resolve()
    if fresh and work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    shutil.copy2(COURSE / "nbgrader_config.py", work / "nbgrader_config.py")
    if (work / "source").exists():
        shutil.rmtree(work / "source")
    shutil.copytree(SOURCE, work / "source",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    return work


def generate(work: Path = DEFAULT_WORK, names: list[str] | None = None) -> dict[str, Path]:
    """Run ``nbgrader generate_assignment`` for every assignment (a fresh course folder).

    Returns {assignment: its student notebook in release/}.
    """
    names = assignment_names() if names is None else names
    work = prepare_course(work)
    # --force: regenerate (and update the gradebook) when a source notebook has changed
    for name in names:
        _nbgrader(["generate_assignment", name, "--force"], work)
    return {name: work / "release" / name / f"{name}.ipynb" for name in names}


def autograde(submissions: Path, work: Path = DEFAULT_WORK, jobs: int | None = None,
              ) -> list[Score]:
    """Copy SUBMISSIONS into the course's submitted/ folder and autograde every submission.

    The student versions are generated first unless the course folder already has every
    submitted assignment in its gradebook (from :func:`generate`). ``jobs`` worker
    processes (default: one per CPU core) share the submissions; each runs nbgrader's
    autograde, as ``nbgrader autograde`` would, one submission after another, each in a
    fresh kernel limited to one thread.
    """
    if jobs is not None and (not isinstance(jobs, int) or jobs < 1):
        raise ValueError(f"jobs must be a positive number of worker processes, got {jobs!r}")
    submissions = Path(submissions).resolve()
    found = sorted({p.parent.name for p in submissions.glob("*/*/*.ipynb")})
    if not found:
        raise FileNotFoundError(f"no notebooks in {submissions}/<student>/<assignment>/")
    unknown = sorted(set(found) - set(assignment_names()))
    if unknown:
        raise ValueError(f"submissions for unknown assignments {unknown}; "
                         f"known: {assignment_names()}")
    work = Path(work).resolve()
    if not all((work / "release" / a).is_dir() for a in found) or not (work / "gradebook.db").exists():
        generate(work)
    target = work / "submitted"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(submissions, target,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    pairs = sorted((p.parent.name, p.parent.parent.name)
                   for p in target.glob("*/*/*.ipynb") if p.stem == p.parent.name)
    jobs = min(jobs or os.cpu_count() or 1, len(pairs))
    # the students' records first, from one process (the workers then only add grades)
    students = sorted({student for _, student in pairs})
    roster = work / "students.csv"
    roster.write_text("id\n" + "\n".join(students) + "\n")
    _nbgrader(["db", "student", "import", str(roster)], work)
    # submissions dealt out in turn, so that each worker gets a share of every assignment
    shares = [pairs[i::jobs] for i in range(jobs)]
    workers = [subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "_worker",
                                 str(work), *[f"{a}/{s}" for a, s in share]],
                                cwd=work, env=_kernel_env(), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
               for share in shares]
    failures = []
    for proc in workers:
        out, _ = proc.communicate()
        if proc.returncode != 0:
            failures.append(out[-3000:])
    if failures:
        raise RuntimeError("autograding failed:\n" + "\n".join(failures))
    return scores(work)


def _worker(work: Path, items: list[str]) -> None:
    """Autograde ``assignment/student`` items one after another, in this process."""
    from nbgrader.apps import NbGraderAPI
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(work)).load_config()
    config.CourseDirectory.root = str(work)
    api = NbGraderAPI(config=config)
    for item in items:
        assignment, student = item.split("/")
        for attempt in range(5):  # another worker may hold the gradebook for a moment
            result = api.autograde(assignment, student, force=True, create=True)
            if result["success"] or "database is locked" not in result.get("error", ""):
                break
            time.sleep(0.5 * (attempt + 1))
        if not result["success"]:
            sys.exit(f"{item}: {result.get('error', '')}\n{result.get('log', '')}")


@dataclass(frozen=True)
class Score:
    student: str
    assignment: str
    cell: str
    score: float
    max_score: float
    needs_manual_grade: bool


def scores(work: Path = DEFAULT_WORK) -> list[Score]:
    """Every graded cell of every autograded submission, from the course's gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    rows = []
    with Gradebook(f"sqlite:///{Path(work).resolve() / 'gradebook.db'}") as gb:
        for assignment in gb.assignments:
            for student in gb.students:
                try:
                    sub = gb.find_submission(assignment.name, student.id)
                except MissingEntry:  # this student did not submit this assignment
                    continue
                for nb in sub.notebooks:
                    for grade in nb.grades:
                        rows.append(Score(student.id, assignment.name, grade.name,
                                          float(grade.score or 0.0), float(grade.max_score),
                                          bool(grade.needs_manual_grade)))
    return sorted(rows, key=lambda r: (r.student, r.assignment, r.cell))


def score_table(rows: list[Score]) -> str:
    """One line per student and assignment: automatic points, maximum, cells to grade by hand."""
    totals: dict[tuple[str, str], list[float]] = {}
    for r in rows:
        t = totals.setdefault((r.student, r.assignment), [0.0, 0.0, 0, 0.0])
        t[0] += r.score
        t[1] += r.max_score
        t[2] += r.needs_manual_grade
        t[3] += r.max_score if r.needs_manual_grade else 0.0
    lines = [f"{'student':20s} {'assignment':18s} {'score':>7s} {'max':>5s}  to grade by hand"]
    for (student, assignment), (score, top, manual, manual_pts) in sorted(totals.items()):
        hand = f"{int(manual)} cell(s), {manual_pts:g} points" if manual else "-"
        lines.append(f"{student:20s} {assignment:18s} {score:7.1f} {top:5.0f}  {hand}")
    return "\n".join(lines)


# --- submissions made from the notebooks (for the tests and for checking a course) ------------


def solution_code(source_cell_text: str) -> str:
    """A source (instructor) cell with its solution markers removed: the reference answer."""
    return "\n".join(line for line in source_cell_text.splitlines()
                     if not SOLUTION_MARKERS.match(line))


def fill_submission(release_nb: Path, source_nb: Path, answers: dict[str, str] | None = None,
                    *, reference: bool = True):
    """A student's notebook made from the release version.

    Solution cells get the reference answer (``reference=True``) or stay as released;
    ``answers`` maps a solution cell's grade_id to the code a student wrote for it instead.
    """
    import nbformat

    release = nbformat.read(release_nb, as_version=4)
    source = nbformat.read(source_nb, as_version=4)
    reference_cells = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells
                       if c.metadata.get("nbgrader", {}).get("solution")}
    answers = dict(answers or {})
    for cell in release.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("solution"):
            continue
        grade_id = meta["grade_id"]
        if grade_id in answers:
            cell.source = answers.pop(grade_id)
        elif reference:
            cell.source = solution_code(reference_cells[grade_id])
    if answers:
        raise KeyError(f"no solution cells named {sorted(answers)} in {release_nb.name}")
    for cell in release.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return release


def write_reference_submissions(out: Path, releases: dict[str, Path], student: str = "reference"):
    """SUBMISSIONS/<student>/<assignment>/<assignment>.ipynb with the reference answers."""
    import nbformat

    for name, release in releases.items():
        nb = fill_submission(release, SOURCE / name / f"{name}.ipynb")
        dest = Path(out) / student / name / f"{name}.ipynb"
        dest.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, dest)


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "_worker":  # a process started by autograde()
        _worker(Path(sys.argv[2]), sys.argv[3:])
        return
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="student versions of every assignment (release/)")
    grade = sub.add_parser("autograde", help="autograde a folder of submissions")
    grade.add_argument("submissions", type=Path)
    grade.add_argument("-j", "--jobs", type=int, default=None,
                       help="worker processes (default: one per CPU core)")
    ref = sub.add_parser("reference", help="write the reference solutions as submissions")
    ref.add_argument("out", type=Path)
    for p in (gen, grade, ref):
        p.add_argument("--course-dir", type=Path, default=DEFAULT_WORK,
                       help=f"working course folder (default {DEFAULT_WORK.relative_to(ROOT)})")
    args = parser.parse_args()
    start = time.perf_counter()
    if args.command == "generate":
        releases = generate(args.course_dir)
        print("Student versions (solutions and hidden tests removed):")
        for name, path in releases.items():
            print(f"  {name:18s} {path}")
        print(f"Hand out the folders under {Path(args.course_dir).resolve() / 'release'}; "
              f"done in {time.perf_counter() - start:.1f} s")
    elif args.command == "autograde":
        rows = autograde(args.submissions, args.course_dir, args.jobs)
        print(score_table(rows))
        print(f"Autograded notebooks and gradebook.db in {Path(args.course_dir).resolve()}; "
              f"done in {time.perf_counter() - start:.1f} s")
    else:
        releases = generate(args.course_dir)
        write_reference_submissions(args.out, releases)
        print(f"Reference submissions in {args.out.resolve()}")


if __name__ == "__main__":
    main()
