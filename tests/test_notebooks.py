"""The notebooks as files: executed in order, outputs kept, and built the way a class can use them.

nbval (run by `make test`) re-executes them and compares every stored
output; this file checks what nbval cannot:

* there is something to compare, in order, with reasons for what is skipped
  (cell tag ``nbval-ignore-output`` plus metadata ``nbval_ignore_reason``, at most
  1 code cell in 10; never a ``# NBVAL_IGNORE_OUTPUT`` comment in the learner's code);
* every notebook 01-07 has its setup cell, ``## Exercises`` with 3-5
  ``### Exercise N: title (read|derive|code)`` cells in that order, ``## What you
  learned``, ``## Solutions`` with one closed ``<details>`` block per exercise, and
  the generated navigation cell at the end;
* no exercise is answered above its question: no output and no prose above an
  exercise's heading shows a number its checker accepts (``expected_numbers()`` of the
  notebook's module in ``helpers.exercises``);
* code cells are short (at most 15 lines) unless they draw a figure (``alt_text``);
* headings go one ``#`` title, then ``##``, ``###``, never skipping a level.

Each check is a function returning a list of problems; the fake notebooks at the
end show that each one fails when it should. Dead links: tests/test_links.py.
"""

import ast
import math
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
ALL = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
LESSONS = [p for p in ALL if not p.name.startswith("00_")]  # 01-07: exercises, setup and navigation cells
IGNORE_COMMENT = re.compile(r"#\s*NBVAL_IGNORE_OUTPUT", re.I)
IGNORE_TAG = "nbval-ignore-output"
MAX_CODE_LINES = 15
EXERCISE = re.compile(r"### Exercise (\d+): .+ \((read|derive|code)\b[^)]*\)\s*$")  # "(code, open)" is fine
KINDS = ["read", "derive", "code"]


def read(path):
    return nbformat.read(path, as_version=4)


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]


def tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def first_line(cell):
    return cell.source.lstrip().splitlines()[0] if cell.source.strip() else ""


def output_text(cell):
    """Everything a code cell shows as text: streams, results, displays, errors."""
    parts = []
    for out in cell.get("outputs", []):
        if "text" in out:
            parts.append(out["text"])
        for kind in ("text/plain", "text/html", "text/markdown"):
            if kind in out.get("data", {}):
                value = out["data"][kind]
                parts.append(value if isinstance(value, str) else "".join(value))
        parts += out.get("traceback", [])
    return "\n".join(parts)


# ---- the checks: each returns a list of problems (empty when the notebook is right) ----


def markdown_lines(nb):
    """[(cell index, line number, line)] of every markdown cell, fenced code left out: headings may sit mid-cell."""
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        fenced = False
        for j, line in enumerate(cell.source.splitlines()):
            if line.lstrip().startswith("```"):
                fenced = not fenced
            elif not fenced:
                found.append((i, j, line))
    return found


def structure_problems(nb):
    """Setup cell, exercises (3-5), summary, closed solutions, navigation cell, in that order."""
    problems = []
    lines = markdown_lines(nb)

    def heading(prefix):
        return next(((i, j) for i, j, line in lines if line.startswith(prefix)), None)

    exercises, learned, solutions = heading("## Exercises"), heading("## What you learned"), heading("## Solutions")
    for name, where in (("## Exercises", exercises), ("## What you learned", learned), ("## Solutions", solutions)):
        if where is None:
            problems.append(f"no '{name}' heading")
    if None not in (exercises, learned, solutions) and not exercises < learned < solutions:
        problems.append("the order must be: ## Exercises, ## What you learned, ## Solutions")
    if exercises is not None:
        end = learned if learned is not None and learned > exercises else (len(nb.cells), 0)
        titles = [line for i, j, line in lines if exercises < (i, j) < end and line.startswith("### Exercise")]
        if not 3 <= len(titles) <= 5:
            problems.append(f"{len(titles)} '### Exercise' headings after ## Exercises (3-5 expected)")
        parsed = [EXERCISE.match(t) for t in titles]
        for title, match in zip(titles, parsed):
            if not match:
                problems.append(
                    f"exercise heading not in the form '### Exercise N: title (read|derive|code)': {title!r}"
                )
        if all(parsed) and titles:
            numbers = [int(m.group(1)) for m in parsed]
            kinds = [KINDS.index(m.group(2)) for m in parsed]
            if numbers != list(range(1, len(numbers) + 1)):
                problems.append(f"exercises numbered {numbers}, expected 1..{len(numbers)}")
            if kinds != sorted(kinds):
                problems.append("exercises not ordered read -> derive -> code")
            if max(kinds) == 0:
                problems.append("no exercise asks for a derivation or code")
            if solutions is not None:
                after = "\n".join(line for i, j, line in lines if (i, j) > solutions)
                solved = {int(n) for n in re.findall(r"<summary>\s*Solution to exercise (\d+)", after)}
                if solved != set(numbers):
                    problems.append(f"solutions for exercises {sorted(solved)}, exercises {numbers}")
    if learned is not None:
        section = []
        for i, j, line in lines:
            if (i, j) > learned:
                if line.startswith("#"):
                    break
                section.append(line)
        bullets = [line for line in section if re.match(r"[-*] ", line)]
        if not 3 <= len(bullets) <= 6:
            problems.append(f"## What you learned has {len(bullets)} bullets (3-6 expected)")
    if solutions is not None:
        after = "\n".join(
            c.source if i > solutions[0] else "\n".join(c.source.splitlines()[solutions[1] :])
            for i, c in enumerate(nb.cells)
            if c.cell_type == "markdown" and i >= solutions[0]
        )
        blocks = re.findall(r"<details\b.*?(?=<details\b|\Z)", after, re.S)
        if not blocks:
            problems.append("no <details> block after ## Solutions")
        for block in blocks:
            tag = re.match(r"<details\b[^>]*>", block).group(0)
            if re.search(r"\bopen\b", tag):
                problems.append(f"a solution is open by default: {tag}")
            if "<summary>" not in block or "</details>" not in block:
                problems.append(f"a solution block needs <summary> and </details>: {block[:60]!r}")
    code = code_cells(nb)
    if not code or "setup" not in tags(code[0]):
        problems.append("the first code cell is not the setup cell (run scripts/navigation.py)")
    if not nb.cells or "navigation" not in tags(nb.cells[-1]) or "00_index.ipynb" not in nb.cells[-1].source:
        problems.append("the last cell is not the navigation cell (run scripts/navigation.py)")
    return problems


SIGNIFICANT = 3  # shorter numbers (a digit, 10, 0.5) occur everywhere: not checked
NUMBER = re.compile(r"(?<![\w.])[-+]?\d[\d,_]*(?:\.\d+)?(?:[eE][-+]?\d+)?(%?)")


def significant_digits(token):
    mantissa = re.split(r"[eE]", token)[0].lstrip("+-").replace(",", "").replace("_", "")
    return len(mantissa.replace(".", "").lstrip("0"))


def prints_number(text, value):
    """Does ``text`` show ``value`` (at least 3 significant digits), in any common format?

    7840016, 7,840,016, 7840016.0, 7.84e+06 and a percentage (48.19% for 0.4819)
    all count: a printed token matches when it equals the value rounded to the
    token's own precision.
    """
    value = float(value)
    if not math.isfinite(value) or significant_digits(f"{value:.15g}") < SIGNIFICANT and abs(value) < 1000:
        return False
    for match in NUMBER.finditer(text):
        token = match.group(0).rstrip("%")
        if significant_digits(token) < SIGNIFICANT:
            continue
        try:
            shown = float(token.replace(",", "").replace("_", ""))
        except ValueError:
            continue
        mantissa = re.split(r"[eE]", token)[0]
        decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
        exponent = int(re.split(r"[eE]", token)[1]) if re.search(r"[eE]", token) else 0
        candidates = [value, value * 100] if match.group(1) else [value]
        for candidate in candidates:
            step = 10.0 ** (exponent - decimals)
            if abs(shown - candidate) <= step / 2 * (1 + 1e-9):
                return True
    return False


def answered_above(nb, expected):
    """Problems: a number a checker accepts, in an output or in prose above that checker's exercise heading."""
    problems = []
    for checker, numbers in expected.items():
        call = re.compile(rf"\b{re.escape(checker)}\s*\(")
        calls = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and call.search(c.source)]
        if not calls:
            continue  # a checker this notebook does not use (yet) has no exercise to be answered above
        headings = [
            i
            for i, c in enumerate(nb.cells[: calls[0]])
            if c.cell_type == "markdown" and re.search(r"^### Exercise", c.source, re.M)
        ]
        if not headings:
            problems.append(f"{checker}: no '### Exercise' heading above its first call")
            continue
        above = headings[-1]
        heading_cell = nb.cells[above].source
        last_heading = [m.start() for m in re.finditer(r"^### Exercise", heading_cell, re.M)][-1]
        for i, cell in enumerate(nb.cells[: above + 1]):
            if i == above:  # the cell holding the heading (it may also hold the ## Exercises intro): text before it
                text, where = heading_cell[:last_heading], "written in"
            elif cell.cell_type == "code":
                text, where = output_text(cell), "printed by"
            else:
                text, where = cell.source, "written in"
            for number in numbers:
                if prints_number(text, number):
                    problems.append(
                        f"{checker}: the answer {number} is {where} cell {i} "
                        f"({first_line(cell)[:50]!r}), above its exercise"
                    )
    return problems


def lines_of_code(source: str) -> int:
    """Non-blank lines, an import statement wrapped over several lines (ruff's one name a line) counted once."""
    count = sum(1 for line in source.splitlines() if line.strip())
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython syntax (a magic): every line counts
        return count
    return count - sum(
        node.end_lineno - node.lineno for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))
    )


def long_code_cells(nb):
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or "alt_text" in cell.metadata or "setup" in cell.metadata.get("tags", []):
            continue  # the setup cell is generated (scripts/navigation.py) and tested on its own
        lines = lines_of_code(cell.source)
        if lines > MAX_CODE_LINES:
            problems.append(
                f"cell {i} has {lines} lines of code ({first_line(cell)[:50]!r}); "
                f"at most {MAX_CODE_LINES} unless it draws a figure (metadata alt_text)"
            )
    return problems


def heading_problems(nb):
    problems, level, titles = [], 0, 0
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        text = re.sub(r"^```.*?^```", "", cell.source, flags=re.S | re.M)  # comments in code blocks are not headings
        for line in text.splitlines():
            match = re.match(r"(#{1,6}) \S", line)
            if not match:
                continue
            depth = len(match.group(1))
            titles += depth == 1
            if depth > level + 1:
                problems.append(f"heading skips a level: {line[:60]!r}")
            level = depth
    if titles != 1:
        problems.append(f"{titles} '#' titles (one expected)")
    return problems


def ignore_problems(notebooks):
    """Problems with ignored outputs over the whole collection: few, tagged, explained."""
    problems, total, ignored = [], 0, 0
    for name, nb in notebooks:
        for cell in code_cells(nb):
            total += 1
            if IGNORE_COMMENT.search(cell.source):
                problems.append(
                    f"{name}: '# NBVAL_IGNORE_OUTPUT' in the code ({first_line(cell)[:40]!r}): "
                    f"use the cell tag {IGNORE_TAG} and metadata nbval_ignore_reason"
                )
            if IGNORE_TAG in tags(cell):
                ignored += 1
                if not str(cell.metadata.get("nbval_ignore_reason", "")).strip():
                    problems.append(f"{name}: tag {IGNORE_TAG} without metadata nbval_ignore_reason")
    if ignored * 10 > total:
        problems.append(f"{ignored} of {total} code cells ignore their output (at most 1 in 10)")
    return problems


def expected_numbers_for(path):
    """The notebook's checkers' accepted numbers: helpers.exercises.exNN_*.expected_numbers()."""
    from helpers import exercises

    numbers = {}
    for module in exercises.MODULES:
        if module.__name__.rsplit(".", 1)[1][2:4] == path.name[:2]:
            numbers.update(module.expected_numbers())
    return numbers


# ---- the tests over the real notebooks ----


def test_the_collection_is_there():
    names = [p.name[:2] for p in ALL if not p.name.startswith("00_")]
    assert names == [f"{i:02d}" for i in range(1, len(names) + 1)]
    assert len(names) >= 7
    assert (ROOT / "notebooks" / "00_index.ipynb").is_file()
    index = "\n".join(c.source for c in read(ROOT / "notebooks" / "00_index.ipynb").cells)
    for path in ALL:
        if path.name != "00_index.ipynb":
            assert f"]({path.name})" in index, f"the index does not link {path.name}"


def test_the_index_says_what_every_notebook_teaches_and_assumes():
    index = read(ROOT / "notebooks" / "00_index.ipynb")
    sections = {}
    for cell in index.cells:
        heading = re.match(r"### \[\d+\. .+\]\((\d\d_\w+\.ipynb)\)", cell.source)
        if heading:
            sections[heading.group(1)] = cell.source
    for path in LESSONS:
        assert path.name in sections, f"the index has no 'Teaches / You need' section for {path.name}"
        assert "**Teaches.**" in sections[path.name] and "**You need.**" in sections[path.name], path.name
    count = {7: "Seven", 8: "Eight", 9: "Nine", 10: "Ten"}.get(len(LESSONS), str(len(LESSONS)))
    assert f"{count} notebooks take it apart" in index.cells[0].source, (
        "the index's introduction miscounts the notebooks"
    )


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_executed_top_to_bottom_with_outputs(path):
    nb = read(path)
    cells = code_cells(nb)
    counts = [c.execution_count for c in cells]
    assert None not in counts, "a code cell was never executed: run `make notebooks`"
    assert counts == list(range(1, len(cells) + 1)), "execution counts out of order: run `make notebooks`"
    assert sum(bool(c.outputs) for c in cells) >= len(cells) // 2 - 1, "outputs look stripped"
    assert nb.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_no_errors_or_warnings_stored(path):
    for cell in code_cells(read(path)):
        for out in cell.outputs:
            assert out["output_type"] != "error", cell.source[:80]
            assert not (out["output_type"] == "stream" and out["name"] == "stderr"), out["text"][:200]


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_stored_widgets_show_a_readable_line(path):
    # the widget state is not stored, so a stored widget view would render as "model not found":
    # only its one-line text/plain (what it is, how to start it) may be kept
    for cell in code_cells(read(path)):
        for out in cell.outputs:
            data = out.get("data", {})
            assert "application/vnd.jupyter.widget-view+json" not in data, cell.source[:80]
            text = data.get("text/plain", "")
            assert not re.match(r"\w*Box\(children=", text), text[:80]


def test_ignored_outputs_are_few_tagged_and_explained():
    problems = ignore_problems([(p.name, read(p)) for p in ALL])
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_setup_exercises_summary_solutions_navigation(path):
    problems = structure_problems(read(path))
    assert not problems, "\n".join(problems)


@pytest.mark.slow  # the checkers' expected numbers train runs
@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_no_exercise_is_answered_above_its_question(path):
    problems = answered_above(read(path), expected_numbers_for(path))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_code_cells_are_short_unless_figures(path):
    problems = long_code_cells(read(path))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_headings_title_then_levels_in_order(path):
    problems = heading_problems(read(path))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_notebooks_import_helpers(path):
    assert "helpers" in "".join(c.source for c in read(path).cells)


def test_navigation_cells_are_up_to_date():
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, ROOT / "scripts" / "navigation.py", "--check"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"run `python scripts/navigation.py`:\n{result.stdout}{result.stderr}"


# ---- the checks fail when they should: tiny fake notebooks ----


def fake_lesson(answer_printed_above=False, summary=True, open_solution=False):
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    setup = code("import helpers", metadata={"tags": ["setup"]})
    shown = code("print(size)", outputs=[nbformat.v4.new_output("stream", text="7,840,016 bytes\n")])
    cells = [
        md("# 9. A fake lesson"),
        setup,
        md("## Body"),
        code("size = 7840016"),
        *([shown] if answer_printed_above else []),
        md("## Exercises"),
        md("### Exercise 1: size (read)"),
        code("answer = None\ncheck_size(answer)"),
        md("### Exercise 2: why (derive)\nCompare with the solution below."),
        md("### Exercise 3: code (code)"),
        code("def f(x):\n    return None\ncheck_f(f)"),
    ]
    if summary:
        cells.append(md("## What you learned\n\n- one\n- two\n- three"))
    cells += [
        md("## Solutions"),
        md(
            f"<details{' open' if open_solution else ''}>\n<summary>Solution to exercise 1</summary>\n\n"
            "```python\ncheck_size(7840016)\n```\n\n</details>"
        ),
        md("<details>\n<summary>Solution to exercise 2</summary>\n\nBecause.\n\n</details>"),
        md("<details>\n<summary>Solution to exercise 3</summary>\n\n```python\ncheck_f(abs)\n```\n\n</details>"),
        md("<!-- generated -->\n[Index](00_index.ipynb)", metadata={"tags": ["navigation"]}),
    ]
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    return nb


def test_a_well_built_fake_lesson_passes():
    nb = fake_lesson()
    assert structure_problems(nb) == []
    assert answered_above(nb, {"check_size": [7840016]}) == []
    assert heading_problems(nb) == [] and long_code_cells(nb) == []


def test_an_answer_printed_above_its_exercise_fails():
    problems = answered_above(fake_lesson(answer_printed_above=True), {"check_size": [7840016.0]})
    assert len(problems) == 1 and "check_size" in problems[0]


@pytest.mark.parametrize(
    "text, value, found",
    [
        ("7840016", 7840016, True),
        ("size: 7,840,016 bytes", 7840016, True),
        ("7840016.0", 7840016, True),
        ("7.84e+06", 7840016, True),
        ("test accuracy 48.19%", 0.4819, True),
        ("loss 2.3026", 2.302585, True),
        ("78400160", 7840016, False),
        ("7840017", 7840016, False),
        ("step 1", 1, False),
        ("2.3", 2.302585, False),
    ],
)
def test_numbers_are_found_in_any_format(text, value, found):
    assert prints_number(text, value) is found


def test_an_answer_written_in_the_prose_above_fails():
    nb = fake_lesson()
    nb.cells[2].source += "\n\nThe test images file holds 7,840,016 bytes."
    problems = answered_above(nb, {"check_size": [7840016]})
    assert len(problems) == 1 and "written in cell 2" in problems[0]


def test_first_exercise_inside_the_exercises_cell_is_found():
    nb = fake_lesson()
    index = next(i for i, c in enumerate(nb.cells) if first_line(c) == "## Exercises")
    nb.cells[index].source += "\n\nTry them.\n\n" + nb.cells[index + 1].source
    del nb.cells[index + 1]
    assert structure_problems(nb) == [] and answered_above(nb, {"check_size": [7840016]}) == []
    nb.cells[index].source = nb.cells[index].source.replace("Try them.", "The file holds 7840016 bytes.")
    assert len(answered_above(nb, {"check_size": [7840016]})) == 1


def test_a_missing_summary_fails():
    assert any("What you learned" in p for p in structure_problems(fake_lesson(summary=False)))


def test_headings_in_the_middle_of_a_cell_count():
    nb = fake_lesson()
    index = next(i for i, c in enumerate(nb.cells) if first_line(c) == "## What you learned")
    nb.cells[index].source = "Closing words.\n\n" + nb.cells[index].source + "\n\n## Solutions\n\nTry first."
    del nb.cells[index + 1]  # one cell now holds some prose, the summary and the Solutions heading
    assert structure_problems(nb) == []


def test_an_open_solution_fails():
    assert any("open by default" in p for p in structure_problems(fake_lesson(open_solution=True)))


def test_missing_setup_or_navigation_fails():
    nb = fake_lesson()
    nb.cells = [c for c in nb.cells if not tags(c)]
    problems = structure_problems(nb)
    assert any("setup" in p for p in problems) and any("navigation" in p for p in problems)


def test_exercises_out_of_order_or_without_solutions_fail():
    nb = fake_lesson()
    heading = next(c for c in nb.cells if first_line(c).startswith("### Exercise 3"))
    heading.source = "### Exercise 3: code (read)"
    problems = structure_problems(nb)
    assert any("read -> derive -> code" in p for p in problems)
    heading.source = "### Exercise 3 code"
    assert any("not in the form" in p for p in structure_problems(nb))


def test_too_few_exercises_fail():
    nb = fake_lesson()
    nb.cells = [c for c in nb.cells if not first_line(c).startswith("### Exercise 3")]
    assert any("2 '### Exercise' headings" in p for p in structure_problems(nb))


def test_long_cells_fail_unless_figures():
    cell = nbformat.v4.new_code_cell("\n".join(f"x{i} = {i}" for i in range(16)))
    nb = nbformat.v4.new_notebook()
    nb.cells = [cell]
    assert len(long_code_cells(nb)) == 1
    cell.metadata["alt_text"] = "a figure"
    assert long_code_cells(nb) == []
    # an import wrapped one name a line is one line; the statements around it still count
    wrapped = "from helpers.gradcheck import (\n" + "".join(f"    name{i},\n" for i in range(20)) + ")\n"
    nb.cells = [nbformat.v4.new_code_cell(wrapped + "\n".join(f"x{i} = {i}" for i in range(14)))]
    assert long_code_cells(nb) == []
    nb.cells = [nbformat.v4.new_code_cell(wrapped + "\n".join(f"x{i} = {i}" for i in range(15)))]
    assert len(long_code_cells(nb)) == 1


def test_ignore_comments_and_unexplained_tags_fail():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("# NBVAL_IGNORE_OUTPUT\nprint(1)"),
        nbformat.v4.new_code_cell("print(2)", metadata={"tags": [IGNORE_TAG]}),
    ]
    problems = ignore_problems([("fake", nb)])
    assert any("in the code" in p for p in problems)
    assert any("without metadata" in p for p in problems)
    assert any("1 of 2 code cells" in p for p in problems)


def test_skipped_heading_levels_fail():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Title\n\n### Too deep")]
    assert heading_problems(nb) == ["heading skips a level: '### Too deep'"]


@pytest.mark.slow  # runs the script three times
def test_navigation_script_on_a_copy_is_idempotent_and_replaces_old_links(tmp_path):
    import subprocess
    import sys

    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    for number, name in ((1, "first"), (2, "second"), (3, "third")):
        nb = nbformat.v4.new_notebook()
        nb.cells = [
            md("<!--NAVIGATION-->\n[Contents](../README.md) | [next](02_second.ipynb) >"),
            md(f"# {number}. The {name} one\n\nIntro, with a [hand-written link](01_first.ipynb)."),
            code("import numpy as np"),
            code("print(1)"),
            md("<!--NAVIGATION-->\n[Contents](../README.md)"),
        ]
        nbformat.write(nb, tmp_path / f"0{number}_{name}.ipynb")
    script = [sys.executable, ROOT / "scripts" / "navigation.py", str(tmp_path)]
    first = subprocess.run(script, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    assert "hand-written link left in place: ](01_first.ipynb)" in first.stderr
    snapshot = {p.name: p.read_bytes() for p in tmp_path.glob("*.ipynb")}
    second = subprocess.run(script, capture_output=True, text=True, timeout=60)
    assert second.returncode == 0 and second.stdout == ""
    assert {p.name: p.read_bytes() for p in tmp_path.glob("*.ipynb")} == snapshot  # running twice changes nothing
    assert subprocess.run(script[:2] + ["--check", str(tmp_path)], capture_output=True, timeout=60).returncode == 0

    middle = read(tmp_path / "02_second.ipynb")
    assert [first_line(c) for c in middle.cells][:2] == [
        "# 2. The second one",
        "# Setup (generated by scripts/navigation.py): not pip-installed? use the repository around this notebook",
    ]
    assert "<!--NAVIGATION-->" not in "".join(c.source for c in middle.cells)
    assert not [p for p in structure_problems(middle) if "setup" in p or "navigation" in p]
    nav = middle.cells[-1].source
    assert (
        "[1. The first one](01_first.ipynb)" in nav and "[Index](00_index.ipynb)" in nav and "(03_third.ipynb)" in nav
    )
    assert "&larr;" not in read(tmp_path / "01_first.ipynb").cells[-1].source
    assert "&rarr;" not in read(tmp_path / "03_third.ipynb").cells[-1].source
    assert sum("setup" in tags(c) for c in middle.cells) == 1


PROJECTOR_OUTPUT_PX, PROJECTOR_MIN_TEXT_PX = 592, 12  # a 1024 px screen with the file browser open


def shown_text_heights(fig) -> dict:
    """{text: height in px} of every visible text once the figure is shrunk into PROJECTOR_OUTPUT_PX, as Jupyter shows it."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")  # what the inline backend stores
    width = Image.open(buffer).size[0]
    scale = min(1.0, PROJECTOR_OUTPUT_PX / width)
    texts = []
    for ax in fig.axes:
        texts += ax.texts + [ax.title]
        texts += list(ax.get_legend().get_texts()) if ax.get_legend() else []
        if ax.axison:
            texts += [ax.xaxis.label, ax.yaxis.label, *ax.get_xticklabels(), *ax.get_yticklabels()]
    return {t.get_text(): t.get_fontsize() * fig.dpi / 72 * scale for t in texts if t.get_text() and t.get_visible()}


def test_notebook_4s_figures_are_readable_on_a_projector(mnist):
    # drawn as notebook 4 draws them: the graph 8 in wide, the step sweep of its batch
    import matplotlib.pyplot as plt

    from helpers import plots
    from helpers.gradcheck import step_size_sweep
    from helpers.train import TrainConfig, initial_params

    sweep = step_size_sweep(
        initial_params(TrainConfig()), mnist.train.images[:8], mnist.train.labels[:8], [1e-2, 1e-5, 1e-9], samples=2
    )
    for fig in (
        plots.computational_graph(width=8),
        plots.gradcheck_sweep(
            sweep,
            title="A correct gradient's error: too large a step meets\nthe ReLU kinks, too small a step the rounding",
        ),
    ):
        heights = shown_text_heights(fig)
        assert min(heights.values()) >= PROJECTOR_MIN_TEXT_PX, heights
        plt.close(fig)
    source = "".join(read(ROOT / "notebooks" / "04_backward_pass.ipynb").cells[4].source)
    assert "plots.computational_graph(width=8)" in source


def test_reading_time_counts_prose_code_and_predictions_apart():
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import navigation
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        md("# Title words\n\nPredict before you run it: guess a number. A prediction is not a prompt."),
        code("x = 1\n\ny = 2"),
        md("The reference:\n\n```python\nz = 3\n```"),
        md("## Solutions\n\nPredict nothing here, the words after are not read."),
    ]
    words, lines, predictions = navigation.reading_parts(nb)
    assert (lines, predictions) == (3, 2)  # two code-cell lines and one quoted line; "prediction" is no prompt
    assert words == len(
        "# Title words Predict before you run it: guess a number. A prediction is not a prompt. The reference:".split()
    )
    minutes = (
        words / navigation.WORDS_PER_MINUTE
        + 3 * navigation.SECONDS_PER_CODE_LINE / 60
        + 2 * navigation.MINUTES_PER_PREDICTION
    )
    assert navigation.reading_minutes(words, lines, predictions) == math.ceil(minutes)
    # notebooks 1-4 come out near the 1.6 times their word count at 150 words a minute that reading them took
    for path in LESSONS[:4]:
        nb = read(path)
        cells = nb.cells[: next(i for i, c in enumerate(nb.cells) if c.source.startswith("## Solutions"))]
        all_words = sum(len(c.source.split()) for c in cells if not {"setup", "navigation"} & set(tags(c)))
        ratio = navigation.reading_minutes(*navigation.reading_parts(nb)) / (all_words / 150)
        assert 1.3 < ratio < 1.9, (path.name, ratio)
