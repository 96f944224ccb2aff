"""Correct notebooks as students really write them get full marks from the real suites.

Each notebook is built from the source notebook's solutions, then changed the way
students' notebooks differ from it: an a2 that looks its activations up in a dispatch
table built at top level (a lambda in it calls something), with black-formatted prints
and magics in its experiment cell; an a3 that holds only the backward pass it was asked
for, without the forward pass the handout gives.
"""

import nbformat
import pytest
from support import COURSE, assert_full_marks

from grader.course.layout import Course
from grader.grading.grade import grade
from grader.intake.given_code import read_handout

pytestmark = pytest.mark.sandbox

MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def solved_cells(assignment: str) -> list[str]:
    """The source notebook's code cells with the solutions in and the marker lines out."""
    notebook = nbformat.read(COURSE / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    return [unmarked(cell.source) for cell in notebook.cells if cell.cell_type == "code"]


def unmarked(cell: str) -> str:
    return "\n".join(line for line in cell.splitlines() if line.strip() not in MARKERS)


def write_notebook(path, cells: list[str]) -> str:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell) for cell in cells])
    nbformat.write(notebook, str(path))
    return str(path)


DISPATCH_TABLE = """ACTS = {
    "relu": relu,
    "tanh": tanh,
    "sigmoid": lambda z: torch.sigmoid(z),
    "leaky_relu": leaky_relu,
    "elu": elu,
}"""
EXPERIMENT = """%matplotlib inline
!pip install --quiet torch
params = init_params([64, 32, 10], generator=torch.Generator().manual_seed(0))
for epoch, loss in enumerate([2.3, 1.1]):
    print(
        "epoch %d of %d, loss %.4f"
        % (epoch + 1, 2, loss)
    )"""


def a2_with_a_dispatch_table() -> list[str]:
    cells = solved_cells("a2")
    [forward] = [i for i, cell in enumerate(cells) if "def mlp_forward" in cell]
    lookup = 'f = {"relu": relu, "tanh": tanh, "sigmoid": sigmoid, "leaky_relu": leaky_relu, "elu": elu}'
    assert lookup in cells[forward]
    cells[forward] = cells[forward].replace(lookup, "f = ACTS")
    return [*cells[:forward], DISPATCH_TABLE, *cells[forward:], EXPERIMENT]


def a3_without_the_given_forward_pass() -> list[str]:
    """The imports and the cells that hold a solution: what a student copies into a fresh notebook."""
    notebook = nbformat.read(COURSE / "source" / "a3" / "a3.ipynb", as_version=4)
    asked = [c.source for c in notebook.cells if c.cell_type == "code" and MARKERS[0] in c.source]
    return ["import torch", *map(unmarked, asked)]


def test_a_correct_a2_with_a_dispatch_table_gets_full_marks(tmp_path):
    path = write_notebook(tmp_path / "a2.ipynb", a2_with_a_dispatch_table())
    [result] = grade([path], assignment="a2", course=Course(COURSE))
    assert_full_marks(result, result.max_score)  # every hidden test passed
    assert any("were run because graded functions use what they bind" in note for note in result.notes)


def test_a_correct_a3_without_the_given_forward_pass_gets_full_marks_and_a_note(tmp_path):
    cells = a3_without_the_given_forward_pass()
    assert not any("def dense(" in cell or "def mlp_forward(" in cell for cell in cells)
    path = write_notebook(tmp_path / "a3.ipynb", cells)
    [result] = grade([path], assignment="a3", course=Course(COURSE))
    assert_full_marks(result, result.max_score)  # every hidden test passed
    note = next(note for note in result.notes if "the handout's given code was used" in note)
    assert "dense" in note and "mlp_forward" in note and "relu_backward" not in note


def test_the_handout_gives_only_code_outside_solution_regions():
    handout = read_handout(Course(COURSE), "a3")
    given = "\n".join(handout.given)
    assert "def dense(" in given and "def mlp_forward(" in given  # a2's forward pass, given in a3
    assert "def dense_backward(" not in given and "dout @ W.T" not in given  # the solutions are not
    assert {"dense_backward", "mlp_loss_and_grads", "dense"} <= set(handout.graded)


def test_the_sandboxed_worker_reads_magics_with_ipythons_reader():
    """IPython's reader is loaded inside the worker's view (``python -I``, bubblewrap, its own uid)."""
    pytest.importorskip("IPython")
    from grader.sandbox.session import Session

    probe = "import sys\n\ndef reader():\n    return sys.modules['magics'].reader()"
    session = Session([probe])
    try:
        session.start()
        session.begin_test()
        assert session.request({"op": "call", "target": {"name": "reader"}}, "reader")["ok"] == "IPython"
    finally:
        session.close()
