"""Grading a class: find each student's submission, skip what the gradebook already has,
grade the rest, and record every result the moment it is finished.

Each result is recorded as it arrives, before anything else is done with it, so a
batch killed at any point loses nothing finished; running the same command again
grades only what is missing, what a changed suite must see again, and what ended in
``error`` (dlgrade could not grade it, so there is no verdict to keep). Two batches
on one gradebook split the class: each claims its students before grading them,
and waits for those another one holds (``Gradebook.claim``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

from grader.course import Course
from grader.devices import resolve
from grader.errors import GradebookError
from grader.gradebook import FILENAME, Attempt, Gradebook, suite_version
from grader.grading import grade
from grader.results import SubmissionResult
from grader.roster import intake_roster
from grader.sandbox.limits import Limits
from grader.submissions import Submission, content_hash, discover

WAIT_SECONDS = 0.5


@dataclass(frozen=True)
class Graded:
    """One student's result in this batch; ``reused`` when it came from the gradebook;
    not ``saved`` when the gradebook could not store it (the batch stops there)."""

    submission: Submission
    result: SubmissionResult
    reused: bool = False
    saved: bool = True


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
    min_workers: int = 1,
    on_graded: Callable[[Graded], None] | None = None,
    on_start: Callable[[int], None] | None = None,
    on_wait: Callable[[list[str]], None] | None = None,
    on_waiting: Callable[[int, int], None] | None = None,
) -> list[Graded]:
    """Grade every student's submission among ``arguments`` (files and folders).

    ``workers``: grading processes on this machine; ``scheduler``: the address of a Dask
    cluster to grade on instead, once ``min_workers`` Dask workers have joined
    (``on_waiting(connected, wanted)`` hears the wait). ``on_start`` hears how many submissions there are;
    ``on_graded`` each one as it ends; ``on_wait`` the students another batch on the same
    gradebook is grading right now, whose results this one waits for instead of grading
    them twice. A result the gradebook cannot store stops the batch with a
    ``GradebookError`` that says so; everything recorded before it stays.
    """
    course = course or Course.find()
    run = _Run(assignment, gradebook, suite_version(course.suite_files(assignment), course.root), force,
               on_graded)  # fmt: skip
    submissions = discover(arguments, assignment, roster=intake_roster(course.root))
    if on_start is not None:
        on_start(len(submissions))

    def grade_these(todo: list[Submission]) -> None:
        by_path = {str(s.path): s for s in todo}
        paths = [str(s.path) for s in todo]
        if scheduler:
            from grader.distributed import grade_on_dask

            def record_from_dask(result: SubmissionResult, on) -> None:  # on: where a worker graded it
                run.record(by_path, on.device, result, versions=on.versions)

            grade_on_dask(paths, assignment=assignment, course=course, mode=mode, limits=limits,
                          device=device, scheduler=scheduler, on_result=record_from_dask,
                          min_workers=min_workers, on_waiting=on_waiting)  # fmt: skip
        else:
            # what the gradebook says the verdicts were computed on
            record = partial(run.record, by_path, ",".join(resolve(device)))
            grade(paths, assignment=assignment, course=course, mode=mode, limits=limits, device=device,
                  workers=workers, on_result=record)  # fmt: skip

    pending = submissions
    try:
        while pending:
            todo, pending = run.take(pending)
            if todo:
                grade_these(todo)
            if pending:
                _wait_for_other_batches(gradebook, assignment, pending, on_wait)
    finally:
        gradebook.release(assignment)
    order = {submission.path: i for i, submission in enumerate(submissions)}
    return sorted(run.done, key=lambda item: order[item.submission.path])  # as discovered, not as finished


@dataclass
class _Run:
    """One batch's dealings with the gradebook: what to reuse, what to claim, what to record."""

    assignment: str
    gradebook: Gradebook
    version: str
    force: bool
    on_graded: Callable[[Graded], None] | None
    done: list[Graded] = field(default_factory=list)

    def finish(self, item: Graded) -> None:
        self.done.append(item)
        if self.on_graded is not None:
            self.on_graded(item)

    def take(self, submissions: list[Submission]) -> tuple[list[Submission], list[Submission]]:
        """Reuse what the gradebook has; claim the rest. Returns (to grade now, held by
        another batch at this moment)."""
        verdicts = {} if self.force else self.gradebook.verdicts(self.assignment, self.version)
        handed_in = self.gradebook.handed_in(self.assignment)
        unknown = []
        for submission in submissions:
            stored = verdicts.get((submission.student, content_hash(submission.path)))
            if stored is None:
                unknown.append(submission)
            else:
                self.reuse(submission, stored, handed_in)
        held = self.gradebook.claim(self.assignment, [s.student for s in unknown])
        return [s for s in unknown if s.student not in held], [s for s in unknown if s.student in held]

    def reuse(self, submission: Submission, stored: Attempt, handed_in: set) -> None:
        """The gradebook's verdict on this very content; recorded again as the student's
        current attempt when this is a new hand-in of it (A, then B, then A again)."""
        when = submitted_at(submission.path)
        if (submission.student, stored.result.sha256, when) not in handed_in:
            self.gradebook.repeat(stored, submission=str(submission.path), submitted_at=when)
        self.finish(Graded(submission, replace(stored.result, submission=str(submission.path)), reused=True))

    def record(self, by_path: dict[str, Submission], devices: str, result: SubmissionResult,
               versions: dict | None = None) -> None:  # fmt: skip
        """Store one finished result before anything else happens to it. ``devices`` and
        ``versions``: what computed it (default versions: this machine's)."""
        submission = by_path[result.submission]
        try:
            self.gradebook.record(result, student=submission.student, suite_version=self.version,
                                  device=devices, versions=versions,
                                  submitted_at=submitted_at(submission.path))  # fmt: skip
        except GradebookError as exc:
            self.finish(Graded(submission, result, saved=False))
            raise GradebookError(f"{exc}. {submission.student}'s result was not saved: run the same "
                                 "command again to grade it and the rest") from None  # fmt: skip
        self.finish(Graded(submission, result))


def _wait_for_other_batches(gradebook: Gradebook, assignment: str, pending: list[Submission],
                            on_wait: Callable[[list[str]], None] | None) -> None:  # fmt: skip
    """Wait until no other live batch holds any of ``pending``'s students; their results are
    then in the gradebook (reused), or their batch died (its claims are taken over)."""
    students = [s.student for s in pending]
    if on_wait is not None:
        on_wait(sorted(gradebook.claimed(assignment, students)))
    while gradebook.claimed(assignment, students):
        time.sleep(WAIT_SECONDS)


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
