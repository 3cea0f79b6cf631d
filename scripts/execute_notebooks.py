"""Re-execute notebooks in place, top to bottom, so their stored outputs are fresh.

    python scripts/execute_notebooks.py                 # every notebooks/*.ipynb
    python scripts/execute_notebooks.py notebooks/03_forward.ipynb
    python scripts/execute_notebooks.py --record-times  # also store the run times for the index
    python scripts/execute_notebooks.py --measure-times [--repeat N]
        # only measure: run each notebook N times (default 2) idle and N times beside a CPU-bound
        # process, write the ranges to scripts/run_times.json; no notebook is written

Run it after changing helpers/ (``make notebooks`` runs scripts/navigation.py
first, then this); nbval then checks that
the stored outputs still reproduce. Volatile metadata (timings) is dropped so
that a re-run without changes leaves the files byte-identical.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# read by scripts/navigation.py for the index's and the guide's tables (RUN_TIMES_JSON: another file, for the tests)
RUN_TIMES = Path(os.environ.get("RUN_TIMES_JSON") or ROOT / "scripts" / "run_times.json")


def coalesce_streams(outputs: list) -> list:
    """Consecutive outputs of one stream (stdout, stderr) as one: how Jupyter shows them. Where a long
    cell's prints are split depends on when the kernel flushed them (a busy machine splits more), and
    the stored file must not depend on that."""
    merged = []
    for output in outputs:
        last = merged[-1] if merged else None
        if (
            output.get("output_type") == "stream"
            and last is not None
            and last.get("output_type") == "stream"
            and last.get("name") == output.get("name")
        ):
            last["text"] = "".join(last["text"]) + "".join(output["text"])
        else:
            merged.append(output)
    return merged


def execute(path: Path, timeout: int = 600, write: bool = True) -> float | None:
    nb = nbformat.read(path, as_version=4)
    if not any(cell.cell_type == "code" for cell in nb.cells):
        return None  # prose only (the index, the teacher's guide): nothing to run
    started = time.perf_counter()
    NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    if not write:
        return time.perf_counter() - started
    for cell in nb.cells:
        cell.metadata.pop("execution", None)  # wall-clock timestamps: different every run
        if "outputs" in cell:
            cell.outputs = coalesce_streams(cell.outputs)
        for output in cell.get("outputs", []):
            # without the widget state (dropped below) a stored view renders as "model not found";
            # the output's text/plain line (what it is, how to start it) is shown instead
            output.get("data", {}).pop(WIDGET_VIEW, None)
    nb.metadata.pop("widgets", None)  # widget state: large, and volatile model ids
    nbformat.write(nb, path)
    return time.perf_counter() - started


LOAD = "while True: pass"  # one CPU-bound process: a student's kernel busy training, on a 2-core machine


def measure_times(paths: list[Path], repeat: int) -> int:
    """Run each notebook ``repeat`` times idle and ``repeat`` times loaded, in memory; store the ranges."""
    times = json.loads(RUN_TIMES.read_text()) if RUN_TIMES.is_file() else {}
    loads = {"idle": [], "loaded": []}
    for path in paths:
        entry = {"idle": [], "loaded": []}
        for condition in ("idle", "loaded"):
            hog = subprocess.Popen([sys.executable, "-c", LOAD]) if condition == "loaded" else None
            try:
                for _ in range(repeat):
                    loads[condition].append(os.getloadavg()[0])
                    seconds = execute(path, write=False)
                    if seconds is None:
                        break
                    entry[condition].append(round(seconds, 1))
                    print(f"{path.name} {condition}: {seconds:.1f} s", flush=True)
            finally:
                if hog is not None:
                    hog.kill()  # the process this function started, by its handle
                    hog.wait()
        if entry["idle"]:
            times[path.name] = entry
    measured = [path.name for path in paths if path.name in times and isinstance(times[path.name], dict)]
    # one record per measuring call; a notebook measured again leaves its older record
    records = [
        {**m, "notebooks": [n for n in m["notebooks"] if n not in measured]} for m in times.get("_measurements", [])
    ]
    if measured:
        low, high = min(loads["idle"], default=0), max(loads["idle"], default=0)
        records.append(
            {
                "date": time.strftime("%Y-%m-%d"),
                "runs": repeat,
                "notebooks": measured,
                "load_average": [round(low, 1), round(high, 1)],
            }
        )
    times["_measurements"] = [m for m in records if m["notebooks"]]
    times["_how"] = (
        "measured with `python scripts/execute_notebooks.py --measure-times` on the project's 2-core "
        "machine with one BLAS thread: idle = nothing else started by the measurement, "
        "loaded = one CPU-bound process beside it, as a student's busy kernel"
    )
    RUN_TIMES.write_text(json.dumps(dict(sorted(times.items())), indent=1) + "\n")
    print(f"run times written to {RUN_TIMES}; `python scripts/navigation.py` puts them in the index and the guide")
    return 0


def main(argv: list[str]) -> int:
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    record = "--record-times" in argv
    measure = "--measure-times" in argv
    repeat = 2
    if "--repeat" in argv:
        at = argv.index("--repeat")
        if at + 1 >= len(argv) or not argv[at + 1].isdigit() or int(argv[at + 1]) < 1:
            print("error: --repeat needs a whole number >= 1, e.g. --repeat 2", file=sys.stderr)
            return 2
        repeat = int(argv[at + 1])
        argv = argv[:at] + argv[at + 2 :]
    paths = [Path(p) for p in argv if p not in ("--record-times", "--measure-times")] or sorted(
        (ROOT / "notebooks").glob("[0-9]*.ipynb")
    )
    for path in paths:
        if not path.is_file():
            print(f"error: no notebook at {path}", file=sys.stderr)
            return 2
    if measure:
        return measure_times(paths, repeat)
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
        print(
            f"run times written to {RUN_TIMES.relative_to(ROOT)}; `python scripts/navigation.py` puts them in the index"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
