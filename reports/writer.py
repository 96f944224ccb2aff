"""Every report in one call: what ``dlgrade report`` does, as a plain function.

OUT/
  gradebook.csv            for the LMS: id, name, team, points per assignment, bonus
  breakdown.csv            every number behind every bonus
  tests.csv                per-test outcomes, one column per hidden test
  final.csv                exam + bonus and pass/fail          (with an exam file)
  overrides.csv            the audit log of overrides.toml      (with overrides)
  canvas.csv               Canvas's gradebook import            (roster with Canvas/SIS ids)
  moodle.csv               Moodle's grade import                (roster with emails)
  overview.html            the class at a glance
  students/ID.html         one feedback page per student
  gradescope/A/ID/results.json                                  (with gradescope=True)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from grader.course import course_file, roster
from grader.course.roster import Roster
from grader.results.gradebook import FILENAME, Gradebook
from reports import lms, overrides, tables
from reports.classbook import ClassReport, build_report
from reports.errors import ReportError
from reports.exam import read_exam
from reports.feedback import suite_docstrings
from reports.gradescope import results_json
from reports.html import Docstrings, render_overview, render_student, student_filename


@dataclass(frozen=True)
class Written:
    """What a run wrote, and the report it wrote it from."""

    report: ClassReport
    paths: tuple[Path, ...]


def write_reports(
    *,
    course_root: Path,
    out_dir: Path,
    gradebook: Path | None = None,
    exam: Path | None = None,
    gradescope: bool = False,
    generated: str | None = None,
    excel: bool = False,
) -> Written:
    """Read the course file, the gradebook and the exam file; write every report into ``out_dir``."""
    policy = course_file.load_course(course_root)
    students = course_roster(course_root, policy)
    gradebook = gradebook or course_root / FILENAME
    if not gradebook.is_file():
        raise ReportError(f"no gradebook at {gradebook}: grade the submissions first (dlgrade grade)")
    exam_points = read_exam(exam, policy) if exam is not None else None
    with Gradebook(gradebook) as book:
        check_gradebook(book, policy, course_root)
        decided = overrides.load(course_root, policy, students, policy.assignments or book.assignments())
        report = build_report(book, policy, exam_points, students, decided)
    if generated is None:
        generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    docstrings = {a: suite_docstrings(course_root / "suites" / a) for a in report.assignments}
    paths = [
        *write_tables(report, out_dir, students, excel=excel),
        *write_html(report, out_dir, docstrings, generated),
    ]
    if gradescope:
        paths += write_gradescope(report, out_dir / "gradescope", docstrings)
    return Written(report, tuple(paths))


def course_roster(course_root: Path, policy: course_file.CoursePolicy) -> Roster:
    """The roster every report is checked against; a course without one is told how to make it."""
    found = roster.load(course_root, policy.students)
    if found is None:
        raise ReportError(
            f"no roster in {course_root}: list the students in {roster.FILENAME} "
            f"(columns {', '.join(roster.COLUMNS)}; dlgrade init writes an example) "
            "or in course.toml's [students]"
        )
    return found


def check_gradebook(book: Gradebook, policy: course_file.CoursePolicy, course_root: Path) -> None:
    """An empty gradebook, or one of another course, would make a report of zeros: refused."""
    held = book.assignments()
    if not held:
        raise ReportError(f"{book.path} holds no graded submission: grade them first (dlgrade grade)")
    ours = set(policy.assignments) or set(course_file.suite_names(course_root)) or set(held)
    if not ours & set(held):
        raise ReportError(
            f"{book.path} holds {', '.join(held)}, none of this course's assignments "
            f"({', '.join(sorted(ours))}): is it another course's gradebook?"
        )


def write_tables(
    report: ClassReport, out_dir: Path, students: Roster | None = None, *, excel: bool = False
) -> list[Path]:
    """The CSVs; ``excel``: each starts with a byte-order mark, so Excel reads "Zoë" as written."""

    def write(name: str, columns: list[str], rows: list[tables.Row]) -> Path:
        return tables.write_csv(out_dir / name, columns, rows, bom=excel)

    paths = [
        write("gradebook.csv", tables.gradebook_columns(report), tables.gradebook_rows(report)),
        write("breakdown.csv", tables.BREAKDOWN_COLUMNS, tables.breakdown_rows(report)),
        write("tests.csv", tables.outcome_columns(report), tables.outcome_rows(report)),
    ]
    if report.has_exam:
        paths.append(write("final.csv", tables.FINAL_COLUMNS, tables.final_rows(report)))
    if report.overrides.entries:
        paths.append(write("overrides.csv", tables.OVERRIDE_COLUMNS, tables.override_rows(report)))
    if students is not None and any(lms.has_ids(students, c) for c in ("canvas_id", "sis_id", "login")):
        paths.append(write("canvas.csv", lms.canvas_columns(report), lms.canvas_rows(report, students)))
    if students is not None and lms.has_ids(students, "email"):
        paths.append(write("moodle.csv", lms.moodle_columns(report), lms.moodle_rows(report, students)))
    return paths


def write_html(report: ClassReport, out_dir: Path, docstrings: Docstrings, generated: str) -> list[Path]:
    (out_dir / "students").mkdir(parents=True, exist_ok=True)
    overview = out_dir / "overview.html"
    overview.write_text(render_overview(report, generated=generated), encoding="utf-8")
    paths = [overview]
    for student in report.students:
        path = out_dir / "students" / student_filename(student.student)
        path.write_text(
            render_student(report, student, docstrings=docstrings, generated=generated), encoding="utf-8"
        )
        paths.append(path)
    return paths


def write_gradescope(report: ClassReport, folder: Path, docstrings: Docstrings) -> list[Path]:
    """A results.json per student and assignment they (or their team) handed in."""
    paths = []
    for student in report.students:
        for assignment, attempt in student.attempts.items():
            if attempt is None:
                continue
            visibility = report.policy.visibility_of(assignment)
            document = results_json(attempt, visibility, docstrings.get(assignment))
            name = student_filename(student.student).removesuffix(".html")
            path = folder / assignment / name / "results.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(document, indent=2), encoding="utf-8")
            paths.append(path)
    return paths
