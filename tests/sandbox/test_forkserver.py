"""Warm workers: forks of one server, each with walls of its own."""

import os
import time

import pytest
from support import mount_points_in_tmp

from grader.sandbox import forkserver, uids
from grader.sandbox.forkserver import ForkServer
from grader.sandbox.limits import Limits
from grader.sandbox.process import WorkerDied, WorkerTimeout
from grader.sandbox.process import _process_count as count_processes

pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.skipif(not forkserver.available(), reason="warm workers need bwrap, root or user namespaces"),
]

PROBE = """
import os, subprocess, threading, time
import torch
def who():
    procs = sorted(p for p in os.listdir("/proc") if p.isdigit())
    return {"uid": os.getuid(), "pid": os.getpid(), "procs": procs,
            "tmp": sorted(os.listdir("/tmp")), "cwd": os.getcwd()}
def litter():
    open("/tmp/secret.txt", "w").write("for the next student")
def spawn_sleepers(n):
    return [subprocess.Popen(["sleep", "300"]).pid for _ in range(n)]
def die():
    os._exit(7)
def spin():
    while True:
        pass
def die_soon():
    threading.Thread(target=lambda: (time.sleep(0.2), os._exit(3))).start()
def threads():
    return torch.get_num_threads()
def busy():
    a = torch.randn(400, 400)
    for _ in range(10):
        a = torch.tanh(a @ a)
    return float(a.sum())
"""


@pytest.fixture(scope="module")
def server():
    with ForkServer() as server:
        yield server


def start(server, limits=Limits()):
    worker = server.spawn(limits)
    reply = worker.request({"op": "load", "cells": [PROBE], "mode": "definitions"}, 10)
    assert "ok" in reply, reply
    return worker


def call(worker, name, *args, timeout=10):
    message = {"op": "call", "target": {"name": name}, "args": list(args), "kwargs": {}}
    reply = worker.request(message, timeout)
    assert "ok" in reply, reply
    return reply["ok"]


def test_each_worker_is_pid_1_of_its_own_namespace_with_its_own_uid(server):
    first, second = start(server), start(server)
    a, b = call(first, "who"), call(second, "who")
    assert a["pid"] == b["pid"] == 1 and a["procs"] == b["procs"] == ["1"]  # nobody else in sight
    if os.getuid() == 0:
        assert a["uid"] != b["uid"] and min(a["uid"], b["uid"]) >= uids.FIRST_UID
    else:  # an unprivileged user namespace can map one uid only: the grader's
        assert a["uid"] == b["uid"] == os.getuid()
    first.kill(), second.kill()


@pytest.mark.skipif(os.getuid() != 0, reason="only a grader running as root has uids to give")
def test_no_two_workers_share_a_uid_however_many_come_one_after_another(server):
    seen = []
    for _ in range(12):  # uids once came round again after 8 workers
        worker = start(server)
        seen.append(call(worker, "who")["uid"])
        worker.kill()
    assert len(set(seen)) == len(seen)


def test_what_a_worker_writes_to_tmp_is_gone_for_the_next(server):
    worker = start(server)
    call(worker, "litter")
    binds = mount_points_in_tmp()
    assert [e for e in call(worker, "who")["tmp"] if e not in binds] == ["secret.txt"]
    assert call(worker, "who")["cwd"] == "/tmp"
    worker.kill()
    fresh = start(server)
    assert [e for e in call(fresh, "who")["tmp"] if e not in binds] == []
    fresh.kill()


def test_killing_a_worker_kills_everything_it_started(server):
    worker = start(server)
    uid = call(worker, "who")["uid"]
    before = count_processes(uid)  # a grader that is not root runs as the workers' uid itself
    assert len(call(worker, "spawn_sleepers", 5)) == 5
    assert count_processes(uid) >= before + 5
    worker.kill()
    deadline = time.monotonic() + 5
    while count_processes(uid) > before - 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert count_processes(uid) == before - 1  # the worker and all it started are gone


def test_an_exit_and_a_hang_end_as_they_do_for_cold_workers(server):
    worker = start(server)
    with pytest.raises(WorkerDied, match="exited with code 7"):
        call(worker, "die")
    worker.kill()
    worker = start(server)
    with pytest.raises(WorkerTimeout):
        call(worker, "spin", timeout=0.5)
    assert not worker.alive
    fresh = start(server)
    assert call(fresh, "who")["pid"] == 1  # the server is unharmed
    fresh.kill()


def test_a_worker_that_dies_between_requests_is_seen_dead_without_asking_the_server(server, monkeypatch):
    worker = start(server)
    call(worker, "die_soon")
    assert worker.alive
    with monkeypatch.context() as patched:  # alive is asked before every request: no round trip
        patched.setattr(server, "ask", lambda *args, **kwargs: pytest.fail("alive asked the server"))
        deadline = time.monotonic() + 5
        while worker.alive and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not worker.alive
    worker.kill()


@pytest.mark.parametrize("threads", [1, 2])
def test_a_warm_worker_runs_torch_on_the_threads_it_was_given(server, threads):
    worker = start(server, Limits(threads=threads))
    assert call(worker, "threads") == threads
    assert isinstance(call(worker, "busy", timeout=60), float)  # OpenMP starts after the fork, no hang
    worker.kill()
