"""CSV tables: the gradebook an LMS imports, the bonus breakdown, per-test outcomes, final scores.

    gradebook.csv   id, name, team, <assignment>... (points after late deduction), bonus
    breakdown.csv   one row per student and assignment: every number behind the bonus
    tests.csv       one row per student, one column per hidden test ("a1:test_x"): its outcome
    final.csv       id, name, exam, bonus, final, result (only with an exam file)

Rows are lists of dicts keyed by column, so tests read them without a CSV parser.
"""

from __future__ import annotations

import csv
from pathlib import Path

from reports.bonus import number, number_down
from reports.classbook import ClassReport, StudentReport

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A text cell starting with one of these is a formula to a spreadsheet: it gets a leading quote."""


Row = dict[str, str]


def gradebook_columns(report: ClassReport) -> list[str]:
    return ["id", "name", "team", *report.assignments, "bonus"]


def gradebook_rows(report: ClassReport) -> list[Row]:
    """One row per student, for an LMS import: points per assignment and the bonus."""
    return [
        {
            "id": s.student,
            "name": s.name,
            "team": s.team,
            **{line.assignment: number(line.points) for line in s.breakdown.lines},
            "bonus": number(s.bonus),
        }
        for s in report.students
    ]


BREAKDOWN_COLUMNS = [
    "id",
    "team",
    "assignment",
    "counted_from",
    "submitted_at",
    "raw_points",
    "days_late",
    "deduction",
    "points",
    "max_points",
    "fraction",
    "weight",
    "contribution",
    "bonus",
    "notes",
]


def breakdown_rows(report: ClassReport) -> list[Row]:
    """Every number behind each bonus: the contributions of a student add up to the unrounded bonus."""
    return [row for student in report.students for row in _breakdown(student)]


def _breakdown(student: StudentReport) -> list[Row]:
    breakdown = student.breakdown
    scale = breakdown.bonus_max / breakdown.total_weight if breakdown.total_weight > 0 else 0.0
    return [
        {
            "id": student.student,
            "team": student.team,
            "assignment": line.assignment,
            "counted_from": line.counted_from,
            "submitted_at": line.submitted_at,
            "raw_points": number(line.raw),
            "days_late": str(line.lateness.days),
            "deduction": number(line.deduction),
            "points": number(line.points),
            "max_points": number(line.max_points),
            "fraction": number(line.fraction),
            "weight": number(line.weight),
            "contribution": number(line.weight * line.fraction * scale),
            "bonus": number(breakdown.bonus),
            "notes": "; ".join(line.notes),
        }
        for line in breakdown.lines
    ]


def outcome_columns(report: ClassReport) -> list[str]:
    """``assignment:test`` for every hidden test seen, in the suites' order."""
    columns: dict[str, None] = {}
    for assignment in report.assignments:
        for attempt in report.counted_attempts(assignment):
            for test in attempt.result.tests:
                columns.setdefault(f"{assignment}:{test.name}")
    return ["id", "team", *columns]


def outcome_rows(report: ClassReport) -> list[Row]:
    """Each student's outcome per hidden test (their team's counted submission); empty: none."""
    rows = []
    for student in report.students:
        row = {"id": student.student, "team": student.team}
        for assignment, attempt in student.attempts.items():
            for test in attempt.result.tests if attempt else ():
                row[f"{assignment}:{test.name}"] = test.outcome
        rows.append(row)
    return rows


OVERRIDE_COLUMNS = ["id", "assignment", "kind", "by", "deadline", "points_added", "reason", "points"]


def override_rows(report: ClassReport) -> list[Row]:
    """The audit log: every override, once per student it concerns, with the points that now count."""
    points = {
        (s.student, line.assignment): number(line.points)
        for s in report.students
        for line in s.breakdown.lines
    }
    return [
        {
            "id": student,
            "assignment": o.assignment,
            "kind": o.kind,
            "by": o.who,
            "deadline": o.deadline.isoformat() if o.deadline else "",
            "points_added": number(o.points) if o.kind == "adjustment" else "",
            "reason": o.reason,
            "points": points.get((student, o.assignment), ""),
        }
        for o in report.overrides.entries
        for student in o.students
    ]


FINAL_COLUMNS = ["id", "name", "exam", "bonus", "final", "result"]


def final_rows(report: ClassReport) -> list[Row]:
    """Exam + bonus against the pass mark; a student without exam points is "no exam"."""
    rows = []
    for student in report.students:
        final = student.final
        if final is None:
            continue
        rows.append(
            {
                "id": student.student,
                "name": student.name,
                "exam": "" if final.exam is None else number(final.exam),
                "bonus": number(final.bonus),
                "final": "" if final.total is None else number_down(final.total),
                "result": final.result,
            }
        )
    return rows


def write_csv(path: Path, columns: list[str], rows: list[Row], *, bom: bool = False) -> Path:
    """UTF-8 CSV; ``bom``: with a byte-order mark, which Excel needs to read it as UTF-8."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8-sig" if bom else "utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows({key: safe_cell(value) for key, value in row.items()} for row in rows)
    return path


def safe_cell(value: str) -> str:
    """Text a spreadsheet would run as a formula gets a leading quote; numbers stay numbers."""
    if value.startswith(FORMULA_STARTS) and not _is_number(value):
        return "'" + value
    return value


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True
