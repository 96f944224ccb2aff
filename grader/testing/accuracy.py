"""Accuracy on a test split whose labels never enter the student's process.

The trusted side sends the test *features* to the worker, gets the model's logits
back as plain data, and counts correct answers here against labels that stay here.
Nothing the student's code returns can claim an accuracy; it can only produce logits.
"""

from __future__ import annotations

import torch


def hidden_label_accuracy(
    model, x_test: torch.Tensor, y_test: torch.Tensor, *, what: str = "the model"
) -> float:
    """The fraction of ``x_test`` rows whose argmax logit is the label in ``y_test``.

    ``model`` is a ``Remote`` holding the student's ``torch.nn.Module``. It is put in
    eval mode and called without gradients, as any evaluation would.
    """
    model.call_keep("eval")  # returns the module itself, which stays in the worker
    with model.no_grad():
        logits = model.call("__call__", x_test)
    n, n_classes = x_test.shape[0], int(y_test.max()) + 1
    if not isinstance(logits, torch.Tensor) or logits.dim() != 2 or logits.shape[0] != n:
        shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise AssertionError(f"{what}: expected logits of shape ({n}, n_classes), got {shape}")
    if logits.shape[1] < n_classes:
        raise AssertionError(f"{what}: {logits.shape[1]} logits per row, but there are {n_classes} classes")
    if not bool(torch.isfinite(logits).all()):
        raise AssertionError(f"{what}: the logits contain NaN or inf")
    correct = (logits.argmax(dim=1).cpu() == y_test.cpu()).sum().item()
    return correct / n
