"""Backward of the dense layer `out = x @ W + b`."""

from torch import Tensor


def dense_backward(dout: Tensor, x: Tensor, W: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """`(dx, dW, db)` from `dout = dL/dout` of shape `(n, d_out)`.

    Each output row used `W` and `b` once, so their gradients sum over the batch.
    """
    dx = dout @ W.T  # (n, d_out) @ (d_out, d_in) -> (n, d_in)
    dW = x.T @ dout  # (d_in, n) @ (n, d_out) -> (d_in, d_out)
    db = dout.sum(dim=0)  # (n, d_out) -> (d_out,)
    return dx, dW, db
