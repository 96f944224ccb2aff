"""Softmax and log-softmax over the last dimension, safe for logits as large as ±1e4.

Both subtract the row maximum first: softmax is unchanged by a shift, and after
it every exponent is <= 0, so `exp` cannot overflow and the row sum is >= 1.
"""

import torch
from torch import Tensor


def softmax(z: Tensor) -> Tensor:
    """`exp(z) / sum(exp(z))` along the last dimension; each row sums to 1."""
    e = torch.exp(z - z.amax(dim=-1, keepdim=True))  # (..., C), max entry of each row is 1
    return e / e.sum(dim=-1, keepdim=True)


def log_softmax(z: Tensor) -> Tensor:
    """`log(softmax(z))` without forming the softmax, whose tiny entries would round to 0."""
    shifted = z - z.amax(dim=-1, keepdim=True)  # (..., C), <= 0
    return shifted - torch.log(torch.exp(shifted).sum(dim=-1, keepdim=True))  # (..., C)
