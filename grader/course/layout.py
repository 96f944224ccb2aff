"""Where a course keeps its parts: hidden suites, public checks, references, notebooks.

COURSE/
  reference/aN/          reference solutions (trusted side only)
  suites/aN/test_*.py    hidden suites, one folder per assignment
  source/aN/*.ipynb      annotated source notebooks (### BEGIN/END SOLUTION)
  assignments/aN/        the student notebook and checks/ (public checks)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader.errors import SuiteError

SUITES = ("hidden", "public")


@dataclass(frozen=True)
class Course:
    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))  # Course("course/") from a script works too

    @classmethod
    def find(cls, start: str | Path | None = None, *, fallback: bool = True) -> Course:
        """The nearest folder at or above ``start`` with ``suites/``, else this checkout's ``course/``.

        ``fallback=False`` (reports): no course found is an error, never this checkout's
        example course, whose students would turn up in another course's reports.
        """
        here = Path(start or Path.cwd()).resolve()
        for folder in (here, *here.parents):
            if (folder / "suites").is_dir() and (folder / "reference").is_dir():
                return cls(folder)
        if not fallback:
            raise SuiteError(
                f"no course folder (one with suites/ and reference/) at or above {here}: "
                "run this in the course folder or pass --course DIR"
            )
        return cls(Path(__file__).resolve().parents[2] / "course")

    def assignments(self) -> list[str]:
        suites = self.root / "suites"  # a student bundle has none
        return sorted(p.name for p in suites.iterdir() if p.is_dir()) if suites.is_dir() else []

    def suite_dir(self, assignment: str, suite: str = "hidden") -> Path:
        if suite not in SUITES:
            raise SuiteError(f"suite must be one of {SUITES}, not {suite!r}")
        if suite == "hidden":
            folder = self.root / "suites" / assignment
        else:
            folder = self.root / "assignments" / assignment / "checks"
        if not folder.is_dir():
            known = ", ".join(self.assignments()) or "none"
            raise SuiteError(f"no {suite} suite for assignment {assignment!r} (known: {known})")
        return folder

    def suite_files(self, assignment: str, suite: str = "hidden") -> list[Path]:
        """The files a verdict depends on: the suite's, the assignment's reference, and its
        handout notebooks (their graded names and given code decide what a notebook runs)."""
        folders = [self.suite_dir(assignment, suite), self.root / "reference" / assignment]
        files = [p for folder in folders if folder.is_dir() for p in folder.rglob("*.py")]
        return files + self.handout_notebooks(assignment)

    def handout_notebooks(self, assignment: str) -> list[Path]:
        """The notebooks ``intake/given_code.py`` reads: the source notebook, or where a course has
        none (a student's bundle), the student notebook."""
        for folder in ("source", "assignments"):
            notebooks = sorted((self.root / folder / assignment).glob("*.ipynb"))
            if notebooks:
                return notebooks
        return []
