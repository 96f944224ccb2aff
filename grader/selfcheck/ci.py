"""``dlgrade ci``: grading inside a GitHub Actions job.

    dlgrade ci --assignment a1 --junit junit.xml a1.ipynb                 # a student's push
    dlgrade ci --assignment a1 --suite hidden --junit junit.xml subs/*   # the instructor's pipeline

Besides the usual tables, it writes what GitHub reads:

    annotations   ``::error file=a1.ipynb,line=42,title=sign: test_...::message``, one per
                  failing check (GitHub shows at most 10 per step; the rest are counted)
    job summary   Markdown appended to ``$GITHUB_STEP_SUMMARY`` (or ``--summary PATH``)
    result        the step output ``result`` in ``$GITHUB_OUTPUT`` (or ``--github-output PATH``):
                  base64 JSON ``{version: 1, status, max_score, tests: [...]}``, what GitHub
                  Classroom's reporter (classroom-resources/autograding-grading-reporter)
                  reads from each grader step and turns into the score Classroom records
    points        ``Points X/Y``; where no ``result`` is written, also the two notices the
                  reporter would write (for setups without it)
    JUnit XML     ``--junit PATH`` (``grader/selfcheck/junit.py``)
    exit code     0 every check passed, 1 some failed, 2 something could not be graded

Which suite runs where, and why the hidden one never runs in a repository students
control, is in docs/ci.md.
"""

from __future__ import annotations

import base64
import json
import re
import traceback
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import click

from grader import console
from grader.commands import EXIT_NOT_GRADED, DlgradeCommand
from grader.course.layout import SUITES, Course
from grader.errors import DlgradeError
from grader.grading.grade import grade
from grader.results.records import SubmissionResult, TestResult
from grader.sandbox.limits import Limits
from grader.selfcheck import check_descriptions
from grader.selfcheck.check import course_for, exit_code, suite_folder
from grader.selfcheck.check_descriptions import CheckInfo
from grader.selfcheck.junit import write_junit

MAX_ANNOTATIONS = 10  # GitHub keeps 10 error annotations per step
RESULT_MESSAGE_CHARS = 2_000  # per test in the Classroom result: a step output holds at most 1 MiB
RESULT_STATUS = {"passed": "pass"}  # the reporter's test statuses: pass, fail, error
DETAILED_SUBMISSIONS = 10  # beyond this many, the job summary keeps one line per submission
SUMMARY_CHARS = 1_000_000  # GitHub refuses a step summary over 1 MiB


def run_ci(
    paths: Sequence[str],
    *,
    assignment: str,
    suite: str = "public",
    course: Course,
    junit: str | Path | None = None,
    summary: str | Path | None = None,
    limits: Limits = Limits(),
    mode: str = "definitions",
    github_output: str | Path | None = None,
    echo: Callable[[str], None] = print,
) -> int:
    """Grade ``paths``, report in every form GitHub reads, and return the exit code."""
    checks = check_descriptions.describe(suite_folder(course, assignment, suite))
    results = grade(list(paths), assignment=assignment, course=course, suite=suite, mode=mode, limits=limits)
    for result in results:
        echo(log_text(result, checks))
    for line in error_annotations(results, checks):
        echo(line)
    if github_output:
        write_output(github_output, "result", classroom_result(results, checks))
    for line in points_lines(results, notices=not github_output):
        echo(line)
    if junit:
        write_junit(results, junit)
    if summary:
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(job_summary(results, checks))
    return exit_code(results)


def log_text(result: SubmissionResult, checks: Mapping[str, CheckInfo]) -> str:
    """The log of one submission: a student's table for public checks, one line per
    test for a hidden suite (whose log only the instructor reads)."""
    if result.suite == "public":
        return console.check_table(result, checks)
    lines = [console.result_line(result)]
    lines += [f"  {_mark(test)}  {test.name} ({test.points:g}/{test.max_points:g})" for test in result.tests]
    return "\n".join(lines)


def _mark(test: TestResult) -> str:
    return console.MARKS.get(test.outcome, "FAIL")


# ---------------------------------------------------------------- annotations


def error_annotations(results: Sequence[SubmissionResult], checks: Mapping[str, CheckInfo]) -> list[str]:
    """One ``::error`` per failing check or ungradable submission, at most MAX_ANNOTATIONS."""
    lines = []
    for result in results:
        if result.status != "graded":
            title = f"could not grade: {result.status}"
            lines.append(error_command(title, result.message, result.submission))
        for test in result.tests:
            if test.outcome not in console.MARKS:
                lines.append(_test_annotation(result, test, check_descriptions.lookup(checks, test.name)))
    if len(lines) > MAX_ANNOTATIONS:
        more = len(lines) - MAX_ANNOTATIONS
        lines = lines[:MAX_ANNOTATIONS] + [f"::warning::{more} more failing check(s): see the job summary"]
    return lines


def _test_annotation(result: SubmissionResult, test: TestResult, info: CheckInfo) -> str:
    names = console.blamed(info, test)
    title = f"{', '.join(names)}: {test.name}" if names else test.name
    hint = console.hint_for(test, info, names)
    message = f"{test.message.strip()}\nhint: {hint}" if hint else test.message.strip()
    line = definition_line(result.submission, names[0]) if names else None
    return error_command(title, message, result.submission, line)


def error_command(title: str, message: str, file: str, line: int | None = None) -> str:
    """A GitHub workflow command: ``::error file=F,line=L,title=T::message``."""
    properties = {"file": _relative(file), "line": str(line) if line else None, "title": title}
    joined = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items() if value)
    return f"::error {joined}::{escape_data(message)}"


def escape_data(text: str) -> str:
    """A workflow command's message ends at a newline: encode it, as @actions/core does."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def definition_line(path: str, name: str) -> int | None:
    """The line of the submission's file that defines ``name`` (in a notebook's JSON too),
    so that the annotation sits next to the student's code."""
    pattern = re.compile(rf"\b(?:def|class)\s+{re.escape(name)}\b")
    try:
        lines = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return next((number for number, text in enumerate(lines, 1) if pattern.search(text)), None)


def _relative(path: str) -> str:
    """Annotations name files relative to the repository (the job's working folder)."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return path


# ---------------------------------------------------------------- points


def points_lines(results: Sequence[SubmissionResult], notices: bool = True) -> list[str]:
    """``Points X/Y`` over every submission, and, with ``notices``, the two notices that
    GitHub Classroom reads, in the form classroom-resources/autograding-grading-reporter
    writes them. Where the reporter runs (it reads ``result``), it writes them itself:
    twice would be two scores."""
    total = sum(result.score for result in results)
    possible = sum(result.max_score for result in results)
    text = f"Points {total:g}/{possible:g}"
    if not notices:
        return [text]
    report = json.dumps({"totalPoints": _number(total), "maxPoints": _number(possible)})
    return [
        text,
        f"::notice title=Autograding complete::{text}",
        f"::notice title=Autograding report::{report}",
    ]


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


# ---------------------------------------------------------------- GitHub Classroom's result


def classroom_result(results: Sequence[SubmissionResult], checks: Mapping[str, CheckInfo]) -> str:
    """The ``result`` output of a grader step, as GitHub Classroom's reporter reads it:
    base64 of ``{"version": 1, "status", "max_score", "tests": [...]}``. The reporter adds
    up every test's ``score`` into the points and takes ``max_score`` as the most there
    are; ``status`` is ``pass``, ``fail`` (some test failed) or ``error`` (something could
    not be graded), and so is each test's. A submission that could not be graded is one
    ``error`` test. With several submissions, each test's name starts with its file."""
    tests = [test for result in results for test in _classroom_tests(result, checks, len(results) > 1)]
    failed = any(test["status"] != "pass" for test in tests)
    status = "error" if any(r.status != "graded" for r in results) else "fail" if failed else "pass"
    return _encoded(
        {
            "version": 1,
            "status": status,
            "max_score": _number(sum(r.max_score for r in results)),
            "tests": tests,
        }
    )


def _classroom_tests(result: SubmissionResult, checks: Mapping[str, CheckInfo], named: bool) -> list[dict]:
    prefix = f"{result.submission}: " if named else ""
    tests = []
    if result.status != "graded":
        message = f"{result.submission} could not be graded ({result.status}): {result.message}"
        tests.append(
            _classroom_test(
                f"{prefix}could not grade ({result.status})", "error", 0, message, result.submission, 0
            )
        )
    for test in result.tests:
        names = console.blamed(check_descriptions.lookup(checks, test.name), test)
        line = definition_line(result.submission, names[0]) if names else None
        tests.append(
            _classroom_test(
                prefix + test.name,
                RESULT_STATUS.get(test.outcome, "fail"),
                test.points,
                test.message,
                result.submission,
                line or 0,
            )
        )
    return tests


def _classroom_test(name: str, status: str, score: float, message: str, file: str, line: int) -> dict:
    """One test as the reporter prints it: ``line_no`` 0 means "no line" (it prints any other)."""
    if len(message) > RESULT_MESSAGE_CHARS:
        message = message[:RESULT_MESSAGE_CHARS] + " [truncated]"
    return {
        "name": name,
        "status": status,
        "score": _number(score),
        "message": message,
        "filename": _relative(file) if file else "",
        "line_no": line,
        "test_code": "",
    }


def _encoded(data: dict) -> str:
    return base64.b64encode(json.dumps(data).encode()).decode("ascii")


def write_output(path: str | Path, name: str, value: str) -> None:
    """Set a step output: one ``name=value`` line appended to ``$GITHUB_OUTPUT``."""
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(f"{name}={value}\n")


# ---------------------------------------------------------------- job summary


def job_summary(results: Sequence[SubmissionResult], checks: Mapping[str, CheckInfo]) -> str:
    """Markdown for the job's page: an overview, then, for a few submissions, every check."""
    suite = results[0].suite if results else "public"
    parts = [_overview(results, suite)]
    if len(results) <= DETAILED_SUBMISSIONS:
        parts += [_details(result, checks) for result in results]
    if suite == "public":
        parts.append(f"_{console.HIDDEN_NOTE}_\n")
    text = "\n".join(parts)
    return text if len(text) <= SUMMARY_CHARS else text[:SUMMARY_CHARS] + "\n\n_(summary truncated)_\n"


def _overview(results: Sequence[SubmissionResult], suite: str) -> str:
    assignment = results[0].assignment if results else "?"
    lines = [
        f"## dlgrade: {assignment}, {suite} {'checks' if suite == 'public' else 'suite'}",
        "",
        "| submission | points | status |",
        "|---|---:|---|",
    ]
    for result in results:
        points = f"{result.score:g}/{result.max_score:g}"
        lines.append(f"| {cell(result.submission)} | {points} | {cell(result.status)} |")
    total = sum(r.score for r in results), sum(r.max_score for r in results)
    return "\n".join([*lines, "", f"**Points {total[0]:g}/{total[1]:g}**", ""])


def _details(result: SubmissionResult, checks: Mapping[str, CheckInfo]) -> str:
    lines = [f"### {cell(result.submission)}", ""]
    if result.status != "graded":
        lines += [f"Could not grade ({cell(result.status)}): {cell(result.message)}", ""]
    lines += ["| check | function | result | points |", "|---|---|---|---:|"]
    failing = []
    for test in result.tests:
        info = check_descriptions.lookup(checks, test.name)
        lines.append(
            f"| {cell(test.name)} | {cell(', '.join(console.blamed(info, test)))} | {_mark(test)} "
            f"({cell(test.outcome)}) | {test.points:g}/{test.max_points:g} |"
        )
        if test.outcome not in console.MARKS:
            failing.append(_failure(test, info))
    return "\n".join([*lines, "", *failing])


def _failure(test: TestResult, info: CheckInfo) -> str:
    """A failing check's message (as literal text) and hint, folded away."""
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", test.message)), default=0))
    hint = console.hint_for(test, info, console.blamed(info, test))
    body = f"{fence}text\n{test.message.strip()}\n{fence}"
    hint_line = f"hint: {cell(hint)}" if hint else ""
    return f"<details><summary>{cell(test.name)}</summary>\n\n{body}\n\n{hint_line}\n</details>\n"


def cell(text: str) -> str:
    """Text safe in a Markdown table cell: no pipes, no line breaks, no HTML."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("|", "\\|").replace("\r", "").replace("\n", "<br>")


# ---------------------------------------------------------------- the command


@click.command("ci", cls=DlgradeCommand, error_exit=EXIT_NOT_GRADED)
@click.option("--assignment", "-a", required=True, help="Assignment id, e.g. a1.")
@click.option(
    "--suite",
    type=click.Choice(SUITES[::-1]),
    default="public",
    show_default=True,
    help="public: the checks students have; hidden: the graded suite (instructor only).",
)
@click.option("--junit", type=click.Path(dir_okay=False), help="Write JUnit XML here.")
@click.option(
    "--summary",
    type=click.Path(dir_okay=False),
    envvar="GITHUB_STEP_SUMMARY",
    help="Append a Markdown job summary here (default: $GITHUB_STEP_SUMMARY).",
)
@click.option(
    "--github-output",
    type=click.Path(dir_okay=False),
    envvar="GITHUB_OUTPUT",
    help="Append the step output `result`, which GitHub Classroom's reporter reads, "
    "here (default: $GITHUB_OUTPUT).",
)
@click.option("--run-all", is_flag=True, help="Run every top-level statement, not only definitions.")
@click.option(
    "--course",
    "course_dir",
    type=click.Path(file_okay=False, exists=True),
    help="Course or bundle folder (default: found from the current folder).",
)
@click.argument("notebooks", nargs=-1, required=True, type=click.Path(dir_okay=False))
def ci_command(
    assignment: str,
    suite: str,
    junit: str | None,
    summary: str | None,
    github_output: str | None,
    run_all: bool,
    course_dir: str | None,
    notebooks: tuple[str, ...],
) -> None:
    """Grade NOTEBOOKS in CI: annotations, a job summary, GitHub Classroom's `result`
    output, JUnit XML and a Points line.

    Exit code: 0 every check passed, 1 some failed, 2 something could not be graded.
    """
    try:
        course = course_for(course_dir, Path.cwd(), assignment, suite)
        code = run_ci(
            notebooks,
            assignment=assignment,
            suite=suite,
            course=course,
            junit=junit,
            summary=summary,
            mode="all" if run_all else "definitions",
            github_output=github_output,
            echo=click.echo,
        )
    except Exception as exc:  # anything else would exit 1, which reads as "a check failed"
        code = could_not_grade(exc, summary, echo=click.echo, github_output=github_output)
    raise SystemExit(code)


def could_not_grade(
    exc: Exception, summary: str | None, echo: Callable[[str], None] = print, github_output: str | None = None
) -> int:
    """Say why nothing was graded, in the log, as an annotation, in the job summary and as
    an ``error`` result for GitHub Classroom: exit 2."""
    message = str(exc) if isinstance(exc, DlgradeError) else f"{type(exc).__name__}: {exc}"
    if github_output:
        test = _classroom_test("dlgrade could not grade", "error", 0, message, "", 0)
        write_output(
            github_output,
            "result",
            _encoded({"version": 1, "status": "error", "max_score": 0, "tests": [test]}),
        )
    echo(f"::error title=dlgrade could not grade::{escape_data(message)}")
    echo(f"could not grade: {message}")
    if not isinstance(exc, DlgradeError):
        echo(traceback.format_exc())
    if summary:
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(f"## dlgrade: could not grade\n\n{cell(message)}\n")
    return 2
