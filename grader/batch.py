"""Grading a class: find each student's submission, skip what the gradebook already has,
grade the rest, and record every result the moment it is finished.

The gradebook is written before the next submission starts, so a batch killed at
any point loses nothing finished; running the same command again grades only what
is missing (or what a changed suite must see again).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from grader.course import Course
from grader.devices import resolve
from grader.gradebook import FILENAME, Gradebook, suite_version
from grader.grading import grade
from grader.results import SubmissionResult
from grader.sandbox.limits import Limits
from grader.submissions import Submission, content_hash, discover


@dataclass(frozen=True)
class Graded:
    """One student's result in this batch; ``reused`` when it came from the gradebook."""

    submission: Submission
    result: SubmissionResult
    reused: bool = False


def grade_class(
    arguments: list[str],
    *,
    assignment: str,
    gradebook: Gradebook,
    course: Course | None = None,
    force: bool = False,
    mode: str = "definitions",
    limits: Limits = Limits(),
    device: str = "cpu",
    workers: int = 1,
    scheduler: str | None = None,
    on_graded: Callable[[Graded], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> list[Graded]:
    """Grade every student's submission among ``arguments`` (files and folders).

    ``workers``: grading processes on this machine; ``scheduler``: the address of a Dask
    cluster to grade on instead. ``on_start`` hears how many submissions there are;
    ``on_graded`` each one as it ends.
    """
    course = course or Course.find()
    version = suite_version(course.suite_files(assignment), course.root)
    submissions = discover(arguments, assignment)
    if on_start is not None:
        on_start(len(submissions))
    # (student, content hash) -> the last result this suite version gave it
    known = {(a.student, a.result.sha256): a.result
             for a in gradebook.attempts(assignment, suite_version=version)}  # fmt: skip
    done: list[Graded] = []

    def finish(item: Graded) -> None:
        done.append(item)
        if on_graded is not None:
            on_graded(item)

    todo = []
    for submission in submissions:
        stored = known.get((submission.student, content_hash(submission.path)))
        if stored is not None and not force:
            finish(Graded(submission, replace(stored, submission=str(submission.path)), reused=True))
        else:
            todo.append(submission)

    by_path = {str(s.path): s for s in todo}
    devices = ",".join(resolve(device))  # what the gradebook says the verdicts were computed on

    def record(result: SubmissionResult) -> None:
        submission = by_path[result.submission]
        gradebook.record(result, student=submission.student, suite_version=version, device=devices,
                         submitted_at=submitted_at(submission.path))
        finish(Graded(submission, result))

    if todo and scheduler:
        from grader.distributed import grade_on_dask

        grade_on_dask([str(s.path) for s in todo], assignment=assignment, course=course, mode=mode,
                      limits=limits, device=device, scheduler=scheduler, on_result=record)  # fmt: skip
    elif todo:
        grade([str(s.path) for s in todo], assignment=assignment, course=course, mode=mode,
              limits=limits, device=device, workers=workers, on_result=record)  # fmt: skip
    order = {submission.path: i for i, submission in enumerate(submissions)}
    return sorted(done, key=lambda item: order[item.submission.path])  # as discovered, however they finished


def submitted_at(path: Path) -> str:
    """When a submission was handed in, as far as the file tells: its modification time.

    LMS exports keep the upload time there; a copy made with ``cp -p`` or ``rsync -t``
    does too. "" when the file cannot be read.
    """
    try:
        stamp = path.stat().st_mtime
    except OSError:
        return ""
    return datetime.fromtimestamp(stamp, timezone.utc).isoformat(timespec="seconds")


def default_gradebook(course: Course) -> Path:
    """The course's own gradebook: inside the course folder, hidden from every sandbox."""
    return course.root / FILENAME
