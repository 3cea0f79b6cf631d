"""A worker thread that runs only the newest request: a newer one cancels the running one.

The kernel's main thread keeps handling slider events while a run trains;
each event replaces the waiting request (superseded requests never start),
so a fast drag never leaves a backlog of stale runs or redraws.
"""

from __future__ import annotations

import threading
import traceback


class Worker:
    """Runs ``handle(payload, cancel)`` in one thread for the newest submitted payload.

    cancel   a threading.Event the handler polls (a new request or ``cancel()`` sets it).
    on_idle  called (under the worker's lock) whenever nothing runs or waits any more.
    ``submit`` returns the request id at once, or with ``wait`` the handler's
    result (None if a newer request superseded it).
    """

    def __init__(self, handle, name: str = "explorer-worker", on_idle=None):
        self._handle, self._on_idle = handle, on_idle or (lambda: None)
        self._cond = threading.Condition()
        self._pending = None  # (request id, payload): only the newest waits
        self._cancel = threading.Event()
        self._next_id = 0
        self._done: dict = {}  # request id -> result, for submit(wait=True)
        self._closed = False
        self.running = None  # the payload being handled now, or None
        self.started = 0  # how many requests began (superseded ones never do)
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def submit(self, payload, wait: bool = False, timeout: float | None = None):
        with self._cond:
            request = self._next_id
            self._next_id += 1
            if self._pending is not None:  # superseded before it started: it never runs
                self._done[self._pending[0]] = None
            self._pending = (request, payload)
            self._cancel.set()  # the running request stops at its next check
            self._cond.notify_all()
            if not wait:
                return request
            if not self._cond.wait_for(lambda: request in self._done or self._closed, timeout):
                raise TimeoutError(f"explorer request {request} did not finish within {timeout} s")
            return self._done.pop(request, None)

    def wanted(self, payload) -> bool:
        """True if ``payload`` is neither running nor waiting (compared with ==)."""
        with self._cond:
            return self.running != payload and (self._pending is None or self._pending[1] != payload)

    @property
    def busy(self) -> bool:
        with self._cond:
            return self.running is not None or self._pending is not None

    @property
    def pending_payload(self):
        """The payload waiting to run next, or None."""
        with self._cond:
            return None if self._pending is None else self._pending[1]

    @property
    def pending(self) -> bool:
        """True if a request waits (a running one was then superseded, not stopped)."""
        with self._cond:
            return self._pending is not None

    def cancel(self) -> None:
        """Cancel the running request and drop the waiting one."""
        with self._cond:
            if self._pending is not None:
                self._done[self._pending[0]] = None
                self._pending = None
            self._cancel.set()
            if self.running is None:
                self._on_idle()
            self._cond.notify_all()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until nothing runs or waits; False if ``timeout`` passed first."""
        with self._cond:
            return self._cond.wait_for(lambda: self.running is None and self._pending is None, timeout)

    def close(self, timeout: float = 30) -> None:
        self.cancel()
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout=timeout)

    def _loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending is not None or self._closed)
                if self._closed:
                    return
                request, payload = self._pending
                self._pending = None
                self._cancel = cancel = threading.Event()
                self.running = payload
                self.started += 1
            result = None
            try:
                result = self._handle(payload, cancel)
            except Exception:  # noqa: BLE001 - the handler shows its own errors; the thread must live on
                traceback.print_exc()
            with self._cond:
                self.running = None
                if self._pending is None:
                    self._on_idle()
                self._done[request] = result
                if len(self._done) > 1000:  # results nobody waits for
                    for old in sorted(self._done)[:-100]:
                        del self._done[old]
                self._cond.notify_all()
