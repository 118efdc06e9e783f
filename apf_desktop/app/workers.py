"""Background work: every slow call (model loading, detection, cloaking, HTTP) runs in a QThreadPool.

A :class:`Job` runs ``fn(job)`` off the UI thread; ``fn`` reports progress with ``job.report(value)`` and
polls ``job.cancelled``. Results, progress and readable error messages come back as Qt signals, which Qt
delivers on the UI thread.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)


#: failures with a message meant for the user (bad photo, unreachable server, full disk, ...).
EXPECTED = (ValueError, OSError)


def readable(exc: BaseException) -> str:
    """A message for a dialog: expected failures as they are, others with their type (traceback to the log)."""
    if isinstance(exc, EXPECTED):
        return str(exc) or type(exc).__name__
    log.error("unexpected failure in background work", exc_info=exc)
    return f"Unexpected error ({type(exc).__name__}): {exc}"


class JobSignals(QObject):
    progress = Signal(object)
    done = Signal(object)
    failed = Signal(str)
    finished = Signal(object)  # the job


class Job(QRunnable):
    """One piece of background work; emits ``done(result)`` or ``failed(message)``, then ``finished``."""

    def __init__(self, fn: Callable[[Job], Any]) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self.fn = fn
        self.signals = JobSignals()
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def report(self, value: object) -> None:
        self.signals.progress.emit(value)

    def run(self) -> None:
        try:
            result = self.fn(self)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a readable message
            self.signals.failed.emit(readable(exc))
        else:
            self.signals.done.emit(result)
        finally:
            self.signals.finished.emit(self)


class Tasks(QObject):
    """The window's pool of jobs: start, cancel all, wait (used when the window closes)."""

    def __init__(self, parent: QObject | None = None, *, threads: int = 2) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(threads)
        self.active: set[Job] = set()

    def start(self, fn: Callable[[Job], Any], *, done: Callable[[Any], None] | None = None,
              failed: Callable[[str], None] | None = None, progress: Callable[[Any], None] | None = None) -> Job:
        job = Job(fn)
        for signal, slot in ((job.signals.done, done), (job.signals.failed, failed), (job.signals.progress, progress)):
            if slot is not None:
                signal.connect(slot)
        job.signals.finished.connect(self._forget)
        self.active.add(job)
        self.pool.start(job)
        return job

    def _forget(self, job: Job) -> None:
        self.active.discard(job)

    def busy(self) -> bool:
        return bool(self.active)

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Cancel every job and wait for the running ones to stop; False if some did not in time."""
        for job in list(self.active):
            job.cancel()
        return self.pool.waitForDone(timeout_ms)
