"""The plug-in API of helpers.rules: what a rule defined outside the package gets, and what it is refused."""

import numpy as np
import pytest

from helpers import alignment, rules, train as train_module
from helpers.train import TrainConfig, initial_params, seeded_streams, train


def top_gradient(params, batch, cache, scores, dscores):
    (h2, _), _ = cache[-1]
    return {"W3": h2.T @ dscores}


def test_the_call_form_registers_the_function(registered):
    registered.append("called")
    assert rules.register_rule("called", top_gradient) is top_gradient
    assert rules.make_rule("called").name == "called" and rules.RULES["called"].label == "called"


def test_the_package_names_cannot_be_taken(registered):
    with pytest.raises(ValueError, match="'top' is a rule of the package"):
        rules.register_rule("top")(top_gradient)
    assert rules.RULES["top"] is rules.TopLayerOnly


def test_registering_a_name_again_replaces_the_users_rule(registered):
    registered.append("again")
    rules.register_rule("again")(top_gradient)
    first = rules.RULES["again"]
    rules.register_rule("again", label="second")(top_gradient)  # a notebook cell run twice
    assert rules.RULES["again"] is not first and rules.RULES["again"].label == "second"


@pytest.mark.parametrize("name", ["a,b", "../escape", "a/b", "kp:decay", "with space", "-dash-first"])
def test_names_that_break_lists_or_paths_are_refused(name):
    with pytest.raises(ValueError, match="letters, digits"):
        rules.register_rule(name)(top_gradient)
    assert name not in rules.RULES


class Decaying(rules.LearningRule):
    """A toy with two hyperparameters: the top gradient times ``scale``, plus ``decay`` times W3."""

    def __init__(self, scale: float = 1.0, decay: float = 0.0, feedback=None):
        self.scale, self.decay = scale, decay

    def directions(self, params, batch, cache, scores, dscores):
        (h2, _), _ = cache[-1]
        return {"W3": self.scale * h2.T @ dscores + self.decay * params["W3"]}


def test_hyperparameters_are_passed_checked_and_recorded(registered):
    registered.append("decaying")
    rules.register_rule("decaying")(Decaying)
    assert rules.rule_hyperparameters(Decaying) == {"scale": 1.0, "decay": 0.0}  # feedback: an object, not recorded
    rule = rules.make_rule("decaying", decay=1e-3)
    assert rule.hyperparameters == {"scale": 1.0, "decay": 1e-3}
    assert rules.parse_rule_spec("decaying:decay=1e-3:scale=2") == ("decaying", {"decay": 1e-3, "scale": 2.0})
    assert rules.rule_spec("decaying", {"decay": 1e-3}) == "decaying:decay=0.001"
    with pytest.raises(ValueError, match="has no hyperparameter 'decai'; it accepts: scale .*decay"):
        rules.make_rule("decaying", decai=1)
    with pytest.raises(ValueError, match="decay must be like its default 0.0, got 'big'"):
        rules.parse_rule_spec("decaying:decay=big")
    with pytest.raises(ValueError, match="write NAME:KEY=VALUE"):
        rules.parse_rule_spec("decaying:decay")
    with pytest.raises(ValueError, match="unknown learning rule 'nope'"):
        rules.parse_rule_spec("nope:decay=1")


def test_a_rule_sees_its_run_and_is_told_after_each_update(mnist, registered):
    seen, updates = [], []

    class Watching(rules.LearningRule):
        def directions(self, params, batch, cache, scores, dscores):
            seen.append((self.context.step, self.context.lr, self.context.config.optimizer))
            return top_gradient(params, batch, cache, scores, dscores)

        def after_update(self, params, directions, context):
            updates.append((context.step, params["W3"].copy(), directions["W3"].copy()))

    registered.append("watching")
    rules.register_rule("watching")(Watching)
    start = initial_params(TrainConfig())
    train(mnist, TrainConfig(rule="watching", steps=3, lr=0.05, eval_every=3, log_every=3))
    assert seen == [(1, 0.05, "sgd"), (2, 0.05, "sgd"), (3, 0.05, "sgd")]
    assert [step for step, _, _ in updates] == [1, 2, 3]
    # after_update sees the parameters after the update that the directions made
    assert np.allclose(updates[0][1], start["W3"] - 0.05 * updates[0][2], rtol=0, atol=1e-15)


def test_a_function_rule_with_a_context_parameter_gets_the_context(mnist, registered):
    steps = []

    def counting(params, batch, cache, scores, dscores, context):
        steps.append(context.step)
        return top_gradient(params, batch, cache, scores, dscores)

    registered.append("counting")
    rules.register_rule("counting", counting)
    train(mnist, TrainConfig(rule="counting", steps=2, eval_every=2, log_every=2))
    assert steps == [1, 2]


@pytest.mark.parametrize("name", ["fa", "dfa"])
def test_a_reused_rule_object_draws_each_runs_feedback(mnist, name):
    reused = rules.make_rule(name)
    for seed in (0, 1):
        params = initial_params(TrainConfig(seed=seed))
        reused.setup(params, mnist, seeded_streams(seed)[2])
        fresh = rules.make_rule(name)
        fresh.setup(params, mnist, seeded_streams(seed)[2])
        assert all(np.array_equal(reused.feedback[k], fresh.feedback[k]) for k in fresh.feedback)


def test_train_seconds_count_the_loop_not_the_setup(mnist, monkeypatch, registered):
    clock = [0.0]

    def fake_clock():
        clock[0] += 1e-3  # every reading advances the clock a little
        return clock[0]

    class SlowSetup(rules.LearningRule):
        def setup(self, params, data, context):
            super().setup(params, data, context)
            clock[0] += 1000.0  # a setup of 1,000 "seconds" (frozen features of a huge width, say)

        def directions(self, params, batch, cache, scores, dscores):
            return top_gradient(params, batch, cache, scores, dscores)

    registered.append("slow-setup")
    rules.register_rule("slow-setup")(SlowSetup)
    monkeypatch.setattr(train_module.time, "perf_counter", fake_clock)
    _, history = train(mnist, TrainConfig(rule="slow-setup", steps=2, eval_every=2, log_every=2))
    assert 0 < history.train_seconds < 1.0


def test_any_rule_gets_angles_and_update_size_ratios(mnist, registered):
    registered.append("half")
    rules.register_rule("half", lambda p, b, c, s, d: {"W3": 0.5 * top_gradient(p, b, c, s, d)["W3"]})
    params = initial_params(TrainConfig())
    probe = alignment.probe_batch(mnist, 100)
    measured = {}
    for name in ("top", "half", "backprop", "sign"):
        rule = rules.make_rule(name)
        rule.setup(params, mnist, seeded_streams(0)[2])
        measured[name] = alignment.update_measures(rule, params, probe)
    angles, ratios = measured["half"]
    assert angles == pytest.approx({"W3": 0.0}, abs=1e-6) and ratios == pytest.approx({"W3": 0.5})
    assert measured["top"][1] == pytest.approx({"W3": 1.0})
    assert measured["backprop"][1] == pytest.approx({"W1": 1.0, "W2": 1.0, "W3": 1.0})
    # sign symmetry's feedback sign(W) is ~sqrt(fan_out) times larger than W: its lower updates are much larger
    assert measured["sign"][1]["W1"] > 10 and measured["sign"][1]["W3"] == pytest.approx(1.0)


# ---------------------------------------------------------------- the rule decides how its runs train


def test_train_many_trains_a_rule_one_by_one_with_its_hyperparameters(mnist, short, assert_same_runs):
    configs = [short(rule="kp", lr=lr, steps=60, eval_every=30, log_every=30) for lr in (0.01, 0.03)]
    many = train_module.train_many(mnist, configs, hyperparameters={"decay": 0.0})
    assert_same_runs(many, [train(mnist, c, rule=rules.make_rule("kp", decay=0.0)) for c in configs])
    default = train_module.train_many(mnist, configs[:1])  # decay 1e-3: another run
    assert not np.allclose(default[0][0]["W2"], many[0][0]["W2"])
    with pytest.raises(ValueError, match="no hyperparameter 'lr'"):
        train_module.train_many(mnist, configs, hyperparameters={"lr": 1.0})
    with pytest.raises(ValueError, match="the runs of one rule"):
        train_module.train_many(mnist, [configs[0], short(rule="fa")])


def test_train_many_cancelled_leaves_the_runs_not_started_cancelled(mnist, short):
    configs = [short(rule="backprop", seed=seed) for seed in (0, 1, 2)]
    calls = []
    results = train_module.train_many(mnist, configs, progress=lambda step, steps: calls.append((step, steps)) or True)
    assert [h.cancelled for _, h in results] == [True, True, True]
    assert results[0][1].steps_done == 100 and results[1][0] is None and results[2][1].steps_done == 0
    assert calls == [(33, 300)]  # the share of all runs: the first run's step 100 is a third of 300


class TrainsTogether(rules.LearningRule):
    """A plug-in that trains its runs together (here: one by one underneath), counting its calls."""

    trains_together = True
    calls: list = []

    def directions(self, params, batch, cache, scores, dscores):
        return top_gradient(params, batch, cache, scores, dscores)

    @classmethod
    def train_many(cls, data, configs, *, together=True, features=None, hyperparameters=None, progress=None):
        cls.calls.append([(c.lr, c.seed, c.steps) for c in configs])
        return rules.one_by_one(data, configs, lambda config: cls(), progress)


def test_a_rule_that_trains_together_gets_its_grid_in_one_call(mnist, registered):
    from helpers import comparison

    registered.append("together")
    rules.register_rule("together")(TrainsTogether)
    TrainsTogether.calls.clear()
    (row,) = comparison.compare_rules(
        mnist, ["together"], quick=True, seeds=[0, 1], select_steps=100, steps=200, alignment_steps=[0, 200]
    )["rules"]
    grid, final = TrainsTogether.calls  # the grid (every lr and seed) in one call, then the chosen lr's long runs
    assert sorted(grid) == sorted((lr, s, 100) for lr in comparison.QUICK["lrs"] for s in (0, 1))
    assert final == [(row["chosen_lr"], s, 200) for s in (0, 1)]
    assert row["stacked"] and row["alignment"] is None and row["checkpoint_equals_grid"] is True
    assert rules.trains_together("together") and not rules.trains_together("backprop")


def test_rule_name_of_a_spec():
    assert rules.rule_name("kp:decay=0.001") == "kp" and rules.rule_name("top") == "top"
