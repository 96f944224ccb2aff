"""Optimizer trajectories: the student's optimizer and the reference's, fed the same gradients.

    pair = OptimizerPair(student, "Adam", tensors, reference=ref.Adam, lr=0.02)
    for grads in gradient_stream:
        pair.step(grads)        # sets .grad on both sides, steps both, compares every tensor
    pair.run(list_of_grads)     # the same for several steps, in one round trip to the worker

The student's tensors live in the worker (``student.put``) so that ``step()`` can
update them in place; they are fetched back and compared after every step, which
names the first step and the tensor where the two trajectories part.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from grader.testing.compare import assert_tensor

Gradient = torch.Tensor | None  # None: the tensor has no gradient at this step


class OptimizerPair:
    """One optimizer class built on both sides over copies of the same tensors."""

    def __init__(
        self,
        student,
        name: str,
        tensors: Sequence[torch.Tensor],
        *,
        reference: Callable,
        rtol: float = 1e-5,
        atol: float = 1e-6,
        **kwargs,
    ) -> None:
        self._student = student
        self.remotes = student.batch([student.putting(t.clone()) for t in tensors])
        self.opt = student.keep(name, self.remotes, **kwargs)
        self.local = [t.clone() for t in tensors]
        self.ref = reference(self.local, **kwargs)
        self.rtol, self.atol = rtol, atol
        self.what = _call(name, kwargs)
        self.steps = 0
        self.last = [t.clone() for t in tensors]  # the student's tensors as last fetched

    def step(self, grads: Sequence[Gradient], skip: set[int] | None = None) -> None:
        """Set the gradients, step both, compare every tensor (``skip``: indices that must not move)."""
        self.run([grads], [skip or set()])

    def run(self, steps: Sequence[Sequence[Gradient]], skips: Sequence[set[int]] | None = None) -> None:
        """``step`` for each list of gradients in ``steps``, with the student's side in one round trip.

        The worker sets every ``.grad``, calls ``step()`` and sends every tensor back, step
        after step, as separate calls would. The comparisons are then made step by step,
        so a failure names the first step and tensor where the trajectories part, even
        when the student's ``step()`` raised later on.
        """
        skips = list(skips) if skips is not None else [set() for _ in steps]
        requests = []
        for grads in steps:
            requests += [
                remote.setting("grad", None if g is None else g.clone())
                for remote, g in zip(self.remotes, grads, strict=True)
            ]
            requests += [self.opt.calling("step"), *(remote.fetching() for remote in self.remotes)]
        values, problem = self._student.batch_until_failure(requests)
        per_step = 2 * len(self.remotes) + 1  # the replies of one step: sets, step(), fetches
        for number, (grads, skip) in enumerate(zip(steps, skips, strict=True)):
            end = (number + 1) * per_step
            if len(values) < end:
                break  # the student's side failed during this step
            self._compare(grads, values[end - len(self.remotes) : end], skip)
        if problem is not None:
            raise problem

    def _compare(self, grads: Sequence[Gradient], fetched: list, skip: set[int]) -> None:
        """Step the reference with ``grads`` and compare the student's tensors after it."""
        for local, g in zip(self.local, grads, strict=True):
            local.grad = None if g is None else g.clone()
        self.ref.step()
        self.steps += 1
        for i, (got, local) in enumerate(zip(fetched, self.local, strict=True)):
            where = f"{self.what}: tensor {i} (shape {tuple(local.shape)}) after step {self.steps}"
            if i in skip:
                assert_tensor(
                    got, self.last[i], rtol=0, atol=0, what=f"{where}, whose .grad is None (it must not move)"
                )
            else:
                assert_tensor(got, local, rtol=self.rtol, atol=self.atol, what=where)
            self.last[i] = got


def _call(name: str, kwargs: dict) -> str:
    args = ", ".join(f"{k}={v:g}" for k, v in kwargs.items())
    return f"{name}([...]{', ' if args else ''}{args})"
