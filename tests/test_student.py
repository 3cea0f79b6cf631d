"""`make student` (scripts/student.py): a clean copy a class can work through, top to bottom.

One test, slow-ish (it runs every student notebook, about as long as nbval):
outputs cleared, solutions gone, and every notebook runs with the exercises
unanswered, its checkers saying "not yet" rather than raising.
"""

import subprocess
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent


def test_student_copies_have_no_outputs_no_solutions_and_run_top_to_bottom(tmp_path, monkeypatch):
    out = tmp_path / "student"
    result = subprocess.run([sys.executable, ROOT / "scripts" / "student.py", str(out)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    originals = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert sorted(p.name for p in out.glob("*.ipynb")) == originals

    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")  # the kernels inherit it: 2 cores shared
    problems = []  # every notebook runs, so one report names all that fail
    for name in originals:
        nb = nbformat.read(out / name, as_version=4)
        text = "\n".join(c.source for c in nb.cells)
        if "<details" in text or "<summary>Solution" in text:
            problems.append(f"{name}: a solution is left")
        code = [c for c in nb.cells if c.cell_type == "code"]
        if not all(not c.outputs and c.execution_count is None for c in code):
            problems.append(f"{name}: outputs left")
        try:
            NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(out)}}).execute()
        except CellExecutionError as error:
            problems.append(f"{name}: {str(error)[-600:]}")
            continue
        lines = [line for c in code for o in c.outputs if o.get("name") == "stdout" for line in o["text"].splitlines()]
        stderr = [o["text"] for c in code for o in c.outputs if o.get("name") == "stderr"]
        if stderr:
            problems.append(f"{name}: stderr {stderr[0][:200]}")
        if name[:2] != "00" and "## Exercises" in text:
            if not any(line.startswith("not yet") for line in lines):
                problems.append(f"{name}: no checker said 'not yet'")
            if any(line.startswith("correct:") for line in lines):
                problems.append(f"{name}: a checker said 'correct' before any answer was given")
    assert not problems, "\n".join(problems)

def test_student_copy_drops_outputs_and_solution_blocks_only():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from student import student_copy
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    md = nbformat.v4.new_markdown_cell
    ran = nbformat.v4.new_code_cell("print(1)", execution_count=3,
                                    outputs=[nbformat.v4.new_output("stream", text="1\n")])
    nb = nbformat.v4.new_notebook()
    nb.metadata["widgets"] = {"state": {}}
    nb.cells = [md("# Title"), ran, md("<details>\n<summary>Not a solution: above the solutions</summary>\n</details>"),
                md("## What you learned\n\n- a"), md("## Solutions"),
                md("<details>\n<summary>Solution to exercise 1</summary>\n\n```python\nx\n```\n\n</details>"),
                md("[Index](00_index.ipynb)", metadata={"tags": ["navigation"]})]
    copy = student_copy(nb)
    assert [c.source.splitlines()[0] for c in copy.cells] == [
        "# Title", "print(1)", "<details>", "## What you learned", "## Solutions", "[Index](00_index.ipynb)"]
    assert "not in it" in copy.cells[4].source
    assert copy.cells[1].outputs == [] and copy.cells[1].execution_count is None
    nb.cells = [md("Last words.\n\n## What you learned\n\n- a\n\n## Solutions\n\n<details>\n<summary>Solution to "
                   "exercise 1</summary>\n\nx\n\n</details>"), md("<details>\n<summary>Solution to exercise 2</summary>")]
    copy = student_copy(nb)
    assert len(copy.cells) == 1 and copy.cells[0].source.startswith("Last words.\n\n## What you learned\n\n- a\n\n## Solutions")
    assert "<details" not in copy.cells[0].source
    assert "widgets" not in copy.metadata
