"""What a hidden test can do with a submission through ``remote.Student``, in a real worker."""

import time

import pytest
import torch
from support import record_requests

from grader.errors import StudentCrashed, StudentRaised
from grader.sandbox.remote import Student
from grader.sandbox.session import Session

pytestmark = pytest.mark.sandbox

CELLS = [
    "import torch",
    "def grad_mode():\n    return torch.is_grad_enabled()",
    "def gradient_by_autograd(z):\n    z = z.clone().requires_grad_()\n    (z**2).sum().backward()\n"
    "    return z.grad",
    "def by_computed_names(z):\n    with getattr(torch, 'enable_' + 'grad')():\n"
    "        t = z.clone().requires_grad_()\n"
    "        return getattr(torch, 'auto' + 'grad').grad((t**2).sum(), t)[0]",
    "def forward_mode(z):\n    return torch.func.jvp(lambda t: t**2, (z,), (torch.ones_like(z),))[1]",
    "def refusal_caught(z):\n    try:\n        return by_computed_names(z)\n    except Exception:\n"
    "        return 2 * z",
    "class Counter:\n    def __init__(self):\n        self.n = 0\n    def up(self):\n        self.n += 1\n"
    "        if self.n == 3:\n            raise ValueError('three is too many')\n        return self.n",
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


# ----------------------------------------------------------------- several requests at once


def test_a_batch_is_one_round_trip_whose_values_come_back_in_order(student, monkeypatch):
    counter, box = student.keep("Counter"), student.put(torch.zeros(2))
    sent = record_requests(student._session, monkeypatch)
    values = student.batch(
        [
            counter.calling("up"),
            box.setting("grad", torch.ones(2)),
            counter.calling("up"),
            counter.getting("n"),
            box.fetching(),
            student.putting(7),
        ]
    )
    assert sent == ["batch"]
    assert values[:4] == [1, None, 2, 2] and values[4].tolist() == [0.0, 0.0]
    assert values[5].fetch() == 7  # a value put in a batch stays in the worker, as with put()


def test_a_batch_stops_at_the_first_failure_and_raises_it_as_if_sent_alone(student):
    counter = student.keep("Counter")
    with pytest.raises(StudentRaised, match="up raised ValueError: three is too many"):
        student.batch([counter.calling("up") for _ in range(5)])
    assert counter.get("n") == 3  # the requests after the failure never ran


def test_the_values_before_a_failure_can_be_had_with_it(student):
    counter = student.keep("Counter")
    values, problem = student.batch_until_failure([counter.calling("up") for _ in range(5)])
    assert values == [1, 2] and isinstance(problem, StudentRaised)


def test_the_worker_refuses_a_batch_inside_a_batch(student):
    nested = {"op": "batch", "requests": [{"op": "batch", "requests": []}]}
    reply = student._session.request(nested, "nesting")
    assert reply["ok"][0]["error"]["kind"] == "protocol"


class LyingWorker:
    """A worker that answers a batch of three with one value and no error."""

    alive, output = True, None

    def request(self, message, timeout):
        return {"ok": [{"ok": 1}]} if message["op"] == "batch" else {"ok": {"defined": [], "notes": []}}

    def kill(self):
        self.alive = False


def test_a_batch_answered_short_without_an_error_is_a_crash():
    session = Session(["x = 1"], spawn=lambda limits: LyingWorker())
    session.start()
    values, problem = Student(session).batch_until_failure([Student(session).putting(i) for i in range(3)])
    assert values == [1] and isinstance(problem, StudentCrashed) and "answered 1 of 3" in problem.message


DIES_SOON = (
    "import os, threading, time\n"
    "def die_soon():\n    threading.Thread(target=lambda: (time.sleep(0.2), os._exit(3))).start()"
)


def dead_between_requests(session: Session):
    """A kept object, and the worker that kept it dead before the next request is sent."""
    student = Student(session)
    counter = student.keep("Counter")
    assert counter.call("up") == 1
    student.die_soon()
    deadline = time.monotonic() + 10
    while session._worker.alive and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not session._worker.alive
    return student, counter


@pytest.mark.parametrize("use", ["call", "batch", "as an argument"])
def test_an_object_of_a_worker_that_died_between_requests_is_a_crash_not_the_fresh_workers_keyerror(use):
    session = Session([*CELLS, DIES_SOON])
    session.start()
    try:
        student, counter = dead_between_requests(session)
        send = {
            "call": lambda: counter.call("up"),
            "batch": lambda: student.batch([counter.calling("up")]),
            "as an argument": lambda: student.put([counter]),
        }[use]
        with pytest.raises(StudentCrashed, match="object kept in the worker was lost") as caught:
            send()
        assert caught.value.outcome == "crashed"
        assert student.grad_mode() is True  # the next test gets a fresh worker
    finally:
        session.close()


@pytest.mark.parametrize(
    "function", ["by_computed_names", "forward_mode", "refusal_caught", "gradient_by_autograd"]
)
def test_autograd_is_refused_under_no_autograd_whatever_name_reaches_it(student, function):
    z = torch.tensor([1.0, -2.0])
    assert getattr(student, function)(z).tolist() == [2.0, -4.0]  # outside the block: it works
    with student.no_autograd(explain="compute it by hand"), pytest.raises(StudentRaised) as caught:
        getattr(student, function)(z)
    assert "raised AutogradRefused: autograd is refused" in caught.value.message
    assert caught.value.message.endswith("compute it by hand")  # the rule is added
    assert getattr(student, function)(z).tolist() == [2.0, -4.0]  # the doors open again after the call


def test_no_autograd_runs_calls_under_no_grad_and_lets_plain_code_through(student):
    with student.no_autograd():
        assert student.grad_mode() is False
        assert student.keep("Counter").call("up") == 1
