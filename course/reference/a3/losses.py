"""Backward of the mean cross-entropy with respect to the logits."""

import torch.nn.functional as F
from torch import Tensor

from reference.a2.softmax import softmax


def cross_entropy_backward(logits: Tensor, y: Tensor) -> Tensor:
    """`(softmax(logits) - onehot(y)) / n`: softmax and log cancel to this simple form.

    The `/ n` is there because the loss is the batch mean, not the sum.
    """
    n, n_classes = logits.shape
    onehot = F.one_hot(y, n_classes).to(logits.dtype)  # (n,) -> (n, C)
    return (softmax(logits) - onehot) / n  # (n, C)
