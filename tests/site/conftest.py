"""Browser tests of the built HTML book: every page as a reader's browser shows it.

Run with ``python3 tasks.py site-test``. It tests an already built book (``python3
tasks.py build``) found at ``$BOOK_HTML`` (default ``<repo>/_build/html``), and fails,
rather than skips, when there is none. The normal unit run (``pytest tests book``)
collects these tests but skips them, since they need a browser: they run only when
``SITE_TESTS=1``.

How: the book is served over http by a local server on 127.0.0.1, and Debian's
headless Chromium (``/usr/bin/chromium``, driven by Debian's ``/usr/bin/chromedriver``
through selenium: nothing downloaded) visits every page once, several browsers at a
time (sitebrowser.py). Every other destination is cut off: no hostname resolves, any
non-loopback request goes to a proxy that does not exist, and CDP blocks the other
schemes; the tests also assert that no page even tried to reach anything else. Each
visit records the console, the requests, the math, the images, the links and ids and
the colours of highlighted code, runs axe-core (from npm, in ``_build/tools``, not
committed), and measures the page in a phone-sized window; the tests check those
records. Screenshots and a JSON summary of the figures go next to the book, into
``_build/screenshots/`` and ``_build/site-test.json``.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sitebrowser import (
    ARTIFACTS,
    AXE_JS,
    BOOK_HTML,
    BROWSERS,
    CHROMEDRIVER,
    CHROMIUM,
    ENABLED,
    PHONE,
    REDIRECT_PAGE,
    SKIP_REASON,
    Browser,
    LocalServer,
    Site,
    book_is_built,
    book_pages,
    chapter_pages,
    not_built_message,
)

HERE = Path(__file__).resolve().parent


# ------------------------------------------------------------------------ collection

def pytest_generate_tests(metafunc):
    def pages():  # index.html only redirects: test_front_page_redirects checks it
        return [p for p in book_pages() if p != REDIRECT_PAGE]

    for name, values in (("page", pages), ("chapter", chapter_pages)):
        if name in metafunc.fixturenames:
            # Outside a site run, one placeholder per test: they are all skipped anyway.
            params = values() if ENABLED else []
            metafunc.parametrize(name, params or ["not-run"], scope="session")


def pytest_collection_modifyitems(config, items):
    mine = [item for item in items if HERE in Path(str(item.path)).resolve().parents]
    if not mine:
        return
    if not ENABLED:
        skip = pytest.mark.skip(reason=SKIP_REASON)
        for item in mine:
            item.add_marker(skip)
        return
    if not book_is_built():
        # One clear failure instead of an error per page.
        dropped = [item for item in mine if item.originalname != "test_book_is_built"]
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in dropped]


_SESSION: dict[str, object] = {"start": time.perf_counter()}


@pytest.fixture(scope="session")
def book_html() -> Path:
    if not book_is_built():
        pytest.fail(not_built_message(), pytrace=False)
    return BOOK_HTML


@pytest.fixture(scope="session")
def server(book_html):
    srv = LocalServer(book_html)
    yield srv
    srv.close()


@pytest.fixture(scope="session")
def site(book_html, server) -> Site:
    """Every page of the book, visited once by headless Chromium (several at a time)."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER, AXE_JS) if not p.is_file()]
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: `python3 tasks.py site-test` installs "
                    "Debian's chromium and chromium-driver, and axe-core from npm.",
                    pytrace=False)
    browsers: list[Browser] = []
    try:
        with ThreadPoolExecutor(BROWSERS) as pool:
            browsers.extend(pool.map(lambda _: Browser(server), range(BROWSERS)))
        s = Site(book_html, browsers, server)
        _SESSION["site"] = s
        s.crawl([p for p in book_pages() if p != REDIRECT_PAGE])
        yield s
    finally:
        for b in browsers:
            b.quit()


# --------------------------------------------------------------------------- summary

def summarize(site: Site) -> dict:
    visits = list(site.visits.values())
    impacts: dict[str, int] = {}  # (rule, page) pairs
    elements: dict[str, int] = {}  # elements that fail a rule
    rules: dict[str, list[str]] = {}
    for v in visits:
        for violation in v.axe:
            impact = violation["impact"]
            impacts[impact] = impacts.get(impact, 0) + 1
            elements[impact] = elements.get(impact, 0) + len(violation["nodes"])
            rules.setdefault(f"{impact}: {violation['id']}", []).append(v.page)
    return {
        "book": str(site.root),
        "pages_checked": len(visits),
        "console_errors": sum(sum(e["level"] == "SEVERE" for e in v.console) for v in visits),
        "math_failures": sum(len(v.data["untypeset"]) + len(v.data["mathErrors"])
                             for v in visits) + sum(site.notes.get("raw_tex", {}).values()),
        "math_elements": sum(v.data["mathElements"] for v in visits),
        "images": sum(len(v.data["images"]) for v in visits),
        "links_checked": sum(c for c, _ in site.notes.get("links", {}).values()),
        "unresolved_links": sum(u for _, u in site.notes.get("links", {}).values()),
        "external_links": sorted({u for urls in site.notes.get("external_links", {}).values()
                                  for u in urls}),
        "requests_not_local": sum(1 for v in visits for u in v.requested
                                  if not u.startswith((site.server.origin, "data:", "blob:"))),
        "a11y_violations_by_impact": impacts,
        "a11y_elements_by_impact": elements,
        "a11y_rules": rules,
        "search_words": site.notes.get("search_words", {}),
        "screenshots": site.notes.get("screenshots", []),
        # Not a failure: code cells whose longest line is wider than the text column at
        # 1280 px, so part of the code is hidden until the reader scrolls the cell.
        "code_blocks_scrolling_sideways_at_1280px": {
            v.page: f"{len(v.data['codeScrollingBlocks'])} of {v.data['codeBlocks']}"
            for v in visits if v.data["codeScrollingBlocks"]},
        "code_blocks": sum(v.data["codeBlocks"] for v in visits),
        "code_blocks_scrolling_detail": {v.page: v.data["codeScrollingBlocks"]
                                         for v in visits if v.data["codeScrollingBlocks"]},
        "pages_too_wide_for_a_phone": sorted(v.page for v in visits
                                             if v.phone["scrollWidth"] > PHONE["width"]),
        "browsers": len(site.browsers),
        "crawl_seconds": round(site.crawl_seconds, 1),
        "seconds_per_page": {v.page: v.seconds for v in visits},
    }


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    site = _SESSION.get("site")
    if not isinstance(site, Site):
        return
    summary = summarize(site)
    summary["wall_seconds"] = round(time.perf_counter() - _SESSION["start"], 1)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "site-test.json").write_text(json.dumps(summary, indent=2) + "\n")
    write = terminalreporter.write_line
    terminalreporter.section("built book in the browser")
    write(f"pages checked: {summary['pages_checked']}, images: {summary['images']}, "
          f"math elements: {summary['math_elements']}, "
          f"internal links checked: {summary['links_checked']}")
    write(f"console errors: {summary['console_errors']}, unresolved links: "
          f"{summary['unresolved_links']}, math failures: {summary['math_failures']}, "
          f"requests not to the local server: {summary['requests_not_local']}")
    write(f"accessibility violations (axe-core rule x page) by impact: "
          f"{summary['a11y_violations_by_impact'] or 'none'}; elements: "
          f"{summary['a11y_elements_by_impact'] or 'none'}")
    for rule, pages in sorted(summary["a11y_rules"].items()):
        write(f"  {rule}: {', '.join(pages)}")
    write(f"pages too wide for a {PHONE['width']} px phone: "
          f"{summary['pages_too_wide_for_a_phone'] or 'none'}")
    write(f"search words: {summary['search_words']}")
    scrolling = sum(len(b) for b in summary["code_blocks_scrolling_detail"].values())
    write(f"code blocks that scroll sideways at 1280 px: {scrolling} of "
          f"{summary['code_blocks']} "
          f"({summary['code_blocks_scrolling_sideways_at_1280px'] or 'none'})")
    write(f"wall time: {summary['wall_seconds']} s "
          f"(summary in {ARTIFACTS / 'site-test.json'})")
