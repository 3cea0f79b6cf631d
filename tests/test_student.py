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

ROOT = Path(__file__).resolve().parent.parent


def test_student_copies_have_no_outputs_no_solutions_and_run_top_to_bottom(tmp_path, monkeypatch):
    out = tmp_path / "student"
    result = subprocess.run([sys.executable, ROOT / "scripts" / "student.py", str(out)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    originals = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert sorted(p.name for p in out.glob("*.ipynb")) == originals

    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")  # the kernels inherit it: 2 cores shared
    for name in originals:
        nb = nbformat.read(out / name, as_version=4)
        text = "\n".join(c.source for c in nb.cells)
        assert "<details" not in text and "## Solutions" not in text, f"{name}: a solution is left"
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(not c.outputs and c.execution_count is None for c in code), f"{name}: outputs left"

        NotebookClient(nb, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(out)}}).execute()  # raises on any error
        printed = [o.get("text", "") for c in code for o in c.outputs if o.get("name") == "stdout"]
        stderr = [o.get("text", "") for c in code for o in c.outputs if o.get("name") == "stderr"]
        assert not stderr, f"{name}: {stderr[0][:200]}"
        if name[:2] != "00" and "## Exercises" in text:
            lines = [line for chunk in printed for line in chunk.splitlines()]
            assert any(line.startswith("not yet") for line in lines), f"{name}: no checker said 'not yet'"
            assert not any(line.startswith("correct:") for line in lines), f"{name}: an exercise is already answered"
