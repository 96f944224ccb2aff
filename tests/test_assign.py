"""`dlgrade assign` turns solutions into stubs, and assignments/ is never stale."""

import json

import nbformat
import pytest
from support import ROOT

from grader.assign import strip_solution, student_notebook
from grader.errors import DlgradeError


def test_a_solution_region_becomes_a_stub_at_its_indentation():
    source = "def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n\ny = 1"
    assert strip_solution(source) == "def f(x):\n    raise NotImplementedError()\n\ny = 1"


@pytest.mark.parametrize("broken", ["### BEGIN SOLUTION\nx", "x\n### END SOLUTION",
                                    "### BEGIN SOLUTION\n### BEGIN SOLUTION\n"])  # fmt: skip
def test_unbalanced_markers_are_errors(broken):
    with pytest.raises(DlgradeError):
        strip_solution(broken)


def released(name):
    return json.loads((ROOT / "assignments" / name / f"{name}.ipynb").read_text())


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "source").iterdir()))
def test_assignments_are_up_to_date_with_their_source(name):
    source = nbformat.read(str(ROOT / "source" / name / f"{name}.ipynb"), as_version=4)
    expected = json.loads(nbformat.writes(student_notebook(source)))
    assert released(name) == expected, f"run: dlgrade assign source/{name}/{name}.ipynb assignments/{name}"


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "source").iterdir()))
def test_released_notebooks_hold_no_solution(name):
    text = json.dumps(released(name))
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
