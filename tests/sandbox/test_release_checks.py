"""`dlgrade release`: the student bundle, and the scan that keeps every secret out of it.

Split from ``tests/integration/test_release.py``: these tests start real workers; the ones that do
not are in ``tests/integration/test_release.py``.
"""

import shutil
import subprocess
import sys

import pytest
import yaml
from support import COURSE

from grader.course.layout import Course
from grader.handout.release import release


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """The a1 bundle of this course, built once."""
    return release(course=Course(COURSE), assignment="a1", out=tmp_path_factory.mktemp("release") / "a1")


# ---------------------------------------------------------------- what students get


@pytest.mark.sandbox
def test_the_bundle_checks_on_its_own_with_the_workflow_s_command(bundle, tmp_path):
    workflow = yaml.safe_load((bundle / ".github/workflows/dlgrade.yml").read_text())
    command = workflow["jobs"]["run-autograding-tests"]["steps"][3]["run"]
    args = [sys.executable, "-m", *command.split()]  # as `dlgrade` would, without installing it
    run = subprocess.run(
        args,
        cwd=bundle,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")},
    )
    assert run.returncode == 1, run.stderr  # the untouched notebook fails every check
    assert "0 of 6 public checks passed." in run.stdout and "Points 0/6" in run.stdout
    assert "weighted_sum is not implemented yet" in (tmp_path / "summary.md").read_text()
    (bundle / "dlgrade-junit.xml").unlink()
    for cache in list(bundle.rglob("__pycache__")):  # the run compiled the bundle's modules: the
        shutil.rmtree(cache)  # tests after it scan the bundle as released, without caches
