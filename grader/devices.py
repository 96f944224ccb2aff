"""Which device graded functions receive their tensors on: ``--device auto|cpu|cuda|cuda:N``.

    auto     every visible GPU if there is one, else the CPU
    cpu      the CPU
    cuda     every visible GPU (an error if there is none)
    cuda:N   GPU number N

Several devices mean one grading process per device (``parallel.py``), so each
GPU grades its own share of the class. GPU workers are cold (a fresh interpreter,
never a fork) and have their memory watched rather than their address space
limited (``sandbox/watchdog.py``).
"""

from __future__ import annotations

import re

import torch

from grader.errors import DlgradeError

CHOICES = "auto, cpu, cuda or cuda:N"


class DeviceError(DlgradeError):
    """The device asked for does not exist on this machine."""


def resolve(spec: str, gpu_count: int | None = None) -> list[str]:
    """The devices ``spec`` stands for here, e.g. ``["cuda:0", "cuda:1"]``."""
    count = torch.cuda.device_count() if gpu_count is None else gpu_count
    gpus = [f"cuda:{i}" for i in range(count)]
    if spec == "cpu":
        return ["cpu"]
    if spec == "auto":
        return gpus or ["cpu"]
    if spec == "cuda":
        if not gpus:
            raise DeviceError("--device cuda: no CUDA GPU is visible here (use --device cpu or auto)")
        return gpus
    match = re.fullmatch(r"cuda:(\d+)", spec)
    if match is None:
        raise DeviceError(f"--device {spec!r}: expected {CHOICES}")
    if int(match.group(1)) >= count:
        raise DeviceError(f"--device {spec}: this machine has {count} CUDA GPU(s)")
    return [spec]


def check(spec: str) -> str:
    """``spec`` if it is a device spec at all, without asking this machine for its GPUs (a
    Dask client leaves that to the workers)."""
    if spec not in ("auto", "cpu", "cuda") and re.fullmatch(r"cuda:\d+", spec) is None:
        raise DeviceError(f"--device {spec!r}: expected {CHOICES}")
    return spec


def is_gpu(device: str) -> bool:
    return device.startswith("cuda")
