"""`make student` (scripts/student.py): copies a class can work through, and one zip to hand them out.

* The copies: outputs cleared, solutions gone, no sentence left that sends the
  reader to the removed solutions, the teacher's guide not among them. Their code
  cells are the originals' code cells, unchanged and in order, so they run exactly
  as the originals do, and the originals' stored outputs, which show every checker
  saying "not yet" to the unanswered exercises, are what the copies must print
  (checked below, in the installed zip, under nbval).
* The setup cell, where `helpers` cannot be found, stops with one line saying
  what to do (a real kernel runs it).
* The zip: unpacked in a temporary folder outside the repository, installed into a
  fresh venv exactly as its README says, and one copy run there, top to bottom, by
  that venv's kernel. Takes a minute or two (the venv and pip's cache); without
  network and without a pip cache it skips, except under CI=true. In the slow tier
  (``-m slow``), every copy runs there under nbval with one BLAS thread, given the
  outputs its original was published with: what a class does with the zip, and the
  one-thread half of the suite's nbval (`make test` runs nbval over `notebooks/` with
  two threads; `make nbval` runs it with one in the repository).
* The copies name no `make` target (the handout has no Makefile): they say the
  command that works in the handout folder.
"""

import json
import os
import re
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
try:
    import student
    from navigation import SETUP_SOURCE
finally:
    sys.path.remove(str(ROOT / "scripts"))

RUN_IN_THE_ZIP = "03_forward_pass.ipynb"  # the quickest lesson with exercises: a few seconds


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """scripts/student.py run as `make student` runs it -> (copies folder, zip file)."""
    tmp = tmp_path_factory.mktemp("student")
    out, archive = tmp / "student", tmp / "student.zip"
    (out).mkdir()
    (out / "00_teachers_guide.ipynb").write_text("{}")  # left over from an older `make student`
    result = subprocess.run(
        [sys.executable, ROOT / "scripts" / "student.py", str(out), "--zip", str(archive)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return out, archive


def originals():
    return sorted(p for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb") if p.name not in student.TEACHER_ONLY)


def code_sources(nb):
    return [c.source for c in nb.cells if c.cell_type == "code"]


def printed(cell):
    return [line for o in cell.outputs if o.get("name") == "stdout" for line in o["text"].splitlines()]


def test_the_copies_are_the_lessons_without_outputs_solutions_or_the_teachers_guide(made):
    out, _ = made
    assert sorted(p.name for p in out.glob("*.ipynb")) == [p.name for p in originals()]
    assert "00_teachers_guide.ipynb" in student.TEACHER_ONLY
    problems = []
    for path in originals():
        copy, original = nbformat.read(out / path.name, as_version=4), nbformat.read(path, as_version=4)
        text = "\n".join(c.source for c in copy.cells)
        if "<details" in text or "<summary>Solution" in text:
            problems.append(f"{path.name}: a solution is left")
        if any(c.outputs or c.execution_count is not None for c in copy.cells if c.cell_type == "code"):
            problems.append(f"{path.name}: outputs left")
        for cell in copy.cells:
            if cell.cell_type == "markdown":
                prose = cell.source.replace(student.NOTE, "")
                for sentence in student.SENTENCE_END.split(prose):
                    if student.POINTS_AT_SOLUTIONS.search(sentence) or "00_teachers_guide" in sentence:
                        problems.append(f"{path.name}: {sentence.strip()[:160]!r}")
        # same code, same order: the copy runs as the original does, which nbval checks
        if code_sources(copy) != code_sources(original):
            problems.append(f"{path.name}: the code cells differ from the original's")
    assert not problems, "\n".join(problems)


def test_the_originals_run_their_exercises_unanswered_and_every_checker_says_not_yet():
    # what the copies will print: the stored outputs of the same code (nbval reproduces them)
    for path in originals():
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert not [o for c in code for o in c.outputs if o["output_type"] == "error" or o.get("name") == "stderr"]
        if path.name.startswith("00_"):
            continue
        checks = [c for c in code if re.search(r"\bcheck\w*\(", c.source) and "= None" in c.source]
        assert checks, f"{path.name}: no unanswered exercise cell"
        for cell in checks:
            lines = printed(cell)
            assert any(line.startswith("not yet") for line in lines), (path.name, cell.source[:80], lines)
            assert not any(line.startswith("correct") for line in lines), (path.name, cell.source[:80], lines)


def test_sentences_pointing_at_the_solutions_are_rewritten_or_dropped():
    known = (
        'Try each one before you open its solution at the end of the notebook. A checker answers "correct"; '
        "it never shows the answer."
    )
    assert student.without_solution_pointers(known) == (
        'Try each one yourself first. A checker answers "correct"; it never shows the answer.'
    )
    assert student.without_solution_pointers("Write it down, then compare with the solution below.") == (
        "Write it down, then discuss it with your teacher."
    )
    unknown = "Predict the sign. (Hint: look at the mean.) The solution below derives it. Then plot it."
    assert student.without_solution_pointers(unknown) == "Predict the sign. (Hint: look at the mean.) Then plot it."
    linked = "Teachers: the [guide](00_teachers_guide.ipynb) has answers. Start at [1](01_data.ipynb)."
    assert student.without_solution_pointers(linked) == "Start at [1](01_data.ipynb)."
    table = "| `make student` | outputs cleared and solutions removed |\n\n| a | b |"
    assert student.without_solution_pointers(table) == table  # says what the copy is: kept


def test_student_copy_drops_outputs_and_solution_blocks_only():
    md = nbformat.v4.new_markdown_cell
    ran = nbformat.v4.new_code_cell(
        "print(1)", execution_count=3, outputs=[nbformat.v4.new_output("stream", text="1\n")]
    )
    nb = nbformat.v4.new_notebook()
    nb.metadata["widgets"] = {"state": {}}
    nb.cells = [
        md("# Title"),
        ran,
        md("<details>\n<summary>Not a solution: above the solutions</summary>\n</details>"),
        md("## What you learned\n\n- a"),
        md("## Solutions"),
        md("<details>\n<summary>Solution to exercise 1</summary>\n\n```python\nx\n```\n\n</details>"),
        md("[Index](00_index.ipynb)", metadata={"tags": ["navigation"]}),
    ]
    copy = student.student_copy(nb)
    assert [c.source.splitlines()[0] for c in copy.cells] == [
        "# Title",
        "print(1)",
        "<details>",
        "## What you learned",
        "## Solutions",
        "[Index](00_index.ipynb)",
    ]
    assert "not in it" in copy.cells[4].source
    assert copy.cells[1].outputs == [] and copy.cells[1].execution_count is None
    nb.cells = [
        md(
            "Last words.\n\n## What you learned\n\n- a\n\n## Solutions\n\n<details>\n<summary>Solution to "
            "exercise 1</summary>\n\nx\n\n</details>"
        ),
        md("<details>\n<summary>Solution to exercise 2</summary>"),
    ]
    copy = student.student_copy(nb)
    assert len(copy.cells) == 1 and copy.cells[0].source.startswith(
        "Last words.\n\n## What you learned\n\n- a\n\n## Solutions"
    )
    assert "<details" not in copy.cells[0].source
    assert "widgets" not in copy.metadata


def test_the_setup_cell_says_in_one_line_what_to_do_when_helpers_is_missing(tmp_path, monkeypatch):
    # a package named helpers that is not there: the kernel's `import helpers` fails as where it is not installed
    shadow = tmp_path / "shadow" / "helpers"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ModuleNotFoundError(\"No module named 'helpers'\", name='helpers')\n")
    elsewhere = tmp_path / "elsewhere"  # no folder above it holds helpers/
    elsewhere.mkdir()
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "shadow"))
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(SETUP_SOURCE), nbformat.v4.new_code_cell("print('ran on')")]
    with pytest.raises(CellExecutionError):  # it stops "Run All" there
        NotebookClient(
            nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(elsewhere)}}
        ).execute()
    (output,) = nb.cells[0].outputs
    assert output["output_type"] == "error" and len(output["traceback"]) == 1, output
    line = output["traceback"][0]
    assert "\n" not in line and "Traceback" not in line
    assert "helpers" in line and "pip install" in line and "inside" in line
    assert nb.cells[1].outputs == []


def unpacked(archive: Path, into: Path) -> Path:
    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
        assert {name.split("/")[0] for name in names} == {student.HANDOUT}, "one top folder"
        zf.extractall(into)
    return into / student.HANDOUT


def readme_block(readme: str, heading: str) -> str:
    section = readme.split(f"## {heading}\n", 1)[1]
    return re.search(r"```bash\n(.*?)```", section, re.S).group(1)


DRIVER = textwrap.dedent("""
    import sys
    import nbformat
    from nbclient import NotebookClient

    path = sys.argv[1]
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(
        "import helpers, helpers.data\\n"
        "print('helpers from', helpers.__file__)\\n"
        "print('data from', helpers.data.find_mnist_dir(download=False))"))
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": sys.argv[2]}}).execute()
    lines = [l for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.get("name") == "stdout"
             for l in o["text"].splitlines()]
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.get("name") == "stderr"]
    print("\\n".join(lines))
    print("stderr outputs:", len(errors))
""")

# nbval as the Makefile's NBVAL runs it (the repository's pytest settings and sanitizer), here on the handout's kernel
NBVAL = ["-m", "pytest", "--nbval", "--nbval-sanitize-with", str(ROOT / "nbval_sanitize.cfg"), "-p", "no:cacheprovider"]
HANDOUT_KERNEL = "handout"


def handout_environment(cache: Path) -> dict:
    """The environment the handout is installed and run in: this one without the repository's paths and the
    tests' settings (MPLBACKEND=Agg would draw no figure), an empty cache for the MNIST loader (the digits can
    only come from the zip), pip's own cache kept, one BLAS thread."""
    left_out = ("PYTHONPATH", "MNIST_DIR", "VIRTUAL_ENV", "PYTHONHOME", "MPLBACKEND", "PYTEST_ADDOPTS")
    env = {k: v for k, v in os.environ.items() if k not in left_out}
    pip_cache = os.environ.get("PIP_CACHE_DIR") or str(
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pip"
    )
    env.update(
        XDG_CACHE_HOME=str(cache), PIP_CACHE_DIR=pip_cache, OPENBLAS_NUM_THREADS="1", PIP_DISABLE_PIP_VERSION_CHECK="1"
    )
    return env


def test_the_handouts_nbval_is_the_suites_one_thread_run_over_every_lesson(monkeypatch, tmp_path):
    # `make test` leaves nbval with one thread to the handout's lesson tests: they must cover every lesson with
    # code, at one BLAS thread whatever the caller set, with the sanitizer `make nbval` uses
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setenv("MPLBACKEND", "Agg")  # what tests/conftest.py sets: the lessons' figures would not be drawn
    monkeypatch.setenv("PYTEST_ADDOPTS", "-n 2")  # the caller's options are not nbval's
    env = handout_environment(tmp_path)
    assert env["OPENBLAS_NUM_THREADS"] == "1" and not {"PYTHONPATH", "MPLBACKEND", "PYTEST_ADDOPTS"} & set(env)
    assert NBVAL[NBVAL.index("--nbval-sanitize-with") + 1] == str(ROOT / "nbval_sanitize.cfg")
    lessons = test_every_lesson_of_the_installed_zip_reproduces_its_published_outputs.pytestmark
    (names,) = [m.args[1] for m in lessons if m.name == "parametrize"]
    with_code = [p.name for p in sorted((ROOT / "notebooks").glob("*.ipynb")) if code_sources(nbformat.read(p, 4))]
    assert names == with_code and len(names) >= 8


@pytest.fixture(scope="module")
def installed(made, tmp_path_factory):
    """The zip unpacked in a temporary folder outside the repository and installed there into a fresh venv with
    the README's own install lines -> (folder, the venv's python, environment for running it)."""
    _, archive = made
    tmp = tmp_path_factory.mktemp("handout")
    folder = unpacked(archive, tmp / "upload")
    assert ROOT not in folder.resolve().parents
    readme = (folder / "README.md").read_text()
    env = handout_environment(tmp / "cache")
    install = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", readme_block(readme, "Install (once)")],
        cwd=folder,
        # pip without byte-compiling every installed module (JupyterLab's included): a kernel compiles only what it
        # imports; the README's lines and what they install are unchanged
        env=dict(env, PIP_NO_COMPILE="1"),
        capture_output=True,
        text=True,
        timeout=1200,
    )
    if install.returncode != 0:
        if os.environ.get("CI") == "true" or "ERROR: No matching distribution" not in install.stderr + install.stdout:
            pytest.fail(f"the README's install failed:\n{install.stderr[-3000:]}")
        pytest.skip(f"cannot install from PyPI (offline?): {install.stderr.strip().splitlines()[-1:]}")
    python = folder / ".venv" / "bin" / "python"
    # a fresh environment's first matplotlib import prints (once, on stderr) that it builds its font cache: built
    # here, so that the lessons print what a second run prints, which is what nbval compares
    warm = subprocess.run([python, "-c", "import matplotlib.pyplot"], env=env, capture_output=True, text=True)
    assert warm.returncode == 0, warm.stderr[-3000:]
    (folder.parent / "drive.py").write_text(DRIVER)
    # the venv's kernel under a name of its own, for nbval (which this repository's Python runs)
    spec = tmp / "jupyter" / "kernels" / HANDOUT_KERNEL
    spec.mkdir(parents=True)
    argv = [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "the handout", "language": "python"}))
    env["JUPYTER_PATH"] = str(tmp / "jupyter")
    return folder, python, env


def run_in_the_handout(installed, name: str, timeout: float) -> list:
    """Run notebooks/``name`` of the installed handout top to bottom with its venv's kernel -> printed lines."""
    folder, python, env = installed
    driver = folder.parent / "drive.py"
    result = subprocess.run(
        [python, driver, folder / "notebooks" / name, folder / "notebooks"],
        cwd=folder.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, f"{name} stopped with an error:\n{result.stderr[-3000:]}"
    return result.stdout.splitlines()


@pytest.mark.slow  # a fresh venv, a pip install of the zip, a notebook run in it
def test_the_zip_installs_as_its_readme_says_and_a_copy_runs(made, installed):
    folder, python, env = installed
    names = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and ".venv" not in p.parts}
    assert {f"notebooks/{p.name}" for p in originals()} <= names
    assert "notebooks/00_teachers_guide.ipynb" not in names and "helpers/__init__.py" in names
    assert {"data/mnist/train-images-idx3-ubyte.gz", "pyproject.toml", "constraints.txt", "README.md"} <= names
    assert {"results/baselines.json", "results/rules.json", "app/explorer.ipynb"} <= names  # what notebooks 6-8 read
    assert not [n for n in names if "__pycache__" in n]
    readme = (folder / "README.md").read_text()
    assert "jupyter lab notebooks" in readme_block(readme, "Open")
    assert subprocess.run([python, "-m", "jupyter", "lab", "--version"], env=env, capture_output=True).returncode == 0
    # the app section installs an extra the shipped pyproject has and opens a page the zip ships
    app = readme_block(readme, "The explorer as a web page (optional)")
    assert '-e ".[app]"' in app and "voila app/explorer.ipynb" in app
    assert "app = [" in (folder / "pyproject.toml").read_text()

    lines = run_in_the_handout(installed, RUN_IN_THE_ZIP, timeout=900)
    found = dict(line.split(" from ", 1) for line in lines if line.startswith(("helpers from", "data from")))
    assert Path(found["helpers"]).resolve() == (folder / "helpers" / "__init__.py").resolve()
    assert Path(found["data"]).resolve() == (folder / "data" / "mnist").resolve()
    assert any(line.startswith("not yet") for line in lines) and not any(line.startswith("correct") for line in lines)
    assert lines[-1] == "stderr outputs: 0"


def with_published_outputs(copy, original):
    """The handout's copy with its original's outputs in its code cells (the same sources, in the same order)."""
    copy_code = [c for c in copy.cells if c.cell_type == "code"]
    original_code = [c for c in original.cells if c.cell_type == "code"]
    assert [c.source for c in copy_code] == [c.source for c in original_code]
    for cell, published in zip(copy_code, original_code):
        cell.outputs, cell.execution_count = published.outputs, published.execution_count
    return copy


@pytest.mark.slow
@pytest.mark.parametrize("name", [p.name for p in originals() if code_sources(nbformat.read(p, as_version=4))])
def test_every_lesson_of_the_installed_zip_reproduces_its_published_outputs(installed, name):
    # each lesson as a student runs it (the unpacked zip, its own install and kernel, one BLAS thread), under
    # nbval: every cell must run and print what the repository's copy shows, the unanswered exercises' "not yet"
    # included (test_the_originals_run_their_exercises_unanswered_and_every_checker_says_not_yet)
    folder, _, env = installed
    path = folder / "notebooks" / name
    nbformat.write(with_published_outputs(nbformat.read(path, 4), nbformat.read(ROOT / "notebooks" / name, 4)), path)
    result = subprocess.run(
        [sys.executable, *NBVAL, "--nbval-kernel-name", HANDOUT_KERNEL, "-c", str(ROOT / "pyproject.toml"), path],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, f"{name} in the installed handout:\n{result.stdout[-6000:]}{result.stderr[-2000:]}"


def test_the_copies_name_no_make_target_and_say_what_works_in_the_handout(made):
    out, _ = made
    for path in sorted(out.glob("*.ipynb")):
        prose = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
        assert not student.MAKE_TARGET.search(prose), path.name
    index = "\n".join(c.source for c in nbformat.read(out / "00_index.ipynb", as_version=4).cells)
    assert "| `jupyter lab notebooks` |" in index and "| `voila app/explorer.ipynb` |" in index
    explorer = "\n".join(c.source for c in nbformat.read(out / "06_explorer.ipynb", as_version=4).cells)
    assert "`voila app/explorer.ipynb` in the folder of this copy" in explorer
    with pytest.raises(ValueError, match="make book.*HANDOUT_REWRITES"):
        student.for_the_handout("Then run `make book` again.")
