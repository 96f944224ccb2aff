"""The worker's start-up off Linux, simulated on Linux: the rlimits a laptop gives it.
(In tests/sandbox/: each case starts a fresh interpreter that imports torch.)

Each case runs in a fresh interpreter that imports the worker script as a module and
calls ``set_limits`` after making the system look like another one (the platform name, a
missing or refusing ``resource`` module).
"""

import subprocess
import sys

from support import ROOT

SANDBOX = ROOT / "grader" / "sandbox" / "child"
PROLOGUE = f"""
import argparse, resource, sys
sys.path.insert(0, {str(SANDBOX)!r})
import worker
args = argparse.Namespace(cpu_seconds=100, max_file_mb=64, max_open_files=256, memory_mb=3072,
                          max_processes=4096)
"""


def _run(body: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", PROLOGUE + body]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_without_the_resource_module_the_worker_sets_no_limits_and_goes_on():
    run = _run("worker.resource = None\nworker.set_limits(args)\nprint('started')")
    assert run.returncode == 0 and "started" in run.stdout, run.stderr


def test_on_macos_a_limit_the_system_refuses_is_skipped_and_no_address_space_limit_is_set():
    refusing = """
def setrlimit(which, value, real=resource.setrlimit):
    if which == resource.RLIMIT_NPROC:
        raise ValueError("current limit exceeds maximum limit")
    real(which, value)
worker.resource.setrlimit = setrlimit
worker.sys.platform = "darwin"
worker.set_limits(args)
print(resource.getrlimit(resource.RLIMIT_AS)[0] == resource.RLIM_INFINITY,
      resource.getrlimit(resource.RLIMIT_NOFILE)[0])
"""
    run = _run(refusing)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["True", "256"]  # the others are set


def test_on_linux_a_refused_limit_is_still_an_error():
    refusing = """
def setrlimit(which, value):
    raise ValueError("refused")
worker.resource.setrlimit = setrlimit
worker.set_limits(args)
"""
    run = _run(refusing)
    assert run.returncode != 0 and "ValueError: refused" in run.stderr
