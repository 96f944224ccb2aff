"""Which student a submission belongs to, for the layouts instructors actually get.

    alice.ipynb                          one file per student, named by id -> alice
    alice/a1.ipynb                       one folder per student            -> alice
    export/Alice Smith_4711_assignsubmission_file_/a1.ipynb   Moodle       -> 4711
    export/smithalice_LATE_4711_99_a1.ipynb                   Canvas       -> smithalice

A folder given on the command line is searched for notebooks (``.ipynb``) at any
depth; Jupyter's checkpoints and hidden folders are skipped, and symbolic links are
never followed (a link is graded as ``refused``, see ``refusal``). Within the folder,
the first path component names the student, so nested LMS exports work. A student id
comes from a file or folder name, which the student may have chosen: it is made safe
(``safe_text.line``) as it is read.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from grader import safe_text

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
            return safe_text.line(match.group(1))
    return safe_text.line(name)


def _from_folder(folder: Path, assignment: str) -> list[Submission]:
    by_student: dict[str, list[Path]] = {}
    for path in _candidates(folder):
        relative = path.relative_to(folder)
        if any(part.startswith(".") or part in SKIPPED for part in relative.parts):
            continue
        top = relative.parts[0]
        student = _id(top) if len(relative.parts) > 1 else student_of(relative, assignment)
        by_student.setdefault(student, []).append(path)
    return [Submission(student, _pick(paths, assignment)) for student, paths in by_student.items()]


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
        with open(path, "rb") as handle:  # in chunks: a 10 GB file costs time, not 10 GB of memory
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError:
        return ""
