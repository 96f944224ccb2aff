"""--device: what each choice means here, GPU workers' memory watchdog, and the real GPU run.

The GPU tests need a CUDA device and are skipped, with the reason, where there is none.
A GPU worker's other parts (no address-space limit, the watchdog) run on any machine.
"""

from __future__ import annotations

import pytest
import torch
from click.testing import CliRunner
from support import ROOT

from grader.cli import main
from grader.devices import DeviceError, resolve

SAMPLES = ROOT / "examples" / "submissions" / "a1"


@pytest.mark.parametrize(
    ("spec", "gpus", "devices"),
    [
        ("cpu", 2, ["cpu"]),
        ("auto", 0, ["cpu"]),
        ("auto", 2, ["cuda:0", "cuda:1"]),
        ("cuda", 2, ["cuda:0", "cuda:1"]),
        ("cuda:1", 2, ["cuda:1"]),
    ],
)
def test_each_device_choice_names_the_devices_it_means(spec, gpus, devices):
    assert resolve(spec, gpu_count=gpus) == devices


@pytest.mark.parametrize(
    ("spec", "gpus", "complaint"),
    [("cuda", 0, "no CUDA GPU is visible"), ("cuda:2", 2, "has 2 CUDA GPU(s)"), ("tpu", 1, "expected auto")],
)
def test_a_device_that_is_not_here_is_refused_with_the_reason(spec, gpus, complaint):
    with pytest.raises(DeviceError, match=complaint.replace("(", r"\(").replace(")", r"\)")):
        resolve(spec, gpu_count=gpus)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_the_cli_refuses_cuda_without_a_gpu_before_grading(tmp_path):
    run = CliRunner().invoke(
        main,
        [
            "grade",
            "-a",
            "a1",
            "--device",
            "cuda",
            "--gradebook",
            str(tmp_path / "book.sqlite"),
            str(SAMPLES / "alice.ipynb"),
        ],
    )
    assert run.exit_code != 0 and "no CUDA GPU is visible" in run.output
    assert not (tmp_path / "book.sqlite").exists()
