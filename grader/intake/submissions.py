"""Which student a submission belongs to, for the layouts instructors actually get.

    alice.ipynb                          one file per student, named by id -> alice
    alice/a1.ipynb                       one folder per student            -> alice
    export/Alice Smith_101_assignsubmission_file_/a1.ipynb    Moodle
    export/smithalice_LATE_4711_99_a1.ipynb                   Canvas

With a roster (grader/course/roster.py) every name is mapped to a roster student, and one
that maps to none stops intake with the closest roster names:

- Canvas: the number after the name (4711) is Canvas's user id: the roster student
  whose ``canvas_id`` it is. Two students with the same name never merge.
- Moodle: the number is a participant number, different in every assignment, so it
  never names a student. The folder's full name is looked up on the roster; where
  two roster students share it, Moodle's grading worksheet (the CSV that "Download
  grading worksheet" gives: Identifier "Participant 101", Email address), put in the
  export folder, maps the participant to an email on the roster.
- Any other name must be a roster id.

Without a roster a Canvas name keeps its user id (``smithalice_4711``) and a Moodle
folder is named by its full name (``Alice Smith``), never by the participant number.

A folder given on the command line is searched for notebooks (``.ipynb``) at any
depth; Jupyter's checkpoints and hidden folders are skipped, and symbolic links are
never followed (a link is graded as ``refused``, see ``refusal``). Within the folder,
the first path component names the student, so nested LMS exports work. A student id
comes from a file or folder name, which the student may have chosen: it is made safe
(``safe_text.line``) as it is read.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from grader import safe_text
from grader.course.roster import Roster, RosterError, closest

MOODLE = re.compile(r"^(?P<name>.+?)_(?P<number>\d+)_assign(?:ment)?submission_\w*$")
CANVAS = re.compile(r"^(?P<name>[A-Za-z0-9]+)(?:_LATE)?_(?P<number>\d+)_\d+_.+$")
SKIPPED = (".ipynb_checkpoints", "__MACOSX")


@dataclass(frozen=True)
class Submission:
    student: str
    path: Path


@dataclass(frozen=True)
class ExportName:
    """What a file or folder name says about its student: ``kind`` is "canvas" (``number``:
    the user id), "moodle" (``number``: the participant number) or "plain"."""

    kind: str
    name: str
    number: str = ""


def discover(arguments: list[str], assignment: str, roster: Roster | None = None) -> list[Submission]:
    """Submissions from files and folders, one per student; later arguments win ties.

    With a ``roster`` every submission is mapped to a roster student; names that map to
    none raise one ``RosterError`` that lists them all.
    """
    found: dict[str, Submission] = {}
    unknown: list[str] = []
    for argument in arguments:
        path = Path(argument)
        participants = moodle_worksheet(path) if path.is_dir() else {}
        named = _from_folder(path, assignment) if path.is_dir() else [(export_name(path, assignment), path)]
        for name, paths in _group(named, roster, participants, unknown).items():
            found[name] = Submission(name, _pick(paths, assignment))
    if unknown and roster is not None:
        raise RosterError(
            f"submissions whose student is not on the roster ({roster.source}): "
            + "; ".join(sorted(set(unknown)))
        )
    return sorted(found.values(), key=lambda s: (str(s.path), s.student))


def _group(
    named: list[tuple[ExportName, Path]],
    roster: Roster | None,
    participants: dict[str, str],
    unknown: list[str],
) -> dict[str, list[Path]]:
    by_student: dict[str, list[Path]] = {}
    for name, path in named:
        try:
            student = student_id(name, roster, participants)
        except RosterError as exc:
            unknown.append(f"{path.name}: {exc}")
            continue
        by_student.setdefault(student, []).append(path)
    return by_student


def student_of(path: Path, assignment: str, roster: Roster | None = None) -> str:
    """The student id a file's name (or its folder's name) stands for."""
    return student_id(export_name(path, assignment), roster, {})


def export_name(path: Path, assignment: str) -> ExportName:
    """What the name of a submission file (or of its folder, for ``alice/a1.ipynb``) says."""
    if path.stem == assignment and path.parent.name:
        return parse_name(path.parent.name)  # alice/a1.ipynb
    return parse_name(path.stem)


def parse_name(name: str) -> ExportName:
    for kind, pattern in (("moodle", MOODLE), ("canvas", CANVAS)):
        match = pattern.match(name)
        if match:
            return ExportName(kind, match.group("name"), match.group("number"))
    return ExportName("plain", name)


def student_id(name: ExportName, roster: Roster | None, participants: dict[str, str]) -> str:
    """The student an export's name stands for; with a roster, a roster id or a RosterError."""
    if roster is None:
        plain = f"{name.name}_{name.number}" if name.kind == "canvas" else name.name
        return safe_text.line(plain)
    if name.kind == "canvas":
        return _canvas_student(name, roster)
    if name.kind == "moodle":
        return _moodle_student(name, roster, participants)
    if name.name in roster:
        return name.name
    raise RosterError(roster.unknown(safe_text.line(name.name)))


def _canvas_student(name: ExportName, roster: Roster) -> str:
    student = roster.by_canvas_id(name.number)
    if student is None:
        raise RosterError(
            f"Canvas user {name.number} ({safe_text.line(name.name)}) has no canvas_id on "
            f"the roster; closest names: {', '.join(closest(name.name, roster)) or 'none'}"
        )
    return student.id


def _moodle_student(name: ExportName, roster: Roster, participants: dict[str, str]) -> str:
    email = participants.get(name.number, "")
    by_email = roster.by_email(email) if email else None
    if by_email is not None:
        return by_email.id
    matches = roster.by_name(name.name)
    if len(matches) == 1:
        return matches[0].id
    if matches:
        raise RosterError(
            f"{len(matches)} students are named {safe_text.line(name.name)!r} "
            f"({', '.join(s.id for s in matches)}): put Moodle's grading worksheet "
            "(with email addresses) in the export folder to tell them apart"
        )
    raise RosterError(roster.unknown(safe_text.line(name.name)))


def moodle_worksheet(folder: Path) -> dict[str, str]:
    """Participant number -> email, from a Moodle grading worksheet in ``folder`` (if any).

    Moodle's "Download grading worksheet" CSV names each row "Participant 101" in its
    Identifier column and has an "Email address" column (when emails are shown).
    """
    emails: dict[str, str] = {}
    for path in sorted(folder.glob("*.csv")):
        if path.is_symlink() or not path.is_file():
            continue
        try:
            with path.open(newline="", encoding="utf-8-sig") as handle:
                for row in csv.DictReader(handle):
                    number = re.sub(r"\D", "", row.get("Identifier") or "")
                    if number and row.get("Email address"):
                        emails[number] = row["Email address"].strip()
        except (OSError, UnicodeDecodeError, csv.Error):
            continue
    return emails


def _from_folder(folder: Path, assignment: str) -> list[tuple[ExportName, Path]]:
    named = []
    for path in _candidates(folder):
        relative = path.relative_to(folder)
        if any(part.startswith(".") or part in SKIPPED for part in relative.parts):
            continue
        top = relative.parts[0]
        name = parse_name(top) if len(relative.parts) > 1 else export_name(relative, assignment)
        named.append((name, path))
    return named


def _candidates(folder: Path) -> list[Path]:
    """Every notebook below ``folder``, and every symbolic link to a folder, in order.

    Links to folders are not followed (a student's folder that links to the course's
    solutions, or to ``/``, is never searched), but they are listed: when one is all a
    student handed in, it is graded as ``refused`` (see ``refusal``) instead of vanishing.
    """
    found = []
    for top, folders, files in os.walk(folder):  # followlinks=False
        here = Path(top)
        found += [here / name for name in files if name.endswith(".ipynb")]
        found += [here / name for name in folders if (here / name).is_symlink()]
    return sorted(found)


def _pick(paths: list[Path], assignment: str) -> Path:
    """One notebook per student: a file before a link, then the one named for the
    assignment, then the newest."""
    files = [p for p in paths if not p.is_symlink()]
    paths = files or paths
    named = [p for p in paths if p.stem == assignment]
    candidates = named or paths
    return max(candidates, key=lambda p: (_mtime(p), str(p)))


def _mtime(path: Path) -> float:
    try:
        return path.lstat().st_mtime
    except OSError:
        return 0.0


def refusal(path: str | Path) -> str:
    """Why a submission must not be graded at all ("" when it may be).

    A symbolic link is refused whatever it points to: graded, a link to the course's
    ``source/a1/a1.ipynb`` scored full marks, and one to a classmate's notebook would
    grade that. Anything but a regular file (a FIFO, a device, a folder) is refused too:
    reading a FIFO never ends. Archives unpacked from an LMS can hold all of these.
    """
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return ""  # reading it will say what is wrong
    if stat.S_ISLNK(mode):
        return "the submission is a symbolic link: links are never followed; hand in the file itself"
    if not stat.S_ISREG(mode):
        return "the submission is not a regular file (a folder, a FIFO, a device): hand in the notebook"
    return ""


def content_hash(path: str | Path) -> str:
    """The sha256 of a file's bytes: what "unchanged" means. "" when it cannot be read,
    and for anything but a regular file (a link is refused; a FIFO would never end)."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return ""
        digest = hashlib.sha256()
        with open(path, "rb") as handle:  # in chunks: a 10 GB file costs time, not 10 GB of memory
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        return digest.hexdigest()
    except OSError:
        return ""
