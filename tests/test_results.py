"""helpers.results: provenance that sees behaviour and ignores renames; results files that cannot be lost;
the command line's one-line errors, interruptions, worker processes and --import."""

import ast
import errno
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from helpers import baselines, comparison, results, rules
from helpers.__main__ import main

ROOT = Path(__file__).resolve().parent.parent
CHANGEABLE = (
    "helpers.layers",
    "helpers.model",
    "helpers.optimizers",
    "helpers.data",
    "helpers.readout",
    "helpers.rules",
    "helpers.train",
)


# ---------------------------------------------------------------- provenance


def test_the_normalized_code_ignores_docstrings_comments_annotations_and_local_names():
    code = textwrap.dedent('''
        def step(params: dict, grads, lr=0.1, *rest, scale=2, **options) -> None:
            """Move params."""
            total = 0  # why
            for name, g in grads.items():
                params[name] -= lr * scale * g
                total += 1
            def inner(x):
                return x + total
            try:
                pass
            except ValueError as problem:
                print(problem)
            return [inner(k) for k in rest], (lambda t: t * scale)(total)
    ''')
    renamed = (
        code.replace('"""Move params."""', "")
        .replace("# why", "# another reason")
        .replace("total", "count")
        .replace("g in", "gradient in")
        .replace("* g\n", "* gradient\n")
        .replace("problem", "exc")
        .replace("(x)", "(value)")
        .replace("x + ", "value + ")
        .replace("k) for k", "j) for j")
        .replace("params: dict", "p")
        .replace("params[", "p[")
        .replace(") -> None", ")")
    )
    assert renamed.count("count") == 4 and "gradient" in renamed and "p[name]" in renamed
    assert results.normalized_code(renamed) == results.normalized_code(code)
    for behaviour in ("lr * scale * g", "lr=0.1", "scale=2", "total += 1", "x + total"):
        changed = code.replace(
            behaviour,
            {
                "lr * scale * g": "2 * lr * scale * g",
                "lr=0.1": "lr=0.2",
                "scale=2": "scale=3",
                "total += 1": "total += 2",
                "x + total": "x - total",
            }[behaviour],
        )
        assert results.normalized_code(changed) != results.normalized_code(code), behaviour


def test_a_global_name_is_not_a_local_one():
    # renaming what a function reads from its module changes what it computes: it is not a local rename
    assert results.normalized_code("def f(x):\n    return np.exp(x)\n") != results.normalized_code(
        "def f(x):\n    return math.exp(x)\n"
    )
    global_y, global_z = "def f(x):\n    global y\n    y = x\n", "def f(x):\n    global z\n    z = x\n"
    assert results.normalized_code(global_y) != results.normalized_code(global_z)


def _function_with_a_local(tree):
    """(function node, a local name whose every textual occurrence in the function is that local)."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names = [a.arg for a in node.args.args if a.arg != "self"]
            names += [n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)]
            for name in dict.fromkeys(names):
                yield node, name


def renamed_local(source: str) -> str:
    """``source`` with one function's local (or argument) renamed, every occurrence, as a person would."""
    lines = source.splitlines(keepends=True)
    for node, name in _function_with_a_local(ast.parse(source)):
        span = "".join(lines[node.lineno - 1 : node.end_lineno])
        pattern = re.compile(rf"(?<![.\w]){re.escape(name)}\b(?!\s*=[^=])")
        uses = [n for n in ast.walk(node) if isinstance(n, ast.Name) and n.id == name]
        arguments = [a for a in ast.walk(node.args) if isinstance(a, ast.arg) and a.arg == name]
        nested = [n for n in ast.walk(node) if n is not node and isinstance(n, (ast.FunctionDef, ast.Lambda))]
        if nested or len(pattern.findall(span)) != len(uses) + len(arguments):
            continue  # a keyword argument, an attribute, a string or a nested scope spells it too: pick another
        new = pattern.sub(f"{name}_renamed", span)
        return "".join(lines[: node.lineno - 1]) + new + "".join(lines[node.end_lineno :])
    raise AssertionError("no function with a renameable local")


def changed_behaviour(source: str) -> str:
    """``source`` with the first number inside a function changed (x -> (x + 1)): different arithmetic."""
    lines = source.splitlines(keepends=True)
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for sub in ast.walk(node):
                if isinstance(sub, ast.Constant) and type(sub.value) in (int, float) and sub.lineno == sub.end_lineno:
                    line = lines[sub.lineno - 1]
                    lines[sub.lineno - 1] = (
                        line[: sub.col_offset]
                        + f"({line[sub.col_offset : sub.end_col_offset]} + 1)"
                        + line[sub.end_col_offset :]
                    )
                    return "".join(lines)
    raise AssertionError("no number in any function")


def edited_sources(monkeypatch, name, edit):
    real = results.module_source

    def source(module):
        text = real(module)
        return edit(text) if module.__name__ == name else text

    monkeypatch.setattr(results, "module_source", source)


@pytest.fixture
def current_files():
    """A rules file and a baselines file as the current code and full settings would make them (no training)."""
    rules_file = {"settings": comparison.full_settings(), "provenance": comparison.provenance()}
    baselines_file = {
        "settings": dict(baselines.FULL, parts=list(baselines.PARTS)),
        "provenance": baselines.provenance(),
    }
    assert comparison.results_problems(rules_file) == [] and baselines.results_problems(baselines_file) == []
    return rules_file, baselines_file


@pytest.mark.parametrize("name", CHANGEABLE)
def test_a_behaviour_change_in_any_numerical_module_makes_both_files_stale(monkeypatch, current_files, name):
    edited_sources(monkeypatch, name, changed_behaviour)
    for module, stored in zip((comparison, baselines), current_files):
        problems = module.results_problems(stored)
        assert problems and problems[0] == f"code changed since the file was made: {name}", problems
        assert problems[-1] == f"regenerate with `{module.RESULTS_COMMAND}`"


def test_doubling_sgds_step_makes_the_files_stale(monkeypatch, current_files):
    step = "params[name] -= self.lr * g"
    assert step in results.module_source(sys.modules["helpers.optimizers"])
    edited_sources(
        monkeypatch, "helpers.optimizers", lambda text: text.replace(step, "params[name] -= 2 * self.lr * g", 1)
    )
    for module, stored in zip((comparison, baselines), current_files):
        assert "helpers.optimizers" in " ".join(module.results_problems(stored))


@pytest.mark.parametrize("name", CHANGEABLE + ("helpers.alignment", "helpers.comparison", "helpers.baselines"))
def test_a_comment_a_docstring_or_a_local_rename_keeps_the_files_fresh(monkeypatch, current_files, name):
    def edit(text):
        text = renamed_local(text)
        text = text.replace("\ndef ", "\n# a comment, added\ndef ", 1)
        return re.sub(r'(\n    """)', r"\1Said again. ", text, count=1)  # a docstring reworded

    original = results.module_source(sys.modules[name])
    assert edit(original) != original
    edited_sources(monkeypatch, name, edit)
    for module, stored in zip((comparison, baselines), current_files):
        assert module.results_problems(stored) == [], (name, module.__name__)


def test_the_printing_code_is_not_part_of_the_fingerprint(monkeypatch, current_files):
    printing = "wall time {result['wall_seconds']:.0f} s"
    assert printing in results.module_source(comparison)
    edited_sources(
        monkeypatch, "helpers.comparison", lambda text: text.replace(printing, "took {result['wall_seconds']:.0f} s")
    )
    assert comparison.results_problems(current_files[0]) == []
    edited_sources(monkeypatch, "helpers.comparison", changed_behaviour)  # a number in the measuring code
    assert "helpers.comparison" in " ".join(comparison.results_problems(current_files[0]))


def test_a_file_made_before_per_module_provenance_says_so():
    old = {"settings": comparison.full_settings(), "code_version": "be0d50bf6e0e6db6"}
    problems = comparison.results_problems(old)
    assert problems == [
        "made before per-module provenance (it records only code_version 'be0d50bf6e0e6db6')",
        "regenerate with `python -m helpers rules --out results/rules.json`",
    ]


def test_a_plug_in_rules_source_is_part_of_its_provenance(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    path = tmp_path / "provenance_rule.py"
    path.write_text(RULE_FILE.format(name="prov-rule", factor="0.5"))
    try:
        comparison.import_plugin(str(path))
        first = comparison.provenance(["top", "prov-rule"])
        assert set(first["rules"]) == {"prov-rule"} and first["rules"]["prov-rule"]
        path.write_text(RULE_FILE.format(name="prov-rule", factor="0.5").replace("# the half", "# a comment"))
        comparison.import_plugin(str(path))
        assert comparison.provenance(["top", "prov-rule"]) == first  # a comment
        path.write_text(RULE_FILE.format(name="prov-rule", factor="0.0"))
        comparison.import_plugin(str(path))
        assert comparison.provenance(["top", "prov-rule"])["rules"] != first["rules"]  # learns nothing now
    finally:
        rules.RULES.pop("prov-rule", None)
        sys.modules.pop("provenance_rule", None)


RULE_FILE = """
from helpers.rules import register_rule


@register_rule("{name}", label="a plug-in rule")
def scaled_top(params, batch, cache, scores, dscores):
    (h2, _), _ = cache[-1]
    return {{"W3": {factor} * h2.T @ dscores, "b3": {factor} * dscores.sum(axis=0)}}  # the half
"""


# ---------------------------------------------------------------- the cache


def test_an_edited_plug_in_is_trained_again_and_a_corrupt_entry_is_named_and_retrained(
    mnist, tmp_path, monkeypatch, capsys
):
    monkeypatch.syspath_prepend(str(tmp_path))
    cache = tmp_path / "cache"
    cache.mkdir()
    path = tmp_path / "cached_rule.py"
    settings = dict(comparison.QUICK, rules=["cached-rule"])
    task = ("cached-rule", 0.1, 0, 200, False)
    try:
        path.write_text(RULE_FILE.format(name="cached-rule", factor="1.0"))
        comparison.import_plugin(str(path))
        _, learned, _ = comparison._cached_run(mnist, settings, task, cache)
        (entry,) = cache.glob("*.pickle")
        path.write_text(RULE_FILE.format(name="cached-rule", factor="0.0"))  # edited to learn nothing
        comparison.import_plugin(str(path))
        _, nothing, _ = comparison._cached_run(mnist, settings, task, cache)
        assert learned.final_validation_accuracy > 0.3 and nothing.final_validation_accuracy < 0.2  # not the old run
        assert len(list(cache.glob("*.pickle"))) == 2
        entry = next(p for p in cache.glob("*.pickle") if p != entry)
        entry.write_bytes(entry.read_bytes()[:100])  # truncated, as a full disk or a crash of another tool leaves it
        messages = []
        _, again, _ = comparison._cached_run(mnist, settings, task, cache, log=messages.append)
        assert messages == [messages[0]] and str(entry) in messages[0] and "corrupt" in messages[0]
        assert again.validation_accuracies == nothing.validation_accuracies
        assert comparison._cached_run(mnist, settings, task, cache, log=messages.append)[1].losses == nothing.losses
        assert len(messages) == 1  # the rewritten entry loads
    finally:
        rules.RULES.pop("cached-rule", None)
        sys.modules.pop("cached_rule", None)


# ---------------------------------------------------------------- writing results


def test_write_results_writes_standard_json_readable_by_others(tmp_path):
    path = tmp_path / "r.json"
    results.write_results(path, {"mean": float("nan"), "x": [1.5, float("nan")]})
    assert path.read_text() == '{"mean": null, "x": [1.5, null]}\n'
    assert path.stat().st_mode & 0o777 == 0o666 & ~_umask()  # not mkstemp's private 0600
    assert os.listdir(tmp_path) == ["r.json"]


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("failure", ["disk full", "Ctrl-C at the rename", "not JSON"])
def test_a_failed_write_leaves_the_old_file_byte_identical(tmp_path, monkeypatch, failure):
    path = tmp_path / "rules.json"
    path.write_bytes(b'{"old": "results"}\n')
    result = {"new": [1, 2, 3]}
    if failure == "disk full":
        monkeypatch.setattr(os, "fsync", _disk_full)
        expected = OSError
    elif failure == "Ctrl-C at the rename":

        def interrupted(*args):
            raise KeyboardInterrupt

        monkeypatch.setattr(os, "replace", interrupted)
        expected = KeyboardInterrupt
    else:
        result, expected = {"new": object()}, TypeError
    with pytest.raises(expected):
        results.write_results(path, result)
    assert path.read_bytes() == b'{"old": "results"}\n'
    assert os.listdir(tmp_path) == ["rules.json"]  # the temporary file is gone


def test_check_output_path_names_the_problem(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="the directory .*missing does not exist; create it"):
        results.check_output_path(tmp_path / "missing" / "r.json")
    with pytest.raises(ValueError, match="is a directory; give a file name"):
        results.check_output_path(tmp_path)
    assert results.check_output_path(tmp_path / "r.json") == tmp_path / "r.json"
    assert os.listdir(tmp_path) == []  # the trial file is removed

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(results.tempfile, "mkstemp", read_only)
    with pytest.raises(ValueError, match="cannot write in .*Read-only file system"):
        results.check_output_path(tmp_path / "r.json")


# ---------------------------------------------------------------- the commands: nothing lost, one line


def _stderr_lines(capsys):
    return [line for line in capsys.readouterr().err.splitlines() if not line.startswith(("measured: ", "measuring: "))]


@pytest.mark.parametrize(
    "failure, status, message",
    [
        (
            MemoryError("Unable to allocate 12.4 GiB for an array"),
            1,
            "not enough memory at the start (Unable to allocate 12.4 GiB",
        ),
        (KeyboardInterrupt(), 130, "interrupted at the start; rerun with --cache DIR"),
        (
            OSError(errno.ENOSPC, "No space left on device", "/some/cache/entry.pickle"),
            1,
            "No space left on device: /some/cache/entry.pickle",
        ),
    ],
)
def test_rules_a_failing_run_leaves_the_old_file_and_says_one_line(
    tmp_path, monkeypatch, capsys, failure, status, message
):
    out = tmp_path / "rules.json"
    out.write_bytes(b"the stored results\n")

    def fails(*args, **kwargs):
        raise failure

    monkeypatch.setattr(comparison, "train_many", fails)
    assert main(["rules", "--quick", "--rules", "top", "--out", str(out)]) == status
    (line,) = _stderr_lines(capsys)
    assert line.startswith("python -m helpers rules: ") and message in line, line
    assert out.read_bytes() == b"the stored results\n" and os.listdir(tmp_path) == ["rules.json"]


def test_rules_a_full_disk_at_the_end_leaves_the_old_file_and_says_so(tmp_path, monkeypatch, capsys):
    out = tmp_path / "rules.json"
    out.write_bytes(b"the stored results\n")
    monkeypatch.setattr(os, "fsync", _disk_full)
    assert main(["rules", "--quick", "--rules", "top", "--out", str(out)]) == 1
    (line,) = _stderr_lines(capsys)
    assert f"No space left on device: {out} (the old {out} is unchanged)" in line
    assert out.read_bytes() == b"the stored results\n" and os.listdir(tmp_path) == ["rules.json"]


def test_baselines_out_keeps_each_finished_part_and_a_rerun_resumes(mnist, tmp_path, monkeypatch, capsys):
    out = tmp_path / "baselines.json"
    out.write_bytes(b"the stored results\n")
    argv = ["baselines", "--quick", "--only", "top", "widths", "--width-train-images", "2000", "--out", str(out)]
    real_widths = baselines.measure_widths

    def fails_at_32(data, widths, *args, **kwargs):
        if 32 in widths:
            raise MemoryError("Unable to allocate 13.3 GiB")
        return real_widths(data, widths, *args, **kwargs)

    monkeypatch.setattr(baselines, "measure_widths", fails_at_32)
    assert main(argv) == 1
    (line,) = _stderr_lines(capsys)
    partial = Path(f"{out}.partial")
    assert "not enough memory at width 32" in line and f"kept in {partial}: rerun the same command to resume" in line
    assert out.read_bytes() == b"the stored results\n"
    kept = json.loads(partial.read_text())
    assert list(kept["units"]) == ["top", "widths 16"]

    monkeypatch.setattr(baselines, "measure_widths", real_widths)
    measured = []
    real_top = baselines.measure_top_only
    monkeypatch.setattr(baselines, "measure_top_only", lambda *a, **k: measured.append(a) or real_top(*a, **k))
    assert main(argv) == 0
    capsys.readouterr()
    assert measured == [] and not partial.exists()  # the top-only rows were kept, not measured again
    stored = json.loads(out.read_text())
    assert stored["rows"][:2] == [dict(row, parts=["top"]) for row in kept["units"]["top"]["rows"]]
    assert [(r["method"], r["setting"]) for r in stored["rows"][2:]] == [
        (method, f"width {w}{lr}")
        for w in (16, 32)
        for method, lr in [
            ("top layer only, SGD", ""),
            ("top layer only, SGD", f", lr {w / 128000:g}"),
            ("least-squares readout", ""),
        ]
    ]
    assert stored["provenance"] == baselines.provenance() and baselines.load_results(out)["rows"][0]["seeds"] == [0, 1]


def test_baselines_rows_carry_their_lr_optimizer_and_parts_as_data(mnist, monkeypatch):
    rows = baselines.measure_sweep(mnist, [0], (("sgd", 0.01), ("adam", 0.001)), steps=50).rows
    assert [(r["optimizer"], r["lr"]) for r in rows] == [("sgd", 0.01), ("adam", 0.001)]
    monkeypatch.setattr(baselines, "DEFAULT_SWEEP", (("sgd", 0.001), ("adam", 0.001)))
    settings = dict(baselines.QUICK, seeds=[0], steps=[100], sweep_steps=100, parts=["top", "sweep"])
    rows = baselines.measure_all(mnist, settings)["rows"]
    # the sweep's SGD lr 0.001 run is the top-only run: one row, in both parts
    assert [(r["optimizer"], r["lr"], r["parts"]) for r in rows] == [
        ("sgd", 0.001, ["top", "sweep"]),
        ("adam", 0.001, ["sweep"]),
    ]


def test_baselines_says_before_measuring_that_the_widest_rows_do_not_fit(tmp_path, monkeypatch, capsys):
    assert 12e9 < baselines.width_memory_bytes(2048, range(6)) < 14e9  # the full run's widest rows: ~13 GB at once
    monkeypatch.setattr(baselines, "available_memory", lambda: 4 * 10**9)
    measured = []
    monkeypatch.setattr(baselines, "measure_all", lambda *a, **k: measured.append(a))
    assert main(["baselines", "--only", "widths", "--out", str(tmp_path / "b.json")]) == 2
    (line,) = _stderr_lines(capsys)
    assert line.startswith("python -m helpers baselines: error: the width-2048 rows need about 13.3 GB of memory")
    assert "4.0 GB is available" in line and "--widths" in line and measured == []


def test_baselines_out_to_a_missing_directory_fails_before_measuring(tmp_path, capsys):
    assert main(["baselines", "--quick", "--out", str(tmp_path / "no" / "b.json")]) == 2
    (line,) = _stderr_lines(capsys)
    assert "does not exist; create it or choose another path" in line


# ---------------------------------------------------------------- plug-ins from a fresh shell, worker processes


def cli(*args, cwd=ROOT, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "helpers", *args], cwd=cwd, capture_output=True, text=True, timeout=600, **kwargs
    )


def test_import_runs_a_plug_in_rule_from_a_users_file(tmp_path):
    path = tmp_path / "my_rules.py"
    path.write_text(RULE_FILE.format(name="mine", factor="0.5"))
    out = tmp_path / "rules.json"
    result = cli("rules", "--quick", "--import", str(path), "--rules", "top,mine", "--jobs", "2", "--out", str(out))
    assert result.returncode == 0, result.stderr
    record = json.loads(out.read_text())
    assert [r["rule"] for r in record["rules"]] == ["top", "mine"] and record["rules"][1]["test"][-1]["mean"] > 0.3
    assert set(record["provenance"]["rules"]) == {"mine"} and record["provenance"]["rules"]["mine"]
    trained = cli("train", "--import", str(path), "--rule", "mine", "--steps", "100", "--json")
    assert trained.returncode == 0, trained.stderr
    assert json.loads(trained.stdout.splitlines()[-1])["config"]["rule"] == "mine"


@pytest.mark.parametrize(
    "spec, message",
    [("no_such_module_here", "no module named 'no_such_module_here'"), ("missing/rules.py", "no such file")],
)
def test_a_bad_import_is_one_line(spec, message):
    result = cli("rules", "--quick", "--import", spec)
    assert result.returncode == 2 and message in result.stderr and len(result.stderr.strip().splitlines()) == 1, (
        result.stderr
    )


@pytest.mark.slow  # worker processes started fresh: each imports NumPy and the helpers
def test_workers_can_start_fresh_spawn_as_on_macos_and_windows(mnist, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    path = tmp_path / "spawned_rule.py"
    path.write_text(RULE_FILE.format(name="spawned", factor="0.5"))
    monkeypatch.setattr(comparison, "START_METHOD", "spawn")
    try:
        comparison.import_plugin(str(path))
        settings = dict(
            comparison.QUICK, rules=["spawned"], lrs=[0.1], select_steps=100, steps=200, alignment_steps=[0]
        )
        spawned = comparison.measure_all(mnist, settings, jobs=2)
        alone = comparison.measure_all(mnist, settings, jobs=1)
        assert spawned["rules"][0]["test"] == alone["rules"][0]["test"]
    finally:
        rules.RULES.pop("spawned", None)
        sys.modules.pop("spawned_rule", None)


def test_spawned_workers_refuse_a_rule_they_cannot_import(mnist, toy_rule, monkeypatch):
    monkeypatch.setattr(comparison, "START_METHOD", "spawn")
    monkeypatch.setattr(
        results.plugin_object(rules.RULES[toy_rule]), "__module__", "__main__"
    )  # as if typed in a notebook
    with pytest.raises(ValueError, match="defined in __main__ .* put it in a module .* or use one job"):
        comparison.compare_rules(mnist, [toy_rule], quick=True, jobs=2)


KILLER = """
import os, signal
from helpers.rules import register_rule


@register_rule("killer")
def killer(params, batch, cache, scores, dscores):
    os.kill(os.getpid(), signal.SIGKILL)  # as the out-of-memory killer does
"""


@pytest.mark.slow  # a comparison in a subprocess whose worker is killed
def test_a_dead_worker_is_one_line_naming_the_resume(tmp_path):
    path = tmp_path / "killer.py"
    path.write_text(KILLER)
    result = cli(
        "rules", "--quick", "--import", str(path), "--rules", "killer", "--jobs", "2", "--cache", str(tmp_path)
    )
    lines = [line for line in result.stderr.splitlines() if not line.startswith("measured: ")]
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert len(lines) == 1 and re.fullmatch(
        rf"python -m helpers rules: error: a worker process died while training killer lr (0\.01|0\.1) seed 0 "
        rf"\(out of memory\?\); resume with --cache {re.escape(str(tmp_path))} --jobs 1",
        lines[0],
    ), result.stderr


def _children(pid):
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _ctrl_c_as_in_a_terminal():
    """The child's SIGINT back to its default: pytest-xdist's workers ignore it, a child inherits that, and
    Python keeps ignoring an ignored SIGINT, so the interrupt under test would never arrive."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start_rules(tmp_path, *args):
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "helpers",
            "rules",
            "--quick",
            "--rules",
            "backprop,fa",
            "--cache",
            str(tmp_path),
            *args,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=_ctrl_c_as_in_a_terminal,
    )
    deadline = time.monotonic() + 120
    while len(_children(process.pid)) < 2 or not list(tmp_path.glob("*.part")) and not list(tmp_path.glob("*.pickle")):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.2)
    return process


@pytest.mark.slow  # a comparison in a subprocess, killed, and its workers watched
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_killed_parent_leaves_no_worker_behind(tmp_path):
    process = _start_rules(tmp_path, "--jobs", "2")
    workers = _children(process.pid)
    process.kill()
    process.wait()
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [pid for pid in workers if _alive(pid)]
    for pid in left:  # not left running when the test fails
        os.kill(pid, signal.SIGKILL)
    assert not left


@pytest.mark.slow  # a comparison in a subprocess, interrupted once it has cached runs
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_ctrl_c_is_one_line_naming_where_and_how_to_resume(tmp_path, jobs):
    process = _start_rules(tmp_path, "--jobs", jobs) if jobs == "2" else None
    if process is None:  # one job: no workers to wait for; wait for the first finished run instead
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "helpers",
                "rules",
                "--quick",
                "--rules",
                "backprop,fa",
                "--jobs",
                "1",
                "--cache",
                str(tmp_path),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
            preexec_fn=_ctrl_c_as_in_a_terminal,
        )
        while not list(tmp_path.glob("*.pickle")):
            assert process.poll() is None
            time.sleep(0.1)
    workers = _children(process.pid)
    os.killpg(process.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole process group
    _, err = process.communicate(timeout=60)
    lines = [line for line in err.splitlines() if not line.startswith("measured: ")]
    assert process.returncode == 130 and "Traceback" not in err, err
    assert len(lines) == 1 and lines[0].startswith("python -m helpers rules: interrupted "), err
    assert f"rerun the same command to resume from --cache {tmp_path}" in lines[0]
    assert not any(_alive(pid) for pid in workers)
