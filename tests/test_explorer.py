"""The explorer's logic without a browser: retraining, the feature cache, divergence, cancelling."""

import re
import time

import pytest

from helpers.explorer import Explorer, explorer_config
from helpers.train import TrainConfig, train

PNG_MAGIC = b"\x89PNG"


@pytest.fixture
def explorer(mnist):
    """An explorer on short runs (1,000 steps), so each change takes a fraction of a second."""
    explorer = Explorer(mnist, TrainConfig(steps=1000))
    yield explorer
    explorer.close()


def wait_until(condition, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


def shown_accuracy(explorer) -> float:
    match = re.search(r"test accuracy (\d+\.\d\d)%", explorer.status_text)
    assert match, explorer.status_text
    return float(match.group(1))


def test_first_run_is_shown_at_once(explorer):
    assert explorer.history is not None and explorer.history.config.lr == 1e-3
    assert bytes(explorer.image.value).startswith(PNG_MAGIC)
    assert shown_accuracy(explorer) == round(100 * explorer.history.final_test_accuracy, 2)


def test_lr_change_retrains_with_cached_features(explorer, mnist):
    first, picture = explorer.history, bytes(explorer.image.value)
    misses, hits = explorer.features.misses, explorer.features.hits

    history = explorer.update(lr=0.1)

    assert history is explorer.history and explorer.previous is first  # the old run stays, faint
    assert history.config.lr == pytest.approx(0.1)
    assert history.final_test_accuracy > first.final_test_accuracy + 0.2  # lr 0.1 learns far faster
    assert shown_accuracy(explorer) == round(100 * history.final_test_accuracy, 2)
    assert "features for H=128 reused" in explorer.status_text
    assert bytes(explorer.image.value) != picture
    assert (explorer.features.misses, explorer.features.hits) == (misses, hits + 1)
    # the explorer's run is the ordinary training run with that config
    _, direct = train(mnist, explorer_config(TrainConfig(steps=1000), lr=history.config.lr))
    assert direct.test_accuracies == history.test_accuracies


def test_hidden_size_change_recomputes_features(explorer):
    misses = explorer.features.misses
    history = explorer.update(hidden_size=64)
    assert history.config.hidden_size == 64
    assert explorer.features.misses == misses + 1
    assert "features for H=64 computed" in explorer.status_text
    explorer.update(hidden_size=128)  # back to a size seen before: from the cache
    assert explorer.features.misses == misses + 1
    assert "features for H=128 reused" in explorer.status_text


def test_controls_show_the_updated_values(explorer):
    explorer.update(lr=0.01, batch_size=64, seed=3, init="he")
    assert (explorer.lr.value, explorer.batch_size.value, explorer.seed.value, explorer.init.value) == (
        pytest.approx(0.01), 64, 3, "he")
    assert explorer.config() == explorer.history.config
    with pytest.raises(TypeError, match="unknown control"):
        explorer.update(learning_rate=0.1)


def test_divergence_is_reported_with_the_curve_so_far(explorer):
    history = explorer.update(train="all", lr=10.0)
    assert history.diverged_at is not None
    assert f"diverged at step {history.diverged_at:,}" in explorer.status_text
    assert bytes(explorer.image.value).startswith(PNG_MAGIC)
    assert len(explorer.plot.loss_line.get_xdata()) >= 1  # the loss up to the divergence, not an empty plot
    # and the explorer carries on: a sane learning rate trains again
    assert explorer.update(train="top", lr=0.05).diverged_at is None


def test_new_change_cancels_a_running_all_layers_run(explorer):
    before = explorer.history
    explorer.update(train="all", steps=50000, wait=False)  # about a minute if left alone
    wait_until(lambda: explorer.progress.value > 0)  # it is running and shows its progress
    assert "training all layers: step" in explorer.status_text

    history = explorer.update(train="top", steps=1000, lr=0.1)  # cancels it, then runs

    assert history.config.train == "top" and explorer.history is history
    assert explorer.previous is before  # the cancelled run never became a shown run
    assert explorer.progress.layout.visibility == "hidden"


def test_stop_button_cancels(explorer):
    before = explorer.history
    explorer.update(train="all", steps=50000, wait=False)
    wait_until(lambda: explorer.progress.value > 0)
    explorer.stop.click()
    assert explorer.wait(timeout=60)
    assert "cancelled at step" in explorer.status_text
    assert explorer.history is before


def test_rapid_changes_do_not_pile_up(explorer):
    started = explorer.runs_started
    for lr in (0.002, 0.004, 0.008, 0.016, 0.032, 0.064):
        explorer.update(lr=lr, wait=False)
    assert explorer.wait(timeout=60)
    assert explorer.runs_started - started <= 3  # the superseded requests never ran
    assert explorer.history.config.lr == pytest.approx(0.064)  # the last change wins


def test_values_off_the_sliders_are_accepted_and_bad_ones_refused(explorer):
    history = explorer.update(hidden_size=100, lr=3e-5)
    assert (history.config.hidden_size, history.config.lr) == (100, pytest.approx(3e-5))
    assert explorer.hidden_size.value == 100 and explorer.lr.value == pytest.approx(3e-5)
    with pytest.raises(ValueError, match="unknown training mode"):
        explorer.update(train="bottom")
    assert explorer.train_mode.value == "top"  # nothing moved
