"""Two checks every reference test uses, as fixtures so that no test file imports another.

`cmp` compares a reference result with PyTorch's own and reports the largest
difference (after nn-zero-to-hero's `cmp`); `pure` calls a function and checks
that it left every tensor argument as it was.
"""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import torch
from torch import Tensor

DEFAULT_ATOL = {torch.float32: 1e-6, torch.float64: 1e-12}


def _cmp(name: str, ours: Tensor, theirs: Tensor, atol: float | None = None) -> None:
    """Same shape, same dtype, and no element further than `atol` (by default per dtype)."""
    assert ours.shape == theirs.shape, f"{name}: shape {tuple(ours.shape)} != {tuple(theirs.shape)}"
    assert ours.dtype == theirs.dtype, f"{name}: dtype {ours.dtype} != {theirs.dtype}"
    atol = DEFAULT_ATOL[theirs.dtype] if atol is None else atol
    maxdiff = (ours - theirs).abs().max().item() if ours.numel() else 0.0
    exact = torch.equal(ours, theirs)
    assert maxdiff <= atol, f"{name}: exact: {exact} | maxdiff: {maxdiff:.3g} > atol {atol:.0e}"


def _tensors(obj: Any) -> Iterator[Tensor]:
    """Every tensor in `obj`, looking inside lists, tuples and dicts (params are lists of pairs)."""
    if isinstance(obj, Tensor):
        yield obj
    elif isinstance(obj, list | tuple):
        for item in obj:
            yield from _tensors(item)
    elif isinstance(obj, dict):
        for item in obj.values():
            yield from _tensors(item)


def _pure(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """`fn(*args, **kwargs)`, failing if it changed any tensor it was given."""
    before = [t.clone() for t in _tensors((args, kwargs))]
    result = fn(*args, **kwargs)
    after = list(_tensors((args, kwargs)))
    for i, (old, new) in enumerate(zip(before, after, strict=True)):
        assert torch.equal(old, new), f"{fn.__name__} modified its tensor argument #{i} in place"
    return result


@pytest.fixture
def cmp() -> Callable[..., None]:
    return _cmp


@pytest.fixture
def pure() -> Callable[..., Any]:
    return _pure
