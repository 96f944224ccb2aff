"""A real headless Chromium for the tests of HTML pages (the ``browser`` fixture is in
``tests/conftest.py``): Debian's ``chromium`` and ``chromium-driver`` (apt), driven by
Selenium. Tests that need it are skipped, saying so, only where it is not installed."""

from __future__ import annotations

import io
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

needs_browser = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="needs a headless browser: apt-get install chromium chromium-driver (CI installs them)",
)


def start_browser():
    """A headless Chromium window of 1200 x 1600 that keeps the console's log."""
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1200,1600",
        "--hide-scrollbars",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))


def colours(png: bytes) -> int:
    """How many distinct colours a screenshot has (a blank page has one)."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        found = image.convert("RGB").getcolors(maxcolors=1 << 20)
    return len(found) if found is not None else 1 << 20
