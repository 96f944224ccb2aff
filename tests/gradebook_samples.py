"""A small graded result, the kind the gradebook tests record and read back."""

from grader.results.records import SubmissionResult, TestResult


def result(path="alice.ipynb", outcome="passed", sha="abc"):
    """alice's a1: test_a ``outcome`` (2 points), test_b failed (1 point); file hash ``sha``."""
    tests = (TestResult("test_a", 2.0, outcome, ""), TestResult("test_b", 1.0, "failed", "wrong sign"))
    return SubmissionResult(
        submission=path,
        assignment="a1",
        status="graded",
        tests=tests,
        sha256=sha,
        notes=("cell 3: skipped",),
        output="hi\n",
        seconds=1.5,
    )
