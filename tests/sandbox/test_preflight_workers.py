"""Preflight: no batch without a passing reference; `dlgrade doctor`.

Split from ``tests/unit/grading/test_preflight.py``: these tests start real workers; the ones that
do not are in ``tests/unit/grading/test_preflight.py``.
"""


import pytest
from click.testing import CliRunner
from support import COURSE, ROOT

from grader.cli import main
from grader.course.layout import Course
from grader.errors import SuiteError
from grader.grading.grade import grade
from grader.sandbox.limits import Limits

SAMPLES = ROOT / "examples" / "submissions" / "a1"


@pytest.mark.sandbox
def test_every_grading_process_stops_on_a_memory_limit_too_small_for_the_reference(tmp_path):
    papers = [str(SAMPLES / "alice.ipynb"), str(SAMPLES / "bob.ipynb")]
    seen = []
    with pytest.raises(SuiteError) as caught:  # --workers 2: each grading process checks (PreflightFailed)
        grade(papers, assignment="a1", course=Course(COURSE), limits=Limits(memory_mb=1), workers=2,
              on_result=seen.append)  # fmt: skip
    assert seen == [] and "--memory-mb 1" in str(caught.value)


@pytest.mark.sandbox
def test_doctor_prints_the_walls_and_grades_each_reference():
    run = CliRunner().invoke(main, ["doctor", "-a", "a1"])
    assert run.exit_code == 0, run.output
    for wall in ("bubblewrap", "workers", "uid drop", "namespaces", "seccomp", "limits"):
        assert f"  {wall} " in run.output
    assert "  a1: 23/23 in " in run.output
