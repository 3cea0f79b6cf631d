"""helpers.comparison's protocol: validated settings, hyperparameters chosen with the lr, grid edges, failed rows."""

import math

import pytest

from helpers import comparison, rules


class Shrunk(rules.LearningRule):
    """The top layer's gradient plus ``decay`` times W3 (a large decay keeps W3 near 0: it cannot learn)."""

    def __init__(self, decay: float = 0.0):
        self.decay = decay

    def directions(self, params, batch, cache, scores, dscores):
        (h2, _), _ = cache[-1]
        return {"W3": h2.T @ dscores + self.decay * params["W3"]}


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"seed": [1]}, "unknown setting"),
        ({"seeds": []}, "seeds is empty"),
        ({"seeds": 0}, "seeds must be a list"),
        ({"seeds": [-1]}, "non-negative integers"),
        ({"lrs": [0.1, float("nan")]}, "finite numbers > 0"),
        ({"alignment_steps": [0, 10**6]}, "alignment_steps must lie in 0..steps"),
        ({"rule_kwargs": {"top": {"decay": 1}}}, "rule 'top' has no hyperparameter 'decay'"),
        ({"hyperparameter_grid": {"fa": {"decay": [1]}}}, "rule 'fa' has no hyperparameter 'decay'"),
    ],
)
def test_a_bad_setting_is_named_before_anything_runs(mnist, overrides, message):
    with pytest.raises(ValueError, match=message):
        comparison.compare_rules(mnist, ["top"], quick=True, **overrides)


def test_an_empty_rule_list_is_an_error_not_every_rule(mnist):
    with pytest.raises(ValueError, match="names is empty"):
        comparison.compare_rules(mnist, [], quick=True)


def test_the_full_protocol_is_what_the_module_docstring_says():
    full = comparison.make_protocol()
    assert full.seeds == (0, 1, 2) and full.lrs == (0.001, 0.003, 0.01, 0.03, 0.1)
    assert (full.select_steps, full.steps, full.batch_size, full.extend_edges) == (10000, 50000, 32, True)


def test_a_rules_hyperparameter_is_chosen_on_validation_with_the_lr(mnist, registered):
    registered.append("shrunk")
    rules.register_rule("shrunk")(Shrunk)
    result = comparison.compare_rules(
        mnist, ["shrunk"], quick=True, hyperparameter_grid={"shrunk": {"decay": [0.0, 50.0]}}
    )
    (row,) = result["rules"]
    assert {(g["lr"], g["hyperparameters"]["decay"]) for g in row["grid"]} == {
        (lr, d) for lr in (0.01, 0.1) for d in (0.0, 50.0)
    }
    best = max(row["grid"], key=lambda g: g["validation_mean"])
    assert row["chosen_hyperparameters"] == best["hyperparameters"] == {"decay": 0.0}
    assert row["chosen_lr"] == best["lr"]
    assert result["settings"]["hyperparameter_grid"] == {"shrunk": {"decay": [0.0, 50.0]}}
    assert "shrunk: chosen shrunk:decay=0" in comparison.table_text(result)


def test_a_fixed_hyperparameter_is_used_and_recorded(mnist, registered):
    registered.append("shrunk")
    rules.register_rule("shrunk")(Shrunk)
    (free,) = comparison.compare_rules(mnist, ["shrunk"], quick=True)["rules"]
    (held,) = comparison.compare_rules(mnist, ["shrunk"], quick=True, rule_kwargs={"shrunk": {"decay": 50.0}})["rules"]
    assert held["chosen_hyperparameters"] == {"decay": 50.0} and free["chosen_hyperparameters"] == {"decay": 0.0}
    assert held["test"][0]["mean"] < free["test"][0]["mean"] - 0.2  # the decay was applied


def test_a_plug_in_rule_gets_angles_and_update_ratios(mnist, registered):
    registered.append("half")
    rules.register_rule("half", lambda p, b, c, s, d: {"W3": 0.5 * c[-1][0][0].T @ d})
    (row,) = comparison.compare_rules(mnist, ["half"], quick=True)["rules"]
    a = row["alignment"]
    assert a["steps"] == [0, 10, 100, 400]
    assert all(v == pytest.approx(0.0, abs=1e-6) for v in a["update"]["W3"]["mean"])
    assert a["norm_ratio"]["W3"]["mean"] == pytest.approx([0.5] * 4)


def test_a_best_lr_at_the_edge_extends_the_grid(mnist):
    # in 200 steps top's validation accuracy still rises with the lr past 0.81: every extension goes up
    result = comparison.compare_rules(mnist, ["top"], quick=True, lrs=[0.01, 0.03], extend_edges=True)
    (row,) = result["rules"]
    lrs = [g["lr"] for g in row["grid"]]
    assert lrs == [0.01, 0.03, 0.09, 0.27, 0.81]  # the grid's ratio (3x) beyond the largest, MAX_EDGE_EXTENSIONS times
    assert all(g["added_beyond_edge"] == (g["lr"] not in (0.01, 0.03)) for g in row["grid"])
    assert row["chosen_lr"] == 0.81 and row["chosen_at_edge"] == "largest"
    assert len(lrs) == 2 + comparison.MAX_EDGE_EXTENSIONS
    assert "* top: the chosen lr is the largest of its grid" in comparison.table_text(result)


def test_an_extension_that_finds_an_inner_best_clears_the_flag(mnist):
    # at 200 steps the reference init learns nothing yet at lr 1e-3: the smaller lrs tie near 10.7%
    (row,) = comparison.compare_rules(mnist, ["top"], quick=True, lrs=[0.001, 0.003], extend_edges=True)["rules"]
    lrs = [g["lr"] for g in row["grid"]]
    assert lrs[0] < 0.001 and row["chosen_lr"] not in (min(lrs), max(lrs)) and row["chosen_at_edge"] is None


def test_an_unextended_edge_is_flagged(mnist):
    (row,) = comparison.compare_rules(mnist, ["top"], quick=True, lrs=[0.01, 0.03])["rules"]
    assert row["chosen_lr"] == 0.03 and row["chosen_at_edge"] == "largest"


def test_a_rule_that_raises_gets_a_failed_row_and_the_others_are_kept(mnist, registered, toy_rule):
    def broken(params, batch, cache, scores, dscores):
        raise RuntimeError("my rule has a bug")

    registered.append("broken")
    rules.register_rule("broken", broken)
    result = comparison.compare_rules(mnist, ["broken", toy_rule], quick=True)
    failed, kept = result["rules"]
    assert failed["failed"] == "RuntimeError: my rule has a bug" and failed["test"] == []
    assert kept["failed"] is None and all(0.1 < t["mean"] <= 1 for t in kept["test"])
    assert "broken     failed: RuntimeError: my rule has a bug" in comparison.table_text(result)


def test_grid_options_parse_and_refuse_what_they_cannot_read(registered):
    registered.append("shrunk")
    rules.register_rule("shrunk")(Shrunk)
    assert comparison.parse_grid_options(["shrunk:decay=0,1e-3"]) == {"shrunk": {"decay": [0.0, 0.001]}}
    with pytest.raises(ValueError, match="write RULE:NAME=V1,V2"):
        comparison.parse_grid_options(["shrunk"])
    with pytest.raises(ValueError, match="no hyperparameter 'size'"):
        comparison.parse_grid_options(["shrunk:size=1,2"])


def test_choose_prefers_the_best_mean_and_never_a_diverged_lr():
    from helpers.train import History, TrainConfig

    def fake(spec, lr, validation, diverged_at=None):
        return (spec, lr, 0, 100), History(
            TrainConfig(lr=lr, steps=100),
            eval_steps=[0, 100],
            validation_accuracies=[0.1, validation],
            test_accuracies=[0.1, validation],
            diverged_at=diverged_at,
        )

    histories = dict(
        [
            fake("r:a=1", 0.1, 0.9),
            fake("r:a=1", 0.01, 0.5),
            fake("r:a=2", 0.1, 0.95, diverged_at=50),
            fake("r:a=2", 0.01, 0.7),
        ]
    )
    settings = {"seeds": [0], "select_steps": 100}
    assert comparison.choose(settings, ["r:a=1", "r:a=2"], [0.01, 0.1], histories) == ("r:a=1", 0.1)
    assert math.isnan(comparison.grid_mean(settings, "r:a=2", 0.1, histories))
