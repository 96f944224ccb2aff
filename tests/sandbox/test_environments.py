"""Real users' environments, built for real: correct work must be graded as correct there.

Each test makes the environment it is about (a virtual environment in /tmp made with
``python -m venv``, a Python under a 0700 folder, ...) and runs dlgrade's workers from
it in a separate process, the way a user or a CI job would. docs/environments.md says
which environments were tried and how.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import pytest
from support import ROOT

from grader.sandbox import forkserver
from grader.sandbox.process import bwrap_path

pytestmark = pytest.mark.sandbox

PROBE_MODULE = "dlgrade_env_probe"
CORRECT_A1 = ROOT / "examples" / "submissions" / "a1" / "alice.ipynb"

# Run by the environment's own Python, from this checkout: start a worker of the kind given
# in argv[1] ("cold", "warm" or "bare": cold without bubblewrap), load a cell that imports a
# module installed only in that environment, call it, and print what came back as JSON.
PROBE_SCRIPT = """
import json, sys
from grader.sandbox import process
from grader.sandbox.forkserver import ForkServer
from grader.sandbox.limits import Limits

CELL = '''
import os, numpy.random
import dlgrade_env_probe
def probe(venv):
    try:
        open(os.path.join(venv, "written-by-a-student"), "w").close()
        written = "written"
    except OSError as exc:
        written = exc.strerror
    return {"value": dlgrade_env_probe.VALUE, "uid": os.getuid(), "written": written}
'''

def run(worker, venv):
    load = worker.request({"op": "load", "cells": [CELL], "mode": "definitions"}, 60)
    call = {"op": "call", "target": {"name": "probe"}, "args": [venv], "kwargs": {}}
    found = worker.request(call, 60)
    worker.kill()
    return {"notes": load["ok"]["notes"], "found": found}

def start(kind):
    if kind == "warm":
        return ForkServer().spawn(Limits())
    process.bwrap_path = (lambda: None) if kind == "bare" else bwrap_path
    return process.WorkerProcess(Limits())

venv, kinds = sys.argv[1], sys.argv[2:]
bwrap_path = process.bwrap_path
found = {}
for kind in kinds:
    try:
        found[kind] = run(start(kind), venv)
    except process.WorkerDied as exc:
        found[kind] = {"died": exc.reason}
print(json.dumps(found))
"""


def make_venv(parent: Path) -> Path:
    """``python -m venv`` in ``parent``, on this Python's packages (torch, numpy), with one
    module of its own in its own site-packages: what only this environment has."""
    venv = parent / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    purelib = sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)})
    Path(purelib, f"{PROBE_MODULE}.py").write_text("VALUE = 42\n")
    check = subprocess.run([venv / "bin" / "python", "-c", "import numpy, torch"], capture_output=True)
    if check.returncode != 0:  # this Python is a venv itself: one made from it sees only its base
        pytest.skip(f"a venv made from {sys.executable} has no torch (run from a Python that has it)")
    return venv


def probe(python: Path, venv: Path, kinds: list[str], prefix: tuple[str, ...] = ()) -> dict:
    """What a worker of each kind, started by ``python`` (after ``prefix``: setpriv, ...), found."""
    command = [*prefix, str(python), "-c", PROBE_SCRIPT, str(venv), *kinds]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def kinds_here() -> list[str]:
    """The kinds of worker this machine can start: cold ones under bubblewrap, warm ones
    (root and bubblewrap), and bare ones (cold, as without bubblewrap) everywhere."""
    return [*(["cold"] if bwrap_path() else []), *(["warm"] if forkserver.available() else []), "bare"]


def assert_graded_as_correct(found: dict, venv: Path) -> None:
    """Every worker imported the environment's packages, and none could write to them."""
    for kind, seen in found.items():
        assert seen.get("notes") == [], (kind, seen)  # numpy.random and the venv's own module
        reply = seen["found"]["ok"]
        assert reply["value"] == 42, kind
        if os.getuid() == 0 or kind != "bare":  # a bare worker of the grader's own uid may
            assert reply["written"] in ("Read-only file system", "Permission denied"), kind


@pytest.fixture(scope="module")
def venv_in_tmp():
    """A virtual environment under /tmp, as a CI job or a ``mktemp -d`` clone has it."""
    parent = Path(tempfile.mkdtemp(prefix="dlgrade-venv-", dir="/tmp"))
    parent.chmod(0o755)
    try:
        yield make_venv(parent)
    finally:  # a skip in make_venv included
        shutil.rmtree(parent, ignore_errors=True)


def test_a_venv_under_tmp_stays_visible_and_read_only_in_every_worker(venv_in_tmp):
    assert_graded_as_correct(probe(venv_in_tmp / "bin" / "python", venv_in_tmp, kinds_here()), venv_in_tmp)


@pytest.fixture(scope="module")
def venv_in_private_home():
    """A virtual environment in a folder only its owner may enter (mode 0700), as pyenv and
    conda have it in a home folder: /root is 0700."""
    try:
        parent = Path(tempfile.mkdtemp(prefix=".dlgrade-home-", dir=Path.home()))
    except OSError:
        pytest.skip("no writable home folder")
    assert parent.stat().st_mode & 0o777 == 0o700
    try:
        yield make_venv(parent)
    finally:  # a skip in make_venv included
        shutil.rmtree(parent, ignore_errors=True)


@pytest.mark.skipif(os.getuid() != 0, reason="only a root grader drops to another uid")
def test_a_python_under_a_0700_home_is_reached_by_workers_that_drop_root(venv_in_private_home):
    venv = venv_in_private_home
    assert_graded_as_correct(probe(venv / "bin" / "python", venv, kinds_here()), venv)


@pytest.mark.skipif(os.getuid() != 0, reason="only a root grader drops to another uid")
def test_a_worker_that_cannot_read_its_python_refuses_to_start_and_says_why(tmp_path):
    """A venv made with umask 077: the venv itself is 0700, which no cover above it can
    open. The worker stops before "ready" with the reason and the fix, instead of
    grading every submission as broken."""
    tmp_path.chmod(0o755)
    venv = make_venv(tmp_path)
    venv.chmod(0o700)
    died = probe(venv / "bin" / "python", venv, ["bare"])["bare"]["died"]
    assert f"cannot read {venv}" in died and "Install bubblewrap" in died


RESERVES_LIKE_CUDA = '''\
"""Reserve 3.5 GiB of address space at start-up and never touch it, as ``import torch``
does in the CUDA build (3.2 GB) on a machine without a GPU."""
import mmap

RESERVED = mmap.mmap(-1, 3584 << 20, flags=mmap.MAP_PRIVATE, prot=0)  # PROT_NONE
'''


def grade_with(python: Path, tmp_path: Path, *paths: Path, workers: str = "1") -> dict:
    """``dlgrade grade --assignment a1`` run by ``python``; the results file, read back."""
    results = tmp_path / "results.json"
    command = [
        str(python),
        "-m",
        "grader.cli",
        "grade",
        "--assignment",
        "a1",
        "--workers",
        workers,
        "--json",
        str(results),
        "--gradebook",
        str(tmp_path / "gradebook.sqlite"),
        *map(str, paths),
    ]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert results.exists(), run.stdout[-2000:] + run.stderr[-2000:]
    return {Path(r["submission"]).stem: r for r in json.loads(results.read_text())["results"]}


def test_a_python_that_reserves_gigabytes_at_start_like_the_cuda_build_still_grades_correct_work(tmp_path):
    tmp_path.chmod(0o755)
    venv = make_venv(tmp_path)
    purelib = sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)})
    Path(purelib, "sitecustomize.py").write_text(RESERVES_LIKE_CUDA)
    show = "import sitecustomize; print(sitecustomize.RESERVED)"
    reserved = subprocess.run([venv / "bin" / "python", "-I", "-c", show], capture_output=True, text=True)
    assert "mmap" in reserved.stdout, reserved.stderr  # every process of this Python reserves it
    hog = ROOT / "tests" / "hostile" / "alloc_12gb.ipynb"
    results = grade_with(venv / "bin" / "python", tmp_path, CORRECT_A1, hog)
    assert (results["alice"]["score"], results["alice"]["max_score"]) == (23, 23), results["alice"]
    sigmoid = [t for t in results["alloc_12gb"]["tests"] if t["name"].startswith("test_sigmoid")]
    assert sigmoid and all("can't allocate memory" in t["message"] for t in sigmoid)  # as it always ended


AS_ANOTHER_USER = """
import os, sys
sys.path.insert(0, os.path.join(os.getcwd(), "grader", "sandbox", "child"))
import reach

uid, readable, command = int(sys.argv[1]), sys.argv[2].split(os.pathsep), sys.argv[3:]
reach.make_reachable(readable, uid, uid)  # this machine's Python may sit in a 0700 home
os.setgroups([])
os.setgid(uid)
os.setuid(uid)
os.execv(command[0], command)
"""


@pytest.mark.skipif(os.getuid() != 0, reason="making another user takes root")
def test_an_instructor_who_is_not_root_gets_full_marks_for_correct_work(tmp_path):
    """The grader itself runs as an unprivileged uid (no passwd entry needed), its workers
    under bubblewrap without root where it is installed. Where this machine's Python lives
    in a 0700 home, the launcher first makes it reachable for that uid the way a worker
    does (``reach.py``); elsewhere that step does nothing."""
    uid = 54321
    os.chown(tmp_path, uid, uid)
    python = os.path.realpath(sys.executable)
    readable = [sys.prefix, sys.base_prefix, os.path.dirname(python), str(ROOT), str(tmp_path)]
    results = tmp_path / "results.json"
    grade = [
        python,
        "-m",
        "grader.cli",
        "grade",
        "--assignment",
        "a1",
        "--workers",
        "1",
        "--json",
        str(results),
        "--gradebook",
        str(tmp_path / "book.sqlite"),
        str(CORRECT_A1),
    ]
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    run = subprocess.run(
        [python, "-c", AS_ANOTHER_USER, str(uid), os.pathsep.join(readable), *grade],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert results.exists(), run.stdout[-2000:] + run.stderr[-2000:]
    assert results.stat().st_uid == uid  # written by the grader, running as that user
    [result] = json.loads(results.read_text())["results"]
    assert (result["status"], result["score"], result["max_score"]) == ("graded", 23, 23), result
