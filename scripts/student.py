"""Write the student copy: every notebook with outputs cleared and the solutions removed.

    python scripts/student.py                        # -> student/ (git-ignored)
    python scripts/student.py OUT_DIR                # somewhere else (the tests use a temporary folder)
    python scripts/student.py OUT_DIR --zip FILE     # also FILE: the handout, one zip to upload
    make student                                     # student/ and student.zip

A student copy keeps everything a student needs to work: the prose, the code,
the exercise cells (answers still ``None``, so every checker says "not yet"),
the summary and the navigation links. It drops every output, execution count
and widget state, and every solution: the ``<details>`` markdown cells after the
``## Solutions`` heading, whose text becomes a note saying where the solutions are.
Sentences above that heading which point at the solutions ("open its solution at
the end of the notebook") are rewritten or dropped, and so are sentences that link
a notebook the copy leaves out: the teacher's guide, with its in-class answers,
is not handed out.

The setup cell stays, so a copy finds ``helpers`` and the data when it sits
inside the repository (as student/ does) even if the project is not
pip-installed. The zip is the other way to hand out: the student copies with
``helpers``, the digits, the stored results that notebooks 6-8 read
(``results/``), the explorer's app page (``app/``) and a README that says how to
install them (one ``pip install``) on a shared server or a laptop, without the
repository.

Neither the copies nor the zip have the repository's Makefile: the sentences that
name ``make`` targets (the index's "How to run them", notebook 6's ``make app``)
are rewritten to the commands that work in the handout folder, and rows for
targets that need the repository (the book, the student copies) are dropped.
"""

from __future__ import annotations

import re
import sys
import zipfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "notebooks"
DEFAULT_OUT = ROOT / "student"
SOLUTIONS = "## Solutions"
NOTE = (
    f"{SOLUTIONS}\n\nThis is the student copy: the solutions are not in it. Your teacher has them, and so "
    "do the full notebooks of the repository (`notebooks/`), folded at their end."
)
TEACHER_ONLY = ("00_teachers_guide.ipynb",)  # in-class answers: for the teacher, not in the handout

# A sentence that sends the reader to the solutions, which the copy no longer has.
POINTS_AT_SOLUTIONS = re.compile(
    r"solution.*\b(end|below|folded|open|click|compare)|\b(end|below|folded|open|click|compare)\b.*solution",
    re.IGNORECASE,
)
# The phrasings the notebooks use, rewritten for the copy; any other such sentence is dropped.
REWRITES = [
    (re.compile(r"\s*before you open its solution at the end of the notebook"), " yourself first"),
    (re.compile(r";\s*the solutions are at the end of the notebook"), ""),
    (
        re.compile(r"\*\*Solutions\*\*, one per exercise, folded away: click \*Solution to exercise N\* to open one\."),
        "**Solutions**: not in this student copy; your teacher has them.",
    ),
    (re.compile(r"\bCompare with the solution below\."), "Then discuss your answer with your teacher."),
    (re.compile(r"\bcompare (it )?with the solution( below)?"), "discuss it with your teacher"),
]
# The repository's `make` targets, said the way that works in the handout folder (no Makefile there).
HANDOUT_REWRITES = [
    (
        re.compile(
            r"^From a clone of the repository \(the first command also sets up the Python environment in `\.venv`\):$",
            re.MULTILINE,
        ),
        "In the folder of this copy (the one that holds `README.md`), after the install its README describes:",
    ),
    (
        re.compile(r"^\| `make lab` \| JupyterLab on this folder:", re.MULTILINE),
        "| `jupyter lab notebooks` | JupyterLab on the notebooks:",
    ),
    (
        re.compile(r"^\| `make app` \|.*\|$", re.MULTILINE),
        "| `voila app/explorer.ipynb` | the explorer of notebook 6 as a standalone web app: sliders and curves, no code "
        "(install Voila first, as `README.md` says) |",
    ),
    (re.compile(r"^\| `make (book|student)` \|.*\n?", re.MULTILINE), ""),  # they need the repository
    (
        re.compile(r"`make app` from the repository\."),
        "`voila app/explorer.ipynb` in the folder of this copy (its `README.md` says how to install Voila).",
    ),
]
MAKE_TARGET = re.compile(r"`make \w+")  # what no handout sentence may still name
SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?]\)))\s+(?=[A-Z*_`(\"\[])")


def is_solution(cell) -> bool:
    source = cell.source.lstrip().lower()
    return cell.cell_type == "markdown" and (source.startswith("<details") or "<summary>solution" in source)


def drops_sentence(sentence: str, left_out: tuple[str, ...]) -> bool:
    return bool(POINTS_AT_SOLUTIONS.search(sentence)) or any(f"]({name}" in sentence for name in left_out)


def without_solution_pointers(text: str, left_out: tuple[str, ...] = TEACHER_ONLY) -> str:
    """``text`` with every sentence that points at the solutions (or links a left-out notebook) rewritten or dropped."""
    lines = []
    for line in text.split("\n"):
        sentences = []
        for sentence in SENTENCE_END.split(line):
            for pattern, replacement in REWRITES:
                sentence = pattern.sub(replacement, sentence)
            if not drops_sentence(sentence, left_out):
                sentences.append(sentence)
        if sentences or not line.strip():
            lines.append(" ".join(sentences))
    return "\n".join(lines)


def for_the_handout(text: str) -> str:
    """``text`` with the repository's `make` commands replaced by what works in the handout folder.

    Raises ValueError if a `make` target is still named: a new sentence needs its rewrite in HANDOUT_REWRITES.
    """
    for pattern, replacement in HANDOUT_REWRITES:
        text = pattern.sub(replacement, text)
    left = MAKE_TARGET.search(text)
    if left:
        line = next(line for line in text.splitlines() if left.group(0) in line)
        raise ValueError(
            f"a student copy would still name {left.group(0)}` (there is no Makefile in the handout): "
            f"{line.strip()[:160]!r}; add its rewrite to HANDOUT_REWRITES in scripts/student.py"
        )
    return text


def student_copy(nb, left_out: tuple[str, ...] = TEACHER_ONLY):
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
                before = without_solution_pointers("\n".join(lines[:at]).rstrip(), left_out)
                cell.source = f"{before}\n\n{NOTE}" if before else NOTE
            else:
                cell.source = without_solution_pointers(cell.source, left_out)
            cell.source = for_the_handout(cell.source)
        elif is_solution(cell):
            continue
        cells.append(cell)
    nb.cells = cells
    nb.metadata.pop("widgets", None)
    return nb


def write_student_copies(out: Path, source: Path = SOURCE) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    for name in TEACHER_ONLY:  # a copy written before the guide was left out
        (out / name).unlink(missing_ok=True)
    written = []
    for path in sorted(source.glob("[0-9][0-9]_*.ipynb")):
        if path.name in TEACHER_ONLY:
            continue
        nb = student_copy(nbformat.read(path, as_version=4))
        target = out / path.name
        nbformat.write(nb, target)
        written.append(target)
    return written


HANDOUT = "mnist-top-layer"  # the zip's one top folder
HANDOUT_README = """\
# Training only the top layer: the student notebooks

Notebooks about a NumPy network 784-128-128-10 on MNIST where only the top layer
learns. They import the small package `helpers` (in this folder) and read the
digits from `data/mnist` (also here). Start with `notebooks/00_index.ipynb`.

## Install (once)

In a terminal, in this folder (on a shared server: its terminal, in your home),
with Python 3.10 or newer:

```bash
python3 -m venv .venv
. .venv/bin/activate
python -m pip install -c constraints.txt -e .
```

The last line installs `helpers` and what the notebooks need (NumPy, Matplotlib,
ipywidgets, JupyterLab) at the versions the notebooks were made with. Keep the
`-e`: it leaves `helpers` and the digits in this folder, where the notebooks
find them. A notebook opened where `helpers` is not installed stops at its first
cell with one line saying so.

## Open

```bash
. .venv/bin/activate
jupyter lab notebooks
```

On a server whose JupyterLab runs in another environment, pick this folder's
environment as the kernel, or open the notebooks from inside this folder: their
first cell then finds `helpers` here.

The exercises print "correct" or "not yet" with a hint; the solutions are not
in this copy (your teacher has them).

## The explorer as a web page (optional)

Notebook 6's explorer also runs as a page with no code around it (Voila), from
this folder:

```bash
. .venv/bin/activate
python -m pip install -c constraints.txt -e ".[app]"
voila app/explorer.ipynb
```

## What is not here

This copy has no Makefile and no tests: the `make` commands of the project's
repository (the static book, the benchmarks, re-making these copies) work only in
a clone of it. Notebooks 7 and 8 read their slow measurements from `results/`,
which is here.
"""
HANDOUT_FILES = ("pyproject.toml", "constraints.txt", "LICENSE", "app/explorer.ipynb")
HANDOUT_TREES = ("helpers", "data/mnist", "results")  # results/: what notebooks 6-8 load (baselines, rules)


def handout_files(copies: list[Path]) -> dict[str, Path | str]:
    """Name in the zip (under ``HANDOUT/``) -> file to pack, or text."""
    files: dict[str, Path | str] = {"README.md": HANDOUT_README}
    files.update({name: ROOT / name for name in HANDOUT_FILES})
    for tree in HANDOUT_TREES:
        for path in sorted((ROOT / tree).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                files[path.relative_to(ROOT).as_posix()] = path
    files.update({f"notebooks/{path.name}": path for path in copies})
    return files


def write_zip(target: Path, copies: list[Path]) -> int:
    """The handout zip (written to a temporary name, then renamed): returns the number of files."""
    files = handout_files(copies)
    partial = target.with_name(target.name + ".part")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            if isinstance(content, Path):
                archive.write(content, f"{HANDOUT}/{name}")
            else:
                archive.writestr(f"{HANDOUT}/{name}", content)
    partial.replace(target)
    return len(files)


def main(argv: list[str]) -> int:
    args = list(argv)
    zip_target = None
    if "--zip" in args:
        at = args.index("--zip")
        if at + 1 >= len(args):
            print("error: --zip needs a file name, e.g. --zip student.zip", file=sys.stderr)
            return 2
        zip_target = Path(args.pop(at + 1))
        args.pop(at)
    if len(args) > 1 or any(a.startswith("-") for a in args):
        print(f"error: unexpected arguments {args}: usage: student.py [OUT_DIR] [--zip FILE]", file=sys.stderr)
        return 2
    out = Path(args[0]) if args else DEFAULT_OUT
    written = write_student_copies(out)
    if not written:
        print(f"error: no notebooks in {SOURCE}", file=sys.stderr)
        return 2
    print(
        f"wrote {len(written)} student notebooks to {out}: outputs cleared, solutions removed "
        f"(not handed out: {', '.join(TEACHER_ONLY)})"
    )
    if zip_target is not None:
        count = write_zip(zip_target, written)
        print(
            f"wrote {zip_target}: {count} files under {HANDOUT}/ (the copies, helpers, the digits, the stored "
            "results, the app page, a README saying how to install): upload it as it is"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
