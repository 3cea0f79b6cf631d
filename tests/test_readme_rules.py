"""The README's "Add a learning rule" example, as a reader uses it: its file, then its two shell commands."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def readme_example() -> str:
    """The README's Python block that starts with '# my_rules.py'."""
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    (block,) = [b for b in blocks if b.startswith("# my_rules.py")]
    return block


@pytest.mark.slow  # two command lines that train, in fresh interpreters (24 s at load 5); make check keeps --import
# for train and rules from a user's file (tests/test_results.py's test_import_runs_a_plug_in_rule_from_a_users_file)
def test_the_readme_rule_file_runs_from_a_fresh_shell_with_import(tmp_path):
    (tmp_path / "my_rules.py").write_text(readme_example())
    train = subprocess.run(
        [
            sys.executable,
            "-m",
            "helpers",
            "train",
            "--import",
            "my_rules.py",
            "--rule",
            "scaled-fa:scale=0.5",
            "--lr",
            "0.03",
            "--steps",
            "300",
            "--json",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert train.returncode == 0, train.stderr
    record = json.loads(train.stdout.splitlines()[-1])
    assert record["config"]["rule"] == "scaled-fa" and record["hyperparameters"] == {"scale": 0.5}
    out = tmp_path / "mine.json"
    rules = subprocess.run(
        [
            sys.executable,
            "-m",
            "helpers",
            "rules",
            "--import",
            "my_rules.py",
            "--rules",
            "mine,scaled-fa",
            "--grid",
            "scaled-fa:scale=0.5,1",
            "--quick",
            "--jobs",
            "1",
            "--out",
            str(out),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert rules.returncode == 0, rules.stderr
    result = json.loads(out.read_text())
    mine, scaled = result["rules"]
    assert mine["rule"] == "mine" and mine["label"] == "half the top layer's gradient" and mine["test"]
    assert {g["hyperparameters"]["scale"] for g in scaled["grid"]} == {0.5, 1.0}
    assert scaled["chosen_hyperparameters"]["scale"] in (0.5, 1.0) and scaled["alignment"]["norm_ratio"]
    assert set(result["provenance"]["rules"]) == {"mine", "scaled-fa"}  # the plug-ins' own source is recorded
