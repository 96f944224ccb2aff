"""Feedback that names the bug: the message format, the catalogues, `dlgrade check`, the
student's page and the class overview. Each suite's own catalogue is tested in
tests/suites/test_aN_suite.py (a notebook per misconception, and correct work never named).

Split from ``tests/unit/testing/test_misconceptions.py``: these tests start real workers; the ones
that do not are in ``tests/unit/testing/test_misconceptions.py``.
"""

import pytest
from support import COURSE

from grader import console
from grader.course.layout import Course
from grader.misconception_text import key_of
from grader.selfcheck import check_descriptions
from grader.selfcheck.check import check_path

# ----------------------------------------------------------------- dlgrade check


NAIVE_SOFTMAX = """
import torch


def softmax(z):
    e = torch.exp(z)
    return e / e.sum(dim=-1, keepdim=True)
"""


@pytest.mark.sandbox
def test_dlgrade_check_names_the_misconception_of_a_failed_check(tmp_path):
    notebook = tmp_path / "a2.py"
    notebook.write_text(NAIVE_SOFTMAX)
    result = check_path(notebook, assignment="a2", course=Course(COURSE))
    table = console.check_table(result, check_descriptions.describe(COURSE / "assignments" / "a2" / "checks"))
    softmax_check = next(t for t in result.tests if t.name == "test_softmax_of_small_and_huge_logits")
    title = "Softmax without subtracting the maximum"
    assert key_of(softmax_check.message) == ("a2/softmax-no-max-shift", title)
    assert "FAIL  test_softmax_of_small_and_huge_logits" in table
    assert "        Misconception a2/softmax-no-max-shift: Softmax without subtracting the maximum" in table
    assert "        Where to look: the first line of softmax, where exp is taken." in table
    assert sum(key_of(t.message) is not None for t in result.tests) == 1  # the others are missing, not named
