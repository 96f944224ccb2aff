"""The HTML reports in a real headless Chromium: they load offline, cleanly, and show something.

Driven by Selenium through Debian's ``chromium`` and ``chromium-driver`` (apt); skipped,
saying so, only where that browser is not installed. Each page must

- log no console error (a refused asset or a script error would be one),
- load no resource at all besides itself (no CDN, no font, no image from anywhere),
- run no script: a student's ``<script>`` arrives as text, and
- look like something: the screenshot has more than a handful of colours.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from browser import colours, needs_browser
from report_course import make_course

from reports.writer import write_reports

pytestmark = needs_browser


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """The reports of the hand-made course in test_reports.py, written once for this module."""
    course = make_course(tmp_path_factory.mktemp("course"))
    out = course / "out"
    write_reports(course_root=course, out_dir=out, exam=course / "exam.csv", generated="today")
    return out


@pytest.mark.parametrize("page", ["overview.html", "students/alice.html", "students/zoe.html"])
def test_a_report_page_loads_cleanly_offline_and_is_not_blank(browser, pages, page):
    browser.get((pages / page).as_uri())
    errors = [entry for entry in browser.get_log("browser") if entry["level"] in ("SEVERE", "WARNING")]
    assert errors == []
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    assert browser.execute_script("return document.title")
    assert colours(browser.get_screenshot_as_png()) > 16


def test_student_output_is_shown_as_text_and_never_runs(browser, pages):
    browser.get((pages / "students" / "alice.html").as_uri())
    assert browser.execute_script("return window.__pwned === undefined")
    printed = browser.find_element("css selector", "details pre").get_attribute("textContent")
    assert "<script>window.__pwned = 1</script>" in printed


def test_the_overview_draws_its_charts(browser, pages):
    browser.get((pages / "overview.html").as_uri())
    bars = browser.execute_script(
        "return [...document.querySelectorAll('svg rect.bar')].filter(r => r.getBBox().height > 0).length"
    )
    assert bars >= 8  # bonus, final scores, a1, a2: every student lands in some bar


def test_the_overviews_key_table_is_on_the_first_screen_and_the_axes_have_labels(browser, pages):
    browser.get((pages / "overview.html").as_uri())
    table_top = browser.execute_script(
        "return [...document.querySelectorAll('h2')].find(h => h.textContent === 'Students')"
        ".getBoundingClientRect().top"
    )
    assert table_top < browser.execute_script("return window.innerHeight")
    ticks = browser.execute_script("return document.querySelectorAll('svg line.grid').length")
    charts = browser.execute_script("return document.querySelectorAll('svg').length")
    assert ticks >= 2 * charts  # every chart has 0 and at least one count above it
    _screenshot(browser, "overview.png")


def test_a_feedback_page_shows_tests_in_words_and_why_a_score_is_zero(browser, pages):
    browser.get((pages / "students" / "carol.html").as_uri())
    why = browser.find_element("css selector", "p.why").text
    assert why.startswith("Why 0 points:") and "past the cutoff" in why
    titles = [e.text for e in browser.find_elements("css selector", ".test-title")]
    assert "The forward pass." in titles
    _screenshot(browser, "feedback.png")


def _screenshot(browser, name: str) -> None:
    """With DLGRADE_SCREENSHOTS=docs/img the page's screenshot is kept there (docs/reports.md shows them)."""
    folder = os.environ.get("DLGRADE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / name).write_bytes(browser.get_screenshot_as_png())
