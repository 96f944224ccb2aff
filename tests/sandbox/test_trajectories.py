"""``OptimizerPair``: a whole trajectory in one round trip, still judged step by step."""

import pytest
import torch
from support import record_requests

from grader.errors import StudentRaised
from grader.sandbox.remote import Student
from grader.sandbox.session import Session
from grader.testing import OptimizerPair
from reference.a4 import optimizers as ref

pytestmark = pytest.mark.sandbox

CELLS = [
    "import torch",
    '''
class SGD:
    """Plain SGD that raises on its step number ``fail_at``, if given."""
    def __init__(self, params, lr=0.01, fail_at=0, drift_from=0):
        self.params, self.lr, self.t = list(params), lr, 0
        self.fail_at, self.drift_from = fail_at, drift_from

    @torch.no_grad()
    def step(self):
        self.t += 1
        if self.t == self.fail_at:
            raise RuntimeError(f"step {self.t} went wrong")
        scale = 2 if self.drift_from and self.t >= self.drift_from else 1
        for p in self.params:
            if p.grad is not None:
                p -= scale * self.lr * p.grad
''',
]


@pytest.fixture(scope="module")
def session():
    session = Session(CELLS)
    session.start()
    yield session
    session.close()


def reference_sgd(params, lr, **_student_only):
    return ref.SGD(params, lr=lr)


def pair(session, **kwargs) -> OptimizerPair:
    tensors = [torch.linspace(-1, 1, 6, dtype=torch.float64), torch.ones(2, 3, dtype=torch.float64)]
    return OptimizerPair(Student(session), "SGD", tensors, reference=reference_sgd, lr=0.1, **kwargs)


def gradients(steps: int) -> list[list[torch.Tensor]]:
    rng = torch.Generator().manual_seed(0)
    return [
        [
            torch.randn(6, generator=rng, dtype=torch.float64),
            torch.randn(2, 3, generator=rng, dtype=torch.float64),
        ]
        for _ in range(steps)
    ]


def test_a_correct_optimizer_runs_the_whole_trajectory_in_one_round_trip(session, monkeypatch):
    trajectory = pair(session)
    sent = record_requests(session, monkeypatch)
    trajectory.run(gradients(6))
    assert sent == ["batch"] and trajectory.steps == 6


def test_the_message_names_the_first_step_where_the_trajectories_part(session):
    with pytest.raises(AssertionError, match="tensor 0 .* after step 3"):
        pair(session, drift_from=3).run(gradients(6))


def test_steps_before_a_failing_step_are_still_compared_first(session):
    drifts_then_fails = pair(session, drift_from=2, fail_at=4)
    with pytest.raises(AssertionError, match="after step 2"):  # not the error of step 4
        drifts_then_fails.run(gradients(6))
    fails = pair(session, fail_at=4)
    with pytest.raises(StudentRaised, match="step raised RuntimeError: step 4 went wrong"):
        fails.run(gradients(6))
    assert fails.steps == 3  # the three steps before it agreed with the reference


def test_a_tensor_without_a_gradient_must_not_move(session):
    steps = [[g, None] for g, _ in gradients(3)]
    pair(session).run(steps, [{1}] * 3)
