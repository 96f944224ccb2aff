"""Dask workers as Slurm jobs, sized for dlgrade (dask-jobqueue's ``SLURMCluster``).

    from grader.grading.slurm import slurm_cluster
    cluster = slurm_cluster(queue="cpu", cores=16, walltime="02:00:00",
                            prologue=["source ~/venvs/dlgrade/bin/activate"])
    cluster.scale(jobs=8)
    grade_class(..., GradingOptions.of(course, "a5", scheduler=cluster.scheduler_address, min_workers=8), ...)

Each job is one Dask worker with one thread per core. Each thread grades one chunk at a
time in its own grading process, which runs one student worker at a time, so a job
needs, per core, a grading process (``GRADER_MB``: pytest, the suite, torch, a fork
server) and a student worker (up to ``--memory-mb``). The job runs the Python that runs
this (``sys.executable``) on the compute node: that path must exist there, with the
same dlgrade and torch (docs/scaling.md). A Python under /tmp never does: a node's /tmp
is its own.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from grader.errors import DlgradeError
from grader.sandbox.limits import Limits

GRADER_MB = 1024


def slurm_cluster(
    *,
    queue: str,
    cores: int = 16,
    walltime: str = "02:00:00",
    prologue: Sequence[str] = (),
    memory_mb: int = Limits().memory_mb,
    python: str = sys.executable,
    **options,
):
    """A ``SLURMCluster`` whose jobs are each one Dask worker of ``cores`` threads.

    ``queue``: the Slurm partition; ``prologue``: shell lines run before the worker starts
    (activate the environment); ``memory_mb``: the student workers' limit (``--memory-mb``);
    ``options`` go to ``SLURMCluster`` as they are (``account``, ``job_extra_directives``...).
    """
    from dask_jobqueue import SLURMCluster

    check_python(python)
    memory_gb = -(-cores * (memory_mb + GRADER_MB) // 1024)  # rounded up
    return SLURMCluster(
        queue=queue,
        cores=cores,
        processes=1,
        memory=f"{memory_gb}GB",
        walltime=walltime,
        job_script_prologue=list(prologue),
        python=python,
        **options,
    )


def check_python(python: str) -> None:
    """Refuse a Python the compute nodes cannot have: one under a temporary folder."""
    for path in {Path(python).absolute(), Path(python).resolve()}:
        for tmp in {Path("/tmp"), Path(tempfile.gettempdir()).resolve()}:
            if path.is_relative_to(tmp):
                raise DlgradeError(
                    f"the Slurm jobs would run {python}, which is under {tmp}: each compute node has its "
                    "own temporary folder, so it is not there. Install Python, dlgrade and torch in a "
                    "folder the nodes share (your home, project space) and run from there."
                )
