"""Every relative link in the notebooks and in README.md points to a file that exists.

Links are read from markdown cells (``[text](target)``, ``<a href>``, ``<img src>``);
web addresses and in-page anchors are not checked. A link is resolved from the
directory of the file that holds it. A notebook's links must also stay inside
notebooks/: `make lab` and the Voila app serve that folder only, so a link such
as ``../README.md`` is dead for a student there.
"""

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
DOCUMENTS = [ROOT / "README.md", *NOTEBOOKS]

MARKDOWN_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HTML_LINK = re.compile(r"""(?:href|src)\s*=\s*["']([^"']+)["']""")
CODE = re.compile(r"^```.*?^```|`[^`\n]*`", re.S | re.M)  # links inside code are code, not links


def markdown_of(path):
    if path.suffix == ".ipynb":
        return [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown"]
    return [path.read_text()]


def relative_links(text):
    text = CODE.sub("", text)
    for target in MARKDOWN_LINK.findall(text) + HTML_LINK.findall(text):
        if re.match(r"[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith(("#", "//")):
            continue  # http:, https:, mailto:, an anchor in the same page
        yield target


def dead_links(path):
    dead = []
    for text in markdown_of(path):
        for target in relative_links(text):
            file = target.split("#")[0].split("?")[0]
            resolved = (path.parent / file).resolve()
            outside = path.suffix == ".ipynb" and path.parent.resolve() not in resolved.parents
            if outside or not resolved.exists():
                dead.append(target)
    return dead


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_relative_links_resolve(path):
    assert not dead_links(path), f"{path.relative_to(ROOT)}: dead links {dead_links(path)}"


def test_a_dead_link_in_a_notebook_fails(tmp_path):
    (tmp_path / "01_here.ipynb").write_text("{}")
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(
            "[ok](01_here.ipynb) [anchor](#top) [web](https://example.org/x.ipynb) `[code](nowhere.md)`\n"
            '[gone](02_gone.ipynb#section) <img src="figures/missing.png"> [up](../00_fake.ipynb)'
        )
    ]
    path = tmp_path / "00_fake.ipynb"
    nbformat.write(nb, path)
    assert dead_links(path) == ["02_gone.ipynb#section", "../00_fake.ipynb", "figures/missing.png"]
