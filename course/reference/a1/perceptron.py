"""The perceptron: a weighted sum, a threshold, and Rosenblatt's learning rule."""

import torch
from torch import Tensor


def weighted_sum(x: Tensor, w: Tensor, b: float | Tensor) -> Tensor:
    """`x @ w + b`: a 0-d tensor for one sample `(d,)`, shape `(n,)` for a batch `(n, d)`."""
    return x @ w + b


def sign(z: Tensor) -> Tensor:
    """-1, 0 or 1 elementwise; written out so that `sign(0) == 0` is visible, not hidden."""
    return (z > 0).to(z.dtype) - (z < 0).to(z.dtype)


def sigmoid(z: Tensor) -> Tensor:
    """`1 / (1 + exp(-z))`, evaluated through `exp(-|z|)` so that no exp ever overflows.

    For z >= 0 the textbook form is safe; for z < 0 the equal form
    `exp(z) / (1 + exp(z))` is used instead, which keeps tiny outputs accurate.
    """
    e = torch.exp(-z.abs())  # in (0, 1]: never overflows
    return torch.where(z >= 0, 1 / (1 + e), e / (1 + e))


def perceptron_predict(x: Tensor, w: Tensor, b: float | Tensor) -> Tensor:
    """The predicted label in {-1, +1} (0 exactly on the decision boundary)."""
    return sign(weighted_sum(x, w, b))


def perceptron_fit(x: Tensor, y: Tensor, lr: float = 1.0, epochs: int = 100) -> tuple[Tensor, Tensor]:
    """Rosenblatt's rule: nudge `(w, b)` towards every misclassified sample, in order.

    A sample counts as misclassified when `y_i * z_i <= 0`, so a point on the
    boundary triggers an update too; that is what moves the all-zero start.
    Stops after the first epoch without an update (the data are separated) or
    after `epochs` epochs (they may not be separable). Returns `(w, b)`, with
    `b` a 0-d tensor.
    """
    y = y.to(x.dtype)  # labels may arrive as long
    w = torch.zeros(x.shape[1], dtype=x.dtype, device=x.device)  # (d,)
    b = torch.zeros((), dtype=x.dtype, device=x.device)  # 0-d
    for _ in range(epochs):
        updated = False
        for x_i, y_i in zip(x, y, strict=True):
            if y_i * weighted_sum(x_i, w, b) <= 0:
                w = w + lr * y_i * x_i
                b = b + lr * y_i
                updated = True
        if not updated:
            break
    return w, b
