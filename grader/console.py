"""What dlgrade prints on a terminal: plain, deterministic text."""

from __future__ import annotations

import sys
import textwrap
import time
from collections import Counter
from typing import TextIO

from grader.results import SubmissionResult

MARKS = {"passed": "PASS", "skipped": "SKIP"}
HIDDEN_NOTE = (
    "These are the public checks only, a small sample. Your grade comes from the hidden "
    "tests, which use other inputs and more cases."
)


def _points(value: float) -> str:
    return f"{value:g}"


def result_line(result: SubmissionResult) -> str:
    """One line per graded submission, for batch runs."""
    line = f"{result.submission}: {_points(result.score)}/{_points(result.max_score)} [{result.status}]"
    return f"{line} {result.message}" if result.message else line


def graded_line(student: str, result: SubmissionResult, reused: bool = False) -> str:
    """A batch line naming the student; ``reused``: the gradebook had it already."""
    line = f"{student}: {result_line(result)}"
    return f"{line} (unchanged since last graded: from the gradebook)" if reused else line


def batch_summary(results: list[SubmissionResult]) -> str:
    statuses = Counter(result.status for result in results)
    parts = ", ".join(f"{count} {status}" for status, count in sorted(statuses.items()))
    return f"{len(results)} submission(s): {parts}"


def check_table(result: SubmissionResult) -> str:
    """The self-check report a student reads: each check, and why a failing one failed."""
    lines = [f"Public checks for {result.assignment}: {result.submission}"]
    if result.status != "graded":
        lines.append(f"  could not check: {result.status}: {result.message}")
    for note in result.notes:
        lines.append(f"  note: {note}")
    for test in result.tests:
        lines.append(f"  {MARKS.get(test.outcome, 'FAIL')}  {test.name}")
        if test.outcome != "passed" and test.message:
            lines.append(textwrap.indent(test.message.strip(), "        "))
    passed = sum(test.outcome == "passed" for test in result.tests)
    lines.append(f"{passed} of {len(result.tests)} public checks passed.")
    lines.append(HIDDEN_NOTE)
    return "\n".join(lines)


class Progress:
    """Result lines as they come; on a terminal, a bar with counts and an ETA below them.

    In CI (not a terminal) only the plain lines are written, one per submission, so
    logs stay readable and diffable.
    """

    WIDTH = 30

    def __init__(self, total: int, stream: TextIO | None = None, *, tty: bool | None = None):
        self.total, self.done = total, 0
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty() if tty is None else tty
        self.started = time.monotonic()

    def add(self, line: str) -> None:
        self.done += 1
        if self.tty:
            self.stream.write("\r\x1b[K" + line + "\n" + self.bar())
        else:
            self.stream.write(f"[{self.done}/{self.total}] {line}\n")
        self.stream.flush()

    def bar(self) -> str:
        filled = self.WIDTH * self.done // max(self.total, 1)
        return f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {self.done}/{self.total} {self.eta()}"

    def eta(self) -> str:
        if self.done == 0 or self.done >= self.total:
            return ""
        left = (time.monotonic() - self.started) / self.done * (self.total - self.done)
        return f"ETA {int(left) // 60}:{int(left) % 60:02d}"

    def close(self) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
