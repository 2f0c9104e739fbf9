"""The book at a desktop and a phone width: every page fits a phone without sideways
scrolling, and screenshots of the intro and one chapter go to ``_build/screenshots/``
for a person to look at."""

from __future__ import annotations

import base64

import pytest
from sitebrowser import ARTIFACTS, COLLECT_JS, PHONE

SCREENS = {"desktop": {"width": 1280, "height": 800}, "phone": PHONE}
SCREENSHOT_PAGES = ["book/intro.html", "book/vanishing_gradients.html"]
MAX_FULL_PAGE_HEIGHT = 16000  # px; Chromium captures at most 16384 px at once


def test_fits_a_phone(site, page):
    """WCAG 1.4.10 (Reflow): the page reads at a phone's width without scrolling sideways
    (code cells, tables and wide equations scroll inside their own boxes)."""
    phone = site.visit(page).phone
    assert phone["scrollWidth"] <= PHONE["width"], (
        f"{page} is {phone['scrollWidth']} px wide on a {PHONE['width']} px phone screen; "
        f"what pushes it wider: {phone['culprit']}")


@pytest.mark.parametrize("screen", list(SCREENS))
@pytest.mark.parametrize("shot_page", SCREENSHOT_PAGES)
def test_screenshot(site, shot_page, screen):
    assert (site.root / shot_page).is_file(), f"{shot_page} is not in the built book"
    out = ARTIFACTS / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    stem = shot_page.rsplit("/", 1)[-1].removesuffix(".html")
    size = SCREENS[screen]
    browser, driver = site.browser, site.browser.driver
    browser.emulate(size["width"], size["height"], mobile=screen == "phone")
    try:
        driver.get(site.server.url(shot_page))
        driver.execute_async_script(COLLECT_JS)  # waits for MathJax and the images
        fit = browser.fit(size["width"])
        top = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})
        content = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
        full = driver.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"],
                     "height": min(content["height"], MAX_FULL_PAGE_HEIGHT), "scale": 1}})
    finally:
        browser.stop_emulating()
        browser.drain_logs()
    for suffix, shot in (("", top), ("-full", full)):
        path = out / f"{stem}-{screen}{suffix}.png"
        path.write_bytes(base64.b64decode(shot["data"]))
        site.notes.setdefault("screenshots", []).append(str(path))
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000
    assert fit["scrollWidth"] <= size["width"], (
        f"{shot_page} is {fit['scrollWidth']} px wide at {size['width']} px; "
        f"what pushes it wider: {fit['culprit']}")
