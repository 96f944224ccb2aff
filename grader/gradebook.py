"""The gradebook: every grading attempt, kept in one SQLite file that loses nothing.

Each finished submission is one transaction (an ``attempts`` row and its
``tests`` rows), committed before the next submission starts. SQLite's journal
makes a commit all-or-nothing, so a batch killed at any moment, ``kill -9``
included, leaves every finished attempt readable and no half-written one.

A later run skips what is already there: a submission whose content hash was
graded by the same suite version (``suite_version``: a hash of the suite's and the
reference's files) is not graded again unless forced.

    attempts(id, student, assignment, suite, submission, sha256, suite_version,
             status, score, max_score, message, seconds, device, versions, graded_at,
             submitted_at)      -- submitted_at: the file's modification time, "" if unknown
    tests(attempt_id, name, points, max_points, outcome, message)
"""

from __future__ import annotations

import functools
import hashlib
import json
import platform
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from grader import safe_text
from grader.results import SubmissionResult, TestResult

FILENAME = "gradebook.sqlite"

SCHEMA = """
CREATE TABLE IF NOT EXISTS attempts (
    id            INTEGER PRIMARY KEY,
    student       TEXT NOT NULL,
    assignment    TEXT NOT NULL,
    suite         TEXT NOT NULL,
    submission    TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    suite_version TEXT NOT NULL,
    status        TEXT NOT NULL,
    score         REAL NOT NULL,
    max_score     REAL NOT NULL,
    message       TEXT NOT NULL,
    notes         TEXT NOT NULL,
    output        TEXT NOT NULL,
    seconds       REAL NOT NULL,
    device        TEXT NOT NULL,
    versions      TEXT NOT NULL,
    graded_at     TEXT NOT NULL,
    submitted_at  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS attempts_by_content
    ON attempts (assignment, suite, sha256, suite_version);
CREATE TABLE IF NOT EXISTS tests (
    attempt_id INTEGER NOT NULL REFERENCES attempts (id),
    name       TEXT NOT NULL,
    points     REAL NOT NULL,
    max_points REAL NOT NULL,
    outcome    TEXT NOT NULL,
    message    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tests_by_attempt ON tests (attempt_id);
"""


@dataclass(frozen=True)
class Attempt:
    """One row of ``attempts`` with its tests, as read back."""

    id: int
    student: str
    graded_at: str
    submitted_at: str
    """When the student handed it in (ISO 8601; the file's modification time), "" if unknown."""
    suite_version: str
    device: str
    versions: dict
    result: SubmissionResult


class Gradebook:
    """An SQLite file of grading attempts; open it, record, query, close."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")  # readers never block the grading batch
        self._db.execute("PRAGMA synchronous=FULL")  # a commit survives a power cut, not just kill -9
        self._db.executescript(SCHEMA)
        self._add_missing_columns()

    def _add_missing_columns(self) -> None:
        """Gradebooks written by an older dlgrade lack ``submitted_at``: add it, empty."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(attempts)")}
        if "submitted_at" not in columns:
            with self._db:
                self._db.execute("ALTER TABLE attempts ADD COLUMN submitted_at TEXT NOT NULL DEFAULT ''")

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ writing

    def record(self, result: SubmissionResult, *, student: str, suite_version: str,
               device: str = "cpu", versions: dict | None = None, submitted_at: str = "") -> int:  # fmt: skip
        """Store one finished attempt in one transaction; returns its id. Every text the
        student controls is made safe first (``safe_text``): SQLite refuses lone surrogates,
        and reports turn these rows into HTML, CSV and terminal lines."""
        result = safe_text.result(result)
        student = safe_text.line(student)
        row = (
            student, result.assignment, result.suite, result.submission, result.sha256,
            suite_version, result.status, result.score, result.max_score, result.message,
            json.dumps(list(result.notes)), result.output, result.seconds, device,
            json.dumps(versions if versions is not None else library_versions()),
            datetime.now(timezone.utc).isoformat(timespec="seconds"), submitted_at,
        )  # fmt: skip
        with self._db:  # one transaction: the attempt and its tests, or nothing
            cursor = self._db.execute(
                "INSERT INTO attempts (student, assignment, suite, submission, sha256, suite_version,"
                 " status, score, max_score, message, notes, output, seconds, device, versions, graded_at,"
                " submitted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            attempt_id = cursor.lastrowid
            self._db.executemany(
                "INSERT INTO tests (attempt_id, name, points, max_points, outcome, message)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [(attempt_id, t.name, t.points, t.max_points, t.outcome, t.message) for t in result.tests],
            )
        return attempt_id

    # ------------------------------------------------------------------ reading

    def attempts(self, assignment: str | None = None, *, suite_version: str | None = None) -> list[Attempt]:
        """Every attempt, oldest first; of one assignment, one suite version, or both."""
        filters = {"assignment": assignment, "suite_version": suite_version}
        given = {column: value for column, value in filters.items() if value is not None}
        where = ("WHERE " + " AND ".join(f"{column} = ?" for column in given)) if given else ""
        query = f"SELECT * FROM attempts {where} ORDER BY id"
        with closing(self._db.execute(query, tuple(given.values()))) as cursor:
            columns = [c[0] for c in cursor.description]
            rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        return [self._attempt(row) for row in rows]

    def latest(self, assignment: str) -> dict[str, Attempt]:
        """Each student's current attempt at ``assignment`` (the one that counts)."""
        return {attempt.student: attempt for attempt in self.current_attempts(assignment)}

    def current_attempts(self, assignment: str) -> Iterator[Attempt]:
        """Each student's current attempt, by student: the one handed in last
        (``submitted_at``), then graded last. SQL picks them and they are read one at a time,
        so reading a class costs the memory of the class, not of all its attempts."""
        query = (
            "SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY student"
            " ORDER BY submitted_at DESC, id DESC) AS newest FROM attempts WHERE assignment = ?)"
            " WHERE newest = 1 ORDER BY student"
        )
        with closing(self._db.execute(query, (assignment,))) as cursor:
            columns = [c[0] for c in cursor.description]
            for row in cursor:
                yield self._attempt(dict(zip(columns, row, strict=True)))

    def assignments(self) -> list[str]:
        """Every assignment the gradebook has attempts at, sorted."""
        query = "SELECT DISTINCT assignment FROM attempts ORDER BY assignment"
        with closing(self._db.execute(query)) as cursor:
            return [row[0] for row in cursor]

    def _attempt(self, row: dict) -> Attempt:
        tests = tuple(
            TestResult(name, max_points, outcome, message)
            for name, max_points, outcome, message in self._db.execute(
                "SELECT name, max_points, outcome, message FROM tests WHERE attempt_id = ? ORDER BY rowid",
                (row["id"],),
            )
        )
        result = SubmissionResult(
            submission=row["submission"], assignment=row["assignment"], status=row["status"],
            tests=tests, message=row["message"], notes=tuple(json.loads(row["notes"])),
            output=row["output"], seconds=row["seconds"], sha256=row["sha256"], suite=row["suite"],
        )  # fmt: skip
        return Attempt(row["id"], row["student"], row["graded_at"], row["submitted_at"],
                       row["suite_version"], row["device"],
                       json.loads(row["versions"]), result)  # fmt: skip


def suite_version(files: Iterable[Path], root: Path) -> str:
    """A hash of what decides a verdict: the suite's and the reference's files, names included.

    Editing a hidden test or fixing the reference changes it, so the next run
    regrades everything; touching a file without changing it does not.
    """
    digest = hashlib.sha256()
    for path in sorted(p for p in files if p.is_file() and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


@functools.cache
def library_versions() -> dict:
    """What the verdicts were computed with, for the record."""
    from importlib.metadata import version

    import numpy
    import torch

    return {"dlgrade": version("dlgrade"), "python": platform.python_version(), "torch": torch.__version__,
            "numpy": numpy.__version__}  # fmt: skip
