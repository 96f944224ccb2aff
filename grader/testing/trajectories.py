"""Optimizer trajectories: the student's optimizer and the reference's, fed the same gradients.

    pair = OptimizerPair(student, "Adam", tensors, reference=ref.Adam, lr=0.02)
    for grads in gradient_stream:
        pair.step(grads)        # sets .grad on both sides, steps both, compares every tensor

The student's tensors live in the worker (``student.put``) so that ``step()`` can
update them in place; they are fetched back and compared after every step, which
names the first step and the tensor where the two trajectories part.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from grader.testing.compare import assert_tensor


class OptimizerPair:
    """One optimizer class built on both sides over copies of the same tensors."""

    def __init__(self, student, name: str, tensors: Sequence[torch.Tensor], *,
                 reference: Callable, rtol: float = 1e-5, atol: float = 1e-6, **kwargs) -> None:  # fmt: skip
        self.remotes = [student.put(t.clone()) for t in tensors]
        self.opt = student.keep(name, self.remotes, **kwargs)
        self.local = [t.clone() for t in tensors]
        self.ref = reference(self.local, **kwargs)
        self.rtol, self.atol = rtol, atol
        self.what = _call(name, kwargs)
        self.steps = 0
        self.last = [t.clone() for t in tensors]  # the student's tensors as last fetched

    def set_grads(self, grads: Sequence[torch.Tensor | None]) -> None:
        """Give tensor ``i`` the gradient ``grads[i]`` on both sides (``None``: no gradient)."""
        for remote, local, g in zip(self.remotes, self.local, grads, strict=True):
            remote.set("grad", None if g is None else g.clone())
            local.grad = None if g is None else g.clone()

    def step(self, grads: Sequence[torch.Tensor | None], skip: set[int] | None = None) -> None:
        """Set the gradients, step both, compare every tensor (``skip``: indices that must not move)."""
        self.set_grads(grads)
        self.opt.call("step")
        self.ref.step()
        self.steps += 1
        for i, (remote, local) in enumerate(zip(self.remotes, self.local, strict=True)):
            where = f"{self.what}: tensor {i} (shape {tuple(local.shape)}) after step {self.steps}"
            got = remote.fetch()
            if skip and i in skip:
                assert_tensor(got, self.last[i], rtol=0, atol=0,
                              what=f"{where}, whose .grad is None (it must not move)")  # fmt: skip
            else:
                assert_tensor(got, local, rtol=self.rtol, atol=self.atol, what=where)
            self.last[i] = got


def _call(name: str, kwargs: dict) -> str:
    args = ", ".join(f"{k}={v:g}" for k, v in kwargs.items())
    return f"{name}([...]{', ' if args else ''}{args})"
