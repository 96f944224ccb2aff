"""Grade files each LMS imports as they are, from the class report and the roster.

    canvas.csv   Canvas: Gradebook > Import. Student, ID, SIS User ID, SIS Login ID, Section,
                 then one column per assignment and "Bonus"; a "Points Possible" row first,
                 as Canvas's own export has. Canvas finds each student by ID (its user id),
                 else SIS User ID, else SIS Login ID; a new column becomes a new assignment.
    moodle.csv   Moodle: Grades > Import > CSV file. Email address, ID number, Full name,
                 then one column per assignment and "Bonus". "Identify user by" maps
                 Email address to Email address; each grade column maps to a grade item.

Each file is written only when every roster student has what its LMS matches on
(a Canvas id, SIS id or login; an email): a row the LMS cannot match would be dropped
by it without a word, so a missing id is an error naming the students instead.
"""

from __future__ import annotations

from grader.course.roster import Roster
from reports.bonus import number
from reports.classbook import ClassReport
from reports.errors import ReportError

Row = dict[str, str]

CANVAS_IDENTITY = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_IDENTITY = ["Email address", "ID number", "Full name"]
BONUS = "Bonus"


def grade_columns(report: ClassReport) -> list[str]:
    return [*report.assignments, BONUS]


def grades(report: ClassReport) -> dict[str, Row]:
    """Each student's points per assignment (after late deduction and overrides) and bonus."""
    return {
        s.student: {
            **{line.assignment: number(line.points) for line in s.breakdown.lines},
            BONUS: number(s.bonus),
        }
        for s in report.students
    }


def canvas_columns(report: ClassReport) -> list[str]:
    return [*CANVAS_IDENTITY, *grade_columns(report)]


def canvas_rows(report: ClassReport, roster: Roster) -> list[Row]:
    """The Points Possible row, then one row per student, identified as Canvas's export does."""
    _require(
        report, roster, lambda s: s.canvas_id or s.sis_id or s.login, "canvas_id, sis_id or login", "Canvas"
    )
    possible = {a: number(report.max_points[a]) for a in report.assignments}
    rows = [{"Student": "Points Possible", **possible, BONUS: number(report.policy.bonus_max)}]
    for student, points in grades(report).items():
        known = roster.get(student)
        rows.append(
            {
                "Student": known.name,
                "ID": known.canvas_id,
                "SIS User ID": known.sis_id,
                "SIS Login ID": known.login,
                "Section": known.section,
                **points,
            }
        )
    return rows


def moodle_columns(report: ClassReport) -> list[str]:
    return [*MOODLE_IDENTITY, *grade_columns(report)]


def moodle_rows(report: ClassReport, roster: Roster) -> list[Row]:
    """One row per student, identified by email (Moodle's "Identify user by")."""
    _require(report, roster, lambda s: s.email, "email", "Moodle")
    return [
        {
            "Email address": roster.get(student).email,
            "ID number": roster.get(student).sis_id,
            "Full name": roster.get(student).name,
            **points,
        }
        for student, points in grades(report).items()
    ]


def has_ids(roster: Roster, column: str) -> bool:
    """Whether the roster carries this LMS's ids at all (a course on Moodle has no Canvas ids)."""
    return any(getattr(s, column) for s in roster.students.values())


def _require(report: ClassReport, roster: Roster, has, columns: str, lms: str) -> None:
    missing = [s.student for s in report.students if not has(roster.get(s.student))]
    if missing:
        raise ReportError(
            f"{roster.source}: no {columns} for {', '.join(missing)}: {lms} could not "
            "match their rows (fill them in from the LMS's own export)"
        )
