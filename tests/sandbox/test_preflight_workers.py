"""Preflight: no batch without a passing reference; `dlgrade doctor`.

Split from ``tests/unit/grading/test_preflight.py``: these tests start real workers; the ones that
do not are in ``tests/unit/grading/test_preflight.py``.
"""

import nbformat
import pytest
from click.testing import CliRunner
from support import ROOT

from grader.cli import main
from grader.course.layout import Course
from grader.errors import SuiteError
from grader.grading.grade import grade
from grader.sandbox.limits import Limits

SAMPLES = ROOT / "examples" / "submissions" / "a1"


HUNGRY_SUITE = """
import pytest

@pytest.mark.points(1)
def test_sum(student):
    assert student.total() == 16_000_000
"""

HUNGRY_REFERENCE = "import torch\n\ndef total():\n    return int(torch.ones(16_000_000).sum())  # 64 MB\n"


def hungry_course(root):
    """A course whose reference needs 64 MB more than a worker holds once torch is imported."""
    (root / "suites" / "m1").mkdir(parents=True)
    (root / "suites" / "m1" / "test_m1.py").write_text(HUNGRY_SUITE)
    (root / "reference").mkdir()
    (root / "source" / "m1").mkdir(parents=True)
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(HUNGRY_REFERENCE)])
    nbformat.write(notebook, str(root / "source" / "m1" / "m1.ipynb"))
    return Course(root)


@pytest.mark.sandbox
def test_every_grading_process_stops_on_a_memory_limit_too_small_for_the_reference(tmp_path):
    papers = [str(SAMPLES / "alice.ipynb"), str(SAMPLES / "bob.ipynb")]
    seen = []
    with pytest.raises(SuiteError) as caught:  # --workers 2: each grading process checks (PreflightFailed)
        grade(
            papers,
            assignment="m1",
            course=hungry_course(tmp_path / "course"),
            limits=Limits(memory_mb=16),
            workers=2,
            on_result=seen.append,
        )
    assert seen == [] and "--memory-mb 16" in str(caught.value)


@pytest.mark.sandbox
def test_doctor_prints_the_walls_and_grades_each_reference():
    run = CliRunner().invoke(main, ["doctor", "-a", "a1"])
    assert run.exit_code == 0, run.output
    for wall in ("bubblewrap", "workers", "uid drop", "namespaces", "seccomp", "limits"):
        assert f"  {wall} " in run.output
    assert "  a1: 23/23 in " in run.output
