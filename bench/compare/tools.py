"""Running a grading tool as a command, timed from outside, as an instructor would run it."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Run:
    command: list[str]
    seconds: float
    returncode: int
    output: str

    def require(self, what: str) -> None:
        """Stop the benchmark where a tool failed: a failure is not a timing."""
        if self.returncode != 0:
            raise RuntimeError(f"{what} failed ({self.returncode}):\n{self.output[-4000:]}")


def tool_environment(bin_dir: Path | None, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The caller's environment with ``bin_dir`` first on PATH (the benchmark's venv)."""
    env = dict(os.environ)
    if bin_dir is not None:
        env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
        env["VIRTUAL_ENV"] = str(bin_dir.parent)
    env.update(extra or {})
    return env


def run_timed(
    command: list[str], cwd: Path, bin_dir: Path | None, extra_env: dict[str, str] | None = None
) -> Run:
    """Run ``command`` to the end; wall-clock seconds from start to exit, output kept."""
    started = time.perf_counter()
    proc = subprocess.run(
        command,
        cwd=cwd,
        env=tool_environment(bin_dir, extra_env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return Run(command, time.perf_counter() - started, proc.returncode, proc.stdout)
