"""Every code solution at the end of notebooks 01-07 is right, by its own checker.

A solution is a ```python block inside a ``<details>`` markdown cell after
``## Solutions``. Each is self-contained: it runs here in a fresh namespace,
with notebooks/ as the working directory, and must print a message starting
with "correct:" (its last line is the checker call). One test per notebook and
exercise, so the count of tested solutions shows in the pytest summary.
"""

import json
import re
from pathlib import Path

import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(p for p in NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb") if not p.name.startswith("00_"))
DETAILS = re.compile(r"<details\b.*?</details>", re.S)
SUMMARY = re.compile(r"<summary>(.*?)</summary>", re.S)
PYTHON = re.compile(r"^```python[ \t]*\n(.*?)^```", re.S | re.M)


def markdown_sources(path):
    cells = json.loads(path.read_text())["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]


def solutions(path):
    """[(label, code)]: every <details> block of the notebook that holds Python, its blocks joined."""
    found = []
    for source in markdown_sources(path):
        for block in DETAILS.findall(source):
            code = PYTHON.findall(block)
            if code:
                summary = SUMMARY.search(block)
                label = summary.group(1).strip() if summary else f"block {len(found) + 1}"
                number = re.search(r"\d+", label)
                found.append((f"ex{number.group(0)}" if number else label, "\n".join(code)))
    return found


CASES = [
    pytest.param(path, code, id=f"{path.stem[:2]}-{label}") for path in NOTEBOOKS for label, code in solutions(path)
]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_has_a_tested_code_solution(path):
    assert solutions(path), f"{path.name}: no ```python block inside a <details> solution"


@pytest.mark.slow  # runs the lessons' solution code, which trains (the checkers' own tests are in the fast tier)
@pytest.mark.parametrize("path, code", CASES)
def test_solution_passes_its_checker(path, code, capsys, monkeypatch):
    monkeypatch.chdir(NOTEBOOK_DIR)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    import matplotlib

    matplotlib.use("Agg")
    namespace = {"__name__": "__main__"}
    try:
        exec(compile(code, f"<{path.name} solution>", "exec"), namespace)
    finally:
        import matplotlib.pyplot as plt

        plt.close("all")
    printed = capsys.readouterr().out
    assert printed.startswith("correct:"), f"{path.name}: the solution printed\n{printed[:500]}"


def test_the_extractor_reads_a_solution_block(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("## Solutions"),
        nbformat.v4.new_markdown_cell(
            "<details>\n<summary>Solution to exercise 2</summary>\n\nWhy.\n\n"
            "```python\nx = 1\nprint('correct: yes' if x else '')\n```\n\n</details>"
        ),
    ]
    path = tmp_path / "09_fake.ipynb"
    nbformat.write(nb, path)
    assert solutions(path) == [("ex2", "x = 1\nprint('correct: yes' if x else '')\n")]
