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

from grader.course.layout import Course
from grader.course.roster import intake_roster
from grader.errors import GradebookError
from grader.grading.grade import grade_with
from grader.grading.options import GradingOptions
from grader.intake.submissions import Submission, content_hash, discover
from grader.results.gradebook import FILENAME, Attempt, Gradebook, suite_version
from grader.results.records import ResultsFile, SubmissionResult

WAIT_SECONDS = 0.5


@dataclass(frozen=True)
class Graded:
    """One student's result in this batch; ``reused`` when it came from the gradebook;
    not ``saved`` when the gradebook could not store it (the batch stops there)."""

    submission: Submission
    result: SubmissionResult
    reused: bool = False
    saved: bool = True


class BatchEvents:
    """What a batch tells the one who runs it (``cli.py`` prints it); here, nothing."""

    def started(self, count: int) -> None:
        """``count`` submissions were found."""

    def graded(self, item: Graded) -> None:
        """One submission is finished and recorded (or reused, or could not be saved)."""

    def waiting_for_batch(self, students: list[str]) -> None:
        """Another batch on this gradebook is grading these students: their results are awaited."""

    def waiting_for_workers(self, connected: int, wanted: int) -> None:
        """On a Dask cluster, ``connected`` of the ``wanted`` workers have joined so far."""


def grade_class(
    arguments: list[str],
    options: GradingOptions,
    *,
    gradebook: Gradebook,
    results: Path | None = None,
    events: BatchEvents | None = None,
) -> list[Graded]:
    """Grade every student's submission among ``arguments`` (files and folders).

    This layer alone writes the outputs: each result goes into the gradebook, then one
    line of the ``results`` journal (``FILE.partial.jsonl``), the moment it is finished;
    the results-v1 document is written once, when the batch ends (``ResultsFile``).
    ``options.workers``: grading processes on this machine; ``options.scheduler``: the
    address of a Dask cluster to grade on instead. A result the gradebook cannot store
    stops the batch with a ``GradebookError`` that says so; everything recorded before
    it stays.
    """
    events = events or BatchEvents()
    options = options.checked()
    course = options.course
    version = suite_version(course.suite_files(options.assignment), course.root)
    sink = _Sink(gradebook, version, ResultsFile(results, options.assignment) if results else None, events)
    run = _Run(options.assignment, gradebook, version, options.force, sink)
    submissions = discover(arguments, options.assignment, roster=intake_roster(course.root))
    events.started(len(submissions))

    def grade_these(todo: list[Submission]) -> None:
        by_path = {str(s.path): s for s in todo}
        paths = [str(s.path) for s in todo]
        if options.scheduler:
            from grader.grading.distributed import grade_on_dask

            def record_from_dask(result: SubmissionResult, on) -> None:  # on: where a worker graded it
                sink.record(by_path, on.device, result, versions=on.versions)

            grade_on_dask(paths, options, on_result=record_from_dask, on_waiting=events.waiting_for_workers)
        else:
            # what the gradebook says the verdicts were computed on
            grade_with(paths, options, partial(sink.record, by_path, ",".join(options.devices)))

    pending = submissions
    try:
        while pending:
            todo, pending = run.take(pending)
            if todo:
                grade_these(todo)
            if pending:
                _wait_for_other_batches(gradebook, options.assignment, pending, events.waiting_for_batch)
    finally:
        gradebook.release(options.assignment)
        sink.close()
    order = {submission.path: i for i, submission in enumerate(submissions)}
    graded = sorted(sink.done, key=lambda item: order[item.submission.path])  # as discovered, not as finished
    sink.write([item.result for item in graded])
    return graded


@dataclass
class _Sink:
    """Where each finished result goes, in this order, before anything else happens to it:
    the gradebook, the results journal, then whoever listens (``BatchEvents``). The one
    writer of a batch's two outputs."""

    gradebook: Gradebook
    version: str  # the suite's, as the gradebook records it beside each verdict
    results: ResultsFile | None
    events: BatchEvents
    done: list[Graded] = field(default_factory=list)

    def record(
        self,
        by_path: dict[str, Submission],
        devices: str,
        result: SubmissionResult,
        versions: dict | None = None,
    ) -> None:
        """Store one finished result before anything else happens to it. ``devices`` and
        ``versions``: what computed it (default versions: this machine's)."""
        submission = by_path[result.submission]
        try:
            self.gradebook.record(
                result,
                student=submission.student,
                suite_version=self.version,
                device=devices,
                versions=versions,
                submitted_at=submitted_at(submission.path),
            )
        except GradebookError as exc:
            self.finish(Graded(submission, result, saved=False))
            raise GradebookError(
                f"{exc}. {submission.student}'s result was not saved: run the same "
                "command again to grade it and the rest"
            ) from None
        self.finish(Graded(submission, result))

    def finish(self, item: Graded) -> None:
        """One result that is in the gradebook (or could not be stored): journal, then listeners."""
        self.done.append(item)
        if self.results is not None:
            self.results.add(item.result)
        self.events.graded(item)

    def write(self, ordered: list[SubmissionResult]) -> None:
        """The results-v1 document, once, in the order given, not as finished."""
        if self.results is not None:
            self.results.results = ordered
            self.results.write()

    def close(self) -> None:
        """Stop appending; a batch stopped early keeps its journal (``load_results``)."""
        if self.results is not None:
            self.results.close()


@dataclass
class _Run:
    """One batch's dealings with the gradebook before grading: what to reuse, what to claim.
    What it reuses goes to the sink, as what is graded does."""

    assignment: str
    gradebook: Gradebook
    version: str
    force: bool
    sink: _Sink

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
        reused = replace(stored.result, submission=str(submission.path))
        self.sink.finish(Graded(submission, reused, reused=True))


def _wait_for_other_batches(
    gradebook: Gradebook, assignment: str, pending: list[Submission], on_wait: Callable[[list[str]], None]
) -> None:
    """Wait until no other live batch holds any of ``pending``'s students; their results are
    then in the gradebook (reused), or their batch died (its claims are taken over)."""
    students = [s.student for s in pending]
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
