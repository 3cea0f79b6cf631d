"""The training loop: the plain loop's schedule, the log, divergence, validation of settings, optimizers."""

import json
import math

import numpy as np
import pytest

from helpers import model, optimizers, rules
from helpers.__main__ import main
from helpers.model import frozen_features
from helpers.optimizers import OPTIMIZERS, SGD, Adam, Momentum, make_optimizer
from helpers.readout import train_top_layers
from helpers.train import TrainConfig, initial_params, seeded_streams, train


def test_top_only_training_leaves_lower_layers_frozen(mnist, short):
    start = initial_params(short())
    params, _ = train(mnist, short(lr=0.1), params=start)
    for name in ("W1", "b1", "W2", "b2"):
        assert np.array_equal(params[name], start[name])
    assert not np.array_equal(params["W3"], start["W3"])


def test_training_does_not_modify_the_callers_params(mnist, short):
    start = initial_params(short())
    copy = {k: v.copy() for k, v in start.items()}
    train(mnist, short(rule="backprop"), params=start)
    assert all(np.array_equal(start[k], copy[k]) for k in start)


def test_top_only_learns_and_all_layers_learns_more(mnist, short):
    _, top = train(mnist, short(steps=1000, lr=0.1))
    _, full = train(mnist, short(steps=1000, lr=0.1, rule="backprop"))
    assert top.final_test_accuracy > 0.6
    assert full.final_test_accuracy > top.final_test_accuracy
    assert top.losses[-1] < top.losses[0]


def test_history_records_the_reference_schedule(mnist):
    _, history = train(mnist, TrainConfig(steps=2000))
    assert history.steps == list(range(0, 2001, 250))
    assert history.eval_steps == [0, 1000, 2000]
    assert history.steps_done == 2000 and history.diverged_at is None
    record = history.to_dict()
    assert record["steps"] == 2000 and record["final_test_accuracy"] == history.test_accuracies[-1]
    assert record["history"]["running_loss"] == history.losses


def test_running_loss_uses_factor_099(mnist, short):
    # smoothing 0 logs each batch's own loss: the log at step t + 1 holds the loss of the batch of step t + 1
    _, raw = train(mnist, short(steps=20, log_every=1, eval_every=20, smoothing=0.0))
    _, smoothed = train(mnist, short(steps=20, log_every=1, eval_every=20))
    batch_losses = raw.losses[1:]  # batches 1..20 (the same batches and updates: smoothing only changes the log)
    expected = [batch_losses[0]]  # step 0 shows the first batch's loss
    for loss in batch_losses:
        expected.append(0.99 * expected[-1] + 0.01 * loss)
    assert np.allclose(smoothed.losses, expected, rtol=1e-12, atol=0)
    assert not np.allclose(smoothed.losses, [batch_losses[0]] + batch_losses, rtol=1e-3)  # it does smooth


def test_the_last_step_is_logged_and_evaluated(mnist):
    _, history = train(mnist, TrainConfig(steps=1100))
    assert history.steps[-1] == 1100 and history.eval_steps[-1] == 1100
    assert history.steps[-2] == 1000 and history.eval_steps == [0, 1000, 1100]


def test_verbose_log_matches_the_reference_format(mnist, capsys):
    train(mnist, TrainConfig(steps=1000), verbose=True)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("accuracy: ") and lines[0].endswith("%")
    assert lines[1].startswith("\tstep 0: loss: ")
    assert lines[-1].startswith("\tstep 1000: loss: ")
    assert lines[-2].startswith("accuracy: ")
    assert len(lines) == 2 + 4 + 1  # steps 0..1000 every 250, accuracy at 0 and 1000


def test_divergence_stops_with_a_message(mnist, capsys, short):
    _, history = train(mnist, short(rule="backprop", lr=10.0, steps=500), verbose=True)
    assert history.diverged_at is not None and history.diverged_at <= 500
    assert history.steps_done == history.diverged_at - 1
    assert all(math.isfinite(x) for x in history.losses)
    assert capsys.readouterr().out.count(f"diverged at step {history.diverged_at}") == 1
    assert math.isnan(history.final_test_accuracy)  # the last evaluation before it is not the run's result
    assert history.to_dict()["diverged_at"] == history.diverged_at


def test_a_diverged_run_returns_the_weights_before_the_diverging_step(mnist, short):
    # the run stops before the update of the step whose batch loss blew up: the weights are those after
    # steps_done updates, which the same run stopped there reproduces exactly
    config = short(lr=1e5, steps=200)
    params, history = train(mnist, config)
    assert history.diverged_at is not None and history.diverged_at > 1
    before, _ = train(mnist, short(lr=1e5, steps=history.steps_done, log_every=1, eval_every=1))
    assert all(np.array_equal(params[k], before[k]) for k in params)
    assert np.all(np.isfinite(params["W3"]))


def test_cancel_through_progress(mnist, short):
    seen = []
    _, history = train(mnist, short(steps=1000), progress=lambda s, n: seen.append(s) or s >= 200)
    assert history.cancelled and history.steps_done == 200
    assert seen == [100, 200]


def test_precomputed_features_give_the_same_run(mnist, short):
    config = short()
    features = frozen_features(initial_params(config), mnist)
    a, _ = train(mnist, config, rule=rules.TopLayerOnly(features))
    b, _ = train(mnist, config)
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_a_rule_object_must_match_the_configs_rule(mnist, short):
    with pytest.raises(ValueError, match="config.rule is 'backprop'"):
        train(mnist, short(rule="backprop"), rule=rules.TopLayerOnly())


def test_the_history_records_the_width_of_the_params_it_trained(mnist, short):
    start = initial_params(short(hidden_size=64))
    _, history = train(mnist, short(), params=start)  # TrainConfig's default width is 128
    assert history.config.hidden_size == 64


def test_the_json_record_of_a_diverged_run_is_plain_json(mnist, short):
    _, history = train(mnist, short(lr=1e5, steps=200))
    record = json.loads(json.dumps(history.to_dict()))
    assert record["diverged_at"] == history.diverged_at and math.isnan(record["final_test_accuracy"])


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"lr": 0}, "lr must be a finite number > 0"),
        ({"lr": float("nan")}, "lr must be"),
        ({"steps": -5}, "steps must be a positive integer"),
        ({"batch_size": 0}, "batch_size must be a positive integer"),
        ({"batch_size": 10**6}, "at most 55000"),
        ({"hidden_size": 2.5}, "hidden_size must be a positive integer"),
        ({"rule": "middle"}, "unknown learning rule 'middle'"),
        ({"lr": True}, "lr must be a finite number"),
        ({"seed": True}, "seed must be a non-negative integer"),
        ({"steps": np.True_}, "steps must be a positive integer"),
        ({"smoothing": "x"}, "smoothing must be a number"),
        ({"smoothing": 1.0}, "smoothing must be a number in"),
        ({"max_loss": "big"}, "max_loss must be a number"),
        ({"init": "glorot"}, "unknown init scheme"),
        ({"optimizer": "rmsprop"}, "unknown optimizer"),
        ({"seed": -1}, "seed must be"),
    ],
)
def test_bad_hyperparameters_are_named(mnist, overrides, message):
    with pytest.raises(ValueError, match=message):
        train(mnist, TrainConfig(**overrides))


def test_numpy_numbers_are_valid_settings(mnist, short):
    config = short(lr=np.float32(1e-3), steps=np.int64(50), seed=np.int32(1), smoothing=np.float64(0.9))
    assert config.validate() is config


def test_optimizers_step_downhill():
    # minimise f(p) = |p|^2 / 2 whose gradient is p
    for optimizer in (SGD(0.1), Momentum(0.1), Adam(0.1), make_optimizer("adam", 0.1)):
        params = {"p": np.array([3.0, -2.0])}
        for _ in range(100):
            optimizer.update(params, {"p": params["p"].copy()})
        assert np.linalg.norm(params["p"]) < 0.5, type(optimizer).__name__


def test_top_only_update_matches_a_hand_computed_sgd_step(mnist, short):
    config = short(steps=1, lr=0.5, batch_size=4)
    start = initial_params(config)
    params, _ = train(mnist, config, params=start)
    from helpers.data import BatchSampler
    from helpers.layers import softmax

    idx = BatchSampler(55000, 4, seeded_streams(config.seed)[1]).next()
    h2 = model.hidden_features(start, mnist.train.images[idx])
    probs = softmax(h2 @ start["W3"] + start["b3"])
    probs[np.arange(4), mnist.train.labels[idx]] -= 1
    assert np.allclose(params["W3"], start["W3"] - 0.5 * h2.T @ probs / 4, rtol=1e-12)
    assert np.allclose(params["b3"], start["b3"] - 0.5 * probs.sum(axis=0) / 4, rtol=1e-12)


def test_the_stack_and_the_loop_diverge_at_the_same_step(mnist, short):
    config = short(lr=1e5, steps=200)
    [(stacked_params, stacked)] = train_top_layers(mnist, [config])
    _, plain = train(mnist, config)
    assert plain.diverged_at is not None and stacked.diverged_at == plain.diverged_at
    assert plain.diverged_loss > config.max_loss
    assert stacked_params is None  # the stack stepped on past it: no weights are offered as a result
    assert stacked.steps == plain.steps and stacked.eval_steps == plain.eval_steps
    assert "diverged at step" in plain.message


def test_momentum_matches_a_hand_computed_step():
    # v1 = g1 = [0.5, 1.0]; p1 = p0 - 0.1 v1 = [0.95, -2.1]
    # v2 = 0.9 v1 + g2 = [0.45 + 1.0, 0.9 - 1.0] = [1.45, -0.1]; p2 = p1 - 0.1 v2 = [0.805, -2.09]
    params = {"p": np.array([1.0, -2.0])}
    optimizer = Momentum(0.1)
    optimizer.update(params, {"p": np.array([0.5, 1.0])})
    assert np.allclose(params["p"], [0.95, -2.1], rtol=1e-15)
    optimizer.update(params, {"p": np.array([1.0, -1.0])})
    assert np.allclose(params["p"], [0.805, -2.09], rtol=1e-15)


def test_adam_matches_a_hand_computed_step():
    # step 1, g = [0.5, -2]: m = 0.1 g = [0.05, -0.2], v = 0.001 g^2 = [0.00025, 0.004];
    #   m_hat = m / 0.1 = g, v_hat = v / 0.001 = g^2: the step is lr g / (|g| + 1e-8) = 0.1 / (1 + 1e-8 / |g|), signed:
    #   p1 = [1 - 0.1 / (1 + 2e-8), -2 + 0.1 / (1 + 5e-9)] = [0.900000002, -1.9000000005]
    # step 2, g = [0.5, 1]: m = 0.9 m + 0.1 g = [0.095, -0.08], v = 0.999 v + 0.001 g^2 = [0.00049975, 0.004996];
    #   m_hat = m / (1 - 0.9^2) = [0.5, -0.4210526316], v_hat = v / (1 - 0.999^2) = [0.25, 2.4992496248]
    #   p2 = p1 - 0.1 m_hat / (sqrt(v_hat) + 1e-8) = [0.900000002 - 0.1 * 0.5 / 0.50000001,
    #                                                 -1.9000000005 + 0.1 * 0.4210526316 / 1.5809015228]
    #      = [0.800000004, -1.8733662967]
    params = {"p": np.array([1.0, -2.0])}
    optimizer = Adam(0.1)
    optimizer.update(params, {"p": np.array([0.5, -2.0])})
    assert np.allclose(params["p"], [0.900000002, -1.9000000005], rtol=1e-12)
    optimizer.update(params, {"p": np.array([0.5, 1.0])})
    assert np.allclose(params["p"], [0.800000004, -1.8733662967], rtol=1e-10)


def test_optimizers_take_one_learning_rate_per_run():
    # shape-agnostic: the learning rate broadcasts over the runs; a rate of 0 leaves a run untouched
    for name, cls in OPTIMIZERS.items():
        weights = np.ones((3, 4, 2))  # 3 runs
        lr = np.array([0.0, 0.1, 0.2])[:, None, None]
        grads = np.full((3, 4, 2), 0.5)
        cls(lr).update({"w": weights}, {"w": grads})
        assert np.array_equal(weights[0], np.ones((4, 2))), name
        alone = np.ones((4, 2))
        make_optimizer(name, 0.2).update({"w": alone}, {"w": grads[2]})
        assert np.array_equal(weights[2], alone), name
        assert isinstance(cls.label, str) and cls.label, name


def test_the_stack_refuses_an_unregistered_optimizer(mnist, short):
    # it used to treat every name it did not know as Adam
    config = short()
    config.optimizer = "rmsprop"  # bypasses the constructor, not validate()
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'"):
        train_top_layers(mnist, [config])
    from helpers.readout import ReadoutStack

    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'; choose one of sgd, momentum, adam"):
        ReadoutStack(
            [np.zeros((5, 2))],
            [np.zeros((3, 2))],
            np.zeros(5, int),
            np.zeros(3, int),
            [None],
            np.zeros((1, 3, 10)),
            [[0.1]],
            [["rmsprop"]],
        )


class SignSGD:
    """A toy optimizer: p -= lr * sign(g)."""

    label = "sign SGD"

    def __init__(self, lr):
        self.lr = lr

    def update(self, params, grads):
        for name, g in grads.items():
            params[name] -= self.lr * np.sign(g)


def _toy_draw(rng, fan_in, fan_out):
    return rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in), np.full(fan_out, 0.01)


@pytest.fixture
def toy_registries(monkeypatch):
    """A toy optimizer and a toy init scheme, registered for one test only."""
    monkeypatch.setitem(optimizers.OPTIMIZERS, "signsgd", SignSGD)
    monkeypatch.setitem(
        model.INIT_SCHEMES, "toy", model.InitScheme("toy", "toy: N(0, 1/fan_in), biases 0.01", _toy_draw)
    )


def test_a_registered_toy_optimizer_and_init_train_in_the_stack(mnist, short, toy_registries, assert_same_runs):
    configs = [
        short(init="toy", optimizer="signsgd", lr=1e-3),
        short(init="toy", optimizer="sgd", lr=0.1),
        short(init="toy", optimizer="signsgd", lr=1e-4, seed=1),
    ]
    stacked = train_top_layers(mnist, configs)
    assert_same_runs(stacked, [train(mnist, c) for c in configs], rtol=1e-9)
    start = initial_params(configs[0])
    assert np.all(start["b1"] == 0.01)  # drawn by the toy scheme
    params, history = stacked[0]
    moves = np.abs(params["W3"] - start["W3"])
    assert moves.max() <= 300 * 1e-3 + 1e-12  # sign SGD moves each weight by at most lr a step
    assert history.final_test_accuracy > 0.3 and history.diverged_at is None
    one_step, _ = train(mnist, short(init="toy", optimizer="signsgd", lr=1e-3, steps=1))
    step = np.abs(one_step["W3"] - start["W3"])
    assert np.all(
        np.isclose(step, 1e-3, rtol=1e-9, atol=0) | (step == 0)
    )  # lr * sign(g): every weight by lr or not at all
    assert np.mean(step > 0) > 0.5


def test_a_registered_toy_optimizer_and_init_are_offered_by_the_cli(toy_registries, capsys):
    assert main(["train", "--optimizer", "signsgd", "--init", "toy", "--lr", "1e-3", "--steps", "300", "--json"]) == 0
    out = capsys.readouterr().out
    record = json.loads(out.splitlines()[-1])
    assert record["config"]["optimizer"] == "signsgd" and record["config"]["init"] == "toy"
    assert record["final_test_accuracy"] > 0.3
    assert "with signsgd" in out and "init toy" in out
