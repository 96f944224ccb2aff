"""tests/unit never starts a worker: every way the engine starts one fails loudly here.

A unit test that needs a worker's answers uses ``fake_worker.FakeWorker``, the
in-process double (as httpx's tests use ``MockTransport``); a test that needs a real
worker belongs in tests/sandbox/ (and is marked ``sandbox``).

The spawn points are refused around each unit test's whole run, module- and
class-scoped fixtures included (``pytest_runtest_protocol``, which pytest calls for
every test of the session: it guards those of this folder only, so a whole run's
tests/sandbox/ still starts its workers). The refusal is a ``BaseException``, so no ``except
Exception`` in the engine can turn it into an ``error`` result a test might expect.
"""

import multiprocessing.process
import subprocess
from pathlib import Path

import pytest

CHILD_SCRIPTS = ("worker.py", "zygote.py")
UNIT = Path(__file__).resolve().parent


class WorkerStarted(BaseException):
    """A unit test tried to start a real worker, fork server or grading process."""


def _refuse(what: str):
    def refuse(*args, **kwargs):
        raise WorkerStarted(
            f"tests/unit must not start {what}: use fake_worker.FakeWorker, "
            "or move the test to tests/sandbox/"
        )

    return refuse


class _GuardedPopen(subprocess.Popen):
    """``subprocess.Popen`` that refuses bubblewrap and the worker's own scripts."""

    def __init__(self, args, *rest, **kwargs):
        words = [str(a) for a in ([args] if isinstance(args, str | bytes) else args)]
        sandboxed = words and words[0].endswith("bwrap") and len(words) > 2  # not a ``bwrap --help`` probe
        if sandboxed or any(w.endswith(CHILD_SCRIPTS) for w in words):
            _refuse(f"a sandboxed process ({' '.join(words)[:200]})")()
        super().__init__(args, *rest, **kwargs)


def refuse_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    from grader.sandbox.forkserver import ForkServer
    from grader.sandbox.portable import StdioWorker
    from grader.sandbox.process import WorkerProcess

    monkeypatch.setattr(WorkerProcess, "__init__", _refuse("a cold worker (WorkerProcess)"))
    monkeypatch.setattr(StdioWorker, "__init__", _refuse("a portable worker (StdioWorker)"))
    monkeypatch.setattr(ForkServer, "__init__", _refuse("a fork server (ForkServer)"))
    monkeypatch.setattr(multiprocessing.process.BaseProcess, "start", _refuse("a grading process"))
    monkeypatch.setattr(subprocess, "Popen", _GuardedPopen)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    # pytest calls this hook of every conftest for every test: guard only the tests here
    if UNIT not in Path(item.path).resolve().parents:
        yield
        return
    with pytest.MonkeyPatch.context() as monkeypatch:
        refuse_workers(monkeypatch)
        yield
