"""dlgrade as a Gradescope autograder: the zip ``dlgrade gradescope`` writes, and what it runs.

    dlgrade gradescope --assignment a1 --out autograder-a1.zip

The zip, as Gradescope's autograder specification wants it (unpacked into
``/autograder/source``):

    setup.sh                 installs Python, bubblewrap, torch (CPU) and dlgrade into /autograder/venv
    run_autograder           grades /autograder/submission, writes /autograder/results/results.json
    dlgrade/                 dlgrade's source (pyproject.toml, grader/, reports/, dlgrade/)
    course/                  course.toml, suites/A/, reference/A/: the hidden suite stays here

``run_autograder`` calls ``python -m reports.gradescope_autograder``, the trusted
side: the student's notebook is loaded and called in dlgrade's sandboxed worker, and
the verdict, the score and results.json are computed and written here, outside it.
When dlgrade cannot grade (its own failure: status ``error``) nothing is written and
the run exits 2, so Gradescope shows the instructor a failed autograder run, never a
score of 0 that the student did not earn.
"""

from __future__ import annotations

import argparse
import json
import sys
import zipfile
from pathlib import Path

from grader.course.course_file import FILENAME, CoursePolicy, load
from grader.course.layout import Course
from grader.errors import DlgradeError
from grader.grading.grade import grade
from grader.intake.submissions import SKIPPED
from reports.feedback import suite_docstrings
from reports.gradescope import result_document

SOURCE = "/autograder/source"
PACKAGES = ("grader", "reports", "dlgrade")
EXECUTABLE = 0o100755 << 16  # a zip entry's Unix mode, for setup.sh and run_autograder

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y python3 python3-venv python3-pip bubblewrap
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install --upgrade pip
/autograder/venv/bin/pip install torch --index-url https://download.pytorch.org/whl/cpu
/autograder/venv/bin/pip install {source}/dlgrade
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission; the verdict is computed outside the student's code.
set -uo pipefail
mkdir -p /autograder/results
exec /autograder/venv/bin/python -m reports.gradescope_autograder --assignment {assignment} \\
    --course {source}/course /autograder/submission /autograder/results/results.json
"""


def build(course: Course, assignment: str, out: Path) -> Path:
    """Write the autograder zip for ``assignment`` of ``course`` to ``out``."""
    course.suite_dir(assignment)  # an unknown assignment fails here
    source = dlgrade_source()
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bundle:
        _script(bundle, "setup.sh", SETUP_SH.format(source=SOURCE))
        _script(bundle, "run_autograder", RUN_AUTOGRADER.format(assignment=assignment, source=SOURCE))
        for name in ("pyproject.toml", "README.md"):
            bundle.write(source / name, f"dlgrade/{name}")
        for package in PACKAGES:
            _tree(bundle, source / package, f"dlgrade/{package}")
        if (course.root / "course.toml").is_file():
            bundle.write(course.root / "course.toml", "course/course.toml")
        _tree(bundle, course.root / "suites" / assignment, f"course/suites/{assignment}")
        _tree(bundle, course.root / "reference", "course/reference", only=("__init__.py", assignment))
    return out


def dlgrade_source() -> Path:
    """dlgrade's source checkout (the autograder installs dlgrade from a copy of it)."""
    root = Path(__file__).resolve().parents[1]
    if not (root / "pyproject.toml").is_file():
        raise DlgradeError(
            f"dlgrade's source is not at {root}: dlgrade gradescope bundles dlgrade's "
            "source, so run it from a checkout installed with pip install -e"
        )
    return root


def _script(bundle: zipfile.ZipFile, name: str, text: str) -> None:
    entry = zipfile.ZipInfo(name)
    entry.external_attr = EXECUTABLE
    bundle.writestr(entry, text)


def _tree(bundle: zipfile.ZipFile, folder: Path, into: str, only: tuple[str, ...] = ()) -> None:
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if only and relative.parts[0] not in only:
            continue
        if path.is_file() and not path.is_symlink() and "__pycache__" not in relative.parts:
            bundle.write(path, f"{into}/{relative.as_posix()}")


# ---------------------------------------------------------------- inside Gradescope


def pick_notebook(submission: Path, assignment: str) -> Path | None:
    """The notebook to grade: the one named for the assignment, else the newest; None: no notebook."""
    notebooks = [
        p
        for p in submission.rglob("*.ipynb")
        if not p.is_symlink() and not any(part in SKIPPED for part in p.parts)
    ]
    named = [p for p in notebooks if p.stem == assignment]
    candidates = named or notebooks
    return max(candidates, key=lambda p: (p.stat().st_mtime, str(p))) if candidates else None


def grade_submission(course_root: Path, assignment: str, submission: Path) -> dict | None:
    """results.json's document for the submission; None when dlgrade itself could not grade it."""
    course_file = course_root / FILENAME  # the bundle holds this assignment's suite only: no suite check
    policy = load(course_file) if course_file.is_file() else CoursePolicy()
    notebook = pick_notebook(submission, assignment)
    if notebook is None:
        return {
            "score": 0,
            "output": f"No notebook (.ipynb) was uploaded: upload {assignment}.ipynb.",
            "tests": [],
        }
    result = grade([str(notebook)], assignment=assignment, course=Course(course_root))[0]
    if result.status == "error":
        print(f"dlgrade could not grade this submission: {result.message}", file=sys.stderr)
        return None
    docstrings = suite_docstrings(course_root / "suites" / assignment)
    return result_document(result, policy.visibility_of(assignment), docstrings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Grade one Gradescope submission (run_autograder runs it).")
    parser.add_argument("--assignment", required=True)
    parser.add_argument("--course", required=True, type=Path)
    parser.add_argument("submission", type=Path)
    parser.add_argument("results", type=Path)
    args = parser.parse_args(argv)
    try:
        document = grade_submission(args.course, args.assignment, args.submission)
    except DlgradeError as exc:
        print(f"dlgrade could not grade this submission: {exc}", file=sys.stderr)
        return 2
    if document is None:
        return 2
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
