"""pytest's hook for the nbval runs over notebooks/ (`make test`, `make nbval`): the longest notebooks first.

On pytest-xdist's two workers (`-n 2 --dist loadfile --no-loadscope-reorder`: a notebook whole on one worker) the
notebooks are handed out in collection order, each worker taking the next when it is almost done. In file-name
order notebook 07, the longest, starts last and one worker idles while it runs; longest first (the run times
`make times` measured, scripts/run_times.json), the short ones fill the end. The tests' own order is
tests/conftest.py's.
"""

import json
from pathlib import Path

RUN_TIMES = Path(__file__).resolve().parent / "scripts" / "run_times.json"


def notebook_seconds(times: dict, name: str) -> float:
    """A notebook's longest measured idle run, in seconds (0 for one not measured yet)."""
    return max(times.get(name, {}).get("idle") or [0.0])


def pytest_collection_modifyitems(config, items):
    if not config.getoption("nbval", default=False) or not RUN_TIMES.is_file():
        return
    times = json.loads(RUN_TIMES.read_text(encoding="utf-8"))
    # a stable sort on the notebook alone: each notebook's cells keep their order
    items.sort(key=lambda item: notebook_seconds(times, item.path.name), reverse=True)
