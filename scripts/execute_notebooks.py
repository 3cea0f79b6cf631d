"""Re-execute notebooks in place, top to bottom, so their stored outputs are fresh.

    python scripts/execute_notebooks.py                 # every notebooks/*.ipynb
    python scripts/execute_notebooks.py notebooks/03_forward.ipynb
    python scripts/execute_notebooks.py --record-times  # also store the run times for the index

Run it after changing helpers/ (``make notebooks`` runs scripts/navigation.py
first, then this); nbval then checks that
the stored outputs still reproduce. Volatile metadata (timings) is dropped so
that a re-run without changes leaves the files byte-identical.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
RUN_TIMES = ROOT / "scripts" / "run_times.json"  # read by scripts/navigation.py for the index's table


def execute(path: Path, timeout: int = 600) -> float | None:
    nb = nbformat.read(path, as_version=4)
    if not any(cell.cell_type == "code" for cell in nb.cells):
        return None  # prose only (the index, the teacher's guide): nothing to run
    started = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)  # wall-clock timestamps: different every run
        for output in cell.get("outputs", []):
            # without the widget state (dropped below) a stored view renders as "model not found";
            # the output's text/plain line (what it is, how to start it) is shown instead
            output.get("data", {}).pop(WIDGET_VIEW, None)
    nb.metadata.pop("widgets", None)  # widget state: large, and volatile model ids
    nbformat.write(nb, path)
    return time.perf_counter() - started


def main(argv: list[str]) -> int:
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    record = "--record-times" in argv
    paths = [Path(p) for p in argv if p != "--record-times"] or sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
    for path in paths:
        if not path.is_file():
            print(f"error: no notebook at {path}", file=sys.stderr)
            return 2
    times = json.loads(RUN_TIMES.read_text()) if record and RUN_TIMES.is_file() else {}
    for path in paths:
        print(f"executing {path.name} ...", end=" ", flush=True)
        seconds = execute(path)
        if seconds is None:
            print("no code cells")
            continue
        print(f"{seconds:.1f} s")
        times[path.name] = round(seconds, 1)
    if record:
        RUN_TIMES.write_text(json.dumps(dict(sorted(times.items())), indent=1) + "\n")
        print(f"run times written to {RUN_TIMES.relative_to(ROOT)}; `python scripts/navigation.py` puts them in the index")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
