"""``grade()`` called again in the same process: an instructor's notebook, a Dask worker
that grades one course after another, a test run."""

from pathlib import Path

import pytest

from grader.course.layout import Course
from grader.grading.grade import grade

pytestmark = pytest.mark.sandbox

SUITE = """
import pytest
from reference.t9.answers import ANSWER

@pytest.mark.points(1)
def test_answer(student):
    assert student.answer() == ANSWER
"""

OTHER_SUITE = """
import pytest

@pytest.mark.points(1)
def test_another_courses_test(student):
    pass
"""


def course_with(root: Path, suite: str, answer: str | None = None) -> tuple[Course, Path, Path]:
    """A course whose assignment t9 has ``suite`` (and a reference answer, if given)."""
    suite_path, reference = root / "suites" / "t9" / "test_t9.py", root / "reference" / "t9" / "answers.py"
    suite_path.parent.mkdir(parents=True)
    reference.parent.mkdir(parents=True)
    suite_path.write_text(suite)
    for package in (root / "reference", root / "reference" / "t9"):
        (package / "__init__.py").touch()
    if answer is not None:
        reference.write_text(answer)
    return Course(root), suite_path, reference


def outcomes(result) -> list[tuple[str, str]]:
    return [(t.name, t.outcome) for t in result.tests]


def test_a_suite_and_reference_edited_between_two_runs_are_graded_as_they_are_now(tmp_path):
    submission = tmp_path / "s.py"
    submission.write_text("def answer():\n    return 42\n")
    # Another course with an assignment of the same name, graded first in this process: its
    # suite's packages (``suites``, ``suites.t9``) must not stand in for this course's.
    other, _, _ = course_with(tmp_path / "other", OTHER_SUITE)
    (before,) = grade([str(submission)], assignment="t9", course=other, workers=1)
    assert outcomes(before) == [("test_another_courses_test", "passed")]

    course, suite, reference = course_with(tmp_path / "course", SUITE, "ANSWER = 42\n")
    (first,) = grade([str(submission)], assignment="t9", course=course, workers=1)
    assert outcomes(first) == [("test_answer", "passed")]

    suite.write_text(SUITE + "\n@pytest.mark.points(1)\ndef test_added(student):\n    pass\n")
    reference.write_text("ANSWER = 41  # the instructor fixed the reference\n")
    (second,) = grade([str(submission)], assignment="t9", course=course, workers=1)
    assert outcomes(second) == [("test_answer", "failed"), ("test_added", "passed")]
