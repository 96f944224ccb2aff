"""a2 — activations, softmax, losses and the MLP forward pass."""

from reference.a2.activations import elu, leaky_relu, relu, tanh
from reference.a2.layers import dense, init_params, mlp_forward, predict_proba
from reference.a2.losses import cross_entropy, mse_loss
from reference.a2.softmax import softmax

__all__ = [
    "relu",
    "leaky_relu",
    "tanh",
    "elu",
    "softmax",
    "dense",
    "init_params",
    "mlp_forward",
    "predict_proba",
    "mse_loss",
    "cross_entropy",
]
