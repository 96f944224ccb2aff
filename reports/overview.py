"""What an instructor reads at a glance: per-assignment summaries, item analysis, misconceptions
across the class, and problems.

Item analysis is over the counted submissions, each once: a team's submission is
one data point, not one per member, so a pass rate says how many *submissions*
got a hidden test right.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from fractions import Fraction

from grader.misconception_text import key_of
from reports.classbook import ClassReport
from reports.feedback import MESSAGE_CHARS, cap

TROUBLE = ("timeout", "crashed", "error")
"""Test outcomes that mean a submission misbehaved (or the suite did), not just a wrong answer."""


@dataclass(frozen=True)
class Item:
    """One hidden test across the class: how many counted submissions passed it."""

    assignment: str
    name: str
    max_points: float
    passed: int
    total: int

    @property
    def rate(self) -> float:
        return self.passed / self.total if self.total else 0.0


@dataclass(frozen=True)
class Problem:
    """A submission that errored or timed out, as a whole or in some tests."""

    student: str
    assignment: str
    status: str
    message: str
    trouble: dict[str, int]
    """How many tests ended in each of TROUBLE's outcomes."""


@dataclass(frozen=True)
class Summary:
    assignment: str
    max_points: float
    submissions: int
    mean: float
    median: float | Fraction
    """Of every student's points (0 without a submission), after late deductions."""


def item_analysis(report: ClassReport, assignment: str) -> list[Item]:
    """Pass rate of every hidden test of ``assignment``, hardest (lowest rate) first; ties in
    the suite's order."""
    items: dict[str, list] = {}
    for attempt in report.counted_attempts(assignment):
        for test in attempt.result.tests:
            entry = items.setdefault(test.name, [test.max_points, 0, 0])
            entry[1] += test.outcome == "passed"
            entry[2] += 1
    found = [Item(assignment, name, points, passed, total) for name, (points, passed, total) in items.items()]
    return sorted(found, key=lambda item: item.rate)  # sorted() is stable: ties keep the suite's order


@dataclass(frozen=True)
class MisconceptionCount:
    """One catalogued misconception across the class: how many counted submissions showed it."""

    assignment: str
    id: str
    title: str
    submissions: int
    total: int

    @property
    def rate(self) -> float:
        return self.submissions / self.total if self.total else 0.0


def misconception_counts(report: ClassReport, assignment: str) -> list[MisconceptionCount]:
    """The misconceptions named in failed tests of ``assignment`` (``grader/testing/misconceptions.py``),
    each counted once per counted submission, most frequent first: what to re-teach."""
    attempts = report.counted_attempts(assignment)
    seen: dict[str, tuple[str, set[int]]] = {}
    for number, attempt in enumerate(attempts):
        for test in attempt.result.tests:
            found = key_of(test.message) if test.outcome == "failed" else None
            if found:
                seen.setdefault(found[0], (found[1], set()))[1].add(number)
    counts = [
        MisconceptionCount(assignment, key, title, len(who), len(attempts))
        for key, (title, who) in seen.items()
    ]
    return sorted(counts, key=lambda c: (-c.submissions, c.id))


def problems(report: ClassReport) -> list[Problem]:
    """Counted submissions that were not graded to the end, or had tests time out, crash or error."""
    found = []
    for assignment in report.assignments:
        for attempt in report.counted_attempts(assignment):
            result = attempt.result
            trouble = {o: sum(t.outcome == o for t in result.tests) for o in TROUBLE}
            trouble = {o: n for o, n in trouble.items() if n}
            if result.status != "graded" or trouble:
                found.append(
                    Problem(
                        attempt.student,
                        assignment,
                        result.status,
                        cap(result.message, MESSAGE_CHARS),
                        trouble,
                    )
                )
    return found


def summaries(report: ClassReport) -> list[Summary]:
    out = []
    for assignment in report.assignments:
        points = [s.breakdown.line(assignment).points for s in report.students]
        mean, median = (statistics.fmean(points), statistics.median(points)) if points else (0.0, 0.0)
        submissions = len(report.counted_attempts(assignment))
        out.append(Summary(assignment, report.max_points[assignment], submissions, mean, median))
    return out


def without_submission(report: ClassReport) -> list[str]:
    """Students whose team handed in nothing at all."""
    return [s.student for s in report.students if all(a is None for a in s.attempts.values())]
