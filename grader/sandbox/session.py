"""One submission's sandbox: a worker that is restarted after a crash, with deadlines.

The hidden suite talks to a ``Session`` through ``remote.Student``. A test that
times out or kills its worker loses only itself: the next request starts a fresh
worker and loads the submission again. Objects kept in a worker die with it, so
handles carry the worker's generation and a stale one is refused.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from grader.errors import (
    BudgetExhausted,
    HarnessFailure,
    LoadFailed,
    StudentCrashed,
    StudentProblem,
    StudentTimeout,
    rebuild,
)
from grader.sandbox import portable
from grader.sandbox.child import wire
from grader.sandbox.limits import Limits
from grader.sandbox.process import (
    CappedOutput,
    Channel,
    WorkerDied,
    WorkerError,
    WorkerProcess,
    WorkerTimeout,
)

MODES = ("definitions", "all")


def cold_worker(limits: Limits, hide: tuple[str, ...]) -> Channel:
    """A fresh worker process; on Windows one that talks over its standard streams
    (``portable.py``), since a child there inherits no other pipe."""
    if portable.NEEDED:
        return portable.StdioWorker(limits)
    return WorkerProcess(limits, hide)


STALE_HANDLE = (
    "an object kept in the worker was lost: the worker ended after it was made "
    "(a crash or a timeout of an earlier call), and a fresh worker does not have it"
)
# Of the load time, what top-level statements that compute something (and that graded code
# needs: ``ACTS = dict(relu=relu)``) may take together; the rest is for definitions.
NEEDED_SHARE = 1 / 3


@dataclass
class LoadReport:
    defined: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class Session:
    """Grades one submission: holds its code, its limits and the current worker."""

    def __init__(
        self,
        cells: list[str],
        *,
        mode: str = "definitions",
        limits: Limits = Limits(),
        hide: tuple[str, ...] = (),
        spawn: Callable[[Limits], Channel] | None = None,
        graded: tuple[str, ...] | None = None,
        given: tuple[str, ...] = (),
    ):
        """``spawn`` starts a worker (a warm one from a fork server); default: a cold process.
        ``graded`` and ``given``: the handout's graded names and given code (``intake/given_code.py``),
        which decide what top-level code runs and what a notebook that lacks given code gets;
        ``graded=None``: every function and class of the notebook counts as graded."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        self.cells = cells
        self.mode = mode
        self.graded = graded
        self.given = given
        self.limits = limits
        self.hide = hide
        self._spawn = spawn or (lambda limits: cold_worker(limits, hide))
        self.generation = 0
        self.restarts = 0
        self.report = LoadReport()
        self._worker: Channel | None = None
        self._outputs: list[CappedOutput] = []  # of the workers already retired
        self._spent = 0.0  # seconds charged to the submission (see remaining)
        self._budget_end = time.monotonic() + limits.submission_seconds * limits.wall_factor
        self._test_left, self._test_end = limits.submission_seconds, self._budget_end  # until a test begins

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> LoadReport:
        """Start a worker and load the submission; LoadFailed if that kills or hangs it."""
        self.generation += 1
        starting = time.monotonic()
        try:
            worker = self._spawn(self.limits)
        except WorkerError as exc:
            raise LoadFailed("error", f"the sandbox could not start: {exc}") from None
        self._not_counted(time.monotonic() - starting)
        self._worker = worker
        message = {
            "op": "load",
            "cells": self.cells,
            "mode": self.mode,
            "graded": None if self.graded is None else list(self.graded),
            "given": list(self.given),
            "seconds": self.limits.load_seconds * NEEDED_SHARE,
        }
        try:
            reply = worker.request(message, min(self.limits.load_seconds, self.remaining()))
            self._charge(worker)
        except WorkerTimeout:
            self._charge(worker)
            self._retire()
            raise LoadFailed(
                "timeout",
                f"loading the notebook took longer than {self.limits.load_seconds:g} s: "
                "top-level code runs when it is loaded",
            ) from None
        except WorkerDied as exc:
            self._charge(worker)
            self._retire()
            raise LoadFailed(
                "killed", f"loading the notebook ended the worker: {exc.reason}", outside=exc.outside
            ) from None
        try:
            self.report = _load_report(reply)
        except WorkerDied as exc:
            self._retire()
            raise LoadFailed("killed", f"loading the notebook broke its worker: {exc.reason}") from None
        return self.report

    def close(self) -> None:
        self._retire()

    def _retire(self) -> None:
        if self._worker is not None:
            self._worker.kill()
            self._outputs.append(self._worker.output)
            self._worker = None

    def output(self) -> str:
        """Everything the student's code printed, over every worker, capped for the whole
        submission: a worker restarted after each crash must not add another full share."""
        merged = CappedOutput(self.limits.max_output_bytes, bytearray())
        for part in self._outputs + ([self._worker.output] if self._worker else []):
            merged.add(bytes(part.kept))
            merged.total += part.total - len(part.kept)  # what that worker dropped was written too
        return merged.text()

    # ------------------------------------------------------------------ deadlines

    # Time limits count seconds of the worker's CPU time (``Channel.cpu_used``), so that a busy
    # machine does not fail correct work; each also holds on the clock, ``limits.wall_factor``
    # times longer, for workers that wait instead of computing.

    def remaining(self) -> float:
        """CPU seconds the next request may use: what is left of the test and of the
        submission, within what is left of their wall-clock backstops."""
        wall_left = min(self._budget_end, self._test_end) - time.monotonic()
        return min(
            self._test_left, self.limits.submission_seconds - self._spent, wall_left / self.limits.wall_factor
        )

    def begin_test(self, seconds: float | None = None) -> None:
        seconds = seconds or self.limits.test_seconds
        self._test_left = seconds
        self._test_end = time.monotonic() + seconds * self.limits.wall_factor

    def budget_left(self) -> float:
        """CPU seconds left to the submission (less, when its wall-clock backstop is nearer)."""
        wall_left = self._budget_end - time.monotonic()
        return min(self.limits.submission_seconds - self._spent, wall_left / self.limits.wall_factor)

    def _not_counted(self, seconds: float) -> None:
        """Move the wall-clock backstops by ``seconds`` the grader spent, not the student's code
        (starting a worker takes seconds on a busy machine)."""
        self._budget_end += seconds
        self._test_end += seconds

    def _charge(self, worker: Channel) -> None:
        """Count what the last request cost against the test and the submission."""
        spent = getattr(worker, "cpu_used", 0.0)  # a test double may not say
        self._spent += spent
        self._test_left -= spent

    # ------------------------------------------------------------------ requests

    def request(self, message: dict, what: str, generation: int | None = None):
        """Send one request for a hidden test; return the decoded value or raise StudentProblem.

        ``generation``: that of the worker whose kept objects the message names (None: it
        names none). Those objects died with that worker, so such a request is a crash
        of the submission's worker, never sent to a fresh one (there the handle would
        name nothing, or something else).
        """
        if self.budget_left() <= 0:
            raise BudgetExhausted(
                f"the submission's time budget of {self.limits.submission_seconds:g} s was spent"
            )
        if self._worker is not None and not self._worker.alive:
            self._retire()
        if generation is not None and (generation != self.generation or self._worker is None):
            raise StudentCrashed(f"{what}: {STALE_HANDLE}")
        if self._worker is None:
            self._restart()
        worker = self._worker
        if worker is None:  # start() sets it or raises: dlgrade's failure, should it ever not
            raise HarnessFailure(f"{what}: the worker did not start")
        try:
            reply = worker.request(message, self.remaining())
            self._charge(worker)
        except WorkerTimeout as exc:
            self._charge(worker)
            self._retire()
            raise StudentTimeout(
                f"{what} did not return within the time limit", wall_clock=exc.wall_clock
            ) from None
        except WorkerDied as exc:
            self._charge(worker)
            self._retire()
            raise StudentCrashed(f"{what} ended the worker: {exc.reason}", outside=exc.outside) from None
        return self.checked(reply, what)

    def request_many(
        self, messages: list[dict], whats: list[str], generation: int | None = None
    ) -> tuple[list[dict], StudentProblem | None]:
        """Send several requests in one round trip (the worker's ``batch`` op).

        The worker runs them in order and stops at the first that fails. Returns the
        replies of those that succeeded, and the failure as the StudentProblem that
        request alone would have raised (None when all succeeded), so that a test can
        still look at what happened before it. One deadline covers them all, as it
        covers every request of a test.
        """
        joined = ", ".join(dict.fromkeys(whats))
        replies = self.request({"op": "batch", "requests": messages}, joined, generation)["ok"]
        if type(replies) is not list:
            replies = []
        done: list[dict] = []
        for reply, what in zip(replies, whats, strict=False):  # a short list is checked below
            try:
                done.append(self.checked(reply, what))
            except StudentProblem as exc:
                return done, exc
        if len(done) < len(messages):  # it stopped early without saying why
            self._retire()
            answered = f"the worker answered {len(done)} of {len(messages)} requests"
            return done, StudentCrashed(f"{joined}: {answered}")
        return done, None

    def checked(self, reply, what: str) -> dict:
        """A reply that carries a value, or the student's error raised as a StudentProblem."""
        if type(reply) is dict and "error" in reply:
            raise rebuild(reply["error"] if type(reply["error"]) is dict else {}, what)
        if type(reply) is not dict or "ok" not in reply:
            self._retire()
            raise StudentCrashed(f"{what}: the worker sent a malformed reply")
        return reply

    def _restart(self) -> None:
        self._retire()
        self.restarts += 1
        try:
            self.start()
        except LoadFailed as exc:
            if exc.status == "error":  # the sandbox itself would not start: not the student's doing
                raise HarnessFailure(f"the worker could not be restarted: {exc.message}") from None
            raise StudentCrashed(f"the worker could not be restarted: {exc.message}") from None

    def decode(self, value, handle_factory):
        try:
            return wire.decode(value, handle_factory=handle_factory)
        except (wire.WireError, RecursionError) as exc:
            from grader.errors import BadReturn

            raise BadReturn(f"the value sent back cannot be read: {exc}") from None


def _load_report(reply: dict) -> LoadReport:
    """The load reply, checked by type before anything reads it: the student's code ran in
    the worker and may have replaced what writes its replies.

    ``{"ok": {"defined": [str, ...], "notes": [str, ...]}}`` is a report; anything else
    that claims to be one is a broken protocol (``WorkerDied``). An error reply (the worker
    could not list the names: a namespace with a key that is not a string, say) is an empty
    report with a note: the tests still call the names, and find what is there.
    """
    if type(reply.get("error")) is dict:
        error = reply["error"]
        why = f"{str(error.get('type', ''))[:100]}: {str(error.get('message', ''))[:300]}"
        return LoadReport(notes=[f"the worker could not list what the notebook defines: {why}"])
    body = reply.get("ok")
    if type(body) is not dict or not _strings(body.get("defined")) or not _strings(body.get("notes")):
        raise WorkerDied("the worker broke the protocol (its load reply is not two lists of strings)")
    return LoadReport(
        defined=[n[:200] for n in body["defined"][:10_000]], notes=[n[:500] for n in body["notes"][:200]]
    )


def _strings(value) -> bool:
    return type(value) is list and all(type(item) is str for item in value)
