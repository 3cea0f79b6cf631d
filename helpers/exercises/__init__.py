"""Checkers for the notebooks' exercises: they say "correct" or "not yet" with a hint.

One module per notebook, ``exNN_<name>.py``; every checker is also importable
from here: ``from helpers.exercises import check_softmax``. A checker prints
one line and never prints the solution.

Each module also defines ``expected_numbers()`` -> {checker name: [accepted
numbers]}; the notebook-file tests use it to fail when an answer is printed
above its exercise (call it on the module: ``ex01_data.expected_numbers()``).
"""

from . import (
    ex01_data,
    ex02_initialization,
    ex03_forward_pass,
    ex04_backward_pass,
    ex05_training,
    ex06_explorer,
    ex07_baselines,
    ex08_rules,
)
from .ex01_data import *  # noqa: F401,F403 (each module's __all__ lists its checkers)
from .ex02_initialization import *  # noqa: F401,F403
from .ex03_forward_pass import *  # noqa: F401,F403
from .ex04_backward_pass import *  # noqa: F401,F403
from .ex05_training import *  # noqa: F401,F403
from .ex06_explorer import *  # noqa: F401,F403
from .ex07_baselines import *  # noqa: F401,F403
from .ex08_rules import *  # noqa: F401,F403

MODULES = (
    ex01_data,
    ex02_initialization,
    ex03_forward_pass,
    ex04_backward_pass,
    ex05_training,
    ex06_explorer,
    ex07_baselines,
    ex08_rules,
)
