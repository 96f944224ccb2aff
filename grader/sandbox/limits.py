"""Resource limits for one submission's worker, with their defaults in one place."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """What one submission may use. Wall-clock limits are enforced by the trusted side;
    the others are rlimits the worker sets on itself before any student code runs."""

    test_seconds: float = 10.0
    """CPU time for one hidden test (all its calls into the worker together); a test
    may ask for more with ``@pytest.mark.time_limit(seconds)``."""
    load_seconds: float = 30.0
    """CPU time for loading the notebook's code (imports and definitions)."""
    submission_seconds: float = 300.0
    """CPU time for the whole submission; tests after it runs out score 0."""
    wall_factor: float = 4.0
    """Each time limit above also holds on the clock, this many times longer. Limits count
    the worker's CPU time, which does not grow when other processes keep the machine busy
    (a wall-clock limit failed correct work at load 15 on 2 cores); the clock stops a
    worker that waits instead of computing (a sleep, a deadlock)."""
    memory_mb: int = 3072
    """Memory the student's code may add to the worker: address space beyond what the worker
    held once torch was imported (RLIMIT_AS, set from there: the CUDA build of torch
    reserves 3.2 GB it never uses on a CPU), and, for GPU workers, resident memory."""
    max_processes: int = 16
    """Processes the student code may start (RLIMIT_NPROC, binding once privileges drop)."""
    max_output_bytes: int = 64 * 1024
    """Captured stdout and stderr kept per worker; the rest is counted and dropped."""
    max_file_mb: int = 64
    max_open_files: int = 256
    threads: int = 1
    """torch intra-op threads per worker: parallelism comes from several workers.
    (A grader running as root gives each worker a uid of its own: ``uids.py``.)"""
