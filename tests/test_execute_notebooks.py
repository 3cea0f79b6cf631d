"""`make notebooks` (scripts/execute_notebooks.py) refreshes outputs in place and leaves no volatile metadata."""

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow  # executes a notebook in a kernel, twice
def test_executes_in_place_with_ordered_counts_and_no_timestamps(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_code_cell("from helpers.layers import softmax\nimport numpy as np"),
        nbformat.v4.new_code_cell('print(f"{softmax(np.zeros((1, 4)))[0, 0]:.2f}")'),
    ]
    path = tmp_path / "01_tiny.ipynb"
    nbformat.write(nb, path)
    result = subprocess.run(
        [sys.executable, ROOT / "scripts" / "execute_notebooks.py", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    done = nbformat.read(path, as_version=4)
    assert [c.execution_count for c in done.cells] == [1, 2]
    assert done.cells[1].outputs[0]["text"] == "0.25\n"
    assert all("execution" not in c.metadata for c in done.cells)
    first = path.read_bytes()
    subprocess.run(
        [sys.executable, ROOT / "scripts" / "execute_notebooks.py", str(path)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    assert path.read_bytes() == first  # re-running an unchanged notebook changes nothing


def test_missing_notebook_is_a_clear_error(tmp_path):
    result = subprocess.run(
        [sys.executable, ROOT / "scripts" / "execute_notebooks.py", str(tmp_path / "nope.ipynb")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "no notebook at" in result.stderr


@pytest.mark.slow  # executes a notebook, idle and beside a CPU-bound process
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
    times_file.write_text(
        json.dumps(
            {
                "02_other.ipynb": 3.0,
                "_measurements": [
                    {
                        "date": "2026-01-01",
                        "runs": 2,
                        "notebooks": ["01_tiny.ipynb", "03_kept.ipynb"],
                        "load_average": [1.0, 2.0],
                    }
                ],
            }
        )
    )
    result = subprocess.run(
        [sys.executable, ROOT / "scripts" / "execute_notebooks.py", "--measure-times", "--repeat", "1", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "RUN_TIMES_JSON": str(times_file)},
    )
    assert result.returncode == 0, result.stderr
    assert path.read_bytes() == before  # measured, not re-executed in place
    times = json.loads(times_file.read_text())
    entry = times["01_tiny.ipynb"]
    assert len(entry["idle"]) == 1 and len(entry["loaded"]) == 1 and min(entry["idle"] + entry["loaded"]) > 0
    assert times["02_other.ipynb"] == 3.0  # other notebooks' figures are kept
    assert "loaded = one CPU-bound process" in times["_how"]
    older, latest = times["_measurements"]  # one record per measuring call
    assert older["notebooks"] == ["03_kept.ipynb"]  # the tiny notebook's old record is replaced, not repeated
    assert latest["notebooks"] == ["01_tiny.ipynb"] and latest["runs"] == 1 and len(latest["load_average"]) == 2
    bad = subprocess.run(
        [sys.executable, ROOT / "scripts" / "execute_notebooks.py", "--measure-times", "--repeat", "x"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "--repeat needs a whole number" in bad.stderr


def test_the_run_times_note_says_what_each_measurement_was():
    sys.path.insert(0, str(ROOT / "scripts"))
    import navigation

    note = navigation.run_times_note(
        {
            "_how": "measured somehow",
            "_measurements": [
                {
                    "date": "2026-12-02",
                    "runs": 2,
                    "notebooks": [f"0{i}_x.ipynb" for i in range(1, 8)],
                    "load_average": [3.9, 9.8],
                },
                {"date": "2026-12-03", "runs": 1, "notebooks": ["08_y.ipynb"], "load_average": [1.1, 1.14]},
            ],
        }
    )
    assert "measured somehow. Notebooks 1-7: 2 runs each" in note and "load average of 3.9-9.8 " in note
    assert "notebook 8: 1 run each" in note and "on 2026-12-03" in note
    assert "load average of 1.1 from" in note and "1.1-1.1" not in note  # equal ends: one figure
    assert "1 runs" not in note
    assert navigation.notebook_numbers(["01_a", "02_b", "04_c", "05_d", "08_e"]) == "notebooks 1-2, 4-5, 8"
    assert navigation.longest({"idle": [4.0, 6.0], "loaded": [9.5]}) == 9.5


def test_consecutive_prints_of_one_stream_are_stored_as_one_output():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from execute_notebooks import coalesce_streams
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    out = nbformat.v4.new_output
    outputs = [
        out("stream", name="stdout", text="a\n"),
        out("stream", name="stdout", text=["b\n", "c"]),
        out("stream", name="stderr", text="warn\n"),
        out("stream", name="stdout", text="d\n"),
        out("display_data", data={"text/plain": "x"}),
        out("stream", name="stdout", text="e\n"),
    ]
    merged = coalesce_streams(outputs)
    assert [(o.output_type, o.get("name"), o.get("text")) for o in merged] == [
        ("stream", "stdout", "a\nb\nc"),
        ("stream", "stderr", "warn\n"),
        ("stream", "stdout", "d\n"),
        ("display_data", None, None),
        ("stream", "stdout", "e\n"),
    ]
