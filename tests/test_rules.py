"""Learning rules: the registry, the mathematics each rule must get right, and a rule added from outside."""

import json

import numpy as np
import pytest

from helpers import model, rules
from helpers.__main__ import main
from helpers.layers import softmax_cross_entropy
from helpers.readout import train_top_layers
from helpers.train import TrainConfig, initial_params, seeded_streams, train

BUILT_IN = ("top", "backprop", "fa", "dfa", "sign", "uloss")


def tiny_params(rng, sizes=(6, 5, 4, 10)):
    return model.init_params(sizes, "reference", rng)


class TinyData:
    """A stand-in for load_mnist(): 12 training images of 6 pixels."""

    def __init__(self, rng):
        split = type("Split", (), {})
        self.train, self.validation, self.test = split(), split(), split()
        for s, n in ((self.train, 12), (self.validation, 4), (self.test, 4)):
            s.images, s.labels = rng.standard_normal((n, 6)), rng.integers(0, 10, n)


def step_directions(rule, params, data, index, rng=None):
    rule.setup(params, data, rng or np.random.default_rng(7))
    return rule.loss_and_directions(params, index)


def test_every_built_in_rule_is_registered_with_a_label():
    assert set(BUILT_IN) <= set(rules.RULES)
    for name in BUILT_IN:
        assert rules.make_rule(name).name == name and rules.RULES[name].label


def test_an_unknown_rule_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="unknown learning rule 'hebb'; choose one of top, backprop"):
        TrainConfig(rule="hebb").validate()


def test_fa_with_b_equal_to_w_is_backprop_to_the_last_bit(mnist):
    params = initial_params(TrainConfig())
    index = np.arange(32)
    _, exact = step_directions(rules.make_rule("backprop"), params, mnist, index)
    fa = rules.FeedbackAlignment(feedback={k: params[f"W{k}"] for k in (2, 3)})
    _, aligned = step_directions(fa, params, mnist, index)
    assert sorted(aligned) == sorted(exact)
    for name in exact:
        assert np.array_equal(aligned[name], exact[name]), name


def test_fa_and_dfa_match_a_hand_computed_step_on_a_tiny_network():
    rng = np.random.default_rng(3)
    data, params = TinyData(rng), tiny_params(rng)
    index = np.array([0, 3, 5])
    X, y = data.train.images[index], data.train.labels[index]
    z1 = X @ params["W1"] + params["b1"]
    h1 = np.maximum(z1, 0)
    z2 = h1 @ params["W2"] + params["b2"]
    h2 = np.maximum(z2, 0)
    scores = h2 @ params["W3"] + params["b3"]
    p = np.exp(scores - scores.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    e = p.copy()
    e[np.arange(3), y] -= 1
    e /= 3
    # FA: B3 (5, 10)... shaped like W3 (4, 10) here, B2 like W2 (5, 4)
    B = {3: rng.standard_normal((4, 10)), 2: rng.standard_normal((5, 4))}
    d2 = (e @ B[3].T) * (z2 > 0)
    d1 = (d2 @ B[2].T) * (z1 > 0)
    _, fa = step_directions(rules.FeedbackAlignment(feedback=B), params, data, index)
    for name, want in {
        "W3": h2.T @ e,
        "b3": e.sum(0),
        "W2": h1.T @ d2,
        "b2": d2.sum(0),
        "W1": X.T @ d1,
        "b1": d1.sum(0),
    }.items():
        assert np.allclose(fa[name], want, rtol=1e-12, atol=1e-15), ("fa", name)
    # DFA: the error straight to each hidden layer, D_k (10, H_k)
    D = {2: rng.standard_normal((10, 4)), 1: rng.standard_normal((10, 5))}
    g2 = (e @ D[2]) * (z2 > 0)
    g1 = (e @ D[1]) * (z1 > 0)
    _, dfa = step_directions(rules.DirectFeedbackAlignment(feedback=D), params, data, index)
    for name, want in {
        "W3": h2.T @ e,
        "b3": e.sum(0),
        "W2": h1.T @ g2,
        "b2": g2.sum(0),
        "W1": X.T @ g1,
        "b1": g1.sum(0),
    }.items():
        assert np.allclose(dfa[name], want, rtol=1e-12, atol=1e-15), ("dfa", name)


def test_sign_symmetry_uses_the_signs_of_the_forward_weights():
    rng = np.random.default_rng(4)
    data, params = TinyData(rng), tiny_params(rng)
    index = np.array([1, 2])
    _, sign = step_directions(rules.make_rule("sign"), params, data, index)
    fa = rules.FeedbackAlignment(feedback={k: np.sign(params[f"W{k}"]) for k in (2, 3)})
    _, expected = step_directions(fa, params, data, index)
    assert all(np.array_equal(sign[k], expected[k]) for k in expected)
    _, exact = step_directions(rules.make_rule("backprop"), params, data, index)
    assert np.array_equal(sign["W3"], exact["W3"]) and not np.allclose(sign["W1"], exact["W1"])


def test_the_u_loss_port_follows_the_original_formula():
    # the original: (-gaussian(d, 0, 1) + .25) * .001 with d = x inside (-1, 3), else -1
    x = np.array([-2.0, -0.5, 0.0, 1.0, 2.9, 3.0, 10.0])

    def gauss(d):
        return 1 / (2.5 + 1e-6) * np.exp(-0.5 * (d / (1 + 1e-6)) ** 2)

    d = np.array([-1.0, -0.5, 0.0, 1.0, 2.9, -1.0, -1.0])
    assert np.allclose(rules.u_signal(x), (-gauss(d) + 0.25) * 0.001, rtol=1e-14)
    rng = np.random.default_rng(5)
    data, params = TinyData(rng), tiny_params(rng)
    index = np.array([0, 1, 2, 3])
    _, u = step_directions(rules.make_rule("uloss"), params, data, index)
    X = data.train.images[index]
    z1 = X @ params["W1"] + params["b1"]
    h1 = np.maximum(z1, 0)
    z2 = h1 @ params["W2"] + params["b2"]
    h2 = np.maximum(z2, 0)
    scores = h2 @ params["W3"] + params["b3"]
    d2 = (rules.u_signal(scores) @ params["W3"].T) * (h2 > 0)
    d1 = (rules.u_signal(h2) @ params["W2"].T) * (h1 > 0)
    assert np.allclose(u["W2"], h1.T @ d2, rtol=1e-12) and np.allclose(u["W1"], X.T @ d1, rtol=1e-12)
    _, exact = step_directions(rules.make_rule("backprop"), params, data, index)
    assert np.array_equal(u["W3"], exact["W3"])


@pytest.mark.parametrize("name", BUILT_IN)
def test_no_rule_modifies_its_inputs(mnist, name):
    params = initial_params(TrainConfig())
    copies = {k: v.copy() for k, v in params.items()}
    rule = rules.make_rule(name)
    rule.setup(params, mnist, np.random.default_rng(0))
    index = np.arange(16)
    index_copy = index.copy()
    images = mnist.train.images[:100].copy()
    rule.loss_and_directions(params, index)
    assert all(np.array_equal(params[k], copies[k]) for k in params)
    assert np.array_equal(index, index_copy) and np.array_equal(mnist.train.images[:100], images)


@pytest.mark.parametrize("name", BUILT_IN)
def test_runs_are_deterministic_per_seed(mnist, name):
    config = TrainConfig(rule=name, steps=30, log_every=10, eval_every=30, lr=1e-2, seed=4)
    a, ha = train(mnist, config)
    b, hb = train(mnist, config)
    assert all(np.array_equal(a[k], b[k]) for k in a) and ha.losses == hb.losses


def test_a_rule_never_changes_the_init_or_the_batches(mnist):
    # (init, batches) are the first two of three streams: the rule's stream is a third, drawn only by the rule
    init, batches, rule_stream = seeded_streams(11)
    old_init, old_batches = (np.random.default_rng(s) for s in np.random.SeedSequence(11).spawn(2))
    assert np.array_equal(init.standard_normal(5), old_init.standard_normal(5))
    assert np.array_equal(batches.permutation(100), old_batches.permutation(100))
    starts = [initial_params(TrainConfig(rule=name, seed=11)) for name in BUILT_IN]
    assert all(np.array_equal(s["W1"], starts[0]["W1"]) for s in starts)
    # FA draws its feedback from the rule stream: the top layer (true gradient) moves as backprop's, step 1
    one = dict(steps=1, log_every=1, eval_every=1, lr=0.1, seed=11)
    fa, _ = train(mnist, TrainConfig(rule="fa", **one))
    bp, _ = train(mnist, TrainConfig(rule="backprop", **one))
    assert np.array_equal(fa["W3"], bp["W3"]) and not np.array_equal(fa["W1"], bp["W1"])


def test_the_top_rule_equals_backprop_into_the_top_layer_only(mnist):
    # the features looked up equal the full forward's h2: the step is the gradient of W3, b3 alone
    params = initial_params(TrainConfig())
    index = np.arange(32)
    loss, top = step_directions(rules.make_rule("top"), params, mnist, index)
    scores, cache = model.forward(params, mnist.train.images[index])
    full_loss, dscores = softmax_cross_entropy(scores, mnist.train.labels[index])
    exact = model.backward(dscores, cache, "top")
    assert sorted(top) == ["W3", "b3"] and np.isclose(loss, full_loss, rtol=1e-14)
    assert all(np.allclose(top[k], exact[k], rtol=1e-10, atol=1e-15) for k in exact)


@pytest.mark.slow  # ten runs each way on the full training set
def test_the_stack_equals_the_plain_loop(mnist, short, assert_same_runs):
    # the stack folds the bias into the weights ([h, 1] @ [W; b]): the same sums in another order, so equal to rounding
    settings = ((1e-3, "sgd"), (0.1, "sgd"), (1.0, "sgd"), (1e-3, "adam"), (0.1, "momentum"))
    configs = [short(lr=lr, seed=seed, optimizer=opt) for seed in (0, 1) for lr, opt in settings]
    assert_same_runs(train_top_layers(mnist, configs), [train(mnist, c) for c in configs], rtol=1e-9)


@pytest.mark.parametrize(
    "returned, message",
    [
        ({"W9": np.zeros((128, 10))}, "returned a direction for 'W9', which is not a parameter"),
        (
            {"W3": np.zeros((10, 128))},
            r"direction of shape \(10, 128\) for 'W3'; it must have the parameter's shape \(128, 10\)",
        ),
        ((np.zeros((128, 10)), np.zeros(10)), "returned tuple; return a dict"),
    ],
)
def test_a_wrong_direction_is_named_with_the_rule_and_the_parameter(mnist, monkeypatch, returned, message):
    @rules.register_rule("broken")
    def broken(params, batch, cache, scores, dscores):
        return returned

    monkeypatch.setitem(rules.RULES, "broken", rules.RULES["broken"])
    try:
        with pytest.raises(ValueError, match=f"rule 'broken' {message}" if message.startswith("returned") else message):
            train(mnist, TrainConfig(rule="broken", steps=5))
    finally:
        rules.RULES.pop("broken", None)


def test_a_toy_rule_from_outside_trains_and_freezes_what_it_leaves_out(mnist, toy_rule):
    start = initial_params(TrainConfig())
    params, history = train(mnist, TrainConfig(rule=toy_rule, steps=300, lr=0.2, log_every=50, eval_every=100))
    assert np.array_equal(params["b3"], start["b3"]) and np.array_equal(params["W1"], start["W1"])
    assert not np.array_equal(params["W3"], start["W3"])
    assert history.final_test_accuracy > 0.3 and history.config.rule == toy_rule


def test_a_toy_rule_from_outside_is_offered_by_the_cli(toy_rule, capsys):
    assert main(["train", "--rule", toy_rule, "--lr", "0.2", "--steps", "200", "--json"]) == 0
    out = capsys.readouterr().out
    record = json.loads(out.splitlines()[-1])
    assert record["config"]["rule"] == toy_rule and record["final_test_accuracy"] > 0.3
    assert "half the top layer's gradient" in out


def test_register_rule_refuses_what_is_not_a_rule():
    with pytest.raises(TypeError, match="needs a LearningRule subclass or a function"):
        rules.register_rule("nothing")(42)
    assert "nothing" not in rules.RULES
