"""--device: what each choice means here, GPU workers' memory watchdog, and the real GPU run.

The GPU tests need a CUDA device and are skipped, with the reason, where there is none.
A GPU worker's other parts (no address-space limit, the watchdog) run on any machine.

Split from ``tests/unit/test_devices.py``: these tests start real workers; the ones that do not are
in ``tests/unit/test_devices.py``.
"""

from __future__ import annotations

from functools import partial

import pytest
import torch
from support import COURSE, ROOT, flatten_reference

from grader.course.layout import Course
from grader.errors import StudentCrashed
from grader.grading.grade import grade
from grader.sandbox.limits import Limits
from grader.sandbox.process import WorkerProcess, isolation_warning
from grader.sandbox.remote import Student
from grader.sandbox.session import Session

SAMPLES = ROOT / "examples" / "submissions" / "a1"
NO_GPU = "no CUDA GPU on this machine: the GPU path is checked where one is present"
needs_gpu = pytest.mark.skipif(not torch.cuda.is_available(), reason=NO_GPU)


@pytest.mark.sandbox
@pytest.mark.skipif(isolation_warning() is not None, reason="memory hogs run only in the real sandbox")
def test_a_gpu_worker_has_its_memory_watched_instead_of_its_address_space_limited():
    code = [
        "import torch\ndef hog():\n    x = torch.ones(500_000_000)\n    return float(x.sum())\n"
        "def small():\n    return float(torch.ones(10).sum())\n"
    ]
    limits = Limits(memory_mb=1200, test_seconds=30)
    session = Session(code, limits=limits, spawn=partial(WorkerProcess, hide=(), gpu=True))
    session.start()
    student = Student(session)
    try:
        session.begin_test(None)
        assert student.small() == 10.0  # torch itself fits: no address-space limit got in the way
        session.begin_test(None)
        with pytest.raises(StudentCrashed, match="over the limit of 1200 MB"):
            student.hog()  # 2 GB of float32
    finally:
        session.close()


@pytest.mark.sandbox
def test_a_gpu_worker_sees_the_gpus_and_driver_the_grader_was_given(tmp_path, monkeypatch):
    # Under Slurm, CUDA_VISIBLE_DEVICES=2,3 makes the grader's cuda:0 physical GPU 2: a
    # worker without it would compute on GPU 0. Runs on any machine: it reads the worker's view.
    driver = tmp_path / "nvidia-driver"
    driver.mkdir()
    (driver / "libcuda.so.1").write_text("a driver outside the system folders")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,3")
    monkeypatch.setenv("LD_LIBRARY_PATH", str(driver))
    monkeypatch.setenv("DLGRADE_SECRET", "not for students")
    code = [
        "import os\nNAMES = ('CUDA_VISIBLE_DEVICES', 'DLGRADE_SECRET')\n"
        "def environment():\n    return [os.environ.get(name) for name in NAMES]\n"
        f"def driver():\n    return sorted(os.listdir({str(driver)!r}))\n"
    ]
    for gpu in (True, False):
        session = Session(code, spawn=partial(WorkerProcess, hide=(), gpu=gpu))
        session.start()
        try:
            assert Student(session).environment() == (["2,3", None] if gpu else [None, None])
            if gpu:
                assert Student(session).driver() == ["libcuda.so.1"]
        finally:
            session.close()


@needs_gpu
@pytest.mark.gpu
@pytest.mark.sandbox
def test_verdicts_on_the_gpu_are_the_verdicts_on_the_cpu():
    paths = [str(SAMPLES / f"{name}.ipynb") for name in ("alice", "bob", "carol")]
    on_cpu = grade(paths, assignment="a1", course=Course(COURSE), device="cpu")
    on_gpu = grade(paths, assignment="a1", course=Course(COURSE), device="cuda:0")
    assert [[(t.name, t.outcome) for t in r.tests] for r in on_gpu] == [
        [(t.name, t.outcome) for t in r.tests] for r in on_cpu
    ]


@needs_gpu
@pytest.mark.gpu
@pytest.mark.sandbox
@pytest.mark.parametrize("assignment", ["a1", "a2", "a3", "a4", "a5"])
def test_every_reference_gets_full_marks_on_the_gpu_as_on_the_cpu(tmp_path, assignment):
    source = tmp_path / f"{assignment}_reference.py"  # .py submissions are graded like notebooks
    source.write_text(flatten_reference(assignment))
    notebook = [str(source)]
    on_cpu = grade(notebook, assignment=assignment, course=Course(COURSE), device="cpu")[0]
    on_gpu = grade(notebook, assignment=assignment, course=Course(COURSE), device="cuda:0")[0]
    assert on_gpu.status == "graded" and on_gpu.score == on_gpu.max_score, [
        (t.name, t.message) for t in on_gpu.tests if t.outcome != "passed"
    ]
    assert [(t.name, t.outcome) for t in on_gpu.tests] == [(t.name, t.outcome) for t in on_cpu.tests]
