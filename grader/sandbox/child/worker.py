"""The student's side of the trust boundary: a process that loads one submission and serves calls.

It is started by ``process.py`` as ``python -I worker.py ...`` (isolated mode: neither
the course directory nor PYTHONPATH is importable, so ``import reference`` fails) and
talks over two inherited pipes using ``wire.py`` frames. Nothing here decides a verdict:
it only runs student code and sends back plain data, which the trusted side checks.

Start-up order matters and is the only trusted part of this file:
  1. import torch and friends (the unprivileged user may not be able to read them);
  2. drop root privileges, then set resource limits (RLIMIT_NPROC does not bind root);
  3. join an empty session keyring and load the seccomp filter (``syscalls.py``);
  4. say "ready"; from here on the process may be hostile.

Requests (``op``):
  load     {"cells": [str], "mode": "definitions" | "all", "graded": [str] | None, "given": [str],
            "seconds": float} -> {"defined": [...], "notes": [...]}   (see loading.py)
  call     {"target": ref, "args": [...], "kwargs": {...}, "keep": bool,
            "no_grad": bool, "no_autograd": bool (autograd_guard.py: refused, whatever its name)}
  getattr  {"target": ref, "name": str, "keep": bool}
  setattr  {"target": ref, "name": str, "value": value}
  put      {"value": value}  -> a handle to the value, kept here
  fetch    {"target": ref}   -> the object itself as plain data
  seed     {"seed": int}
  release  {"handles": [int]}
  batch    {"requests": [request, ...]} -> [reply, ...], in order, up to the first error
where ref is {"name": "relu"} (the submission's namespace), {"handle": 3} (an object kept
here), {"handle": 3, "attr": "step"} or {"lib": "torch.optim.SGD"}. A reply is
{"ok": value} or {"error": {"kind", "type", "message", "traceback"}}.
"""

from __future__ import annotations

import argparse
import builtins
import collections
import contextlib
import ctypes
import importlib
import os
import random
import signal
import sys
import traceback
import types

import numpy as np
import torch
import torch.nn  # noqa: F401  (pre-imported before privileges drop)
import torch.nn.functional  # noqa: F401
import torch.optim  # noqa: F401

resource: types.ModuleType | None  # None where the platform has no rlimits
try:
    import resource
except ImportError:  # Windows has no rlimits; see set_limits
    resource = None

# Isolated mode (-I) leaves the script's folder off sys.path; add exactly that folder
# (the sandbox package, for wire.py and magics.py) and never the course directory.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import loading  # noqa: E402
import reach  # noqa: E402
import syscalls  # noqa: E402
import wire  # noqa: E402
from autograd_guard import call_without_autograd  # noqa: E402
from seeding import seed_torch  # noqa: E402

if not hasattr(os, "getuid"):  # Windows: no uids, so never root; the checks below read it
    os.getuid = lambda: -1

CLONE_NEWIPC = 0x08000000
LIB_PREFIXES = ("torch.", "builtins.", "math.")
LIB_MODULES = ("torch", "builtins", "math")


# --------------------------------------------------------------------------- start-up


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--call-fd", type=int)
    parser.add_argument("--reply-fd", type=int)
    parser.add_argument("--stdio", action="store_true", help="requests on stdin, replies on stdout")
    parser.add_argument("--uid", type=int, default=None)
    parser.add_argument("--memory-mb", type=int, required=True)
    parser.add_argument("--cpu-seconds", type=int, required=True)
    parser.add_argument("--max-processes", type=int, required=True)
    parser.add_argument("--max-file-mb", type=int, required=True)
    parser.add_argument("--max-open-files", type=int, required=True)
    parser.add_argument("--threads", type=int, default=1)
    return parser.parse_args(argv)


def drop_privileges(uid: int | None) -> None:
    """Become an unprivileged user: root ignores RLIMIT_NPROC and can read everything.
    First, while we still may, leave the IPC namespace we were started in."""
    if os.getuid() == 0 and uid:
        _private_ipc()
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)


def _private_ipc() -> None:
    """A fresh IPC namespace of our own. SysV shared memory, semaphores and message queues
    outlive the process that makes them: in a shared namespace a student could leave
    gigabytes behind, or a message for the next student's code to read. Cold workers get
    one from bwrap and forked ones from zygote.py's unshare; this second wall, made just
    before privileges drop, holds even if either of those is changed."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWIPC) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"unshare(CLONE_NEWIPC): {os.strerror(errno)}")


def set_limits(args: argparse.Namespace | types.SimpleNamespace) -> None:
    """The rlimits of ``args``. On Linux each one is required. Elsewhere, where a student
    runs the public checks on a laptop (advice, not a verdict), they are best effort:
    Windows has no ``resource`` at all, and macOS refuses some (RLIMIT_AS beyond what it
    allows); the trusted side's wall-clock deadlines still hold everywhere."""
    if resource is None:
        return
    mib = 1024 * 1024
    limits = {
        resource.RLIMIT_CPU: args.cpu_seconds,
        resource.RLIMIT_FSIZE: args.max_file_mb * mib,
        resource.RLIMIT_NOFILE: args.max_open_files,
        resource.RLIMIT_CORE: 0,
    }
    # 0: a GPU worker, whose memory the trusted side watches instead. Off Linux, none: macOS
    # has no /proc to measure from and maps hundreds of GB of address space it never uses.
    if args.memory_mb > 0 and sys.platform.startswith("linux"):
        limits[resource.RLIMIT_AS] = address_space_bytes() + args.memory_mb * mib
    if os.getuid() != 0:
        # The kernel counts every process of this uid on the machine; the trusted side,
        # which sees them all (this PID namespace does not), added them in.
        limits[resource.RLIMIT_NPROC] = args.max_processes
    for which, value in limits.items():
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            if sys.platform.startswith("linux"):
                raise
    if hasattr(signal, "SIGXFSZ"):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-big file fails with EFBIG, no kill


def address_space_bytes() -> int:
    """What this process has mapped so far (VmSize): what importing torch reserved.

    The address-space limit counts from here, so ``memory_mb`` is what the student's code
    may add. The CUDA build of torch reserves about 3.2 GB at ``import torch`` that it
    never touches on a CPU; a limit that counted it left nothing for seeding to import.
    """
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _needed_paths() -> list[str]:
    """What this worker reads after dropping privileges: its Python (lazy imports such as
    numpy.random), its own folder (``sandbox/child/``) and its working folder."""
    python = [sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable))]
    return list(dict.fromkeys([*python, os.path.dirname(os.path.abspath(__file__)), os.getcwd()]))


def _refuse_unreachable(needed: list[str]) -> None:
    """Stop before "ready", saying why, when the worker cannot read its own Python: every
    submission would otherwise fail its imports and be graded as broken."""
    missing = reach.unreachable(needed)
    if missing:
        sys.exit(
            f"dlgrade: the worker's user (uid {os.getuid()}) cannot read {', '.join(missing)}: it, or a "
            "folder above it, is private to its owner. Install bubblewrap, make them readable "
            "for others (chmod o+rx), or run dlgrade as their owner, without root."
        )


# --------------------------------------------------------------------------- serving


class Worker:
    """Holds the submission's namespace and the objects kept for the trusted side."""

    def __init__(self) -> None:
        self.module = types.ModuleType("__main__")
        self.module.__dict__["__builtins__"] = builtins
        sys.modules["__main__"] = self.module
        self.handles: dict[int, object] = {}
        self.next_handle = 1
        self.loaded = loading.Loaded()

    @property
    def namespace(self) -> dict:
        return self.module.__dict__

    def handle(self, request: dict) -> dict:
        op = request.get("op")
        try:
            if op == "load":
                return {"ok": self.load(request)}
            if op == "seed":
                self.seed(int(request["seed"]))
                return {"ok": None}
            if op == "release":
                for number in request["handles"]:
                    self.handles.pop(number, None)
                return {"ok": None}
            if op == "batch":
                return {"ok": self.handle_many(request["requests"])}
            if op == "put":
                return self.reply(self.decode(request["value"]), keep=True)
            target = self.resolve(request["target"])
            if op == "fetch":
                return self.reply(target, keep=False)
            if op == "call":
                args = [self.decode(a) for a in request.get("args", [])]
                kwargs = {k: self.decode(v) for k, v in request.get("kwargs", {}).items()}
                if request.get("no_autograd"):  # a3: refused whatever name reaches it
                    result = call_without_autograd(target, args, kwargs)
                else:
                    with torch.no_grad() if request.get("no_grad") else contextlib.nullcontext():
                        result = target(*args, **kwargs)
                return self.reply(result, request.get("keep", False))
            if op == "getattr":
                return self.reply(getattr(target, request["name"]), request.get("keep", False))
            if op == "setattr":
                setattr(target, request["name"], self.decode(request["value"]))
                return {"ok": None}
            return _error("protocol", ValueError(f"unknown op {op!r}"))
        except _Missing as exc:
            return _error("missing", exc)
        except BaseException as exc:  # noqa: BLE001
            return _error("exception", exc, loading.explain(exc, self.loaded.unbound))

    def load(self, request: dict) -> dict:
        graded = request.get("graded")
        plan = loading.Plan(
            mode=request["mode"],
            graded=tuple(graded) if graded is not None else None,
            given=tuple(request.get("given", ())),
            seconds=float(request.get("seconds", loading.Plan.seconds)),
        )
        self.loaded = loading.load(request["cells"], plan, self.namespace)
        defined = sorted(name for name in self.namespace if not name.startswith("__"))
        return {"defined": defined, "notes": self.loaded.notes}

    def handle_many(self, requests: list) -> list[dict]:
        """Each request in order, stopping after the first that fails: one round trip
        for what a test would otherwise send one by one (set the gradients, step, fetch)."""
        replies = []
        for request in requests:
            if type(request) is not dict or request.get("op") == "batch":
                replies.append(_error("protocol", ValueError("a batch holds single requests")))
            else:
                replies.append(self.handle(request))
            if "error" in replies[-1]:
                break
        return replies

    def seed(self, seed: int) -> None:
        seed_everything(seed)

    def resolve(self, ref: dict):
        if "name" in ref:
            if ref["name"] not in self.namespace:
                why = self.loaded.unbound.get(ref["name"])
                missing = f"the submission does not define {ref['name']!r}"
                raise _Missing(f"{missing}; {why}" if why else missing)
            return self.namespace[ref["name"]]
        if "lib" in ref:
            return _library_object(ref["lib"])
        obj = self.handles[ref["handle"]]
        return getattr(obj, ref["attr"]) if "attr" in ref else obj

    def decode(self, value):
        return wire.decode(value, handle_factory=self.handles.__getitem__)

    def reply(self, value, keep: bool) -> dict:
        if keep:
            number = self.next_handle
            self.next_handle += 1
            self.handles[number] = value
            return {"ok": {"$handle": number}, "type": type(value).__name__}
        try:
            return {"ok": wire.encode(value)}
        except TypeError as exc:
            return _error("unsupported", exc)


class _Missing(Exception):
    pass


def _library_object(dotted: str):
    """Library callables a test may build objects with (optimizers, losses): torch and builtins."""
    if not dotted.startswith(LIB_PREFIXES):
        raise PermissionError(f"{dotted!r} is not a library object tests may use")
    for split in range(dotted.count("."), 0, -1):
        module_name, *attrs = dotted.rsplit(".", split)
        if module_name in LIB_MODULES or module_name.startswith(LIB_PREFIXES):
            obj = importlib.import_module(module_name)
            for attr in ".".join(attrs).split("."):
                obj = getattr(obj, attr)
            return obj
    raise PermissionError(f"{dotted!r} is not a library object tests may use")


def _error(kind: str, exc: BaseException, described: str | None = None) -> dict:
    """``described``: the exception in words, when there is more to say than ``str(exc)``."""
    return {
        "error": {
            "kind": kind,
            "type": type(exc).__name__,
            "message": (described or loading.describe(exc)).split(": ", 1)[-1],
            "traceback": _student_traceback(exc),
        }
    }


def _student_traceback(exc: BaseException) -> str:
    """The last frames of the student's own cells: what a student can act on.

    Only those frames are looked up: a RecursionError after ``sys.setrecursionlimit(10**6)``
    carries a million frames, and extracting them all takes seconds, the test's deadline.
    """
    try:
        last: collections.deque = collections.deque(maxlen=8)
        tb = exc.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename.startswith("<cell"):
                last.append((tb.tb_frame, tb.tb_lineno))
            tb = tb.tb_next
        return "".join(traceback.StackSummary.extract(iter(last)).format())[-4000:]
    except Exception:  # noqa: BLE001
        return ""


def seed_everything(seed: int) -> None:
    """torch's, Python's and NumPy's global generators: what a student's code may draw from."""
    seed_torch(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)


def serve(call_fd: int, reply_fd: int) -> None:
    worker = Worker()
    wire.write_reply(reply_fd, {"ok": "ready", "pid": os.getpid()})
    while True:
        try:
            request = wire.read_frame(call_fd)
        except wire.WireClosed:
            return
        reply = worker.handle(request)
        try:
            wire.write_reply(reply_fd, reply)
        except (TypeError, ValueError, wire.WireError) as exc:
            wire.write_reply(reply_fd, _error("unsupported", exc))


def stdio_pipes() -> tuple[int, int]:
    """(call fd, reply fd) of a worker started by ``portable.py`` (Windows, where a child
    inherits no pipes but its standard ones): requests come on stdin, replies go on stdout.
    What the student's code prints must not reach either: fd 1 becomes the output stream
    (stderr), and fd 0 reads nothing."""
    call, reply = os.dup(0), os.dup(1)
    os.dup2(2, 1)
    nothing = os.open(os.devnull, os.O_RDONLY)
    os.dup2(nothing, 0)
    os.close(nothing)
    return call, reply


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    if args.stdio:
        args.call_fd, args.reply_fd = stdio_pipes()
    torch.set_num_threads(args.threads)
    needed = _needed_paths()
    if os.getuid() == 0 and args.uid:
        reach.make_reachable(needed, args.uid, args.uid)  # a Python under a 0700 home, without bwrap
    drop_privileges(args.uid)
    _refuse_unreachable(needed)
    set_limits(args)
    syscalls.lock_down()
    serve(args.call_fd, args.reply_fd)


if __name__ == "__main__":
    main(sys.argv[1:])
