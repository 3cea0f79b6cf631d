"""The notebooks as files: executed in order, outputs kept, few ignored outputs.

nbval (run by `make test`) re-executes them and compares every stored
output; this file checks what nbval cannot: that there is something to
compare, in order, with reasons for what is skipped.
"""

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))
IGNORE = re.compile(r"#\s*NBVAL_IGNORE_OUTPUT")


def code_cells(path):
    nb = json.loads(path.read_text())
    return nb, [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]


def test_the_collection_is_there():
    names = [p.name[:2] for p in NOTEBOOKS]
    assert names == [f"{i:02d}" for i in range(1, len(NOTEBOOKS) + 1)]
    assert len(NOTEBOOKS) >= 7


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_executed_top_to_bottom_with_outputs(path):
    nb, cells = code_cells(path)
    counts = [c["execution_count"] for c in cells]
    assert None not in counts, "a code cell was never executed: run `make notebooks`"
    assert counts == list(range(1, len(cells) + 1)), "execution counts out of order: run `make notebooks`"
    assert sum(bool(c["outputs"]) for c in cells) >= len(cells) // 2, "outputs look stripped"
    assert nb["metadata"]["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_errors_or_warnings_stored(path):
    _, cells = code_cells(path)
    for cell in cells:
        for out in cell["outputs"]:
            assert out["output_type"] != "error", "".join(cell["source"])[:80]
            assert not (out["output_type"] == "stream" and out["name"] == "stderr"), "".join(out["text"])[:200]


def test_ignored_outputs_are_few_and_explained():
    total, ignored = 0, []
    for path in NOTEBOOKS:
        _, cells = code_cells(path)
        total += len(cells)
        ignored += [(path.name, "".join(c["source"])) for c in cells if IGNORE.search("".join(c["source"]))]
    assert len(ignored) * 10 <= total, f"{len(ignored)} of {total} code cells ignore their output"
    for name, source in ignored:
        line = next(l for l in source.splitlines() if IGNORE.search(l))
        following = source.splitlines()[source.splitlines().index(line) + 1 : source.splitlines().index(line) + 2]
        reason = IGNORE.sub("", line).strip(" #:-") or (following[0].strip().startswith("#") and following[0])
        assert reason, f"{name}: NBVAL_IGNORE_OUTPUT without a stated reason"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_import_helpers_and_link_onwards(path):
    nb, _ = code_cells(path)
    text = "".join("".join(c["source"]) for c in nb["cells"])
    assert "helpers" in text
