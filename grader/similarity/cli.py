"""``dlgrade similarity``: a thin command over ``find_similar``.

dlgrade similarity --assignment a2 --out reports/ submissions/a2/
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click

from grader.commands import DlgradeCommand, course_option
from grader.course.layout import Course
from grader.similarity.fingerprints import Report, Settings, compare_submissions, write_csv
from grader.similarity.html import write_html

DEFAULTS = Settings()
MAX_HTML_PAIRS = 100  # more than this is a threshold set too low; the CSV still has them all


@dataclass(frozen=True)
class Written:
    report: Report
    csv: Path
    html: Path


def find_similar(
    arguments: list[str],
    *,
    assignment: str,
    course: Course,
    out_dir: str | Path = ".",
    settings: Settings = DEFAULTS,
    max_html_pairs: int = MAX_HTML_PAIRS,
) -> Written:
    """Compare the submissions and write ``similarity-<assignment>.csv`` and ``.html`` into ``out_dir``."""
    report = compare_submissions(arguments, assignment=assignment, course=course, settings=settings)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    csv_path = write_csv(report, out / f"similarity-{assignment}.csv")
    html_path = write_html(report, out / f"similarity-{assignment}.html", limit=max_html_pairs)
    return Written(report, csv_path, html_path)


def summary(written: Written) -> str:
    """What the instructor reads first: counts, then the flagged pairs, then where the files are."""
    report = written.report
    n = len(report.submissions)
    lines = [
        f"{report.assignment}: {n} submissions, {n * (n - 1) // 2 - report.same_team} pairs compared "
        f"({report.same_team} within a team not compared); {len(report.flagged)} flagged "
        f"(similarity >= {report.settings.threshold:.2f} on >= {report.settings.min_evidence:.1f} "
        "functions' worth of rare shared code)"
    ]
    for pair in report.flagged:
        lines.append(
            f"  {pair.similarity:.2f}  {pair.student_a} ({pair.team_a}) ~ {pair.student_b} "
            f"({pair.team_b}): {pair.evidence:.1f} functions' worth of rare shared code, "
            f"scored on {pair.scored} of {pair.compared} functions"
        )
    if report.partials:
        lines.append(f"{len(report.partials)} partial copies (one long, rare function shared nearly whole):")
    for part in report.partials[:20]:
        lines.append(f"  {part.student_a} ~ {part.student_b}: {part.function} ({part.score:.2f} of it)")
    lines += [f"note: {note}" for note in report.notes]
    lines += [f"not compared: {student}: {why}" for student, why in report.skipped]
    lines.append(f"wrote {written.csv} ({len(report.pairs)} pairs) and {written.html}")
    return "\n".join(lines)


@click.command(cls=DlgradeCommand)
@click.option("--assignment", "-a", required=True, help="Assignment id, e.g. a1.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default=".",
    show_default=True,
    help="Folder for similarity-<assignment>.csv and .html.",
)
@click.option(
    "--threshold",
    type=click.FloatRange(0, 1),
    default=DEFAULTS.threshold,
    show_default=True,
    help="Flag pairs whose similarity is at least this.",
)
@click.option(
    "--min-evidence",
    type=click.FloatRange(0),
    default=DEFAULTS.min_evidence,
    show_default=True,
    help="... on at least this many functions' worth of rare shared code.",
)
@course_option()
@click.argument("submissions", nargs=-1, required=True, type=click.Path(exists=True))
def similarity(assignment, out_dir, threshold, min_evidence, course, submissions) -> None:
    """Rank pairs of SUBMISSIONS by how much graded code they share (plagiarism between teams).

    Names, literals, comments, layout and the order of functions are set aside, and so is
    the code the released notebook gives. Students of one team are not compared. See
    docs/similarity.md for how to read the result.
    """
    settings = Settings(threshold=threshold, min_evidence=min_evidence)
    written = find_similar(
        list(submissions), assignment=assignment, course=course, out_dir=out_dir, settings=settings
    )
    click.echo(summary(written))
