"""Hostile submissions, graded in one batch with honest ones that still get their right scores.

Each hostile notebook in ``tests/hostile/`` (made by ``make_notebooks.py``, which says
what each one does) is graded with the a1 hidden suite in ONE ``grade()`` call, next to
two honest submissions: the reference module (23/23) and a notebook with one bug. Every
test below reads one property off that batch:

    an endless loop ........ at top level: not run (full marks); in a class body: load timeout;
                             in ``sign``: the tests that call it time out, the rest pass
    os._exit(0) ............ at top level: not run (full marks); in ``sign``: those tests
                             crash, the worker restarts, later tests pass
    a 12 GB allocation ..... fails with the allocator's message; nothing else is lost
    200 MB on stdout ....... the stored output is capped; grading takes seconds
    200 children ........... none is alive once the submission is graded
    a forger ............... prints full marks, writes results files, patches helpers: 0 points,
                             and the results file the grader wrote is the one we read back
    a lying tensor ......... every comparison says yes in the worker: 0 points here

A second, smaller batch runs every top-level statement (``mode="all"``): there the
top-level loop times out, the top-level exit kills loading and the forger's top-level
code changes nothing.

Hostile code must never run outside the real sandbox (the forger would write results
files into every folder it can), so the module is skipped without bubblewrap.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import jsonschema
import pytest
from support import ROOT

from grader.course import Course
from grader.grading import grade
from grader.notebook import read_cells
from grader.results import SCHEMA_PATH, ResultsFile, SubmissionResult
from grader.sandbox.limits import Limits
from grader.sandbox.process import isolation_warning
from grader.sandbox.session import Session

HOSTILE = ROOT / "tests" / "hostile"
REFERENCE = ROOT / "reference" / "a1" / "perceptron.py"

pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.skipif(isolation_warning() is not None,
                       reason=f"hostile code runs only in the real sandbox: {isolation_warning()}"),
]  # fmt: skip

LIMITS = Limits(test_seconds=5, load_seconds=10)
FULL = 23.0


def _generator():
    spec = importlib.util.spec_from_file_location("make_notebooks", HOSTILE / "make_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GENERATOR = _generator()
FORK_MARKER = GENERATOR.FORK_MARKER  # in the command line of every child fork_200 starts
FORGED_MARKER = GENERATOR.FORGED_MARKER  # in every results file the forger writes

# The batch, in grading order: the honest reference goes last, so it is graded after every
# hostile submission has done its worst.
NOTEBOOKS = [
    "buggy_sign", "loop_top_level", "loop_class_body", "loop_in_function", "exit_top_level",
    "exit_in_function", "alloc_12gb", "flood_stdout", "fork_200", "forger", "liar_tensor",
]  # fmt: skip
ALL_MODE_NOTEBOOKS = ["loop_top_level", "exit_top_level", "forger"]

# name -> (status, score): what each submission must end with, exactly
EXPECTED = {
    "buggy_sign": ("graded", 18.0),  # sign tests (2 + 2) and the boundary prediction (1) lost
    "loop_top_level": ("graded", FULL),
    "loop_class_body": ("timeout", 0.0),
    "loop_in_function": ("graded", 17.0),  # sign (4) and predict (2), which calls sign, lost
    "exit_top_level": ("graded", FULL),
    "exit_in_function": ("graded", 17.0),  # the same six points, as crashes
    "alloc_12gb": ("graded", 18.0),  # the sigmoid tests (1 + 2 + 2) lost
    "flood_stdout": ("graded", FULL),
    "fork_200": ("graded", FULL),
    "forger": ("graded", 0.0),
    "liar_tensor": ("graded", 0.0),
    "perceptron": ("graded", FULL),
}
MUST_SCORE_ZERO = ("forger", "liar_tensor")
# Folders on this machine the forger aims at (besides the results folder of the batch)
FORGER_TARGETS = (ROOT, ROOT / "tests", HOSTILE, Path.cwd(), Path("/tmp"), Path("/var/tmp"),
                  Path("/dev/shm"), Path("/"), Path.home())  # fmt: skip


# --------------------------------------------------------------------------- helpers


def name_of(result: SubmissionResult) -> str:
    return Path(result.submission).stem


def outcomes(result: SubmissionResult) -> dict[str, str]:
    return {test.name: test.outcome for test in result.tests}


def outcomes_of(result: SubmissionResult, *prefixes: str) -> dict[str, str]:
    return {name: outcome for name, outcome in outcomes(result).items() if name.startswith(prefixes)}


def outcomes_besides(result: SubmissionResult, *prefixes: str) -> dict[str, str]:
    return {name: outcome for name, outcome in outcomes(result).items() if not name.startswith(prefixes)}


def marker_processes() -> list[tuple[int, str]]:
    """Processes anywhere on this machine whose command line carries the fork_200 marker."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if FORK_MARKER in cmdline:
            found.append((int(entry), cmdline.strip()))
    return found


@contextmanager
def children_seen_at_close():
    """Count marker processes just before each submission's worker is closed, when the
    children it started are certainly alive (they sleep 1000 s): a deterministic look,
    where polling could miss the short window between the spawn and the kill."""
    seen: list[int] = []
    close = Session.close

    def counting_close(session: Session) -> None:
        seen.append(len(marker_processes()))
        close(session)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Session, "close", counting_close)
        yield seen


def forged_files(*folders: Path) -> list[Path]:
    """JSON files holding the forger's marker: directly in ``folders``, and anywhere in a
    worker's home that was left behind in /tmp."""
    candidates = [path for folder in folders if folder.is_dir() for path in folder.glob("*.json")]
    for home in Path("/tmp").glob("dlgrade-worker-*"):
        try:
            candidates += home.rglob("*")
        except OSError:
            pass  # a worker home that another grading run is removing right now
    forged = []
    for path in candidates:
        try:
            if path.is_file() and FORGED_MARKER in path.read_text(errors="replace"):
                forged.append(path)
        except OSError:
            pass
    return forged


def truncation(output: str) -> tuple[int, int]:
    """(bytes written, bytes kept) from the grader's truncation line."""
    match = re.search(r"\[output truncated: (\d+) bytes written, (\d+) kept\]", output)
    assert match, f"no truncation note in {output[-300:]!r}"
    return int(match[1]), int(match[2])


# --------------------------------------------------------------------------- the batches


@dataclass
class Batch:
    results: dict[str, SubmissionResult]
    seconds: float
    results_path: Path | None = None
    forker_left_alive: list = field(default_factory=list)  # right after fork_200 was graded
    left_alive: list = field(default_factory=list)  # after the whole batch
    most_children_seen: int = 0  # marker processes alive just before a worker closed
    forged_folders: tuple[Path, ...] = ()


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Batch:
    out = tmp_path_factory.mktemp("hostile-results")
    results_file = ResultsFile(out / "results.json", "a1")
    paths = [str(HOSTILE / f"{name}.ipynb") for name in NOTEBOOKS] + [str(REFERENCE)]
    forker_left_alive: list = []

    def on_result(result: SubmissionResult) -> None:
        results_file.add(result)
        if name_of(result) == "fork_200":
            forker_left_alive.extend(marker_processes())

    assert not marker_processes(), "marker processes from an earlier run are still alive"
    started = time.monotonic()
    with children_seen_at_close() as seen:
        results = grade(paths, assignment="a1", course=Course(ROOT), limits=LIMITS,
                        on_result=on_result)  # fmt: skip
    seconds = time.monotonic() - started
    assert [r.submission for r in results] == paths
    return Batch(
        results={name_of(r): r for r in results},
        seconds=seconds,
        results_path=results_file.path,
        forker_left_alive=forker_left_alive,
        left_alive=marker_processes(),
        most_children_seen=max(seen, default=0),
        forged_folders=(out, *FORGER_TARGETS),
    )


@pytest.fixture(scope="module")
def all_mode() -> Batch:
    paths = [str(HOSTILE / f"{name}.ipynb") for name in ALL_MODE_NOTEBOOKS] + [str(REFERENCE)]
    started = time.monotonic()
    results = grade(paths, assignment="a1", course=Course(ROOT), mode="all", limits=LIMITS)
    return Batch(results={name_of(r): r for r in results}, seconds=time.monotonic() - started)


# --------------------------------------------------------------------------- honest submissions


def test_reference_gets_full_marks_after_every_hostile_submission(batch):
    reference = batch.results["perceptron"]
    assert (reference.status, reference.score, reference.max_score) == ("graded", FULL, FULL)
    assert set(outcomes(reference).values()) == {"passed"}


def test_notebook_with_one_bug_loses_exactly_the_tests_that_catch_it(batch):
    buggy = batch.results["buggy_sign"]
    assert buggy.status == "graded"
    assert buggy.score == 18.0
    failed = {name for name, outcome in outcomes(buggy).items() if outcome != "passed"}
    assert failed == {
        "test_sign_with_exact_zeros[torch.float32]",
        "test_sign_with_exact_zeros[torch.float64]",
        "test_predict_batch_with_a_point_on_the_boundary",
    }
    assert set(outcomes_of(buggy, "test_sign").values()) == {"failed"}


def test_every_submission_ends_with_its_expected_status_and_score(batch):
    got = {name: (r.status, r.score) for name, r in batch.results.items()}
    assert got == EXPECTED


# --------------------------------------------------------------------------- endless loops


def test_top_level_loop_is_not_run_when_grading_definitions(batch):
    result = batch.results["loop_top_level"]
    assert (result.status, result.score) == ("graded", FULL)
    assert any("not definitions were not run" in note for note in result.notes)


def test_loop_in_a_class_body_runs_at_load_and_times_out(batch):
    result = batch.results["loop_class_body"]
    assert result.status == "timeout"
    assert f"longer than {LIMITS.load_seconds:g} s" in result.message
    assert result.score == 0.0 and set(outcomes(result).values()) == {"skipped"}
    assert result.seconds < LIMITS.load_seconds + 15


def test_loop_in_a_graded_function_times_out_only_the_tests_that_call_it(batch):
    result = batch.results["loop_in_function"]
    assert result.status == "graded"
    calling_sign = outcomes_of(result, "test_sign", "test_predict")
    assert len(calling_sign) == 4 and set(calling_sign.values()) == {"timeout"}
    assert set(outcomes_besides(result, "test_sign", "test_predict").values()) == {"passed"}
    assert result.score == 17.0
    assert result.seconds < 4 * LIMITS.test_seconds + 15  # four deadlines and restarts, no more


# --------------------------------------------------------------------------- os._exit


def test_top_level_exit_is_not_run_when_grading_definitions(batch):
    result = batch.results["exit_top_level"]
    assert (result.status, result.score) == ("graded", FULL)


def test_exit_in_a_graded_function_crashes_its_tests_and_the_worker_restarts(batch):
    result = batch.results["exit_in_function"]
    assert result.status == "graded"
    calling_sign = outcomes_of(result, "test_sign", "test_predict")
    assert len(calling_sign) == 4 and set(calling_sign.values()) == {"crashed"}
    crash = next(t for t in result.tests if t.outcome == "crashed")
    assert "ended the worker" in crash.message and "exited with code 0" in crash.message
    # sigmoid runs between the sign and predict crashes, fit after them: all on fresh workers
    assert set(outcomes_besides(result, "test_sign", "test_predict").values()) == {"passed"}
    assert result.score == 17.0


# --------------------------------------------------------------------------- memory and output


def test_12gb_allocation_fails_with_a_memory_message_and_costs_nothing_else(batch):
    result = batch.results["alloc_12gb"]
    assert result.status == "graded"
    sigmoid = [t for t in result.tests if t.name.startswith("test_sigmoid")]
    assert len(sigmoid) == 3 and {t.outcome for t in sigmoid} == {"failed"}
    for test in sigmoid:
        assert "can't allocate memory" in test.message and "12000000000 bytes" in test.message
    assert set(outcomes_besides(result, "test_sigmoid").values()) == {"passed"}
    assert result.score == 18.0


def test_200_mb_on_stdout_is_capped_and_graded_in_seconds(batch):
    result = batch.results["flood_stdout"]
    assert (result.status, result.score) == ("graded", FULL)
    written, kept = truncation(result.output)
    assert written >= 200_000_000
    assert kept == LIMITS.max_output_bytes
    assert len(result.output.encode()) < LIMITS.max_output_bytes + 200
    assert result.seconds < 30


# --------------------------------------------------------------------------- processes


def test_no_child_process_outlives_grading(batch):
    result = batch.results["fork_200"]
    assert (result.status, result.score) == ("graded", FULL)
    started = [int(n) for n in re.findall(r"fork_200: started (\d+) children", result.output)]
    assert started and started[0] > 0, "the submission started no child at all"
    assert batch.most_children_seen > 0, "no marker process was ever seen: the check would prove nothing"
    assert batch.forker_left_alive == []  # the moment its result arrived
    assert batch.left_alive == []  # and after the whole batch
    assert marker_processes() == []


# --------------------------------------------------------------------------- forged results


def test_forger_scores_zero_whatever_it_prints_and_patches(batch):
    forger = batch.results["forger"]
    assert (forger.status, forger.score) == ("graded", 0.0)
    assert "passed" not in outcomes(forger).values()
    assert "All tests passed 100/100" in forger.output  # it did print its claim ...
    assert "forger: patched" in forger.output  # ... and did patch the worker's helpers
    assert set(outcomes_of(forger, "test_sign", "test_fit").values()) == {"not_implemented"}


def test_lying_tensor_subclass_scores_zero(batch):
    liar = batch.results["liar_tensor"]
    assert (liar.status, liar.score) == ("graded", 0.0)
    assert set(outcomes(liar).values()) == {"failed"}
    assert all("values differ" in t.message or "expected" in t.message for t in liar.tests)


def test_lying_tensor_really_lies_outside_the_grader():
    """The fixture is hostile for real: where comparisons run next to the student's
    tensors, ``torch.equal``, ``torch.allclose`` and ``==`` all say yes to -0.75."""
    code = (
        "import sys, torch\n"
        "namespace = {}\n"
        "for cell in sys.argv[1:]:\n"
        "    exec(cell, namespace)\n"
        "got = namespace['weighted_sum'](torch.tensor([-2.0, 3.0]), torch.tensor([3.0, -2.0]), 0.5)\n"
        "right = torch.tensor(-11.5)\n"
        "print(type(got).__name__, torch.equal(got, right), torch.allclose(got, right),\n"
        "      bool((got == right).all()), got.tolist())\n"
    )
    cells = read_cells(HOSTILE / "liar_tensor.ipynb")
    done = subprocess.run([sys.executable, "-c", code, *cells], capture_output=True, text=True,
                          timeout=120, check=True)  # fmt: skip
    assert done.stdout.split() == ["LiarTensor", "True", "True", "True", "-0.75"]


def test_results_file_is_valid_holds_the_real_scores_and_was_not_forged(batch):
    data = json.loads(batch.results_path.read_text())
    jsonschema.validate(data, json.loads(SCHEMA_PATH.read_text()))
    assert FORGED_MARKER not in batch.results_path.read_text()
    in_order = [batch.results[name] for name in [*NOTEBOOKS, "perceptron"]]
    assert data == ResultsFile(batch.results_path, "a1", in_order).to_dict()
    scores = {Path(r["submission"]).stem: r["score"] for r in data["results"]}
    assert scores == {name: score for name, (_, score) in EXPECTED.items()}
    for record in data["results"]:
        if Path(record["submission"]).stem in MUST_SCORE_ZERO:
            assert record["score"] == 0.0 and all(t["points"] == 0.0 for t in record["tests"])


def test_no_forged_results_file_reached_this_machine(batch):
    assert forged_files(*batch.forged_folders) == []


# --------------------------------------------------------------------------- time


def test_the_batch_finishes_in_bounded_time(batch):
    # The deadlines that must expire (one load, four tests) and a few seconds per submission
    # for starting workers: nothing waits on a hostile submission beyond its limits.
    deadlines = LIMITS.load_seconds + 4 * LIMITS.test_seconds
    assert batch.seconds < deadlines + 5 * len(batch.results)
    assert all(r.seconds < deadlines + 15 for r in batch.results.values())


# --------------------------------------------------------------------------- mode="all"


def test_top_level_loop_times_out_when_every_statement_runs(all_mode):
    result = all_mode.results["loop_top_level"]
    assert (result.status, result.score) == ("timeout", 0.0)
    assert "top-level code runs when it is loaded" in result.message
    assert result.seconds < LIMITS.load_seconds + 15


def test_top_level_exit_kills_loading_when_every_statement_runs(all_mode):
    result = all_mode.results["exit_top_level"]
    assert (result.status, result.score) == ("killed", 0.0)
    assert "ended the worker" in result.message and "exited with code 0" in result.message
    assert set(outcomes(result).values()) == {"skipped"}


def test_forger_top_level_code_changes_nothing_when_every_statement_runs(all_mode):
    forger = all_mode.results["forger"]
    assert (forger.status, forger.score) == ("graded", 0.0)
    assert "Score: 100/100 -- All tests passed 100/100" in forger.output  # top-level code ran
    reference = all_mode.results["perceptron"]
    assert (reference.status, reference.score) == ("graded", FULL)
