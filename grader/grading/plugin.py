"""The pytest plugin that runs a hidden suite against submissions, on the trusted side.

pytest collects the suite once; ``pytest_runtestloop`` then runs every collected
test against each submission in turn, with fresh fixtures, and turns the reports
into ``SubmissionResult``s. Tests reach the submission only through the ``student``
fixture (a ``remote.Student``), so student code never runs in this process.

Fixtures for suite authors:
    student   the submission (call its functions by name)
    rng       a torch.Generator seeded from the test's name
    seed      that seed, an int
    device    the torch.device graded functions receive tensors on

Every test must carry ``@pytest.mark.points(n)``; ``@pytest.mark.time_limit(s)`` gives
a test more (or less) CPU time than ``Limits.test_seconds``. Before each test, torch, numpy
and random are seeded here and in the worker from a hash of the test's name, so
grading the same submission twice gives the same result.

A suite folder may hold a ``misconceptions.py`` (``grader/testing/misconceptions.py``):
when a test fails, the probes of the misconceptions that may explain it run against the
submission, and a match leads the test's message with what the student did.
"""

from __future__ import annotations

import functools
import hashlib
import os
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pytest
import torch
from _pytest.runner import runtestprotocol

from grader import safe_text
from grader.errors import (
    HarnessFailure,
    LoadFailed,
    NotebookError,
    StudentCrashed,
    StudentProblem,
    StudentRaised,
    StudentTimeout,
    SuiteError,
)
from grader.grading.options import GradingOptions
from grader.intake.given_code import Handout
from grader.intake.notebook import read_cells
from grader.intake.submissions import content_hash, refusal
from grader.results.records import SubmissionResult, TestResult
from grader.sandbox.child.seeding import seed_torch
from grader.sandbox.remote import Student
from grader.sandbox.session import Session
from grader.testing.misconceptions import Catalogue, Misconception, load_catalogue, matches, with_paragraph

MESSAGE_CHARS = 1500
OVERLOAD = 2.0
"""Load average per core above which a clock-time timeout is the machine's, not the student's."""


@dataclass(frozen=True)
class Job:
    """One submission to grade: the path as given, and how to run it."""

    path: str
    options: GradingOptions
    handout: Handout | None = None  # graded names and given code (None: no handout)


def seed_for(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big")


def test_name(item: pytest.Item) -> str:
    """The test's name without its file path, so moving a suite keeps names and seeds."""
    return item.nodeid.split("::", 1)[-1]


@dataclass(eq=False)  # pluggy keeps plugins in sets: identity, not value, equality
class GradingPlugin:
    jobs: Iterable[Job]  # a generator is fine: each job is taken when the last one is done
    on_result: Callable[[SubmissionResult], None]
    spawn: Callable | None = None  # starts a worker for a Session; None: cold processes
    collection_errors: list[str] = field(default_factory=list)
    stopped_by: Exception | None = None
    """What ``on_result`` raised (the gradebook could not store a result): the batch stops,
    and ``stream.grade_stream`` raises it once pytest has finished, as itself, not as
    pytest's INTERNALERROR."""
    _student: Student | None = None
    _device: torch.device = torch.device("cpu")
    _harness_failures: list[str] = field(default_factory=list)  # of the submission being graded
    _catalogues: dict[Path, Catalogue | None] = field(default_factory=dict)  # by suite folder
    _recognised: dict[str, bool] = field(default_factory=dict)  # this submission's probes so far

    # ------------------------------------------------------------------ pytest hooks

    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "points(n): points the test is worth")
        config.addinivalue_line("markers", "time_limit(seconds): the worker's CPU time for this test")

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collection_errors.append(str(report.longrepr)[-2000:])

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            marker = item.get_closest_marker("points")
            if marker is None or not marker.args or float(marker.args[0]) <= 0:
                self.collection_errors.append(f"{item.nodeid} has no @pytest.mark.points(n)")
        for folder in {Path(str(item.path)).parent for item in items}:
            try:
                self._catalogues[folder] = load_catalogue(folder)
            except Exception as exc:  # noqa: BLE001  (a broken catalogue is a broken suite)
                self.collection_errors.append(f"{folder / 'misconceptions.py'}: {type(exc).__name__}: {exc}")

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        if self.collection_errors or not session.items:
            return True  # grading.py reports the suite as broken
        for job in self.jobs:
            result = self._grade_safely(job, session.items)
            try:
                self.on_result(result)
            except Exception as exc:  # noqa: BLE001  (saving failed: grading.py raises it after pytest)
                self.stopped_by = exc
                break
        return True

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        seed = seed_for(test_name(item))
        seed_torch(seed)
        np.random.seed(seed)
        random.seed(seed)
        try:
            self._loaded().seed(seed)
        except StudentRaised as exc:  # the worker's own seeding step, before the test's code
            raise HarnessFailure(f"seeding the worker failed: {exc.message}") from None

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        report = yield
        if call.excinfo is not None:
            exc = call.excinfo.value
            report.dlgrade = _classify(exc)
            report.dlgrade_harness = isinstance(exc, HarnessFailure)
            report.dlgrade_outside = _not_the_students_doing(exc)
        return report

    # ------------------------------------------------------------------ fixtures

    def _loaded(self) -> Student:
        """The submission being graded: there is one while its tests and probes run."""
        if self._student is None:
            raise HarnessFailure("no submission is loaded")
        return self._student

    @pytest.fixture
    def student(self) -> Student:
        return self._loaded()

    @pytest.fixture
    def seed(self, request: pytest.FixtureRequest) -> int:
        return seed_for(test_name(request.node))

    @pytest.fixture
    def rng(self, seed: int) -> torch.Generator:
        return torch.Generator().manual_seed(seed)

    @pytest.fixture
    def device(self) -> torch.device:
        return self._device

    # ------------------------------------------------------------------ grading

    def _grade_safely(self, job: Job, items: list[pytest.Item]) -> SubmissionResult:
        """``_grade``, where nothing about one submission can stop the batch: an exception
        grading it makes it an ``error`` (dlgrade's failure, graded again next time), and
        every text its student controls is made safe for the sinks (``safe_text``). The
        path stays as given: callers find their submission by it."""
        try:
            result = self._grade(job, items)
        except Exception as exc:  # noqa: BLE001  (a bug of ours, or one a submission found)
            why = f"dlgrade failed while grading this submission: {type(exc).__name__}: {exc}"
            options = job.options
            result = SubmissionResult(
                submission=job.path,
                assignment=options.assignment,
                suite=options.suite,
                status="error",
                message=f"{why}; grade this submission again",
                tests=_unrun(items, "skipped", "not run: dlgrade failed"),
                sha256=content_hash(job.path),
            )
        return replace(safe_text.result(result), submission=job.path)

    def _grade(self, job: Job, items: list[pytest.Item]) -> SubmissionResult:
        started = time.monotonic()
        options = job.options
        result_of = functools.partial(
            SubmissionResult, submission=job.path, assignment=options.assignment, suite=options.suite
        )
        refused = refusal(job.path)
        if refused:
            return result_of(
                status="refused", message=refused, tests=_unrun(items, "skipped", f"not run: {refused}")
            )
        try:
            cells = read_cells(job.path)
        except NotebookError as exc:
            tests = _unrun(items, "skipped", "the submission could not be read")
            return result_of(
                status="invalid_notebook", tests=tests, message=str(exc), sha256=content_hash(job.path)
            )
        graded, given = (job.handout.graded, job.handout.given) if job.handout else (None, ())
        session = Session(
            cells,
            mode=options.mode,
            limits=options.limits,
            hide=options.hide,
            spawn=self.spawn,
            graded=graded,
            given=given,
        )
        self._device = torch.device(options.device)
        try:
            return self._grade_loaded(job, items, session, result_of, started)
        finally:
            session.close()
            self._student = None

    def _grade_loaded(
        self,
        job: Job,
        items: list[pytest.Item],
        session: Session,
        result_of: Callable[..., SubmissionResult],
        started: float,
    ) -> SubmissionResult:
        try:
            report = _start(session)
        except LoadFailed as exc:
            return result_of(
                status=exc.status,
                message=exc.message,
                tests=_unrun(items, "skipped", f"not run: {exc.message}"),
                output=session.output(),
                seconds=time.monotonic() - started,
                sha256=content_hash(job.path),
            )
        self._student = Student(session)
        self._harness_failures = []
        self._recognised = {}
        tests = tuple(self._run(item, session) for item in items)
        session.close()  # the last worker's output is in, before it is read
        status, message = _status(job, session, self._harness_failures)
        return result_of(
            status=status,
            tests=tests,
            message=message,
            notes=tuple(report.notes),
            output=session.output(),
            seconds=time.monotonic() - started,
            sha256=content_hash(job.path),
        )

    def _run(self, item: pytest.Item, session: Session) -> TestResult:
        """One test's verdict. A test whose worker was killed from outside (not by the
        student's code, not by dlgrade) runs once more; twice is ``error``: grade again."""
        points = _points(item)
        reports = self._run_once(item, session)
        if _killed_from_outside(reports):
            reports = self._run_once(item, session)
        outcome, message = _verdict(reports)
        if _killed_from_outside(reports):
            outcome, message = (
                "error",
                f"{message} (twice, from outside or on an overloaded machine: not the submission's doing)",
            )
            self._harness_failures.append(f"{test_name(item)}: {message}")
        elif any(getattr(report, "dlgrade_harness", False) for report in reports):
            self._harness_failures.append(f"{test_name(item)}: {message}")
        found = self._misconception(item, session) if outcome == "failed" else None
        return TestResult(test_name(item), points, outcome, with_paragraph(found, message)[:MESSAGE_CHARS])

    def _run_once(self, item: pytest.Item, session: Session) -> list:
        limit = item.get_closest_marker("time_limit")
        session.begin_test(float(limit.args[0]) if limit else None)
        _function(item)._initrequest()  # fresh fixtures for every submission, as pytest-rerunfailures does
        return runtestprotocol(item, log=False, nextitem=None)

    # ------------------------------------------------------------------ misconceptions

    def _misconception(self, item: pytest.Item, session: Session) -> Misconception | None:
        """The catalogued misconception whose outputs the submission's code returns, if one
        of those that may explain this failed test does (``grader/testing/misconceptions.py``).
        Each probe runs at most once per submission."""
        catalogue = self._catalogues.get(Path(str(item.path)).parent)
        for candidate in catalogue.for_test(test_name(item)) if catalogue else []:
            if candidate.id not in self._recognised:
                self._recognised[candidate.id] = self._probe(candidate, item, session)
            if self._recognised[candidate.id]:
                return candidate
        return None

    def _probe(self, candidate: Misconception, item: pytest.Item, session: Session) -> bool:
        """Run one probe as a test runs: seeded from its name, with a test's time limit."""
        seed = seed_for(candidate.id)
        seed_torch(seed)
        np.random.seed(seed)
        random.seed(seed)
        session.begin_test(None)
        try:
            self._loaded().seed(seed)
        except StudentProblem:
            return False
        return matches(candidate, self._loaded(), self._device, _function(item).module)


def _start(session: Session):
    """Load the submission; once more if its worker was killed from outside while loading."""
    try:
        return session.start()
    except LoadFailed as exc:
        if not exc.outside:
            raise
    try:
        return session.start()
    except LoadFailed as exc:
        if exc.outside:
            raise LoadFailed(
                "error",
                f"{exc.message} (twice, each time from outside: not the submission's doing); grade again",
            ) from None
        raise


def _not_the_students_doing(exc: BaseException) -> bool:
    """A worker killed from outside, or a test that ran out of *clock* (not CPU) time while
    the machine was overloaded: no verdict on the student, so the test runs again."""
    if isinstance(exc, StudentCrashed):
        return exc.outside
    return isinstance(exc, StudentTimeout) and exc.wall_clock and machine_overloaded()


def machine_overloaded() -> bool:
    """More runnable work than ``OVERLOAD`` times the cores this process may use, on average
    over the last minute: a clock-time limit then says more about the machine than the code."""
    if not hasattr(os, "getloadavg"):  # Windows: no load average to go by
        return False
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return os.getloadavg()[0] > OVERLOAD * cores


def _killed_from_outside(reports: list) -> bool:
    return any(getattr(report, "dlgrade_outside", False) for report in reports)


def _status(job: Job, session: Session, harness_failures: list[str]) -> tuple[str, str]:
    """The submission's status and message once its tests have run.

    A failure of dlgrade's own steps makes the whole submission ``error``: its score is
    not a verdict on the student's code, and the gradebook will not reuse it.
    """
    if harness_failures:
        more = f" (and {len(harness_failures) - 1} more)" if len(harness_failures) > 1 else ""
        return "error", f"dlgrade could not grade it: {harness_failures[0][:500]}{more}; grade again"
    if session.budget_left() <= 0:
        return "timeout", f"the time budget of {job.options.limits.submission_seconds:g} s ran out"
    return "graded", ""


def _classify(exc: BaseException) -> tuple[str, str]:
    """(outcome, message) for an exception raised in a hidden test."""
    if isinstance(exc, HarnessFailure):
        return "error", f"dlgrade could not run this test: {exc.message}"
    if isinstance(exc, StudentProblem):
        return exc.outcome, exc.message + (f"\n{exc.student_traceback}" if exc.student_traceback else "")
    if isinstance(exc, AssertionError):
        return "failed", str(exc).strip() or "assertion failed"
    if isinstance(exc, pytest.skip.Exception):
        return "skipped", str(exc)
    return "error", f"{type(exc).__name__}: {exc}"


def _verdict(reports: list) -> tuple[str, str]:
    """Default-deny: 'passed' only when setup, call and teardown all passed."""
    for report in reports:
        if report.failed or report.skipped:
            return getattr(report, "dlgrade", ("error", str(report.longrepr)[-MESSAGE_CHARS:]))
    calls = [r for r in reports if r.when == "call" and r.passed]
    return ("passed", "") if calls else ("error", "the test did not run")


def _unrun(items: list[pytest.Item], outcome: str, message: str) -> tuple[TestResult, ...]:
    return tuple(TestResult(test_name(item), _points(item), outcome, message) for item in items)


def _points(item: pytest.Item) -> float:
    """A test's points (collection refuses a suite where a test has none)."""
    marker = item.get_closest_marker("points")
    if marker is None or not marker.args:
        raise SuiteError(f"{item.nodeid} has no @pytest.mark.points(n)")
    return float(marker.args[0])


def _function(item: pytest.Item) -> pytest.Function:
    """A hidden test as what it is, a test function (pytest knows other items; suites hold none)."""
    if not isinstance(item, pytest.Function):
        raise SuiteError(f"{item.nodeid} is not a test function")
    return item
