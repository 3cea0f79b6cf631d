"""Write the student copy: every notebook with outputs cleared and the solutions removed.

    python scripts/student.py             # -> student/ (git-ignored), what `make student` runs
    python scripts/student.py OUT_DIR     # somewhere else (the tests use a temporary folder)

A student copy keeps everything a student needs to work: the prose, the code,
the exercise cells (answers still ``None``, so every checker says "not yet"),
the summary and the navigation links. It drops every output, execution count
and widget state, and every solution: the ``<details>`` markdown cells after the
``## Solutions`` heading, whose text becomes a note saying where the solutions are. The setup cell stays, so the
copy finds ``helpers`` and the data when it sits inside the repository (as
student/ does) even if the project is not pip-installed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "notebooks"
DEFAULT_OUT = ROOT / "student"
SOLUTIONS = "## Solutions"
NOTE = (f"{SOLUTIONS}\n\nThis is the student copy: the solutions are not in it. Your teacher has them, and so "
        "do the full notebooks of the repository (`notebooks/`), folded at their end.")


def is_solution(cell) -> bool:
    source = cell.source.lstrip().lower()
    return cell.cell_type == "markdown" and (source.startswith("<details") or "<summary>solution" in source)


def student_copy(nb):
    """The notebook without outputs and without its solutions (modifies and returns ``nb``).

    The ``## Solutions`` heading may start a cell or sit in the middle of one (after
    the summary, say): what precedes it stays, the rest of that cell becomes ``NOTE``.
    """
    cells, in_solutions = [], False
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        elif not in_solutions:
            lines = cell.source.splitlines()
            at = next((j for j, line in enumerate(lines) if line.startswith(SOLUTIONS)), None)
            if at is not None:
                in_solutions = True
                before = "\n".join(lines[:at]).rstrip()
                cell.source = f"{before}\n\n{NOTE}" if before else NOTE
        elif is_solution(cell):
            continue
        cells.append(cell)
    nb.cells = cells
    nb.metadata.pop("widgets", None)
    return nb


def write_student_copies(out: Path, source: Path = SOURCE) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(source.glob("[0-9][0-9]_*.ipynb")):
        nb = student_copy(nbformat.read(path, as_version=4))
        target = out / path.name
        nbformat.write(nb, target)
        written.append(target)
    return written


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else DEFAULT_OUT
    written = write_student_copies(out)
    if not written:
        print(f"error: no notebooks in {SOURCE}", file=sys.stderr)
        return 2
    print(f"wrote {len(written)} student notebooks to {out}: outputs cleared, solutions removed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
