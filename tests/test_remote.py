"""What a hidden test can do with a submission through ``remote.Student``, in a real worker."""

import pytest
import torch

from grader.errors import StudentRaised
from grader.sandbox.remote import Student
from grader.sandbox.session import Session

pytestmark = pytest.mark.sandbox

CELLS = [
    "import torch",
    "def grad_mode():\n    return torch.is_grad_enabled()",
    "def gradient_by_autograd(z):\n    z = z.clone().requires_grad_()\n    (z**2).sum().backward()\n"
    "    return z.grad",
]


@pytest.fixture(scope="module")
def student():
    session = Session(CELLS)
    session.start()
    yield Student(session)
    session.close()


def test_calls_run_with_gradients_by_default(student):
    assert student.grad_mode() is True
    z = torch.tensor([1.0, -2.0])
    assert student.gradient_by_autograd(z).tolist() == [2.0, -4.0]


def test_inside_no_grad_calls_run_under_torch_no_grad(student):
    with student.no_grad():
        assert student.grad_mode() is False
    assert student.grad_mode() is True  # the block ends, so does the mode


def test_autograd_fails_under_no_grad_instead_of_giving_the_right_numbers(student):
    with student.no_grad(), pytest.raises(StudentRaised, match="does not require grad"):
        student.gradient_by_autograd(torch.tensor([1.0, -2.0]))


def test_remotes_follow_their_students_mode(student):
    model = student.lib("torch.nn.Linear", 3, 2)
    with model.no_grad():
        out = model.call("__call__", torch.ones(1, 3))
    assert isinstance(out, torch.Tensor) and out.shape == (1, 2) and not out.requires_grad


def test_source_cells_are_read_on_the_trusted_side(student):
    assert student.source_cells == CELLS


def test_an_explanation_is_added_to_gradient_errors_under_no_grad(student):
    with student.no_grad(explain="autograd is not allowed here"), pytest.raises(StudentRaised) as caught:
        student.gradient_by_autograd(torch.tensor([1.0]))
    assert "does not require grad" in caught.value.message
    assert caught.value.message.endswith("autograd is not allowed here")
