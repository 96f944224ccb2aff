"""Self-checks: the public checks on a notebook file, or on what a student's kernel has run.

    dlgrade check a1.ipynb              # from a terminal: the saved notebook
    dlgrade.check("a1")                 # in the notebook: the cells run so far

Both end in ``grading.grade(suite="public")``, so a self-check uses the same loader,
the same sandboxed worker and the same table as grading: what a student sees here
is what the grader sees of the same code, never the hidden tests or the reference.
In the notebook the code comes from IPython's input history (``In``), written to a
temporary notebook, because that is what the kernel has actually run, saved or not.

A self-check is advice to the student, run on the student's machine; grades come
from the hidden suites, run by the instructor (see docs/ci.md).
"""

from __future__ import annotations

import importlib.util
import json
import random
import re
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import click
import nbformat
import numpy as np
import torch

from grader import console
from grader.commands import EXIT_NOT_GRADED, DlgradeCommand, named_course
from grader.course.layout import Course
from grader.errors import DlgradeError, SuiteError
from grader.grading.grade import grade
from grader.results.records import SubmissionResult
from grader.sandbox.limits import Limits
from grader.selfcheck import check_descriptions

# The self-check cell itself: importing dlgrade means nothing to a submission.
_DLGRADE_IMPORT = re.compile(
    r"^([ \t]*)(?:import dlgrade\b.*|from dlgrade(?:\.\w+)* import .*)$", re.MULTILINE
)
HISTORY_LABEL = "the cells run so far (cell N is In [N])"


def check_path(
    path: str | Path, *, assignment: str, course: Course, limits: Limits = Limits(), mode: str = "definitions"
) -> SubmissionResult:
    """The public checks' result for one notebook or ``.py`` file."""
    suite_folder(course, assignment, "public")
    results = grade(
        [str(path)], assignment=assignment, course=course, suite="public", mode=mode, limits=limits
    )
    return results[0]


def check_cells(
    cells: Sequence[str], *, assignment: str, course: Course, limits: Limits = Limits()
) -> SubmissionResult:
    """The public checks' result for code given as cells, in the order they ran."""
    with tempfile.TemporaryDirectory(prefix="dlgrade-check-") as folder, kept_state():
        path = write_cells([_DLGRADE_IMPORT.sub(r"\1pass", cell) for cell in cells], Path(folder))
        result = check_path(path, assignment=assignment, course=course, limits=limits)
    return replace(result, submission=HISTORY_LABEL)


def table(result: SubmissionResult, course: Course) -> str:
    """The student's table, with the function each check is about."""
    checks = check_descriptions.describe(suite_folder(course, result.assignment, "public"))
    return console.check_table(result, checks)


def suite_folder(course: Course, assignment: str, suite: str) -> Path:
    """``course.suite_dir``, also where the course has no ``suites/`` at all (a student
    bundle), which it cannot list for its error message."""
    try:
        return course.suite_dir(assignment, suite)
    except OSError:
        raise SuiteError(f"no {suite} suite for assignment {assignment!r} in {course.root}") from None


def write_cells(cells: Sequence[str], folder: Path) -> Path:
    """A notebook with one code cell per entry, so that a broken cell costs only itself."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell) for cell in cells])
    path = folder / "cells-run-so-far.ipynb"
    nbformat.write(notebook, str(path))
    return path


@contextmanager
def kept_state() -> Iterator[None]:
    """Grading seeds torch, numpy and random before every check, and puts the course on
    ``sys.path``: in a student's kernel, put all of it back, so that a self-check never
    changes what the student's next cell computes."""
    torch_state, numpy_state, random_state = torch.get_rng_state(), np.random.get_state(), random.getstate()
    gpu_states = torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None  # reseeded too
    path = list(sys.path)
    try:
        yield
    finally:
        torch.set_rng_state(torch_state)
        np.random.set_state(numpy_state)
        random.setstate(random_state)
        if gpu_states is not None:
            torch.cuda.set_rng_state_all(gpu_states)
        sys.path[:] = path


# ---------------------------------------------------------------- finding the checks


def find_course(start: str | Path, assignment: str | None = None) -> Course:
    """The nearest folder at or above ``start`` with public checks (``assignments/aN/checks``),
    such as a course checkout; else the course the student package carries (``dlgrade/course``,
    written by ``dlgrade release``), so that a notebook anywhere, in Colab too, finds its
    checks; else the course this grader belongs to."""
    here = Path(start).resolve()
    pattern = f"{assignment}/checks" if assignment else "*/checks"
    for folder in (here, *here.parents):
        if any((folder / "assignments").glob(pattern)):
            return Course(folder)
    bundled = bundled_course()
    if bundled is not None and any((bundled.root / "assignments").glob(pattern)):
        return bundled
    return Course.find(here)


def bundled_course() -> Course | None:
    """The course inside the ``dlgrade`` package that is imported, if it carries one."""
    spec = importlib.util.find_spec("dlgrade")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / "course"
    return Course(folder) if folder.is_dir() else None


def course_for(course_dir: str | None, start: Path, assignment: str, suite: str = "public") -> Course:
    """The course named; else, for a hidden suite, the instructor's course found from
    ``start``, and for public checks the nearest course or student bundle."""
    if course_dir:
        return named_course(course_dir)
    return Course.find(start) if suite == "hidden" else find_course(start, assignment)


def public_assignments(course: Course) -> list[str]:
    return sorted(p.parent.name for p in (course.root / "assignments").glob("*/checks") if p.is_dir())


def guess_assignment(course: Course, defined: Iterable[str]) -> str:
    """The assignment of a kernel: the only one the course has, else the only one whose
    checked functions the kernel defines, every one of them."""
    names = public_assignments(course)
    if len(names) == 1:
        return names[0]
    defined = set(defined)
    fits = [name for name in names if (needed := _checked_functions(course, name)) and needed <= defined]
    if len(fits) != 1:
        raise DlgradeError("cannot tell which assignment this is: pass it, e.g. dlgrade.check('a1')")
    return fits[0]


def _checked_functions(course: Course, assignment: str) -> set[str]:
    checks = check_descriptions.describe(suite_folder(course, assignment, "public"))
    return {name for info in checks.values() for name in info.functions}


def assignment_of(notebook: str | Path) -> str | None:
    """The assignment a notebook belongs to: its dlgrade metadata, else its file or folder name."""
    try:
        meta = json.loads(Path(notebook).read_text()).get("metadata", {}).get("dlgrade", {})
        if isinstance(meta, dict) and isinstance(meta.get("assignment"), str):
            return meta["assignment"]
    except (ValueError, OSError, AttributeError):
        pass
    for part in (Path(notebook).stem, Path(notebook).resolve().parent.name):
        match = re.match(r"a\d+(?!\d)", part)
        if match:
            return match.group()
    return None


# ---------------------------------------------------------------- in a kernel


def check_kernel(shell: Any, assignment: str | None = None, limits: Limits = Limits()) -> str:
    """The table for what ``shell`` (an IPython ``InteractiveShell``) has run so far; the
    assignment, where not given, is guessed from the names the kernel defines."""
    history = list(shell.user_ns.get("In", [""]))[1:]
    course = find_course(Path.cwd(), assignment)
    assignment = assignment or guess_assignment(course, shell.user_ns)
    result = check_cells(history, assignment=assignment, course=course, limits=limits)
    return table(result, course)


# ---------------------------------------------------------------- the command


def exit_code(results: Sequence[SubmissionResult]) -> int:
    """0: every check passed; 1: some failed; 2: something could not be checked at all."""
    if any(result.status != "graded" for result in results):
        return 2
    return 0 if all(test.outcome == "passed" for r in results for test in r.tests) else 1


@click.command("check", cls=DlgradeCommand, error_exit=EXIT_NOT_GRADED, error_prefix="could not check: ")
@click.option("--assignment", "-a", help="Assignment id (default: from the notebook).")
@click.option("--run-all", is_flag=True, help="Run every top-level statement, not only definitions.")
@click.option(
    "--course",
    "course_dir",
    type=click.Path(file_okay=False, exists=True),
    help="Course or bundle folder (default: found from the notebook's folder).",
)
@click.argument("notebook", type=click.Path(exists=True, dir_okay=False))
def check_command(assignment: str | None, run_all: bool, course_dir: str | None, notebook: str) -> None:
    """Run the public checks on NOTEBOOK: which function fails, expected vs. got, and a hint."""
    assignment = assignment or assignment_of(notebook)
    if assignment is None:
        raise click.UsageError("cannot tell the assignment of this notebook: pass --assignment")
    course = course_for(course_dir, Path(notebook).parent, assignment)
    mode = "all" if run_all else "definitions"
    result = check_path(notebook, assignment=assignment, course=course, mode=mode)
    click.echo(table(result, course))
    sys.exit(exit_code([result]))
