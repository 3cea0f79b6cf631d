"""NumPy MLP 784-128-128-10 on MNIST, trained top layer only: the code the notebooks import.

Modules, one idea each: ``data`` (MNIST files, splits, batches), ``layers``
(forward/backward pairs), ``model`` (init, forward, backward), ``train``
(loop, optimizers, history, fast path), ``gradcheck``, ``plots``,
``exercises`` (checkers), ``explorer`` (ipywidgets), ``baselines``
(vectorized readouts), ``cli_args``. Run ``python -m helpers --help`` for
the experiments without Jupyter.
"""

__version__ = "0.1.0"
