"""``grade()`` called again in the same process: an instructor's notebook, a test run."""

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.sandbox

SUITE = """
import pytest
from reference.t9.answers import ANSWER

@pytest.mark.points(1)
def test_answer(student):
    assert student.answer() == ANSWER
"""

# Both runs in one fresh process, as in an instructor's notebook. A fresh process, not this
# pytest session: after other in-process grading in the same session, the second run here
# came back stale. That is an open bug (see the change's closing note); this pins the
# notebook case, which must keep working.
SCRIPT = """
import sys
from pathlib import Path

from grader.course import Course
from grader.grading import grade

tmp_path, SUITE = Path(sys.argv[1]), sys.argv[2]
(tmp_path / "suites" / "t9").mkdir(parents=True)
(tmp_path / "reference" / "t9").mkdir(parents=True)
suite, reference = tmp_path / "suites" / "t9" / "test_t9.py", tmp_path / "reference" / "t9" / "answers.py"
submission = tmp_path / "s.py"
submission.write_text("def answer():\\n    return 42\\n")
suite.write_text(SUITE)
reference.write_text("ANSWER = 42\\n")
for package in (tmp_path / "reference", tmp_path / "reference" / "t9"):
    (package / "__init__.py").touch()
first = grade([str(submission)], assignment="t9", course=Course(tmp_path), workers=1)[0]
print("first", [(t.name, t.outcome) for t in first.tests])

suite.write_text(SUITE + "\\n@pytest.mark.points(1)\\ndef test_added(student):\\n    pass\\n")
reference.write_text("ANSWER = 41  # the instructor fixed the reference\\n")
second = grade([str(submission)], assignment="t9", course=Course(tmp_path), workers=1)[0]
print("second", [(t.name, t.outcome) for t in second.tests])
"""


def test_a_suite_and_reference_edited_between_two_runs_are_graded_as_they_are_now(tmp_path):
    run = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path), SUITE], cwd=Path(__file__).parents[1],
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "first [('test_answer', 'passed')]" in run.stdout
    assert "second [('test_answer', 'failed'), ('test_added', 'passed')]" in run.stdout
