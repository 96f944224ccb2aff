"""The similarity page in a real headless Chromium (``tests/browser.py``): it loads offline,
runs no script a student wrote, and its highlights leave every character readable."""

import shutil

import pytest
from browser import colours, needs_browser
from click.testing import CliRunner
from test_similarity import DISGUISED, INDEPENDENT, ORIGINAL, TEMPLATE, notebook

from grader.similarity.cli import similarity

pytestmark = needs_browser


@pytest.fixture(scope="module")
def similarity_page(tmp_path_factory):
    """``dlgrade similarity`` on three a1 notebooks: alice, bob (alice's, disguised) and carol
    (her own work), where bob's comment carries a script and every name has underscores."""
    root = tmp_path_factory.mktemp("similarity")
    (root / "course" / "assignments" / "a1").mkdir(parents=True)
    shutil.copy(TEMPLATE, root / "course" / "assignments" / "a1" / "a1.ipynb")
    (root / "class").mkdir()
    hostile = [*DISGUISED[:1], "# <script>window.__pwned = 1</script>", *DISGUISED[1:]]
    for student, cells in {"alice": ORIGINAL, "bob": hostile, "carol": INDEPENDENT}.items():
        notebook(root / "class", student, cells)
    arguments = [
        "--assignment",
        "a1",
        "--course",
        str(root / "course"),
        "--out",
        str(root / "out"),
        str(root / "class"),
    ]
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
        return found;""")
    assert overlaps == []
    underscored = browser.execute_script(
        "return [...document.querySelectorAll('mark.rare')].filter(m => m.textContent.includes('_')).length"
    )
    assert underscored > 0  # the check above looked at marks with underscores
