"""a3 — backpropagation by hand (no autograd)."""

from reference.a3.activations import relu_backward, sigmoid_backward, tanh_backward
from reference.a3.dense import dense_backward
from reference.a3.losses import cross_entropy_backward
from reference.a3.mlp import mlp_loss_and_grads

__all__ = [
    "dense_backward",
    "relu_backward",
    "sigmoid_backward",
    "tanh_backward",
    "cross_entropy_backward",
    "mlp_loss_and_grads",
]
