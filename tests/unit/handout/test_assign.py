"""`dlgrade assign` turns solutions into stubs, and assignments/ is never stale."""

import json
import re

import nbformat
import pytest
from click.testing import CliRunner
from support import COURSE

from grader.cli import main
from grader.errors import DlgradeError
from grader.handout.assign import strip_solution, student_notebook


def test_a_solution_region_becomes_a_stub_at_its_indentation():
    source = "def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n\ny = 1"
    assert strip_solution(source) == "def f(x):\n    raise NotImplementedError()\n\ny = 1"


@pytest.mark.parametrize(
    "broken", ["### BEGIN SOLUTION\nx", "x\n### END SOLUTION", "### BEGIN SOLUTION\n### BEGIN SOLUTION\n"]
)
def test_unbalanced_markers_are_errors(broken):
    with pytest.raises(DlgradeError):
        strip_solution(broken)


@pytest.mark.parametrize(
    "typo",
    [
        "## BEGIN SOLUTION",  # one # short
        "#### BEGIN SOLUTION",  # one # too many
        "### BEGIN SOLUTION (sigmoid)",  # a note after it
        "### begin solution",  # lowercase
        "### Begin Solution",
        "### BEGIN_SOLUTION",
        "# BEGIN SOLUTION",
        "x = 1  ### BEGIN SOLUTION",  # not alone on its line
        "### BEGIN HIDDEN TEST",  # nbgrader's marker, misspelt
        "## END HIDDEN TESTS",
    ],
)
def test_a_marker_like_line_the_parser_does_not_accept_is_an_error_naming_it(typo):
    source = f"def f(x):\n    {typo}\n    return x\n    ### END SOLUTION\n"
    with pytest.raises(DlgradeError, match=re.escape(f"line 2: {typo.strip()!r} looks like a marker")):
        strip_solution(source)


def test_nbgrader_hidden_tests_regions_are_removed_whole():
    source = "assert f(1) == 1\n### BEGIN HIDDEN TESTS\nassert f(2) == 4\n### END HIDDEN TESTS\nprint('ok')"
    assert strip_solution(source) == "assert f(1) == 1\nprint('ok')"


def test_a_solution_region_in_a_markdown_cell_becomes_your_answer_here():
    source = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell(
                "Why does ReLU help?\n### BEGIN SOLUTION\nIts gradient does not vanish.\n### END SOLUTION"
            )
        ]
    )
    student = student_notebook(source)
    assert student.cells[0].source == "Why does ReLU help?\nYOUR ANSWER HERE"


def test_dlgrade_assign_names_the_cell_and_line_of_a_bad_marker_and_writes_nothing(tmp_path):
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# a1"),
            nbformat.v4.new_code_cell(
                "def sigmoid(z):\n    ### BEGIN SOLUTION (sigmoid)\n"
                "    return 1 / (1 + (-z).exp())\n    ### END SOLUTION"
            ),
        ]
    )
    nbformat.write(notebook, str(tmp_path / "a1.ipynb"))
    run = CliRunner().invoke(main, ["assign", str(tmp_path / "a1.ipynb"), str(tmp_path / "out")])
    assert run.exit_code == 1
    assert "cell 2 (code), line 2: '### BEGIN SOLUTION (sigmoid)' looks like a marker" in run.output
    assert not (tmp_path / "out").exists()


def released(name):
    return json.loads((COURSE / "assignments" / name / f"{name}.ipynb").read_text())


@pytest.mark.parametrize("name", sorted(p.name for p in (COURSE / "source").iterdir()))
def test_assignments_are_up_to_date_with_their_source(name):
    source = nbformat.read(str(COURSE / "source" / name / f"{name}.ipynb"), as_version=4)
    expected = json.loads(nbformat.writes(student_notebook(source)))
    assert released(name) == expected, f"run: dlgrade assign source/{name}/{name}.ipynb assignments/{name}"


@pytest.mark.parametrize("name", sorted(p.name for p in (COURSE / "source").iterdir()))
def test_released_notebooks_hold_no_solution(name):
    text = json.dumps(released(name))
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
