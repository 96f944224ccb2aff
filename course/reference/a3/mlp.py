"""The MLP's cross-entropy and its gradients: a forward pass that keeps what backward needs."""

from torch import Tensor

from reference.a2.activations import get_activation
from reference.a2.layers import Params, dense
from reference.a2.losses import cross_entropy
from reference.a3.activations import ACTIVATION_BACKWARDS
from reference.a3.dense import dense_backward
from reference.a3.losses import cross_entropy_backward

Grads = list[tuple[Tensor, Tensor]]


def mlp_loss_and_grads(
    x: Tensor, y: Tensor, params: Params, activation: str = "relu"
) -> tuple[Tensor, Grads]:
    """The cross-entropy of `mlp_forward(x, params, activation)` against `y`, and its
    `(dW, db)` for every layer, in the order of `params`.

    The forward pass is `mlp_forward`'s, but it keeps each layer's input (for
    `dW`) and each hidden pre-activation (for `f'`). The backward pass walks the
    layers in reverse: the dense backward turns a layer's output gradient into
    its input gradient, the activation's backward carries that across `f`.
    """
    f = get_activation(activation)
    f_backward = ACTIVATION_BACKWARDS[activation]
    *hidden, (W_out, b_out) = params

    inputs, zs = [x], []  # inputs[i] enters layer i; zs[i] = its pre-activation
    for W, b in hidden:
        zs.append(dense(inputs[-1], W, b))  # (n, d_in) -> (n, d_out)
        inputs.append(f(zs[-1]))
    logits = dense(inputs[-1], W_out, b_out)  # (n, C)

    dh, dW, db = dense_backward(cross_entropy_backward(logits, y), inputs[-1], W_out)
    grads = [(dW, db)]
    for (W, _), x_in, z in reversed(list(zip(hidden, inputs[:-1], zs, strict=True))):
        dh, dW, db = dense_backward(f_backward(dh, z), x_in, W)  # dh: (n, d_out) -> (n, d_in)
        grads.append((dW, db))
    return cross_entropy(logits, y), grads[::-1]
