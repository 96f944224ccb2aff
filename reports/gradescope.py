"""Gradescope's autograder ``results.json``, for courses that hand results to Gradescope.

One file per student and assignment, from the submission that counts for the
student (their team's). The course's visibility maps onto Gradescope's own:

    messages   each test "visible", its output = the message and the hint
    points     each test "visible", its output = the outcome's generic hint only
    nothing    one "visible" entry, "Hidden tests", with the total; no test of its own

Gradescope hides a submission's total from students as soon as one test is
"hidden", so ``nothing`` never marks a test hidden: it leaves the tests out, and
students see the total the course file promises them.

The score is the tests' points before any late deduction: Gradescope applies its
own late policy to what it receives.
"""

from __future__ import annotations

from grader.results.gradebook import Attempt
from grader.results.records import SubmissionResult, TestResult
from reports.feedback import OUTPUT_CHARS, STATUS_HINTS, cap, feedback_for


def results_json(attempt: Attempt, visibility: str, docstrings: dict[str, str] | None = None) -> dict:
    """The results.json document for one attempt under the assignment's visibility."""
    return result_document(attempt.result, visibility, docstrings)


def result_document(
    result: SubmissionResult, visibility: str, docstrings: dict[str, str] | None = None
) -> dict:
    """The results.json document for one graded submission under the assignment's visibility."""
    if visibility == "nothing":
        tests = [_total(result)]
    else:
        tests = [_test(number, test, visibility, docstrings) for number, test in enumerate(result.tests, 1)]
    summary = [f"{result.assignment}: {result.status}"]
    if result.message:
        summary.append(cap(result.message, OUTPUT_CHARS))
    if STATUS_HINTS.get(result.status):
        summary.append(STATUS_HINTS[result.status])
    output = "\n".join(summary)
    if visibility == "messages" and result.output:
        output += "\n\nWhat your code printed while graded:\n" + cap(result.output, OUTPUT_CHARS)
    return {
        "score": result.score,
        "execution_time": round(result.seconds, 3),
        "output": output,
        "output_format": "text",
        "test_output_format": "text",
        "tests": tests,
    }


def _total(result: SubmissionResult) -> dict:
    """The one entry students see when the tests stay hidden: their total, visible."""
    return {
        "name": "Hidden tests (only the total is shown)",
        "number": "1",
        "score": result.score,
        "max_score": result.max_score,
        "visibility": "visible",
        "status": "passed" if result.score >= result.max_score > 0 else "failed",
    }


def _test(number: int, test: TestResult, visibility: str, docstrings: dict[str, str] | None) -> dict:
    shown = feedback_for(test, visibility, docstrings)
    output = "\n".join(part for part in (shown.message, shown.hint) if part)
    entry = {
        "name": test.name,
        "number": str(number),
        "score": test.points,
        "max_score": test.max_points,
        "status": "passed" if test.outcome == "passed" else "failed",
        "visibility": "visible",
        "tags": [test.outcome],
    }
    if output:
        entry["output"] = output
    return entry
