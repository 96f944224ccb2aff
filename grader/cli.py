"""The ``dlgrade`` command line: thin commands over plain functions.

dlgrade grade --assignment a1 --json results.json submissions/*.ipynb
dlgrade check assignments/a1/a1.ipynb
dlgrade assign source/a1/a1.ipynb assignments/a1
dlgrade doctor                                    (grader/grading/preflight.py)
dlgrade release --assignment a1 handout/          (grader/handout/release.py)
dlgrade ci --assignment a1 a1.ipynb               (grader/selfcheck/ci.py)
dlgrade report --out report/                      (reports/cli.py)
dlgrade similarity --assignment a1 submissions/   (grader/similarity/cli.py)
"""

from __future__ import annotations

import functools
import sys
import time
from pathlib import Path

import click

from grader import console
from grader.commands import EXIT_NOT_GRADED, DlgradeGroup, course_option
from grader.devices import is_gpu
from grader.errors import DlgradeError
from grader.grading import preflight
from grader.grading.batch import BatchEvents, default_gradebook, grade_class
from grader.grading.grade import grade_reference
from grader.grading.options import GradingOptions
from grader.grading.parallel import default_workers
from grader.handout.assign import assign as assign_notebook
from grader.results.gradebook import FILENAME, Gradebook
from grader.sandbox.limits import Limits
from grader.sandbox.process import isolation_warning

DEFAULTS = Limits()

grading_choices = [
    click.option(
        "--test-timeout",
        "test_seconds",
        type=float,
        default=DEFAULTS.test_seconds,
        show_default=True,
        help="Seconds one hidden test may take.",
    ),
    click.option(
        "--submission-timeout",
        "submission_seconds",
        type=float,
        default=DEFAULTS.submission_seconds,
        show_default=True,
        help="Seconds one whole submission may take.",
    ),
    click.option(
        "--memory-mb",
        type=int,
        default=DEFAULTS.memory_mb,
        show_default=True,
        help="Memory a student's code may add to its worker (beyond what torch took).",
    ),
    click.option(
        "--threads",
        type=click.IntRange(min=1),
        default=DEFAULTS.threads,
        show_default=True,
        help="torch threads in each student's worker (parallelism comes from --workers).",
    ),
    click.option(
        "--run-all", is_flag=True, help="Run every top-level statement, not only imports and definitions."
    ),
    click.option(
        "--device",
        default=GradingOptions.device,
        show_default=True,
        help="Where graded functions get their tensors: auto, cpu, cuda or cuda:N.",
    ),
]


def with_grading_choices(command):
    """The options every grading command shares, handed to it as ``choices``: the
    ``GradingOptions`` fields they set (limits, mode, device); ``--course`` as ``course``."""

    @functools.wraps(command)
    def run(*args, test_seconds, submission_seconds, memory_mb, threads, run_all, device, **kwargs):
        limits = Limits(
            test_seconds=test_seconds,
            submission_seconds=submission_seconds,
            memory_mb=memory_mb,
            threads=threads,
        )
        choices = {"limits": limits, "mode": "all" if run_all else "definitions", "device": device}
        return command(*args, choices=choices, **kwargs)

    for option in reversed(grading_choices):
        run = option(run)
    return course_option()(run)


@click.group(cls=DlgradeGroup)
@click.version_option(package_name="dlgrade")
def main() -> None:
    """dlgrade: grade deep-learning notebooks with hidden tests, student code sandboxed."""


@main.command()
@click.option("--assignment", "-a", required=True, help="Assignment id, e.g. a1.")
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False),
    help="Write results here at the end (meanwhile: one line per result in FILE.partial.jsonl).",
)
@click.option(
    "--gradebook",
    "gradebook_path",
    type=click.Path(dir_okay=False),
    help=f"SQLite gradebook (default: {FILENAME} in the course folder).",
)
@click.option("--force", is_flag=True, help="Grade again what the gradebook already has.")
@click.option(
    "--workers",
    "-j",
    type=click.IntRange(min=1),
    help="Grading processes side by side [default: one per core; on GPUs, one per GPU].",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="Grade on this Dask cluster (e.g. tcp://host:8786) instead of this machine.",
)
@click.option(
    "--min-workers",
    type=click.IntRange(min=1),
    default=GradingOptions.min_workers,
    show_default=True,
    help="With --scheduler: wait until this many Dask workers have joined (e.g. the Slurm "
    "jobs asked for), so that the work is cut for all of them.",
)
@with_grading_choices
@click.argument("submissions", nargs=-1, required=True, type=click.Path(exists=True))
def grade(
    assignment,
    json_path,
    gradebook_path,
    force,
    workers,
    scheduler,
    min_workers,
    submissions,
    course,
    choices,
) -> None:
    """Grade SUBMISSIONS (notebooks, .py files, or folders of them) with the hidden suite.

    Every result goes into the gradebook as soon as it is finished; a submission the
    gradebook already has (same content, same suite version) is not graded again.
    Exit code 0: every submission has a verdict; 2: some ended in `error` (dlgrade could
    not grade them; the same command grades them again); 1: the batch could not run.
    """
    _warn_isolation()
    options = GradingOptions.of(
        course, assignment, force=force, scheduler=scheduler, min_workers=min_workers, **choices
    ).checked()
    options = options.but(workers=workers or _default_workers(options))
    book = Path(gradebook_path) if gradebook_path else default_gradebook(course)
    events = _Printed()
    try:
        with Gradebook(book) as gradebook:
            graded = grade_class(
                list(submissions),
                options,
                gradebook=gradebook,
                results=Path(json_path) if json_path else None,
                events=events,
            )
    except KeyboardInterrupt:
        click.echo(f"\ninterrupted: {resume_hint(book)}", err=True)
        sys.exit(130)
    finally:
        events.close()
    click.echo(console.batch_summary([item.result for item in graded]))
    if json_path:
        click.echo(f"results written to {json_path}")
    click.echo(f"gradebook: {book}")
    errors = [item.submission.student for item in graded if item.result.status == "error"]
    if errors:
        click.echo(
            f"{len(errors)} submission(s) could not be graded (status error: not the students' "
            f"doing): {_few(errors)}. "
            "Run the same command again to grade them again.",
            err=True,
        )
        sys.exit(EXIT_NOT_GRADED)


class _Printed(BatchEvents):
    """A batch as the terminal shows it: a line per result (a bar below them), and waits."""

    def __init__(self):
        self.progress: console.Progress | None = None

    def started(self, count: int) -> None:
        self.progress = console.Progress(count)

    def graded(self, item) -> None:
        if self.progress is None:  # a batch says started() before any result
            raise RuntimeError("a result arrived before the batch started")
        self.progress.add(console.graded_line(item.submission.student, item.result, item.reused))

    def waiting_for_batch(self, students: list[str]) -> None:
        if students:
            click.echo(
                f"waiting for another dlgrade that is grading {len(students)} of these students "
                f"({_few(students)})",
                err=True,
            )

    def waiting_for_workers(self, connected: int, wanted: int) -> None:
        click.echo(f"waiting for Dask workers: {connected} of {wanted} have joined", err=True)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.close()


def _few(names: list[str], shown: int = 10) -> str:
    return ", ".join(names[:shown]) + (", ..." if len(names) > shown else "")


def resume_hint(book: Path) -> str:
    """What Ctrl-C leaves behind, and how to go on from there."""
    return (
        f"every result finished so far is in the gradebook {book}. Run the same command again "
        "to go on: what is there is not graded again, the rest is."
    )


@main.command()
@click.option(
    "--assignment",
    "-a",
    "assignments",
    multiple=True,
    help="Check this assignment only (repeatable) [default: every assignment of the course].",
)
@with_grading_choices
def doctor(assignments, course, choices) -> None:
    """Say which walls of the sandbox this machine gives, and grade every assignment's reference
    here, in the sandbox, device and limits students get: what `grade` checks before a batch.

    Exit code 0: every reference gets full marks; 2: some do not (the cause and fix are printed).
    """
    click.echo("Sandbox walls on this machine:")
    for wall, given in preflight.walls(choices["limits"]):
        click.echo(f"  {wall:<11} {given}")
    click.echo(f"References, graded as students are (device {choices['device']}):")
    failed = 0
    for assignment in assignments or course.assignments():
        started = time.monotonic()
        try:
            result = grade_reference(GradingOptions.of(course, assignment, **choices))
        except DlgradeError as exc:
            failed += 1
            click.echo(f"  {assignment}: FAILED: {exc}")
            continue
        seconds = time.monotonic() - started
        click.echo(f"  {assignment}: {result.score:g}/{result.max_score:g} in {seconds:.1f} s")
    if failed:
        click.echo(f"{failed} assignment(s) would be graded wrong on this machine: fix that first.", err=True)
        sys.exit(EXIT_NOT_GRADED)


@main.command()
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
@click.argument("out_dir", type=click.Path(file_okay=False))
def assign(source, out_dir) -> None:
    """Write the student version of the annotated SOURCE notebook into OUT_DIR."""
    click.echo(f"wrote {assign_notebook(source, out_dir)}")


def _default_workers(options: GradingOptions) -> int:
    """One grading process per core on the CPU; one per GPU on GPUs."""
    return len(options.devices) if is_gpu(options.devices[0]) else default_workers()


def _warn_isolation() -> None:
    warning = isolation_warning()
    if warning:
        click.echo(f"warning: {warning}", err=True)


def _register_commands() -> None:
    """Commands that live beside the grader, in their own packages."""
    from grader.handout.release import release_command
    from grader.selfcheck.check import check_command
    from grader.selfcheck.ci import ci_command
    from grader.similarity.cli import similarity
    from reports.cli import gradescope, init, report

    for command in (check_command, ci_command, release_command, report, init, gradescope, similarity):
        main.add_command(command)


_register_commands()


if __name__ == "__main__":
    main()
