"""Dense layers, their initialisation, and the MLP built from them.

Parameters are a plain list of `(W, b)` pairs, `W` of shape `(d_in, d_out)`, so
that a3 can write the backward pass against the very same structure.
"""

import math
from itertools import pairwise

import torch
from torch import Tensor

from reference.a2.activations import get_activation
from reference.a2.softmax import softmax

Params = list[tuple[Tensor, Tensor]]


def dense(x: Tensor, W: Tensor, b: Tensor) -> Tensor:
    """`x @ W + b`: `(n, d_in) -> (n, d_out)`."""
    return x @ W + b


def _variance(init: str, d_in: int, d_out: int) -> float:
    """Kaiming keeps ReLU activations' scale through depth; Xavier balances in and out."""
    if init == "kaiming":
        return 2 / d_in
    if init == "xavier":
        return 2 / (d_in + d_out)
    raise ValueError(f"unknown init {init!r}; expected 'kaiming' or 'xavier'")


def init_params(sizes: list[int], init: str = "kaiming", generator: torch.Generator | None = None) -> Params:
    """One `(W, b)` per consecutive pair of `sizes`: `W ~ N(0, s^2)`, `b = 0`.

    Tensors use torch's default dtype; they are drawn on the generator's device,
    since torch only samples with a generator on that generator's own device.
    """
    device = generator.device if generator is not None else None
    params = []
    for d_in, d_out in pairwise(sizes):
        s = math.sqrt(_variance(init, d_in, d_out))
        W = torch.randn(d_in, d_out, generator=generator, device=device) * s  # (d_in, d_out)
        b = torch.zeros(d_out, device=device)  # (d_out,)
        params.append((W, b))
    return params


def mlp_forward(x: Tensor, params: Params, activation: str = "relu") -> Tensor:
    """Hidden layers: dense then `activation`; the last layer: dense only. Returns logits."""
    f = get_activation(activation)
    *hidden, (W_out, b_out) = params
    h = x
    for W, b in hidden:
        h = f(dense(h, W, b))  # (n, d_in) -> (n, d_out)
    return dense(h, W_out, b_out)  # (n, n_classes)


def predict_proba(x: Tensor, params: Params, activation: str = "relu") -> Tensor:
    """Class probabilities `(n, n_classes)`: the softmax of the logits."""
    return softmax(mlp_forward(x, params, activation))
