"""Seeded inputs for hidden tests: drawn in float64 on the CPU, then cast and moved.

Drawing in one dtype on one device and converting afterwards means a test sees
the same numbers whatever dtype and device it grades with.
"""

from __future__ import annotations

import torch


def randn(
    rng: torch.Generator,
    *shape: int,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str = "cpu",
    scale: float = 1.0,
) -> torch.Tensor:
    """``scale * N(0, 1)`` of ``shape`` from ``rng`` (the test's seeded generator)."""
    return (scale * torch.randn(shape, generator=rng, dtype=torch.float64)).to(dtype=dtype, device=device)


def away_from_kinks(z: torch.Tensor, margin: float, kinks: tuple[float, ...] = (0.0,)) -> torch.Tensor:
    """``z`` with every entry closer than ``margin`` to a kink pushed to ``kink ± margin``.

    Central differences straddle a kink (ReLU's 0) when an entry sits within ``h`` of
    it; keeping pre-activations at least ``10 h`` away makes the numerical gradient
    exact up to rounding, so a correct backward never fails on a coin flip.
    """
    out = z.clone()
    for kink in kinks:
        near = (out - kink).abs() < margin
        side = torch.where(out >= kink, 1.0, -1.0).to(out.dtype)
        out = torch.where(near, kink + side * margin, out)
    return out


OVERFLOWING = (30.0, 100.0, 800.0, 1e4)
"""Magnitudes at which a naive formula overflows: ``exp(z)`` is inf in float32 from 89 on,
in float64 from 710 on, and a ratio of two infs is nan."""


def extremes(dtype: torch.dtype, device: torch.device | str = "cpu", *, largest: bool = True) -> torch.Tensor:
    """Both signs of ``OVERFLOWING``, exact zeros (the kink of most activations), ±1, and
    with ``largest`` the dtype's largest finite values, where even ``z + |z|`` overflows.

    Shape ``(2, k)``: the second row is the first negated, so both signs of every
    magnitude meet the function in one call.
    """
    magnitudes = [0.0, 1.0, *OVERFLOWING] + ([torch.finfo(dtype).max] if largest else [])
    row = torch.tensor(magnitudes, dtype=torch.float64).to(dtype)  # (k,)
    return torch.stack([row, -row]).to(device)  # (2, k)
