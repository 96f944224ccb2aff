"""Misconceptions the public checks of a4 recognise, with the hidden suite's words.

When a check fails, ``dlgrade check`` runs the probes of the misconceptions that may
explain it; a probe compares what your code returns with what the misconception
(written out below, on purpose wrong) returns, and a match tells you what your code
does, what the handout asks and where to look. tests/ keeps these words equal to the
hidden suite's.
"""

import torch

from grader.testing import assert_tensor
from grader.testing.misconceptions import Catalogue

CATALOGUE = Catalogue("a4")


@CATALOGUE.misconception(
    "adam-no-bias-correction",
    title="Adam without bias correction",
    did="your Adam steps with the running averages m and v as they are. Both start at 0, so for the "
    "first steps they are far smaller than the gradient's mean and square, and your steps have "
    "the wrong size.",
    asks="with the step count t starting at 1, m_hat = m / (1 - beta1**t) and v_hat = v / (1 - "
    "beta2**t); the step is lr * m_hat / (sqrt(v_hat) + eps).",
    look="the lines of Adam's step that compute m_hat and v_hat, and where t is counted.",
    tests=["test_adam_first_step_has_size_lr"],
)
def adam_without_bias_correction(student, device, suite):
    g = torch.tensor([0.3, -2.0, 7.0, -0.5])
    p = student.put(torch.zeros(4))
    opt = student.keep("Adam", [p], lr=0.5)
    p.set("grad", g)
    opt.call("step")
    m, v = 0.1 * g, 0.001 * g**2  # the misconception: m and v used as they are after one step
    assert_tensor(p.fetch(), -0.5 * m / (v.sqrt() + 1e-8), rtol=1e-4, atol=1e-6, what="Adam's first step")


@CATALOGUE.misconception(
    "momentum-sums-gradients",
    title="PyTorch's or classical momentum instead of the lecture's",
    did="your Momentum lets v sum the gradients instead of averaging them: PyTorch's form v = beta * "
    "v + g with p -= lr * v, or the classical v = beta * v - lr * g with p += v (the two take the"
    " same steps). Its steps grow to about 1 / (1 - beta) times the lecture's.",
    asks="the lecture's form, an average of the gradients: v = beta * v + (1 - beta) * g, then p -= "
    "lr * v (v starts at 0).",
    look="the line of Momentum's step that updates v.",
    tests=["test_momentum_first_step_is_one_minus_beta_times_lr_g"],
)
def momentum_sums_gradients(student, device, suite):
    g = torch.tensor([1.0, -2.0, 4.0])
    p = student.put(torch.zeros(3))
    opt = student.keep("Momentum", [p], lr=0.1, beta=0.9)
    p.set("grad", g)
    opt.call("step")
    assert_tensor(p.fetch(), -0.1 * g, what="Momentum's first step")  # the misconception: v = g at first
