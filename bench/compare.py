"""dlgrade, nbgrader and otter-grader grade the same twenty a1 submissions, side by side.

    python bench/compare.py [--venv bench/.venv] [--no-memory] [--no-cold]

In one run: make (or reuse) the benchmark's venv with nbgrader and otter-grader
from PyPI; write twenty a1 submissions (``compare/class_of_20.py``); express the
same checks in each tool's own format (``compare/graded_checks.py``); time each
tool's wall clock over the class, cold, its own start included; check that every
tool gave full marks to the correct submissions and less to the buggy ones (a
failing tool is not a timing); write ``bench/results-compare.json``. Then measure
the memory of dlgrade's workers (``bench/memory.py``, ``results-memory.json``).

What is timed, per tool (setup such as releasing the assignment is not):

- dlgrade: one ``dlgrade grade --assignment a1 --force --gradebook ... --json ...``
  over the twenty notebooks, with its hidden suite (23 points);
- nbgrader: one ``nbgrader autograde a1 --force`` over ``submitted/*/a1/a1.ipynb``;
- otter-grader: ``otter run -a autograder.zip`` once per notebook, twenty calls;
- and, for reference, dlgrade's API with cold workers (``--no-cold`` skips it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "compare"))

import bench_venv  # noqa: E402
import class_of_20  # noqa: E402
import course_nbgrader  # noqa: E402
import course_otter  # noqa: E402
import run_dlgrade  # noqa: E402
from graded_checks import CHECKS, MAX_POINTS  # noqa: E402
from tools import Run  # noqa: E402

GOAL = 10.0  # dlgrade at least this many times faster than each other tool


def sanity(scores: dict[str, tuple[float, float]]) -> list[str]:
    """What is wrong with a tool's scores: every student graded, full marks where expected."""
    problems = []
    for variant in class_of_20.VARIANTS:
        if variant.student not in scores:
            problems.append(f"{variant.student}: no score")
            continue
        score, most = scores[variant.student]
        full = most > 0 and score == most
        if full != (variant.expect == "full"):
            problems.append(
                f"{variant.student} ({variant.what}): {score:g}/{most:g}, expected {variant.expect}"
            )
    return problems


def shown(command: list[str]) -> str:
    """The command as run, with the twenty notebook paths (in a temporary folder) elided."""
    notebooks = [arg for arg in command if arg.endswith(".ipynb")]
    kept = [arg for arg in command if not arg.endswith(".ipynb")]
    text = " ".join(kept) + (f" <{len(notebooks)} notebooks>" if notebooks else "")
    return re.sub(r"\S*/dlgrade-compare-[^/\s]+", "$WORK", text)


def record(name: str, what: str, runs: list[Run], scores: dict[str, tuple[float, float]]) -> dict:
    """One tool's entry: the median wall time over its rounds, its scores and their sanity."""
    problems = sanity(scores)
    seconds = statistics.median(r.seconds for r in runs)
    print(f"{name}: {seconds:.2f} s, {'sane' if not problems else problems}", flush=True)
    return {
        "what": what,
        "command": shown(runs[0].command),
        "wall_s": round(seconds, 2),
        "rounds_s": [round(r.seconds, 2) for r in runs],
        "scores": {s: f"{a:g}/{m:g}" for s, (a, m) in sorted(scores.items())},
        "sane": not problems,
        "problems": problems,
    }


def warm_page_cache(bin_dir: Path) -> None:
    """Every tool starts with torch and its own modules in the page cache, none from disk."""
    subprocess.run(
        [str(bin_dir / "python"), "-c", "import torch, nbgrader, otter, grader.cli"],
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def time_dlgrade(notebooks: dict[str, Path], work: Path, options: tuple[str, ...], rounds: int) -> dict:
    runs = []
    for _ in range(rounds):
        runs.append(run_dlgrade.grade_cli(notebooks, work, options))
        runs[-1].require("dlgrade grade")
    what = f"dlgrade grade {' '.join(options)}".strip() + ", hidden suite suites/a1 (16 tests, 23 points)"
    return record("dlgrade " + " ".join(options), what, runs, run_dlgrade.scores(work))


def time_nbgrader(work: Path, bin_dir: Path) -> dict:
    run = course_nbgrader.autograde(work, bin_dir)
    run.require("nbgrader autograde")
    what = f"nbgrader autograde, {len(CHECKS)} autograder test cells ({MAX_POINTS} points)"
    return record("nbgrader", what, [run], course_nbgrader.scores(work, bin_dir))


def time_otter(autograder: Path, notebooks: dict[str, Path], out: Path, bin_dir: Path) -> dict:
    run = course_otter.run_class(autograder, notebooks, out, bin_dir)
    run.require("otter run")
    what = f"otter run x{len(notebooks)}, 5 questions, {len(CHECKS)} test cases ({MAX_POINTS} points)"
    return record("otter", what, [run], course_otter.scores(out, list(notebooks)))


def time_dlgrade_cold(notebooks: dict[str, Path], work: Path) -> dict:
    run, scores = run_dlgrade.grade_cold(notebooks, work)
    return record(
        "dlgrade (cold workers)",
        "grader.grading.grade.grade(warm=False), one process, hidden suite",
        [run],
        scores,
    )


def grade_everything(work: Path, bin_dir: Path, rounds: int, cold: bool) -> dict:
    """Set each tool up (untimed), then time each over the same twenty notebooks."""
    notebooks = class_of_20.write_class(work / "submissions")
    course_nbgrader.build_course(work / "nbgrader", bin_dir)
    course_nbgrader.submit(work / "nbgrader", notebooks)
    autograder = course_otter.build_autograder(work / "otter", bin_dir)
    warm_page_cache(bin_dir)
    load = {"before": os.getloadavg()}
    runs = {"dlgrade": time_dlgrade(notebooks, work / "dlgrade", (), rounds)}
    if run_dlgrade.has_workers_option():
        runs["dlgrade_workers_1"] = time_dlgrade(notebooks, work / "dlgrade-1", ("--workers", "1"), rounds)
    runs["nbgrader"] = time_nbgrader(work / "nbgrader", bin_dir)
    runs["otter"] = time_otter(autograder, notebooks, work / "otter-results", bin_dir)
    if cold:
        runs["dlgrade_cold_workers"] = time_dlgrade_cold(notebooks, work / "dlgrade-cold")
    load["after"] = os.getloadavg()
    return {"runs": runs, "load_average": load}


def speedups(runs: dict) -> dict:
    """How many times faster each dlgrade run is than nbgrader and than otter."""
    found = {}
    for mine in (name for name in runs if name.startswith("dlgrade")):
        ratios = {
            other: round(runs[other]["wall_s"] / runs[mine]["wall_s"], 1) for other in ("nbgrader", "otter")
        }
        found[mine] = {"faster_than": ratios, "goal_met": all(r >= GOAL for r in ratios.values())}
    return {"speedups": found, "goal": GOAL}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", default=str(ROOT / "bench" / ".venv"))
    parser.add_argument("--out", default=str(ROOT / "bench" / "results-compare.json"))
    parser.add_argument("--memory-out", default=str(ROOT / "bench" / "results-memory.json"))
    parser.add_argument("--no-memory", action="store_true", help="skip bench/memory.py")
    parser.add_argument("--no-cold", action="store_true", help="skip dlgrade with cold workers")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each dlgrade command (median)")
    args = parser.parse_args()
    started = time.perf_counter()
    venv = Path(args.venv)
    versions = bench_venv.ensure(venv)
    with tempfile.TemporaryDirectory(prefix="dlgrade-compare-") as tmp:
        report = grade_everything(Path(tmp), venv / "bin", args.rounds, cold=not args.no_cold)
    report = {
        "machine": {"cores": os.cpu_count(), "python": platform.python_version()},
        "versions": versions,
        "submissions": len(class_of_20.VARIANTS),
        **report,
        **speedups(report["runs"]),
    }
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report["speedups"], indent=2))
    if not args.no_memory:
        import memory

        measured = memory.measure()
        Path(args.memory_out).write_text(json.dumps(measured, indent=2) + "\n")
        print(json.dumps(measured, indent=2))
    print(f"whole run: {time.perf_counter() - started:.0f} s")
    if not all(run["sane"] for run in report["runs"].values()):
        raise SystemExit("a tool's scores are not sane: see the problems in " + args.out)


if __name__ == "__main__":
    main()
