"""The explorer's small plot for a rule other than top (notebook 6): the stored grid of results/rules.json is
titled as what it shows (validation means), its note is never cut, and a run of other settings gets no dot."""

import re
from dataclasses import replace

import numpy as np
import pytest

from helpers.comparison import load_results
from helpers.explorer.landscape import Landscape, stored_landscape
from helpers.train import History, TrainConfig


class Widget:
    value = ""


def drawn(config, validation=0.9, diverged_at=None):
    """The SVG the landscape draws for a shown run of ``config`` (no live grid: a rule other than top)."""
    history = History(config)
    history.eval_steps, history.test_accuracies, history.validation_accuracies = (
        [0, config.steps],
        [0.1, 0.5],
        [0.1, validation],
    )
    history.diverged_at = diverged_at
    landscape = Landscape(Widget(), grids=type("NoGrids", (), {"get": lambda self, *a: None})(), lr_grid=lambda: None)
    landscape.draw(history)
    return landscape.widget.value


def notes(svg):
    return [html for html in re.findall(r"<text x='4' y='(?:30|44|58|72)' fill='#555'>([^<]*)</text>", svg)]


@pytest.fixture(scope="module")
def settings():
    return load_results()["settings"]


def test_the_stored_grid_is_titled_validation_and_its_note_is_whole(settings):
    svg = drawn(TrainConfig(rule="fa", lr=0.01))
    assert ">validation accuracy vs learning rate<" in svg and "final test accuracy" not in svg
    note = " ".join(notes(svg))
    assert "\u2026" not in note and note.endswith("the dot is the shown run")
    assert f"H\u00a0{settings['hidden_size']}" in note and f"{settings['select_steps']:,}\u00a0steps" in note
    assert "explorer-marker" in svg


def test_the_dot_sits_at_the_shown_runs_validation_accuracy():
    high, low = (
        drawn(TrainConfig(rule="fa", lr=0.01), validation=0.9),
        drawn(TrainConfig(rule="fa", lr=0.01), validation=0.3),
    )
    y = [float(re.search(r"explorer-marker[^>]* cy='([0-9.]+)'", svg).group(1)) for svg in (high, low)]
    assert y[0] < y[1]  # higher validation accuracy: higher up (SVG y grows downwards)


@pytest.mark.parametrize(
    "changes, named",
    [
        ({"hidden_size": 32, "steps": 1000}, "H\u00a032, 1,000\u00a0steps"),
        ({"batch_size": 64}, "batch\u00a064"),
        ({"lr": 1.0}, "lr\u00a01, outside"),
    ],
)
def test_a_run_of_other_settings_gets_no_dot_and_the_note_says_why(changes, named):
    svg = drawn(replace(TrainConfig(rule="fa", lr=0.1), **changes))
    assert "explorer-marker" not in svg
    note = " ".join(notes(svg))
    assert "no dot: the shown run has" in note and named in note and "\u2026" not in note


def test_every_difference_at_once_still_fits():
    config = TrainConfig(
        rule="fa", lr=0.01, hidden_size=1024, steps=50000, batch_size=256, init="xavier", optimizer="adam"
    )
    note = " ".join(notes(drawn(config)))
    assert "no dot" in note and "\u2026" not in note


def test_stored_landscape_keeps_its_three_items_and_gives_settings_on_request(settings):
    assert len(stored_landscape("fa")) == 3
    lrs, accuracies, note, stored = stored_landscape("fa", with_settings=True)
    assert stored == settings and np.all(np.diff(lrs) > 0)
