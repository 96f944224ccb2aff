"""Misconceptions the public checks of a5 recognise, with the hidden suite's words.

When a check fails, ``dlgrade check`` runs the probes of the misconceptions that may
explain it; a probe compares what your code returns with what the misconception
(written out below, on purpose wrong) returns, and a match tells you what your code
does, what the handout asks and where to look. tests/ keeps these words equal to the
hidden suite's.
"""

import torch

from grader.testing.misconceptions import Catalogue

CATALOGUE = Catalogue("a5")


@CATALOGUE.misconception(
    "accuracy-as-a-count",
    title="Accuracy as a count",
    did="your accuracy returns how many rows are right, not which fraction of them.",
    asks="the fraction of rows whose argmax equals the label, as a Python float: the count divided by"
    " the number of rows (then .item() or float()).",
    look="the return line of accuracy.",
    tests=["test_accuracy_is_a_python_float"],
)
def accuracy_as_a_count(student, device, suite):
    logits = torch.tensor([[2.0, 1.0], [0.0, 3.0], [5.0, -1.0], [0.5, 0.7]])  # 3 of 4 right
    got = student.accuracy(logits, torch.tensor([0, 1, 1, 1]))
    got = got.item() if isinstance(got, torch.Tensor) and got.numel() == 1 else got
    assert type(got) in (int, float) and got == 3, f"accuracy: {got!r}"  # the misconception: the count


@CATALOGUE.misconception(
    "last-minibatch-dropped",
    title="The last mini-batch dropped",
    did="your minibatches yields only full batches: when n is not a multiple of batch_size, the "
    "remaining samples are never used.",
    asks="every sample exactly once per call; the last batch may be smaller than batch_size.",
    look="the loop of minibatches, where it stops.",
    tests=["test_minibatches_without_shuffle_in_input_order_with_a_smaller_last_batch"],
)
def last_minibatch_dropped(student, device, suite):
    x, y = torch.arange(10.0).reshape(5, 2), torch.arange(5)
    iterator = student.keep("minibatches", x, y, 2, shuffle=False)
    sizes = [len(yb) for _, yb in student.lib("builtins.list", iterator).fetch()]
    assert sizes == [2, 2], f"batch sizes {sizes}"  # the misconception: the last, smaller batch is gone
