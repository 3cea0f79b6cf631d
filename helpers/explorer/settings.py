"""What the controls offer and how a value is written: one place for both the sliders and the legend."""

from __future__ import annotations

from dataclasses import astuple, replace

import numpy as np

from .. import model, rules, train
from ..optimizers import OPTIMIZERS

HIDDEN_SIZES = (16, 32, 64, 128, 256, 512, 1024)
STEP_COUNTS = (1000, 2000, 5000, 10000, 20000, 50000)
BATCH_SIZES = (8, 16, 32, 64, 128, 256)
CHANCE = 0.1  # ten classes: accuracy of guessing

# the learning-rate slider: 10^-4 ... 10^1 in steps of 10^0.1, 51 values; the grid trains every one
LR_EXPONENTS = (-4.0, 1.0, 0.1)  # min, max, step
# d3-format with no type is "g" with trailing zeros trimmed: the readout shows what format_lr writes ("0.02", not "0.020")
LR_READOUT_FORMAT = ".2"


def lr_grid(low: float = LR_EXPONENTS[0], high: float = LR_EXPONENTS[1], step: float = LR_EXPONENTS[2]):
    """Every value the learning-rate slider can take, smallest first: 10 ** (low + k * step)."""
    count = int(round((high - low) / step)) + 1
    return 10.0 ** np.round(low + step * np.arange(count), 10)


def grid_index(lr: float, grid, rel: float = 1e-9) -> int | None:
    """Position of ``lr`` in ``grid`` (to ``rel``: the browser computes 10 ** x in its own rounding), or None."""
    grid = np.asarray(grid)
    hits = np.flatnonzero(np.abs(grid - lr) <= rel * lr)
    return int(hits[0]) if len(hits) else None


def format_lr(lr: float) -> str:
    """A learning rate with two significant digits, trailing zeros trimmed: 0.02, 0.0013, 1.3, 10.

    The slider's readout uses the same rule (``LR_READOUT_FORMAT``), so the
    number under the mouse and the one in the legend are the same text.
    """
    return np.format_float_positional(float(f"{lr:.2g}"), trim="-")


def explorer_config(base: train.TrainConfig | None = None, **values) -> train.TrainConfig:
    """The TrainConfig of an explorer run: ``base`` with ``values`` replaced.

    The log and evaluation intervals scale with the number of steps (a tenth
    for the accuracy, a fortieth for the loss), which gives the reference's
    250 / 1000 at 10,000 steps and a readable curve at any length.
    """
    config = replace(base or train.TrainConfig(), **values)
    return replace(config, log_every=max(1, config.steps // 40), eval_every=max(1, config.steps // 10)).validate()


def grid_key(config: train.TrainConfig) -> tuple:
    """Everything of a run but its learning rate: runs with one key share features, batches and a grid."""
    return astuple(replace(config, lr=1.0))


def describe(config: train.TrainConfig) -> str:
    """A short legend label: 'lr 0.1, H 128, 10,000 steps, batch 32, seed 0, reference, SGD, top layer only'."""
    return (
        f"lr {format_lr(config.lr)}, H {config.hidden_size}, {config.steps:,} steps, batch {config.batch_size}, "
        f"seed {config.seed}, {config.init}, {optimizer_label(config.optimizer)}, {rule_label(config.rule)}"
    )


def init_options() -> list:
    """(label, name) of every init scheme in the registry ``helpers.model.INIT_SCHEMES``, read when a dropdown is built."""
    return [(scheme.label, name) for name, scheme in model.INIT_SCHEMES.items()]


def rule_label(name: str) -> str:
    return rules.RULES[name].label


def rule_options() -> list:
    """(label, name) of every learning rule in the registry ``helpers.rules.RULES``, read when a dropdown is built."""
    return [(cls.label, name) for name, cls in rules.RULES.items()]


def optimizer_label(name: str) -> str:
    return OPTIMIZERS[name].label


def optimizer_options() -> list:
    """(label, name) of every optimizer in the registry ``helpers.optimizers.OPTIMIZERS``, read when a dropdown is built."""
    return [(cls.label, name) for name, cls in OPTIMIZERS.items()]


def status_label(config: train.TrainConfig) -> str:
    """What the status line and the legend name: 'top, lr 0.001, H 128, 10,000 steps, seed 0', then the
    batch size, init and optimizer only where they differ from the reference (one line on a projector)."""
    reference = train.TrainConfig()
    extras = [
        f"batch {config.batch_size}" if config.batch_size != reference.batch_size else "",
        f"{config.init} init" if config.init != reference.init else "",
        optimizer_label(config.optimizer) if config.optimizer != reference.optimizer else "",
    ]
    return ", ".join(
        [
            f"{config.rule}, lr {format_lr(config.lr)}, H {config.hidden_size}, {config.steps:,} steps, "
            f"seed {config.seed}",
            *filter(None, extras),
        ]
    )


def differences(config: train.TrainConfig, other: train.TrainConfig) -> str:
    """What ``other`` changes against ``config``, in the words of status_label ('lr 0.01', 'same settings')."""
    mine, theirs = status_label(config).split(", "), status_label(other).split(", ")
    changed = [item for item in theirs if item not in mine]
    return ", ".join(changed) if changed else "same settings"
