"""Sphinx extension for the static book: alt text for every figure, no scripts for a kernel.

- MyST-NB names an output image after the SHA-256 of its bytes and takes alt text only
  per cell. scripts/build_book.py writes _alt_texts.json (hash -> alt text, one entry per
  figure, from the cells' "alt_text" metadata) next to the sources; this sets it on the
  image nodes, so a cell with several figures gets one text per figure.
- A static page has no kernel, so the book has no launch or Thebe buttons; sphinx-thebe
  (which Jupyter Book always loads) still adds its scripts, twice under Sphinx 7 (a
  console error: "Identifier 'THEBE_JS_URL' has already been declared"), naming a CDN.
  They are taken out of every page.
"""

import json
from pathlib import Path

from docutils import nodes

MAPPING = "_alt_texts.json"


def apply_alt_texts(app, doctree) -> None:
    path = Path(app.srcdir) / MAPPING
    if not path.exists():
        return
    alt_texts = json.loads(path.read_text())
    for image in doctree.findall(nodes.image):
        alt = alt_texts.get(Path(image.get("uri", "")).stem)
        if alt and not image.get("alt"):
            image["alt"] = alt


def is_thebe(script) -> bool:
    filename = getattr(script, "filename", None) or str(script)
    body = getattr(script, "attributes", {}).get("body", "")
    return "thebe" in (filename or "") or "THEBE_JS_URL" in body


def drop_thebe_scripts(app, pagename, templatename, context, doctree) -> None:
    if "script_files" in context:
        context["script_files"] = [s for s in context["script_files"] if not is_thebe(s)]
    if "css_files" in context:
        context["css_files"] = [
            c for c in context["css_files"] if "thebe" not in (getattr(c, "filename", None) or str(c))
        ]


def setup(app):
    app.connect("doctree-read", apply_alt_texts)
    app.connect("html-page-context", drop_thebe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
