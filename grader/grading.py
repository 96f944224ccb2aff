"""Grade submissions with a suite: the one function the CLI and the tests call.

    results = grade(["alice.ipynb", "bob.ipynb"], assignment="a1")

It runs one in-process pytest session over the suite (collected once) with
``GradingPlugin``; student code only ever runs in sandboxed workers. Results
arrive through ``on_result`` as each submission finishes, so a caller can save
them before the next one starts.
"""

from __future__ import annotations

import itertools
import os
import sys
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest

from grader import preflight
from grader.course import Course
from grader.devices import is_gpu, resolve
from grader.errors import SuiteError
from grader.handout import read_handout
from grader.plugin import GradingPlugin, Job
from grader.results import SubmissionResult
from grader.sandbox import forkserver
from grader.sandbox.datasets import bundled_dataset_folders
from grader.sandbox.forkserver import WarmWorkers
from grader.sandbox.limits import Limits
from grader.sandbox.process import WorkerProcess


def grade(
    paths: Sequence[str],
    *,
    assignment: str,
    course: Course | None = None,
    suite: str = "hidden",
    mode: str = "definitions",
    limits: Limits = Limits(),
    device: str = "cpu",
    on_result: Callable[[SubmissionResult], None] | None = None,
    warm: bool | None = None,
    workers: int = 1,
    preflight: bool | None = None,
) -> list[SubmissionResult]:
    """Grade each path with the assignment's suite; one result per path, in order.

    ``device``: ``auto``, ``cpu``, ``cuda`` or ``cuda:N`` (``devices.py``). ``warm``: fork
    CPU workers from one server per grading process (default: where the machine allows,
    see ``forkserver.available``); otherwise every submission starts a fresh interpreter.
    ``workers``: grading processes side by side (``parallel.py``), at least one per GPU;
    results then reach ``on_result`` in the order they finish. ``preflight``: grade the
    assignment's reference first, in every grading process, and stop with
    ``PreflightFailed`` unless it gets full marks (default: for the hidden suite;
    ``preflight.py``).
    """
    course = course or Course.find()
    course.suite_dir(assignment, suite)  # an unknown assignment fails here, before any work
    devices = resolve(device)
    paths = [str(p) for p in paths]
    options = GradingOptions(assignment=assignment, course_root=str(course.root), suite=suite, mode=mode,
                             limits=limits, device=devices[0], hide=hidden_paths(course, paths),
                             warm=forkserver.available() if warm is None else warm,
                             preflight=suite == "hidden" if preflight is None else preflight)  # fmt: skip
    if (workers > 1 or len(devices) > 1) and len(paths) > 1:
        from grader.parallel import grade_in_parallel

        return grade_in_parallel(paths, options, workers=max(workers, len(devices)), devices=devices,
                                 on_result=on_result)  # fmt: skip
    results: list[SubmissionResult] = []

    def collect(result: SubmissionResult) -> None:
        results.append(result)
        if on_result is not None:
            on_result(result)

    grade_stream(paths, options, collect)
    return results


@dataclass(frozen=True)
class GradingOptions:
    """Everything a grading process needs besides the paths: plain values, so that it
    can be handed to another process (``parallel.py``) or machine (``distributed.py``)."""

    assignment: str
    course_root: str
    suite: str = "hidden"
    mode: str = "definitions"
    limits: Limits = Limits()
    device: str = "cpu"
    hide: tuple[str, ...] = ()
    warm: bool = False
    preflight: bool = True


def grade_stream(paths: Iterable[str], options: GradingOptions,
                 on_result: Callable[[SubmissionResult], None]) -> None:  # fmt: skip
    """Grade paths as they come, in one pytest session over the suite (collected once).

    ``paths`` may be a generator that waits for work: a grading process pulls its next
    submission only when it has finished the last one.
    """
    course = Course(Path(options.course_root))
    folder = course.suite_dir(options.assignment, options.suite)
    handout = read_handout(course, options.assignment)
    jobs: Iterable[Job] = (Job(str(p), options.assignment, options.suite, options.mode, options.limits,
                               options.hide, options.device, handout) for p in paths)  # fmt: skip
    reference = preflight.reference_notebook(course, options.assignment) if options.preflight else None
    if reference is not None:  # graded first, exactly as the students are (preflight.py)
        first = Job(str(reference), options.assignment, options.suite, options.mode, options.limits,
                    options.hide, options.device, handout)  # fmt: skip
        jobs = itertools.chain([first], jobs)
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


def _after_the_reference(on_result: Callable[[SubmissionResult], None],
                         options: GradingOptions) -> Callable[[SubmissionResult], None]:  # fmt: skip
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
    args = [
        str(folder), "-p", "no:cacheprovider", "-p", "no:warnings", "-p", "no:randomly",
        "-p", "no:terminal", "--import-mode=importlib", "--rootdir", str(course.root),
        "-c", os.devnull, "--capture=no",
    ]  # fmt: skip
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


def hidden_paths(course: Course, submissions: Sequence[str]) -> tuple[str, ...]:
    """Folders the worker must not see: the course (suites, references, gradebook), the
    folders submissions come from (other students' work) and the data sets libraries bundle
    (``datasets.py``). The worker's own script and the Python installation are bound back
    inside by ``process.py``."""
    candidates = {course.root.resolve(), *(Path(p).resolve().parent for p in submissions)}
    never = {Path("/"), Path("/tmp"), Path.home().resolve()}
    hidden = tuple(str(f) for f in sorted(candidates) if f not in never and f.is_dir())
    return hidden + bundled_dataset_folders()  # no copy of a5's digits to look test inputs up in
