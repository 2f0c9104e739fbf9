"""The machinery of the browser tests: the local server, the browser and what a visit records."""

from __future__ import annotations

import functools
import http.server
import json
import os
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

REPO = Path(__file__).resolve().parents[2]
BOOK_HTML = Path(os.environ.get("BOOK_HTML") or REPO / "_build" / "html").resolve()
ARTIFACTS = BOOK_HTML.parent  # _build/ for the default book
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
AXE_JS = Path(os.environ.get("AXE_JS")
              or REPO / "_build" / "tools" / "node_modules" / "axe-core" / "axe.min.js")
ENABLED = os.environ.get("SITE_TESTS") == "1"
SKIP_REASON = "run with: python3 tasks.py site-test"

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1280,900", "--hide-scrollbars",
    # The network is cut off for everything but the local server: no hostname resolves,
    # and any request to a non-loopback address goes to a proxy that does not exist
    # (loopback always bypasses the proxy).
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--proxy-server=http://0.0.0.0:9",
]
# Belt and braces, through CDP: the local server speaks plain http only.
BLOCKED_URL_PATTERNS = ["https://*", "ws://*", "wss://*", "ftp://*", "http://localhost*"]
TIMEOUT_S = 120  # per page load or script; the slowest here take about 10 s
# Browsers working at once (each page's axe-core run keeps one core busy).
BROWSERS = int(os.environ.get("SITE_BROWSERS") or max(1, min(4, os.cpu_count() or 1)))
# Pages without content of their own, left out when a word unique to one chapter is
# chosen for the search test (they still get every other check).
GENERATED_PAGES = {"search.html", "genindex.html"}
REDIRECT_PAGE = "index.html"


# ---------------------------------------------------------------------------- the book

def book_is_built() -> bool:
    return (BOOK_HTML / "index.html").is_file()


def book_pages() -> list[str]:
    """Every HTML page of the book, relative to its root, theme templates left out."""
    if not book_is_built():
        return []
    pages = []
    for path in sorted(BOOK_HTML.rglob("*.html")):
        rel = path.relative_to(BOOK_HTML)
        if rel.parts[0].startswith("_"):  # _static (theme templates), _sources, _images
            continue
        pages.append(rel.as_posix())
    return pages


def chapter_pages() -> list[str]:
    """Pages whose source is a notebook: the chapters (the GUIDE: one .ipynb each)."""
    return [p for p in book_pages()
            if (BOOK_HTML / "_sources" / p).with_suffix(".ipynb").is_file()]


def not_built_message() -> str:
    return (f"No built book at {BOOK_HTML} (index.html is missing). Build it first with "
            "`python3 tasks.py build`, or point BOOK_HTML at a built book's html folder.")


# ------------------------------------------------------------------------ the server

class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    served: list[tuple[str, int]]

    def log_request(self, code="-", size="-"):
        self.served.append((self.path, int(code) if str(code).isdigit() else 0))

    def log_message(self, format, *args):  # noqa: A002 (the stdlib's name)
        pass


class LocalServer:
    """The book over http on 127.0.0.1 (a free port), in a background thread."""

    def __init__(self, root: Path):
        self.served: list[tuple[str, int]] = []
        handler = type("Handler", (_QuietHandler,), {"served": self.served})
        self.httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
        self.httpd.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, page: str) -> str:
        return f"{self.origin}/{page}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


# ---------------------------------------------------------------- what a visit records

COLLECT_JS = r"""
const done = arguments[arguments.length - 1];
const withTimeout = (promise, ms) =>
  Promise.race([promise, new Promise((resolve) => setTimeout(resolve, ms))]);
(async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await withTimeout(MathJax.startup.promise, 20000);
  }
  const images = Array.from(document.images);
  await withTimeout(Promise.all(images.map((img) => {
    img.loading = "eager";  // lazy images below the fold would otherwise never load
    return img.decode().catch(() => null);
  })), 15000);
  const main = document.querySelector("article.bd-article") || document.querySelector("main")
    || document.body;
  const prose = main.cloneNode(true);
  prose.querySelectorAll("pre, code, script, style, textarea, mjx-container, .highlight")
    .forEach((e) => e.remove());
  const all = main.cloneNode(true);
  all.querySelectorAll("script, style, mjx-container").forEach((e) => e.remove());
  const download = document.querySelector("a.btn-download-source-button");
  // The colours of highlighted code, by (text colour, background) pair: thousands of
  // token spans, checked here once per colour pair instead of by axe-core span by span.
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const bg = getComputedStyle(e).backgroundColor;
      if (bg && bg !== "transparent" && !/^rgba\(.*,\s*0\)$/.test(bg)) return bg;
    }
    return "rgb(255, 255, 255)";
  };
  const codeColors = {};
  for (const pre of document.querySelectorAll("div.highlight pre")) {
    const preBackground = background(pre);
    for (const el of [pre, ...pre.querySelectorAll("span")]) {
      const own = Array.from(el.childNodes).some((n) => n.nodeType === 3 && n.data.trim());
      if (!own) continue;
      const style = getComputedStyle(el);
      const bg = el === pre || style.backgroundColor === "rgba(0, 0, 0, 0)"
        ? preBackground : background(el);
      const key = `${style.color} on ${bg}`;
      const entry = codeColors[key] ||= {fg: style.color, bg: bg, count: 0, classes: [],
                                          sample: el.textContent.trim().slice(0, 40)};
      entry.count++;
      const cls = el === pre ? "(plain code)" : el.className;
      if (!entry.classes.includes(cls)) entry.classes.push(cls);
    }
  }
  done({
    title: document.title,
    url: location.href,
    mathjax: !!(window.MathJax && MathJax.startup),
    mathElements: document.querySelectorAll(".math").length,
    containers: document.querySelectorAll("mjx-container").length,
    untypeset: Array.from(document.querySelectorAll(".math"))
      .filter((el) => !el.querySelector("mjx-container"))
      .map((el) => el.textContent.trim().slice(0, 80)),
    mathErrors: Array.from(document.querySelectorAll("mjx-merror, [data-mjx-error]"))
      .map((el) => (el.getAttribute("data-mjx-error") || el.textContent).slice(0, 120)),
    prose: prose.textContent,
    text: all.textContent,
    ids: Array.from(document.querySelectorAll("[id]")).map((e) => e.id)
      .concat(Array.from(document.querySelectorAll("a[name]")).map((a) => a.name)),
    links: Array.from(document.querySelectorAll("a[href]")).map((a) => ({
      href: a.getAttribute("href"), url: a.href,
      text: a.textContent.trim().replace(/\s+/g, " ").slice(0, 60)})),
    images: images.map((img) => {
      const figure = img.closest("figure");
      const caption = figure && figure.querySelector("figcaption");
      return {src: img.currentSrc || img.src, alt: img.getAttribute("alt"),
              naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight,
              caption: caption ? caption.textContent.trim() : ""};
    }),
    download: download ? {href: download.getAttribute("href"), url: download.href} : null,
    codeColors: Object.values(codeColors),
    // Code blocks wider than their box at this width: the reader has to scroll sideways.
    // Which ones: input or output, the longest line, and the first characters.
    codeScrollingBlocks: Array.from(document.querySelectorAll("div.highlight pre"))
      .filter((pre) => pre.scrollWidth > pre.clientWidth + 1)
      .map((pre) => {
        const lines = pre.textContent.split("\n");
        const longest = lines.reduce((a, b) => (b.length > a.length ? b : a), "");
        return {kind: pre.closest(".cell_output") ? "output" : "input",
                longest: longest.length, clientWidth: pre.clientWidth,
                scrollWidth: pre.scrollWidth, line: longest.slice(0, 100)};
      }),
    codeBlocks: document.querySelectorAll("div.highlight pre").length,
    // MathJax output that a screen reader cannot read (no assistive MathML, no label).
    mathUnreadable: Array.from(document.querySelectorAll("mjx-container"))
      .filter((c) => !c.querySelector("mjx-assistive-mml") && !c.getAttribute("aria-label"))
      .length,
  });
})().catch((e) => done({error: String(e && e.stack || e)}));
"""

# Run after a change of screen size: does the page fit the width, and if not, which
# element pushes it wider (found by hiding elements until the page fits again)?
FIT_JS = r"""
const done = arguments[arguments.length - 1];
const width = arguments[0];
const frame = () => new Promise((resolve) => requestAnimationFrame(() => resolve()));
(async () => {
  await frame(); await frame();
  const pageWidth = () => document.scrollingElement.scrollWidth;
  const wide = pageWidth();
  const path = [];
  if (wide > width) {
    let parent = document.body;
    for (let depth = 0; depth < 30 && parent; depth++) {
      let culprit = null;
      for (const child of parent.children) {
        const display = child.style.display;
        child.style.display = "none";
        const narrower = pageWidth() < wide;
        child.style.display = display;
        if (narrower) { culprit = child; break; }
      }
      if (!culprit) break;
      path.push(culprit.tagName.toLowerCase() + (culprit.id ? "#" + culprit.id : "")
                + (typeof culprit.className === "string" && culprit.className.trim()
                   ? "." + culprit.className.trim().split(/\s+/).join(".") : ""));
      parent = culprit;
    }
    if (parent && parent !== document.body)
      path.push(`text: ${JSON.stringify(parent.textContent.trim().slice(0, 80))}`);
  }
  done({scrollWidth: wide, culprit: path.join(" > ")});
})().catch((e) => done({error: String(e)}));
"""

# axe-core's cost grows with the number of elements, and highlighted code is most of
# them (one span per token: 10,000 in a chapter, 20 s of axe-core). Their colours are
# checked above, pair by pair; axe-core then sees each code block as plain text in the
# same element (same text, same box), which still gets every rule, contrast included.
AXE_RUN_JS = r"""
const done = arguments[arguments.length - 1];
for (const pre of document.querySelectorAll("div.highlight pre")) pre.textContent = pre.textContent;
axe.run(document, {resultTypes: ["violations"]}).then((r) => done(r.violations.map((v) => ({
  id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
  nodes: v.nodes.map((n) => ({target: n.target, html: n.html.slice(0, 240),
                             summary: (n.failureSummary || "").slice(0, 400)})),
})))).catch((e) => done({error: String(e)}));
"""


PHONE = {"width": 390, "height": 844}  # CSS px: a common phone (iPhone 12 to 15)


@dataclass
class PageVisit:
    page: str
    data: dict
    console: list[dict]
    requested: list[str]
    failed: list[str]
    axe: list[dict]
    phone: dict
    seconds: dict[str, float]  # per step of the visit
    ids: set[str] = field(init=False)

    def __post_init__(self):
        self.ids = set(self.data["ids"])


def is_browser_favicon(url: str, origin: str) -> bool:
    """Chromium asks for /favicon.ico at the server root by itself when a page names no
    icon; that request is the browser's, not the book's (on a project site the root is
    not even the book's)."""
    return url == f"{origin}/favicon.ico"


class Browser:
    """One headless Chromium with the network cut off but for the local server."""

    def __init__(self, server: LocalServer):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for flag in CHROMIUM_FLAGS:
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
        # An explicit driver path: selenium never looks for, or downloads, a driver.
        self.driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)),
                                       options=options)
        self.driver.set_page_load_timeout(TIMEOUT_S)
        self.driver.set_script_timeout(TIMEOUT_S)
        self.driver.execute_cdp_cmd("Network.enable", {})
        self.driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": BLOCKED_URL_PATTERNS})
        self.server = server
        self.axe_source = AXE_JS.read_text(encoding="utf-8")

    def drain_logs(self) -> tuple[list[dict], list[dict]]:
        """The console messages and network events since the last call."""
        console = [e for e in self.driver.get_log("browser")
                   if not (e.get("source") == "network"
                           and e["message"].startswith(f"{self.server.origin}/favicon.ico "))]
        return console, self.driver.get_log("performance")

    def network(self, performance: list[dict]) -> tuple[list[str], list[str]]:
        """All URLs requested, and the requests that failed (status >= 400 or error)."""
        requested, failed, urls = [], [], {}
        for entry in performance:
            message = json.loads(entry["message"])["message"]
            method, params = message.get("method"), message.get("params", {})
            if method == "Network.requestWillBeSent":
                url = params["request"]["url"]
                urls[params["requestId"]] = url
                requested.append(url)
            elif method == "Network.responseReceived":
                url, status = params["response"]["url"], params["response"]["status"]
                if status >= 400 and not is_browser_favicon(url, self.server.origin):
                    failed.append(f"{status} {url}")
            elif method == "Network.loadingFailed" and not params.get("canceled"):
                url = urls.get(params["requestId"], "?")
                if not is_browser_favicon(url, self.server.origin):
                    failed.append(f"{params.get('errorText')} {url}")
        return requested, failed

    def emulate(self, width: int, height: int, *, mobile: bool) -> None:
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})

    def stop_emulating(self) -> None:
        self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

    def fit(self, width: int) -> dict:
        state = self.driver.execute_async_script(FIT_JS, width)
        if "error" in state:
            raise AssertionError(f"the width check failed: {state['error']}")
        return state

    def visit(self, page: str) -> PageVisit:
        """Load ``page`` at the desktop size, record it, run axe-core, then check that it
        also fits a phone's width (the screen is resized; the page is not reloaded)."""
        times = {"start": time.perf_counter()}
        self.drain_logs()
        self.driver.get(self.server.url(page))
        times["load"] = time.perf_counter()
        data = self.driver.execute_async_script(COLLECT_JS)
        if "error" in data:
            raise AssertionError(f"{page}: the page script failed: {data['error']}")
        times["record"] = time.perf_counter()
        self.driver.execute_script(self.axe_source)
        violations = self.driver.execute_async_script(AXE_RUN_JS)
        if isinstance(violations, dict):
            raise AssertionError(f"{page}: axe-core failed: {violations['error']}")
        times["axe"] = time.perf_counter()
        # A window of a phone's size; full phone emulation (mobile=True) finds the same
        # overflow but lays a long page out four times slower. The screenshots use it.
        self.emulate(PHONE["width"], PHONE["height"], mobile=False)
        try:
            phone = self.fit(PHONE["width"])
        finally:
            # Back to the desktop size on an empty page: laying the long page out again
            # at the desktop width would take as long as the phone layout did.
            self.driver.get("about:blank")
            self.stop_emulating()
        times["phone"] = time.perf_counter()
        console, performance = self.drain_logs()
        requested, failed = self.network(performance)
        times["logs"] = time.perf_counter()
        steps = list(times)
        seconds = {b: round(times[b] - times[a], 2) for a, b in zip(steps, steps[1:], strict=False)}
        return PageVisit(page, data, console, requested, failed, violations, phone, seconds)

    def quit(self) -> None:
        self.driver.quit()


class Site:
    """The built book as the browsers see it: every page visited once, in parallel."""

    def __init__(self, root: Path, browsers: list[Browser], server: LocalServer):
        self.root, self.browsers, self.server = root, browsers, server
        self.browser = browsers[0]  # for the checks that come after the crawl
        self.visits: dict[str, PageVisit] = {}
        self.notes: dict[str, object] = {}
        self.crawl_seconds = 0.0

    def crawl(self, pages: list[str]) -> None:
        """Visit ``pages``, the biggest first, with all browsers at once."""
        start = time.perf_counter()
        todo = queue.Queue()
        for page in sorted(pages, key=lambda p: -(self.root / p).stat().st_size):
            todo.put(page)
        errors: list[BaseException] = []

        def work(browser: Browser) -> None:
            while not errors:
                try:
                    page = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    self.visits[page] = browser.visit(page)
                except BaseException as exc:  # reported in the main thread
                    errors.append(exc)

        threads = [threading.Thread(target=work, args=(b,)) for b in self.browsers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        self.crawl_seconds = time.perf_counter() - start

    def visit(self, page: str) -> PageVisit:
        if page not in self.visits:
            self.visits[page] = self.browser.visit(page)
        return self.visits[page]

    def file_for(self, url: str) -> Path | None:
        """The file a local URL points at (None for another origin)."""
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != self.server.origin:
            return None
        path = unquote(parts.path).lstrip("/")
        target = self.root / path
        if path == "" or path.endswith("/"):
            target = target / "index.html"
        return target

    def page_of(self, file: Path) -> str:
        return file.relative_to(self.root).as_posix()
