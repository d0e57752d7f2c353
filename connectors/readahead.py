"""Reading the next batch while the run stores the current one.

A first pull of a province's year is millions of rows: the connector fetching and typing
chunk *n + 1* and the run storing chunk *n* (record history, alerts, watermark) are each about
a third of the run. :func:`read_ahead` moves the connector's generator into a worker thread, so
the two overlap: the database drivers and SQLite release the GIL while they wait on I/O or step
through a statement, and pandas and Arrow release it in much of their C code.

What the run sees does not change: the same batches in the same order, an exception raised by
the connector raised in the run at the point it would have been, and nothing committed that
was not consumed. The worker holds at most ``depth`` batches ahead, so memory stays bounded by
the chunk size. When the run stops consuming (an error, or a stop between two batches), the
worker is told to stop and the generator is closed in the worker's own thread, the thread its
database connection was opened in (SQLite connections may only be used there).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)

_END = object()


class _Failed:
    """An exception raised by the producer, carried over to the consumer."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


def read_ahead(items: Iterable[T], depth: int = 1, name: str = "read-ahead") -> Iterator[T]:
    """Yield ``items`` in order, producing up to ``depth`` of them ahead in a worker thread.

    ``items`` is iterated (created, advanced and closed) only in the worker thread. Closing the
    returned generator early stops the worker after the item it is producing and closes
    ``items`` there.
    """
    if depth < 1:
        raise ValueError("depth must be at least 1")
    box: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        """Hand ``item`` over, waiting for room; False once the consumer has gone."""
        while not stop.is_set():
            try:
                box.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        it = iter(items)
        try:
            for item in it:
                if not put(item):
                    break
            else:
                put(_END)
        except BaseException as exc:  # carried to the consumer, raised there
            put(_Failed(exc))
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:  # the source broke; what it raised first was reported
                    log.debug("closing %s after it stopped", name, exc_info=True)

    worker = threading.Thread(target=produce, name=name, daemon=True)
    worker.start()
    try:
        while True:
            got = box.get()
            if got is _END:
                return
            if isinstance(got, _Failed):
                raise got.error
            yield got  # type: ignore[misc]
    finally:
        stop.set()
        # Unblock a producer waiting for room, then wait for it to close its generator.
        while worker.is_alive():
            with contextlib.suppress(queue.Empty):
                box.get(timeout=0.1)
        worker.join()
