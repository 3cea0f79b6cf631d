"""NumPy MLP 784-128-128-10 on MNIST, trained top layer only: the code the notebooks import.

Modules: ``data`` (MNIST), ``layers`` (forward/backward pairs), ``model``
(init, forward, backward), ``train`` (loop, optimizers, history),
``gradcheck``, ``plots``. Run ``python -m helpers --help`` for the experiments.
"""

__version__ = "0.1.0"
