"""The Slurm recipe of docs/scaling.md: a real ``SLURMCluster`` (dask-jobqueue), its job
script checked line by line. Nothing is submitted: no Slurm is needed to build one."""

from __future__ import annotations

import pytest

from grader.errors import DlgradeError
from grader.grading.slurm import check_python, slurm_cluster

pytest.importorskip("dask_jobqueue", reason="install dlgrade[dask] to build Slurm clusters")


PYTHON = "/home/teacher/venvs/dlgrade/bin/python"  # where the nodes find it (a CI's Python may be in /tmp)


def test_each_job_is_one_dask_worker_with_a_thread_per_core_and_the_memory_they_need():
    cluster = slurm_cluster(
        queue="cpu",
        cores=16,
        walltime="01:30:00",
        memory_mb=3072,
        python=PYTHON,
        prologue=["source ~/venvs/dlgrade/bin/activate"],
        scheduler_options={"dashboard_address": ":0"},
    )
    try:
        script = cluster.job_script().splitlines()
    finally:
        cluster.close()
    # memory: 16 x (3 GB for a student's worker + 1 GB for its grading process) = 64 GB, 60 GiB to Slurm
    wanted = {"#SBATCH -p cpu", "#SBATCH --cpus-per-task=16", "#SBATCH -t 01:30:00", "#SBATCH --mem=60G"}
    assert wanted <= set(script)
    start = next(i for i, line in enumerate(script) if "distributed.cli.dask_worker" in line)
    assert script[start - 1] == "source ~/venvs/dlgrade/bin/activate"  # the environment first
    worker = script[start].split()
    assert worker[0] == PYTHON  # by default sys.executable: the Python that runs dlgrade here
    assert worker[worker.index("--nthreads") + 1] == "16" and "--nworkers" not in worker


def test_a_python_under_tmp_is_refused_with_the_reason():
    with pytest.raises(DlgradeError, match="each compute node has its own temporary folder"):
        check_python("/tmp/venv/bin/python")
    check_python(PYTHON)  # fine
