"""Comparisons that explain themselves: expected vs got, and where they differ most.

Every helper raises ``AssertionError`` with a message a student can act on:
what was expected, what came back, and where they differ most. They compare on
the trusted side only: values from ``student.f(...)`` are fresh tensors decoded
from bytes, never objects the student built.

    assert_tensor(got, expected, rtol=1e-5, atol=1e-7, what="relu(z)")
"""

from __future__ import annotations

from typing import Any

import torch

PREVIEW = 6


def assert_tensor(
    got: Any,
    expected: torch.Tensor,
    *,
    rtol: float = 1e-5,
    atol: float = 1e-7,
    what: str = "the result",
    check_dtype: bool = True,
    check_device: bool = True,
    equal_nan: bool = False,
) -> None:
    """``got`` is a tensor of ``expected``'s shape, dtype and device, and allclose to it."""
    if not isinstance(got, torch.Tensor):
        raise AssertionError(f"{what}: expected a torch.Tensor, got {_kind(got)}")
    if tuple(got.shape) != tuple(expected.shape):
        raise AssertionError(f"{what}: expected shape {tuple(expected.shape)}, got {tuple(got.shape)}")
    if check_dtype and got.dtype != expected.dtype:
        raise AssertionError(
            f"{what}: expected dtype {expected.dtype}, got {got.dtype} (keep the dtype of the inputs)"
        )
    if check_device and got.device != expected.device:
        raise AssertionError(
            f"{what}: expected device {expected.device}, got {got.device} (keep the device of the inputs)"
        )
    got_c = got.to(device=expected.device, dtype=expected.dtype)
    if expected.dtype.is_floating_point:
        close = torch.isclose(got_c, expected, rtol=rtol, atol=atol, equal_nan=equal_nan)
    else:
        close = got_c == expected
    if not bool(close.all()):
        raise AssertionError(_mismatch(got_c, expected, close, what, rtol, atol))


def assert_finite_where_expected(
    got: Any, expected: torch.Tensor, inputs: torch.Tensor, *, what: str = "the result"
) -> None:
    """``got`` holds no inf or nan where ``expected`` is finite, naming the input that made one.

    Call it before ``assert_tensor`` on inputs that overflow a naive formula: "tanh(z) is
    nan at z = 1e4" says more than a list of differing values. ``inputs`` has ``got``'s
    shape (a shape that differs is left to ``assert_tensor``).
    """
    if not isinstance(got, torch.Tensor) or got.shape != expected.shape or not got.dtype.is_floating_point:
        return
    broken = torch.isfinite(expected.cpu()) & ~torch.isfinite(got.cpu())
    if bool(broken.any()):
        at = tuple(broken.nonzero()[0].tolist())
        shown = sorted({_fmt(v) for v in inputs.cpu()[broken].tolist()}, key=float)[:PREVIEW]
        raise AssertionError(
            f"{what}: {_fmt(got.cpu()[at])} (not a finite number) where {_fmt(expected.cpu()[at])} "
            f"was expected, for {got.dtype} inputs {', '.join(shown)}: a formula whose intermediate "
            "values overflow (exp of a large number is inf, and inf / inf is nan) needs a stable form"
        )


def assert_scalar(
    got: Any, expected: float, *, rtol: float = 1e-5, atol: float = 1e-7, what: str = "the result"
) -> None:
    """``got`` is a number (Python or 0-d tensor) close to ``expected``."""
    if isinstance(got, torch.Tensor):
        if got.numel() != 1:
            raise AssertionError(f"{what}: expected a single number, got shape {tuple(got.shape)}")
        got = got.item()
    if type(got) not in (int, float, bool):
        raise AssertionError(f"{what}: expected a number, got {_kind(got)}")
    if not abs(got - expected) <= atol + rtol * abs(expected):
        raise AssertionError(f"{what}: expected {expected:.8g}, got {got:.8g}")


def assert_unchanged(before: torch.Tensor, after: Any, what: str) -> None:
    """The function must not modify its input in place."""
    if not isinstance(after, torch.Tensor) or not torch.equal(before, after):
        raise AssertionError(f"{what} was modified in place; work on a copy instead")


def _mismatch(
    got: torch.Tensor, expected: torch.Tensor, close: torch.Tensor, what: str, rtol: float, atol: float
) -> str:
    bad = (~close).nonzero()
    first = tuple(int(i) for i in bad[0]) if bad.numel() else ()
    diff = (got.double() - expected.double()).abs()
    diff = torch.where(torch.isnan(diff), torch.full_like(diff, float("inf")), diff)
    return (
        f"{what}: {int(bad.shape[0])} of {expected.numel()} values differ "
        f"(rtol={rtol:g}, atol={atol:g}); max abs difference {float(diff.max()):.3g}; "
        f"first at index {list(first)}: expected {_fmt(expected[first])}, got {_fmt(got[first])}\n"
        f"  expected: {_preview(expected)}\n  got:      {_preview(got)}"
    )


def _preview(tensor: torch.Tensor) -> str:
    flat = tensor.flatten()[:PREVIEW].tolist()
    more = ", ..." if tensor.numel() > PREVIEW else ""
    return "[" + ", ".join(_fmt(v) for v in flat) + more + "]"


def _fmt(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        value = value.item()
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _kind(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of length {len(value)}"
    return f"a value of type {type(value).__name__}"
