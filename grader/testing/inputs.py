"""Seeded inputs for hidden tests: drawn in float64 on the CPU, then cast and moved.

Drawing in one dtype on one device and converting afterwards means a test sees
the same numbers whatever dtype and device it grades with.
"""

from __future__ import annotations

import torch


def randn(rng: torch.Generator, *shape: int, dtype: torch.dtype = torch.float64,
          device: torch.device | str = "cpu", scale: float = 1.0) -> torch.Tensor:  # fmt: skip
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
