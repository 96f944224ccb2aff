"""The final exam: a CSV ``student,exam`` read and checked, then exam + bonus against the pass mark.

A student with a bonus but no exam row is "no exam", never "fail": absence is for
the instructor to decide, not for a report to guess. Whether the bonus counts towards
the pass mark is the course file's ``bonus_counts_for_pass``; the sum is exact.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from grader.course.course_file import CoursePolicy
from reports.bonus import Number, exact
from reports.errors import ReportError

COLUMNS = ("student", "exam")


@dataclass(frozen=True)
class Final:
    """A student's final score: exam points plus the bonus, and whether it passes."""

    exam: Fraction | None
    bonus: Fraction
    pass_mark: Fraction
    bonus_counts_for_pass: bool = True

    @property
    def total(self) -> Fraction | None:
        return None if self.exam is None else self.exam + self.bonus

    @property
    def result(self) -> str:
        if self.exam is None or self.total is None:
            return "no exam"
        counted = self.total if self.bonus_counts_for_pass else self.exam
        return "pass" if counted >= self.pass_mark else "fail"


def final(exam: Number | None, bonus: Number, policy: CoursePolicy) -> Final:
    return Final(
        None if exam is None else exact(exam),
        exact(bonus),
        exact(policy.pass_mark),
        policy.bonus_counts_for_pass,
    )


def read_exam(path: str | Path, policy: CoursePolicy) -> dict[str, Fraction | None]:
    """Exam points by student id; every row is checked so a typo cannot turn into a fail.

    An empty cell is None: the student is listed, with "no exam".
    """
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:  # -sig: spreadsheets' BOM
            rows = list(csv.DictReader(handle))
            header = tuple(rows[0]) if rows else ()
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ReportError(f"{path}: cannot read the exam file: {exc}") from None
    if rows and not set(COLUMNS) <= set(header):
        raise ReportError(f"{path}: the header must name the columns {', '.join(COLUMNS)}")
    points: dict[str, Fraction | None] = {}
    for line, row in enumerate(rows, start=2):  # line 1 is the header
        student = (row.get("student") or "").strip()
        if not student:
            raise ReportError(f"{path}:{line}: no student id")
        if student in points:
            raise ReportError(f"{path}:{line}: {student} has a second row")
        points[student] = _exam_points(row.get("exam") or "", policy.exam_max, f"{path}:{line}")
    return points


def _exam_points(text: str, exam_max: float, where: str) -> Fraction | None:
    if not text.strip():
        return None
    try:
        value = Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        raise ReportError(f"{where}: exam points {text!r} are not a number") from None
    if not 0 <= value <= exam_max:
        raise ReportError(f"{where}: exam points {text.strip()} are not between 0 and {exam_max:g}")
    return value
