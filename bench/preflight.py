"""What the preflight costs: grading each assignment's reference before the first student.

    python bench/preflight.py [--assignments a1 a4] [--repeats 5] [--out bench/results-preflight.json]

Method. The preflight is one more submission per grading process (each of
``--workers``, each Dask chunk): the reference, graded in the same pytest session, fork
server and limits as the students. Its cost is therefore the time the grader takes for
that one submission: here the reference notebook is graded ``repeats`` times in one
batch (``preflight=False``, so the batch itself adds nothing), and the median of the
``seconds`` the grader records for each (worker start, load and every hidden test) is
the cost. For scale, the wall time of a whole one-submission batch (starting pytest
and the fork server) is given beside it. Warm workers where the machine allows.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "course"  # this repository\'s course
sys.path.insert(0, str(ROOT))

from grader.course.layout import Course  # noqa: E402
from grader.grading import preflight  # noqa: E402
from grader.grading.grade import grade  # noqa: E402
from grader.sandbox import forkserver  # noqa: E402


def measure(course: Course, assignment: str, repeats: int) -> dict:
    reference = preflight.reference_notebook(course, assignment)
    with tempfile.TemporaryDirectory(prefix="dlgrade-bench-") as folder:
        copies = [Path(folder) / f"copy{i}.ipynb" for i in range(repeats)]
        for copy in copies:
            shutil.copy(reference, copy)
        started = time.monotonic()
        grade([str(copies[0])], assignment=assignment, course=course, preflight=False)
        one_batch = time.monotonic() - started
        results = grade([str(c) for c in copies], assignment=assignment, course=course, preflight=False)
    assert all(preflight.full_marks(r) for r in results), "the reference must get full marks here"
    seconds = [r.seconds for r in results]
    return {
        "assignment": assignment,
        "reference_median_s": round(statistics.median(seconds), 3),
        "reference_max_s": round(max(seconds), 3),
        "one_submission_batch_wall_s": round(one_batch, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignments", nargs="+", default=["a1", "a4"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results-preflight.json"))
    args = parser.parse_args()
    course = Course(COURSE)
    rows = [measure(course, assignment, args.repeats) for assignment in args.assignments]
    report = {"warm_workers": forkserver.available(), "load_average": os.getloadavg()[0], "rows": rows}
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    for row in rows:
        print(
            f"{row['assignment']}: the preflight costs {row['reference_median_s']} s per grading process "
            f"(median of {args.repeats}, max {row['reference_max_s']} s); a whole one-submission batch "
            f"takes {row['one_submission_batch_wall_s']} s"
        )


if __name__ == "__main__":
    main()
