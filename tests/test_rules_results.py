"""results/rules.json (the learning-rule comparison) was made by the current code and full settings.

Regenerate it with:  python -m helpers rules --out results/rules.json
"""

import math

import pytest

from helpers import comparison
from helpers.readout import train_top_layers
from helpers.train import TrainConfig


@pytest.fixture(scope="module")
def stored():
    assert comparison.RESULTS_PATH.is_file(), f"missing: run `{comparison.RESULTS_COMMAND}`"
    return comparison.load_results()


def test_made_with_the_current_settings_and_code(stored):
    problems = comparison.results_problems(stored)
    assert not problems, f"results/rules.json is stale: {'; '.join(problems)}"


def test_a_stale_file_is_detected(stored):
    current = dict(stored, settings=dict(stored["settings"], lrs=[0.1]), provenance=comparison.provenance())
    problems = comparison.results_problems(current)
    assert any("lrs" in p for p in problems) and not any("code changed" in p for p in problems)
    edited = dict(current["provenance"], modules=dict(current["provenance"]["modules"], **{"helpers.layers": "0" * 16}))
    problems = comparison.results_problems(dict(current, provenance=edited))
    assert any("code changed since the file was made: helpers.layers" in p for p in problems), problems
    assert problems[-1] == f"regenerate with `{comparison.RESULTS_COMMAND}`"


def test_every_rule_of_the_package_has_its_row(stored):
    assert [r["rule"] for r in stored["rules"]] == comparison.package_rules()
    for row in stored["rules"]:
        base = [g["lr"] for g in row["grid"] if not g["added_beyond_edge"]]
        assert base == comparison.FULL["lrs"], row["rule"]
        chosen = next(g for g in row["grid"] if g["lr"] == row["chosen_lr"])
        assert all(d is None for d in chosen["diverged_at"]), row["rule"]  # a diverged lr is never chosen
        assert row["checkpoint_equals_grid"] is True, row["rule"]
        assert [t["steps"] for t in row["test"]] == [10000, 50000]
        for t in row["test"]:
            assert all(math.isnan(a) or 0 < a <= 1 for a in t["per_seed"]), row["rule"]


def test_every_rule_trained_one_by_one_has_its_angles_and_update_ratios_at_every_step(stored):
    rows = {r["rule"]: r for r in stored["rules"]}
    for name, row in rows.items():
        if row["stacked"]:  # top: W3's exact gradient, angle 0 and ratio 1 by construction
            continue
        a = row["alignment"]
        assert a["steps"] == comparison.FULL["alignment_steps"], name
        trained = sorted(a["update"])
        assert trained and all(len(a["update"][w]["per_seed"]) == 3 for w in trained), name
        assert sorted(a["norm_ratio"]) == trained, name
    assert sorted(rows["fa"]["alignment"]["feedback"]) == ["W2", "W3"]


def test_a_chosen_lr_at_the_grids_edge_was_extended_or_is_flagged(stored):
    for row in stored["rules"]:
        lrs = sorted({g["lr"] for g in row["grid"]})
        edge = comparison.edge_of(row["chosen_lr"], lrs)
        assert row["chosen_at_edge"] == edge, row["rule"]
        # the full protocol extends an edge up to MAX_EDGE_EXTENSIONS times: an edge left means those ran out
        # or the lr beyond diverged
        if edge:
            added = [g for g in row["grid"] if g["added_beyond_edge"]]
            beyond_diverged = any(any(d is not None for d in g["diverged_at"]) for g in added)
            assert len(added) == comparison.MAX_EDGE_EXTENSIONS or beyond_diverged, row["rule"]


def test_the_top_only_row_recomputes_to_the_stored_number(mnist, stored):
    top = next(r for r in stored["rules"] if r["rule"] == "top")
    ((_, history),) = train_top_layers(mnist, [TrainConfig(lr=top["chosen_lr"], seed=0, steps=10000, eval_every=10000)])
    # at most two test images apart: an argmax tie may fall either way under another BLAS
    assert abs(history.final_test_accuracy - top["test"][0]["per_seed"][0]) <= 2e-4
