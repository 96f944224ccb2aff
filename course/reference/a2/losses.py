"""The two losses of the course: squared error for regression, cross-entropy for classes."""

import torch
from torch import Tensor

from reference.a2.softmax import log_softmax


def mse_loss(y_hat: Tensor, y: Tensor) -> Tensor:
    """Mean over all elements of `(y_hat - y) ** 2`, as a 0-d tensor."""
    return ((y_hat - y) ** 2).mean()


def cross_entropy(logits: Tensor, y: Tensor) -> Tensor:
    """Batch mean of `-log softmax(logits)[i, y_i]`; `y` holds class indices `(n,)`.

    Going through `log_softmax` keeps it finite even when the true class's
    probability underflows to 0 (logits of ±1e4).
    """
    rows = torch.arange(logits.shape[0], device=logits.device)  # (n,)
    return -log_softmax(logits)[rows, y].mean()  # (n, C) -> (n,) -> 0-d
