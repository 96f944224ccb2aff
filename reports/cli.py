"""``dlgrade report``: a thin click command over ``reports.writer.write_reports``.

    dlgrade report --out report/                       # CSVs, overview.html, students/*.html
    dlgrade report --exam exam.csv --gradescope        # + final.csv, gradescope/*/*/results.json

Registered on the ``dlgrade`` group with ``main.add_command(report)`` in grader/cli.py.
"""

from __future__ import annotations

from pathlib import Path

import click

from grader.commands import DlgradeCommand, course_option
from grader.results.gradebook import FILENAME
from reports.bonus import number
from reports.writer import Written, write_reports

STARTERS = Path(__file__).parent / "templates" / "init"


@click.command(cls=DlgradeCommand)
@course_option("Course folder with course.toml (default: found from the current folder).", fallback=False)
@click.option(
    "--gradebook",
    "gradebook_path",
    type=click.Path(dir_okay=False, exists=True),
    help=f"SQLite gradebook (default: {FILENAME} in the course folder).",
)
@click.option(
    "--exam",
    "exam_path",
    type=click.Path(dir_okay=False, exists=True),
    help="CSV with columns student,exam: adds final scores and pass/fail.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default="report",
    show_default=True,
    help="Folder to write the reports into.",
)
@click.option("--gradescope", is_flag=True, help="Also write Gradescope results.json files.")
@click.option("--excel", is_flag=True, help="CSVs with a byte-order mark, so Excel reads accents as written.")
def report(course, gradebook_path, exam_path, out_dir, gradescope, excel) -> None:
    """Write the bonus gradebook CSV, per-test outcomes, feedback pages and the class overview."""
    written = write_reports(
        course_root=course.root,
        out_dir=Path(out_dir),
        gradebook=Path(gradebook_path) if gradebook_path else None,
        exam=Path(exam_path) if exam_path else None,
        gradescope=gradescope,
        excel=excel,
    )
    click.echo(summary(written, Path(out_dir)))


@click.command(cls=DlgradeCommand)
@click.option("--assignment", "-a", required=True, help="Assignment id, e.g. a1.")
@course_option(fallback=False)
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False),
    help="Where to write the zip [default: autograder-ASSIGNMENT.zip].",
)
def gradescope(assignment, course, out_path) -> None:
    """Write a Gradescope autograder zip (setup.sh, run_autograder) that grades with dlgrade."""
    from reports.gradescope_autograder import build

    written = build(course, assignment, Path(out_path or f"autograder-{assignment}.zip"))
    click.echo(f"wrote {written}: upload it as the autograder of the Gradescope assignment {assignment}")


@click.command(cls=DlgradeCommand)
@click.argument("folder", type=click.Path(file_okay=False), default=".")
def init(folder) -> None:
    """Write a commented course.toml and an example students.csv into FOLDER (never over existing ones)."""
    written = write_starter_files(Path(folder))
    for path in written:
        click.echo(f"wrote {path}")
    if not written:
        click.echo(f"{folder} already has course.toml and students.csv: nothing written")


def write_starter_files(folder: Path) -> list[Path]:
    """The starter course file and roster, each only where there is none yet."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in ("course.toml", "students.csv"):
        target = folder / name
        if not target.exists():
            target.write_bytes((STARTERS / name).read_bytes())
            written.append(target)
    return written


def summary(written: Written, out_dir: Path) -> str:
    """What the instructor reads after the run: the class in two lines, then where to look."""
    students = written.report.students
    bonuses = [s.bonus for s in students]
    mean = sum(bonuses) / len(bonuses) if bonuses else 0.0
    bonus_max = written.report.policy.bonus_max
    lines = [f"{len(students)} student(s); mean bonus {number(mean)} of {number(bonus_max)}"]
    finals = [s.final.result for s in students if s.final is not None]
    if finals:
        counts = ", ".join(f"{finals.count(r)} {r}" for r in ("pass", "fail", "no exam"))
        lines.append(f"final: {counts}")
    lines.append(f"wrote {len(written.paths)} file(s) to {out_dir}; start with {out_dir / 'overview.html'}")
    return "\n".join(lines)
