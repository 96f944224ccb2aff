"""``grade()`` called again in the same process: an instructor's notebook, a test run."""

import pytest

from grader.course import Course
from grader.grading import grade

pytestmark = pytest.mark.sandbox

SUITE = """
import pytest
from reference.t9.answers import ANSWER

@pytest.mark.points(1)
def test_answer(student):
    assert student.answer() == ANSWER
"""


def test_a_suite_and_reference_edited_between_two_runs_are_graded_as_they_are_now(tmp_path):
    (tmp_path / "suites" / "t9").mkdir(parents=True)
    (tmp_path / "reference" / "t9").mkdir(parents=True)
    suite, reference = tmp_path / "suites" / "t9" / "test_t9.py", tmp_path / "reference" / "t9" / "answers.py"
    submission = tmp_path / "s.py"
    submission.write_text("def answer():\n    return 42\n")
    suite.write_text(SUITE)
    reference.write_text("ANSWER = 42\n")
    for package in (tmp_path / "reference", tmp_path / "reference" / "t9"):
        (package / "__init__.py").touch()
    first = grade([str(submission)], assignment="t9", course=Course(tmp_path), workers=1)[0]
    assert [(t.name, t.outcome) for t in first.tests] == [("test_answer", "passed")]

    suite.write_text(SUITE + "\n@pytest.mark.points(1)\ndef test_added(student):\n    pass\n")
    reference.write_text("ANSWER = 41  # the instructor fixed the reference\n")
    second = grade([str(submission)], assignment="t9", course=Course(tmp_path), workers=1)[0]
    assert [(t.name, t.outcome) for t in second.tests] == [("test_answer", "failed"),
                                                           ("test_added", "passed")]  # fmt: skip
