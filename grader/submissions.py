"""Which student a submission belongs to, for the layouts instructors actually get.

    alice.ipynb                          one file per student, named by id -> alice
    alice/a1.ipynb                       one folder per student            -> alice
    export/Alice Smith_4711_assignsubmission_file_/a1.ipynb   Moodle       -> 4711
    export/smithalice_LATE_4711_99_a1.ipynb                   Canvas       -> smithalice

A folder given on the command line is searched for notebooks (``.ipynb``) at any
depth; Jupyter's checkpoints and hidden folders are skipped. Within the folder,
the first path component names the student, so nested LMS exports work.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

MOODLE = re.compile(r"^.+?_(?P<id>\d+)_assign(?:ment)?submission_\w*$")
CANVAS = re.compile(r"^(?P<login>[A-Za-z0-9]+)(?:_LATE)?_\d+_\d+_.+$")
SKIPPED = (".ipynb_checkpoints", "__MACOSX")


@dataclass(frozen=True)
class Submission:
    student: str
    path: Path


def discover(arguments: list[str], assignment: str) -> list[Submission]:
    """Submissions from files and folders, one per student; later arguments win ties."""
    found: dict[str, Submission] = {}
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            for submission in _from_folder(path, assignment):
                found[submission.student] = submission
        else:
            submission = Submission(student_of(path, assignment), path)
            found[submission.student] = submission
    return sorted(found.values(), key=lambda s: (str(s.path), s.student))


def student_of(path: Path, assignment: str) -> str:
    """The student id a file's name (or its folder's name) stands for."""
    if path.stem == assignment and path.parent.name:
        return _id(path.parent.name)  # alice/a1.ipynb
    return _id(path.stem)


def _id(name: str) -> str:
    for pattern in (MOODLE, CANVAS):
        match = pattern.match(name)
        if match:
            return match.group(1)
    return name


def _from_folder(folder: Path, assignment: str) -> list[Submission]:
    by_student: dict[str, list[Path]] = {}
    for path in sorted(folder.rglob("*.ipynb")):
        relative = path.relative_to(folder)
        if any(part.startswith(".") or part in SKIPPED for part in relative.parts):
            continue
        top = relative.parts[0]
        student = _id(top) if len(relative.parts) > 1 else student_of(relative, assignment)
        by_student.setdefault(student, []).append(path)
    return [Submission(student, _pick(paths, assignment)) for student, paths in by_student.items()]


def _pick(paths: list[Path], assignment: str) -> Path:
    """One notebook per student: the one named for the assignment, else the newest."""
    named = [p for p in paths if p.stem == assignment]
    candidates = named or paths
    return max(candidates, key=lambda p: (p.stat().st_mtime, str(p)))


def content_hash(path: str | Path) -> str:
    """The sha256 of a file's bytes ("" when it cannot be read): what "unchanged" means."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return ""
