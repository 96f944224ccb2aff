"""What every ``dlgrade`` command shares: ``--course``, resolved once, and one mapping from
dlgrade's own errors to a message and an exit code.

    @click.command(cls=DlgradeCommand)          # or @main.command() on the dlgrade group
    @course_option()
    def report(course: Course, ...): ...        # a DlgradeError raised in here becomes
                                                # "Error: <message>", exit 1

A ``DlgradeError`` is an expected failure with a message written for the user, so a
command prints that message, never a traceback. The exit code says who is to blame:
1 (``EXIT_FAILED``) for most commands (the work could not run: fix the call), 2
(``EXIT_NOT_GRADED``) where a command's codes say "something could not be graded"
(``dlgrade check``, ``grade``, ``doctor``, ``ci``), that is dlgrade's own error, never
a student's failed check.
"""

from __future__ import annotations

import functools
from pathlib import Path

import click

from grader.course.layout import Course
from grader.errors import DlgradeError

EXIT_FAILED = 1  # click's own code for an error it prints
EXIT_NOT_GRADED = 2  # something could not be graded (or checked): not the student's doing

COURSE_HELP = "Course folder (default: found from the current folder)."


class CommandError(click.ClickException):
    """A ``DlgradeError`` as a command ends with it: its message, and click's exit code 1.
    With a ``prefix`` the line reads as the command's own ("could not check: ..."), without
    it as click prints any error ("Error: ...")."""

    def __init__(self, message: str, prefix: str = ""):
        super().__init__(message)
        self.prefix = prefix

    def show(self, file=None) -> None:
        if self.prefix:
            click.echo(f"{self.prefix}{self.format_message()}", err=True, file=file)
        else:
            super().show(file)


class NotGradedError(CommandError):
    """The same, for the commands whose exit code 2 says "could not be graded or checked"
    (click declares ``exit_code`` on the class: newer versions type it as a class variable)."""

    exit_code = EXIT_NOT_GRADED


ERRORS_BY_EXIT_CODE = {EXIT_FAILED: CommandError, EXIT_NOT_GRADED: NotGradedError}


class DlgradeCommand(click.Command):
    """A click command that maps ``DlgradeError`` to ``CommandError``: the one place where
    that happens, for every command, whether run from the ``dlgrade`` group or on its own."""

    def __init__(self, *args, error_exit: int = EXIT_FAILED, error_prefix: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.error_class = ERRORS_BY_EXIT_CODE[error_exit]
        self.error_prefix = error_prefix

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except DlgradeError as exc:
            raise self.error_class(str(exc), self.error_prefix) from None


class DlgradeGroup(click.Group):
    """The ``dlgrade`` group: its commands are ``DlgradeCommand``s."""

    command_class = DlgradeCommand


def named_course(course_dir: str | Path) -> Course:
    """The course in the folder the user named with ``--course``."""
    return Course(Path(course_dir).resolve())


def course_option(help: str = COURSE_HELP, *, fallback: bool = True):
    """``--course DIR``, handed to the command as ``course``: that folder, else the course
    found from the current folder (``Course.find``; ``fallback=False``: none found is an
    error, not this checkout's example course). Resolved when the command runs, so that a
    course that cannot be found is reported like any other ``DlgradeError``."""

    def decorate(command):
        @functools.wraps(command)
        def run(*args, course_dir: str | None = None, **kwargs):
            course = named_course(course_dir) if course_dir else Course.find(fallback=fallback)
            return command(*args, course=course, **kwargs)

        folder = click.Path(file_okay=False, exists=True)
        return click.option("--course", "course_dir", type=folder, help=help)(run)

    return decorate
