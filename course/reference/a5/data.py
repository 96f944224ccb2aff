"""Splitting a data set once, and walking through it in mini-batches every epoch."""

from collections.abc import Iterator

import torch
from torch import Tensor


def _permutation(n: int, generator: torch.Generator | None, device: torch.device) -> Tensor:
    """`torch.randperm(n, generator=generator)`, moved to the data's device.

    It is drawn on the generator's own device (torch requires that), so a
    seeded CPU generator gives the same order for data on any device.
    """
    draw_on = generator.device if generator is not None else device
    return torch.randperm(n, generator=generator, device=draw_on).to(device)  # (n,)


def train_val_test_split(
    x: Tensor,
    y: Tensor,
    val_frac: float = 0.2,
    test_frac: float = 0.2,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:
    """`(x_train, y_train, x_val, y_val, x_test, y_test)`, disjoint and together all of `x`.

    One random permutation is cut into `round(n * val_frac)` validation and
    `round(n * test_frac)` test samples, the rest for training, taken in that
    order: train first, then validation, then test. Indexing copies, so the
    parts share no memory with the inputs.
    """
    n = x.shape[0]
    n_val, n_test = round(n * val_frac), round(n * test_frac)
    n_train = n - n_val - n_test
    if min(n_train, n_val, n_test) < 0:
        raise ValueError(f"val_frac={val_frac} and test_frac={test_frac} leave no room for {n}")
    train, val, test = _permutation(n, generator, x.device).split([n_train, n_val, n_test])
    return x[train], y[train], x[val], y[val], x[test], y[test]


def minibatches(
    x: Tensor,
    y: Tensor,
    batch_size: int,
    shuffle: bool = True,
    generator: torch.Generator | None = None,
) -> Iterator[tuple[Tensor, Tensor]]:
    """`(xb, yb)` pairs of `batch_size` rows (the last may be smaller), each row once.

    A fresh order is drawn on every call when `shuffle`; otherwise the input order.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    n = x.shape[0]
    if shuffle:
        order = _permutation(n, generator, x.device)  # (n,)
    else:
        order = torch.arange(n, device=x.device)  # (n,)
    return ((x[idx], y[idx]) for idx in order.split(batch_size))
