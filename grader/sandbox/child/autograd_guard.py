"""Autograd refused for one call, whatever name reaches it (imported by the worker, like wire.py).

a3 forbids autograd. Reading the source (``grader/testing/autograd_ban.py``) cannot see a
name computed at run time (``getattr(torch, "auto" + "grad")``), and ``torch.no_grad()``
is undone by ``torch.enable_grad()`` or ``torch.inference_mode(False)``. But however it is
named, autograd computes a gradient through one of two doors:

  reverse mode  ``backward()``, ``torch.autograd.grad``, ``torch.func.grad`` / ``vjp``,
                ``torch.autograd.functional``: the engine,
                ``Variable._execution_engine.run_backward``;
  forward mode  ``torch.autograd.forward_ad``, ``torch.func.jvp`` / ``jacfwd``: a dual
                level, entered through ``torch._C._enter_dual_level``.

While a graded call runs, both doors refuse and count every knock; the count is read
after the call, so a call that catches the refusal and carries on still fails. What is
left is tampering with this guard itself (putting the engine back, building a private
``torch._C._ImperativeEngine``): deliberate circumvention of the grader, not a way of
naming autograd, and docs/suite-api.md says so.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import torch
import torch._functorch.predispatch as _predispatch
from torch.autograd.variable import Variable

REFUSED = (
    "autograd is refused in this call: it must compute its gradients by hand "
    "(reached {door}; no tensor requires grad here)"
)


class AutogradRefused(RuntimeError):
    """Raised by a door, and again after the call if any door was knocked on."""


class Tally:
    """Which doors a call knocked on, in order."""

    def __init__(self) -> None:
        self.doors: list[str] = []

    def knock(self, door: str) -> AutogradRefused:
        self.doors.append(door)
        return AutogradRefused(REFUSED.format(door=door))


class _RefusingEngine:
    """Stands in for autograd's engine: every backward pass is refused; the rest is the engine's."""

    def __init__(self, engine: Any, tally: Tally) -> None:
        self._engine, self._tally = engine, tally

    def run_backward(self, *args: Any, **kwargs: Any) -> Any:
        raise self._tally.knock("the autograd engine (backward, torch.autograd.grad, torch.func)")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)


@contextlib.contextmanager
def refused(tally: Tally) -> Iterator[None]:
    """Both doors closed, and knocks counted in ``tally``, for the duration of the block."""

    def enter_dual_level(*args: Any, **kwargs: Any) -> int:
        raise tally.knock("forward-mode autograd (torch.autograd.forward_ad, torch.func.jvp)")

    saved = (Variable._execution_engine, torch._C._enter_dual_level, _predispatch._enter_dual_level_impl)
    # A duck-typed stand-in (run_backward refused, the rest forwarded); the stubs want the real class.
    Variable._execution_engine = _RefusingEngine(saved[0], tally)  # type: ignore[assignment]
    torch._C._enter_dual_level = _predispatch._enter_dual_level_impl = enter_dual_level
    try:
        yield
    finally:
        Variable._execution_engine, torch._C._enter_dual_level, _predispatch._enter_dual_level_impl = saved


def call_without_autograd(function: Callable, args: list, kwargs: dict) -> Any:
    """``function(*args, **kwargs)`` under ``torch.no_grad()`` with autograd refused.

    A refusal the call caught still counts: after the call, any knock raises
    ``AutogradRefused`` in place of what the call returned or raised.
    """
    tally = Tally()
    with torch.no_grad(), refused(tally):
        try:
            return function(*args, **kwargs)
        finally:
            if tally.doors:
                raise AutogradRefused(REFUSED.format(door=tally.doors[0]))  # noqa: B012
