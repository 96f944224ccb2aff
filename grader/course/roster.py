"""The roster: the course's students, against which every other input is checked.

It is ``students.csv`` beside ``course.toml`` (UTF-8, a spreadsheet's byte-order mark
is fine), one row per student:

    id,name,email,sis_id,login,canvas_id,section
    alice,Alice Smith,alice@uni.example,S1001,asmith,4711,A
    bob,Bob Jones,bob@uni.example,S1002,bjones,4712,B

``id`` and ``name`` are required; the other columns may be left out or empty.
``canvas_id`` is Canvas's user id (the number in a Canvas download's file names),
``sis_id`` and ``login`` what Canvas calls SIS User ID and SIS Login ID, ``email``
what Moodle matches on. A course without the file may list its students in
``course.toml``'s ``[students]`` table (``id = "Name"``) instead.

A name that is not on the roster (in a team, the exam file, the overrides, a
submission's file name) is an error that lists it with the closest roster
entries: a typo must never make a phantom student or cut a real one's bonus.
"""

from __future__ import annotations

import csv
import difflib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from grader.errors import DlgradeError

FILENAME = "students.csv"
COLUMNS = ("id", "name", "email", "sis_id", "login", "canvas_id", "section")
REQUIRED = ("id", "name")


class RosterError(DlgradeError):
    """A name is not on the roster, or the roster itself cannot be read."""


@dataclass(frozen=True)
class Student:
    """One row of the roster."""

    id: str
    name: str
    email: str = ""
    sis_id: str = ""
    login: str = ""
    canvas_id: str = ""
    section: str = ""


@dataclass(frozen=True)
class Roster:
    """The students of a course, by id, in the roster's order."""

    students: dict[str, Student]
    source: str = FILENAME

    def __contains__(self, student: object) -> bool:
        return student in self.students

    def ids(self) -> list[str]:
        return list(self.students)

    def name_of(self, student: str) -> str:
        known = self.students.get(student)
        return known.name if known else student

    def get(self, student: str) -> Student:
        return self.students.get(student) or Student(student, student)

    def by_canvas_id(self, user_id: str) -> Student | None:
        return next((s for s in self.students.values() if s.canvas_id and s.canvas_id == user_id), None)

    def by_email(self, email: str) -> Student | None:
        wanted = email.strip().casefold()
        return next((s for s in self.students.values() if s.email and s.email.casefold() == wanted), None)

    def by_name(self, name: str) -> list[Student]:
        """Every student with this full name (compared without case, accents' forms or extra spaces)."""
        wanted = _plain(name)
        return [s for s in self.students.values() if _plain(s.name) == wanted]

    def check(self, names: Iterable[str], where: str) -> None:
        """Raise a RosterError naming every one of ``names`` not on the roster, with the closest."""
        unknown = sorted({name for name in names if name not in self.students})
        if unknown:
            raise RosterError(
                f"{where}: not on the roster ({self.source}): "
                + "; ".join(self.unknown(name) for name in unknown)
            )

    def unknown(self, name: str) -> str:
        """``name`` and the roster entries closest to it, for an error message."""
        close = closest(name, self)
        return f"{name!r} (closest: {', '.join(close)})" if close else f"{name!r} (nothing close)"


def closest(name: str, roster: Roster, n: int = 3) -> list[str]:
    """The roster ids closest to ``name``, by id or by full name (difflib's ratio)."""
    by_key = {s.id: s.id for s in roster.students.values()}
    by_key |= {_plain(s.name): s.id for s in roster.students.values()}
    matches = difflib.get_close_matches(_plain(name), list(by_key), n=n * 2, cutoff=0.6)
    ids = list(dict.fromkeys(by_key[m] for m in matches))[:n]
    return [f"{i} ({roster.name_of(i)})" if roster.name_of(i) != i else i for i in ids]


def load(course_root: str | Path, names: dict[str, str] | None = None) -> Roster | None:
    """The roster of the course in ``course_root``: its students.csv, else the course file's
    ``[students]`` table (``names``); None when it has neither."""
    path = Path(course_root) / FILENAME
    if path.is_file():
        if names:
            raise RosterError(
                f"{path} and the course file's [students] both list students: keep one list, students.csv"
            )
        return read(path)
    if names:
        return Roster({i: Student(i, name) for i, name in names.items()}, "course.toml [students]")
    return None


def read(path: str | Path) -> Roster:
    """Read and check a students.csv: the required columns, known columns only, unique ids."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:  # -sig: a spreadsheet's BOM
            reader = csv.DictReader(handle)
            header = [column.strip() for column in reader.fieldnames or ()]
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise RosterError(f"{path}: cannot read the roster: {exc}") from None
    _check_header(path, header)
    students: dict[str, Student] = {}
    for line, row in enumerate(rows, start=2):
        student = _student(row, f"{path}:{line}")
        for other in students.values():
            _check_unique(student, other, f"{path}:{line}")
        students[student.id] = student
    if not students:
        raise RosterError(f"{path}: the roster lists no students")
    return Roster(students, str(path))


def _check_header(path: Path, header: list[str]) -> None:
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise RosterError(
            f"{path}: the header must name the columns {', '.join(REQUIRED)} "
            f"(and may name {', '.join(COLUMNS[2:])}); it has {', '.join(header) or 'none'}"
        )
    unknown = [c for c in header if c not in COLUMNS]
    if unknown:
        raise RosterError(f"{path}: unknown column(s) {', '.join(unknown)}; allowed: {', '.join(COLUMNS)}")


def _student(row: dict, where: str) -> Student:
    values = {column.strip(): (value or "").strip() for column, value in row.items() if column}
    if not values.get("id") or not values.get("name"):
        raise RosterError(f"{where}: every student needs an id and a name")
    return Student(**{column: values.get(column, "") for column in COLUMNS})


def _check_unique(student: Student, other: Student, where: str) -> None:
    for column in ("id", "email", "sis_id", "login", "canvas_id"):
        value = getattr(student, column)
        if value and value == getattr(other, column):
            raise RosterError(f"{where}: {column} {value} is also {other.id}'s")


def _plain(name: str) -> str:
    """A name as compared: Unicode-normalised, without case, single spaces."""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def intake_roster(course_root: str | Path) -> Roster | None:
    """The roster submissions are mapped to when graded: the course's students.csv, if it has one.

    (The course file's ``[students]`` names are for reports; mapping LMS exports needs
    the ids only students.csv carries.)
    """
    path = Path(course_root) / FILENAME
    return read(path) if path.is_file() else None
