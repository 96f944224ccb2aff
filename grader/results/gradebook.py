"""The gradebook: every grading attempt, kept in one SQLite file that loses nothing.

Each finished submission is one transaction (an ``attempts`` row and its
``tests`` rows), committed before the next submission starts. SQLite's journal
makes a commit all-or-nothing, so a batch killed at any moment, ``kill -9``
included, leaves every finished attempt readable and no half-written one.

A later run skips what is already there: a submission whose content hash was
graded by the same suite version (``suite_version``: a hash of the suite's and the
reference's files) is not graded again unless forced. Only verdicts are reused: an
attempt whose status is ``error`` (dlgrade could not grade it: a harness failure, a
lost grading process, a worker killed from outside) is graded again by the next run.

A student's current attempt (``latest``) is the one handed in last, then graded last:
a student who goes back to an earlier file has that file's result recorded again
(``reused_from`` names the attempt it was copied from), so it counts.

Two batches on one gradebook never grade the same student at once: each claims its
students first (``claims``); a claim whose process has died is taken over.

    attempts(id, student, assignment, suite, submission, sha256, suite_version,
             status, score, max_score, message, seconds, device, versions, graded_at,
             submitted_at,      -- the file's modification time, "" if unknown
             reused_from)       -- NULL, or the id of the attempt whose result this repeats
    tests(attempt_id, name, points, max_points, outcome, message)
    claims(assignment, student, owner, claimed_at)   -- owner: host:pid:process start time

Every failure of the file itself (read-only, full disk, corrupt, locked) is a
``GradebookError``: one line naming the file and what to do.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import socket
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from grader import safe_text
from grader.errors import GradebookError
from grader.results.records import SubmissionResult, TestResult

FILENAME = "gradebook.sqlite"
LOCK_SECONDS = 30.0
"""How long a write waits for another program that holds the file locked."""
FOREIGN_CLAIM_HOURS = 12
"""A claim made on another machine (whose processes we cannot see) counts this long."""

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
CREATE INDEX IF NOT EXISTS attempts_by_student ON attempts (assignment, student);
CREATE TABLE IF NOT EXISTS claims (
    assignment TEXT NOT NULL,
    student    TEXT NOT NULL,
    owner      TEXT NOT NULL,
    claimed_at TEXT NOT NULL,
    PRIMARY KEY (assignment, student)
);
"""

ADDED_COLUMNS = {  # columns later versions added to ``attempts``: old gradebooks gain them
    "submitted_at": "TEXT NOT NULL DEFAULT ''",
    "reused_from": "INTEGER",
}


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
    """An SQLite file of grading attempts; open it, record, query, close.

    A gradebook that cannot be written (a read-only file or folder) still opens for
    reading (``dlgrade report``); the first write then raises ``GradebookError``.
    """

    def __init__(self, path: str | Path, *, lock_seconds: float | None = None):
        self.path = Path(path)
        self.owner = claim_owner()
        with self._storage("open"):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            wait = LOCK_SECONDS if lock_seconds is None else lock_seconds
            self._db = sqlite3.connect(self.path, timeout=wait)
        try:
            with self._storage("open"):
                self._prepare()
        except GradebookError:
            self._db.close()
            raise

    def _prepare(self) -> None:
        try:
            self._db.execute("PRAGMA journal_mode=WAL")  # readers never block the grading batch
            self._db.execute("PRAGMA synchronous=FULL")  # a commit survives a power cut, not just kill -9
            self._db.executescript(SCHEMA)
            self._add_missing_columns()
        except sqlite3.OperationalError as exc:
            if not _is_read_only(exc) or not self._has_tables():
                raise
            self.writable = False  # read what is there; writing says why it cannot
        else:
            self.writable = True

    def _has_tables(self) -> bool:
        names = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(attempts)")}
        return {"attempts", "tests"} <= names and set(ADDED_COLUMNS) <= columns

    def _add_missing_columns(self) -> None:
        """Gradebooks written by an older dlgrade lack the newer columns: add them, empty."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(attempts)")}
        for name, definition in ADDED_COLUMNS.items():
            if name not in columns:
                with self._db:
                    self._db.execute(f"ALTER TABLE attempts ADD COLUMN {name} {definition}")

    @contextmanager
    def _storage(self, doing: str) -> Iterator[None]:
        """Turn a failure of the file into one line that names it and says what to do."""
        try:
            yield
        except (sqlite3.Error, OSError) as exc:
            raise GradebookError(storage_message(self.path, doing, exc)) from None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ writing

    def record(
        self,
        result: SubmissionResult,
        *,
        student: str,
        suite_version: str,
        device: str = "cpu",
        versions: dict | None = None,
        submitted_at: str = "",
        graded_at: str | None = None,
        reused_from: int | None = None,
    ) -> int:
        """Store one finished attempt in one transaction, and release this process's claim
        on the student; returns its id. ``reused_from``: the attempt whose result this
        repeats (a student who handed in an earlier file again), graded at ``graded_at``.
        Every text the student controls is made safe first (``safe_text``): SQLite refuses
        lone surrogates, and reports turn these rows into HTML, CSV and terminal lines."""
        result = safe_text.result(result)
        student = safe_text.line(student)
        row = (
            student,
            result.assignment,
            result.suite,
            result.submission,
            result.sha256,
            suite_version,
            result.status,
            result.score,
            result.max_score,
            result.message,
            json.dumps(list(result.notes)),
            result.output,
            result.seconds,
            device,
            json.dumps(versions if versions is not None else library_versions()),
            graded_at or _now(),
            submitted_at,
            reused_from,
        )
        # one transaction: the attempt and its tests, or nothing
        with self._storage(f"record {student}'s attempt in"), self._db:
            self._check_writable()
            cursor = self._db.execute(
                "INSERT INTO attempts (student, assignment, suite, submission, sha256, suite_version,"
                " status, score, max_score, message, notes, output, seconds, device, versions, graded_at,"
                " submitted_at, reused_from) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            attempt_id = cursor.lastrowid
            if attempt_id is None:  # sqlite3 sets it after every INSERT: said, not assumed
                raise GradebookError(f"{self.path}: no row id for a new attempt")
            self._db.executemany(
                "INSERT INTO tests (attempt_id, name, points, max_points, outcome, message)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [(attempt_id, t.name, t.points, t.max_points, t.outcome, t.message) for t in result.tests],
            )
            self._db.execute(
                "DELETE FROM claims WHERE assignment = ? AND student = ? AND owner = ?",
                (result.assignment, student, self.owner),
            )
        return attempt_id

    def repeat(self, attempt: Attempt, *, submission: str, submitted_at: str) -> int:
        """Record ``attempt``'s result again as the student's current attempt: the student
        handed in that same file again, after another one."""
        return self.record(
            replace(attempt.result, submission=submission),
            student=attempt.student,
            suite_version=attempt.suite_version,
            device=attempt.device,
            versions=attempt.versions,
            submitted_at=submitted_at,
            graded_at=attempt.graded_at,
            reused_from=attempt.id,
        )

    def _check_writable(self) -> None:
        if not self.writable:
            raise sqlite3.OperationalError("attempt to write a readonly database")

    # ------------------------------------------------------------------ claims

    def claim(self, assignment: str, students: Iterable[str]) -> set[str]:
        """Claim ``students`` for this process, in one transaction; returns those another
        live process holds (this one must not grade them now). A claim of a process that
        has died (``kill -9``, a crash) is taken over."""
        held: set[str] = set()
        students = list(students)
        if not students:
            return held
        with self._storage("claim students in"), self._db:
            self._check_writable()
            self._db.execute("BEGIN IMMEDIATE")  # one batch at a time decides who grades whom
            for student in students:
                row = self._db.execute(
                    "SELECT owner, claimed_at FROM claims WHERE assignment = ? AND student = ?",
                    (assignment, student),
                ).fetchone()
                if row is not None and row[0] != self.owner and claim_alive(*row):
                    held.add(student)
                    continue
                self._db.execute(
                    "INSERT OR REPLACE INTO claims VALUES (?, ?, ?, ?)",
                    (assignment, student, self.owner, _now()),
                )
        return held

    def claimed(self, assignment: str, students: Iterable[str]) -> set[str]:
        """Those of ``students`` another live process still holds."""
        query = "SELECT student, owner, claimed_at FROM claims WHERE assignment = ?"
        with self._storage("read claims from"), closing(self._db.execute(query, (assignment,))) as rows:
            holders = {student: (owner, at) for student, owner, at in rows}
        wanted = set(students)
        return {
            s
            for s, (owner, at) in holders.items()
            if s in wanted and owner != self.owner and claim_alive(owner, at)
        }

    def release(self, assignment: str) -> None:
        """Give up every claim of this process on ``assignment`` (at the end of a batch).
        Best effort: a claim left behind (a full disk) dies with this process anyway."""
        if not self.writable:
            return
        try:
            with self._db:
                self._db.execute(
                    "DELETE FROM claims WHERE assignment = ? AND owner = ?", (assignment, self.owner)
                )
        except sqlite3.Error:
            pass

    # ------------------------------------------------------------------ reading

    def attempts(self, assignment: str | None = None, *, suite_version: str | None = None) -> list[Attempt]:
        """Every attempt, oldest first; of one assignment, one suite version, or both."""
        filters = {"assignment": assignment, "suite_version": suite_version}
        given = {column: value for column, value in filters.items() if value is not None}
        where = ("WHERE " + " AND ".join(f"{column} = ?" for column in given)) if given else ""
        query = f"SELECT * FROM attempts {where} ORDER BY id"
        with self._storage("read"):
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
        with self._storage("read"), closing(self._db.execute(query, (assignment,))) as cursor:
            columns = [c[0] for c in cursor.description]
            for row in cursor:
                yield self._attempt(dict(zip(columns, row, strict=True)))

    def assignments(self) -> list[str]:
        """Every assignment the gradebook has attempts at, sorted."""
        query = "SELECT DISTINCT assignment FROM attempts ORDER BY assignment"
        with self._storage("read"), closing(self._db.execute(query)) as cursor:
            return [row[0] for row in cursor]

    def verdicts(self, assignment: str, suite_version: str) -> dict[tuple[str, str], Attempt]:
        """(student, content hash) -> the last attempt this suite version gave a verdict on.

        ``error`` attempts are not verdicts: dlgrade could not grade them (its own failure,
        a lost grading process, a worker killed from outside), so they are never reused.
        """
        attempts = self.attempts(assignment, suite_version=suite_version)
        return {(a.student, a.result.sha256): a for a in attempts if a.result.status != "error"}

    def handed_in(self, assignment: str) -> set[tuple[str, str, str]]:
        """(student, content hash, submitted_at) of every attempt recorded for ``assignment``."""
        query = "SELECT student, sha256, submitted_at FROM attempts WHERE assignment = ?"
        with self._storage("read"), closing(self._db.execute(query, (assignment,))) as rows:
            return set(rows.fetchall())

    def _attempt(self, row: dict) -> Attempt:
        tests = tuple(
            TestResult(name, max_points, outcome, message)
            for name, max_points, outcome, message in self._db.execute(
                "SELECT name, max_points, outcome, message FROM tests WHERE attempt_id = ? ORDER BY rowid",
                (row["id"],),
            )
        )
        result = SubmissionResult(
            submission=row["submission"],
            assignment=row["assignment"],
            status=row["status"],
            tests=tests,
            message=row["message"],
            notes=tuple(json.loads(row["notes"])),
            output=row["output"],
            seconds=row["seconds"],
            sha256=row["sha256"],
            suite=row["suite"],
        )
        return Attempt(
            row["id"],
            row["student"],
            row["graded_at"],
            row["submitted_at"],
            row["suite_version"],
            row["device"],
            json.loads(row["versions"]),
            result,
        )


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# ---------------------------------------------------------------- claims and storage failures


def claim_owner() -> str:
    """Who holds a claim: this machine, this process and when it started (a reused pid is
    not mistaken for the process that made the claim)."""
    return f"{socket.gethostname()}:{os.getpid()}:{_start_time(os.getpid())}"


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot (/proc/PID/stat, field 22); "" off Linux."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]


def claim_alive(owner: str, claimed_at: str) -> bool:
    """Whether the process that made a claim still runs. On another machine we cannot
    look: its claim counts for ``FOREIGN_CLAIM_HOURS``."""
    host, _, rest = owner.partition(":")
    pid, _, started = rest.partition(":")
    if host != socket.gethostname():
        try:
            age = datetime.now(timezone.utc) - datetime.fromisoformat(claimed_at)
        except ValueError:
            return False
        return age < timedelta(hours=FOREIGN_CLAIM_HOURS)
    return pid.isdigit() and Path(f"/proc/{pid}").exists() and _start_time(int(pid)) == started


_STORAGE_PROBLEMS = (  # (sqlite's error name prefix, what it means, what to do)
    ("SQLITE_READONLY", "it is read-only", "make it and its folder writable, or pass --gradebook PATH"),
    ("SQLITE_FULL", "the disk is full", "free some space"),
    (
        "SQLITE_CORRUPT",
        "it is damaged (not a readable SQLite database)",
        "restore it from a backup, or pass --gradebook PATH for a new one",
    ),
    (
        "SQLITE_NOTADB",
        "it is not a gradebook (not an SQLite database)",
        "pass --gradebook PATH for the gradebook, or move this file away",
    ),
    ("SQLITE_BUSY", "another program holds it locked", "wait for that program to finish"),
    ("SQLITE_LOCKED", "another program holds it locked", "wait for that program to finish"),
    ("SQLITE_CANTOPEN", "it cannot be opened", "check that its folder exists and is writable"),
    ("SQLITE_PERM", "permission was denied", "make it writable for this user"),
    ("SQLITE_IOERR", "the disk reported an error", "check the disk (full, removed, or failing)"),
)


_NOT_ABOUT_WRITING = ("SQLITE_FULL", "SQLITE_CORRUPT", "SQLITE_NOTADB", "SQLITE_BUSY", "SQLITE_LOCKED")


def storage_message(path: Path, doing: str, exc: BaseException) -> str:
    """One line: which file, what went wrong in words, and what to do."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    if not name.startswith(_NOT_ABOUT_WRITING) and read_only(path):
        name = "SQLITE_READONLY"  # SQLite says "unable to open" when it cannot make its WAL files
    for prefix, meaning, fix in _STORAGE_PROBLEMS:
        if name.startswith(prefix) or (not name and prefix == "SQLITE_READONLY" and _is_read_only(exc)):
            return f"cannot {doing} the gradebook {path}: {meaning} ({exc}); {fix}"
    if isinstance(exc, OSError) and exc.errno is not None:
        return f"cannot {doing} the gradebook {path}: {exc.strerror}"
    return f"cannot {doing} the gradebook {path}: {exc}"


def read_only(path: Path) -> bool:
    """Whether this process cannot write ``path`` (or, if it does not exist, its folder)."""
    target = path if path.exists() else path.parent
    try:
        mounted_read_only = bool(os.statvfs(target).f_flag & os.ST_RDONLY)
    except OSError:
        return False
    return mounted_read_only or not os.access(target, os.W_OK) or not os.access(path.parent, os.W_OK)


def _is_read_only(exc: BaseException) -> bool:
    return "readonly" in str(exc) or str(getattr(exc, "sqlite_errorname", "")).startswith("SQLITE_READONLY")


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

    return {
        "dlgrade": version("dlgrade"),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
    }
