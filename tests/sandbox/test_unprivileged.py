"""An instructor who is not root gets warm workers and every wall, tested as a real
unprivileged user (made with useradd, entered with setpriv: ``tests/unprivileged.py``).

``.ci/run`` also runs the whole of ``test_sandbox_walls.py``, ``test_forkserver.py`` and
``test_hostile.py`` as that user; this test is the short version that runs everywhere
the suite runs as root.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest
import unprivileged
from support import ROOT

pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.skipif(unprivileged.why_not() is not None, reason=f"{unprivileged.why_not()}"),
]

# Run as the unprivileged user: grade the correct a1 sample, then look at a warm worker's walls.
SCRIPT = """
import json, os, sys
from pathlib import Path
from grader.course.layout import Course
from grader.grading.grade import grade
from grader.sandbox import forkserver
from grader.sandbox.forkserver import ForkServer
from grader.sandbox.limits import Limits

CELL = '''
import ctypes, errno, os, socket
def walls():
    found = {"uid": os.getuid(), "pid": os.getpid(), "pids": sorted(os.listdir("/proc"))}
    found["pids"] = [p for p in found["pids"] if p.isdigit()]
    found["written"] = {}
    for folder in ("/", "/dev", "/dev/shm", "/usr"):
        try:
            open(folder + "/x", "w").close()
            found["written"][folder] = "written"
        except OSError as exc:
            found["written"][folder] = exc.strerror
    tmp = os.statvfs("/tmp")
    found["tmp_bytes"] = tmp.f_blocks * tmp.f_frsize
    found["interfaces"] = [name for _, name in socket.if_nameindex()]
    status = open("/proc/self/status").read()
    found["seccomp"] = "Seccomp:\\t2" in status
    found["capabilities"] = [line for line in status.splitlines() if line.startswith("CapEff")]
    libc = ctypes.CDLL(None, use_errno=True)
    found["unshare"] = libc.unshare(0x10000000) == 0 or errno.errorcode[ctypes.get_errno()]
    return found
'''

result = grade([sys.argv[1]], assignment="a1", course=Course(Path.cwd() / "course"))[0]
report = {"available": forkserver.available(), "grade": [result.status, result.score, result.max_score]}
with ForkServer() as server:
    worker = server.spawn(Limits())
    worker.request({"op": "load", "cells": [CELL], "mode": "definitions"}, 60)
    reply = worker.request({"op": "call", "target": {"name": "walls"}, "args": [], "kwargs": {}}, 60)
    report["walls"] = reply["ok"]
    worker.kill()
print(json.dumps(report))
"""


@pytest.fixture(scope="module")
def as_nonroot():
    """What the script above found, run as the unprivileged user."""
    home = tempfile.mkdtemp(prefix="dlgrade-nonroot-home-")
    account = unprivileged.ensure_user()
    os.chown(home, account.pw_uid, account.pw_gid)
    sample = ROOT / "examples" / "submissions" / "a1" / "alice.ipynb"
    command = unprivileged.as_user([sys.executable, "-c", SCRIPT, str(sample)], home)
    try:
        run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    assert run.returncode == 0, run.stderr[-3000:]
    return {"uid": account.pw_uid, **json.loads(run.stdout.strip().splitlines()[-1])}


def test_an_instructor_who_is_not_root_gets_warm_workers_that_grade_correct_work(as_nonroot):
    assert as_nonroot["available"] is True
    assert as_nonroot["grade"] == ["graded", 23.0, 23.0]


def test_a_warm_worker_of_a_user_who_is_not_root_has_every_wall(as_nonroot):
    walls = as_nonroot["walls"]
    assert walls["uid"] == as_nonroot["uid"]  # the grader's own: no other uid can be mapped
    assert walls["pid"] == 1 and walls["pids"] == ["1"]  # a PID namespace of its own
    assert walls["interfaces"] == ["lo"]  # a network namespace of its own, nothing up
    assert set(walls["written"].values()) == {"Read-only file system"}  # /, /dev, /dev/shm, /usr
    assert walls["tmp_bytes"] == 256 << 20  # not a tmpfs of half the machine's memory
    assert walls["seccomp"] and walls["unshare"] == "EPERM"
