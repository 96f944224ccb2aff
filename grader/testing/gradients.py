"""Gradient checks: float64 central differences, and a comparison that names the parameter.

``numerical_gradient`` takes any scalar function of one tensor, so the same code
differentiates the reference's forward here and the student's forward in the
worker (each evaluation is then one call into the sandbox):

    loss = lambda W: student.cross_entropy(student.dense(x, W, b), y)
    assert_gradient(dW_student, numerical_gradient(loss, W), what="dW")
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from grader.testing.compare import assert_tensor

H = 1e-5
RTOL, ATOL = 1e-5, 1e-7


def numerical_gradient(f: Callable[[torch.Tensor], object], x: torch.Tensor, h: float = H) -> torch.Tensor:
    """``d f / d x`` by central differences ``(f(x + h e_i) - f(x - h e_i)) / 2h``, in float64.

    ``f`` returns a number or a 0-d tensor. ``x`` itself is never modified: each
    evaluation gets its own perturbed copy, on ``x``'s device.
    """
    if x.dtype != torch.float64:
        raise ValueError("gradient checks need float64 inputs: float32 rounding swamps h = 1e-5")
    grad = torch.zeros(x.shape, dtype=torch.float64)  # contiguous, whatever x's strides (x may be W.T)
    flat = grad.view(-1)
    for i in range(x.numel()):
        step = torch.zeros(x.numel(), dtype=torch.float64)
        step[i] = h
        step = step.view(x.shape).to(x.device)
        flat[i] = (_number(f(x + step)) - _number(f(x - step))) / (2 * h)
    return grad.to(x.device)


def assert_gradient(
    got: object,
    expected: torch.Tensor,
    *,
    what: str,
    against: str = "",
    rtol: float = RTOL,
    atol: float = ATOL,
) -> None:
    """``got`` is ``allclose(expected, rtol, atol)`` with ``expected``'s shape, dtype and device.

    ``against`` names where ``expected`` came from ("finite differences of your own
    forward", "the reference"), so a student knows which of the two checks failed.
    """
    label = f"{what} (compared with {against})" if against else what
    assert_tensor(got, expected, rtol=rtol, atol=atol, what=label)


def _number(value: object) -> float:
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise AssertionError(f"the loss must be a single number, got shape {tuple(value.shape)}")
        return float(value.item())
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise AssertionError(f"the loss must be a number, got a value of type {type(value).__name__}")
