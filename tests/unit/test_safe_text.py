"""Text a submission controls cannot stop or fool the trusted side (``grader/safe_text.py``).

The first tests read the module as examples. The rest grade a tiny course in this
process, with a stand-in worker (no sandbox needed: nothing here runs student code) that
answers as a hostile submission can make its real worker answer: a forged load reply, an
exception whose message is a lone surrogate, escapes that rewrite a terminal. Every
result then goes through the real sinks: the gradebook, a results file and the lines the
CLI prints. tests/sandbox/test_hostile.py does the same with real notebooks in the real sandbox.
"""

from __future__ import annotations

import json
import os
import re

import pytest

from grader import console, safe_text
from grader.course.layout import Course
from grader.errors import LoadFailed
from grader.grading.options import GradingOptions
from grader.grading.plugin import GradingPlugin, Job
from grader.grading.stream import _run_pytest
from grader.results.gradebook import Gradebook
from grader.results.records import ResultsFile, SubmissionResult, TestResult
from grader.sandbox.process import CappedOutput
from grader.sandbox.session import Session

# Rewrites the terminal line to a fake verdict, sets the window title, writes the clipboard.
MALLORY = "\x1b[2K\rmallory: 23/23 [graded]\x1b]0;owned\x07\x1b]52;c;cm0gLXJmIH4=\x07"
# A file name cannot hold "/": the same line with a division slash, which looks alike.
MALLORY_NAME = MALLORY.replace("23/23", "23\u221523")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def test_escapes_that_rewrite_a_terminal_become_visible_text():
    assert safe_text.text(MALLORY) == (
        "\\x1b[2K\\x0dmallory: 23/23 [graded]\\x1b]0;owned\\x07\\x1b]52;c;cm0gLXJmIH4=\\x07"
    )
    assert safe_text.text("one\n\ttwo") == "one\n\ttwo"  # text keeps its lines ...
    assert safe_text.line("one\n\ttwo") == "one\\x0a\\x09two"  # ... a line has one
    assert safe_text.line("\u009b2J \u202eevil") == "\\u009b2J \\u202eevil"  # one-character CSI, bidi


def test_surrogates_and_bytes_that_are_not_utf8_are_escaped():
    assert safe_text.text("\ud800") == "\\ud800"
    assert safe_text.line(os.fsdecode(b"m\xfcller.ipynb")) == "m\\xfcller.ipynb"
    assert safe_text.line(b"m\xfcller.ipynb") == "m\\xfcller.ipynb"
    assert safe_text.text("Müller, 名前") == "Müller, 名前"  # real text is left alone


def test_long_text_is_cut_and_says_so_and_cutting_again_changes_nothing():
    huge = "x" * 50_000_000
    cut = safe_text.text(huge, 1500)
    assert len(cut) == 1500 and cut.endswith("... [49998529 characters cut]")
    assert safe_text.text(cut, 1500) == cut
    escaped = safe_text.text("\x1b" * 1000, 100)  # escaping makes text longer: cut after it
    assert len(escaped) <= 100 and safe_text.text(escaped, 100) == escaped


def test_a_result_is_made_safe_field_by_field():
    raw = SubmissionResult(
        os.fsdecode(b"\x1b]0;x\x07\xff.ipynb"),
        "a1",
        "graded",
        tests=(TestResult("test_sign", 4, "failed", "ValueError: \ud800" + "!" * 9000),),
        message=MALLORY,
        notes=("cell 1: \ud800",),
        output="\x1b[2J" * 10,
    )
    safe = safe_text.result(raw)
    texts = [safe.submission, safe.message, *safe.notes, safe.output, *(t.message for t in safe.tests)]
    assert not any(CONTROL.search(t) for t in texts)
    assert safe.submission == "\\x1b]0;x\\x07\\xff.ipynb"
    assert len(safe.tests[0].message) <= 1500 and safe.tests[0].message.startswith("ValueError: \\ud800")
    assert safe_text.result(safe) == safe


# --------------------------------------------------------------------------- a batch, in process

SUITE = """
import pytest

@pytest.mark.points(1)
def test_answer(student):
    assert student.answer() == 42

@pytest.mark.points(1)
def test_name(student):
    assert student.name() == "ok", student.name()
"""


class StandInWorker:
    """Answers as the worker of a submission would, whose one line says how it behaves
    (``# raises a surrogate``): what a hostile submission can make its real worker say."""

    alive = True

    def __init__(self, behaviour: str = ""):
        self.behaviour = behaviour
        self.output = CappedOutput(1000, bytearray(b"\x1b]52;c;cm0gLXJmIH4=\x07 printed by the student"))

    def request(self, message: dict, timeout: float) -> dict:
        if message["op"] == "load":
            self.behaviour = self.behaviour or message["cells"][0].lstrip("# ").strip()
            if self.behaviour == "grader bug":  # outside any test: nothing of pytest's catches it
                raise KeyError("a bug in dlgrade, or one a submission found")
            if self.behaviour == "forged load reply":  # student code replaced the frame writer
                return {"ok": {"defined": None}}
            return {"ok": {"defined": ["answer", "name"], "notes": [f"cell 1: {MALLORY}"]}}
        if message["op"] == "seed":
            return {"ok": None}
        function = message["target"]["name"]
        if self.behaviour == "raises a surrogate" and function == "answer":
            error = {"kind": "exception", "type": "ValueError", "message": "\ud800", "traceback": ""}
            return {"error": error}
        if self.behaviour == "returns escapes" and function == "name":
            return {"ok": MALLORY}
        return {"ok": 42 if function == "answer" else "ok"}

    def kill(self) -> None:
        self.alive = False


@pytest.fixture
def tiny_course(tmp_path) -> Course:
    (tmp_path / "suites" / "t1").mkdir(parents=True)
    (tmp_path / "suites" / "t1" / "test_t1.py").write_text(SUITE)
    return Course(tmp_path)


def grade_in_process(course: Course, behaviours: dict[str, str]) -> list[SubmissionResult]:
    """Grade one file per behaviour (named by its key) with stand-in workers."""
    results: list[SubmissionResult] = []
    jobs = []
    for name, behaviour in behaviours.items():
        path = course.root / os.fsdecode(name.encode("utf-8", "surrogateescape"))
        path.write_text(f"# {behaviour}\n")
        jobs.append(Job(str(path), GradingOptions.of(course, "t1")))

    plugin = GradingPlugin(jobs, results.append, spawn=lambda limits: StandInWorker())
    _run_pytest(course.suite_dir("t1", "hidden"), course, plugin)
    assert plugin.collection_errors == []
    return results


BEHAVIOURS = {
    "forger.py": "forged load reply",
    "surrogate.py": "raises a surrogate",
    "buggy.py": "grader bug",
    f"{MALLORY_NAME}.py": "returns escapes",
    "m\udcfcller.py": "honest",  # a name that is not UTF-8 (a Latin-1 archive)
    "honest.py": "honest",
}


@pytest.fixture
def batch(tiny_course) -> dict[str, SubmissionResult]:
    results = grade_in_process(tiny_course, BEHAVIOURS)
    return {os.path.basename(r.submission): r for r in results}


def test_a_forged_load_reply_is_a_broken_protocol_not_a_broken_suite(batch):
    forger = batch["forger.py"]
    assert (forger.status, forger.score) == ("killed", 0)
    assert "broke its worker" in forger.message and "load reply" in forger.message


def test_a_forged_load_reply_is_checked_by_type():
    session = Session(["x = 1"], spawn=lambda limits: StandInWorker("forged load reply"))
    with pytest.raises(LoadFailed) as failed:
        session.start()
    assert failed.value.status == "killed"


def test_an_exception_while_grading_one_submission_makes_it_an_error_and_the_batch_goes_on(batch):
    assert [os.path.basename(p) for p in batch] == list(BEHAVIOURS)  # every one, in order
    buggy = batch["buggy.py"]
    assert (buggy.status, buggy.score) == ("error", 0)
    assert "KeyError" in buggy.message and "grade this submission again" in buggy.message
    assert (batch["honest.py"].status, batch["honest.py"].score) == ("graded", 2)


def test_student_text_in_results_is_safe_and_scores_are_exact(batch):
    surrogate = batch["surrogate.py"]
    assert (surrogate.status, surrogate.score) == ("graded", 1)
    assert "raised ValueError: \\ud800" in surrogate.tests[0].message
    escapes = batch[f"{MALLORY_NAME}.py"]
    assert (escapes.status, escapes.score) == ("graded", 1)
    assert escapes.tests[1].message.startswith("\\x1b[2K\\x0dmallory")
    assert (batch["m\udcfcller.py"].status, batch["m\udcfcller.py"].score) == ("graded", 2)
    for result in batch.values():
        shown = [result.message, *result.notes, result.output, *(t.message for t in result.tests)]
        assert not any(CONTROL.search(text) for text in shown), result.submission


def test_every_sink_takes_every_result(batch, tmp_path):
    """The gradebook (SQLite refuses surrogates), the results file (read back as strict
    UTF-8 JSON) and the lines the CLI prints (no control character)."""
    with Gradebook(tmp_path / "gradebook.sqlite") as book:
        for result in batch.values():
            book.record(result, student=os.path.basename(result.submission), suite_version="v")
        stored = {a.student: a.result for a in book.attempts("t1")}
    assert len(stored) == len(batch)
    assert stored["m\\xfcller.py"].submission.endswith("m\\xfcller.py")
    assert stored[safe_text.line(f"{MALLORY_NAME}.py")].status == "graded"

    results_file = ResultsFile(tmp_path / "results.json", "t1", list(batch.values()))
    results_file.write()
    raw = (tmp_path / "results.json").read_bytes()
    strings = _strings(json.loads(raw.decode("utf-8")))
    "".join(strings).encode("utf-8")  # strict: a lone surrogate would raise here
    assert not any(CONTROL.search(s) for s in strings)

    for result in batch.values():
        line = console.graded_line(os.path.basename(result.submission), result)
        assert not CONTROL.search(line) and "\n" not in line, line
    line = console.graded_line(MALLORY_NAME, batch[f"{MALLORY_NAME}.py"])
    assert line.startswith("\\x1b[2K\\x0dmallory: 23\u221523 [graded]\\x1b]0;owned\\x07")


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    if isinstance(value, dict):
        return [s for key, item in value.items() for s in [key, *_strings(item)]]
    return []
