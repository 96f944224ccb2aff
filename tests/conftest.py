"""Shared fixtures: the course under test."""

import pytest
from support import ROOT

from grader.course import Course


@pytest.fixture(scope="session")
def course() -> Course:
    return Course(ROOT)
