"""The walls as the trusted side builds them, with no worker started: which hidden folders
get a cover, a bubblewrap too old for the view, a wire error for an absurd shape, what is
said when bubblewrap or libseccomp is missing, and uids across grading processes.

Split from ``tests/sandbox/test_sandbox_walls.py``, where workers probe the walls from inside.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner
from support import COURSE, ROOT

from grader.cli import main
from grader.sandbox import process, uids
from grader.sandbox.child import wire
from grader.sandbox.process import isolation_warning

# --------------------------------------------------------------------------- without a sandbox worker


def test_hidden_folders_outside_the_view_get_no_cover():
    hidden = "/var/tmp/course-x/submissions/alice"
    args = process._bwrap_view(None, (hidden, "/usr/share/course-y"))
    assert hidden not in args
    assert args[args.index("/usr/share/course-y") - 1] == "--tmpfs"  # inside the view: covered


def test_a_bwrap_too_old_for_the_view_counts_as_none(monkeypatch):
    monkeypatch.setattr(process.shutil, "which", lambda name: "/usr/bin/bwrap")
    monkeypatch.setattr(process, "_bwrap_can_build_the_view", lambda path: False)
    assert process.bwrap_path() is None
    assert "too old" in isolation_warning()


def test_a_returned_tensor_with_an_absurd_shape_is_a_wire_error():
    body = {"dtype": "float32", "shape": [0, 2**70], "device": "cpu", "data": ""}
    with pytest.raises(wire.WireError, match="bad shape"):
        wire.decode({"$tensor": body})
    with pytest.raises(wire.WireError, match="bad shape"):
        wire.decode({"$ndarray": {**body, "shape": [0, 2**62]}})


def test_grading_without_bubblewrap_says_what_is_lost(monkeypatch):
    monkeypatch.setattr(process.shutil, "which", lambda name: None)
    run = CliRunner().invoke(
        main, ["grade", "--assignment", "a9", str(COURSE / "reference" / "a1" / "perceptron.py")]
    )
    assert "warning: bubblewrap (bwrap) is not installed" in run.stderr
    for lost in ("PID namespace", "network isolation", "private view of the disk"):
        assert lost in run.stderr


@pytest.mark.skipif(os.getuid() != 0, reason="only a grader running as root gives workers uids")
def test_grading_processes_running_at_once_never_hand_out_the_same_uid(tmp_path):
    """Two grading processes (``--workers``, or two batches) and a forked child each claim
    a block of uids of their own."""
    script = "from grader.sandbox.uids import next_worker_uid as n; print(n(), n(), flush=True); input()"
    others = [
        subprocess.Popen(
            [sys.executable, "-c", script], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    handed_out = [int(uid) for other in others for uid in other.stdout.readline().split()]
    handed_out += [uids.next_worker_uid(), uids.next_worker_uid()]
    read, write = os.pipe()
    child = os.fork()
    if child == 0:
        os.write(write, str(uids.next_worker_uid()).encode())
        os._exit(0)
    os.waitpid(child, 0)
    handed_out.append(int(os.read(read, 100)))
    for other in others:
        other.communicate("")
    assert len(set(handed_out)) == len(handed_out) == 7
    assert min(handed_out) >= uids.FIRST_UID and max(handed_out) < 2**32 - 1


def test_grading_without_libseccomp_says_what_is_lost(monkeypatch):
    monkeypatch.setattr(process.syscalls, "available", lambda: False)
    warning = isolation_warning() or ""
    assert "without the seccomp filter" in warning and "libseccomp2" in warning
