"""Memory of dlgrade's workers: the fork server, idle and busy forked workers, a cold worker.

    python bench/memory.py [--out bench/results-memory.json]

Method. ``ForkServer`` and ``Session`` are driven directly, as the grader drives
them, and every process is read from ``/proc/PID/smaps_rollup``:

- RSS counts every resident page the process maps, shared or not;
- USS (``Private_Clean + Private_Dirty``) counts only the pages no other process
  maps: what killing the process would give back;
- PSS divides each shared page among the processes that map it, so the PSS of all
  processes adds up to the memory they really use together.

A forked worker starts as a copy-on-write image of the fork server: torch's code
*and* the heap that ``import torch`` built are shared with the server until the
worker writes to them. Its RSS therefore counts torch again for every worker,
while its USS is what the worker adds. The fair cost of one more worker is its USS
(equivalently, the slope of total PSS as workers are added), which this also
measures with 1, 2, 4 and 8 idle workers alive at once.

An idle worker has loaded the a1 reference notebook and waits for a request. A busy
one is sampled every 20 ms during one call: the a5 accuracy task (train the a5
reference's model on the digits, exactly as the hidden suite's test does it) and a
2048 x 2048 float32 matmul. Peak RSS is also read from ``VmHWM``. A cold worker (a
fresh interpreter that imports torch itself) is measured idle and busy alike.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "course"  # this repository\'s course
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench" / "compare"))

from grader.sandbox import forkserver  # noqa: E402
from grader.sandbox.limits import Limits  # noqa: E402
from grader.sandbox.remote import Student  # noqa: E402
from grader.sandbox.session import Session  # noqa: E402

MIB = 1024
MATMUL_N = 2048
MATMUL_CELL = f"def big_matmul(n={MATMUL_N}):\n    a = torch.randn(n, n)\n    return float((a @ a).sum())\n"
IDLE_COUNTS = (1, 2, 4, 8)


# --------------------------------------------------------------------------- reading /proc


def smaps(pid: int) -> dict[str, float]:
    """RSS, PSS, USS and anonymous memory of ``pid`` in MiB, from one read of smaps_rollup."""
    kb = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[2] == "kB":
                kb[parts[0].rstrip(":")] = int(parts[1])
    uss = kb["Private_Clean"] + kb["Private_Dirty"]
    return {"rss": kb["Rss"] / MIB, "pss": kb["Pss"] / MIB, "uss": uss / MIB, "anon": kb["Anonymous"] / MIB}


def peak_rss(pid: int) -> float:
    """``VmHWM``: the most resident memory ``pid`` ever had, in MiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / MIB
    raise RuntimeError(f"no VmHWM for {pid}")


def children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(p) for p in f.read().split()]


def descendants(pid: int) -> list[int]:
    found = []
    for child in children(pid):
        found += [child, *descendants(child)]
    return found


def argv(pid: int) -> list[str]:
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read().decode(errors="replace").split("\0")


def namespace_pids(pid: int) -> list[int]:
    """``pid`` as each nested PID namespace sees it, outermost first (``NSpid``)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("NSpid:"):
                return [int(p) for p in line.split()[1:]]
    return [pid]


def python_under(pid: int, script: str) -> int:
    """The host pid of the python process running ``script`` below ``pid`` (not bwrap, whose
    command line names the script too)."""
    for child in descendants(pid):
        args = argv(child)
        if "python" in Path(args[0]).name and any(a.endswith(script) for a in args):
            return child
    raise RuntimeError(f"no process running {script} under {pid}")


def rounded(values: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 1) for k, v in values.items()}


# --------------------------------------------------------------------------- sampling a busy worker


class Sampler:
    """Reads a process's smaps every ``every`` seconds in a thread; keeps the largest of each."""

    def __init__(self, pid: int, every: float = 0.02):
        self.pid, self.every = pid, every
        self.peak: dict[str, float] = {}
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                now = smaps(self.pid)
            except OSError:
                return
            self.samples += 1
            self.peak = {k: max(v, self.peak.get(k, 0.0)) for k, v in now.items()}
            self._stop.wait(self.every)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def busy(pid: int, call: Callable[[], object]) -> dict:
    """Peak RSS/PSS/USS while ``call`` runs in the worker ``pid``, and how long it ran."""
    started = time.perf_counter()
    with Sampler(pid) as sampler:
        call()
    peak = rounded(sampler.peak)
    return {
        "peak": peak,
        "vm_hwm_rss": round(peak_rss(pid), 1),
        "samples": sampler.samples,
        "call_s": round(time.perf_counter() - started, 2),
    }


# --------------------------------------------------------------------------- the workloads


def a1_cells() -> list[str]:
    from class_of_20 import solution

    return [c.source for c in solution().cells if c.cell_type == "code"]


def a5_cells() -> list[str]:
    from support import flatten_reference

    return [flatten_reference("a5"), MATMUL_CELL]


@functools.cache
def _a5_suite():
    """The a5 hidden suite as a module, for its data split and the settings of its accuracy test."""
    spec = importlib.util.spec_from_file_location("bench_a5_suite", COURSE / "suites" / "a5" / "test_a5.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


def a5_accuracy_task(session: Session) -> None:
    """The body of the a5 suite's accuracy test: build, train for up to 60 epochs, evaluate."""
    suite = _a5_suite()
    student = Student(session)
    session.begin_test(suite.ACCURACY_SECONDS)
    model = student.keep("build_model", 64, 10)
    *train_and_val, x_test, y_test = suite.digits_split()
    optimizer = student.lib("torch.optim.Adam", model.call_keep("parameters"), lr=1e-3)
    loss_fn = student.lib("torch.nn.CrossEntropyLoss")
    generator = suite.worker_generator(student, suite.DIGITS_SEED)
    student.keep(
        "train", model, optimizer, loss_fn, *train_and_val, **suite.DIGITS_TRAINING, generator=generator
    )
    accuracy = suite.hidden_label_accuracy(model, x_test, y_test)
    if accuracy < suite.ACCURACY_THRESHOLD:
        raise RuntimeError(f"the a5 reference reached only {accuracy:.3f}: the workload did not run")


def matmul_task(session: Session) -> None:
    session.begin_test(60)
    Student(session).big_matmul(MATMUL_N)


# --------------------------------------------------------------------------- measurements


class Tracked:
    """A spawn function that remembers the workers it started (the Session keeps its own private)."""

    def __init__(self, spawn: Callable):
        self._spawn = spawn
        self.workers: list = []

    def __call__(self, limits: Limits):
        worker = self._spawn(limits)
        self.workers.append(worker)
        return worker


def forked_host_pid(zygote: int, worker_pid: int) -> int:
    """The host pid of a forked worker that the zygote knows as ``worker_pid``."""
    for child in children(zygote):
        if worker_pid in namespace_pids(child)[1:]:
            return child
    raise RuntimeError(f"worker {worker_pid} is not a child of the fork server {zygote}")


def measure_forked() -> dict:
    """Fork server alone, idle workers (1, 2, 4, 8 at once), and busy workers."""
    report: dict = {}
    with forkserver.ForkServer() as server:
        zygote = python_under(os.getpid(), "zygote.py")
        report["fork_server"] = rounded(smaps(zygote))
        report["idle"] = [idle_workers(server, zygote, count) for count in IDLE_COUNTS]
        report["idle_marginal_pss_per_worker"] = _slope(report["idle"])
        report["busy"] = {
            name: busy_forked(server, zygote, task)
            for name, task in (("a5_accuracy_task", a5_accuracy_task), (f"matmul_{MATMUL_N}", matmul_task))
        }
    return report


def idle_workers(server: forkserver.ForkServer, zygote: int, count: int) -> dict:
    """``count`` workers with a1 loaded, alive together: each one's numbers and the total PSS."""
    tracked = Tracked(server.spawn)
    sessions = [Session(a1_cells(), spawn=tracked) for _ in range(count)]
    try:
        for session in sessions:
            session.start()
        time.sleep(0.2)  # let each settle after its load reply
        pids = [forked_host_pid(zygote, w.pid) for w in tracked.workers]
        each = [smaps(pid) for pid in pids]
        server_now = smaps(zygote)
    finally:
        for session in sessions:
            session.close()
    return {
        "workers": count,
        "per_worker_median": rounded({k: statistics.median(e[k] for e in each) for k in each[0]}),
        "total_pss_with_server": round(server_now["pss"] + sum(e["pss"] for e in each), 1),
        "server_pss": round(server_now["pss"], 1),
    }


def _slope(idle: list[dict]) -> float:
    first, last = idle[0], idle[-1]
    grown = last["total_pss_with_server"] - first["total_pss_with_server"]
    return round(grown / (last["workers"] - first["workers"]), 1)


def busy_forked(server: forkserver.ForkServer, zygote: int, task: Callable[[Session], None]) -> dict:
    tracked = Tracked(server.spawn)
    session = Session(a5_cells(), spawn=tracked)
    try:
        session.start()
        pid = forked_host_pid(zygote, tracked.workers[0].pid)
        idle = rounded(smaps(pid))
        return {"idle_before": idle, **busy(pid, lambda: task(session))}
    finally:
        session.close()


def measure_cold() -> dict:
    """A cold worker (its own interpreter and ``import torch``), idle with a1, busy with a5."""
    report = {}
    session = Session(a1_cells())  # no spawn: a cold worker, as without a fork server
    try:
        session.start()
        time.sleep(0.2)
        pid = python_under(os.getpid(), "worker.py")
        report["idle"] = rounded(smaps(pid))
        bwrap = [p for p in descendants(os.getpid()) if p != pid]
        report["bwrap_processes_uss"] = round(sum(smaps(p)["uss"] for p in bwrap), 1)
    finally:
        session.close()
    session = Session(a5_cells())
    try:
        session.start()
        pid = python_under(os.getpid(), "worker.py")
        report["busy"] = {"a5_accuracy_task": busy(pid, lambda: a5_accuracy_task(session))}
    finally:
        session.close()
    return report


def measure() -> dict:
    """Everything above; forked workers only where the machine runs them (root and bwrap)."""
    _a5_suite().digits_split()  # sklearn and the data load here, not inside the first timed call
    report: dict = {"machine": {"cores": os.cpu_count(), "warm_available": forkserver.available()}}
    if forkserver.available():
        report["forked"] = measure_forked()
    report["cold"] = measure_cold()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "bench" / "results-memory.json"))
    args = parser.parse_args()
    report = measure()
    print(json.dumps(report, indent=2))
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
