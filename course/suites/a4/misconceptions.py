"""a4's misconceptions: the optimizers' classic slips, each recognised by the trajectory it gives.

Each probe drives the student's optimizer and ``reference.a4`` with one change through
the same steps (``OptimizerPair``): a match means the student's class moves the tensors
exactly as the changed reference does. Where ``eps`` sits is not here: the spec allows
every placement, and no probe's tolerance could tell them apart.
"""

import torch

from grader.testing import OptimizerPair
from grader.testing.misconceptions import Catalogue, changed
from reference.a4 import optimizers

CATALOGUE = Catalogue("a4")

TRAJECTORIES = [
    "test_state_is_kept_per_tensor",
    "test_none_grad_is_skipped",
    "test_zero_grad",
    "test_keeps_dtype",
    "test_updates_leaf_tensors_in_place_without_autograd",
]
SHAPES = [(3, 4), (5,)]
STEPS = 5


def same_trajectory(student, name: str, reference, device, **hyperparameters) -> None:
    """The student's ``name`` and ``reference`` over ``STEPS`` steps of one seeded draw of
    gradients (magnitudes 0.1 to 10, both signs): every tensor after every step."""
    g = torch.Generator().manual_seed(0)
    tensors = [torch.randn(s, generator=g, dtype=torch.float64).to(device) for s in SHAPES]
    steps = [[_gradient(g, s).to(device) for s in SHAPES] for _ in range(STEPS)]
    pair = OptimizerPair(student, name, tensors, reference=reference, rtol=1e-5, atol=1e-6, **hyperparameters)
    pair.run(steps)


def _gradient(g: torch.Generator, shape) -> torch.Tensor:
    magnitude = 10 ** (2 * torch.rand(shape, generator=g, dtype=torch.float64) - 1)
    return torch.where(torch.rand(shape, generator=g) < 0.5, -magnitude, magnitude)


ADAM = {"lr": 0.02, "beta1": 0.8, "beta2": 0.99}
NO_BIAS_CORRECTION = [
    ('m_hat = state["m"] / (1 - self.beta1 ** state["t"])', 'm_hat = state["m"]'),
    ('v_hat = state["v"] / (1 - self.beta2 ** state["t"])', 'v_hat = state["v"]'),
]
MOMENTUM = {"lr": 0.05, "beta": 0.8}
MOMENTUM_STEP = (
    'state["v"] = self.beta * state["v"] + (1 - self.beta) * g\n        p.sub_(self.lr * state["v"])'
)


@CATALOGUE.misconception(
    "adam-no-bias-correction",
    title="Adam without bias correction",
    did="your Adam steps with the running averages m and v as they are. Both start at 0, so "
    "for the first steps they are far smaller than the gradient's mean and square, and your "
    "steps have the wrong size.",
    asks="with the step count t starting at 1, m_hat = m / (1 - beta1**t) and v_hat = v / (1 - beta2**t); "
    "the step is lr * m_hat / (sqrt(v_hat) + eps).",
    look="the lines of Adam's step that compute m_hat and v_hat, and where t is counted.",
    tests=["test_adam_trajectory", "test_defaults_match_the_spec", *TRAJECTORIES],
)
def adam_without_bias_correction(student, device, suite):
    Adam = changed(optimizers, *NO_BIAS_CORRECTION).Adam
    same_trajectory(student, "Adam", Adam, device, **ADAM)


@CATALOGUE.misconception(
    "momentum-sums-gradients",
    title="PyTorch's or classical momentum instead of the lecture's",
    did="your Momentum lets v sum the gradients instead of averaging them: PyTorch's form "
    "v = beta * v + g with p -= lr * v, or the classical v = beta * v - lr * g with p += v (the "
    "two take the same steps). Its steps grow to about 1 / (1 - beta) times the lecture's.",
    asks="the lecture's form, an average of the gradients: v = beta * v + (1 - beta) * g, then p -= lr * v "
    "(v starts at 0).",
    look="the line of Momentum's step that updates v.",
    tests=[
        "test_momentum_trajectory",
        "test_momentum_is_the_lecture_average",
        "test_defaults_match_the_spec",
        *TRAJECTORIES,
    ],
)
def momentum_sums_gradients(student, device, suite):
    pytorch = MOMENTUM_STEP.replace("(1 - self.beta) * g", "g")
    Momentum = changed(optimizers, (MOMENTUM_STEP, pytorch)).Momentum
    same_trajectory(student, "Momentum", Momentum, device, **MOMENTUM)


@CATALOGUE.misconception(
    "rmsprop-without-the-root",
    title="RMSProp without the square root",
    did="your RMSProp divides the gradient by s, the running mean of g**2, instead of by its square "
    "root: the step no longer has the scale of lr.",
    asks="p -= lr * g / sqrt(s + eps) (or eps outside the root), with s = beta * s + (1 - beta) * g**2.",
    look="the line of RMSProp's step that updates p.",
    tests=["test_rmsprop_trajectory", "test_defaults_match_the_spec", *TRAJECTORIES],
)
def rmsprop_without_the_root(student, device, suite):
    RMSProp = changed(optimizers, ('torch.sqrt(state["s"] + self.eps)', '(state["s"] + self.eps)')).RMSProp
    same_trajectory(student, "RMSProp", RMSProp, device, lr=0.01, beta=0.95)


@CATALOGUE.misconception(
    "missing-grad-taken-as-zero",
    title="A tensor without a gradient still updated",
    did="your step() updates a tensor whose .grad is None as if its gradient were 0: with momentum "
    "or Adam it keeps moving on its old velocity.",
    asks="tensors whose .grad is None are skipped: neither they nor their state change.",
    look="the loop over the tensors in step(), before the update.",
    tests=["test_none_grad_is_skipped"],
)
def missing_grad_taken_as_zero(student, device, suite):
    Momentum = changed(
        optimizers,
        (
            "if p.grad is not None:\n                self.update(p, p.grad, state)",
            "self.update(p, torch.zeros_like(p) if p.grad is None else p.grad, state)",
        ),
    ).Momentum
    g = torch.Generator().manual_seed(1)
    tensors = [torch.randn(4, generator=g, dtype=torch.float64).to(device) for _ in range(2)]
    pair = OptimizerPair(student, "Momentum", tensors, reference=Momentum, rtol=1e-5, atol=1e-6, **MOMENTUM)
    steps = [[_gradient(g, (4,)), _gradient(g, (4,)) if t < 2 else None] for t in range(5)]  # then no grad
    pair.run([[None if grad is None else grad.to(device) for grad in step] for step in steps])
