"""Build the notebooks into a static HTML book (Jupyter Book 1), from their stored outputs.

    python scripts/build_book.py            # -> _build/book/html/index.html
    python scripts/build_book.py --out DIR  # -> DIR/html/index.html
    python scripts/build_book.py --notebooks DIR  # the book of another folder's notebooks

Nothing is executed: the outputs in notebooks/ are the ones nbval checks. The book is
built from copies of notebooks/[0-9][0-9]_*.ipynb (sorted; 00_index first when it
exists) prepared for a page that has no kernel:

- figures: each figure's <img alt> is the cell metadata "alt_text" (a string, or a list
  with one string per figure of the cell); a figure without it gets a fallback that
  names its notebook and section, and the build lists those figures;
- widgets cannot run in a static page: a widget's view is dropped, and its text repr
  (e.g. "VBox(children=...)") is replaced. Where the notebook has a static figure of the
  same thing (the learning-rate sweep in the explorer notebook) that figure is shown in
  its place, with one line on how to run the live app (`make app`): the cell tagged
  "widget-stand-in" (the explorer's view drawn from its grid), else a figure about the
  learning rate; the stand-in's own output then says it was shown above;
- the hand-written navigation cells (<!--NAVIGATION-->) are dropped: the book has its
  own contents sidebar and previous/next links;
- links to files outside the book (../README.md, ../helpers/...) would be dead in the
  site: README links point to the book's first page, the others become plain text.

The Jupyter Book configuration lives in book/ (_config.yml, _static/); the table of
contents is generated here, so a new notebook needs no change to the book.
"""

from __future__ import annotations

import argparse
import binascii
import copy
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
CONFIG = ROOT / "book"
DEFAULT_OUT = ROOT / "_build" / "book"

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/svg+xml")
NAVIGATION_MARK = "<!--NAVIGATION-->"
LIVE_APP_LINE = (
    "*A static page has no sliders. To use the explorer live, run `make app` in the repository (or open "
    "this notebook in JupyterLab, `make lab`). Here, what it shows at its start, drawn from its grid:*"
)
STAND_IN_TAG = "widget-stand-in"  # the cell whose figure takes a widget's place on the page
STAND_IN_MOVED = "*(this figure is shown above, in the explorer's place)*"
# the text/plain an explorer's view stores (helpers.explorer.controls.READABLE): a notebook executed for
# nbval keeps only it, without the widget view, and it stands for the widget all the same
WIDGET_REPR_PREFIX = "Learning-rate explorer (interactive widgets)"
WIDGET_TEXT = "(an interactive widget: run this notebook in JupyterLab, `make lab`, to use it)"
ALT_TEXTS = "_alt_texts.json"
MARKDOWN_LINK = re.compile(r"(?<!!)\[([^\]\n]*)\]\(([^)\s]+)\)")


def book_notebooks(notebooks_dir: Path = NOTEBOOKS) -> list:
    """The notebooks of the book in reading order: 00_index first, then by name."""
    paths = sorted(notebooks_dir.glob("[0-9][0-9]_*.ipynb"))
    index = [p for p in paths if p.stem == "00_index"]
    return index + [p for p in paths if p.stem != "00_index"]


def source(cell) -> str:
    text = cell.get("source", "")
    return "".join(text) if isinstance(text, list) else text


def notebook_title(nb, fallback: str) -> str:
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            match = re.search(r"^#\s+(.+)$", source(cell), re.M)
            if match:
                return match.group(1).strip()
    return fallback


def image_outputs(cell) -> list:
    return [o for o in cell.get("outputs", []) if any(m in o.get("data", {}) for m in IMAGE_TYPES)]


def alt_texts(cell) -> list:
    """The cell's "alt_text" metadata as one entry per figure (a string applies to all)."""
    alt = cell.get("metadata", {}).get("alt_text")
    figures = len(image_outputs(cell))
    if isinstance(alt, str):
        alt = alt.strip()
        if figures > 1 and alt:
            return [f"{alt} (figure {k + 1} of {figures})" for k in range(figures)]
        return [alt] * figures
    if isinstance(alt, list):
        alt = [str(a).strip() for a in alt]
        return (alt + [""] * figures)[:figures]
    return [""] * figures


def image_hashes(output) -> list:
    """The names MyST-NB gives this output's images: the SHA-256 of their bytes."""
    hashes = []
    for mime in IMAGE_TYPES:
        content = output.get("data", {}).get(mime)
        if content is None:
            continue
        content = "".join(content) if isinstance(content, list) else content
        if mime == "image/svg+xml":
            data = os.linesep.join(content.splitlines()).encode("utf-8")
        else:
            data = binascii.a2b_base64(content)
        hashes.append(hashlib.sha256(data).hexdigest())
    return hashes


def rewrite_links(text: str, in_book: set, root_page: str) -> str:
    """Keep links to web pages, anchors and the book's notebooks; others cannot resolve in the site."""

    def replace(match):
        label, target = match.group(1), match.group(2)
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("#"):
            return match.group(0)
        path = target.split("#", 1)[0]
        name = Path(path).name
        if "/" not in path.replace("./", "", 1) and name in in_book:
            return match.group(0)
        if name.lower() == "readme.md":
            return f"[{label}]({root_page})"
        if label.strip("`") == path or not label:
            return f"`{path}`"
        return f"{label} (`{path}` in the repository)"

    return MARKDOWN_LINK.sub(replace, text)


def is_stand_in(cell) -> bool:
    return STAND_IN_TAG in cell.get("metadata", {}).get("tags", [])


def static_figure_for(nb, widget_index: int):
    """The cell with the static figure that stands in for the widget at ``widget_index``."""
    figures = [(i, c) for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code" and image_outputs(c)]
    if not figures:
        return None
    tagged = [c for _, c in figures if is_stand_in(c)]
    if tagged:
        return tagged[0]

    def about_learning_rate(cell) -> bool:
        alt = cell.get("metadata", {}).get("alt_text", "")
        text = (json.dumps(alt) + source(cell)).lower()
        return "learning rate" in text or "learning-rate" in text

    for chooser in (
        lambda i, c: about_learning_rate(c) and i > widget_index,
        lambda i, c: about_learning_rate(c),
        lambda i, c: i > widget_index,
        lambda i, c: True,
    ):
        for i, cell in figures:
            if chooser(i, cell):
                return cell
    return None


def prepare(nb: dict, in_book: set, root_page: str, name: str) -> tuple:
    """A copy of ``nb`` fit for a static page -> (notebook, {image hash: alt}, [figures given a fallback alt])."""
    nb = copy.deepcopy(nb)
    nb.setdefault("metadata", {}).pop("widgets", None)
    title = notebook_title(nb, name)
    fallbacks, alt_by_hash = [], {}

    cells = []
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            text = source(cell)
            if text.lstrip().startswith(NAVIGATION_MARK):
                continue
            cell["source"] = rewrite_links(text, in_book, root_page)
        cells.append(cell)
    nb["cells"] = cells

    # alt text first, so a figure copied to stand in for a widget carries its own
    section = title
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            headings = re.findall(r"^#{1,6}\s+(.+)$", source(cell), re.M)
            if headings:
                section = headings[-1].strip()
            continue
        if cell["cell_type"] != "code":
            continue
        for output, alt in zip(image_outputs(cell), alt_texts(cell)):
            if not alt:
                alt = f"A figure of the section '{section}' in the notebook '{title}'"
                fallbacks.append(f"{name}: {section}")
            alt_by_hash.update(dict.fromkeys(image_hashes(output), alt))

    moved = []
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        outputs = []
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            data.pop(WIDGET_STATE, None)
            if WIDGET_VIEW not in data and not "".join(data.get("text/plain", "")).startswith(WIDGET_REPR_PREFIX):
                outputs.append(output)
                continue
            figure = static_figure_for(nb, index)
            if figure is not None:
                moved.append(figure)
                outputs.append(
                    {"output_type": "display_data", "metadata": {}, "data": {"text/markdown": LIVE_APP_LINE}}
                )
                image = copy.deepcopy(image_outputs(figure)[0])
                image["data"].pop("text/plain", None)
                outputs.append(
                    {"output_type": "display_data", "data": image["data"], "metadata": image.get("metadata", {})}
                )
            else:
                outputs.append({"output_type": "display_data", "metadata": {}, "data": {"text/plain": WIDGET_TEXT}})
        if "outputs" in cell:
            cell["outputs"] = outputs
    for figure in filter(is_stand_in, moved):  # a tagged stand-in is shown once, where the widget was
        figure["outputs"] = [{"output_type": "display_data", "metadata": {}, "data": {"text/markdown": STAND_IN_MOVED}}]
    return nb, alt_by_hash, fallbacks


def table_of_contents(pages: list) -> str:
    lines = [
        "# Generated by scripts/build_book.py: the notebooks in reading order.",
        "format: jb-book",
        f"root: {pages[0]}",
    ]
    if len(pages) > 1:
        lines.append("chapters:")
        lines += [f"- file: {page}" for page in pages[1:]]
    return "\n".join(lines) + "\n"


def write_if_changed(path: Path, text: str) -> None:
    """Keep unchanged sources untouched, so Sphinx rebuilds only what changed."""
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def prepare_sources(src: Path, notebooks_dir: Path = NOTEBOOKS) -> tuple:
    """Write the book's sources into ``src`` -> (page names, figures given a fallback alt)."""
    paths = book_notebooks(notebooks_dir)
    if not paths:
        raise SystemExit(f"no notebooks matching [0-9][0-9]_*.ipynb in {notebooks_dir}")
    src.mkdir(parents=True, exist_ok=True)
    wanted = {p.name for p in paths} | {"_config.yml", "_toc.yml", "_static", "_ext", ALT_TEXTS}
    for stale in src.iterdir():
        if stale.name not in wanted:
            shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    write_if_changed(src / "_config.yml", (CONFIG / "_config.yml").read_text())
    for folder in ("_static", "_ext"):
        if (src / folder).exists():
            shutil.rmtree(src / folder)
        shutil.copytree(CONFIG / folder, src / folder, ignore=shutil.ignore_patterns("__pycache__"))

    in_book = {p.name for p in paths}
    fallbacks, alt_by_hash = [], {}
    for path in paths:
        nb = json.loads(path.read_text())
        prepared, alt_texts_of_nb, missing = prepare(nb, in_book, paths[0].name, path.name)
        fallbacks += missing
        alt_by_hash.update(alt_texts_of_nb)
        write_if_changed(src / path.name, json.dumps(prepared, indent=1, ensure_ascii=False) + "\n")
    # read by book/_ext/static_book.py
    write_if_changed(src / ALT_TEXTS, json.dumps(alt_by_hash, indent=1, sort_keys=True) + "\n")
    pages = [p.stem for p in paths]
    write_if_changed(src / "_toc.yml", table_of_contents(pages))
    return pages, fallbacks


def build(out: Path = DEFAULT_OUT, notebooks_dir: Path = NOTEBOOKS, quiet: bool = False) -> Path:
    """Build the site -> the path of its index.html."""
    start = time.perf_counter()
    src = out / "src"
    pages, fallbacks = prepare_sources(src, notebooks_dir)
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    command = [str(jupyter_book), "build", str(src), "--path-output", str(out), "--builder", "html"]
    if quiet:
        command.append("--quiet")
    # jupyter-book's own closing banner names its inner folder (<out>/_build/html); this script's last line
    # names the stable address below, so its standard output is shown only when the build fails
    result = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    if result.returncode:
        sys.stdout.write(result.stdout)
        raise SystemExit(f"jupyter-book build failed (exit {result.returncode})")
    # one stable address for the site: <out>/html
    link = out / "html"
    if not link.is_symlink():
        if link.exists():
            shutil.rmtree(link)
        link.symlink_to(Path("_build") / "html")
    for figure in fallbacks:
        print(f"warning: no alt_text metadata, fallback alt used: {figure}")
    seconds = time.perf_counter() - start
    print(f"book: {len(pages)} pages in {seconds:.0f} s -> {link / 'index.html'}")
    return link / "index.html"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: _build/book)")
    parser.add_argument(
        "--notebooks", type=Path, default=NOTEBOOKS, help="folder of the notebooks (default: notebooks/)"
    )
    parser.add_argument("--quiet", action="store_true", help="less Sphinx output")
    args = parser.parse_args(argv)
    build(args.out.resolve(), args.notebooks.resolve(), quiet=args.quiet)


if __name__ == "__main__":
    main()
