"""Misconceptions the public checks of a2 recognise, with the hidden suite's words.

When a check fails, ``dlgrade check`` runs the probes of the misconceptions that may
explain it; a probe compares what your code returns with what the misconception
(written out below, on purpose wrong) returns, and a match tells you what your code
does, what the handout asks and where to look. tests/ keeps these words equal to the
hidden suite's.
"""

import torch

from grader.testing import assert_tensor
from grader.testing.misconceptions import Catalogue

CATALOGUE = Catalogue("a2")


@CATALOGUE.misconception(
    "softmax-no-max-shift",
    title="Softmax without subtracting the maximum",
    did="your softmax computes exp(z) of the logits as they are. exp overflows to inf from about 89 "
    "(float32) or 710 (float64) on, and inf / inf is nan; rows of very negative logits give 0 / "
    "0.",
    asks="a softmax that is finite for logits as large as ±1e4: subtract each row's maximum first, "
    "exp(z - max(z)) / sum(exp(z - max(z))), which gives the same result without overflowing.",
    look="the first line of softmax, where exp is taken.",
    tests=["test_softmax_of_small_and_huge_logits"],
)
def softmax_no_max_shift(student, device, suite):
    z = torch.tensor([[1e4, 0.0, -1e4], [-1e4, -1e4, -1e4]])
    e = torch.exp(z)  # the misconception: no shift, so inf / inf = nan and 0 / 0 = nan
    assert_tensor(student.softmax(z), e / e.sum(dim=-1, keepdim=True), equal_nan=True, what="softmax")
