"""Grade submissions with a suite: the one function the CLI and the tests call.

    results = grade(["alice.ipynb", "bob.ipynb"], assignment="a1")

It runs one in-process pytest session over the suite (collected once) with
``GradingPlugin``; student code only ever runs in sandboxed workers. Results
arrive through ``on_result`` as each submission finishes, so a caller can save
them before the next one starts.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from grader.course import Course
from grader.errors import SuiteError
from grader.plugin import GradingPlugin, Job
from grader.results import SubmissionResult
from grader.sandbox import forkserver
from grader.sandbox.forkserver import WarmWorkers
from grader.sandbox.limits import Limits


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
) -> list[SubmissionResult]:
    """Grade each path with the assignment's suite; one result per path, in order.

    ``warm``: fork workers from one server per batch (default: where the machine allows,
    see ``forkserver.available``); otherwise every submission starts a fresh interpreter.
    """
    course = course or Course.find()
    folder = course.suite_dir(assignment, suite)
    hide = hidden_paths(course, paths)
    jobs = [Job(str(p), assignment, suite, mode, limits, hide, device) for p in paths]
    results: list[SubmissionResult] = []

    def collect(result: SubmissionResult) -> None:
        results.append(result)
        if on_result is not None:
            on_result(result)

    pool = WarmWorkers(hide) if (forkserver.available() if warm is None else warm) else None
    plugin = GradingPlugin(jobs, collect, spawn=pool)
    try:
        _run_pytest(folder, course, plugin)
    finally:
        if pool is not None:
            pool.close()
    if plugin.collection_errors:
        errors = "\n".join(plugin.collection_errors)
        raise SuiteError(f"the {suite} suite for {assignment} is broken:\n{errors}")
    return results


def _run_pytest(folder: Path, course: Course, plugin: GradingPlugin) -> None:
    args = [
        str(folder), "-p", "no:cacheprovider", "-p", "no:warnings", "-p", "no:randomly",
        "-p", "no:terminal", "--import-mode=importlib", "--rootdir", str(course.root),
        "-c", os.devnull, "--capture=no",
    ]  # fmt: skip
    root = str(course.root)
    if root not in sys.path:
        sys.path.insert(0, root)  # hidden suites import reference/ (trusted side only)
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        code = pytest.main(args, plugins=[plugin])
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED) and not plugin.collection_errors:
        raise SuiteError(f"pytest could not run the suite in {folder} (exit code {int(code)})")
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        plugin.collection_errors.append(f"no tests found in {folder}")


def hidden_paths(course: Course, submissions: Sequence[str]) -> tuple[str, ...]:
    """Folders the worker must not see: the course (suites, references, gradebook) and the
    folders submissions come from (other students' work). The worker's own script and the
    Python installation are bound back inside by ``process.py``."""
    candidates = {course.root.resolve(), *(Path(p).resolve().parent for p in submissions)}
    never = {Path("/"), Path("/tmp"), Path.home().resolve()}
    return tuple(str(f) for f in sorted(candidates) if f not in never and f.is_dir())
