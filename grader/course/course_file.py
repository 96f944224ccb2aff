"""The course file: one TOML file that holds the course's policy, read by grading and reports.

It lives in the course folder as ``course.toml`` (hidden from every sandbox, like the
suites). Every section is optional (an empty file is refused); what is left out takes the default below.

    [course]
    name = "Deep Learning 2026"
    bonus_max = 10          # assignment points are scaled to this many bonus points
    rounding = 0.5          # the bonus is rounded half up to a multiple of this (0: no rounding)
    exam_max = 100          # the final exam is scored out of this ...
    pass_mark = 50          # ... and passed with this many points ...
    bonus_counts_for_pass = true   # ... bonus included (false: the exam alone must reach it)

    [assignments.a1]
    weight = 1.0            # share of the bonus, relative to the other assignments' weights
    deadline = 2026-11-01T23:59:00+01:00
    max_points = 23         # optional: else the suite's own total

    [late]
    per_day = 0.1           # fraction of the assignment's points lost per started day late
    cutoff_days = 5         # later than this: 0 points

    [visibility]
    default = "messages"    # what students see of hidden tests: "messages", "points" or "nothing"
    a5 = "points"           # per assignment

    [teams]                 # teams of up to 3 share a score; a student is in at most one team
    ravens = ["alice", "bob", "carol"]

    [students]              # optional display names, by student id
    alice = "Alice Smith"

    [release]               # what `dlgrade release` writes into the student bundle
    url = "git+https://github.com/dl-2026/handout-{assignment}"
                            # where the notebook's first cell installs the student package
                            # from (pip's syntax: a git+ URL, a wheel's or an archive's URL);
                            # {assignment} becomes the assignment's id

A student in no team is a team of one, named by their id.

The course rules bound what a file may say: the bonus is at most a tenth of the
exam's points (10 of 100), the pass mark lies within the exam's points, some
assignment has a weight, and only assignments that have a hidden suite are weighted.
A course folder without the file is an error (``dlgrade init`` writes one).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from grader.errors import DlgradeError

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, from the package index
    import tomli as tomllib

FILENAME = "course.toml"
BONUS_SHARE = 0.1
"""The course rules: the bonus is at most this share of the exam's points."""
MAX_TEAM_SIZE = 3
VISIBILITY = ("messages", "points", "nothing")


class CourseFileError(DlgradeError):
    """The course file is missing a value it needs, or holds one that makes no sense."""


@dataclass(frozen=True)
class AssignmentPolicy:
    """How one assignment counts towards the bonus."""

    weight: float = 1.0
    deadline: datetime | None = None
    max_points: float | None = None


@dataclass(frozen=True)
class LatePolicy:
    """Points lost for lateness: ``per_day`` of the points per started day, 0 after the cutoff."""

    per_day: float = 0.0
    cutoff_days: float | None = None


@dataclass(frozen=True)
class CoursePolicy:
    name: str = ""
    bonus_max: float = 10.0
    rounding: float = 0.5
    exam_max: float = 100.0
    pass_mark: float = 50.0
    bonus_counts_for_pass: bool = True
    assignments: dict[str, AssignmentPolicy] = field(default_factory=dict)
    late: LatePolicy = LatePolicy()
    visibility: dict[str, str] = field(default_factory=dict)
    default_visibility: str = "messages"
    teams: dict[str, tuple[str, ...]] = field(default_factory=dict)
    students: dict[str, str] = field(default_factory=dict)
    release_url: str = ""

    def team_of(self, student: str) -> str:
        """The team a student belongs to; a student in no team is a team of one."""
        for team, members in self.teams.items():
            if student in members:
                return team
        return student

    def members(self, team: str) -> tuple[str, ...]:
        """The students of a team (a team of one when ``team`` is a student's id)."""
        return self.teams.get(team, (team,))

    def visibility_of(self, assignment: str) -> str:
        return self.visibility.get(assignment, self.default_visibility)

    def name_of(self, student: str) -> str:
        return self.students.get(student, student)


def load(path: str | Path) -> CoursePolicy:
    """Read and check a course file; a missing one is an error that says how to make one."""
    path = Path(path)
    if not path.is_file():
        raise CourseFileError(
            f"no course file at {path}: run `dlgrade init` in the course folder to write "
            "a commented one, or pass --course DIR"
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CourseFileError(f"{path}: not valid TOML: {exc}") from None
    if not data:
        raise CourseFileError(
            f"{path} is empty: run `dlgrade init` in another folder to see a commented "
            "one, or write at least its [course] table"
        )
    try:
        return parse(data)
    except CourseFileError as exc:
        raise CourseFileError(f"{path}: {exc}") from None


def load_course(root: str | Path, *, missing_ok: bool = False) -> CoursePolicy:
    """The policy of the course in folder ``root`` (its ``course.toml``), checked against the
    course's hidden suites: a weight for an assignment without one is a typo.

    ``missing_ok``: no file is the default policy, for the commands that need none of its
    numbers (release, similarity); reports always need one.
    """
    if missing_ok and not (Path(root) / FILENAME).is_file():
        return CoursePolicy()
    policy = load(Path(root) / FILENAME)
    known = suite_names(root)
    unknown = sorted(set(policy.assignments) - set(known))
    if known and unknown:
        raise CourseFileError(
            f"{Path(root) / FILENAME}: [assignments] {', '.join(unknown)}: "
            f"no such assignment (the course's suites are {', '.join(known)})"
        )
    return policy


def suite_names(root: str | Path) -> list[str]:
    """The assignments of the course in ``root``: its hidden suites' folders."""
    suites = Path(root) / "suites"
    return sorted(p.name for p in suites.iterdir() if p.is_dir()) if suites.is_dir() else []


def parse(data: dict[str, Any]) -> CoursePolicy:
    """A policy from the TOML file's tables; every value is checked."""
    _only(data, {"course", "assignments", "late", "visibility", "teams", "students", "release"}, "the file")
    course = _table(data, "course")
    _only(
        course,
        {"name", "bonus_max", "rounding", "exam_max", "pass_mark", "bonus_counts_for_pass"},
        "[course]",
    )
    visibility = dict(_table(data, "visibility"))
    default_visibility = visibility.pop("default", "messages")
    for key, value in [("default", default_visibility), *visibility.items()]:
        if value not in VISIBILITY:
            raise CourseFileError(f"[visibility] {key} = {value!r}: must be one of {VISIBILITY}")
    policy = CoursePolicy(
        name=str(course.get("name", "")),
        bonus_max=_number(course, "bonus_max", 10.0, "[course]"),
        rounding=_number(course, "rounding", 0.5, "[course]"),
        exam_max=_number(course, "exam_max", 100.0, "[course]", positive=True),
        pass_mark=_number(course, "pass_mark", 50.0, "[course]", positive=True),
        bonus_counts_for_pass=_flag(course, "bonus_counts_for_pass", True, "[course]"),
        assignments={name: _assignment(name, table) for name, table in _table(data, "assignments").items()},
        late=_late(_table(data, "late")),
        visibility=visibility,
        default_visibility=default_visibility,
        teams=_teams(_table(data, "teams")),
        students={str(k): str(v) for k, v in _table(data, "students").items()},
        release_url=_release_url(_table(data, "release")),
    )
    _check_rules(policy)
    return policy


def _check_rules(policy: CoursePolicy) -> None:
    """What the course rules allow, beyond each value's own type."""
    limit = policy.exam_max * BONUS_SHARE
    if policy.bonus_max > limit:
        raise CourseFileError(
            f"[course] bonus_max = {policy.bonus_max:g}: the course rules allow a bonus "
            f"of at most {BONUS_SHARE:.0%} of the exam's points, {limit:g}"
        )
    if policy.pass_mark > policy.exam_max:
        raise CourseFileError(
            f"[course] pass_mark = {policy.pass_mark:g} is more than the exam's "
            f"{policy.exam_max:g} points: nobody could pass"
        )
    if policy.rounding > policy.bonus_max:
        raise CourseFileError(f"[course] rounding = {policy.rounding:g} is more than bonus_max")
    if policy.assignments and not any(a.weight > 0 for a in policy.assignments.values()):
        raise CourseFileError("[assignments] every weight is 0: no assignment would count towards the bonus")


def _flag(table: dict[str, Any], key: str, default: bool, where: str) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise CourseFileError(f"{where} {key} must be true or false, not {value!r}")
    return value


def _assignment(name: str, table: Any) -> AssignmentPolicy:
    where = f"[assignments.{name}]"
    if not isinstance(table, dict):
        raise CourseFileError(f"{where} must be a table")
    _only(table, {"weight", "deadline", "max_points"}, where)
    deadline = table.get("deadline")
    if deadline is not None and not isinstance(deadline, datetime):
        raise CourseFileError(f"{where} deadline must be a date and time, e.g. 2026-11-01T23:59:00+01:00")
    if isinstance(deadline, datetime) and deadline.tzinfo is None:
        raise CourseFileError(f"{where} deadline needs a time zone, e.g. 2026-11-01T23:59:00+01:00")
    max_points = table.get("max_points")
    return AssignmentPolicy(
        weight=_number(table, "weight", 1.0, where),
        deadline=deadline,
        max_points=None if max_points is None else _number(table, "max_points", 0, where, positive=True),
    )


def _late(table: dict[str, Any]) -> LatePolicy:
    _only(table, {"per_day", "cutoff_days"}, "[late]")
    per_day = _number(table, "per_day", 0.0, "[late]")
    if per_day > 1:
        raise CourseFileError("[late] per_day is a fraction of the points (0.1 = 10% a day), at most 1")
    cutoff = table.get("cutoff_days")
    return LatePolicy(per_day, None if cutoff is None else _number(table, "cutoff_days", 0, "[late]"))


def _release_url(table: dict[str, Any]) -> str:
    _only(table, {"url"}, "[release]")
    url = table.get("url", "")
    if not isinstance(url, str):
        raise CourseFileError(f"[release] url must be a string, not {url!r}")
    return url


def _teams(table: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    teams: dict[str, tuple[str, ...]] = {}
    seen: dict[str, str] = {}
    for team, members in table.items():
        if not isinstance(members, list) or not members or not all(isinstance(m, str) for m in members):
            raise CourseFileError(f"[teams] {team} must be a list of student ids")
        if len(members) > MAX_TEAM_SIZE:
            raise CourseFileError(f"[teams] {team} has {len(members)} members; at most {MAX_TEAM_SIZE}")
        for member in members:
            if member in seen:
                raise CourseFileError(f"[teams] {member} is in both {seen[member]} and {team}")
            seen[member] = team
        teams[team] = tuple(members)
    return teams


def _table(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise CourseFileError(f"[{key}] must be a table")
    return value


def _only(table: dict[str, Any], allowed: set[str], where: str) -> None:
    """Unknown keys are typos until proven otherwise: a silent default would hide them."""
    unknown = sorted(set(table) - allowed)
    if unknown:
        allowed_keys = ", ".join(sorted(allowed))
        raise CourseFileError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {allowed_keys}")


def _number(table: dict[str, Any], key: str, default: float, where: str, positive: bool = False) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise CourseFileError(f"{where} {key} must be a number >= 0, not {value!r}")
    if positive and value == 0:
        raise CourseFileError(f"{where} {key} must be more than 0")
    return float(value)
