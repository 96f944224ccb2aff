"""Backward of each activation: `dout * f'(z)`, given the pre-activation `z`.

The two not graded on their own (leaky ReLU, ELU) are here because
`mlp_loss_and_grads` accepts every hidden activation that `mlp_forward` does.
"""

from collections.abc import Callable

import torch
from torch import Tensor

from reference.a2.activations import sigmoid, tanh


def relu_backward(dout: Tensor, z: Tensor) -> Tensor:
    """`relu'(z)` is 1 for z > 0 and 0 otherwise, at exactly 0 too."""
    return dout * (z > 0)


def sigmoid_backward(dout: Tensor, z: Tensor) -> Tensor:
    """`sigmoid' = s * (1 - s)`: the derivative is read off the forward value."""
    s = sigmoid(z)
    return dout * s * (1 - s)


def tanh_backward(dout: Tensor, z: Tensor) -> Tensor:
    """`tanh' = 1 - tanh^2`."""
    t = tanh(z)
    return dout * (1 - t**2)


def leaky_relu_backward(dout: Tensor, z: Tensor, alpha: float = 0.01) -> Tensor:
    """Slope 1 for z > 0, `alpha` otherwise."""
    return torch.where(z > 0, dout, alpha * dout)


def elu_backward(dout: Tensor, z: Tensor, alpha: float = 1.0) -> Tensor:
    """Slope 1 for z > 0, `alpha * exp(z)` otherwise (clamped so the unused branch stays finite)."""
    return torch.where(z > 0, dout, alpha * torch.exp(z.clamp(max=0)) * dout)


ACTIVATION_BACKWARDS: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "relu": relu_backward,
    "tanh": tanh_backward,
    "sigmoid": sigmoid_backward,
    "leaky_relu": leaky_relu_backward,
    "elu": elu_backward,
}
