"""Grade submissions with a suite: the one function the CLI and the tests call.

    results = grade(["alice.ipynb", "bob.ipynb"], assignment="a1")

It grades in this process, one pytest session over the suite collected once
(``stream.py``), or in several grading processes side by side (``parallel.py``);
student code only ever runs in sandboxed workers. Results arrive through
``on_result`` as each submission finishes, so a caller can save them before the
next one starts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from grader.course.layout import Course
from grader.errors import PreflightFailed
from grader.grading import preflight
from grader.grading.options import GradingOptions
from grader.grading.parallel import grade_in_parallel
from grader.grading.stream import grade_stream
from grader.results.records import SubmissionResult
from grader.sandbox import forkserver
from grader.sandbox.datasets import bundled_dataset_folders

OnResult = Callable[[SubmissionResult], None]


def grade(
    paths: Sequence[str],
    *,
    assignment: str,
    course: Course | None = None,
    on_result: OnResult | None = None,
    **choices,
) -> list[SubmissionResult]:
    """Grade each path with the assignment's suite; one result per path, in order.

    ``choices``: any field of ``GradingOptions`` (suite, mode, limits, device, workers,
    warm, preflight), whose defaults live there.
    """
    options = GradingOptions.of(course or Course.find(), assignment, **choices)
    return grade_with([str(p) for p in paths], options, on_result)


def grade_with(
    paths: list[str], options: GradingOptions, on_result: OnResult | None = None
) -> list[SubmissionResult]:
    """``grade`` with the options given whole. The suite folder and device are checked here
    unless the caller has (``GradingOptions.checked``). ``warm``: fork CPU workers from one
    server per grading process, where the machine allows. ``workers``: grading processes
    side by side, at least one per GPU; results then reach ``on_result`` in the order they
    finish. ``preflight``: grade the assignment's reference first, in every grading
    process, and stop with ``PreflightFailed`` unless it gets full marks (``preflight.py``).
    """
    options = options.checked()  # an unknown assignment fails here, before any work
    options = options.but(
        device=options.devices[0],
        hide=hidden_paths(options.course, paths),
        warm=forkserver.available() if options.warm is None else options.warm,
    )
    if (options.workers > 1 or len(options.devices) > 1) and len(paths) > 1:
        return grade_in_parallel(
            paths, options, workers=max(options.workers, len(options.devices)), on_result=on_result
        )
    results: list[SubmissionResult] = []

    def collect(result: SubmissionResult) -> None:
        results.append(result)
        if on_result is not None:
            on_result(result)

    grade_stream(paths, options, collect)
    return results


def grade_reference(options: GradingOptions) -> SubmissionResult:
    """Grade the assignment's reference as a student's submission would be graded here and
    ``preflight.check`` it (``dlgrade doctor``). Raises ``PreflightFailed`` (the assignment
    has no source notebook, too)."""
    reference = preflight.reference_notebook(options.course, options.assignment)
    if reference is None:
        folder = options.course.root / "source" / options.assignment
        raise PreflightFailed(
            f"{options.assignment} has no source notebook in {folder}: nothing to check with"
        )
    (result,) = grade_with([str(reference)], options.but(preflight=False))
    preflight.check(result, device=options.device, limits=options.limits)
    return result


def hidden_paths(course: Course, submissions: Sequence[str]) -> tuple[str, ...]:
    """Folders the worker must not see: the course (suites, references, gradebook), the
    folders submissions come from (other students' work) and the data sets libraries bundle
    (``datasets.py``). The worker's own script and the Python installation are bound back
    inside by ``process.py``."""
    candidates = {course.root.resolve(), *(Path(p).resolve().parent for p in submissions)}
    never = {Path("/"), Path("/tmp"), Path.home().resolve()}
    hidden = tuple(str(f) for f in sorted(candidates) if f not in never and f.is_dir())
    return hidden + bundled_dataset_folders()  # no copy of a5's digits to look test inputs up in
