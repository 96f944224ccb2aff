"""How wall time grows with the class: 10, 100 and 1000 a1 submissions, every core used.

    python bench/scaling.py [--sizes 10 100 1000] [--workers N] [--out bench/results-scaling.json]

Method. Submissions are copies of the a1 reference solution, each with a comment of
its own (distinct content hashes, as in a class), graded with the real a1 hidden suite
(16 tests, 23 points) through ``grader.grading.grade.grade`` with ``--workers`` grading
processes (default: one per core) and warm workers where the machine allows. The wall
time is measured around the whole call, start of the grading processes included.
Every result must be 23/23, or the run is void.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from overhead import notebooks  # noqa: E402
from support import COURSE, flatten_reference  # noqa: E402

from grader.course.layout import Course  # noqa: E402
from grader.grading.grade import grade  # noqa: E402
from grader.grading.parallel import default_workers  # noqa: E402
from grader.sandbox import forkserver  # noqa: E402


def measure(size: int, workers: int, folder: Path) -> dict:
    folder.mkdir()
    paths = notebooks(folder, size, flatten_reference("a1"))
    started = time.perf_counter()
    results = grade(paths, assignment="a1", course=Course(COURSE), workers=workers)
    wall = time.perf_counter() - started
    assert all(r.score == 23 for r in results), "a bench run failed: not every copy got 23/23"
    return {
        "submissions": size,
        "workers": workers,
        "wall_s": round(wall, 2),
        "per_submission_ms": round(1000 * wall / size, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--out", default=str(ROOT / "bench" / "results-scaling.json"))
    args = parser.parse_args()
    report = {"machine": {"cores": os.cpu_count(), "warm_available": forkserver.available()}, "runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            report["runs"].append(measure(size, args.workers, Path(tmp) / f"n{size}"))
            print(report["runs"][-1], flush=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
