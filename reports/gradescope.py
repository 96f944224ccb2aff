"""Gradescope's autograder ``results.json``, for courses that hand results to Gradescope.

One file per student and assignment, from the submission that counts for the
student (their team's). The course's visibility maps onto Gradescope's own:

    messages   each test "visible", its output = the message and the hint
    points     each test "visible", its output = the outcome's generic hint only
    nothing    each test "hidden" (instructors still see it; students see the total)

The score is the tests' points before any late deduction: Gradescope applies its
own late policy to what it receives.
"""

from __future__ import annotations

from grader.gradebook import Attempt
from grader.results import TestResult
from reports.feedback import OUTPUT_CHARS, STATUS_HINTS, cap, feedback_for


def results_json(attempt: Attempt, visibility: str, docstrings: dict[str, str] | None = None) -> dict:
    """The results.json document for one attempt under the assignment's visibility."""
    result = attempt.result
    tests = [_test(number, test, visibility, docstrings) for number, test in enumerate(result.tests, 1)]
    summary = [f"{result.assignment}: {result.status}"]
    if result.message:
        summary.append(cap(result.message, OUTPUT_CHARS))
    if STATUS_HINTS.get(result.status):
        summary.append(STATUS_HINTS[result.status])
    document = {
        "score": result.score,
        "execution_time": round(result.seconds, 3),
        "output": "\n".join(summary),
        "output_format": "text",
        "test_output_format": "text",
        "tests": tests,
    }
    if visibility == "messages" and result.output:
        document["output"] += "\n\nWhat your code printed while graded:\n" + cap(result.output, OUTPUT_CHARS)
    return document


def _test(number: int, test: TestResult, visibility: str, docstrings: dict[str, str] | None) -> dict:
    shown = feedback_for(test, "points" if visibility == "nothing" else visibility, docstrings)
    output = "\n".join(part for part in (shown.message, shown.hint) if part)
    entry = {
        "name": test.name,
        "number": str(number),
        "score": test.points,
        "max_score": test.max_points,
        "status": "passed" if test.outcome == "passed" else "failed",
        "visibility": "hidden" if visibility == "nothing" else "visible",
        "tags": [test.outcome],
    }
    if output and visibility != "nothing":
        entry["output"] = output
    return entry
