"""Seeding torch before each test, on both sides of the trust boundary.

Imported by the worker as ``seeding`` (from its own folder, as it imports ``wire``)
and by the trusted side as ``grader.sandbox.child.seeding``.
"""

import torch


def seed_torch(seed: int) -> None:
    """``torch.manual_seed`` without its cost. Before CUDA starts, ``manual_seed`` formats
    the Python stack for a deferred CUDA (and XPU, MTIA) seeding: about a millisecond per
    call, before every test, on both sides. A CUDA that starts later is seeded by torch's
    fixed default, so grading stays repeatable."""
    torch.default_generator.manual_seed(seed)
    if torch.cuda.is_initialized():
        torch.cuda.manual_seed_all(seed)
