"""Self-contained HTML reports from autoescaped jinja2 templates that extend one ``base.html``.

No script, no external asset: styles are inline, plots are inline SVG, and a
Content-Security-Policy in ``base.html`` makes the browser refuse anything else,
so a page works offline and a student's ``<script>`` could not run even if
escaping were ever lost.
"""

from __future__ import annotations

import functools
import hashlib
import re

from jinja2 import Environment, PackageLoader, StrictUndefined

from reports.bonus import BonusBreakdown, course_time, display_time, local_time, number, number_down
from reports.charts import BarChart, bar_chart, histogram, nice_step
from reports.classbook import ClassReport, StudentReport
from reports.feedback import assignment_feedback
from reports.overview import item_analysis, misconception_counts, problems, summaries, without_submission

Docstrings = dict[str, dict[str, str]]
"""assignment -> hidden test function -> the first paragraph of its docstring."""


@functools.cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("reports", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = number
    env.filters["num_down"] = number_down  # a final score: never printed above itself
    env.filters["when"] = display_time
    env.filters["course_time"] = course_time  # a hand-in time in the deadline's (the course's) zone
    env.filters["deadline"] = lambda moment: local_time(moment, moment) if moment else "none"
    env.filters["percent"] = lambda value: f"{round(100 * value)}%"
    return env


def student_filename(student: str) -> str:
    """A file name for a student's page; an id with other characters gets a hash to stay unique."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", student).lstrip(".") or "_"
    if safe != student:
        safe += "-" + hashlib.sha256(student.encode()).hexdigest()[:8]
    return f"{safe}.html"


def render_student(
    report: ClassReport, student: StudentReport, *, docstrings: Docstrings | None = None, generated: str = ""
) -> str:
    """The feedback page one student reads: the bonus, how it was computed, and every visible test."""
    docstrings = docstrings or {}
    policy = report.policy
    sections = [
        (
            line,
            assignment_feedback(
                line.assignment,
                student.attempts[line.assignment],
                policy.visibility_of(line.assignment),
                docstrings.get(line.assignment),
            ),
        )
        for line in student.breakdown.lines
    ]
    return (
        environment()
        .get_template("student.html")
        .render(
            policy=policy,
            student=student,
            sections=sections,
            members=policy.members(student.team),
            scaling=scaling_steps(student.breakdown),
            generated=generated,
        )
    )


def render_overview(report: ClassReport, *, generated: str = "") -> str:
    """The class overview an instructor reads: distributions, item analysis, and what went wrong."""
    return (
        environment()
        .get_template("overview.html")
        .render(
            policy=report.policy,
            report=report,
            charts=charts(report),
            summaries=summaries(report),
            items={a: item_analysis(report, a) for a in report.assignments},
            problems=problems(report),
            misconceptions={a: misconception_counts(report, a) for a in report.assignments},
            missing=without_submission(report),
            filename=student_filename,
            generated=generated,
        )
    )


def charts(report: ClassReport) -> list[BarChart]:
    """The bonus distribution, the final scores' (with an exam file), and each assignment's points."""
    policy = report.policy
    step = policy.rounding or 1.0
    bonuses = [s.bonus for s in report.students]
    found = [
        bar_chart(
            histogram(bonuses, low=0, high=policy.bonus_max + step, step=step),
            title="Bonus points",
            unit="bonus points",
        )
    ]
    finals = [s.final.total for s in report.students if s.final and s.final.total is not None]
    if report.has_exam:
        top = policy.exam_max + policy.bonus_max
        marker = (policy.pass_mark, f"pass mark {number(policy.pass_mark)}")
        bins = histogram(finals, low=0, high=top, step=nice_step(top, 12))
        found.append(bar_chart(bins, title="Final scores (exam + bonus)", unit="points", marker=marker))
    for assignment in report.assignments:
        maximum = report.max_points[assignment] or 1.0
        points = [s.breakdown.line(assignment).points for s in report.students]
        step = nice_step(maximum)
        found.append(
            bar_chart(
                histogram(points, low=0, high=maximum + step, step=step),
                title=f"{assignment}: points per student",
                unit="points",
            )
        )
    return found


def scaling_steps(breakdown: BonusBreakdown) -> list[str]:
    """The bonus computation written out, one step a line, with the student's own numbers."""
    terms = " + ".join(f"{number(line.weight)} × {number(line.fraction)}" for line in breakdown.lines)
    rounding = (
        f"rounded to a multiple of {number(breakdown.rounding)} (halves up)"
        if breakdown.rounding > 0
        else "not rounded"
    )
    return [
        f"weighted share = ({terms or '0'}) / {number(breakdown.total_weight)} "
        f"= {number(breakdown.weighted_fraction)}",
        f"{number(breakdown.weighted_fraction)} × {number(breakdown.bonus_max)} bonus points "
        f"= {number_down(breakdown.unrounded)}",
        f"{number_down(breakdown.unrounded)} {rounding}, at most {number(breakdown.bonus_max)}: "
        f"bonus = {number(breakdown.bonus)}",
    ]
