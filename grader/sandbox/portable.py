"""A worker for systems without Linux's parts, Windows above all: public checks on a laptop.

A cold worker (``process.WorkerProcess``) gets its request and reply pipes as inherited
file descriptors (``pass_fds``), waits for replies with ``select`` and is killed with its
process group: none of the three exists on Windows. This one talks over the child's
standard streams instead, which every system passes on:

    stdin    requests (``wire`` frames), written by the trusted side
    stdout   replies; the worker moves what the student's code prints to stderr
    stderr   the student's output, drained into the capped buffer

and a thread waits for the replies, so that a deadline is a ``queue.get`` timeout. Kill
is ``Popen.kill`` (TerminateProcess on Windows): processes the student's code started
are not killed with it. No bubblewrap, no rlimits (no ``resource`` module), no uid of its
own: this is for the public checks a student runs on their own machine, which are advice,
never a verdict (docs/ci.md). Grading runs on Linux, with ``WorkerProcess``.

``NEEDED`` says where it is used; tests set it on Linux to run the same code.
"""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from grader.sandbox.child import wire
from grader.sandbox.limits import Limits
from grader.sandbox.process import (
    READY_SECONDS,
    WORKER_SCRIPT,
    Channel,
    WorkerDied,
    WorkerTimeout,
    worker_rlimits,
)

NEEDED = sys.platform == "win32"
# What Python needs of the environment to start on Windows (SYSTEMROOT above all), and
# the same names elsewhere where they exist; nothing else of the grader's leaks in.
KEPT_ENVIRONMENT = ("SYSTEMROOT", "SYSTEMDRIVE", "WINDIR", "PATH", "PATHEXT", "COMSPEC", "LANG")


class StdioWorker(Channel):
    """A cold worker whose pipes are its standard streams (see the module's docstring)."""

    def __init__(self, limits: Limits):
        self._home = tempfile.mkdtemp(prefix="dlgrade-worker-")
        self._proc = subprocess.Popen(
            _command(limits),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=self._home,
            env=_environment(self._home),
        )
        assert self._proc.stdin is not None and self._proc.stdout is not None  # both PIPEs (for mypy)
        # Our own copies of the two pipe ends, so that no file object closes them behind us.
        call_write, reply_read = os.dup(self._proc.stdin.fileno()), os.dup(self._proc.stdout.fileno())
        self._proc.stdin.close()
        self._proc.stdout.close()
        self._replies: queue.Queue = queue.Queue()
        self._ended: Exception | None = None
        super().__init__(limits, call_write, reply_read, self._proc.stderr)
        threading.Thread(target=self._receive, args=(reply_read,), daemon=True).start()
        self._await_ready_within(READY_SECONDS)

    def _await_ready_within(self, seconds: float) -> None:
        try:
            self._read(time.monotonic() + seconds)
        except (WorkerTimeout, WorkerDied) as exc:
            self.kill()
            tail = self.output.text()[-2000:]
            raise WorkerDied(f"the worker did not start ({exc}): {tail}") from None

    def _receive(self, fd: int) -> None:
        """Every reply frame, in order, then why they ended; this thread owns ``fd``."""
        try:
            while True:
                self._replies.put(wire.read_frame(fd))
        except (wire.WireError, OSError) as exc:
            self._replies.put(exc)
        finally:
            os.close(fd)

    def _read(self, deadline: float) -> dict:
        if self._ended is None:
            try:
                item = self._replies.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                self.kill()
                raise WorkerTimeout("no answer before the deadline") from None
            if isinstance(item, dict):
                return item
            self._ended = item
        if isinstance(self._ended, wire.WireClosed | OSError):
            raise self._died()
        self.kill()
        raise WorkerDied(f"the worker broke the protocol ({self._ended})")

    def _exit_code(self, timeout: float) -> int | None:
        try:
            return self._proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    @property
    def alive(self) -> bool:
        return self._proc.poll() is None

    def kill(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        self._close_pipes()
        shutil.rmtree(self._home, ignore_errors=True)

    def _close_pipes(self) -> None:
        """The request pipe; the reply pipe is the receiving thread's to close."""
        if self._call_write >= 0:
            try:
                os.close(self._call_write)
            except OSError:
                pass
            self._call_write = -1
        self._drain.join(timeout=1)
        if not self._drain.is_alive():
            self._stream.close()


def _command(limits: Limits) -> list[str]:
    rlimits = worker_rlimits(limits)
    options = [arg for name, value in rlimits.items() for arg in (f"--{name.replace('_', '-')}", str(value))]
    # -u: what the student's code prints reaches the output stream at once, not at an exit
    # that a killed worker never reaches
    python = [sys.executable, "-I", "-u"]
    return [*python, str(WORKER_SCRIPT), "--stdio", *options, "--threads", str(limits.threads)]


def _environment(home: str) -> dict[str, str]:
    environment = {name: os.environ[name] for name in KEPT_ENVIRONMENT if name in os.environ}
    environment.update(
        {
            "HOME": home,
            "USERPROFILE": home,
            "TMPDIR": home,
            "TEMP": home,
            "TMP": home,
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONHASHSEED": "0",
        }
    )
    return environment
