"""What dlgrade prints on a terminal: plain, deterministic text."""

from __future__ import annotations

import re
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Mapping
from typing import TextIO

from grader import misconception_text, safe_text
from grader.results.records import SubmissionResult, TestResult
from grader.selfcheck import check_descriptions
from grader.selfcheck.check_descriptions import CheckInfo

MARKS = {"passed": "PASS", "skipped": "SKIP"}
HIDDEN_NOTE = (
    "These are the public checks only, a small sample. Your grade comes from the hidden "
    "tests, which use other inputs and more cases."
)


def _points(value: float) -> str:
    return f"{value:g}"


def result_line(result: SubmissionResult) -> str:
    """One line per graded submission, for batch runs. The path and the message may carry
    what a student chose (a file name, a notebook field): one line, with no control
    character that could rewrite the terminal (``safe_text.line``)."""
    path, status = safe_text.line(result.submission), safe_text.line(result.status, 40)
    message = safe_text.line(result.message, 1000)
    line = f"{path}: {_points(result.score)}/{_points(result.max_score)} [{status}]"
    return f"{line} {message}" if message else line


def graded_line(student: str, result: SubmissionResult, reused: bool = False) -> str:
    """A batch line naming the student; ``reused``: the gradebook had it already."""
    line = f"{safe_text.line(student)}: {result_line(result)}"
    return f"{line} (unchanged since last graded: from the gradebook)" if reused else line


def batch_summary(results: list[SubmissionResult]) -> str:
    statuses = Counter(result.status for result in results)
    parts = ", ".join(f"{count} {status}" for status, count in sorted(statuses.items()))
    return f"{len(results)} submission(s): {parts}"


def check_table(result: SubmissionResult, checks: Mapping[str, CheckInfo] | None = None) -> str:
    """The self-check report a student reads: each check, the function it is about, and for
    a failing one what was expected, what came back, and a hint.

    ``checks`` (from ``check_descriptions.describe``) names the functions; without it the
    table still gives expected vs. got and a hint, naming what the message names.
    """
    infos = [check_descriptions.lookup(checks or {}, test.name) for test in result.tests]
    names = [blamed(info, test) for info, test in zip(infos, result.tests, strict=True)]
    width = max((len(test.name) for test in result.tests), default=0)
    lines = [f"Public checks for {result.assignment}: {result.submission}"]
    if result.status != "graded":
        lines.append(f"  could not check: {result.status}: {result.message}")
    lines += [f"  note: {note}" for note in result.notes]
    for test, info, about in zip(result.tests, infos, names, strict=True):
        lines += _check_lines(test, info, about, width)
    lines.append(_tally(result, names))
    lines.append(HIDDEN_NOTE)
    return "\n".join(lines)


def _check_lines(test: TestResult, info: CheckInfo, names: tuple[str, ...], width: int) -> list[str]:
    """A check's row and, when it did not pass, its message and a hint below it."""
    mark = MARKS.get(test.outcome, "FAIL")
    row = f"  {mark}  {test.name:<{width}}  {', '.join(names)}".rstrip()
    if test.outcome in MARKS:
        return [row]
    lines = [row]
    if test.message:
        lines.append(textwrap.indent(test.message.strip(), "        "))
    hint = hint_for(test, info, names)
    return lines + ([f"        hint: {hint}"] if hint else [])


def _tally(result: SubmissionResult, about: list[tuple[str, ...]]) -> str:
    passed = sum(test.outcome == "passed" for test in result.tests)
    line = f"{passed} of {len(result.tests)} public checks passed."
    failing = [
        name
        for test, names in zip(result.tests, about, strict=True)
        if test.outcome not in MARKS
        for name in names
    ]
    return f"{line} Still to fix: {', '.join(dict.fromkeys(failing))}." if failing else line


def blamed(info: CheckInfo, test: TestResult) -> tuple[str, ...]:
    """The function a result is about: the one its message starts with, else every one
    the check calls (a message such as "dW of layer 1: ..." names none of them)."""
    first = _LEADING_NAME.match(_own(test.message))
    if first and first.group(1) in info.functions:
        return (first.group(1),)
    return info.functions


def hint_for(test: TestResult, info: CheckInfo, names: tuple[str, ...] = ()) -> str:
    """What to try next. The outcome decides when it says it all (a stub, a missing name,
    a loop); for a wrong value the check's own docstring, where it has one, knows best."""
    function = ", ".join(names) or _leading_name(test.message) or "your function"
    if test.outcome == "error" and test.message.startswith(HARNESS_MESSAGE):
        return outcome_hint(test.outcome, function, test.message)
    if test.outcome in ("failed", "error") and info.hint:
        return info.hint
    if test.outcome == "failed" and " raised " in _own(test.message).split("\n")[0]:
        return f"{function} raised an exception: the lines above show where in your code."
    return outcome_hint(test.outcome, function)


def _own(message: str) -> str:
    """The check's own message, without the misconception paragraph that may lead it."""
    return misconception_text.split(message)[1]


def _leading_name(message: str) -> str:
    """The name a message starts with, unless it is an exception's ("ValueError: ...")."""
    match = _LEADING_NAME.match(_own(message))
    name = match.group(1) if match else ""
    return "" if name.endswith(("Error", "Exception")) else name


# "sign([-2.5, 0, 3]): ...", "SGD: the submission does not define ...", "sigmoid did not return ..."
_LEADING_NAME = re.compile(r"([A-Za-z_]\w*)(?=\(|:| is not | raised | did not | returned )")
OUTCOME_HINTS = {
    "not_implemented": "replace `raise NotImplementedError()` in {function} with your code and run the cell.",
    "missing": "define {function} with exactly this name (names are case-sensitive) in a code cell.",
    "timeout": "{function} did not finish in time: look for a loop that never ends.",
    "crashed": "{function} ended its Python process (exit(), os._exit, a crash, running out of "
    "memory): return a value instead.",
    "error": "the check could not use what {function} returned: compare its type, number of "
    "values and shape with the handout.",
    "failed": "work the example in the message by hand and compare each step with {function}.",
    "skipped": "this test did not run: the submission's status above says why.",
    "harness": "nothing in your code is at fault: dlgrade itself could not run this check. Run it "
    "again, and tell your instructor if it happens again.",
}
"""What to try next, by outcome: the one table, for the terminal (``check``, ``ci``) and
the feedback pages (``reports/feedback.py``)."""


HARNESS_MESSAGE = "dlgrade could not"
"""How an ``error`` that is dlgrade's own failure, not the student's, begins (``plugin.py``)."""


def outcome_hint(outcome: str, function: str = "your function", message: str = "") -> str:
    """The hint for ``outcome`` (``""`` for none), naming ``function``. An ``error`` whose
    ``message`` says dlgrade could not run the test gets the hint that blames no one's code."""
    if outcome == "error" and message.startswith(HARNESS_MESSAGE):
        outcome = "harness"
    return OUTCOME_HINTS.get(outcome, "").format(function=function)


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
