"""The HTML reports in a real headless Chromium: they load offline, cleanly, and show something.

Driven by Selenium through Debian's ``chromium`` and ``chromium-driver`` (apt); skipped,
saying so, only where that browser is not installed. Each page must

- log no console error (a refused asset or a script error would be one),
- load no resource at all besides itself (no CDN, no font, no image from anywhere),
- run no script: a student's ``<script>`` arrives as text, and
- look like something: the screenshot has more than a handful of colours.
"""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest
from test_reports import make_course

from reports.writer import write_reports

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="needs a headless browser: apt-get install chromium chromium-driver (CI installs them)",
)


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """The reports of the hand-made course in test_reports.py, written once for this module."""
    course = make_course(tmp_path_factory.mktemp("course"))
    out = course / "out"
    write_reports(course_root=course, out_dir=out, exam=course / "exam.csv", generated="today")
    return out


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1200,1600", "--hide-scrollbars"):  # fmt: skip
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    yield driver
    driver.quit()


def colours(png: bytes) -> int:
    """How many distinct colours a screenshot has (a blank page has one)."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        found = image.convert("RGB").getcolors(maxcolors=1 << 20)
    return len(found) if found is not None else 1 << 20


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
        ".getBoundingClientRect().top")  # fmt: skip
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


# ----------------------------------------------------------------------- the similarity page


@pytest.fixture(scope="module")
def similarity_page(tmp_path_factory):
    """``dlgrade similarity`` on three a1 notebooks: alice, bob (alice's, disguised) and carol
    (her own work), where bob's comment carries a script and every name has underscores."""
    from click.testing import CliRunner
    from test_similarity import DISGUISED, INDEPENDENT, ORIGINAL, TEMPLATE, notebook

    from grader.similarity.cli import similarity

    root = tmp_path_factory.mktemp("similarity")
    (root / "course" / "assignments" / "a1").mkdir(parents=True)
    shutil.copy(TEMPLATE, root / "course" / "assignments" / "a1" / "a1.ipynb")
    (root / "class").mkdir()
    hostile = [*DISGUISED[:1], "# <script>window.__pwned = 1</script>", *DISGUISED[1:]]
    for student, cells in {"alice": ORIGINAL, "bob": hostile, "carol": INDEPENDENT}.items():
        notebook(root / "class", student, cells)
    arguments = ["--assignment", "a1", "--course", str(root / "course"), "--out", str(root / "out"),
                 str(root / "class")]  # fmt: skip
    run = CliRunner().invoke(similarity, arguments)
    assert run.exit_code == 0, run.output
    return root / "out" / "similarity-a1.html"


def test_the_similarity_page_loads_cleanly_offline_and_runs_no_student_script(browser, similarity_page):
    browser.get(similarity_page.as_uri())
    assert [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "WARNING")] == []
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    assert browser.execute_script("return window.__pwned === undefined")
    assert browser.execute_script("return document.querySelectorAll('mark.rare').length") > 0
    assert colours(browser.get_screenshot_as_png()) > 16


def test_no_highlight_covers_the_line_above_so_underscores_stay_visible(browser, similarity_page):
    """A mark's background reaches no higher than its own line box: the line above, whose
    underscores sit at the very bottom of its box, is never painted over."""
    browser.get(similarity_page.as_uri())
    overlaps = browser.execute_script("""
        const boxes = [...document.querySelectorAll('pre')].map(pre =>
            [...pre.querySelectorAll('mark')].flatMap(m => [...m.getClientRects()]));
        const found = [];
        for (const rects of boxes)
            for (const a of rects)
                for (const b of rects)
                    if (b.top > a.top + 1 && b.top < a.bottom - 0.5 && b.left < a.right && a.left < b.right)
                        found.push([a.top, a.bottom, b.top]);
        return found;""")  # fmt: skip
    assert overlaps == []
    underscored = browser.execute_script(
        "return [...document.querySelectorAll('mark.rare')].filter(m => m.textContent.includes('_')).length")
    assert underscored > 0  # the check above looked at marks with underscores
