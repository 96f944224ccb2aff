"""One pytest session over a suite, grading submissions as they come: a grading process.

    grade_stream(paths, options, on_result)

The suite is collected once; ``GradingPlugin`` runs its tests against each submission
in a sandboxed worker, and each result reaches ``on_result`` as soon as it is finished.
Every grading process runs this: the one in the caller's process (``grade.py``), each
of the parallel ones (``parallel.py``) and each Dask chunk (``dask_worker.py``).
"""

from __future__ import annotations

import itertools
import os
import sys
import warnings
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path

import pytest

from grader.course.layout import Course
from grader.devices import is_gpu
from grader.errors import SuiteError
from grader.grading import preflight
from grader.grading.options import GradingOptions
from grader.grading.plugin import GradingPlugin, Job
from grader.intake.given_code import read_handout
from grader.results.records import SubmissionResult
from grader.sandbox.forkserver import WarmWorkers
from grader.sandbox.process import WorkerProcess


def grade_stream(
    paths: Iterable[str], options: GradingOptions, on_result: Callable[[SubmissionResult], None]
) -> None:
    """Grade paths as they come, in one pytest session over the suite (collected once).

    ``paths`` may be a generator that waits for work: a grading process pulls its next
    submission only when it has finished the last one.
    """
    course = options.course
    folder = course.suite_dir(options.assignment, options.suite)
    handout = read_handout(course, options.assignment)
    jobs: Iterable[Job] = (Job(str(p), options, handout) for p in paths)
    reference = preflight.reference_notebook(course, options.assignment) if options.reference_first else None
    if reference is not None:  # graded first, exactly as the students are (preflight.py)
        jobs = itertools.chain([Job(str(reference), options, handout)], jobs)
        on_result = _after_the_reference(on_result, options)
    pool = WarmWorkers(options.hide) if options.warm and not is_gpu(options.device) else None
    spawn = pool or (partial(WorkerProcess, hide=options.hide, gpu=True) if is_gpu(options.device) else None)
    plugin = GradingPlugin(jobs, on_result, spawn=spawn)
    try:
        _run_pytest(folder, course, plugin)
    finally:
        if pool is not None:
            pool.close()
    if plugin.stopped_by is not None:
        raise plugin.stopped_by
    if plugin.collection_errors:
        errors = "\n".join(plugin.collection_errors)
        raise SuiteError(f"the {options.suite} suite for {options.assignment} is broken:\n{errors}")


def _after_the_reference(
    on_result: Callable[[SubmissionResult], None], options: GradingOptions
) -> Callable[[SubmissionResult], None]:
    """``on_result`` for a stream whose first job is the reference: that result is checked
    (``preflight.check`` raises, which stops the batch before any student), never passed on."""
    checked: list[SubmissionResult] = []

    def receive(result: SubmissionResult) -> None:
        if checked:
            on_result(result)
            return
        checked.append(result)
        preflight.check(result, device=options.device, limits=options.limits)

    return receive


def _run_pytest(folder: Path, course: Course, plugin: GradingPlugin) -> None:
    # no:unraisableexception: its cleanup runs five full garbage collections as the session
    # ends (0.4 s of every grade() and dlgrade check); the trusted side's own unraisable
    # exceptions go to Python's hook, never into a student's verdict
    args = [
        str(folder),
        "-p",
        "no:cacheprovider",
        "-p",
        "no:warnings",
        "-p",
        "no:randomly",
        "-p",
        "no:unraisableexception",
        "-p",
        "no:terminal",
        "--import-mode=importlib",
        "--rootdir",
        str(course.root),
        "-c",
        os.devnull,
        "--capture=no",
    ]
    _import_from(course, folder)
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        code = pytest.main(args, plugins=[plugin])
    if code == pytest.ExitCode.INTERRUPTED:  # Ctrl-C, which pytest caught: the caller says how to resume
        raise KeyboardInterrupt
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED) and not plugin.collection_errors:
        raise SuiteError(f"pytest could not run the suite in {folder} (exit code {int(code)})")
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        plugin.collection_errors.append(f"no tests found in {folder}")


def _import_from(course: Course, suite: Path) -> None:
    """Make ``suite`` and ``import reference`` load this course's files as they are now.

    Hidden suites import ``reference/`` (on the trusted side only), so the course root
    goes first on ``sys.path``. Python keeps imported modules by name, and so does
    pytest's importlib mode. Unless they are forgotten, a later ``grade()`` in the same
    process would run the suite and reference as they were at the first one (or another
    course's ``reference``), and record this version's hash beside the old code's verdicts.
    """
    root = str(course.root)
    if root in sys.path:
        sys.path.remove(root)
    sys.path.insert(0, root)
    suite = suite.resolve()
    # The packages above the suite (``suites``, ``suites.t9``) are namespace packages, with no
    # file but a search path: kept, they would find the suite of the last course graded here.
    tops = {"reference", *_top_package(suite, course.root.resolve())}
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] in tops or any(p.is_relative_to(suite) for p in _module_paths(module)):
            del sys.modules[name]


def _top_package(suite: Path, root: Path) -> list[str]:
    """The top-level package pytest's importlib mode names the suite's modules under."""
    return [suite.relative_to(root).parts[0]] if suite.is_relative_to(root) and suite != root else []


def _module_paths(module) -> list[Path]:
    """Where a module was loaded from: its file, or a package's search path."""
    found = [getattr(module, "__file__", None)]
    try:
        found += list(getattr(module, "__path__", None) or [])
    except TypeError:  # some modules (torch._classes) answer any attribute with an object
        pass
    return [Path(p).resolve() for p in found if isinstance(p, str)]
