"""Elementwise activations, and the names `mlp_forward` knows them by.

`sigmoid` is a1's (already overflow-free); it is listed here because an MLP
may use it as its hidden activation.
"""

from collections.abc import Callable

import torch
from torch import Tensor

from reference.a1.perceptron import sigmoid


def relu(z: Tensor) -> Tensor:
    """`max(z, 0)`."""
    return z.clamp(min=0)


def leaky_relu(z: Tensor, alpha: float = 0.01) -> Tensor:
    """`z` for z > 0, else `alpha * z`: a small slope keeps negative units learning."""
    return torch.where(z > 0, z, alpha * z)


def tanh(z: Tensor) -> Tensor:
    """`(e^z - e^-z) / (e^z + e^-z)`; torch's kernel is accurate and never overflows."""
    return torch.tanh(z)


def elu(z: Tensor, alpha: float = 1.0) -> Tensor:
    """`z` for z > 0, else `alpha * (exp(z) - 1)`: smooth, saturating at `-alpha`.

    `expm1` is exact near 0; the clamp keeps the unused branch from overflowing.
    """
    return torch.where(z > 0, z, alpha * torch.expm1(z.clamp(max=0)))


ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "relu": relu,
    "tanh": tanh,
    "sigmoid": sigmoid,
    "leaky_relu": leaky_relu,
    "elu": elu,
}


def get_activation(name: str) -> Callable[[Tensor], Tensor]:
    """The activation called `name`; a clear error rather than a KeyError for a typo."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; expected one of {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]
