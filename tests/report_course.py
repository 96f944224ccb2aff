"""The hand-made course of the report tests: a course file, a roster, a suite with
docstrings, a gradebook whose every number ``tests/unit/reports/test_reports.py`` works
out, and exam marks. Shared by the report tests that start workers and those that do not."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from grader.results.gradebook import Gradebook
from grader.results.records import SubmissionResult, TestResult

CET = timezone(timedelta(hours=1))
D1 = datetime(2026, 11, 1, 23, 59, tzinfo=CET)
D2 = datetime(2026, 11, 15, 23, 59, tzinfo=CET)

COURSE_TOML = """
[course]
name = "Test course"
bonus_max = 10
rounding = 0.5

[assignments.a1]
weight = 1
deadline = 2026-11-01T23:59:00+01:00
max_points = 20

[assignments.a2]
weight = 3
deadline = 2026-11-15T23:59:00+01:00

[late]
per_day = 0.1
cutoff_days = 3

[visibility]
default = "messages"
a2 = "points"

[teams]
ravens = ["alice", "bob"]
"""

ROSTER_CSV = """id,name,email,sis_id,login,canvas_id,section
alice,Alice <Smith>,alice@uni.example,S1001,asmith,4711,A
bob,bob,bob@uni.example,S1002,bjones,4712,A
carol,carol,carol@uni.example,S1003,cdiaz,4713,B
dave,dave,dave@uni.example,S1004,dlee,4714,B
erin,erin,erin@uni.example,S1005,enovak,4715,B
frank,frank,frank@uni.example,S1006,fortiz,4716,B
zoe,Zoe Park,zoe@uni.example,S1007,zpark,4717,A
"""

SUITE_A1 = '''
def test_forward(student):
    """The forward pass."""

def test_shapes(student):
    """The output has one row per sample and one column per class.

    (Only the first paragraph becomes the hint.)
    """
'''

A1 = (("test_forward", 8), ("test_backward", 8), ("test_shapes", 4))
A2 = (("test_step", 5), ("test_momentum", 4), ("test_zero_grad", 1))
MESSAGES = {
    "test_shapes": "shape of forward(x): expected (2, 3), got <b>(3, 2)</b>",
    "test_zero_grad": "zero_grad left the gradients: expected 0, got 0.5",
}
SCRIPT = "<script>window.__pwned = 1</script>"
EXAM_CSV = "student,exam\nalice,45\ncarol,40\ndave,50\nerin,\nzoe,60\nfrank,49\n"


def submission(
    assignment: str, outcomes: str, *, status: str = "graded", output: str = "", message: str = ""
) -> SubmissionResult:
    """A result whose tests have the outcomes in ``outcomes``: "p" passed, "f" failed, "t" timeout, ..."""
    words = {"p": "passed", "f": "failed", "t": "timeout", "c": "crashed", "n": "not_implemented"}
    spec = A1 if assignment == "a1" else A2
    tests = tuple(
        TestResult(name, points, words[o], MESSAGES.get(name, "") if o != "p" else "")
        for (name, points), o in zip(spec, outcomes, strict=False)
    )
    return SubmissionResult(f"{assignment}.ipynb", assignment, status, tests, message=message, output=output)


def record(book: Gradebook, student: str, result: SubmissionResult, submitted: datetime | None) -> None:
    stamp = submitted.astimezone(timezone.utc).isoformat() if submitted else ""
    book.record(result, student=student, suite_version="v1", versions={}, submitted_at=stamp)


def make_course(folder: Path) -> Path:
    """A course folder with course.toml, a suite with docstrings, a gradebook and exam.csv."""
    (folder / "course.toml").write_text(COURSE_TOML)
    (folder / "students.csv").write_text(ROSTER_CSV)
    (folder / "suites" / "a1").mkdir(parents=True)
    (folder / "suites" / "a2").mkdir(parents=True)
    (folder / "suites" / "a1" / "test_a1.py").write_text(SUITE_A1)
    (folder / "exam.csv").write_text(EXAM_CSV)
    hour = timedelta(hours=1)
    with Gradebook(folder / "gradebook.sqlite") as book:
        record(book, "bob", submission("a1", "pfp"), D1 - 2 * hour)
        record(book, "alice", submission("a1", "ppf", output=f"hello {SCRIPT}"), D1 - hour)
        record(book, "bob", submission("a2", "ppf"), D2 + 30 * hour)
        record(book, "carol", submission("a1", "fff"), D1 - hour)  # an earlier attempt: replaced
        record(book, "carol", submission("a1", "ppp"), D1 + timedelta(days=5))
        record(book, "carol", submission("a2", "ppp"), D2)
        record(book, "dave", submission("a1", "pnp", output="x" * 10_000), D1)
        record(book, "dave", submission("a2", "fpp"), D2 + timedelta(seconds=1))
        record(book, "erin", submission("a1", "ptc"), None)
        record(
            book,
            "frank",
            submission("a2", "", status="invalid_notebook", message="the file is not valid notebook JSON"),
            D2,
        )
    return folder
