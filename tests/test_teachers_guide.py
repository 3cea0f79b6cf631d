"""notebooks/00_teachers_guide.ipynb: the sections it tells a teacher to run are sections of the notebooks.

The guide names sections in *italics* (quoted misconceptions are italic too, but
start with a quotation mark). A name belongs to the notebook linked on its line
(the 90-minute plan's rows), else to the notebook its cell is about (the link in
the cell's heading). It must be that notebook's heading, without its number, or
the heading's short title, the part before its first colon ("The IDX format" for
"The IDX format: a header, then raw bytes").
"""

import re
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "notebooks" / "00_teachers_guide.ipynb"
ITALIC = re.compile(r"(?<![*\w])\*(?!\*)([^*\n]+?)\*(?![*\w])")
LINK = re.compile(r"\]\((\d\d_\w+\.ipynb)\)")


def heading_names(notebook: Path) -> set[str]:
    names = set()
    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if re.match(r"#{1,6} ", line):
                    text = re.sub(r"^\d+\.\s+", "", line.lstrip("#").strip())
                    names.update({text, text.split(":")[0].strip()})
    return names


def quoted_sections(guide: Path) -> list[tuple[str, str]]:
    """(notebook file, section name) for every section the guide names."""
    quoted = []
    for cell in nbformat.read(guide, as_version=4).cells:
        if cell.cell_type != "markdown":
            continue
        heading = next((line for line in cell.source.splitlines() if line.startswith("## ")), "")
        cell_notebook = LINK.search(heading)
        for line in cell.source.splitlines():
            links = LINK.findall(line)
            notebook = links[-1] if links else cell_notebook and cell_notebook.group(1)
            for name in ITALIC.findall(line):
                if not name.startswith('"'):
                    assert notebook, f"the guide names the section {name!r} outside a notebook's plan or row"
                    quoted.append((notebook, name))
    return quoted


def test_every_section_the_guide_names_is_a_heading_of_its_notebook():
    quoted = quoted_sections(GUIDE)
    assert len(quoted) > 50  # the walkthroughs and the plan name sections throughout
    missing = [
        f"{notebook}: {name!r}" for notebook, name in quoted if name not in heading_names(ROOT / "notebooks" / notebook)
    ]
    assert not missing, "the guide names sections that are not headings:\n" + "\n".join(missing)


def test_a_renamed_section_is_caught(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(
            "## [1. The data](01_data.ipynb): 15 minutes\n\n"
            '| 0-2 | *The IDX format* and *The IDX header* | *"A misconception."* |'
        )
    ]
    guide = tmp_path / "00_teachers_guide.ipynb"
    nbformat.write(nb, guide)
    quoted = quoted_sections(guide)
    assert quoted == [("01_data.ipynb", "The IDX format"), ("01_data.ipynb", "The IDX header")]
    names = heading_names(ROOT / "notebooks" / "01_data.ipynb")
    assert [name in names for _, name in quoted] == [True, False]


def test_the_guide_plans_90_minutes():
    cells = nbformat.read(GUIDE, as_version=4).cells
    plan = next(c.source for c in cells if c.source.startswith("## A 90-minute class"))
    rows = [line for line in plan.splitlines() if re.match(r"\| \d+-\d+ \|", line)]
    spans = [tuple(map(int, re.match(r"\| (\d+)-(\d+) \|", row).groups())) for row in rows]
    assert spans[0][0] == 0 and spans[-1][1] == 90
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:])), "the plan's rows must follow each other"
    exercise_minutes = sum(b - a for (a, b), row in zip(spans, rows) if "exercise" in row.split("|")[3])
    assert exercise_minutes >= 10  # time to work, in class
    for number in range(1, 8):
        assert any(f"]({number:02d}_" in row for row in rows), f"notebook {number} is not in the plan"


def test_the_guide_shows_the_measured_run_times_of_every_lesson():
    import json
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import navigation
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    cells = nbformat.read(GUIDE, as_version=4).cells
    (table,) = [c.source for c in cells if "run-times" in c.metadata.get("tags", [])]
    run_times = json.loads((ROOT / "scripts" / "run_times.json").read_text())
    for path in navigation.numbered(ROOT / "notebooks"):
        assert f"]({path.name}) | {navigation.run_time(run_times.get(path.name))} |" in table
        assert navigation.run_time(run_times.get(path.name)) != "not measured", path.name
    assert navigation.run_time({"idle": [4.4, 5.6], "loaded": [9.2, 9.4]}) == "4-6 s idle, 9 s loaded"
    assert navigation.run_time(19.2) == "19 s"


def walkthroughs(cells) -> dict:
    """{notebook file: (minutes in its heading, [(start, end, row)])} for every per-notebook plan."""
    plans = {}
    for cell in cells:
        heading = re.match(r"## \[[^\]]+\]\((\d\d_\w+\.ipynb)\): (\d+) minutes", cell.source)
        if heading:
            rows = [
                (int(m.group(1)), int(m.group(2)), row)
                for row in cell.source.splitlines()
                if (m := re.match(r"\| (\d+)-(\d+) \|", row))
            ]
            plans[heading.group(1)] = (int(heading.group(2)), rows)
    return plans


def test_the_walkthroughs_add_up_to_what_the_guide_says():
    cells = nbformat.read(GUIDE, as_version=4).cells
    plans = walkthroughs(cells)
    assert len(plans) == 8
    for notebook, (minutes, rows) in plans.items():
        assert rows[0][0] == 0 and rows[-1][1] == minutes, notebook
        assert all(a[1] == b[0] for a, b in zip(rows, rows[1:])), notebook
    total = sum(minutes for minutes, _ in plans.values())
    assert f"the eight walkthroughs add up to {total} minutes" in cells[0].source


def test_each_slot_of_the_90_minute_plan_is_its_walkthrough_minutes_plus_a_minute_a_question():
    cells = nbformat.read(GUIDE, as_version=4).cells
    plans = walkthroughs(cells)
    plan = next(c.source for c in cells if c.source.startswith("## A 90-minute class"))
    checked = 0
    for row in plan.splitlines():
        slot = re.match(r"\| (\d+)-(\d+) \| \[[^\]]+\]\((\d\d_\w+\.ipynb)\) \| ([^|]+) \|", row)
        stated = re.search(r"\((\d+) min from its walkthrough, (\d+) questions?\)", row)
        if not slot or not stated:
            continue
        start, end, notebook, live = int(slot.group(1)), int(slot.group(2)), slot.group(3), slot.group(4)
        names = [name for name in ITALIC.findall(live) if not name.startswith('"')]
        used = [(a, b) for a, b, walk_row in plans[notebook][1] if any(f"*{name}*" in walk_row for name in names)]
        assert sum(b - a for a, b in used) == int(stated.group(1)), row
        assert len(used) == int(stated.group(2)), row  # one question per walkthrough row
        assert end - start == int(stated.group(1)) + int(stated.group(2)), row
        checked += 1
    assert checked == 7  # every notebook's live slot
