"""Shared fixtures: the course under test and a quick way to write submissions."""

from pathlib import Path

import pytest

from grader.course import Course

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def course() -> Course:
    return Course(ROOT)


def write_mutant(folder: Path, name: str, source: str, old: str, new: str) -> Path:
    """A copy of ``source`` with one change; fails loudly if ``old`` is not there once."""
    assert source.count(old) == 1, f"mutant {name}: {old!r} must occur exactly once"
    path = folder / f"{name}.py"
    path.write_text(source.replace(old, new))
    return path
