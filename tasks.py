#!/usr/bin/env python3
"""Build, test and benchmark the book with one command each.

    python3 tasks.py build       # the HTML book in _build/html (warnings are errors)
    python3 tasks.py test        # unit tests + every notebook re-run and compared (nbval)
    python3 tasks.py test --threads 4   # the same with every kernel limited to 4 threads
    python3 tasks.py test --cpu baseline  # every notebook re-run on the code paths of
                                          # another CPU (native, avx2, baseline, mixed)
    python3 tasks.py portable    # the notebooks run from a folder outside book/, 4 threads
    python3 tasks.py benchmark   # wall time and peak memory of each chapter notebook
    python3 tasks.py benchmark --grading 60   # time autograding a class of 60 students
    python3 tasks.py lab         # JupyterLab on the book's notebooks
    python3 tasks.py lock        # constraints.txt: the exact versions installed in .venv
    python3 tasks.py site-test   # the built book in headless Chromium, offline (tests/site)
    python3 tasks.py build --without-solutions  # the book without exercise solutions
    python3 tasks.py assignments # student versions of the nbgrader assignments
    python3 tasks.py autograde SUBMISSIONS   # autograde with nbgrader, print a score table

Each command first makes sure a virtual environment `.venv` exists next to this
file with exactly the packages in requirements.txt, at the versions of
constraints.txt (it reinstalls when either file changes). Only the Python standard
library is used here, so a fresh machine with Python 3.10+ needs nothing else.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
REQUIREMENTS = ROOT / "requirements.txt"
# The exact version of every package in the verified environment (`python3 tasks.py lock`
# writes it); requirements.txt stays the short list of what the book needs.
CONSTRAINTS = ROOT / "constraints.txt"
STAMP = VENV / ".requirements.sha256"


def venv_executable(name: str) -> Path:
    folder = "Scripts" if os.name == "nt" else "bin"
    suffix = ".exe" if os.name == "nt" else ""
    return VENV / folder / f"{name}{suffix}"


def run(cmd: list[str | Path], **kwargs) -> None:
    printable = " ".join(str(c) for c in cmd)
    print(f"$ {printable}", flush=True)
    result = subprocess.run([str(c) for c in cmd], cwd=ROOT, **kwargs)
    if result.returncode != 0:
        sys.exit(result.returncode)


def ensure_environment() -> Path:
    """Create .venv and install requirements.txt into it, unless already done."""
    if sys.version_info < (3, 10):  # noqa: UP036 (this file runs before any environment exists)
        sys.exit(f"Python 3.10 or newer is needed (this is {sys.version.split()[0]}).")
    python = venv_executable("python")
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes() + CONSTRAINTS.read_bytes()).hexdigest()
    if python.exists() and STAMP.exists() and STAMP.read_text().strip() == wanted:
        return python
    if not python.exists():
        print(f"Creating the virtual environment {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    run([python, "-m", "pip", "install", "--quiet", "--upgrade", "pip", "-c", CONSTRAINTS.name])
    # `-e .` in requirements.txt resolves against the working directory: run from ROOT.
    run([python, "-m", "pip", "install", "--quiet", "-r", REQUIREMENTS.name,
         "-c", CONSTRAINTS.name])
    STAMP.write_text(wanted + "\n")
    return python


LOCK_HEADER = """\
# The exact versions of every package of the environment the book was verified in,
# installed together with requirements.txt (pip install -r requirements.txt -c constraints.txt;
# tasks.py does it). Made with `pip freeze` by `python3 tasks.py lock`, which regenerates
# it from .venv after a change to requirements.txt has been tested. Local version labels
# (torch's +cpu) are dropped, so the same pins hold for the wheels of any platform.
"""


def lock_lines(frozen: str) -> list[str]:
    """`pip freeze` output as sorted `name==version` lines, local version labels dropped."""
    lines = []
    for line in frozen.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or line.startswith("-e "):
            continue
        if "==" not in line:
            sys.exit(f"lock: cannot pin {line!r} (not a name==version line)")
        name, version = line.split("==", 1)
        lines.append(f"{name}=={version.split('+', 1)[0]}")
    return sorted(lines, key=str.lower)


def cmd_lock(args: argparse.Namespace) -> None:
    """Write constraints.txt from the packages installed in .venv (pip freeze)."""
    python = venv_executable("python")
    if not python.exists():
        sys.exit("No .venv yet: run `python3 tasks.py test` first, then lock what it verified.")
    frozen = subprocess.run([python, "-m", "pip", "freeze", "--all", "--exclude-editable"],
                            cwd=ROOT, check=True, capture_output=True, text=True).stdout
    lines = lock_lines(frozen)
    CONSTRAINTS.write_text(LOCK_HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    # The environment already is what the new lock describes.
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes() + CONSTRAINTS.read_bytes()).hexdigest()
    STAMP.write_text(wanted + "\n")
    print(f"{CONSTRAINTS.name}: {len(lines)} packages pinned")


def quiet_framework_env() -> dict[str, str]:
    env = dict(os.environ)
    # The same settings utils.frameworks applies; set here too so that every kernel
    # started by the tools below sees them before anything imports TensorFlow.
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env["TF_ENABLE_ONEDNN_OPTS"] = "0"
    return env


def cmd_build(args: argparse.Namespace) -> None:
    ensure_environment()
    if args.without_solutions:
        build_without_solutions(args)
        return
    builder = [venv_executable("jupyter-book"), "build", ".", "--warningiserror", "--nitpick",
               "--keep-going"]
    if args.all:
        builder.append("--all")
    run(builder, env=quiet_framework_env())
    print(f"\nThe book is in {ROOT / '_build' / 'html' / 'index.html'}")


# The environment variables that set how many threads a kernel's libraries start with:
# OpenMP (PyTorch's default and NumPy's BLAS), OpenBLAS, MKL and TensorFlow.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")


def test_env(args: argparse.Namespace) -> dict[str, str]:
    env = quiet_framework_env()
    if args.threads is not None:
        if args.threads < 1:
            sys.exit(f"--threads must be at least 1, got {args.threads}")
        # Every kernel (and pytest itself) starts with this many threads per library;
        # the stored outputs must reproduce whatever the number (see book/intro.md).
        for var in THREAD_VARIABLES:
            env[var] = str(args.threads)
        print(f"Threads per library in every kernel: {args.threads}", flush=True)
    elif args.workers > 1:
        # Parallel kernels each spinning up one BLAS thread per core oversubscribe the
        # CPU and make small matrix products many times slower; one thread each is
        # fastest here. (Outputs do not depend on it: the book prints rounded values.)
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env.setdefault(var, "1")
    return env


# The code paths of other CPUs, emulated on this one. PyTorch (ATen), MKL, oneDNN, NumPy and
# OpenBLAS each pick AVX-512, AVX2 or plain SSE kernels at run time, and each rounds
# differently; these variables make them pick the kernels another machine would. They
# must be set before anything is imported, so they go into the environment that every
# kernel inherits. "native" leaves the machine's own choice alone. On a CPU without
# AVX-512, "native" and "avx2" coincide; "baseline" (no AVX at all) and "mixed" (PyTorch
# on plain kernels, MKL and oneDNN on AVX2, NumPy and OpenBLAS on SSE) differ on any
# x86-64 machine with AVX2. TensorFlow's own kernels are compiled for one instruction set
# and cannot be switched (its oneDNN kernels are off: TF_ENABLE_ONEDNN_OPTS=0).
CPU_VARIANTS: dict[str, dict[str, str]] = {
    "native": {},
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2",
             "ONEDNN_MAX_CPU_ISA": "AVX2",
             "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",
             "OPENBLAS_CORETYPE": "Haswell"},
    "baseline": {"ATEN_CPU_CAPABILITY": "default", "MKL_ENABLE_INSTRUCTIONS": "SSE4_2",
                 "ONEDNN_MAX_CPU_ISA": "SSE41",
                 "NPY_DISABLE_CPU_FEATURES": "X86_V3 X86_V4 AVX512_ICL AVX512_SPR",
                 "OPENBLAS_CORETYPE": "Nehalem"},
    "mixed": {"ATEN_CPU_CAPABILITY": "default", "MKL_ENABLE_INSTRUCTIONS": "AVX2",
              "ONEDNN_MAX_CPU_ISA": "AVX2",
              "NPY_DISABLE_CPU_FEATURES": "X86_V3 X86_V4 AVX512_ICL AVX512_SPR",
              "OPENBLAS_CORETYPE": "Nehalem"},
}


def cpu_env(env: dict[str, str], variant: str | None) -> dict[str, str]:
    """``env`` with the variables of one CPU variant set (None: unchanged)."""
    if variant is None:
        return env
    if variant not in CPU_VARIANTS:
        sys.exit(f"--cpu must be one of {', '.join(CPU_VARIANTS)}, got {variant!r}")
    chosen = CPU_VARIANTS[variant]
    print(f"CPU code paths: {variant}"
          + "".join(f" {k}={v!r}" for k, v in chosen.items()), flush=True)
    return {**env, **chosen}


def notebook_paths() -> list[str]:
    """The chapter notebooks and the assignments' source notebooks, relative to ROOT."""
    found = sorted(ROOT.glob("book/*.ipynb")) + sorted(ROOT.glob("assignments/source/*/*.ipynb"))
    return [str(p.relative_to(ROOT)) for p in found]


def cmd_test(args: argparse.Namespace) -> None:
    python = ensure_environment()
    workers = ["-n", str(args.workers), "--dist", "loadfile"] if args.workers > 0 else []
    # With --cpu only the notebooks run: the unit tests compare with tolerances that do
    # not depend on the code paths, and their run on the native ones is the usual `test`.
    # Notebook paths among the extra arguments replace the default list.
    chosen = [a for a in args.pytest_args if a.endswith(".ipynb") and (ROOT / a).is_file()]
    rest = [a for a in args.pytest_args if a not in chosen]
    targets = chosen or (notebook_paths() if args.cpu else ["tests", "book", "assignments/source"])
    run([python, "-m", "pytest", *targets, "--nbval", "--nbval-current-env",
         "--nbval-cell-timeout=900", *workers, *rest],
        env=cpu_env(test_env(args), args.cpu))


def cmd_portable(args: argparse.Namespace) -> None:
    """Copy the chapter notebooks into a temporary folder outside the repository and
    re-run them there under strict nbval (the kernel's working directory is the folder
    of the notebook), with every kernel limited to ``--threads`` threads."""
    python = ensure_environment()
    names = args.notebooks or sorted(p.stem for p in (ROOT / "book").glob("*.ipynb"))
    workers = ["-n", str(args.workers), "--dist", "loadfile"] if args.workers > 0 else []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="book-elsewhere-") as folder:
        copies = []
        for name in names:
            source = ROOT / "book" / f"{Path(name).stem}.ipynb"
            if not source.is_file():
                sys.exit(f"No notebook {source}")
            copies.append(shutil.copy(source, folder))
        cmd = [str(python), "-m", "pytest", *copies, "--nbval", "--nbval-current-env",
               "--nbval-cell-timeout=900", "-p", "no:cacheprovider",
               "-c", str(ROOT / "pyproject.toml"), "--rootdir", folder, *workers,
               *args.pytest_args]
        print(f"$ (cd {folder} && {' '.join(cmd)})", flush=True)
        result = subprocess.run(cmd, cwd=folder, env=cpu_env(test_env(args), args.cpu))
    print(f"portable: {len(names)} notebooks in {time.perf_counter() - start:.0f} s "
          f"with {args.threads} thread(s) per library, CPU code paths "
          f"{args.cpu or 'native'}", flush=True)
    sys.exit(result.returncode)


def cmd_benchmark(args: argparse.Namespace) -> None:
    python = ensure_environment()
    if args.grading:
        run([python, "tests/benchmark_grading.py", str(args.grading),
             *(["--jobs", str(args.jobs)] if args.jobs else [])])
        return
    run([python, "tests/benchmark.py", *args.notebooks, *(["--cells"] if args.cells else [])],
        env=cpu_env(quiet_framework_env(), args.cpu))


# The browser tests use Debian's Chromium and its driver (nothing downloaded by selenium)
# and axe-core from npm, installed into _build/tools (not committed).
BROWSER_PACKAGES = {"chromium": Path("/usr/bin/chromium"),
                    "chromium-driver": Path("/usr/bin/chromedriver")}
AXE_CORE = "axe-core@4.14.1"
TOOLS = ROOT / "_build" / "tools"


def ensure_browser_tools() -> None:
    """Install Chromium, its driver and npm with apt-get (as root) and axe-core with npm."""
    missing = [pkg for pkg, path in BROWSER_PACKAGES.items() if not path.exists()]
    if shutil.which("npm") is None:
        missing.append("npm")
    if missing:
        if shutil.which("apt-get") is None or getattr(os, "geteuid", lambda: -1)() != 0:
            sys.exit(f"The browser tests need the Debian packages {' '.join(missing)}; "
                     f"install them with: sudo apt-get install {' '.join(missing)}")
        run(["apt-get", "update"])
        run(["apt-get", "install", "-y", "--no-install-recommends", *missing],
            env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    if not (TOOLS / "node_modules" / "axe-core" / "axe.min.js").exists():
        run([shutil.which("npm"), "install", "--no-audit", "--no-fund", "--prefix", TOOLS,
             AXE_CORE])


def cmd_site_test(args: argparse.Namespace) -> None:
    python = ensure_environment()
    html = Path(os.environ.get("BOOK_HTML") or ROOT / "_build" / "html").resolve()
    if not (html / "index.html").is_file():
        sys.exit(f"No built book at {html}: run `python3 tasks.py build` first "
                 "(or set BOOK_HTML to a built book's html folder).")
    ensure_browser_tools()
    env = dict(os.environ, SITE_TESTS="1", BOOK_HTML=str(html))
    cmd = [str(python), "-m", "pytest", "tests/site", *args.pytest_args]
    print(f"$ SITE_TESTS=1 BOOK_HTML={html} {' '.join(cmd)}", flush=True)
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=ROOT, env=env)
    print(f"site-test: {time.perf_counter() - start:.0f} s", flush=True)
    sys.exit(result.returncode)


def cmd_lab(args: argparse.Namespace) -> None:
    ensure_environment()
    extra = list(args.lab_args)
    # Jupyter refuses to start as root (usual in containers and cloud notebooks)
    if getattr(os, "geteuid", lambda: -1)() == 0 and "--allow-root" not in extra:
        print("Running as root: passing --allow-root to JupyterLab.", flush=True)
        extra.append("--allow-root")
    run(lab_command(extra), env=quiet_framework_env())


# nbgrader's course tools (formgrader, assignment and course lists) need the course's
# nbgrader_config.py, which lives in assignments/; opened on the book they only log "No
# nbgrader_config.py file found" twice. The students' Validate button stays.
COURSE_ONLY_SERVER_EXTENSIONS = ("formgrader", "assignment_list", "course_list")


def lab_command(extra: list[str]) -> list[str]:
    """JupyterLab on book/, without nbgrader's course-only server extensions."""
    disabled = ", ".join(f'"nbgrader.server_extensions.{name}": False'
                         for name in COURSE_ONLY_SERVER_EXTENSIONS)
    return [str(venv_executable("jupyter")), "lab", "book",
            f"--ServerApp.jpserver_extensions={{{disabled}}}", *extra]


# --- the book without solutions, and the nbgrader assignments (assignments/) --------------

NO_SOLUTIONS = ROOT / "_build" / "no-solutions"


def build_without_solutions(args: argparse.Namespace) -> None:
    """The book with sphinx-exercise's ``hide_solutions`` on, into _build/no-solutions.

    The configuration is _config.yml plus a few lines, written to
    _build/no-solutions/_config.yml: ``hide_solutions: true`` and the local extension
    book/_ext/hide_gated_solutions.py, which also removes the cells of gated solutions and
    the page sources (see that file).
    """
    text = (ROOT / "_config.yml").read_text(encoding="utf-8")
    anchors = {"\nsphinx:\n": "\nsphinx:\n  local_extensions:\n"
                              f"    hide_gated_solutions: {ROOT / 'book' / '_ext'}\n",
               "\n  config:\n": "\n  config:\n    hide_solutions: true\n",
               # _config.yml lists every extension (local_extensions alone would not load)
               "\n    extensions:\n": "\n    extensions:\n      - hide_gated_solutions\n"}
    for anchor, replacement in anchors.items():
        if text.count(anchor) != 1:
            sys.exit(f"_config.yml: expected one {anchor.strip()!r} block to extend")
        text = text.replace(anchor, replacement)
    NO_SOLUTIONS.mkdir(parents=True, exist_ok=True)
    config = NO_SOLUTIONS / "_config.yml"
    config.write_text(text, encoding="utf-8")
    builder = [venv_executable("jupyter-book"), "build", ".", "--config", config,
               "--path-output", NO_SOLUTIONS, "--warningiserror", "--nitpick", "--keep-going"]
    if args.all:
        builder.append("--all")
    run(builder, env=quiet_framework_env())
    print(f"\nThe book without solutions is in {NO_SOLUTIONS / '_build' / 'html' / 'index.html'}")


def cmd_assignments(args: argparse.Namespace) -> None:
    python = ensure_environment()
    run([python, "assignments/grading.py", "generate", "--course-dir", args.course_dir])


def cmd_autograde(args: argparse.Namespace) -> None:
    python = ensure_environment()
    run([python, "assignments/grading.py", "autograde", Path(args.submissions).resolve(),
         "--course-dir", args.course_dir, *(["--jobs", str(args.jobs)] if args.jobs else [])])


# the options of each command that passes the others on: option -> whether it takes a value
PASS_THROUGH = {
    "test": {"-n": True, "--workers": True, "--threads": True, "--cpu": True},
    "site-test": {},
    "lab": {},
}


def _split_known(argv: list[str], known: dict[str, bool]) -> tuple[list[str], list[str]]:
    """(the command and its own options, everything else in order); after ``--`` all goes
    on, and ``-h``/``--help`` stays with the command."""
    mine, rest, i = [argv[0]], [], 1
    while i < len(argv):
        arg = argv[i]
        name = arg.split("=", 1)[0]
        if arg == "--":
            rest += argv[i + 1:]
            break
        if arg in ("-h", "--help"):
            mine.append(arg)
        elif name in known:
            mine.append(arg)
            if known[name] and "=" not in arg and i + 1 < len(argv):
                i += 1
                mine.append(argv[i])
        else:
            rest.append(arg)
        i += 1
    return mine, rest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="build the HTML book into _build/html")
    build.add_argument("--all", action="store_true", help="rebuild every page")
    build.add_argument("--without-solutions", action="store_true",
                       help="hide every exercise solution; into _build/no-solutions")
    build.set_defaults(func=cmd_build)
    test = sub.add_parser("test", help="run the unit tests and re-run every notebook")
    test.add_argument("-n", "--workers", type=int, default=2,
                      help="parallel pytest workers (0 = run in this process)")
    test.add_argument("--threads", type=int, default=None, metavar="N",
                      help="start every kernel's OpenMP/BLAS/TensorFlow with N threads "
                           "(default: 1 when workers > 1, else the libraries' own default)")
    test.add_argument("--cpu", choices=tuple(CPU_VARIANTS), default=None,
                      help="emulate another CPU's code paths in every kernel: native, avx2 "
                           "(no AVX-512), baseline (no AVX), mixed (see CPU_VARIANTS)")
    test.add_argument("pytest_args", nargs="*", help="extra arguments passed to pytest")
    test.set_defaults(func=cmd_test)
    portable = sub.add_parser("portable", help="re-run the notebooks from a folder outside "
                                               "book/ (nbval), kernels limited to N threads")
    portable.add_argument("notebooks", nargs="*", help="chapter names (default: all)")
    portable.add_argument("--threads", type=int, default=4, metavar="N",
                          help="threads per library in every kernel (default 4)")
    portable.add_argument("-n", "--workers", type=int, default=2,
                          help="parallel pytest workers (0 = run in this process)")
    portable.add_argument("--cpu", choices=tuple(CPU_VARIANTS), default=None,
                      help="emulate another CPU's code paths in every kernel: native, avx2 "
                           "(no AVX-512), baseline (no AVX), mixed (see CPU_VARIANTS)")
    portable.add_argument("--pytest-args", dest="pytest_args", nargs="*", default=[],
                          help="extra arguments passed to pytest")
    portable.set_defaults(func=cmd_portable)
    bench = sub.add_parser("benchmark", help="time each chapter notebook in a fresh kernel")
    bench.add_argument("notebooks", nargs="*", help="notebooks to time (default: all chapters)")
    bench.add_argument("--cpu", choices=tuple(CPU_VARIANTS), default=None,
                      help="emulate another CPU's code paths in every kernel: native, avx2 "
                           "(no AVX-512), baseline (no AVX), mixed (see CPU_VARIANTS)")
    bench.add_argument("--cells", action="store_true",
                       help="also list the slowest cells of the notebooks timed")
    bench.add_argument("--grading", type=int, metavar="STUDENTS", default=0,
                       help="instead, time the autograding of a generated class of STUDENTS "
                            "students, each submitting every assignment")
    bench.add_argument("-j", "--jobs", type=int, default=None,
                       help="with --grading: notebooks graded at the same time "
                            "(default: one per CPU core)")
    bench.set_defaults(func=cmd_benchmark)
    lock = sub.add_parser("lock", help="write constraints.txt: the exact versions installed "
                                       "in .venv (pip freeze)")
    lock.set_defaults(func=cmd_lock)
    lab = sub.add_parser("lab", help="open the notebooks in JupyterLab (other arguments are "
                                     "passed to it, e.g. --no-browser --port 8890)")
    lab.set_defaults(func=cmd_lab, lab_args=[])
    site = sub.add_parser("site-test", help="test the built book in headless Chromium, offline")
    site.add_argument("pytest_args", nargs="*", help="extra arguments passed to pytest")
    site.set_defaults(func=cmd_site_test)
    course_dir = ROOT / "_build" / "nbgrader"
    assign = sub.add_parser("assignments", help="generate the student versions of the "
                                                "assignments with nbgrader")
    assign.add_argument("--course-dir", default=course_dir,
                        help="working nbgrader course folder (default: _build/nbgrader)")
    assign.set_defaults(func=cmd_assignments)
    grade = sub.add_parser("autograde", help="autograde submitted notebooks with nbgrader "
                                             "and print a score table")
    grade.add_argument("submissions", help="folder laid out as SUBMISSIONS/<student>/"
                                           "<assignment>/<assignment>.ipynb")
    grade.add_argument("--course-dir", default=course_dir,
                       help="working nbgrader course folder (default: _build/nbgrader)")
    grade.add_argument("-j", "--jobs", type=int, default=None,
                       help="notebooks graded at the same time (default: one per CPU core)")
    grade.set_defaults(func=cmd_autograde)
    # arguments the command does not know go on, in their order, to the tool it runs:
    # pytest for test and site-test (`python3 tasks.py test -k relu`), JupyterLab for lab
    argv = sys.argv[1:]
    passed: list[str] = []
    if argv and argv[0] in PASS_THROUGH:
        argv, passed = _split_known(argv, PASS_THROUGH[argv[0]])
    args = parser.parse_args(argv)
    if passed:
        if args.command == "lab":
            args.lab_args = [*args.lab_args, *passed]
        else:
            args.pytest_args = [*args.pytest_args, *passed]
    args.func(args)


if __name__ == "__main__":
    main()
