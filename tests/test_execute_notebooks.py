"""`make notebooks` (scripts/execute_notebooks.py) refreshes outputs in place and leaves no volatile metadata."""

import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent


def test_executes_in_place_with_ordered_counts_and_no_timestamps(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_code_cell("from helpers.layers import softmax\nimport numpy as np"),
        nbformat.v4.new_code_cell("print(f\"{softmax(np.zeros((1, 4)))[0, 0]:.2f}\")"),
    ]
    path = tmp_path / "01_tiny.ipynb"
    nbformat.write(nb, path)
    result = subprocess.run([sys.executable, ROOT / "scripts" / "execute_notebooks.py", str(path)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    done = nbformat.read(path, as_version=4)
    assert [c.execution_count for c in done.cells] == [1, 2]
    assert done.cells[1].outputs[0]["text"] == "0.25\n"
    assert all("execution" not in c.metadata for c in done.cells)
    first = path.read_bytes()
    subprocess.run([sys.executable, ROOT / "scripts" / "execute_notebooks.py", str(path)], check=True,
                   capture_output=True, timeout=300)
    assert path.read_bytes() == first  # re-running an unchanged notebook changes nothing


def test_missing_notebook_is_a_clear_error(tmp_path):
    result = subprocess.run([sys.executable, ROOT / "scripts" / "execute_notebooks.py", str(tmp_path / "nope.ipynb")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "no notebook at" in result.stderr


def test_measure_times_runs_idle_and_loaded_and_writes_no_notebook(tmp_path):
    import json
    import os

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("print(sum(range(10)))")]
    path = tmp_path / "01_tiny.ipynb"
    nbformat.write(nb, path)
    before = path.read_bytes()
    times_file = tmp_path / "run_times.json"
    times_file.write_text(json.dumps({"02_other.ipynb": 3.0}))
    result = subprocess.run([sys.executable, ROOT / "scripts" / "execute_notebooks.py", "--measure-times", "--repeat", "1",
                             str(path)], capture_output=True, text=True, timeout=300,
                            env={**os.environ, "RUN_TIMES_JSON": str(times_file)})
    assert result.returncode == 0, result.stderr
    assert path.read_bytes() == before  # measured, not re-executed in place
    times = json.loads(times_file.read_text())
    entry = times["01_tiny.ipynb"]
    assert len(entry["idle"]) == 1 and len(entry["loaded"]) == 1 and min(entry["idle"] + entry["loaded"]) > 0
    assert times["02_other.ipynb"] == 3.0  # other notebooks' figures are kept
    assert "loaded = one CPU-bound process" in times["_how"]
    bad = subprocess.run([sys.executable, ROOT / "scripts" / "execute_notebooks.py", "--measure-times", "--repeat", "x"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "--repeat needs a whole number" in bad.stderr
