"""The training loop: the fast path equals the full forward, the log, divergence, optimizers."""

import math

import numpy as np
import pytest

from helpers import model
from helpers.train import Adam, Momentum, SGD, TrainConfig, frozen_features, initial_params, make_optimizer, train


def short(**overrides):
    base = dict(steps=300, log_every=50, eval_every=100)
    return TrainConfig(**{**base, **overrides})


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_fast_path_equals_full_forward(mnist, optimizer):
    config = short(lr=1e-2 if optimizer != "adam" else 1e-3, optimizer=optimizer)
    fast_params, fast = train(mnist, config, fast=True)
    slow_params, slow = train(mnist, config, fast=False)
    for name in fast_params:
        assert np.allclose(fast_params[name], slow_params[name], rtol=1e-9, atol=1e-12), name
    assert np.allclose(fast.losses, slow.losses, rtol=1e-9)
    assert fast.test_accuracies == slow.test_accuracies


def test_top_only_training_leaves_lower_layers_frozen(mnist):
    start = initial_params(short())
    params, _ = train(mnist, short(lr=0.1), params=start)
    for name in ("W1", "b1", "W2", "b2"):
        assert np.array_equal(params[name], start[name])
    assert not np.array_equal(params["W3"], start["W3"])


def test_training_does_not_modify_the_callers_params(mnist):
    start = initial_params(short())
    copy = {k: v.copy() for k, v in start.items()}
    train(mnist, short(train="all"), params=start)
    assert all(np.array_equal(start[k], copy[k]) for k in start)


def test_top_only_learns_and_all_layers_learns_more(mnist):
    _, top = train(mnist, short(steps=1000, lr=0.1))
    _, full = train(mnist, short(steps=1000, lr=0.1, train="all"))
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


def test_running_loss_uses_factor_099(mnist):
    _, every = train(mnist, short(steps=3, log_every=1, eval_every=3))
    # step 0 shows the first batch's loss; each later value mixes in 1% of the new batch loss
    l0, r1, r2 = every.losses[:3]
    batch1 = (r1 - 0.99 * l0) / 0.01
    assert math.isclose(batch1, l0, rel_tol=1e-9)  # step 1 trains on the batch step 0 showed
    assert r2 != r1


def test_verbose_log_matches_the_reference_format(mnist, capsys):
    train(mnist, TrainConfig(steps=1000), verbose=True)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("accuracy: ") and lines[0].endswith("%")
    assert lines[1].startswith("\tstep 0: loss: ")
    assert lines[-1].startswith("\tstep 1000: loss: ")
    assert lines[-2].startswith("accuracy: ")
    assert len(lines) == 2 + 4 + 1  # steps 0..1000 every 250, accuracy at 0 and 1000


def test_reference_experiment_reaches_the_published_range(mnist):
    _, history = train(mnist, TrainConfig())
    assert 0.40 <= history.final_test_accuracy <= 0.50
    assert history.eval_steps == list(range(0, 10001, 1000))


def test_divergence_stops_with_a_message(mnist, capsys):
    _, history = train(mnist, short(train="all", lr=10.0, steps=500), verbose=True)
    assert history.diverged_at is not None and history.diverged_at <= 500
    assert history.steps_done == history.diverged_at - 1
    assert all(math.isfinite(x) for x in history.losses)
    assert f"diverged at step {history.diverged_at}" in capsys.readouterr().out


def test_cancel_through_progress(mnist):
    seen = []
    _, history = train(mnist, short(steps=1000), progress=lambda s, n: seen.append(s) or s >= 200)
    assert history.cancelled and history.steps_done == 200
    assert seen == [100, 200]


def test_precomputed_features_give_the_same_run(mnist):
    config = short()
    features = frozen_features(initial_params(config), mnist)
    a, _ = train(mnist, config, features=features)
    b, _ = train(mnist, config)
    assert all(np.array_equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"lr": 0}, "lr must be a finite number > 0"),
        ({"lr": float("nan")}, "lr must be"),
        ({"steps": -5}, "steps must be a positive integer"),
        ({"batch_size": 0}, "batch_size must be a positive integer"),
        ({"batch_size": 10**6}, "at most 55000"),
        ({"hidden_size": 2.5}, "hidden_size must be a positive integer"),
        ({"train": "middle"}, "unknown training mode"),
        ({"init": "glorot"}, "unknown init scheme"),
        ({"optimizer": "rmsprop"}, "unknown optimizer"),
        ({"seed": -1}, "seed must be"),
    ],
)
def test_bad_hyperparameters_are_named(mnist, overrides, message):
    with pytest.raises(ValueError, match=message):
        train(mnist, TrainConfig(**overrides))


def test_optimizers_step_downhill():
    # minimise f(p) = |p|^2 / 2 whose gradient is p
    for optimizer in (SGD(0.1), Momentum(0.1), Adam(0.1), make_optimizer("adam", 0.1)):
        params = {"p": np.array([3.0, -2.0])}
        for _ in range(100):
            optimizer.update(params, {"p": params["p"].copy()})
        assert np.linalg.norm(params["p"]) < 0.5, type(optimizer).__name__


def test_top_only_update_matches_a_hand_computed_sgd_step(mnist):
    config = short(steps=1, lr=0.5, batch_size=4)
    start = initial_params(config)
    params, _ = train(mnist, config, params=start)
    from helpers.data import BatchSampler
    from helpers.layers import softmax
    from helpers.train import seeded_streams

    idx = BatchSampler(55000, 4, seeded_streams(config.seed)[1]).next()
    h2 = model.hidden_features(start, mnist.train.images[idx])
    probs = softmax(h2 @ start["W3"] + start["b3"])
    probs[np.arange(4), mnist.train.labels[idx]] -= 1
    assert np.allclose(params["W3"], start["W3"] - 0.5 * h2.T @ probs / 4, rtol=1e-12)
    assert np.allclose(params["b3"], start["b3"] - 0.5 * probs.sum(axis=0) / 4, rtol=1e-12)


def test_fast_and_full_paths_diverge_at_the_same_step(mnist):
    config = short(lr=1e5, steps=200)
    _, fast = train(mnist, config, fast=True)
    _, slow = train(mnist, config, fast=False)
    assert fast.diverged_at is not None
    assert fast.diverged_at == slow.diverged_at
    assert fast.diverged_loss > config.max_loss
    assert "diverged at step" in fast.message
