"""How many BLAS threads the small per-step products get: one.

A training step multiplies matrices of a few thousand to a few hundred
thousand numbers. Splitting such a product over threads costs more in
hand-over than it saves, and on a busy machine (a shared classroom server, CI
beside other work) a second thread waits for a core: the same step then takes
several times longer. The large products (the frozen features of 55,000
images, the evaluations) keep every thread.

threadpoolctl (the ecosystem's tool for this) sets the limit for the duration
of a ``with`` block and restores it afterwards. Without threadpoolctl the
block does nothing: the run is the same, only slower on a busy machine.
"""

from __future__ import annotations

import contextlib

try:
    from threadpoolctl import threadpool_limits
except ImportError:  # optional at run time: the results do not depend on it
    threadpool_limits = None


@contextlib.contextmanager
def one_blas_thread():
    """Run the block with BLAS limited to one thread (restored on exit)."""
    if threadpool_limits is None:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield
