"""Checkers for the notebooks' exercises: they say "correct" or "not yet" with a hint.

One module per notebook (``ex01_data`` ... ); every checker is also importable
from here: ``from helpers.exercises import check_softmax``. A checker prints
one message and never prints the solution.
"""

from .ex01_data import *  # noqa: F401,F403
from .ex02_initialization import *  # noqa: F401,F403
from .ex03_forward_pass import *  # noqa: F401,F403
from .ex04_backward_pass import *  # noqa: F401,F403
from .ex05_training import *  # noqa: F401,F403
from .ex07_baselines import *  # noqa: F401,F403
