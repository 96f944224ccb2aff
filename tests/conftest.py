"""Shared fixtures: the course under test."""

import pytest
from support import COURSE

from grader.course.layout import Course


@pytest.fixture(scope="session")
def course() -> Course:
    return Course(COURSE)


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium (``tests/browser.py``), one per test module."""
    from browser import start_browser

    driver = start_browser()
    yield driver
    driver.quit()
