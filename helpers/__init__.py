"""NumPy MLP 784-128-128-10 on MNIST, trained top layer only: the code the notebooks import.

Modules, one idea each: ``data`` (MNIST files, splits, batches), ``layers``
(forward/backward pairs), ``model`` (init schemes, forward, backward),
``optimizers`` (SGD, momentum, Adam), ``train`` (config, schedule, history,
the loop), ``readout`` (the stacked top-layer engine), ``gradcheck``,
``reproducible`` (figures whose digits depend on the processor, printed with
the bound every machine reproduces),
``plots``, ``conditioning`` (spectra of the frozen features), ``baselines``
(the measurements of notebook 07), ``cli_args``; and two packages,
``exercises`` (one checker module per notebook) and ``explorer`` (the
ipywidgets explorer). Run ``python -m helpers --help`` for the experiments
without Jupyter.
"""

__version__ = "0.1.0"
