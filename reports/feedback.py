"""What a student may see of a graded submission, and hints they can act on.

The course file's visibility for the assignment decides what is shown of each hidden test:

    messages   name, outcome, points, the message ("expected ... got ..."), a hint,
               the misconception it showed, and what the student's code printed while being graded
    points     name, outcome, points, the outcome's generic hint and the misconception; no
               message, no output (messages and output could reveal the hidden inputs)
    nothing    no test at all: the assignment's total only (the bonus must stay traceable)

Everything that comes from the student (output, messages, notes) is capped here;
the HTML templates escape it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from grader import misconception_text
from grader.console import outcome_hint
from grader.results.gradebook import Attempt
from grader.results.records import TestResult

MESSAGE_CHARS = 2000
OUTPUT_CHARS = 4000
NOTES_SHOWN = 20


def page_hint(outcome: str, message: str = "") -> str:
    """The hint for ``outcome`` from the one table (``console.OUTCOME_HINTS``), as a sentence
    on a feedback page, where the function is not named."""
    hint = outcome_hint(outcome, "your function", message)
    return hint[:1].upper() + hint[1:]


FAILED_WITH_MESSAGE = "Compare what was expected with what came back: the message says where they differ."

STATUS_HINTS = {
    "timeout": "Loading or running your notebook took too long: remove top-level training runs "
    "and look for endless loops.",
    "killed": "Loading your notebook ended the Python process: look for exit calls or huge allocations "
    "at the top level.",
    "invalid_notebook": "The file could not be read as a notebook: hand in the .ipynb file as "
    "Jupyter saves it.",
    "refused": "Your submission was a link, or not a file, and was not graded: hand in the notebook "
    "file itself.",
    "error": "The grader could not grade this submission; this is not your fault, and your "
    "instructors have been told.",
}


@dataclass(frozen=True)
class TestFeedback:
    """One hidden test as a student may see it; ``message`` is "" where it must stay hidden."""

    __test__ = False  # not a pytest test class

    name: str
    outcome: str
    points: float
    max_points: float
    message: str = ""
    hint: str = ""
    misconception: str = ""
    """What the student did, what the handout asks, where to look: catalogue text, shown
    under "messages" and "points" alike (it holds nothing of the hidden inputs)."""
    title: str = ""
    """What the test checks, in words: its docstring's first sentence under "messages",
    else its name in words ("weighted sum batch (torch.float32)")."""

    @property
    def passed(self) -> bool:
        return self.outcome == "passed"


def cap(text: str, limit: int) -> str:
    """At most ``limit`` characters, saying how many were left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n... ({len(text) - limit} more characters not shown)"


def feedback_for(test: TestResult, visibility: str, docstrings: dict[str, str] | None = None) -> TestFeedback:
    """A test as shown under ``visibility`` ("messages" or "points")."""
    hint = "" if test.outcome == "passed" else page_hint(test.outcome, test.message)
    failed = test.outcome == "failed"
    misconception, message = misconception_text.split(test.message) if failed else ("", test.message)
    if visibility != "messages":
        return TestFeedback(
            test.name,
            test.outcome,
            test.points,
            test.max_points,
            hint=hint,
            misconception=misconception,
            title=in_words(test.name),
        )
    if test.outcome == "failed":
        hint = FAILED_WITH_MESSAGE
    documented = (docstrings or {}).get(base_name(test.name), "")
    title = first_sentence(documented) or in_words(test.name)
    rest = documented[len(first_sentence(documented)) :].strip()
    if rest and test.outcome != "passed":
        hint = f"{rest} {hint}".strip()
    return TestFeedback(
        test.name,
        test.outcome,
        test.points,
        test.max_points,
        cap(message, MESSAGE_CHARS),
        hint,
        misconception,
        title,
    )


def in_words(test_name: str) -> str:
    """``test_weighted_sum_batch[torch.float32]`` -> "weighted sum batch (torch.float32)"."""
    name, _, parameters = test_name.partition("[")
    words = name.removeprefix("test_").replace("_", " ").strip() or name
    return f"{words} ({parameters.rstrip(']')})" if parameters else words


def first_sentence(text: str) -> str:
    """The first sentence of a docstring's paragraph (up to ". "), or all of it."""
    head, dot, _ = text.partition(". ")
    return head + "." if dot else text


def visible_tests(
    attempt: Attempt, visibility: str, docstrings: dict[str, str] | None = None
) -> tuple[TestFeedback, ...]:
    if visibility == "nothing":
        return ()
    return tuple(feedback_for(test, visibility, docstrings) for test in attempt.result.tests)


def visible_output(attempt: Attempt, visibility: str) -> str:
    """What the student's code printed while graded, only where messages are visible."""
    return cap(attempt.result.output, OUTPUT_CHARS) if visibility == "messages" else ""


def base_name(test_name: str) -> str:
    """``test_sign[torch.float32]`` -> ``test_sign``: parameters share their function's docstring."""
    return test_name.split("[", 1)[0]


def suite_docstrings(suite_dir: Path | None) -> dict[str, str]:
    """First paragraph of each hidden test's docstring, read without importing the suite."""
    if suite_dir is None or not suite_dir.is_dir():
        return {}
    found: dict[str, str] = {}
    for path in sorted(suite_dir.glob("test_*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, OSError):
            continue  # a broken suite is grading's problem; reports just show no hint
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test"):
                doc = ast.get_docstring(node)
                if doc:
                    found[node.name] = " ".join(doc.split("\n\n", 1)[0].split())
    return found


@dataclass(frozen=True)
class AssignmentFeedback:
    """One assignment on a student's page: the counted submission's status and visible tests."""

    assignment: str
    visibility: str
    submitted: bool
    status: str = ""
    message: str = ""
    hint: str = ""
    notes: tuple[str, ...] = ()
    tests: tuple[TestFeedback, ...] = ()
    output: str = ""


def assignment_feedback(
    assignment: str, attempt: Attempt | None, visibility: str, docstrings: dict[str, str] | None = None
) -> AssignmentFeedback:
    """What a student sees of ``assignment``: the status and notes always, tests as visibility allows."""
    if attempt is None:
        return AssignmentFeedback(assignment, visibility, submitted=False)
    result = attempt.result
    return AssignmentFeedback(
        assignment,
        visibility,
        submitted=True,
        status=result.status,
        message=cap(result.message, MESSAGE_CHARS),
        hint=STATUS_HINTS.get(result.status, ""),
        notes=tuple(cap(note, MESSAGE_CHARS) for note in result.notes[:NOTES_SHOWN]),
        tests=visible_tests(attempt, visibility, docstrings),
        output=visible_output(attempt, visibility),
    )
