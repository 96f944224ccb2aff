"""The one mapping from dlgrade's errors to a message and an exit code, and --course."""

import ast
from pathlib import Path

import click
from click.testing import CliRunner
from support import COURSE, ROOT

from grader.cli import main
from grader.commands import EXIT_NOT_GRADED, DlgradeCommand, DlgradeGroup, course_option
from grader.errors import DlgradeError, GradebookError


def _group_with(command: click.Command) -> click.Group:
    group = DlgradeGroup()
    group.add_command(command)
    return group


def test_a_dlgrade_error_is_one_line_and_exit_1_never_a_traceback():
    @click.command(cls=DlgradeCommand)
    def broken():
        raise GradebookError("the gradebook /x/book.sqlite is locked")

    for runner_target, args in ((broken, []), (_group_with(broken), ["broken"])):
        run = CliRunner().invoke(runner_target, args)
        assert run.exit_code == 1
        assert run.output == "Error: the gradebook /x/book.sqlite is locked\n"
        assert not isinstance(run.exception, DlgradeError)  # handled, not raised through


def test_a_command_whose_codes_say_not_graded_exits_2_with_its_own_words():
    @click.command(cls=DlgradeCommand, error_exit=EXIT_NOT_GRADED, error_prefix="could not check: ")
    def check():
        raise DlgradeError("no public suite")

    run = CliRunner().invoke(check, [])
    assert (run.exit_code, run.output) == (2, "could not check: no public suite\n")


def test_other_exceptions_are_not_dressed_up_as_messages():
    @click.command(cls=DlgradeCommand)
    def buggy():
        raise KeyError("a bug of ours")

    run = CliRunner().invoke(buggy, [])
    assert run.exit_code == 1 and isinstance(run.exception, KeyError)


def test_course_is_the_folder_named_or_the_one_found(tmp_path, monkeypatch):
    @click.command(cls=DlgradeCommand)
    @course_option(fallback=False)
    def where(course):
        click.echo(course.root)

    assert CliRunner().invoke(where, ["--course", str(COURSE)]).output == f"{COURSE}\n"
    monkeypatch.chdir(COURSE / "suites")
    assert CliRunner().invoke(where, []).output == f"{COURSE}\n"
    monkeypatch.chdir(tmp_path)
    run = CliRunner().invoke(where, [])
    assert run.exit_code == 1 and "no course folder" in run.output


def test_every_command_maps_errors_in_the_one_place():
    def commands(group):
        for command in group.commands.values():
            yield from commands(command) if isinstance(command, click.Group) else [command]

    assert [c.name for c in commands(main) if not isinstance(c, DlgradeCommand)] == []


def test_no_module_maps_a_dlgrade_error_to_a_click_error_itself():
    """``except DlgradeError: raise click.ClickException`` lives in grader/commands.py only."""
    offenders = []
    for path in [*Path(ROOT, "grader").rglob("*.py"), *Path(ROOT, "reports").rglob("*.py")]:
        if path.name == "commands.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and ast.unparse(node.func).endswith("ClickException"):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []
