"""The explorer's logic without a browser: the grid, the feature cache, what the status and legend say, cancelling."""

import gc
import hashlib
import math
import os
import re
import threading
import time
from dataclasses import replace

import numpy as np
import pytest

from helpers import model
from helpers.data import Split
from helpers.explorer import (
    LR_READOUT_FORMAT,
    READABLE,
    Explorer,
    FeatureCache,
    app,
    cache as cache_module,
    explorer_config,
    format_lr,
    grid as grid_module,
    landscape_svg,
    lr_grid,
    train_grid,
)
from helpers.explorer.settings import status_label
from helpers.model import frozen_features
from helpers.rules import TopLayerOnly
from helpers.train import TrainConfig, initial_params, train

PNG_MAGIC = b"\x89PNG"
MARKER = re.compile(r"class='explorer-marker' data-lr='([^']+)' cx='([\d.]+)' cy='([\d.]+)'")


# The frozen features and the learning-rate grids the `explorer` and `gridded` fixtures' explorers compute, by
# their inputs: each is computed once per module (1.3 s for H = 128's features, 8 s for a grid on a busy
# machine, in every one of 30 fixtures before), while every test still gets a fresh explorer, its own feature
# cache (hits, misses), runs and widgets. The tests of the features and the grid themselves build theirs
# without the fixtures and compute everything.
_shared_work: dict = {}


@pytest.fixture(scope="module", autouse=True)
def shared_work_freed():
    yield
    _shared_work.clear()  # 0.1-0.3 GB of features


def _params_digest(params: dict) -> str:
    digest = hashlib.sha256()
    for name in sorted(params):
        digest.update(name.encode() + np.ascontiguousarray(params[name]).tobytes())
    return digest.hexdigest()


def _once_per_module(monkeypatch):
    """Route the explorer's feature and grid computations through ``_shared_work``: the same inputs give the
    very objects the first computation returned (nothing mutates them: the explorer only reads)."""
    compute_features, compute_grid = cache_module.features_with_progress, grid_module.train_grid

    def features_with_progress(params, data, progress=None, dtype=np.float64):
        key = ("features", id(data), np.dtype(dtype).str, _params_digest(params))
        if key not in _shared_work:
            _shared_work[key] = (data, compute_features(params, data, progress, dtype))  # data kept: its id stays
        elif progress is not None:
            images = sum(len(s) for s in (data.train, data.test, data.validation))
            progress(images, images)
        return _shared_work[key][1]

    def train_grid(data, config, lrs, params, features, cancel, progress=None):
        key = (
            "grid",
            id(data),
            repr(config),
            tuple(np.asarray(lrs, dtype=float)),
            _params_digest(params),
            id(features),
        )
        if key not in _shared_work:
            grid = compute_grid(data, config, lrs, params, features, cancel, progress)
            if grid is None:  # cancelled: nothing to share
                return None
            _shared_work[key] = ((data, features), grid)
        elif cancel.is_set():
            return None
        elif progress is not None:
            progress(1.0)
        return _shared_work[key][1]

    monkeypatch.setattr(cache_module, "features_with_progress", features_with_progress)
    monkeypatch.setattr(grid_module, "train_grid", train_grid)


@pytest.fixture
def explorer(mnist, monkeypatch):
    """An explorer on short runs (1,000 steps) without the background grid: every change trains."""
    _once_per_module(monkeypatch)
    explorer = Explorer(mnist, TrainConfig(steps=1000), grid=False)
    yield explorer
    explorer.close()


@pytest.fixture
def gridded(mnist, monkeypatch):
    """An explorer on short runs whose learning-rate grid is trained (about a second at 1,000 steps)."""
    _once_per_module(monkeypatch)
    explorer = Explorer(mnist, TrainConfig(steps=1000))
    assert explorer.wait_for_grid(timeout=120) is not None
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


# ---------------------------------------------------------------- the learning-rate grid


def test_a_grid_answer_is_the_single_run(mnist):
    config = explorer_config(TrainConfig(steps=1000))
    params = initial_params(config)
    features = frozen_features(params, mnist)
    # 1e-3, 0.1, 0.63: slow, good, large (past about 1 the runs are chaotic: rounding differences grow)
    lrs = lr_grid()[[10, 30, 38]]
    grid = train_grid(mnist, config, lrs, params, features, threading.Event())
    for i, lr in enumerate(lrs):
        single_params, single = train(mnist, replace(config, lr=float(lr)), params, rule=TopLayerOnly(features))
        answer, answer_params = grid.histories[i], grid.params(i, params)
        for name in single_params:
            np.testing.assert_allclose(answer_params[name], single_params[name], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(answer.losses, single.losses, rtol=1e-9)
        assert (answer.steps, answer.eval_steps, answer.test_accuracies) == (
            single.steps,
            single.eval_steps,
            single.test_accuracies,
        )
        assert (answer.steps_done, answer.diverged_at) == (single.steps_done, single.diverged_at)


def test_a_grid_of_wide_features_is_trained_one_run_at_a_time_with_the_same_runs(mnist, monkeypatch):
    # above STACK_MAX_BYTES the stack's copies would double the memory: train() per lr instead, same answers
    config = explorer_config(TrainConfig(steps=1000))
    params = initial_params(config)
    features = frozen_features(params, mnist)
    lrs = lr_grid()[[10, 30, 50]]  # 1e-3, 0.1, 10
    stacked = train_grid(mnist, config, lrs, params, features, threading.Event())
    monkeypatch.setattr(grid_module, "STACK_MAX_BYTES", 0)
    fractions = []
    one_by_one = train_grid(mnist, config, lrs, params, features, threading.Event(), progress=fractions.append)
    for a, b in zip(stacked.histories[:2], one_by_one.histories[:2]):  # lr 10 is chaotic: rounding grows there
        np.testing.assert_allclose(a.losses, b.losses, rtol=1e-9)
        assert a.test_accuracies == b.test_accuracies
    assert [(h.eval_steps, h.diverged_at) for h in stacked.histories] == [
        (h.eval_steps, h.diverged_at) for h in one_by_one.histories
    ]
    assert [t is None for t in stacked.top] == [t is None for t in one_by_one.top]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    cancel = threading.Event()
    cancel.set()
    assert train_grid(mnist, config, lrs, params, features, cancel) is None


def test_the_compact_mnist_gives_the_same_images_and_features(mnist):
    from helpers.explorer.cache import features_with_progress
    from helpers.explorer.compact import load_compact_mnist

    compact = load_compact_mnist(mnist.directory)
    assert compact.train.pixels.dtype == np.uint8 and compact.train.pixels.nbytes == 55000 * 784
    for name in ("train", "validation", "test"):
        images, floats = getattr(compact, name).images, getattr(mnist, name).images
        assert images.shape == floats.shape and len(images) == len(floats) and images.dtype == floats.dtype, name
        assert np.array_equal(np.asarray(images), floats), name
        assert np.array_equal(getattr(compact, name).labels, getattr(mnist, name).labels), name
    images, floats = compact.train.images, mnist.train.images
    index = np.array([54999, 3, 3, 1000])  # a batch's index array: those rows, in that order
    for key in (index, slice(100, 4196), 7, -1):
        assert np.array_equal(images[key], floats[key]), key
    weights = np.random.default_rng(0).normal(size=(784, 3))
    assert np.array_equal(compact.test.images @ weights, mnist.test.images @ weights)
    params = initial_params(TrainConfig(hidden_size=32))
    from_bytes, from_floats = features_with_progress(params, compact), frozen_features(params, mnist)
    for name in ("train", "test", "validation"):
        assert np.array_equal(getattr(from_bytes, name), getattr(from_floats, name)), name
    assert np.array_equal(frozen_features(params, compact).test, from_floats.test)  # model's own chunks too


def test_an_explorer_that_loads_mnist_keeps_the_bytes_and_trains_every_rule(mnist, monkeypatch):
    from helpers.explorer import compact

    monkeypatch.setattr(app, "load_compact_mnist", lambda: compact.load_compact_mnist(mnist.directory))
    app.close_all()  # no explorer to inherit data from
    explorer = Explorer(None, TrainConfig(steps=200, eval_every=200), grid=False)
    try:
        assert isinstance(explorer.data, compact.CompactMnist)
        top = explorer.history
        _, alone = train(mnist, top.config)  # the same run from load_mnist's float64 images
        assert top.losses == alone.losses and top.test_accuracies == alone.test_accuracies
        backprop = explorer.update(rule="backprop", lr=0.01)  # every layer, from the bytes a batch at a time
        _, backprop_alone = train(mnist, backprop.config)
        assert backprop.diverged_at is None and backprop.losses == backprop_alone.losses
        assert backprop.test_accuracies == backprop_alone.test_accuracies
        assert isinstance(explorer.data, compact.CompactMnist)  # no float64 copy was made to keep
    finally:
        explorer.close()


def test_the_grid_is_every_slider_value(explorer):
    lrs = explorer.controls.lr_grid()
    assert len(lrs) == 51 and lrs[0] == pytest.approx(1e-4) and lrs[-1] == pytest.approx(10.0)
    np.testing.assert_allclose(np.diff(np.log10(lrs)), explorer.lr.step, rtol=1e-9)
    assert (explorer.lr.min, explorer.lr.max) == (-4, 1)


def test_a_cancelled_grid_is_dropped(mnist):
    config = explorer_config(TrainConfig(steps=1000))
    params = initial_params(config)
    cancel = threading.Event()
    cancel.set()
    assert train_grid(mnist, config, lr_grid(), params, frozen_features(params, mnist), cancel) is None


def test_lr_change_is_answered_from_the_grid_without_training(gridded):
    assert gridded.lr.continuous_update  # the grid is ready: the slider answers while dragged
    hits, misses, started = gridded.features.hits, gridded.features.misses, gridded.runs_started
    lr = float(gridded.controls.lr_grid()[40])  # 1.0
    history = gridded.update(lr=lr)
    assert history.config.lr == pytest.approx(lr)
    assert "from the grid" in gridded.status_text
    assert (gridded.features.hits, gridded.features.misses) == (hits, misses)  # nothing trained, no features read
    assert gridded.runs_started == started + 1
    assert shown_accuracy(gridded) == round(100 * history.final_test_accuracy, 2)


def test_an_lr_off_the_grid_is_trained(gridded):
    history = gridded.update(lr=0.05)
    assert history.config.lr == 0.05
    assert " · trained, features" in gridded.status_text and "from the grid" not in gridded.status_text


def test_the_static_view_draws_the_grid_run_the_explorer_would_show(gridded):
    """The figure a page without a kernel shows in the explorer's place: the grid's run at that lr, its
    curves, the landscape with that lr marked, and the status label as title."""
    import matplotlib.pyplot as plt

    from helpers.explorer.figure import explorer_view_figure

    grid = gridded.wait_for_grid()
    lr = float(grid.lrs[30])  # 0.1
    history = grid.histories[grid.index(lr)]
    fig = explorer_view_figure(grid, lr)
    try:
        loss_ax, acc_ax, lr_ax = fig.axes
        np.testing.assert_array_equal(loss_ax.lines[0].get_ydata(), history.losses)
        np.testing.assert_array_equal(acc_ax.lines[0].get_ydata(), 100 * np.asarray(history.test_accuracies))
        np.testing.assert_allclose(lr_ax.lines[0].get_ydata(), 100 * grid.accuracies())
        marker = lr_ax.lines[1]
        assert marker.get_xdata()[0] == pytest.approx(lr)
        assert marker.get_ydata()[0] == pytest.approx(100 * history.final_test_accuracy)
        title = fig._suptitle.get_text()
        assert f"test accuracy {100 * history.final_test_accuracy:.2f}%" in title
        assert status_label(history.config) in title and "from the grid" in title
    finally:
        plt.close(fig)


def test_the_landscape_marker_follows_the_learning_rate(gridded):
    positions = []
    for index in (20, 35):  # 0.01, 0.32
        gridded.update(lr=float(gridded.controls.lr_grid()[index]))
        match = MARKER.search(gridded.landscape.value)
        assert match, gridded.landscape.value[:300]
        positions.append((match.group(1), float(match.group(2)), float(match.group(3))))
    (lr_a, x_a, y_a), (lr_b, x_b, y_b) = positions
    assert (lr_a, lr_b) == ("0.01", "0.32")
    assert x_b > x_a  # a larger learning rate is further right
    assert y_b < y_a  # and, at 1,000 steps, more accurate: higher up (SVG y grows downwards)
    assert gridded.landscape.value.count("<polyline") >= 1


def test_the_landscape_shades_diverged_learning_rates():
    lrs = lr_grid()
    accuracies = np.linspace(0.1, 0.9, len(lrs))
    accuracies[-5:] = np.nan
    svg = landscape_svg(lrs, accuracies, lrs[-1], None)
    assert svg.count("class='explorer-diverged'") == 5 and ">diverged<" in svg
    assert "fill='#b00'" in svg  # the marker of a diverged run is red, at the bottom
    assert "explorer-diverged" not in landscape_svg(lrs, np.linspace(0.1, 0.9, len(lrs)), 0.1, 0.5)


@pytest.mark.slow  # trains a second learning-rate grid, at H 64
def test_a_hidden_size_change_waits_for_a_new_grid(gridded):
    gridded.update(hidden_size=64)
    assert not gridded.lr.continuous_update or gridded.wait_for_grid(0) is not None
    grid = gridded.wait_for_grid(timeout=120)
    assert grid is not None and gridded.lr.continuous_update
    assert "from the grid" in (gridded.update(lr=float(grid.lrs[30])) and gridded.status_text)


def test_all_layers_runs_are_trained_not_looked_up(gridded):
    history = gridded.update(rule="backprop", lr=float(gridded.controls.lr_grid()[30]))
    assert history.config.rule == "backprop" and " · trained · waited" in gridded.status_text
    assert not gridded.lr.continuous_update


# ---------------------------------------------------------------- the feature cache


def tiny(mnist):
    return replace(
        mnist,
        train=Split(mnist.train.images[:100], mnist.train.labels[:100]),
        test=Split(mnist.test.images[:50], mnist.test.labels[:50]),
        validation=Split(mnist.validation.images[:20], mnist.validation.labels[:20]),
    )


def test_feature_cache_evicts_the_least_recently_used_by_bytes(mnist):
    data = tiny(mnist)
    entry_bytes = (100 + 50 + 20) * 16 * 8  # train, test and validation features at H = 16, float64
    cache = FeatureCache(data, max_bytes=2.5 * entry_bytes)
    configs = [TrainConfig(hidden_size=16, seed=seed) for seed in range(3)]
    cache.get(configs[0])
    cache.get(configs[1])
    assert cache.nbytes() == 2 * entry_bytes
    assert cache.get(configs[0])[2] is True  # a hit; seed 1 is now the least recently used
    cache.get(configs[2])  # a third entry does not fit: seed 1 goes
    assert [key[1] for key in cache.keys()] == [0, 2] and cache.nbytes() == 2 * entry_bytes
    assert (cache.hits, cache.misses) == (1, 3)


def test_feature_cache_keeps_the_newest_entry_whatever_its_size(mnist):
    cache = FeatureCache(tiny(mnist), max_bytes=1000)  # smaller than any entry
    cache.get(TrainConfig(hidden_size=16))
    cache.get(TrainConfig(hidden_size=32))
    assert cache.keys() == [(32, 0, "reference")] and cache.nbytes() == (100 + 50 + 20) * 32 * 8
    cache.clear()
    assert cache.nbytes() == 0 and TrainConfig(hidden_size=32) not in cache


def test_feature_cache_drops_what_a_new_entry_replaces_before_computing_it(mnist):
    # a kernel that visited H = 1024 must not hold its 0.57 GB while computing the next entry
    data = tiny(mnist)
    cache = FeatureCache(data, max_bytes=1.5 * (100 + 50 + 20) * 16 * 8)  # room for one entry at H = 16
    cache.get(TrainConfig(hidden_size=16, seed=0))
    held_while_computing = []
    cache.get(
        TrainConfig(hidden_size=16, seed=1), progress=lambda done, total: held_while_computing.append(cache.keys())
    )
    assert held_while_computing and all(keys == [] for keys in held_while_computing)
    assert cache.keys() == [(16, 1, "reference")]


def test_feature_cache_releases_entries_a_grid_answer_does_not_need(mnist):
    data = tiny(mnist)
    entry_bytes = (100 + 50 + 20) * 16 * 8
    cache = FeatureCache(data, max_bytes=1.5 * entry_bytes)
    cache.get(TrainConfig(hidden_size=16, seed=0))
    cache.get(TrainConfig(hidden_size=32, seed=0))  # over the bound, kept: the newest entry
    assert not cache.release_all_but(TrainConfig(hidden_size=32))  # the one still needed stays
    assert cache.release_all_but(TrainConfig(hidden_size=16)) and cache.keys() == []  # shown from a grid: not needed
    cache.get(TrainConfig(hidden_size=16, seed=0))
    assert not cache.release_all_but(TrainConfig(hidden_size=64)) and len(cache.keys()) == 1  # within the bound


def test_wide_features_are_kept_in_float32_and_the_status_says_so(mnist, monkeypatch):

    assert cache_module.feature_dtype(256, mnist) is np.float64  # up to 256: the same bits as train()'s
    assert (
        cache_module.feature_dtype(512, mnist) is np.float32 and cache_module.feature_dtype(1024, mnist) is np.float32
    )
    monkeypatch.setattr(cache_module, "FLOAT32_ABOVE_BYTES", 0)  # every width wide: a small one stands in
    explorer = Explorer(mnist, TrainConfig(steps=1000), grid=False)
    try:
        history = explorer.update(hidden_size=32, lr=0.1)
        _, features, cached = explorer.features.get(history.config)
        assert cached
        assert features.train.dtype == np.float32 and "features for H=32 computed (float32)" in explorer.status_text
        _, exact = train(mnist, history.config)  # float64 features
        assert round(100 * history.final_test_accuracy, 2) == round(100 * exact.final_test_accuracy, 2)
        np.testing.assert_allclose(history.losses, exact.losses, rtol=1e-6)
    finally:
        explorer.close()


def test_features_computed_in_slices_are_the_frozen_features_bit_for_bit(mnist):
    from helpers.explorer.cache import features_with_progress

    params = initial_params(TrainConfig(hidden_size=64, seed=3))
    reported = []
    sliced = features_with_progress(params, mnist, progress=lambda done, total: reported.append((done, total)))
    whole = frozen_features(params, mnist)
    for name in ("train", "test", "validation"):
        assert np.array_equal(getattr(sliced, name), getattr(whole, name)), name
    assert reported[-1] == (70000, 70000) and len(reported) > 3
    assert [done for done, _ in reported] == sorted(done for done, _ in reported)


# ---------------------------------------------------------------- what the reader sees


def test_the_first_wait_counts_from_when_the_reader_began_waiting(mnist):
    # the app passes its kernel's start: the status counts the kernel's start and MNIST's load too
    explorer = Explorer(mnist, TrainConfig(steps=1000), grid=False, since=time.perf_counter() - 30.0)
    try:
        waited = float(re.search(r"waited (\d+\.\d\d) s", explorer.status_text).group(1))
        assert waited >= 30.0 and explorer.last_waited >= 30.0
        explorer.update(lr=0.01)  # later changes count from themselves
        assert explorer.last_waited < 30.0
    finally:
        explorer.close()


def test_the_app_counts_from_the_kernels_start_or_from_its_visitor(monkeypatch):
    import voila.utils

    before = time.perf_counter()
    monkeypatch.delenv("VOILA_PREHEAT", raising=False)
    started = app.kernel_started()
    assert started < before  # this process started before the test did
    assert abs(app.wait_for_visitor() - started) < 1.0
    visits = []
    monkeypatch.setattr(voila.utils, "wait_for_request", lambda: visits.append(time.perf_counter()))
    monkeypatch.setenv("VOILA_PREHEAT", "True")  # a spare kernel: it waits for its visitor, then counts from them
    arrived = app.wait_for_visitor()
    assert len(visits) == 1 and arrived >= visits[0] > started


def test_a_slow_start_shows_its_progress(mnist, monkeypatch):
    # computing the features at a new hidden size and training a top run both redraw the status as they go
    monkeypatch.setattr(app, "PROGRESS_EVERY_S", 0.0)
    explorer = Explorer(mnist, TrainConfig(steps=1000), grid=False)
    try:
        seen = []
        explorer.status.observe(lambda change: seen.append(text_of(change["new"])), names="value")
        explorer.update(hidden_size=32)
        lines = [line for line in seen if "images" in line]
        assert any("computing the frozen features for H 32: 70,000 of 70,000 images" in line for line in lines), seen
        assert len(lines) > 3  # several slices, not one line at the end
        assert any("step 1,000 of 1,000" in line for line in seen), seen
    finally:
        explorer.close()


def test_first_run_is_shown_at_once(explorer):
    assert explorer.history is not None and explorer.history.config.lr == 1e-3
    assert bytes(explorer.image.value).startswith(PNG_MAGIC)
    assert shown_accuracy(explorer) == round(100 * explorer.history.final_test_accuracy, 2)


def test_a_change_says_at_once_that_an_answer_is_on_its_way(explorer):
    explorer.update(lr=0.2, wait=False)
    assert explorer.status_text.startswith("training top, lr 0.2, H 128")  # before the worker even starts
    assert "explorer-busy" in explorer.widget._dom_classes
    assert explorer.wait(timeout=60) and "explorer-busy" not in explorer.widget._dom_classes


def test_readout_and_legend_write_a_learning_rate_alike(explorer):
    assert explorer.lr.readout_format == LR_READOUT_FORMAT == ".2"  # d3: "g" with trailing zeros trimmed

    def d3_default(value, precision=2):  # what the browser's readout shows: toPrecision, zeros trimmed
        exponent = math.floor(math.log10(float(f"{value:.{precision - 1}e}")))
        assert -7 < exponent < precision  # toPrecision's fixed-point range
        text = f"{value:.{max(0, precision - 1 - exponent)}f}"
        return text.rstrip("0").rstrip(".") if "." in text else text

    for lr in lr_grid():
        assert format_lr(lr) == d3_default(lr), lr
    explorer.update(lr=0.02)
    assert "lr 0.02," in explorer.legend.value and "0.020" not in explorer.legend.value
    assert "lr 0.02," in explorer.status_text  # the status writes it the same way


def test_lr_change_retrains_with_cached_features(explorer, mnist):
    first, picture = explorer.history, bytes(explorer.image.value)
    misses, hits = explorer.features.misses, explorer.features.hits
    history = explorer.update(lr=0.1)
    assert history is explorer.history and explorer.previous is first  # the old run stays, faint
    assert history.final_test_accuracy > first.final_test_accuracy + 0.2  # lr 0.1 learns far faster
    assert shown_accuracy(explorer) == round(100 * history.final_test_accuracy, 2)
    assert "features for H=128 reused" in explorer.status_text
    assert bytes(explorer.image.value) != picture
    assert (explorer.features.misses, explorer.features.hits) == (misses, hits + 1)
    legend = explorer.legend_text
    assert f"shown: {status_label(history.config)}" in legend and "previous: lr 0.001" in legend
    assert "\n" not in legend  # one line
    _, direct = train(mnist, explorer_config(TrainConfig(steps=1000), lr=history.config.lr))
    assert direct.test_accuracies == history.test_accuracies  # the explorer's run is the ordinary one


def test_hidden_size_change_recomputes_features(explorer):
    misses = explorer.features.misses
    assert explorer.update(hidden_size=64).config.hidden_size == 64
    assert explorer.features.misses == misses + 1 and "features for H=64 computed" in explorer.status_text
    explorer.update(hidden_size=128)  # back to a size seen before: from the cache
    assert explorer.features.misses == misses + 1 and "features for H=128 reused" in explorer.status_text


def test_controls_show_the_updated_values(explorer):
    explorer.update(lr=0.01, batch_size=64, seed=3, init="he", optimizer="momentum")
    assert (
        explorer.lr.value,
        explorer.batch_size.value,
        explorer.seed.value,
        explorer.init.value,
        explorer.optimizer.value,
    ) == (pytest.approx(0.01), 64, 3, "he", "momentum")
    assert explorer.config() == explorer.history.config
    with pytest.raises(TypeError, match="unknown control"):
        explorer.update(learning_rate=0.1)


def test_where_widgets_cannot_render_one_readable_line_is_shown(explorer):
    plain = explorer.widget._repr_mimebundle_()["text/plain"]
    assert plain == READABLE and "make app" in plain and "VBox" not in plain


def test_divergence_is_reported_with_the_curve_so_far(explorer):
    history = explorer.update(rule="backprop", lr=10.0)
    assert history.diverged_at is not None
    assert f"diverged at step {history.diverged_at:,}" in explorer.status_text
    assert bytes(explorer.image.value).startswith(PNG_MAGIC)
    assert len(explorer.plot.loss_line.get_xdata()) >= 1  # the loss up to the divergence, not an empty plot
    assert explorer.update(rule="top", lr=0.05).diverged_at is None  # and the explorer carries on


def test_a_diverged_run_is_drawn_on_its_own_steps(explorer):
    explorer.update(steps=10000, lr=0.05)  # a long run before: it must not squash the divergence
    history = explorer.update(rule="backprop", lr=10.0)
    assert history.diverged_at is not None and history.diverged_at < 100
    low, high = explorer.plot.loss_ax.get_xlim()
    assert high < 10000 and high >= history.diverged_at  # the axes of its own steps, not of 10,000
    assert len(explorer.plot.prev_loss.get_xdata()) == 0 and not explorer.plot.previous_drawn
    assert "previous run not drawn" in explorer.legend_text and "\n" not in explorer.legend_text
    assert "diverged" in explorer.status_text and "try a smaller lr" in explorer.status_text
    # a diverged run has no dot; the landscape shows backprop's stored grid and says where it comes from,
    # and that lr 10 lies outside that grid
    assert "stored results (results/rules.json)" in text_of(explorer.landscape.value)
    assert "no dot" in text_of(explorer.landscape.value) and "outside" in text_of(explorer.landscape.value)
    assert "explorer-marker" not in explorer.landscape.value


def test_an_lr_outside_the_drawn_grid_gets_a_note_instead_of_a_dot(explorer):
    from helpers.explorer.landscape import outside

    explorer.update(rule="backprop", lr=0.0004, steps=1000)  # below the stored grid, and other settings: no dot, a note
    assert "no dot" in text_of(explorer.landscape.value)
    assert "explorer-marker" not in explorer.landscape.value
    grid = lr_grid()
    assert outside(1e-4, grid) == outside(10.0, grid) == outside(None, grid) == outside(0.5, None) == ""
    assert outside(1000.0, grid) == "no dot: lr 1000 is outside 0.0001-10"


def text_of(svg: str) -> str:
    return " ".join(re.findall(r">([^<]+)<", svg))


def test_new_change_cancels_a_running_all_layers_run(explorer):
    before = explorer.history
    explorer.update(rule="backprop", steps=50000, wait=False)  # about a minute if left alone
    wait_until(lambda: explorer.progress.value > 0)  # it is running and shows its progress
    assert re.match(
        r"training backprop, lr 0.001, H 128, 50,000 steps, seed 0: step [\d,]+ of 50,000", explorer.status_text
    ), explorer.status_text
    assert "now" not in explorer.legend.value and f"shown: {status_label(before.config)}" in explorer.legend_text
    history = explorer.update(rule="top", steps=1000, lr=0.1)  # cancels it, then runs
    assert history.config.rule == "top" and explorer.history is history
    assert explorer.previous is before  # the cancelled run never became a shown run
    assert not explorer.controls.training_shown


def test_stop_shows_the_partial_run_on_its_way(explorer):
    before = explorer.history
    explorer.update(rule="backprop", steps=50000, wait=False)
    assert not explorer.stop.disabled and explorer.controls.training_shown  # stop works from the first moment
    wait_until(lambda: explorer.progress.value > 0)
    explorer.stop.click()
    assert explorer.wait(timeout=60)
    stopped = explorer.history
    assert stopped.cancelled and stopped.config.rule == "backprop" and explorer.previous is before
    assert re.match(
        r"stopped at step [\d,]+ of 50,000 \(test accuracy \d+\.\d\d% at step [\d,]+\) · backprop, "
        r"lr 0.001, H 128, 50,000 steps, seed 0 · stopped · waited \d+\.\d\d s$",
        explorer.status_text,
    ), explorer.status_text
    # the partial curves are drawn: what the run logged and evaluated until it stopped
    assert stopped.steps_done > 0 and list(explorer.plot.loss_line.get_xdata()) == stopped.steps
    assert list(explorer.plot.acc_line.get_xdata()) == stopped.eval_steps
    assert explorer.stop_latency is not None and explorer.stop.disabled and not explorer.controls.training_shown
    assert f"shown: {status_label(stopped.config)}" in explorer.legend_text


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
    with pytest.raises(ValueError, match="unknown learning rule .bottom."):
        explorer.update(rule="bottom")
    assert explorer.rule.value == "top"  # nothing moved


# ---------------------------------------------------------------- the registries


@pytest.mark.slow  # trains a grid with the registered entries
def test_a_registered_init_scheme_and_optimizer_are_offered(mnist, monkeypatch):
    from helpers.optimizers import OPTIMIZERS

    toy_scheme = replace(model.INIT_SCHEMES["he"], name="toy", label="toy init")
    toy_optimizer = type("ToySGD", (OPTIMIZERS["sgd"],), {"label": "toy optimizer"})
    monkeypatch.setitem(model.INIT_SCHEMES, "toy", toy_scheme)
    monkeypatch.setitem(OPTIMIZERS, "toy", toy_optimizer)
    explorer = Explorer(mnist, TrainConfig(steps=200))  # with the grid: the stacked engine trains the toy too
    try:
        assert ("toy init", "toy") in explorer.init.options and ("toy optimizer", "toy") in explorer.optimizer.options
        history = explorer.update(init="toy", optimizer="toy", lr=0.1)
        assert (history.config.init, history.config.optimizer) == ("toy", "toy")
        assert "toy optimizer" in explorer.legend.value
        grid = explorer.wait_for_grid(timeout=120)
        assert grid is not None and grid.histories[grid.index(0.1)].test_accuracies == history.test_accuracies
    finally:
        explorer.close()


def test_a_registered_rule_is_offered_and_trained(mnist, monkeypatch):
    from helpers import rules

    _once_per_module(monkeypatch)

    @rules.register_rule("toy-top", label="toy: half the top gradient")
    def toy(params, batch, cache, scores, dscores):
        (h2, _), _ = cache[-1]
        return {"W3": 0.5 * h2.T @ dscores, "b3": 0.5 * dscores.sum(axis=0)}

    try:
        explorer = Explorer(mnist, TrainConfig(steps=200), grid=False)
        try:
            assert ("toy: half the top gradient", "toy-top") in explorer.rule.options
            history = explorer.update(rule="toy-top", lr=0.2)
            assert history.config.rule == "toy-top" and history.diverged_at is None
            # no grid (it trains top only) and no stored row for a new rule: the landscape says so
            assert "empty for rule toy-top" in text_of(explorer.landscape.value)
            assert "shown: toy-top, lr 0.2," in explorer.legend_text and "toy-top, lr 0.2," in explorer.status_text
        finally:
            explorer.close()
    finally:
        rules.RULES.pop("toy-top", None)


def test_a_rule_registered_after_the_explorer_was_built_can_be_chosen(mnist, monkeypatch):
    from helpers import rules

    _once_per_module(monkeypatch)
    explorer = Explorer(mnist, TrainConfig(steps=100), grid=False)
    try:
        rules.register_rule("late-top", lambda p, b, c, s, d: {"W3": c[-1][0][0].T @ d})
        history = explorer.update(rule="late-top", lr=0.2)
        assert history.config.rule == "late-top" and ("late-top", "late-top") in explorer.rule.options
        with pytest.raises(ValueError, match="unknown learning rule 'never-registered'"):
            explorer.update(rule="never-registered")
    finally:
        explorer.close()
        rules.RULES.pop("late-top", None)


def test_the_app_page_holds_the_explorer_and_a_few_lines():
    import json
    from pathlib import Path

    page = json.loads((Path(__file__).resolve().parent.parent / "app" / "explorer.ipynb").read_text())
    code = ["".join(c["source"]) for c in page["cells"] if c["cell_type"] == "code"]
    prose = ["".join(c["source"]) for c in page["cells"] if c["cell_type"] == "markdown"]
    assert len(code) == 1 and "Explorer(" in code[0] and ".widget" in code[0]  # nothing else to run before it shows
    assert len(prose) == 1 and len(prose[0].split()) < 250 and "make app" not in prose[0]


# ---------------------------------------------------------------- status, previous, reset, run again


def test_previous_is_the_run_shown_before_a_drag_began(gridded, monkeypatch):
    # a drag: slider changes each within INTERACTION_GAP_S of the last; the test sets the gap, not the clock
    monkeypatch.setattr(app, "INTERACTION_GAP_S", 60.0)
    start = gridded.history
    shown = []
    for index in (12, 14, 16):  # lr 0.0016, 0.0025, 0.004: each answered (and shown) before the next change
        gridded.lr.value = float(gridded.controls.lr_grid()[index])
        assert gridded.wait(timeout=60)
        shown.append(gridded.history)
    assert len({id(h) for h in shown}) == 3 and "from the grid" in gridded.status_text
    assert gridded.previous is start, "previous must be where the drag started, not its last position"
    assert "previous: lr 0.001" in gridded.legend_text
    monkeypatch.setattr(app, "INTERACTION_GAP_S", 0.0)  # the drag ended: the next change is a new interaction
    gridded.lr.value = float(gridded.controls.lr_grid()[20])
    assert gridded.wait(timeout=60) and gridded.previous is shown[-1]
    assert "previous: lr 0.004" in gridded.legend_text


@pytest.mark.slow  # waits for grids to train
def test_the_wait_counts_from_the_change_that_asked_for_the_answer(explorer):
    asked = time.perf_counter()
    explorer.update(hidden_size=1024, wait=False)  # large features to compute: not answered within the next moment
    returned = time.perf_counter()
    time.sleep(0.05)
    superseding = time.perf_counter()
    history = explorer.update(hidden_size=32)  # supersedes the first change: the reader has waited since then
    done = time.perf_counter()
    assert history.config.hidden_size == 32
    # an ordering of measured instants, no threshold: the wait began before `returned` (the first change) and
    # ended after the second run's training, which began after `superseding`; a loaded machine only widens it
    assert superseding - returned + history.train_seconds <= explorer.last_waited <= done - asked
    assert f"waited {explorer.last_waited:.2f} s" in explorer.status_text
    assert "H 32" in explorer.status_text and "H 32" in explorer.legend_text


def test_run_again_trains_what_the_grid_could_answer(gridded):
    started = gridded.runs_started
    first = gridded.update(lr=0.1)
    assert "from the grid" in gridded.status_text
    again = gridded.run_again()
    assert again is not first and again.config == first.config and gridded.runs_started == started + 2
    assert " · trained, features for H=128 reused" in gridded.status_text
    assert again.test_accuracies == first.test_accuracies  # the same seed, batches and steps: the same run
    gridded.again.click()  # the button does the same, without blocking
    assert gridded.wait(timeout=60) and gridded.runs_started == started + 3


def test_reset_returns_every_control_to_the_start(explorer):
    start = explorer.config()
    explorer.update(lr=3e-5, hidden_size=64, batch_size=64, seed=3, init="he", optimizer="momentum")
    assert explorer.config() != start and explorer.lr.min < -4  # lr 3e-5 widened the slider
    history = explorer.reset_to_defaults()
    assert explorer.config() == start == history.config
    assert (explorer.lr.min, explorer.lr.max) == (-4, 1)
    explorer.update(seed=5)
    explorer.reset.click()
    assert explorer.wait(timeout=60) and explorer.history.config == start


# ---------------------------------------------------------------- one live explorer, no leaks


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def test_a_new_explorer_closes_the_old_one(mnist, monkeypatch):
    _once_per_module(monkeypatch)
    first = Explorer(mnist, TrainConfig(steps=200), grid=False)
    threads = threading.active_count()
    second = Explorer(mnist, TrainConfig(steps=200), grid=False)
    try:
        assert first.closed and not second.closed
        assert threading.active_count() == threads  # the first one's two workers ended, two new ones began
        assert first.features.nbytes() == 0 and first.data is None
        assert "closed: a newer explorer replaced this one" in first.widget.children[0].value
        with pytest.raises(RuntimeError, match="closed"):
            first.update(lr=0.1)
        assert second.update(lr=0.1).config.lr == 0.1
    finally:
        second.close()


@pytest.mark.slow  # builds the explorer and its grid four times
def test_re_running_the_explorer_cell_does_not_grow_memory(mnist):
    gc.collect()
    kept, memory = [], []
    for _ in range(4):
        explorer = Explorer(mnist, TrainConfig(steps=1000))
        assert explorer.wait_for_grid(timeout=300) is not None
        kept.append(explorer.widget)  # IPython's Out[] holds every displayed view, and through it the explorer
        del explorer
        gc.collect()
        memory.append(rss_mb())
    kept[-1]  # noqa: B018 - the views stay referenced to the end, as in a notebook
    first = memory[0]
    assert max(memory[1:]) <= 1.15 * first, f"RSS after 1 and 3 re-runs: {memory} MB"
    app.close_all()


def test_a_rule_without_a_grid_shows_its_stored_landscape():
    from helpers.comparison import load_results
    from helpers.explorer.landscape import stored_landscape

    row = next(r for r in load_results()["rules"] if r["rule"] == "fa")
    lrs, accuracies, note = stored_landscape("fa")
    assert list(lrs) == [g["lr"] for g in row["grid"]]
    assert np.allclose(accuracies, [g["validation_mean"] for g in row["grid"]], equal_nan=True)
    assert "stored results" in note and "seeds 0, 1, 2" in note
    assert stored_landscape("no-such-rule") is None


def test_a_kernel_with_an_explorer_gives_freed_memory_back_after_every_cell(monkeypatch):
    from IPython.core.interactiveshell import InteractiveShell

    if not InteractiveShell.initialized():
        assert app.give_back_memory_after_every_cell() is False  # not in a kernel: nothing to register with
    shell = InteractiveShell.instance()
    try:
        trims = []
        monkeypatch.setattr(app, "give_back_freed_memory", lambda: trims.append(1))
        assert app.give_back_memory_after_every_cell() and app.give_back_memory_after_every_cell()
        assert shell.events.callbacks["post_run_cell"].count(app._after_cell) == 1  # once, however many explorers
        shell.run_cell("x = 1")
        shell.run_cell("y = 2")
        assert len(trims) == 2
    finally:
        InteractiveShell.clear_instance()
