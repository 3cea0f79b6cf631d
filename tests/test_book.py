"""The static HTML book (`make book`): built from the stored outputs, checked in headless Chromium.

The first tests check the notebook preparation of scripts/build_book.py on small
made-up notebooks (no extra needed). The others build the whole site into a temporary
folder (with no network at all where `unshare -n` works, as root in CI)
without a Sphinx warning, serve it on 127.0.0.1 and read every page as a person would: nothing
may be requested from anywhere but 127.0.0.1 (fonts, MathJax and search are local),
no console errors, every figure loads and has alt text, every internal link resolves,
solutions are collapsed, the search finds notebook 04, and the explorer page shows a
static figure instead of widget text.

Run:  pytest tests/test_book.py   (needs `pip install -e ".[book]"` and /usr/bin/chromium)
      BOOK_NOTEBOOKS=DIR pytest tests/test_book.py   checks the book of another folder's notebooks
Skipped when the book extra or Chromium is missing, except in CI (CI=true), where it fails.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import http.server
import importlib.util
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

import build_book  # scripts/ (pyproject: pythonpath)

ROOT = Path(__file__).resolve().parent.parent

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
BUILD_TIMEOUT_S = 900  # liveness only: a build that hangs fails; a slow one on a busy machine does not
SEARCH = "gradient check"
SEARCH_FINDS = "04_backward_pass"
SEARCH_MATH, SEARCH_MATH_FINDS = (
    "stacked",
    "03_forward_pass",
)  # "a batch of \\(N\\) images stacked as ... \\(N \\times 784\\)"
WIDGET_REPR = re.compile(
    r"\b(VBox|HBox|Box|FloatLogSlider|IntSlider|FloatSlider|Output|Dropdown)\(children=|"
    r"\bchildren=\(|FloatLogSlider\(value="
)
LOCAL_SCHEMES = ("data:", "blob:", "about:", "file:")  # file: the search test that opens the site as files
IN_CI = os.environ.get("CI") == "true"
NOTEBOOKS = Path(os.environ.get("BOOK_NOTEBOOKS", build_book.NOTEBOOKS)).resolve()


# ---------------------------------------------------------------- preparation (no extra needed)


def png(seed: int) -> str:
    """A distinct tiny payload standing in for a PNG (only its bytes' hash matters here)."""
    return base64.b64encode(bytes([seed]) * 8).decode()


def figure_cell(*seeds, alt=None, source="fig = plot()"):
    metadata = {} if alt is None else {"alt_text": alt}
    return {
        "cell_type": "code",
        "metadata": metadata,
        "source": source,
        "execution_count": 1,
        "outputs": [
            {
                "output_type": "display_data",
                "metadata": {},
                "data": {"image/png": png(s), "text/plain": "<Figure size 640x480 with 1 Axes>"},
            }
            for s in seeds
        ],
    }


def widget_cell():
    return {
        "cell_type": "code",
        "metadata": {},
        "source": "explorer.widget",
        "execution_count": 1,
        "outputs": [
            {
                "output_type": "display_data",
                "metadata": {},
                "data": {
                    build_book.WIDGET_VIEW: {"model_id": "abc", "version_major": 2},
                    "text/plain": "VBox(children=(HBox(children=(FloatLogSlider(value=0.001),)),))",
                },
            }
        ],
    }


def markdown(text):
    return {"cell_type": "markdown", "metadata": {}, "source": text}


def notebook(*cells):
    return {"cells": list(cells), "metadata": {"widgets": {"state": {}}}, "nbformat": 4, "nbformat_minor": 5}


def prepare(nb, in_book=("01_a.ipynb", "02_b.ipynb")):
    return build_book.prepare(nb, set(in_book), "01_a.ipynb", "02_b.ipynb")


def test_alt_text_metadata_names_every_figure_and_a_missing_one_gets_a_fallback():
    nb = notebook(
        markdown("# 2. Title"),
        markdown("## Curves"),
        figure_cell(1, alt="Loss falls."),
        figure_cell(2, 3, alt=["Left.", "Right."]),
        figure_cell(4, 5, alt="Two digits."),
        figure_cell(6),
    )
    _, alt_by_hash, fallbacks = prepare(nb)
    by_seed = {
        seed: alt_by_hash[build_book.image_hashes({"data": {"image/png": png(seed)}})[0]] for seed in range(1, 7)
    }
    assert by_seed[1] == "Loss falls."
    assert (by_seed[2], by_seed[3]) == ("Left.", "Right.")
    assert by_seed[4] == "Two digits. (figure 1 of 2)" and by_seed[5] == "Two digits. (figure 2 of 2)"
    assert "Curves" in by_seed[6] and "2. Title" in by_seed[6]  # the fallback says where the figure is
    assert fallbacks == ["02_b.ipynb: Curves"]


def test_a_widget_becomes_the_static_figure_with_the_make_app_line():
    nb = notebook(
        markdown("# 6. Explorer"),
        widget_cell(),
        markdown("## Sweep"),
        figure_cell(7, alt="Five learning rates: accuracy climbs with the learning rate."),
    )
    prepared, _, _ = prepare(nb)
    outputs = prepared["cells"][1]["outputs"]
    assert "widgets" not in prepared["metadata"]
    assert not any(build_book.WIDGET_VIEW in o["data"] for o in outputs)
    assert not any(WIDGET_REPR.search(json.dumps(o)) for o in outputs)
    assert "make app" in outputs[0]["data"]["text/markdown"]
    assert outputs[1]["data"]["image/png"] == png(7)


def test_the_tagged_stand_in_takes_the_widgets_place_once():
    stand_in = figure_cell(8, alt="What the explorer shows at its start.")
    stand_in["metadata"]["tags"] = [build_book.STAND_IN_TAG]
    nb = notebook(
        markdown("# 6. Explorer"),
        widget_cell(),
        stand_in,
        markdown("## Sweep"),
        figure_cell(7, alt="Five learning rates: accuracy climbs with the learning rate."),
    )
    prepared, _, _ = prepare(nb)
    widget_outputs, stand_in_outputs = prepared["cells"][1]["outputs"], prepared["cells"][2]["outputs"]
    assert "make app" in widget_outputs[0]["data"]["text/markdown"]
    assert widget_outputs[1]["data"]["image/png"] == png(8)  # the tagged figure, not the first about the lr
    assert stand_in_outputs == [
        {"output_type": "display_data", "metadata": {}, "data": {"text/markdown": build_book.STAND_IN_MOVED}}
    ]
    assert prepared["cells"][4]["outputs"][0]["data"]["image/png"] == png(7)  # other figures stay


def test_the_stored_explorer_line_counts_as_its_widget():
    """A notebook executed for nbval stores the explorer's one readable line, not its widget view."""
    from helpers.explorer import READABLE

    assert READABLE.startswith(build_book.WIDGET_REPR_PREFIX)
    stored = widget_cell()
    stored["outputs"][0]["data"] = {"text/plain": [READABLE]}
    prepared, _, _ = prepare(notebook(markdown("# 6. Explorer"), stored, figure_cell(7, alt="Learning rate sweep.")))
    outputs = prepared["cells"][1]["outputs"]
    assert "make app" in outputs[0]["data"]["text/markdown"] and outputs[1]["data"]["image/png"] == png(7)
    assert READABLE not in json.dumps(outputs)


def test_a_widget_without_a_figure_to_stand_in_says_how_to_run_it():
    prepared, _, _ = prepare(notebook(markdown("# Title"), widget_cell()))
    (output,) = prepared["cells"][1]["outputs"]
    assert output["data"] == {"text/plain": build_book.WIDGET_TEXT}


def test_navigation_cells_go_and_links_out_of_the_book_are_rewritten():
    nb = notebook(
        markdown("<!--NAVIGATION-->\n< [Prev](01_a.ipynb) | [Contents](../README.md) >"),
        markdown(
            "# Title\n\nSee [notebook 1](01_a.ipynb#the-data), [the README](../README.md), "
            "[plots](../helpers/plots.py), [`helpers/train.py`](../helpers/train.py), "
            "[a paper](https://example.org/p.pdf) and [below](#solutions).\n\n![digit](digit.png)"
        ),
    )
    prepared, _, _ = prepare(nb)
    assert len(prepared["cells"]) == 1
    text = prepared["cells"][0]["source"]
    assert "[notebook 1](01_a.ipynb#the-data)" in text
    assert "[the README](01_a.ipynb)" in text
    assert "plots (`../helpers/plots.py` in the repository)" in text
    assert "`../helpers/train.py`" in text and "](../helpers" not in text
    assert "[a paper](https://example.org/p.pdf)" in text and "[below](#solutions)" in text
    assert "![digit](digit.png)" in text


def test_reading_order_puts_the_index_first(tmp_path):
    for name in ("02_b", "00_teachers_guide", "01_a", "00_index", "notes"):
        (tmp_path / f"{name}.ipynb").write_text("{}")
    assert [p.stem for p in build_book.book_notebooks(tmp_path)] == ["00_index", "00_teachers_guide", "01_a", "02_b"]
    toc = build_book.table_of_contents(["00_index", "01_a"])
    assert "root: 00_index" in toc and "- file: 01_a" in toc


# ---------------------------------------------------------------- the built site in a browser


def skip_or_fail(message: str):
    if IN_CI:
        pytest.fail(f"CI must run the book test: {message}")
    pytest.skip(message)


def without_network() -> list:
    """A command prefix that runs the build with no network at all, where this machine allows it (root)."""
    try:
        if subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0:
            return ["unshare", "-n"]
    except OSError:
        pass
    return []


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Build the book once into a temporary folder -> (html folder, seconds, build log)."""
    if importlib.util.find_spec("jupyter_book") is None:
        skip_or_fail('the book extra is missing: pip install -c constraints.txt -e ".[book]" (or make book)')
    out = tmp_path_factory.mktemp("book")
    start = time.perf_counter()
    result = subprocess.run(
        without_network()
        + [sys.executable, str(ROOT / "scripts" / "build_book.py"), "--out", str(out), "--notebooks", str(NOTEBOOKS)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=BUILD_TIMEOUT_S,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
    )
    seconds = time.perf_counter() - start
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-5000:]
    return out / "html", seconds, log


@pytest.fixture(scope="module")
def server(site):
    """Serve the site on 127.0.0.1 -> its base URL."""
    html, _, _ = site

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(html)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        skip_or_fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)")
    if importlib.util.find_spec("playwright") is None:
        skip_or_fail('playwright is missing: pip install -c constraints.txt -e ".[test]"')
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def notebooks():
    return build_book.book_notebooks(NOTEBOOKS)


def pages():
    return [p.stem + ".html" for p in notebooks()]


class Visit:
    """One page in a fresh browser context that records console errors and every request."""

    def __init__(self, browser, url: str):
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.errors, self.outside = [], []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on(
            "requestfailed",
            lambda r: (
                self.errors.append(f"request failed: {r.url}")
                if urllib.parse.urlparse(r.url).hostname == "127.0.0.1"
                else None
            ),
        )
        self.page.goto(url, wait_until="networkidle")

    def _route(self, route):
        url = route.request.url
        if url.startswith(LOCAL_SCHEMES) or urllib.parse.urlparse(url).hostname == "127.0.0.1":
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / name
        self.page.screenshot(path=str(path), full_page=False)
        return path

    @contextlib.contextmanager
    def screenshot_on_failure(self, name: str):
        """Save what the page showed to test-artifacts/<name> if the block fails (an assertion or a timeout)."""
        try:
            yield
        except Exception:
            self.screenshot(name)
            raise

    def close(self):
        self.context.close()


@pytest.fixture
def visit(browser, server):
    opened = []

    def open_page(path: str) -> Visit:
        opened.append(Visit(browser, server + path))
        return opened[-1]

    yield open_page
    for page in opened:
        page.close()


def wait_for_math(page) -> None:
    """Wait until MathJax (when the page loads it) has typeset the page."""
    page.wait_for_function(
        "() => !document.querySelector('script[src*=mathjax]')"
        " || (window.MathJax && MathJax.startup && MathJax.startup.promise)",
        timeout=30_000,
    )
    page.evaluate("async () => { if (window.MathJax && MathJax.startup) await MathJax.startup.promise; }")


@pytest.mark.slow  # builds the whole book
def test_the_build_is_clean(site):
    html, seconds, log = site  # the build's seconds are printed by `make book`, not asserted (a busy machine is slower)
    warnings = [line for line in log.splitlines() if re.search(r"\bWARNING\b|\bERROR\b", line)]
    assert not warnings, "Sphinx warnings (broken links, heading levels, ...):\n" + "\n".join(warnings)
    assert sorted(p.name for p in html.glob("[0-9][0-9]_*.html")) == sorted(pages())
    assert (html / "_static" / "mathjax" / "tex-chtml.js").exists()


@pytest.mark.browser
@pytest.mark.parametrize("page_name", pages())
def test_every_page_reads_offline_with_its_figures_math_and_collapsed_solutions(visit, server, page_name):
    nb = json.loads((NOTEBOOKS / page_name.replace(".html", ".ipynb")).read_text())
    visit_ = visit(page_name)
    page = visit_.page
    with visit_.screenshot_on_failure(f"book-{page_name}.png"):
        wait_for_math(page)
        assert not visit_.outside, f"requests leaving 127.0.0.1: {visit_.outside}"
        assert not visit_.errors, f"console errors: {visit_.errors}"

        # every <img>: loaded and described
        images = page.eval_on_selector_all(
            "img",
            """imgs => imgs.map(i => ({src: i.getAttribute('src'),
            alt: (i.getAttribute('alt') || '').trim(), loaded: i.complete && i.naturalWidth > 0}))""",
        )
        for image in images:
            assert image["loaded"], f"image does not load: {image['src']}"
            assert image["alt"], f"image without alt text: {image['src']}"
            assert not re.search(r"\.(png|jpe?g|gif|svg)$", image["alt"]), f"alt is a file name: {image}"
        figures = sum(len(build_book.image_outputs(c)) for c in nb["cells"] if c["cell_type"] == "code")
        widgets = sum(build_book.WIDGET_VIEW in o.get("data", {}) for c in nb["cells"] for o in c.get("outputs", []))
        shown = page.locator("article .cell_output img").count()
        assert shown >= figures, f"{figures} figures in the notebook, {shown} on the page"

        # figures stay white in the dark theme
        page.evaluate("document.documentElement.dataset.theme = 'dark'")
        backgrounds = page.eval_on_selector_all(
            "article .cell_output img", "imgs => imgs.map(i => getComputedStyle(i).backgroundColor)"
        )
        assert all(b == "rgb(255, 255, 255)" for b in backgrounds), backgrounds

        # rendered LaTeX: MathJax replaced every math element of the page
        if page.locator("article .math").count():
            assert page.locator("article mjx-container").count() >= page.locator("article .math").count()
            assert page.locator("article .math:not(:has(mjx-container))").count() == 0

        # headings: one title, then no level skipped
        levels = page.eval_on_selector_all(
            "article.bd-article h1, article.bd-article h2, article.bd-article h3, "
            "article.bd-article h4, article.bd-article h5, article.bd-article h6",
            "hs => hs.map(h => Number(h.tagName[1]))",
        )
        assert levels and levels[0] == 1 and levels.count(1) == 1, levels
        skips = [(a, b) for a, b in zip(levels, levels[1:]) if b > a + 1]
        assert not skips, f"heading levels skip: {levels}"

        # solutions: as many <details> as in the notebook, all closed, each opens on a click
        expected = sum(build_book.source(c).count("<details") for c in nb["cells"] if c["cell_type"] == "markdown")
        details = page.locator("article details")
        assert details.count() == expected
        for k in range(details.count()):
            block = details.nth(k)
            assert block.get_attribute("open") is None
            assert block.locator("summary").is_visible()
            body = block.locator(":scope > :not(summary)")
            assert body.count() and not body.first.is_visible(), "a solution is shown before it is asked for"
        if expected:
            details.first.locator("summary").click()
            assert details.first.locator(":scope > :not(summary)").first.is_visible()

        # no widget text anywhere; the widget's place shows the static figure and how to run the app
        text = page.inner_text("article")
        assert not WIDGET_REPR.search(text), "raw widget repr on the page"
        if widgets:
            note = page.locator("article .cell_output", has_text="make app")
            assert note.count() == widgets
            assert note.first.locator("img").count() >= 1
            assert note.first.locator("img").first.evaluate("i => i.complete && i.naturalWidth > 0")


@pytest.fixture(scope="module")
def page_links(browser, server) -> dict:
    """Each book page (and index, search, genindex) loaded once in the browser -> {name: its links}: "url" (the
    page's own), "all" (every a.href, resolved), "sidebar" (the contents' hrefs as written), "prev" and "next"
    (the buttons' hrefs, None where there is none). The two tests below read the same loads."""
    found = {}
    for name in pages() + ["index.html", "search.html", "genindex.html"]:
        visit_ = Visit(browser, server + name)
        try:
            page = visit_.page
            buttons = {key: page.locator(f"a.{css}") for key, css in (("prev", "left-prev"), ("next", "right-next"))}
            found[name] = {
                "url": page.url,
                "all": page.eval_on_selector_all("a[href]", "as => as.map(a => a.href)"),
                # the book's title links the first page, then one entry per notebook; "#" is the page itself
                "sidebar": page.eval_on_selector_all(
                    ".bd-sidebar-primary a.navbar-brand, .bd-sidebar-primary nav a.reference.internal",
                    "as => as.map(a => a.getAttribute('href'))",
                ),
                **{key: (b.get_attribute("href") if b.count() else None) for key, b in buttons.items()},
            }
        finally:
            visit_.close()
    return found


@pytest.mark.browser
def test_contents_sidebar_and_prev_next_follow_the_notebook_order(page_links):
    order = pages()
    for k, name in enumerate(order):
        links = page_links[name]
        targets = [(h.split("#")[0] or name) for h in links["sidebar"]]
        assert [t for i, t in enumerate(targets) if t not in targets[:i]] == order, links["sidebar"]
        if k > 0:
            assert links["prev"].split("#")[0] == order[k - 1]
        else:
            assert links["prev"] is None
        if k < len(order) - 1:
            assert links["next"].split("#")[0] == order[k + 1]
        else:
            assert links["next"] is None


@pytest.mark.browser
def test_every_internal_link_resolves(page_links):
    checked, broken = set(), []
    ids = {}
    for links in page_links.values():
        page_url = links["url"]
        for href in links["all"]:
            url = urllib.parse.urlparse(href)
            if url.scheme not in ("http", "https") or url.hostname != "127.0.0.1":
                continue
            target = href.split("#")[0]
            if target not in checked:
                checked.add(target)
                try:
                    with urllib.request.urlopen(target, timeout=10) as response:
                        body = response.read()
                        if response.headers.get_content_type() == "text/html":
                            ids[target] = set(re.findall(rb'\bid="([^"]+)"', body))
                except urllib.error.HTTPError as error:
                    broken.append(f"{page_url} -> {href} ({error.code})")
                    continue
            fragment = urllib.parse.unquote(url.fragment)
            if fragment and target in ids and fragment.encode() not in ids[target]:
                broken.append(f"{page_url} -> {href} (no element with id {fragment!r})")
    assert len(checked) > len(pages())
    assert not broken, "broken internal links:\n" + "\n".join(broken)


def search_field_after_ctrl_k(page, tries: int = 5, seconds: float = 5.0):
    """Press Ctrl+K as a reader does and return the search field it shows. If none shows within ``seconds``,
    press again (the key toggles the field, so it is pressed again only when the last press showed nothing):
    once, on a machine busy with the handout's lessons, a single press showed no field for 30 s."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    field = page.locator("input[type=search]:visible").first
    for _ in range(tries):
        page.keyboard.press("Control+k")
        try:
            field.wait_for(state="visible", timeout=1000 * seconds)
            return field
        except PlaywrightTimeout:
            continue
    raise AssertionError(f"Ctrl+K showed no search field in {tries} presses, {seconds:g} s apart")


@pytest.mark.browser
def test_search_works_offline_and_finds_notebook_04(visit):
    """As a reader: Ctrl+K on the first page, type the words, Enter, read the results."""
    visit_ = visit(pages()[0])
    page = visit_.page
    with visit_.screenshot_on_failure("book-search.png"):
        field = search_field_after_ctrl_k(page)
        field.fill(SEARCH)
        field.press("Enter")
        page.wait_for_url("**/search.html?q=*", timeout=30_000)
        page.wait_for_selector("#search-results ul.search li a", timeout=30_000)
        hits = page.eval_on_selector_all("#search-results ul.search li a", "as => as.map(a => a.getAttribute('href'))")
        assert any(SEARCH_FINDS in h for h in hits), hits
        assert not visit_.outside and not visit_.errors, (visit_.outside, visit_.errors)


@pytest.mark.browser
def test_search_snippets_show_math_as_text_not_latex(visit, server):
    """A result's snippet is cut from the page's HTML, where math is still LaTeX source until MathJax runs."""
    visit_ = visit(f"search.html?q={urllib.parse.quote(SEARCH_MATH)}")
    page = visit_.page
    with visit_.screenshot_on_failure("book-search-math.png"):
        page.wait_for_function(
            f"""() => [...document.querySelectorAll('#search-results ul.search li')]
            .some(li => li.querySelector('a').getAttribute('href').includes('{SEARCH_MATH_FINDS}')
                        && li.querySelector('p.context'))""",
            timeout=30_000,
        )
        snippets = page.eval_on_selector_all(
            "#search-results ul.search li",
            "lis => lis.map(li => [li.querySelector('a').getAttribute('href'), li.querySelector('p.context')?.textContent || ''])",
        )
        snippet = next(text for href, text in snippets if SEARCH_MATH_FINDS in href and text)
        assert "N × 784" in snippet, snippet  # the math, as text
        assert not [text for _, text in snippets if re.search(r"\\[()\[\]]|\\[A-Za-z]+", text)], snippets
        assert not visit_.outside and not visit_.errors, (visit_.outside, visit_.errors)


@pytest.mark.browser
def test_search_opened_as_files_says_why_it_lists_titles_only(browser, site, visit):
    """From file:// the browser blocks the fetches snippets need (CORS): the search page says so, and how to serve."""
    html, _, _ = site
    opened = Visit(browser, (Path(html) / "search.html").resolve().as_uri() + "?q=" + urllib.parse.quote(SEARCH))
    try:
        note = opened.page.locator("#file-search-note")
        note.wait_for(timeout=30_000)
        assert "titles" in note.text_content() and "python -m http.server" in note.text_content()
    finally:
        opened.close()
    served = visit(f"search.html?q={urllib.parse.quote(SEARCH)}").page
    served.wait_for_selector("#search-results ul.search li a", timeout=30_000)
    assert served.locator("#file-search-note").count() == 0  # served over http, the snippets are there


@pytest.mark.browser
def test_code_and_printed_output_wrap_on_a_projector(browser, server):
    """At 1024x700 no code block or printed output of any page hides text behind a sideways scroll bar."""
    context = browser.new_context(viewport={"width": 1024, "height": 700})
    clipped = {}
    try:
        page = context.new_page()
        for name in pages():
            page.goto(server + name, wait_until="networkidle")
            wide = page.evaluate("""() => [...document.querySelectorAll('main pre')]
                .filter(pre => pre.scrollWidth > pre.clientWidth + 1)
                .map(pre => pre.textContent.trim().slice(0, 60))""")
            if wide:
                clipped[name] = wide
    finally:
        context.close()
    assert not clipped, clipped


@pytest.mark.browser
def test_the_explorer_page_shows_what_the_explorer_shows(visit):
    """Page 06 has no sliders: in the widget's place, how to run it live and the explorer's view from its grid."""
    visit_ = visit("06_explorer.html")
    page = visit_.page
    with visit_.screenshot_on_failure("book-explorer-page.png"):
        text = page.inner_text("main")
        assert "A static page has no sliders" in text and "make app" in text
        assert "Learning-rate explorer (interactive widgets)" not in text
        note = page.locator("main p", has_text="A static page has no sliders").first
        image = page.locator("main img[alt^='What the explorer shows at its start']")
        assert image.count() == 1  # once: its own cell says it was shown above
        assert image.first.evaluate("img => img.naturalWidth") > 500
        note_y, image_y = note.bounding_box()["y"], image.first.bounding_box()["y"]
        assert 0 < image_y - note_y < 200, (note_y, image_y)  # right under the line, where the widget was
        assert "this figure is shown above, in the explorer" in text  # (smart quotes change the apostrophe)
