"""The install paths agree: pyproject.toml, environment.yml, README, .ci/run."""

import re
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent


def requirement_name(spec: str) -> str:
    return re.split(r"[<>=!~;\[ ]", spec.strip(), maxsplit=1)[0].lower()


def pip_section_of_environment_yml() -> list:
    """The entries under `- pip:` (a tiny reader: the file is ours and simple)."""
    entries, inside = [], False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        if re.match(r"\s*- pip:\s*$", line):
            inside = True
        elif inside and re.match(r"\s+- ", line):
            entries.append(line.split("- ", 1)[1].strip())
        elif inside and line.strip() and not line.strip().startswith("#"):
            inside = False
    return entries


def jsonschema_pin() -> str:
    """The jsonschema version constraints.txt pins ("4.24.1")."""
    line = next(line for line in (ROOT / "constraints.txt").read_text().splitlines() if line.startswith("jsonschema=="))
    return line.split("==", 1)[1].split(";", 1)[0].strip()


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {requirement_name(d) for d in project["dependencies"]}
    for extra in ("app", "test"):
        wanted |= {requirement_name(d) for d in project["optional-dependencies"][extra] if "python_version <" not in d}
    pip_entries = pip_section_of_environment_yml()
    listed = {requirement_name(e) for e in pip_entries if not e.startswith("-e")}
    assert listed == wanted | {"jsonschema"}  # and the start-up bound, as in constraints.txt (below)
    bound = next(e for e in pip_entries if requirement_name(e) == "jsonschema")
    pinned = tuple(int(part) for part in jsonschema_pin().split("."))
    assert bound == "jsonschema<4.25" and pinned < (4, 25), (bound, pinned)  # 4.25 brought rfc3987-syntax
    assert "-e ." in pip_entries  # the project itself is installed from there too


def test_readme_has_the_two_commands_and_ci_calls_the_test_one():
    readme = (ROOT / "README.md").read_text()
    assert "make train" in readme and "make test" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^\s*make test\b", ci, re.M)


def test_constraints_pin_only_packages_the_project_uses():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    used = {requirement_name(d) for d in project["dependencies"]}
    for extra in project["optional-dependencies"].values():
        used |= {requirement_name(d) for d in extra}
    used |= {"ipykernel"}  # the notebooks' kernel, pulled in by jupyterlab
    used |= {"jsonschema"}  # pulled in by jupyterlab and nbformat, pinned for their start-up (the test below)
    pinned = [line for line in (ROOT / "constraints.txt").read_text().splitlines() if line and not line.startswith("#")]
    assert {requirement_name(p) for p in pinned} <= used


def test_the_servers_and_nbformat_start_without_building_a_grammar():
    # jsonschema from 4.25 imports rfc3987-syntax (jupyter-events asks for its format-nongpl extra), which builds
    # a Lark grammar on import: about a second more for every JupyterLab, Voila, nbval and nbclient start
    # (benchmarks/bench_imports.py). constraints.txt pins the release before it; an environment made without
    # the constraints (environment.yml only bounds it below 4.25) may have another, so only the pin is checked.
    import subprocess
    import sys
    from importlib.metadata import version

    pinned = jsonschema_pin()
    if version("jsonschema") != pinned:
        pytest.skip(
            f"jsonschema {version('jsonschema')} is not the pinned {pinned}: not installed with constraints.txt"
        )
    code = "import sys, nbformat, jupyter_server.serverapp; print(sorted(m for m in sys.modules if 'rfc3987' in m))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]", result.stdout


def test_make_train_and_test_set_up_a_fresh_venv_first(tmp_path):
    # on a fresh machine the README's two commands must install before they run
    import subprocess

    venv = tmp_path / "venv"
    for target, extra in (("train", "numpy matplotlib"), ("test", ".[test,app,book]")):
        plan = subprocess.run(
            ["make", "-n", target, f"VENV={venv}"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout
        lines = plan.splitlines()
        install = next(i for i, line in enumerate(lines) if "pip install" in line and extra in line)
        runs = next(i for i, line in enumerate(lines) if "-m helpers train" in line or "-m pytest" in line)
        assert install < runs, f"make {target} runs before it installs:\n{plan}"


def make_plan(target: str) -> list:
    import subprocess

    return subprocess.run(
        ["make", "-n", target], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()


def test_make_check_lints_then_leaves_out_the_slow_and_browser_tests_and_make_test_runs_them_all():
    check = [line for line in make_plan("check") if "ruff" in line or "pytest" in line]
    assert "ruff check" in check[0] and "ruff format --check" in check[1] and "-m pytest tests" in check[2], check
    assert '-m "not slow and not browser"' in check[2]
    test = [line for line in make_plan("test") if "ruff" in line or "pytest" in line]
    assert "ruff check" in test[0] and "ruff format --check" in test[1], test
    unit = next(line for line in test if "-m pytest tests" in line)
    assert " -m " not in unit.split("pytest tests", 1)[1], f"make test must run every test: {unit}"
    # on two workers, each file whole on one (its module fixtures made once), in conftest.py's order
    assert "-n 2" in unit and "--dist loadfile" in unit and "--no-loadscope-reorder" in unit, unit
    # nbval: two BLAS threads over notebooks/ here, one over every lesson of the installed handout inside pytest
    # (tests/test_student.py, whose environment sets it); `make nbval-1-thread` runs one here
    nbval = [line for line in test if "--nbval" in line]
    assert [line.split()[0] for line in nbval] == ["OPENBLAS_NUM_THREADS=2"], nbval
    assert "-n 2" in nbval[0] and "--dist loadfile" in nbval[0], nbval  # a notebook's cells share one kernel
    one = [line for line in make_plan("nbval-1-thread") if "--nbval" in line]
    assert [line.split()[0] for line in one] == ["OPENBLAS_NUM_THREADS=1"], one


def test_nbval_hands_out_the_longest_notebooks_first_each_with_its_cells_in_order():
    """The repository's conftest.py orders `pytest --nbval notebooks` by scripts/run_times.json: on two workers the
    longest notebook then starts first instead of last."""
    import json
    import subprocess
    import sys

    listed = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval", "notebooks", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    ).stdout.splitlines()
    cells = [line.split("::") for line in listed if line.startswith("notebooks/") and "::Cell " in line]
    notebooks = list(dict.fromkeys(path for path, _ in cells))
    times = json.loads((ROOT / "scripts" / "run_times.json").read_text())
    longest = [max(times[Path(path).name]["idle"]) for path in notebooks]
    assert len(notebooks) >= 8 and longest == sorted(longest, reverse=True), list(zip(notebooks, longest))
    for path in notebooks:  # one notebook's cells together, in their order (they share one kernel)
        numbers = [int(cell.split()[1]) for p, cell in cells if p == path]
        assert numbers == list(range(len(numbers))), (path, numbers)
    assert [p for p, _ in cells] == sorted((p for p, _ in cells), key=notebooks.index)


def test_make_test_installs_the_ruff_it_runs_and_a_misspelt_mark_is_an_error():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert any(requirement_name(d) == "ruff" for d in config["project"]["optional-dependencies"]["test"])
    # `-m "not slow"` would silently keep a test marked @pytest.mark.slwo
    assert "--strict-markers" in config["tool"]["pytest"]["ini_options"]["addopts"]
