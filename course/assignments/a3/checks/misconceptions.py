"""Misconceptions the public checks of a3 recognise, with the hidden suite's words.

When a check fails, ``dlgrade check`` runs the probes of the misconceptions that may
explain it; a probe compares what your code returns with what the misconception
(written out below, on purpose wrong) returns, and a match tells you what your code
does, what the handout asks and where to look. tests/ keeps these words equal to the
hidden suite's.
"""

import torch

from grader.testing import assert_tensor
from grader.testing.misconceptions import Catalogue

CATALOGUE = Catalogue("a3")


@CATALOGUE.misconception(
    "relu-derivative-at-zero-is-one",
    title="relu'(0) taken as 1",
    did="your relu_backward lets the gradient through where z is exactly 0 (z >= 0).",
    asks="relu'(z) is 1 for z > 0 and 0 otherwise, at exactly 0 too: the gradient passes only where z > 0.",
    look="the comparison in relu_backward.",
    tests=["test_relu_backward_is_zero_at_zero"],
)
def relu_derivative_at_zero_is_one(student, device, suite):
    z, dout = torch.tensor([[-2.0, 0.0, 3.0, 0.0]]), torch.tensor([[1.0, 2.0, 3.0, 4.0]])
    assert_tensor(student.relu_backward(dout, z), dout * (z >= 0), what="relu_backward")  # the misconception
