"""What a hidden test sees of a submission: call its functions by name, keep objects remote.

    def test_relu(student):
        x = torch.randn(5, 3)
        assert_close(student.relu(x), ref.relu(x))

``student.relu(x)`` sends ``x`` to the worker, calls the student's ``relu`` there and
returns the result as a fresh tensor built on this side. Objects that cannot
cross (a model, an optimizer, a tensor that must be updated in place) stay in the
worker and are driven through a ``Remote``:

    params = [student.put(torch.zeros(3))]
    opt = student.keep("SGD", params, lr=0.1)    # the student's class, built remotely
    params[0].set("grad", torch.ones(3))
    opt.call("step")
    assert_close(params[0].fetch(), torch.full((3,), -0.1))

Each of those is one round trip to the worker. A test that drives many steps can send
several in one (``student.batch``), which runs them in order and raises the first
failure as if it had been sent alone:

    _, _, p = student.batch([params[0].setting("grad", g), opt.calling("step"), params[0].fetching()])
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from grader.errors import StudentCrashed, StudentProblem, StudentRaised
from grader.sandbox.child import wire
from grader.sandbox.session import STALE_HANDLE, Session

# What PyTorch says when autograd is used under no_grad ("element 0 of tensors does not
# require grad and does not have a grad_fn", ...): where a student's explanation belongs.
_AUTOGRAD_ERROR = re.compile(r"requires? grad|grad_fn", re.IGNORECASE)


@dataclass(frozen=True)
class Request:
    """One request not yet sent, and what it does in words (for error messages).

    ``generation``: the worker generation of the kept objects it names (None: it names
    none, STALE: objects of two different workers), checked by the session when sent."""

    message: dict
    what: str
    generation: int | None = None


STALE = -1
"""The generation of a request that names objects of two different workers: never current."""


class Student:
    """The submission seen from a hidden test."""

    def __init__(self, session: Session):
        self._session = session
        self._no_grad = False
        self._no_autograd = False
        self._explain = ""

    def __getattr__(self, name: str) -> StudentFunction:
        if name.startswith("_"):
            raise AttributeError(name)
        return StudentFunction(self, {"name": name}, name)

    def defines(self, name: str) -> bool:
        """Whether the submission defines ``name`` (by its load report)."""
        return name in self._session.report.defined

    @property
    def source_cells(self) -> list[str]:
        """The submission's code cells, as read on the trusted side (for static checks)."""
        return list(self._session.cells)

    @contextmanager
    def no_grad(self, explain: str = "") -> Iterator[None]:
        """Calls made inside this block run under ``torch.no_grad()`` in the worker.

        For evaluation, and for a3, where ``backward()`` must not be what computes a
        gradient: under no_grad it fails instead of quietly giving the right numbers.
        ``explain`` is added to an error that mentions gradients, so a student reads
        the rule rather than only PyTorch's complaint.
        """
        before = (self._no_grad, self._explain)
        self._no_grad, self._explain = True, explain
        try:
            yield
        finally:
            self._no_grad, self._explain = before

    @contextmanager
    def no_autograd(self, explain: str = "") -> Iterator[None]:
        """``no_grad``, and autograd refused in the worker whatever name reaches it.

        a3's rule at run time: ``torch.enable_grad()``, ``torch.func`` or
        ``getattr(torch, "auto" + "grad")`` inside a call make it fail, even when the
        call catches the refusal (``grader/sandbox/child/autograd_guard.py``).
        """
        before = self._no_autograd
        self._no_autograd = True
        try:
            with self.no_grad(explain):
                yield
        finally:
            self._no_autograd = before

    def keep(self, name: str, *args: Any, **kwargs: Any) -> Remote:
        """Call the student's ``name`` and keep the result in the worker."""
        return StudentFunction(self, {"name": name}, name).keep(*args, **kwargs)

    def lib(self, dotted: str, *args: Any, **kwargs: Any) -> Remote:
        """Build a library object in the worker, e.g. ``lib("torch.optim.SGD", params, lr=0.1)``."""
        return StudentFunction(self, {"lib": dotted}, dotted).keep(*args, **kwargs)

    def put(self, value: Any) -> Remote:
        """Send a value to the worker and keep it there (for in-place updates and checks)."""
        return self._decode(self._send(self.putting(value))["ok"])

    def seed(self, seed: int) -> None:
        self._send(Request({"op": "seed", "seed": seed}, "seeding the worker"))

    def batch(self, requests: list[Request]) -> list[Any]:
        """Send ``requests`` in one round trip; the value of each, in order (None for a set).

        Made with ``putting``, ``Remote.setting``, ``Remote.getting``, ``Remote.calling``
        and ``Remote.fetching``. The worker stops at the first request that fails; its
        error is raised here, as if that request had been sent alone.
        """
        values, problem = self.batch_until_failure(requests)
        if problem is not None:
            raise problem
        return values

    def batch_until_failure(self, requests: list[Request]) -> tuple[list[Any], StudentProblem | None]:
        """``batch``, but the values before a failure come back with it, not raised:
        a test may compare those first, so its message names the earliest thing that went wrong."""
        messages, whats = [r.message for r in requests], [r.what for r in requests]
        generation = _generation_of(*(r.generation for r in requests))
        replies, problem = self._session.request_many(messages, whats, generation)
        return [self._decode(reply["ok"]) for reply in replies], self._explained(problem)

    def putting(self, value: Any) -> Request:
        return Request({"op": "put", "value": _encode(value)}, "sending a value", _generation_in(value))

    def _explained(self, problem: StudentProblem | None) -> StudentProblem | None:
        """Add ``no_grad``'s explanation to an error that mentions gradients."""
        if type(problem) is StudentRaised and self._explain and _AUTOGRAD_ERROR.search(problem.message):
            return StudentRaised(f"{problem.message}\n{self._explain}", traceback=problem.student_traceback)
        return problem

    def _send(self, request: Request) -> dict:
        return self._session.request(request.message, request.what, request.generation)

    def _decode(self, value: Any) -> Any:
        return self._session.decode(value, self._remote)

    def _remote(self, number: int) -> Remote:
        return Remote(self, number, self._session.generation)


class StudentFunction:
    """A callable that runs in the worker; calling it returns plain data."""

    def __init__(self, student: Student, target: dict, what: str, generation: int | None = None):
        """``generation``: that of the kept object ``target`` names, if it names one."""
        self._student = student
        self._target = target
        self._what = what
        self._generation = generation

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._call(args, kwargs, keep=False)

    def keep(self, *args: Any, **kwargs: Any) -> Remote:
        return self._call(args, kwargs, keep=True)

    def request(self, args: tuple, kwargs: dict, keep: bool) -> Request:
        message = {
            "op": "call",
            "target": self._target,
            "args": [_encode(a) for a in args],
            "kwargs": {k: _encode(v) for k, v in kwargs.items()},
            "keep": keep,
            "no_grad": self._student._no_grad,
            "no_autograd": self._student._no_autograd,
        }
        return Request(message, self._what, _generation_of(self._generation, _generation_in((args, kwargs))))

    def _call(self, args: tuple, kwargs: dict, keep: bool) -> Any:
        try:
            reply = self._student._send(self.request(args, kwargs, keep))
        except StudentRaised as exc:
            explained = self._student._explained(exc)
            if explained is None or explained is exc:  # None: never, for an exception given
                raise
            raise explained from None
        result = self._student._decode(reply["ok"])
        if keep and not isinstance(result, Remote):
            raise StudentCrashed(f"{self._what}: the worker did not keep the object")
        return result


class Remote:
    """An object that lives in the worker, named by a handle."""

    def __init__(self, student: Student, number: int, generation: int):
        self._student = student
        self._number = number
        self._generation = generation

    @property
    def __wire_handle__(self) -> int:
        if self._generation != self._student._session.generation:
            raise StudentCrashed(STALE_HANDLE)
        return self._number

    def no_grad(self, explain: str = ""):
        """``student.no_grad(explain)`` for the submission this object lives in."""
        return self._student.no_grad(explain)

    def _ref(self, **extra: Any) -> dict:
        return {"handle": self.__wire_handle__, **extra}

    def _method(self, name: str) -> StudentFunction:
        return StudentFunction(self._student, self._ref(attr=name), name, self._generation)

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call a method and return its result as plain data."""
        return self._method(method)(*args, **kwargs)

    def call_keep(self, method: str, *args: Any, **kwargs: Any) -> Remote:
        """Call a method and keep its result in the worker."""
        return self._method(method).keep(*args, **kwargs)

    def get(self, name: str) -> Any:
        return self._student._decode(self._student._send(self.getting(name))["ok"])

    def set(self, name: str, value: Any) -> None:
        self._student._send(self.setting(name, value))

    def fetch(self) -> Any:
        """The object itself as plain data (a tensor, a list of tensors, ...)."""
        return self._student._decode(self._student._send(self.fetching())["ok"])

    # For ``student.batch``: the same requests, made but not sent.

    def setting(self, name: str, value: Any) -> Request:
        message = {"op": "setattr", "target": self._ref(), "name": name, "value": _encode(value)}
        return Request(message, f"setting .{name}", _generation_of(self._generation, _generation_in(value)))

    def getting(self, name: str) -> Request:
        message = {"op": "getattr", "target": self._ref(), "name": name, "keep": False}
        return Request(message, f"reading .{name}", self._generation)

    def fetching(self) -> Request:
        return Request({"op": "fetch", "target": self._ref()}, "fetching a value", self._generation)

    def calling(self, method: str, *args: Any, **kwargs: Any) -> Request:
        return self._method(method).request(args, kwargs, keep=False)


def _generation_in(value: Any) -> int | None:
    """The worker generation of the kept objects inside ``value`` (lists, tuples, dicts)."""
    if isinstance(value, Remote):
        return value._generation
    if isinstance(value, (list, tuple)):
        return _generation_of(*map(_generation_in, value))
    if isinstance(value, dict):
        return _generation_of(*map(_generation_in, value.values()))
    return None


def _generation_of(*generations: int | None) -> int | None:
    """The one generation among ``generations`` (None ignored); STALE when they differ."""
    found = {g for g in generations if g is not None}
    return found.pop() if len(found) == 1 else (STALE if found else None)


def _encode(value: Any) -> Any:
    try:
        return wire.encode(value)
    except TypeError as exc:
        raise TypeError(f"hidden test bug: {exc}") from None
