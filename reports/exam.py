"""The final exam: a CSV ``student,exam`` read and checked, then exam + bonus against the pass mark.

A student with a bonus but no exam row is "no exam", never "fail": absence is for
the instructor to decide, not for a report to guess.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from grader.course_file import CoursePolicy
from reports.bonus import DIGITS
from reports.errors import ReportError

COLUMNS = ("student", "exam")


@dataclass(frozen=True)
class Final:
    """A student's final score: exam points plus the bonus, and whether it passes."""

    exam: float | None
    bonus: float
    pass_mark: float

    @property
    def total(self) -> float | None:
        return None if self.exam is None else round(self.exam + self.bonus, DIGITS)

    @property
    def result(self) -> str:
        if self.total is None:
            return "no exam"
        return "pass" if self.total >= self.pass_mark else "fail"


def final(exam: float | None, bonus: float, policy: CoursePolicy) -> Final:
    return Final(exam, bonus, policy.pass_mark)


def read_exam(path: str | Path, policy: CoursePolicy) -> dict[str, float | None]:
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
    points: dict[str, float | None] = {}
    for line, row in enumerate(rows, start=2):  # line 1 is the header
        student = (row.get("student") or "").strip()
        if not student:
            raise ReportError(f"{path}:{line}: no student id")
        if student in points:
            raise ReportError(f"{path}:{line}: {student} has a second row")
        points[student] = _exam_points(row.get("exam") or "", policy.exam_max, f"{path}:{line}")
    return points


def _exam_points(text: str, exam_max: float, where: str) -> float | None:
    if not text.strip():
        return None
    try:
        value = float(text.strip())
    except ValueError:
        raise ReportError(f"{where}: exam points {text!r} are not a number") from None
    if not 0 <= value <= exam_max:
        raise ReportError(f"{where}: exam points {value:g} are not between 0 and {exam_max:g}")
    return value
