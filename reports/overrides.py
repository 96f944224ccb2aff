"""Overrides: the instructor's decisions about single students, each with a reason.

They live in ``overrides.toml`` beside ``course.toml``, a file the instructor edits:

    [[extension]]               # a later deadline for one student or one team
    student = "alice"           # or: team = "ravens"
    assignment = "a1"
    deadline = 2026-11-08T23:59:00+01:00
    reason = "medical certificate of 2026-11-05"

    [[adjustment]]              # points added (negative: taken) after the late deduction
    student = "bob"
    assignment = "a2"
    points = 2
    reason = "regrade: test_momentum's tolerance was too strict"

    [[zero]]                    # the assignment counts 0 points (plagiarism)
    team = "owls"
    assignment = "a1"
    reason = "plagiarism: the same notebook as team ravens (course rules, section 4)"

Every entry needs a reason: it is shown on the student's page beside the number it
changes, in ``breakdown.csv``, and in the report's audit log (``overrides.csv``).
Students, teams and assignments are checked against the roster and the course file.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

from grader.course.course_file import CoursePolicy
from grader.course.roster import Roster
from reports.errors import ReportError

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

FILENAME = "overrides.toml"
KINDS = ("extension", "adjustment", "zero")
VALUE_KEY = {"extension": "deadline", "adjustment": "points", "zero": None}


@dataclass(frozen=True)
class Override:
    """One decision: ``kind`` for ``assignment`` of ``students`` (a team's members, or one student)."""

    kind: str
    assignment: str
    students: tuple[str, ...]
    who: str
    """As the file names it: "alice" or "team ravens"."""
    reason: str
    deadline: datetime | None = None
    points: Fraction = Fraction(0)

    def note(self) -> str:
        """What the student reads beside the number it changes."""
        if self.kind == "extension" and self.deadline is not None:
            return f"extension to {self.deadline.isoformat(sep=' ')} ({self.who}): {self.reason}"
        if self.kind == "adjustment":
            sign = "+" if self.points >= 0 else "-"
            return f"{sign}{float(abs(self.points)):g} points by the instructor: {self.reason}"
        return f"0 points by the instructor: {self.reason}"


@dataclass(frozen=True)
class Overrides:
    entries: tuple[Override, ...] = ()

    def of(self, student: str, assignment: str) -> list[Override]:
        return [o for o in self.entries if o.assignment == assignment and student in o.students]

    def deadline(self, student: str, assignment: str, default: datetime | None) -> datetime | None:
        """The student's deadline: the latest extension's, else the course's."""
        extended = [o.deadline for o in self.of(student, assignment) if o.kind == "extension" and o.deadline]
        return max(extended) if extended else default


def load(
    course_root: str | Path, policy: CoursePolicy, roster: Roster | None, assignments: Iterable[str]
) -> Overrides:
    """The course's overrides.toml, checked; no file: no overrides."""
    path = Path(course_root) / FILENAME
    if not path.is_file():
        return Overrides()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ReportError(f"{path}: not valid TOML: {exc}") from None
    return parse(data, policy, roster, tuple(assignments), where=str(path))


def parse(
    data: dict[str, Any],
    policy: CoursePolicy,
    roster: Roster | None,
    assignments: tuple[str, ...],
    where: str = FILENAME,
) -> Overrides:
    unknown = sorted(set(data) - set(KINDS))
    if unknown:
        allowed = ", ".join(f"[[{kind}]]" for kind in KINDS)
        raise ReportError(f"{where}: unknown table(s) {', '.join(unknown)}; allowed: {allowed}")
    entries = []
    for kind in KINDS:
        tables = data.get(kind, [])
        if not isinstance(tables, list):
            raise ReportError(f"{where}: write each {kind} as [[{kind}]]")
        for number, table in enumerate(tables, start=1):
            entries.append(_entry(kind, table, policy, roster, assignments, f"{where}: {kind} {number}"))
    return Overrides(tuple(entries))


def _entry(
    kind: str,
    table: Any,
    policy: CoursePolicy,
    roster: Roster | None,
    assignments: tuple[str, ...],
    where: str,
) -> Override:
    if not isinstance(table, dict):
        raise ReportError(f"{where}: must be a table")
    value_key = VALUE_KEY[kind]
    allowed = {"student", "team", "assignment", "reason"} | ({value_key} if value_key is not None else set())
    extra = sorted(set(table) - allowed)
    if extra:
        raise ReportError(
            f"{where}: unknown key(s) {', '.join(extra)}; allowed: {', '.join(sorted(allowed))}"
        )
    students, who = _students(table, policy, roster, where)
    assignment = table.get("assignment")
    if assignment not in assignments:
        raise ReportError(f"{where}: assignment {assignment!r} is not one of {', '.join(assignments)}")
    reason = table.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ReportError(f"{where}: every override needs a reason (it is shown to the student)")
    return Override(kind, assignment, students, who, reason.strip(), **_value(kind, table, where))


def _students(
    table: dict, policy: CoursePolicy, roster: Roster | None, where: str
) -> tuple[tuple[str, ...], str]:
    if ("student" in table) == ("team" in table):
        raise ReportError(f"{where}: name either a student or a team")
    if "team" in table:
        team = table["team"]
        if team not in policy.teams:
            raise ReportError(
                f"{where}: no team {team!r} in the course file (teams: {', '.join(policy.teams) or 'none'})"
            )
        return policy.teams[team], f"team {team}"
    student = table["student"]
    if not isinstance(student, str):
        raise ReportError(f"{where}: student must be a roster id")
    if roster is not None:
        roster.check([student], where)
    return (student,), student


def _value(kind: str, table: dict, where: str) -> dict:
    if kind == "extension":
        deadline = table.get("deadline")
        if not isinstance(deadline, datetime) or deadline.tzinfo is None:
            raise ReportError(
                f"{where}: deadline must be a date and time with a time zone, e.g. 2026-11-08T23:59:00+01:00"
            )
        return {"deadline": deadline}
    if kind == "adjustment":
        points = table.get("points")
        if isinstance(points, bool) or not isinstance(points, int | float):
            raise ReportError(f"{where}: points must be a number (negative to take points)")
        return {"points": Fraction(str(points))}
    return {}
