"""``python -m dlgrade``: the student's commands, ``check`` and ``ci``.

A student bundle ships this and the part of ``grader`` these two commands import,
nothing else (see ``grader/handout/release.py``); the instructor's ``dlgrade`` command has
more (grade, assign, release).
"""

import click

from grader.selfcheck.check import check_command
from grader.selfcheck.ci import ci_command


@click.group()
def main() -> None:
    """dlgrade for students: the public checks of an assignment, in a terminal or in CI."""


main.add_command(check_command)
main.add_command(ci_command)

if __name__ == "__main__":
    main()
