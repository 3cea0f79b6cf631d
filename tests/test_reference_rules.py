"""The reference rules: Kolen-Pollack, node perturbation and synthetic gradients, their mathematics on a tiny
network, the state they learn (feedback matrices, gradient modules), and directions without side effects."""

import numpy as np
import pytest
from test_rules import TinyData, tiny_params

from helpers import alignment, model, rules
from helpers.layers import softmax_cross_entropy
from helpers.optimizers import SGD
from helpers.train import TrainConfig, initial_params, seeded_streams, train

REFERENCE = ("kp", "nodepert", "synthgrad")


def forward_by_hand(params, X):
    """z1, h1, z2, h2, scores of a 3-layer network, written out."""
    z1 = X @ params["W1"] + params["b1"]
    h1 = np.maximum(z1, 0)
    z2 = h1 @ params["W2"] + params["b2"]
    h2 = np.maximum(z2, 0)
    return z1, h1, z2, h2, h2 @ params["W3"] + params["b3"]


def context(lr=0.1, seed=7, **config):
    return rules.RunContext(config=TrainConfig(lr=lr, **config), rng=np.random.default_rng(seed))


def test_registered_with_labels_and_recorded_hyperparameters():
    assert {"kp": {"decay": 1e-3}, "nodepert": {"sigma": 0.1}, "synthgrad": {"synth_lr": 1.0}} == {
        name: rules.rule_hyperparameters(rules.RULES[name]) for name in REFERENCE
    }
    assert all(rules.RULES[name].label for name in REFERENCE)
    assert rules.parse_rule_spec("kp:decay=1e-2") == ("kp", {"decay": 0.01})
    assert rules.make_rule("nodepert", sigma=0.1).hyperparameters == {"sigma": 0.1}
    assert rules.make_rule("synthgrad", synth_lr=1).synth_lr == 1.0


@pytest.mark.parametrize(
    "name, key, value",
    [
        ("kp", "decay", -1e-3),
        ("nodepert", "sigma", 0.0),
        ("nodepert", "sigma", float("nan")),
        ("synthgrad", "synth_lr", -0.1),
        ("synthgrad", "synth_lr", 2),
    ],
)
def test_a_nonsensical_hyperparameter_is_refused_with_an_example(name, key, value):
    with pytest.raises(ValueError, match=f"rule '{name}': {key} must be .*got .*e.g. {name}:{key}="):
        rules.make_rule(name, **{key: value})


# ---------------------------------------------------------------- Kolen-Pollack


def test_kp_with_b_equal_to_w_and_no_decay_is_backprop_to_the_last_bit(mnist):
    params = initial_params(TrainConfig())
    kp = rules.KolenPollack(decay=0.0, feedback={k: params[f"W{k}"] for k in (2, 3)})
    kp.setup(params, mnist, context())
    _, mine = kp.loss_and_directions(params, np.arange(32))
    exact = rules.make_rule("backprop")
    exact.setup(params, mnist, context())
    _, wanted = exact.loss_and_directions(params, np.arange(32))
    assert sorted(mine) == sorted(wanted) and all(np.array_equal(mine[k], wanted[k]) for k in wanted)


def test_kp_step_by_hand_weights_and_feedback_both_decay():
    rng = np.random.default_rng(3)
    data, params = TinyData(rng), tiny_params(rng)
    B0 = {3: rng.standard_normal((4, 10)), 2: rng.standard_normal((5, 4))}
    lr, decay = 0.1, 0.05
    kp = rules.KolenPollack(decay=decay, feedback=B0)
    kp.setup(params, data, context(lr=lr))
    index = np.array([0, 4, 7])
    _, directions = kp.loss_and_directions(params, index)
    fa = rules.FeedbackAlignment(feedback=B0)
    fa.setup(params, data, context(lr=lr))
    _, g = fa.loss_and_directions(
        params, index
    )  # the decay-free part, g_k = h_{k-1}^T delta_k with B in the backward pass
    for name in g:
        assert np.allclose(
            directions[name], g[name] + (decay * params[name] if name.startswith("W") else 0), rtol=1e-13, atol=1e-15
        ), name
    before = {k: v.copy() for k, v in params.items()}
    SGD(lr).update(params, directions)
    kp.after_update(params, directions, kp.context)
    for k in (2, 3):
        assert np.allclose(
            params[f"W{k}"], before[f"W{k}"] - lr * (g[f"W{k}"] + decay * before[f"W{k}"]), rtol=1e-13, atol=1e-15
        )
        assert np.allclose(kp.feedback[k], B0[k] - lr * (g[f"W{k}"] + decay * B0[k]), rtol=1e-13, atol=1e-15), k
    assert not np.shares_memory(kp.feedback[2], B0[2])  # the given matrices are the start, not the rule's state


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_kp_feedback_minus_weights_shrinks_by_one_minus_lr_decay_each_step(mnist, optimizer):
    lr, decay, steps = 0.01, 0.5, 40
    config = TrainConfig(rule="kp", lr=lr, steps=steps, optimizer=optimizer, eval_every=steps, log_every=steps)
    start = initial_params(config)
    rng = np.random.default_rng(1)
    B0 = {k: rng.standard_normal(start[f"W{k}"].shape) / 10 for k in (2, 3)}
    kp = rules.KolenPollack(decay=decay, feedback=B0)
    params, _ = train(mnist, config, rule=kp)
    for k in (2, 3):
        assert not np.allclose(params[f"W{k}"], start[f"W{k}"])  # B follows W: it moved
        assert np.allclose(
            kp.feedback[k] - params[f"W{k}"],
            (1 - lr * decay) ** steps * (B0[k] - start[f"W{k}"]),
            rtol=1e-9,
            atol=1e-12,
        ), (optimizer, k)


def test_kp_feedback_angle_falls_during_training_and_closes_with_decay(mnist):
    start = initial_params(TrainConfig())
    final = {}
    for decay, lr in ((0.0, 0.03), (0.1, 0.05)):
        kp = rules.make_rule("kp", decay=decay)
        params, history = train(
            mnist, TrainConfig(rule="kp", lr=lr, steps=1000, eval_every=1000, log_every=1000), rule=kp
        )
        first = rules.make_rule("kp")
        first.setup(start, mnist, seeded_streams(0)[2])  # the same run's B_k at step 0
        initial = alignment.feedback_angles(first, start)
        final[decay] = alignment.feedback_angles(kp, params)
        assert all(80 < a < 100 for a in initial.values()), initial  # random feedback: about orthogonal to W
        assert history.final_validation_accuracy > 0.8
    # B follows W's updates: the angle falls even without decay; decay (lr decay steps = 5) closes it
    assert all(final[0.0][w] < initial[w] - 5 for w in initial), final
    assert all(a < 5 for a in final[0.1].values()), final


# ---------------------------------------------------------------- node perturbation


def test_node_perturbation_step_by_hand():
    rng = np.random.default_rng(5)
    data, params = TinyData(rng), tiny_params(rng)
    index = np.array([2, 9, 4])
    rule = rules.make_rule("nodepert", sigma=0.3)
    rule.setup(params, data, context())
    _, d = rule.loss_and_directions(params, index)
    X, y = data.train.images[index], data.train.labels[index]
    z1, h1, z2, h2, scores = forward_by_hand(params, X)

    def losses(s):  # each example's -log softmax(s)[y]
        e = np.exp(s - s.max(axis=1, keepdims=True))
        return -np.log(e[np.arange(3), y] / e.sum(axis=1))

    noise_rng = np.random.default_rng([rule.base_seed, 2, 9, 4])
    xi1, xi2 = noise_rng.standard_normal((3, 5)), noise_rng.standard_normal((3, 4))
    n1 = np.maximum(np.maximum(z1 + 0.3 * xi1, 0) @ params["W2"] + params["b2"], 0) @ params["W3"] + params["b3"]
    n2 = np.maximum(z2 + 0.3 * xi2, 0) @ params["W3"] + params["b3"]
    dz1 = ((losses(n1) - losses(scores)) / (0.3 * 3))[:, None] * xi1
    dz2 = ((losses(n2) - losses(scores)) / (0.3 * 3))[:, None] * xi2
    _, e = softmax_cross_entropy(scores, y)
    for name, want in {
        "W3": h2.T @ e,
        "b3": e.sum(0),
        "W2": h1.T @ dz2,
        "b2": dz2.sum(0),
        "W1": X.T @ dz1,
        "b1": dz1.sum(0),
    }.items():
        assert np.allclose(d[name], want, rtol=1e-10, atol=1e-15), name


def test_node_perturbation_estimates_the_gradient():
    # one example repeated 4,000 times: 4,000 noise draws, whose mean estimate is that example's gradient
    rng = np.random.default_rng(6)
    data, params = TinyData(rng), tiny_params(rng)
    index = np.zeros(4000, dtype=int)
    rule = rules.make_rule("nodepert", sigma=1e-4)
    rule.setup(params, data, context())
    _, estimate = rule.loss_and_directions(params, index)
    exact = rules.make_rule("backprop")
    exact.setup(params, data, context())
    _, gradient = exact.loss_and_directions(params, index)
    assert np.array_equal(estimate["W3"], gradient["W3"])  # the top layer: exact
    for name in ("W1", "W2", "b1", "b2"):
        assert alignment.angle_degrees(estimate[name], gradient[name]) < 10, name
        assert 0.8 < np.linalg.norm(estimate[name]) / np.linalg.norm(gradient[name]) < 1.25, name


def test_node_perturbation_directions_have_no_side_effects(mnist):
    params = initial_params(TrainConfig())
    rule = rules.make_rule("nodepert")
    rule.setup(params, mnist, context())
    state = rule.context.rng.bit_generator.state
    probe = alignment.probe_batch(mnist, 100)
    first, second = (alignment.update_measures(rule, params, probe) for _ in range(2))
    assert first == second and rule.context.rng.bit_generator.state == state
    # another batch (same images, other indices) gets other noise
    moved = rules.Batch(probe.index + 1, probe.images, probe.labels)
    scores, cache = model.forward(params, probe.images)
    _, dscores = softmax_cross_entropy(scores, probe.labels)
    a, b = (rule.directions(params, batch, cache, scores, dscores)["W1"] for batch in (probe, moved))
    assert not np.allclose(a, b)


# ---------------------------------------------------------------- synthetic gradients


def test_synthetic_gradients_step_by_hand():
    rng = np.random.default_rng(8)
    data, params = TinyData(rng), tiny_params(rng)
    index = np.array([1, 3, 5, 6])
    rule = rules.make_rule("synthgrad", synth_lr=0.2)
    rule.setup(params, data, context())
    assert all(not M.any() and not c.any() for M, c in rule.modules.values())  # zero modules: no random state
    M = {1: rng.standard_normal((5, 5)), 2: rng.standard_normal((4, 4))}
    c = {1: rng.standard_normal(5), 2: rng.standard_normal(4)}
    rule.modules = {k: (M[k].copy(), c[k].copy()) for k in (1, 2)}
    _, d = rule.loss_and_directions(params, index)
    X, y = data.train.images[index], data.train.labels[index]
    z1, h1, z2, h2, scores = forward_by_hand(params, X)
    _, e = softmax_cross_entropy(scores, y)
    s2, s1 = h2 @ M[2] + c[2], h1 @ M[1] + c[1]  # per-example synthetic dl/dh_k
    t2 = 4 * e @ params["W3"].T  # the true per-example dl/dh2
    t1 = (s2 * (z2 > 0)) @ params["W2"].T  # bootstrapped: layer 2's prediction sent one layer down
    dz2, dz1 = s2 * (z2 > 0) / 4, s1 * (z1 > 0) / 4
    for name, want in {
        "W3": h2.T @ e,
        "b3": e.sum(0),
        "W2": h1.T @ dz2,
        "b2": dz2.sum(0),
        "W1": X.T @ dz1,
        "b1": dz1.sum(0),
    }.items():
        assert np.allclose(d[name], want, rtol=1e-12, atol=1e-15), name
    SGD(0.1).update(params, d)
    rule.after_update(params, d, rule.context)
    for k, h, s, t in ((2, h2, s2, t2), (1, h1, s1, t1)):
        step = 0.2 / (1 + (h**2).sum(axis=1).mean())  # NLMS: synth_lr / (1 + mean |h_k|^2)
        assert np.allclose(rule.modules[k][0], M[k] - step * h.T @ (s - t) / 4, rtol=1e-12, atol=1e-15), k
        assert np.allclose(rule.modules[k][1], c[k] - step * (s - t).mean(0), rtol=1e-12, atol=1e-15), k


def test_synthetic_gradients_modules_learn_and_the_hidden_layers_follow(mnist):
    rule = rules.make_rule("synthgrad")
    config = TrainConfig(rule="synthgrad", lr=0.03, steps=1000, eval_every=1000, log_every=1000)
    start = initial_params(config)
    params, history = train(mnist, config, rule=rule)
    # zero modules send nothing down (no angle at all); after 1,000 steps W2's update points within
    # 85 degrees of backprop's (about 75 measured): the module for h2 has learned the gradient's mean given h2
    angles, _ = alignment.update_measures(rule, params, alignment.probe_batch(mnist, 500))
    assert angles["W2"] < 85 and not np.allclose(params["W1"], start["W1"])
    _, top_history = train(mnist, TrainConfig(rule="top", lr=0.03, steps=1000, eval_every=1000, log_every=1000))
    assert history.final_validation_accuracy > top_history.final_validation_accuracy


# ---------------------------------------------------------------- what every rule gets


@pytest.mark.parametrize("name", REFERENCE)
def test_an_extra_probe_call_leaves_the_run_unchanged(mnist, name, assert_same_runs):
    config = TrainConfig(rule=name, lr=0.05, steps=30, eval_every=30, log_every=10)
    plain = train(mnist, config)
    recorder = alignment.AlignmentRecorder(
        rules.make_rule(name), alignment.probe_batch(mnist, 100), steps=[0, 5, 10, 20]
    )
    probed = train(mnist, config, rule=recorder)
    assert_same_runs([probed], [plain], rtol=0)
    assert sorted(recorder.angles) == [0, 5, 10, 20] and set(recorder.angles[20]["update"]) == {"W1", "W2", "W3"}


@pytest.mark.parametrize("name", REFERENCE)
def test_runs_are_deterministic_and_a_reused_rule_object_starts_afresh(mnist, name):
    config = TrainConfig(rule=name, steps=30, log_every=10, eval_every=30, lr=0.05, seed=4)
    reused = rules.make_rule(name)
    train(mnist, TrainConfig(rule=name, steps=30, log_every=10, eval_every=30, lr=0.05, seed=9), rule=reused)
    a, ha = train(mnist, config, rule=reused)
    b, hb = train(mnist, config)
    assert all(np.array_equal(a[k], b[k]) for k in a) and ha.losses == hb.losses


@pytest.mark.parametrize("name", REFERENCE)
def test_no_rule_modifies_its_inputs(mnist, name):
    params = initial_params(TrainConfig())
    copies = {k: v.copy() for k, v in params.items()}
    rule = rules.make_rule(name)
    rule.setup(params, mnist, context())
    index = np.arange(16)
    images = mnist.train.images[:100].copy()
    rule.loss_and_directions(params, index)
    assert all(np.array_equal(params[k], copies[k]) for k in params)
    assert np.array_equal(index, np.arange(16)) and np.array_equal(mnist.train.images[:100], images)
