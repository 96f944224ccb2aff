"""What grading costs beyond the suites' own compute, with warm and with cold workers.

    python bench/overhead.py [--submissions 40] [--out bench/results-overhead.json]

Method. A throw-away course holds a suite of one test that calls ``f(x)`` once: the
suite's own compute is about a millisecond, so the wall time per submission *is*
the grader's overhead (start or fork a worker, load the notebook, run pytest's
protocol for one test, write nothing). Submissions are copies of one small
notebook with a different comment each (different content hashes, as in a class).
Each mode grades the same batch; the per-submission times are the ``seconds`` field
of each result (measured by the grader, worker start included), and the batch's wall
time is measured here around the whole call.

A second measurement grades copies of the a4 reference with the real a4 suite, and
compares the batch's wall time with 10 fresh ``python -c "import torch"`` processes.

Run as root, the script also grades the first batch as an ordinary user
(``tests/unprivileged.py``: warm workers in user namespaces), in the same run, and
reports it under ``nonroot``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "course"  # this repository\'s course
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from grader.course.layout import Course  # noqa: E402
from grader.grading.grade import grade  # noqa: E402
from grader.grading.parallel import default_workers  # noqa: E402
from grader.sandbox import forkserver  # noqa: E402

TRIVIAL_SUITE = """
import pytest
import torch


@pytest.mark.points(1)
def test_f(student):
    assert student.f(torch.ones(3)).tolist() == [2.0, 2.0, 2.0]
"""


def notebooks(folder: Path, count: int, code: str) -> list[str]:
    paths = []
    for i in range(count):
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(f"# submission {i}\n{code}")])
        path = folder / f"s{i:04d}.ipynb"
        nbformat.write(nb, str(path))
        paths.append(str(path))
    return paths


def run(paths: list[str], assignment: str, course: Course, warm: bool, workers: int = 1) -> dict:
    started = time.perf_counter()
    results = grade(paths, assignment=assignment, course=course, warm=warm, workers=workers)
    wall = time.perf_counter() - started
    assert all(r.status == "graded" and r.score == r.max_score for r in results), "a bench run failed"
    per = sorted(r.seconds for r in results)
    return {
        "submissions": len(paths),
        "workers": workers,
        "wall_s": round(wall, 3),
        "min_ms": round(1000 * per[0], 1),
        "median_ms": round(1000 * statistics.median(per), 1),
        "p90_ms": round(1000 * per[int(0.9 * (len(per) - 1))], 1),
    }


def trivial_course(folder: Path) -> Course:
    (folder / "suites" / "b0").mkdir(parents=True)
    (folder / "reference").mkdir()
    (folder / "suites" / "b0" / "test_b0.py").write_text(TRIVIAL_SUITE)
    return Course(folder)


def import_torch_seconds(times: int) -> float:
    started = time.perf_counter()
    for _ in range(times):
        subprocess.run([sys.executable, "-c", "import torch"], check=True)
    return time.perf_counter() - started


def nonroot_overhead(submissions: int, no_cold: bool) -> dict:
    """The first measurement again, by an unprivileged user: this script, run as that user."""
    import unprivileged

    reason = unprivileged.why_not()
    if reason is not None:
        return {"skipped": reason}
    account = unprivileged.ensure_user()
    with tempfile.TemporaryDirectory(prefix="dlgrade-nonroot-home-") as home:
        os.chown(home, account.pw_uid, account.pw_gid)
        out = Path(home) / "overhead.json"
        command = [
            sys.executable,
            __file__,
            "--submissions",
            str(submissions),
            "--a4-submissions",
            "0",
            "--out",
            str(out),
            *(["--no-cold"] if no_cold else []),
        ]
        subprocess.run(unprivileged.as_user(command, home), cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        return {"user": account.pw_name, **json.loads(out.read_text())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=40)
    parser.add_argument("--a4-submissions", type=int, default=100)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results-overhead.json"))
    parser.add_argument("--no-nonroot", action="store_true", help="do not also measure as an ordinary user")
    parser.add_argument("--no-cold", action="store_true", help="warm workers only (where they are available)")
    args = parser.parse_args()
    modes = [True, False] if forkserver.available() else [False]
    if args.no_cold and forkserver.available():
        modes = [True]
    report: dict = {"machine": {"cores": os.cpu_count(), "warm_available": forkserver.available()}}
    with tempfile.TemporaryDirectory() as tmp:
        course = trivial_course(Path(tmp) / "course")
        subs = Path(tmp) / "subs"
        subs.mkdir()
        paths = notebooks(subs, args.submissions, "def f(x):\n    return 2 * x\n")
        for warm in modes:
            report[f"overhead_{'warm' if warm else 'cold'}"] = run(paths, "b0", course, warm)
            print(report)
        if os.getuid() == 0 and not args.no_nonroot:
            report["nonroot"] = nonroot_overhead(args.submissions, args.no_cold)
            print(report)
        if args.a4_submissions == 0:
            Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
            return

        from support import flatten_reference

        a4 = Path(tmp) / "a4"
        a4.mkdir()
        a4_paths = notebooks(a4, args.a4_submissions, flatten_reference("a4"))
        for workers in sorted({1, default_workers()}):
            key = f"a4_{'warm' if modes[0] else 'cold'}_{workers}_workers"
            report[key] = run(a4_paths, "a4", Course(COURSE), modes[0], workers)
        report["ten_import_torch_s"] = round(import_torch_seconds(10), 3)
    print(json.dumps(report, indent=2))
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
