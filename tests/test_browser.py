"""The explorer in a real browser: JupyterLab and Voila, driven through headless Chromium.

Each test starts its own server on 127.0.0.1 with a token, from an isolated
Jupyter config/runtime/settings directory (so nothing installed on the
machine interferes) and a copy of the notebook in a temporary root (so
autosave and checkpoints never touch the repository). It runs notebook 06
in JupyterLab up to its last explorer cell (the explorer, the grid it
waits for, a figure of that grid), or opens the app page (app/explorer.ipynb) in Voila, waits
until the learning-rate grid is trained, then drags the learning-rate
slider with the mouse and checks that the marker of the accuracy-vs-lr plot
moves while the mouse button is still down (the slider answers live), and
that the accuracy text and the curve image change. Another test opens
notebooks 01-08 as stored (nothing runs) at 1024 x 700 with the file browser
open and checks that every figure's smallest text is at least
plots.MIN_TEXT_PX high on the screen; another opens every notebook and the
app, lets their kernels start and saves them: the files must not change.
Notebooks opened together share one page (a workspace listing them, one tab
each). On failure a screenshot goes to test-artifacts/.

Run:  pytest -m browser tests/test_browser.py
Needs /usr/bin/chromium (Debian's); never `playwright install`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "06_explorer.ipynb"
APP = ROOT / "app" / "explorer.ipynb"
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
ACCURACY = re.compile(r"test accuracy (\d+\.\d\d)%")
SERVER_START_S = 90  # cold start of a Jupyter server on a busy 2-core machine
RUN_S = 120  # a notebook's cells up to the explorer and its first answer, on a busy machine
CHANGE_S = 60  # one slider change: a top-layer-only retrain of a second or two
GRID_S = 180  # the grid: 51 learning rates in one stacked pass, while the notebook may still run


@pytest.fixture(scope="module")
def chromium():
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"CI must have the browser: {message}")
        pytest.skip(message)
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def isolated_env(tmp: Path) -> dict:
    """Environment for a server that sees no user or machine Jupyter configuration."""
    dirs = {name: tmp / name for name in ("config", "data", "runtime", "settings", "workspaces", "ipython")}
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    # JupyterLab settings: no autosave, no news or update checks, every cell rendered (no windowing)
    for plugin, settings in {
        "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
        "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
        "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    }.items():
        path = dirs["settings"] / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(settings))
    return {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(dirs["config"]),
        "JUPYTER_DATA_DIR": str(dirs["data"]),
        "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
        "JUPYTERLAB_SETTINGS_DIR": str(dirs["settings"]),
        "JUPYTERLAB_WORKSPACES_DIR": str(dirs["workspaces"]),
        "IPYTHONDIR": str(dirs["ipython"]),
        "JUPYTER_PLATFORM_DIRS": "1",
        "PYTHONWARNINGS": "ignore::DeprecationWarning",
    }


def serve(command: list, tmp: Path, port: int, ready_path: str):
    """Start a server in its own process group; return the Popen once ``ready_path`` answers.

    ``process.launched`` is the monotonic time of the launch.
    """
    log = open(tmp / "server.log", "wb")
    launched = time.monotonic()
    process = subprocess.Popen(
        command, cwd=tmp / "root", env=isolated_env(tmp), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{ready_path}", timeout=5):
                process.launched = launched
                return process
        except urllib.error.HTTPError:  # any HTTP answer: the server is up
            process.launched = launched
            return process
        except OSError:
            time.sleep(0.5)
    stop(process)
    pytest.fail(f"server did not start within {SERVER_START_S} s:\n{(tmp / 'server.log').read_text()[-3000:]}")


def stop(process) -> None:
    """End the server and its kernels: the process group this test started, by its id.

    A server ends within a second of SIGTERM, except one whose kernel was just restarted: that one waited out
    the whole grace period, so the group gets SIGKILL after 5 s (the test has ended; nothing is left to save)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.fixture
def workdir(tmp_path):
    """A temporary root holding a copy of the notebook: the repository stays untouched."""
    (tmp_path / "root").mkdir()
    shutil.copy(NOTEBOOK, tmp_path / "root" / NOTEBOOK.name)
    shutil.copy(APP, tmp_path / "root" / APP.name)
    return tmp_path


@pytest.fixture
def lab(workdir):
    port, token = free_port(), secrets.token_hex(16)
    process = serve(
        [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={port}",
            f"--IdentityProvider.token={token}",
            "--allow-root",
            f"--ServerApp.root_dir={workdir / 'root'}",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--ServerApp.port_retries=0",
        ],
        workdir,
        port,
        f"/api/status?token={token}",
    )
    yield f"http://127.0.0.1:{port}/lab/tree/{NOTEBOOK.name}?token={token}"
    stop(process)


@pytest.fixture
def voila(workdir):
    port, token = free_port(), secrets.token_hex(16)
    process = serve(
        [
            sys.executable,
            "-m",
            "voila",
            APP.name,
            "--no-browser",
            f"--port={port}",
            "--Voila.ip=127.0.0.1",
            f"--token={token}",
            "--Voila.port_retries=0",
            "--preheat_kernel=True",
        ],  # as `make app` does
        workdir,
        port,
        "/favicon.ico",
    )  # not the notebook's page: that would execute the notebook
    yield f"http://127.0.0.1:{port}/?token={token}", process.launched
    stop(process)


@pytest.fixture
def page(chromium, request):
    context = chromium.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(CHANGE_S * 1000)
    yield page
    if os.environ.get("BROWSER_SCREENSHOTS"):  # a directory: keep a picture of a passing run too
        page.screenshot(path=os.path.join(os.environ["BROWSER_SCREENSHOTS"], f"{request.node.name}.png"))
    context.close()


@contextlib.contextmanager
def screenshot_on_failure(page, name: str):
    """Save what the browser showed to test-artifacts/<name>.png if the block fails."""
    try:
        yield
    except BaseException:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        raise


def explorer_state(page) -> tuple:
    """(status text, curve image src) of the explorer on the page."""
    return page.locator(".explorer-status").inner_text(), page.locator("img.explorer-curves").get_attribute("src")


def wait_for_result(page, timeout_s: float, different_from: str | None = None) -> str:
    """Wait until the status shows a finished run's accuracy (another one than ``different_from``)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = page.locator(".explorer-status").first
        if status.count() and ACCURACY.search(text := status.inner_text()) and text != different_from:
            return text
        time.sleep(0.25)
    shown = page.locator(".explorer-status").all_inner_texts()
    raise AssertionError(f"no new accuracy shown within {timeout_s} s; status: {shown}")


def marker_x(page) -> float:
    """Where the accuracy-vs-lr plot's marker is (its SVG x coordinate)."""
    return float(page.locator(".explorer-landscape .explorer-marker").get_attribute("cx"))


def wait_for_grid(page, timeout_s: float) -> None:
    """Wait until the accuracy-vs-lr curve is drawn: every slider value is trained and the slider answers live."""
    page.locator(".explorer-landscape polyline").first.wait_for(timeout=timeout_s * 1000)


def wait_for_change(read, before, timeout_s: float):
    deadline = time.monotonic() + timeout_s
    while (value := read()) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    return value


def check_dragging_the_slider_moves_curves_and_marker(page) -> None:
    before_text, before_src = explorer_state(page)
    readout_before = page.locator(".explorer-lr .widget-readout").inner_text()
    x_before = marker_x(page)
    handle = page.locator(".explorer-lr .noUi-handle")
    handle.scroll_into_view_if_needed()
    box = handle.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 25, y, steps=5)
    # the button is still down: a live slider has already answered
    x_during = wait_for_change(lambda: marker_x(page), x_before, 10)
    assert x_during > x_before, "the accuracy-vs-lr marker did not move while the slider was dragged"
    page.mouse.move(x + 55, y, steps=5)  # about one decade: lr 1e-3 -> about 1e-2
    page.mouse.up()
    page.locator(".explorer:not(.explorer-busy)").wait_for(timeout=CHANGE_S * 1000)
    wait_for_result(page, CHANGE_S, different_from=before_text)
    readout_after = page.locator(".explorer-lr .widget-readout").inner_text()
    assert readout_after != readout_before, "the learning-rate readout did not move"

    def shows_the_released_value():
        # a value answered during the drag may still be on screen: the one under the released handle must follow
        status, legend = page.locator(".explorer-status").inner_text(), page.locator(".explorer-legend").inner_text()
        return readout_after in status or f"shown: lr {readout_after}," in legend

    assert wait_for_change(shows_the_released_value, False, CHANGE_S), (
        f"lr {readout_after} under the released handle was never shown: {explorer_state(page)[0]}"
    )
    after_text, after_src = explorer_state(page)
    assert "from the grid" in after_text, after_text
    assert marker_x(page) > x_during
    before_acc, after_acc = (float(ACCURACY.search(t).group(1)) for t in (before_text, after_text))
    # 1e-3 -> about 1e-2: the accuracy after 10,000 steps rises from about 48% to about 75%
    assert after_acc > before_acc + 10, (before_text, after_text)
    assert after_src and after_src != before_src, "the curve image was not redrawn"


# the last cell of notebook 06 that the browser test runs: the explorer, the kernel waiting for its grid
# (`explorer.wait_for_grid()` while a live page talks to the widget) and a figure drawn from that grid. The
# cells below only train and print (nbval checks them, twice): in the browser they would add half a minute.
LAST_EXPLORER_CELL = "explorer_view_figure(grid"


def write_explorer_lesson(root: Path) -> None:
    """Notebook 06 as the class opens it, cut after its last explorer cell (LAST_EXPLORER_CELL), into ``root``."""
    notebook = json.loads(NOTEBOOK.read_text())
    last = next(
        i
        for i, cell in enumerate(notebook["cells"])
        if cell["cell_type"] == "code" and LAST_EXPLORER_CELL in "".join(cell["source"])
    )
    notebook["cells"] = notebook["cells"][: last + 1]
    (root / NOTEBOOK.name).write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")


def test_explorer_in_jupyterlab(workdir, lab, page):
    write_explorer_lesson(workdir / "root")
    with screenshot_on_failure(page, "explorer_in_jupyterlab"):
        run_in_jupyterlab(page, lab)


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def run_in_jupyterlab(page, lab):
    for attempt in (1, 2):  # one retry: the first kernel start on a cold machine can be slow
        open_and_run(page, lab)
        log("run all cells")
        try:
            wait_for_result(page, RUN_S)
            break
        except AssertionError:
            log("no result: retrying; the outputs were:")
            log(page.locator(".jp-OutputArea-output").all_inner_texts()[:8])
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "explorer_in_jupyterlab-first-attempt.png"), full_page=True)
            if attempt == 2:
                raise
    log("explorer shown")
    # the explorer cell is executed before the computed examples below it; let the notebook finish
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(timeout=RUN_S * 1000)
    log("notebook finished")
    wait_for_grid(page, GRID_S)
    log("grid ready")
    check_dragging_the_slider_moves_curves_and_marker(page)
    log("slider checked")


def test_explorer_in_voila(voila, page):
    with screenshot_on_failure(page, "explorer_in_voila"):
        run_in_voila(page, voila)


def run_in_voila(page, voila):
    url, launched = voila
    for attempt in (1, 2):  # one retry for a cold start, as above
        try:
            opened = time.monotonic()
            page.goto(url, timeout=RUN_S * 1000)  # the pre-heated kernel has run the page, or is running it
            wait_for_result(page, RUN_S)
            ready_s, since_launch_s = time.monotonic() - opened, time.monotonic() - launched
            break
        except Exception:
            if attempt == 2:
                raise
    # logged, not asserted: a loaded machine is slower, not wrong (benchmarks/bench_explorer.py measures it)
    log(f"app ready {ready_s:.1f} s after opening the page, {since_launch_s:.1f} s after starting the server")
    wait_for_grid(page, GRID_S)
    log("grid ready")
    check_dragging_the_slider_moves_curves_and_marker(page)


# ---------------------------------------------------------------- a projector: 1024 x 700 and 1280 x 800

PROJECTOR_SIZES = ((1024, 700), (1280, 800))
# every control and both figures: what a class must see together, without scrolling inside the widget
EXPLORER_PARTS = (
    ".explorer-lr",
    ".explorer-hidden",
    ".explorer-steps",
    ".explorer-batch",
    ".explorer-rule",
    ".explorer-init",
    ".explorer-optimizer",
    ".explorer-seed",
    ".explorer-stop",
    ".explorer-again",
    ".explorer-reset",
    ".explorer-status",
    ".explorer-legend",
    "img.explorer-curves",
    ".explorer-landscape",
)
LAYOUT_NOTEBOOK = "projector.ipynb"  # one cell, the explorer on short runs: the layout does not depend on them


def write_layout_notebook(root: Path) -> None:
    source = [
        "from helpers.explorer import Explorer\n",
        "from helpers.train import TrainConfig\n",
        "explorer = Explorer(config=TrainConfig(steps=2000))\n",
        "explorer.widget",
    ]
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": "explorer",
                "metadata": {},
                "outputs": [],
                "source": source,
            }
        ],
        "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (root / LAYOUT_NOTEBOOK).write_text(json.dumps(notebook))


def parts_outside(page, frame_selector: str | None = None) -> list:
    """The explorer's parts (EXPLORER_PARTS) not wholly inside the viewport, nor inside ``frame_selector``'s
    box (JupyterLab's notebook panel: what is not behind its toolbars), as (part, box) pairs; also a button
    whose label does not fit (the stop button once shrank to its icon)."""
    size = page.viewport_size
    frames = [{"x": 0, "y": 0, "width": size["width"], "height": size["height"]}]
    if frame_selector:
        frames.append(page.locator(frame_selector).first.bounding_box())
    bad = []
    for part in EXPLORER_PARTS:
        box = page.locator(f".explorer {part}").first.bounding_box()
        if box is None or box["width"] == 0 or box["height"] == 0:
            bad.append((part, "not shown"))
            continue
        for frame in frames:
            if (
                box["x"] < frame["x"] - 0.5
                or box["y"] < frame["y"] - 0.5
                or box["x"] + box["width"] > frame["x"] + frame["width"] + 0.5
                or box["y"] + box["height"] > frame["y"] + frame["height"] + 0.5
            ):
                bad.append((part, box, frame))
                break
    for button in (".explorer-stop", ".explorer-again", ".explorer-reset"):
        clipped = page.locator(f".explorer {button}").first.evaluate("b => b.scrollWidth > b.clientWidth + 1")
        if clipped:
            bad.append((button, "label cut off"))
    # no scrollbar inside the widget or its output area
    inner = page.locator(".explorer").first.evaluate(
        "e => [e.scrollHeight > e.clientHeight + 1, e.scrollWidth > e.clientWidth + 1]"
    )
    if any(inner):
        bad.append((".explorer", f"scrolls inside: {inner}"))
    return bad


def show_explorer_top(page) -> None:
    """Scroll the page (or the notebook) so the explorer's top edge is at the top of what is visible."""
    page.locator(".explorer").first.evaluate("e => e.scrollIntoView({block: 'start'})")
    time.sleep(0.5)


def set_file_browser(page, shown: bool) -> None:
    if page.locator("#filebrowser").first.is_visible() != shown:
        page.locator(".jp-SideBar [data-id='filebrowser']").first.click()
        page.wait_for_function(
            f"() => !!document.querySelector('#filebrowser')?.checkVisibility() === {str(shown).lower()}"
        )
        time.sleep(0.5)  # the notebook panel takes the new width


def choose_kernel_if_asked(page) -> bool:
    """Click "Select" in JupyterLab's "Select Kernel" dialog (it asks when a kernel start is slow); True if it was up."""
    select = page.locator(".jp-Dialog button", has_text="Select")
    if not select.count():
        return False
    select.first.click()
    return True


def open_and_run(page, url: str) -> None:
    """Open a notebook in JupyterLab, start its kernel (choosing it if JupyterLab asks) and run every cell.

    Run All waits until the server and the page both show the kernel idle: a click that lands while the
    kernel still connects is lost (seen on a busy machine, with the page's indicator already idle)."""
    name = urllib.parse.unquote(re.search(r"/lab/tree/([^?]+)", url).group(1))
    page.goto(url, timeout=SERVER_START_S * 1000)
    page.locator(".jp-Notebook").first.wait_for(timeout=SERVER_START_S * 1000)
    wait_until_every_kernel_is_idle(page, url, [name])
    for attempt in range(3):  # a click that lands while the kernel still connects is lost: try again
        choose_kernel_if_asked(page)  # the dialog can come up after the status already read idle: it blocks the menu
        menu_command(page, "Run", r"^Run All Cells")
        try:
            page.locator(".jp-InputArea-prompt", has_text=re.compile(r"\[(\*|\d+)\]")).first.wait_for(timeout=20000)
            return
        except Exception:  # noqa: BLE001 - playwright's TimeoutError: not started yet
            log(f"Run All did not start (attempt {attempt + 1})")


def lab_url(lab_fixture_url: str, name: str) -> str:
    return lab_fixture_url.replace(f"/lab/tree/{NOTEBOOK.name}?", f"/lab/tree/{name}?")


def test_explorer_fits_a_projector_in_jupyterlab(workdir, lab, chromium):
    write_layout_notebook(workdir / "root")
    context = chromium.new_context(viewport={"width": 1024, "height": 700})
    page = context.new_page()
    page.set_default_timeout(CHANGE_S * 1000)
    try:
        with screenshot_on_failure(page, "explorer_projector_jupyterlab"):
            open_and_run(page, lab_url(lab, LAYOUT_NOTEBOOK))
            wait_for_result(page, RUN_S)
            wait_for_grid(page, GRID_S)
            for width, height in PROJECTOR_SIZES:
                page.set_viewport_size({"width": width, "height": height})
                for browser_shown in (True, False):
                    set_file_browser(page, browser_shown)
                    show_explorer_top(page)
                    bad = parts_outside(page, ".jp-NotebookPanel-notebook")
                    assert not bad, f"{width}x{height}, file browser {'open' if browser_shown else 'closed'}: {bad}"
            # Restart the kernel: the old explorer must not look live (ipywidgets marks its views disconnected)
            assert not page.locator(".explorer-stale").first.is_visible()
            menu_command(page, "Kernel", r"^Restart Kernel")
            page.locator(".jp-Dialog button", has_text="Restart").click()
            page.locator(".explorer-stale").first.wait_for(state="visible", timeout=RUN_S * 1000)
            assert "re-run this cell" in page.locator(".explorer-stale").first.inner_text().lower()
    finally:
        context.close()


def test_explorer_app_fits_a_projector_in_voila(voila, chromium):
    url, _ = voila
    context = chromium.new_context(viewport={"width": 1024, "height": 700})
    page = context.new_page()
    page.set_default_timeout(CHANGE_S * 1000)
    try:
        with screenshot_on_failure(page, "explorer_projector_voila"):
            page.goto(url, timeout=RUN_S * 1000)
            wait_for_result(page, RUN_S)
            wait_for_grid(page, GRID_S)
            for width, height in PROJECTOR_SIZES:
                page.set_viewport_size({"width": width, "height": height})
                time.sleep(0.5)
                page.evaluate("window.scrollTo(0, 0)")  # the app as it opens: title, then the explorer
                bad = parts_outside(page)
                assert not bad, f"{width}x{height}: {bad}"
    finally:
        context.close()


# ---------------------------------------------------------------- opening and saving changes nothing

SAVED_NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb")) + [APP]


def server_and_token(lab_fixture_url: str) -> tuple:
    """(the server's base url, its token) from a JupyterLab page url such as the ``lab`` fixture's."""
    return lab_fixture_url.split("/lab/")[0], re.search(r"token=(\w+)", lab_fixture_url).group(1)


def server_sessions(lab_fixture_url: str) -> tuple:
    """(base url, token, the server's kernel sessions) of the server behind ``lab_fixture_url``."""
    base, token = server_and_token(lab_fixture_url)
    with urllib.request.urlopen(f"{base}/api/sessions?token={token}", timeout=30) as answer:
        return base, token, json.loads(answer.read())


def kernel_idle(lab_fixture_url: str, name: str) -> bool:
    """True once the server has a session for the notebook ``name`` whose kernel has started and is idle."""
    sessions = server_sessions(lab_fixture_url)[2]
    return any(s["path"].endswith(name) and s["kernel"]["execution_state"] == "idle" for s in sessions)


def shut_down_sessions(lab_fixture_url: str) -> None:
    """Close every kernel session of the server behind ``lab_fixture_url`` (what closing a tab leaves running)."""
    base, token, sessions = server_sessions(lab_fixture_url)
    for session in sessions:
        request = urllib.request.Request(f"{base}/api/sessions/{session['id']}?token={token}", method="DELETE")
        urllib.request.urlopen(request, timeout=30).close()


def menu_command(page, menu: str, item: str, timeout_s: float = CHANGE_S) -> None:
    """Click ``menu`` > the item whose name matches the regex ``item``, on the current document.

    Lumino draws a menu item's enabled state when the menu opens, so an item disabled at that moment (the document
    still loading, or not yet the current widget on a busy machine) stays disabled until the menu is reopened.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current").first.click()  # the document is current
        page.locator(".lm-MenuBar-item", has_text=menu).first.click()
        entry = page.get_by_role("menuitem", name=re.compile(item)).first
        entry.wait_for(state="visible")
        if entry.get_attribute("aria-disabled") != "true":
            entry.click()
            return
        page.keyboard.press("Escape")
        assert time.monotonic() < deadline, f"{menu} > {item} stayed disabled for {timeout_s} s on {page.title()!r}"
        log(f"{menu} > {item} disabled on {page.title()!r}; reopening the menu")
        time.sleep(1)


def open_together(page, lab_fixture_url: str, names: list) -> None:
    """Open the notebooks ``names`` (in the server's root) in one JupyterLab page, one tab each.

    A workspace that lists them is stored through the server's workspaces API and the page opens it: one page
    load, and the notebooks' kernels start side by side instead of one after another.
    """
    base, token = server_and_token(lab_fixture_url)
    ids = [f"notebook:{name}" for name in names]
    workspace = {
        "data": {
            "layout-restorer:data": {"main": {"dock": {"type": "tab-area", "currentIndex": 0, "widgets": ids}}},
            **{i: {"data": {"path": name, "factory": "Notebook"}} for i, name in zip(ids, names)},
        },
        "metadata": {"id": "together"},
    }
    request = urllib.request.Request(
        f"{base}/lab/api/workspaces/together?token={token}",
        data=json.dumps(workspace).encode(),
        method="PUT",
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=30).close()
    page.goto(f"{base}/lab/workspaces/together?token={token}", timeout=SERVER_START_S * 1000)
    page.locator(".jp-NotebookPanel .jp-Notebook").first.wait_for(timeout=SERVER_START_S * 1000)


def wait_until_every_kernel_is_idle(page, lab_fixture_url: str, names: list) -> None:
    """Wait until the server has started the kernel of every notebook in ``names`` and each tab's toolbar
    (hidden tabs too) shows it idle: what JupyterLab does on open (the kernel's language_info lands in the
    metadata) has then happened before a save, and a Run All is not lost to a kernel still connecting."""
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        choose_kernel_if_asked(page)
        shown = page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").count()  # one per tab
        waiting = [name for name in names if not kernel_idle(lab_fixture_url, name)]
        if shown == len(names) and not waiting:
            time.sleep(1)  # the kernels' info replies, which each tab asks for as it connects
            return
        time.sleep(0.25)
    raise AssertionError(
        f"not idle within {SERVER_START_S} s: the kernels of {waiting} on the server; {shown} of {len(names)} tabs"
    )


def save_all_in_jupyterlab(page, paths: list) -> None:
    """File > Save All on the open page, until every file in ``paths`` has been written."""
    before = {path: path.stat().st_mtime_ns for path in paths}
    unsaved = list(paths)
    deadline = time.monotonic() + SERVER_START_S
    # a menu click that lands while the page is busy (a large notebook renders) is lost: click again
    while unsaved and time.monotonic() < deadline:
        menu_command(page, "File", r"^Save All", timeout_s=max(deadline - time.monotonic(), 1))
        waited = time.monotonic() + CHANGE_S / 3
        while unsaved and time.monotonic() < min(waited, deadline):
            if page.locator(".jp-Dialog .jp-mod-accept").count():  # e.g. "the file changed on disk": save it
                log(f"dialog while saving: {page.locator('.jp-Dialog').first.inner_text()[:200]}")
                page.locator(".jp-Dialog .jp-mod-accept").first.click()
            time.sleep(0.2)
            unsaved = [path for path in paths if path.stat().st_mtime_ns == before[path]]
    assert not unsaved, f"not saved within {SERVER_START_S} s: {[path.name for path in unsaved]}"
    time.sleep(0.5)


def test_opening_and_saving_leaves_every_notebook_unchanged(workdir, lab, page):
    """Every notebook (and the app) opened in JupyterLab, its kernel started, then saved: the bytes are the
    stored ones (JupyterLab rewrites what it does not keep as stored: metadata, the JSON's layout)."""
    import difflib

    copies = [workdir / "root" / source.name for source in SAVED_NOTEBOOKS]
    for source, copy in zip(SAVED_NOTEBOOKS, copies):
        shutil.copy(source, copy)
    names = [copy.name for copy in copies]
    with screenshot_on_failure(page, "save_every_notebook"):
        open_together(page, lab, names)
        wait_until_every_kernel_is_idle(page, lab, names)
        save_all_in_jupyterlab(page, copies)
    shut_down_sessions(lab)
    changed = {}
    for source, copy in zip(SAVED_NOTEBOOKS, copies):
        if copy.read_bytes() != source.read_bytes():
            diff = difflib.unified_diff(
                source.read_text().splitlines(), copy.read_text().splitlines(), lineterm="", n=1
            )
            changed[source.name] = "\n".join(list(diff)[:30])
    assert not changed, "\n\n".join(f"{name}:\n{diff}" for name, diff in changed.items())


# ---------------------------------------------------------------- figure text on a projector

FIGURE_NOTEBOOKS = (
    "01_data.ipynb",
    "02_initialization.ipynb",
    "03_forward_pass.ipynb",
    "04_backward_pass.ipynb",
    "05_training_top_layer.ipynb",
    "06_explorer.ipynb",
    "07_baselines.ipynb",
    "08_learning_rules.ipynb",
)
# Stored figures whose smallest text this test measured below plots.MIN_TEXT_PX (592 px output area), as
# (notebook, helper): a fix needs the notebook re-executed. The test fails when one of them is fixed (then remove
# it here) as well as when another figure falls below. Empty since the helpers were resized (issue 23; what the
# notebooks' calls now draw is checked without a browser in tests/test_plots_projector.py).
TOO_SMALL_AS_STORED: set = set()


def shown_images(page) -> list:
    """[(cell index, natural width, shown width)] of every image in the open notebook's outputs, with the number
    of cells JupyterLab drew (windowing is off: every cell is in the page)."""
    return page.evaluate("""() => {
        const cells = [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')];
        const images = cells.flatMap((cell, i) => [...cell.querySelectorAll('.jp-OutputArea-output img')].map(
            img => [i, img.naturalWidth, img.getBoundingClientRect().width]));
        return [cells.length, images];
    }""")


def test_figure_text_is_readable_on_a_projector_in_jupyterlab(workdir, lab, chromium):
    """Every stored figure of notebooks 01-08 as JupyterLab shows it at 1024 x 700 with the file
    browser open: its smallest text, in screen pixels, is at least plots.MIN_TEXT_PX.

    The screen size of a text = its size in points (the helper's, tests/figure_text.py) x the PNG's dpi / 72 x the
    scale JupyterLab shows the PNG at (the <img>'s width on the page / its natural width: a PNG wider than the
    output area is shrunk to fit)."""
    from figure_text import stored_figures

    from helpers import plots

    figures = {}
    for name in FIGURE_NOTEBOOKS:
        shutil.copy(ROOT / "notebooks" / name, workdir / "root" / name)
        figures[name] = stored_figures(ROOT / "notebooks" / name, ROOT)
        assert figures[name], f"{name}: no stored figure found"
    context = chromium.new_context(viewport={"width": 1024, "height": 700})
    page = context.new_page()
    page.set_default_timeout(CHANGE_S * 1000)
    measured, mismatched = [], []
    try:
        with screenshot_on_failure(page, "figure_text_open"):
            open_together(page, lab, list(FIGURE_NOTEBOOKS))  # one tab each; their kernels start, nothing runs
            set_file_browser(page, True)
        for name in FIGURE_NOTEBOOKS:
            with screenshot_on_failure(page, f"figure_text_{Path(name).stem}"):
                page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text=name).first.click()
                page.wait_for_function(f"document.title.startsWith({name[:12]!r})")
                # every cell drawn (a large notebook renders for a while), then every image decoded
                cells = len(json.loads((ROOT / "notebooks" / name).read_text())["cells"])
                page.wait_for_function(
                    f"() => document.querySelectorAll("
                    f"'.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell').length === {cells}"
                )
                page.wait_for_function(
                    "() => [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) "
                    ".jp-OutputArea-output img')].every(img => img.complete && img.naturalWidth > 0)"
                )
                cell_count, images = shown_images(page)
            stored = figures[name]
            assert cell_count == cells, f"{name}: JupyterLab drew {cell_count} cells of {cells}"
            assert [(i, w) for i, w, _ in images] == [(f.cell, f.png_width) for f in stored], (
                f"{name}: the page's images (cell, natural width) {[(i, w) for i, w, _ in images]} are not the "
                f"stored PNGs {[(f.cell, f.png_width) for f in stored]}"
            )
            for figure, (_, natural, shown) in zip(stored, images):
                scale = shown / natural
                text_px = figure.smallest_pt * figure.png_dpi / 72 * scale
                measured.append((figure, shown, text_px))
                log(
                    f"{figure.name}: {natural} px shown {shown:.0f} px (x {scale:.3f}); smallest text "
                    f"{figure.smallest_pt:g} pt {figure.smallest_text!r}: {text_px:.1f} px"
                )
                # the census drew the stored figure's helper: its PNG must be about as wide as the stored one
                if abs(figure.redrawn_width - figure.png_width) > 0.1 * figure.png_width:
                    mismatched.append((figure.name, figure.png_width, figure.redrawn_width))
    finally:
        context.close()
        shut_down_sessions(lab)
    too_small = {
        (figure.notebook, figure.helper): f"{figure.name}: {figure.smallest_pt:g} pt {figure.smallest_text!r} "
        f"is {text_px:.1f} px on screen ({figure.png_width} px PNG shown {shown:.0f} px wide)"
        for figure, shown, text_px in measured
        if text_px < plots.MIN_TEXT_PX
    }
    new = [too_small[key] for key in too_small if key not in TOO_SMALL_AS_STORED]
    assert not new, f"text below {plots.MIN_TEXT_PX:g} px at 1024 px, file browser open:\n" + "\n".join(new)
    fixed = TOO_SMALL_AS_STORED - set(too_small)
    assert not fixed, f"readable now: remove from TOO_SMALL_AS_STORED: {sorted(fixed)}"
    assert not mismatched, f"stored PNG width vs the helper's figure now (stale output?): {mismatched}"
