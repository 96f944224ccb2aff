"""Classification accuracy."""

from torch import Tensor


def accuracy(logits: Tensor, y: Tensor) -> float:
    """The fraction of rows whose argmax is the label, as a Python float.

    Counting and dividing in Python keeps the fraction exact (no float32 mean).
    """
    correct = (logits.argmax(dim=-1) == y).sum().item()  # (n, C) -> (n,) -> int
    return correct / y.shape[0]
