"""Shared fixtures: the course under test."""

import pytest
from support import COURSE

from grader.course.layout import Course


@pytest.fixture(scope="session")
def course() -> Course:
    return Course(COURSE)
