"""Time per submission of `dlgrade grade --json` as the class grows: 10, 100, 1000, 10 000.

    python bench/batch_json.py [--sizes 10 100 1000 10000] [--real 10 100 1000] [--workers N]

Two measurements, both through the command line (click's runner, in this process), with
a fresh gradebook and `--json` each time:

- **stand-in grading** (``--sizes``): every step of the batch runs for real (finding the
  submissions, hashing them, the gradebook lookup, one gradebook transaction per result,
  the results journal, the progress lines, the results document at the end), except the
  grading itself, which a stand-in replaces: it hands back, at once, a result shaped like
  a real a1 result (16 tests with their messages). What is left is the parent's own
  bookkeeping per result, the part that made a batch quadratic when the results JSON was
  rewritten after every result. Real grading of 10 000 submissions takes minutes of both
  cores on the development machine (about 30 ms each), too long for a shared machine.
  With ``--before``, the same run with the results document rewritten after every
  result, as dlgrade did before, for comparison (only for sizes up to 1000).
- **real grading** (``--real``): copies of the a1 reference graded by the real a1 suite with
  ``--workers`` grading processes, as `dlgrade grade` runs it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from click.testing import CliRunner  # noqa: E402
from overhead import notebooks  # noqa: E402
from support import flatten_reference  # noqa: E402

from grader.cli import main  # noqa: E402
from grader.grading import batch  # noqa: E402
from grader.grading.parallel import default_workers  # noqa: E402
from grader.intake.submissions import content_hash  # noqa: E402
from grader.results.records import ResultsFile, SubmissionResult, TestResult  # noqa: E402

A1_LIKE = tuple(
    TestResult(
        f"test_a1_case_{i:02d}",
        1.5,
        "passed" if i % 5 else "failed",
        "" if i % 5 else "sign(z) differs at [3, 1]: expected 0.0, got 1.0",
    )
    for i in range(16)
)


def instant_grade(paths, options, on_result):
    """The stand-in for grading: an a1-shaped result for each path, at once."""
    results = []
    for path in paths:
        result = SubmissionResult(
            path, "a1", "graded", tests=A1_LIKE, seconds=0.03, sha256=content_hash(path)
        )
        on_result(result)
        results.append(result)
    return results


class RewrittenEachTime(ResultsFile):
    """dlgrade before: the whole results document rewritten after every result, as it was
    written then (``json.dump`` with ``indent=2``, into a temporary file, then renamed)."""

    def add(self, result):
        self.results.append(result)
        self.write()

    def write(self):
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        with os.fdopen(fd, "w") as handle:
            json.dump(self.to_dict(), handle, indent=2)
        os.replace(tmp, self.path)


def stand_in_files(folder: Path, count: int) -> list[str]:
    paths = []
    for i in range(count):
        path = folder / f"s{i:05d}.py"
        path.write_text(f"# submission {i}\ndef f():\n    return {i}\n")
        paths.append(str(path))
    return paths


def run_cli(paths: list[str], folder: Path, *extra: str) -> float:
    started = time.perf_counter()
    run = CliRunner().invoke(
        main,
        [
            "grade",
            "-a",
            "a1",
            "--gradebook",
            str(folder / "book.sqlite"),
            "--json",
            str(folder / "results.json"),
            *extra,
            *paths,
        ],
    )
    wall = time.perf_counter() - started
    assert run.exit_code == 0, run.output[-2000:]
    written = json.loads((folder / "results.json").read_text())["results"]
    assert len(written) == len(paths), "a bench run failed: not every result is in the results file"
    return wall


def row(kind: str, size: int, wall: float) -> dict:
    return {
        "grading": kind,
        "submissions": size,
        "wall_s": round(wall, 2),
        "per_submission_ms": round(1000 * wall / size, 2),
    }


def stand_in(size: int, folder: Path, before: bool) -> dict:
    folder.mkdir()
    paths = stand_in_files(folder, size)
    with mock.patch.object(batch, "grade_with", instant_grade):
        if before:
            with mock.patch("grader.grading.batch.ResultsFile", RewrittenEachTime):
                return row("stand-in, rewritten per result (before)", size, run_cli(paths, folder))
        return row("stand-in", size, run_cli(paths, folder))


def real(size: int, folder: Path, workers: int) -> dict:
    folder.mkdir()
    paths = notebooks(folder, size, flatten_reference("a1"))
    wall = run_cli(paths, folder, "--workers", str(workers))
    scores = {r["score"] for r in json.loads((folder / "results.json").read_text())["results"]}
    assert scores == {23}, "a bench run failed: not every copy got 23/23"
    return row(f"real a1, {workers} grading processes", size, wall)


def main_() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10, 100, 1000, 10000])
    parser.add_argument("--before", type=int, nargs="*", default=[], help="sizes to run the old way too")
    parser.add_argument("--real", type=int, nargs="*", default=[])
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--out", default=str(ROOT / "bench" / "results-batch-json.json"))
    args = parser.parse_args()
    report = {"machine": {"cores": os.cpu_count(), "load_before": os.getloadavg()[0]}, "runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        plans = [(f"s{n}", lambda f, n=n: stand_in(n, f, False)) for n in args.sizes]
        plans += [(f"b{n}", lambda f, n=n: stand_in(n, f, True)) for n in args.before]
        plans += [(f"r{n}", lambda f, n=n: real(n, f, args.workers)) for n in args.real]
        for name, plan in plans:
            report["runs"].append(plan(Path(tmp) / name))
            print(report["runs"][-1], flush=True)
    report["machine"]["load_after"] = os.getloadavg()[0]
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main_()
