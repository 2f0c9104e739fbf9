"""Every page of the built book in headless Chromium, offline (see conftest.py).

``page`` runs over every HTML page of the book, ``chapter`` over the pages built from a
notebook. Each page is loaded once; the tests check what that visit recorded.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from urllib.parse import quote, unquote, urlsplit

import pytest
from sitebrowser import (
    GENERATED_PAGES,
    REDIRECT_PAGE,
    book_is_built,
    book_pages,
    not_built_message,
)

# TeX that MathJax should have replaced: delimiters, environments, common commands, and
# $...$ spans that contain TeX syntax. Code (pre/code) is left out of the text searched.
RAW_TEX = re.compile(
    r"\\\(|\\\)|\\\[|\\\]|\$\$|\\begin\{|\\end\{"
    r"|\\(?:frac|sqrt|sum|prod|mathbb|mathrm|operatorname|partial|sigma|cdot|times|odot)\b"
    r"|\$[^$\n]{0,120}?[\\^_{][^$\n]{0,120}?\$")
IMAGE_FILE_NAME = re.compile(r"(^|/)[^ ]+\.(png|jpe?g|svg|gif|webp)$", re.IGNORECASE)


def content_page(page: str) -> bool:
    return page not in GENERATED_PAGES and page != REDIRECT_PAGE


# ---------------------------------------------------------------------------- the book

def test_book_is_built():
    assert book_is_built(), not_built_message()
    pages = book_pages()
    assert REDIRECT_PAGE in pages and any(content_page(p) for p in pages), pages


def test_network_is_cut_off(site):
    """The browser reaches the local server and nothing else. (Without the blocking, the
    same browser on the CI machine does reach deb.debian.org: this test can fail.)"""
    driver = site.browser.driver
    driver.get(site.server.url("search.html"))
    outside = ["https://pypi.org/simple/", "http://deb.debian.org/debian/",
               "http://151.101.0.223/", "http://[2a04:4e42::223]/", "http://localhost:80/"]
    inside = [site.server.url("searchindex.js")]
    outcome = driver.execute_async_script(
        """const done = arguments[arguments.length - 1];
        Promise.all(arguments[0].map((u) => fetch(u, {mode: "no-cors", cache: "no-store"})
          .then(() => "reached", () => "blocked"))).then(done);""", outside + inside)
    site.browser.drain_logs()
    assert outcome == ["blocked"] * len(outside) + ["reached"], \
        dict(zip(outside + inside, outcome, strict=True))


def test_front_page_redirects(site):
    driver = site.browser.driver
    site.browser.drain_logs()
    driver.get(site.server.url(REDIRECT_PAGE))
    driver.execute_async_script(
        """const done = arguments[arguments.length - 1]; const t0 = Date.now();
        (function wait() { if (!location.pathname.endsWith("/index.html")
          || Date.now() - t0 > 10000) done(); else setTimeout(wait, 50); })();""")
    landed = site.file_for(driver.current_url)
    assert landed is not None and landed.is_file() and landed.name != REDIRECT_PAGE, \
        f"index.html should redirect to the first page of the book, went to {driver.current_url}"
    console, _ = site.browser.drain_logs()
    assert not [e for e in console if e["level"] == "SEVERE"], console


# -------------------------------------------------------------------------- each page

def test_no_console_errors(site, page):
    errors = [e["message"] for e in site.visit(page).console if e["level"] == "SEVERE"]
    assert not errors, f"{page}: JavaScript console errors:\n" + "\n".join(errors)


def test_only_the_local_server_was_asked(site, page):
    v = site.visit(page)
    origin = site.server.origin
    outside = [u for u in v.requested if not u.startswith((origin, "data:", "blob:"))]
    assert not outside, f"{page} tried to reach: {outside}"
    assert not v.failed, f"{page}: local requests that failed: {v.failed}"


def test_math_is_typeset(site, page):
    v = site.visit(page)
    d = v.data
    raw = sorted({m.group(0)[:60] for m in RAW_TEX.finditer(d["prose"])})
    site.notes.setdefault("raw_tex", {})[page] = len(raw)
    problems = []
    if raw:
        problems.append(f"raw TeX left in the text: {raw}")
    if d["untypeset"]:
        problems.append(f"math elements without MathJax output: {d['untypeset']}")
    if d["mathErrors"]:
        problems.append(f"MathJax errors: {d['mathErrors']}")
    if d["mathUnreadable"]:
        problems.append(f"{d['mathUnreadable']} formulas without assistive MathML or a label")
    if d["mathElements"] and (not d["mathjax"] or d["containers"] < d["mathElements"]):
        problems.append(f"{d['mathElements']} math elements but MathJax "
                        f"{'loaded' if d['mathjax'] else 'not loaded'} and only "
                        f"{d['containers']} mjx-container elements")
    assert not problems, f"{page}: " + "; ".join(problems)


def parse_css_color(text: str) -> tuple[float, float, float, float]:
    match = re.fullmatch(r"rgba?\(([^)]*)\)", text.strip())
    assert match, f"unexpected CSS colour {text!r}"
    parts = [float(p) for p in re.split(r"[\s,/]+", match.group(1).strip())]
    return (*parts[:3], parts[3] if len(parts) > 3 else 1.0)


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio of a text colour on a background (CSS rgb()/rgba())."""
    *fg, alpha = parse_css_color(foreground)
    *bg, _ = parse_css_color(background)
    fg = [alpha * f + (1 - alpha) * b for f, b in zip(fg, bg, strict=True)]

    def luminance(rgb):
        lin = [c / 255 / 12.92 if c / 255 <= 0.04045 else ((c / 255 + 0.055) / 1.055) ** 2.4
               for c in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    high, low = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_ratio_matches_wcag_examples():
    assert contrast_ratio("rgb(0, 0, 0)", "rgb(255, 255, 255)") == pytest.approx(21)
    assert contrast_ratio("rgb(118, 118, 118)", "rgb(255, 255, 255)") == pytest.approx(4.54, abs=0.01)
    assert contrast_ratio("rgba(0, 0, 0, 0)", "rgb(255, 255, 255)") == pytest.approx(1)


def test_code_colours_have_enough_contrast(site, page):
    """WCAG 1.4.3 (AA): 4.5:1 for every colour of highlighted code on its background."""
    low = []
    for pair in site.visit(page).data["codeColors"]:
        ratio = contrast_ratio(pair["fg"], pair["bg"])
        if ratio < 4.5:
            low.append(f"{ratio:.2f}:1 for {pair['fg']} on {pair['bg']} ({pair['count']} "
                       f"tokens of class {', '.join(pair['classes'])}, e.g. {pair['sample']!r})")
    assert not low, f"{page}: code colours below 4.5:1:\n" + "\n".join(low)


def test_images_load_and_are_described(site, page):
    problems = []
    for img in site.visit(page).data["images"]:
        name = unquote(urlsplit(img["src"]).path).rsplit("/", 1)[-1]
        alt = (img["alt"] or "").strip()
        if img["naturalWidth"] == 0:
            problems.append(f"{name} did not load")
        if not alt and not img["caption"]:
            problems.append(f"{name} has neither alt text nor a figure caption")
        elif alt and IMAGE_FILE_NAME.search(alt) and not img["caption"]:
            problems.append(f"{name}: the alt text is only a file name ({alt!r}); give the "
                            "notebook cell an alt text or a caption")
    assert not problems, f"{page}:\n" + "\n".join(problems)


def target_ids(site, target) -> set[str]:
    page = site.page_of(target)
    if page in book_pages():
        return site.visit(page).ids
    html = target.read_text(encoding="utf-8", errors="replace")
    return set(re.findall(r"""\b(?:id|name)=["']([^"']+)["']""", html))


def test_internal_links_resolve(site, page):
    """Every link to the book itself reaches an existing file, and its #fragment an id
    there: navigation, cross-references, footnotes and citations alike."""
    v = site.visit(page)
    problems, checked, external = [], 0, set()
    for link in v.data["links"]:
        href, url = link["href"], link["url"]
        if href.startswith(("mailto:", "javascript:", "tel:")):
            continue
        target = site.file_for(url)
        if target is None:
            external.add(url)
            continue
        checked += 1
        where = f"{href!r} ({link['text']!r})"
        if site.root.resolve() not in target.resolve().parents or not target.is_file():
            problems.append(f"{where}: no such file {target}")
            continue
        fragment = unquote(urlsplit(url).fragment)
        if fragment and target.suffix == ".html" and fragment not in target_ids(site, target):
            problems.append(f"{where}: no id {fragment!r} in {site.page_of(target)}")
    site.notes.setdefault("links", {})[page] = (checked, len(problems))
    site.notes.setdefault("external_links", {})[page] = sorted(external)
    assert not problems, f"{page}: unresolved links:\n" + "\n".join(problems)


def test_no_accessibility_violations(site, page):
    """No axe-core violation of any impact, minor and moderate included: what the theme
    got wrong is mended in book/_static (a11y.css, a11y.js), so every page is clean."""
    found = site.visit(page).axe
    lines = []
    for violation in found:
        lines.append(f"[{violation['impact']}] {violation['id']}: {violation['help']} "
                     f"({len(violation['nodes'])} elements; {violation['helpUrl']})")
        for node in violation["nodes"][:3]:
            lines.append(f"    {node['target']}: {node['html'][:160]}")
    assert not found, f"{page}: axe-core found:\n" + "\n".join(lines)


# ---------------------------------------------------------------------- each chapter

def test_chapter_offers_notebook_download(site, chapter):
    download = site.visit(chapter).data["download"]
    assert download, f"{chapter} has no download button (.btn-download-source-button)"
    target = site.file_for(download["url"])
    expected = "_sources/" + chapter[: -len(".html")] + ".ipynb"
    assert target is not None and site.page_of(target) == expected, \
        f"{chapter}: the download button links to {download['href']!r}, not to {expected}"
    notebook = json.loads(target.read_text(encoding="utf-8"))
    assert notebook.get("nbformat") == 4 and notebook.get("cells"), f"{expected} is no notebook"


def load_search_index(root):
    text = (root / "searchindex.js").read_text(encoding="utf-8")
    return json.loads(text[text.index("(") + 1: text.rindex(")")])


def docs_of(mapping, term) -> set[int]:
    found = mapping.get(term)
    if found is None:
        return set()
    return {found} if isinstance(found, int) else set(found)


def unique_word(site, chapter, index) -> str:
    """A word in ``chapter`` and in no other page, which Sphinx's index files under the
    chapter alone (same stemmer as Sphinx's English search), most frequent first."""
    import snowballstemmer

    stem = snowballstemmer.stemmer("porter").stemWord
    doc = index["docnames"].index(chapter[: -len(".html")])
    texts = {p: site.visit(p).data["text"].lower() for p in book_pages() if content_page(p)}
    others = [t for p, t in texts.items() if p != chapter]
    counts = Counter(re.findall(r"\b[a-z]{6,}\b", texts[chapter]))
    for word, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        s = stem(word)
        if any(word in t for t in others) or docs_of(index["terms"], s) != {doc}:
            continue
        # Sphinx also matches title terms that contain the stem.
        if any(s in term and docs_of(index["titleterms"], term) - {doc}
               for term in index["titleterms"]):
            continue
        return word
    pytest.fail(f"no word found only in {chapter}")


def test_search_finds_chapter_by_its_own_word(site, chapter):
    index = load_search_index(site.root)
    word = unique_word(site, chapter, index)
    site.notes.setdefault("search_words", {})[chapter] = word
    browser = site.browser
    browser.drain_logs()
    browser.driver.get(site.server.url(f"search.html?q={quote(word)}"))
    found = browser.driver.execute_async_script(
        """const done = arguments[arguments.length - 1]; const t0 = Date.now();
        (function wait() {
          const status = document.querySelector("#search-results p.search-summary");
          const text = status ? status.innerText : "";
          const items = document.querySelectorAll("#search-results ul.search li > a");
          const m = text.match(/found (\\d+) page/);
          if ((m && items.length >= +m[1]) || /did not match/.test(text)
              || Date.now() - t0 > 20000)
            done({status: text, results: Array.from(items).map((a) => a.getAttribute("href"))});
          else setTimeout(wait, 50);
        })();""")
    console, _ = browser.drain_logs()
    pages = {urlsplit(href).path for href in found["results"]}
    assert pages == {chapter}, (f"searching for {word!r} (only in {chapter}) found "
                                f"{sorted(pages)}: {found['status']!r}")
    assert not [e for e in console if e["level"] == "SEVERE"], console


MAX_SCROLLING_CODE_SHARE = 0.05


def test_few_code_blocks_scroll_sideways_at_1280px(site):
    """At a laptop's 1280 px, at most 5 % of the book's code blocks (cells and their
    printed output) are wider than the text column, so that a reader rarely has to
    scroll a cell sideways to see the end of a line."""
    visits = [site.visit(page) for page in book_pages() if content_page(page)]
    blocks = sum(v.data["codeBlocks"] for v in visits)
    scrolling = {v.page: v.data["codeScrollingBlocks"] for v in visits
                 if v.data["codeScrollingBlocks"]}
    count = sum(len(b) for b in scrolling.values())
    assert blocks > 100, blocks
    assert count <= MAX_SCROLLING_CODE_SHARE * blocks, (
        f"{count} of {blocks} code blocks scroll sideways at 1280 px: "
        + "; ".join(f"{page}: " + ", ".join(f"{b['kind']} {b['longest']} chars "
                                            f"{b['line'][:40]!r}" for b in found)
                    for page, found in scrolling.items()))
