"""First pulls read in a worker process, ahead of the run that stores them.

A first run over a province's year reads millions of rows: fetching them from the database
and typing them (:func:`naebu.connectors.coerce.coerce`) costs as much as storing them, and both hold
Python's GIL, so a thread cannot overlap them (measured: no gain). A worker *process* can. The
run gives a :class:`Reader` the sources it will pull for the first time, in the order it will
pull them; the reader starts one Python process that imports the connectors once and reads
those sources one after the other, handing each typed batch back over a socket (pickled Arrow
and numpy buffers: about 45 ms of the run's time per 50,000 rows instead of 375 ms to read
them). Meanwhile the run evaluates and commits the batch before, exactly as it would have: in
order, each batch in its own transaction with its watermark. The worker only reads. It stays
at most :data:`AHEAD` batches (and the one in the socket) ahead: a thread sends them while it
reads on, so the start of the next source (SQLite sorting a table before its first row, a
few seconds at a province) overlaps the run storing the last batches of the one before,
instead of the run waiting for it.

Only first pulls (no stored watermark and no file taken yet) go to the worker: they are the
big ones, and an incremental pull of a few rows would spend more on starting a process than
on reading. The worker is a fresh interpreter started with an explicit command (not
``multiprocessing``), so it never re-imports the caller's main module and never inherits an
open store connection or a daemon thread.

The worker's log records are sent back and handled by the run's own loggers, so they are
formatted, scrubbed and written as if read in the run. An error reading a source reaches the
run as a :class:`SourceError` naming it (the worker goes on with the next source); a worker
that dies (killed, out of memory) is a :class:`SourceError` for the source being read, and the
sources after it are read in the run itself. :meth:`Reader.close` ends the worker wherever it is.
"""

from __future__ import annotations

import logging
import queue
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler

from naebu.connectors.base import Batch, SourceError, SourceState
from naebu.connectors.registry import make_connector
from naebu.connectors.source_settings import SourceConfig

log = logging.getLogger(__name__)

#: Messages (batches, log records) the worker holds read but not yet sent: each batch of a
#: province's payments is about 13 MB pickled.
AHEAD = 4

# The worker's first instructions: take the socket, the caller's import path, then serve.
# Interrupts are the run's to handle (Ctrl-C reaches the whole process group, systemd's stop
# the whole unit): the run stops between two batches and then ends the worker itself.
_BOOT = (
    "import signal, sys; from multiprocessing.connection import Connection; "
    "signal.signal(signal.SIGINT, signal.SIG_IGN); signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "conn = Connection(int(sys.argv[1])); sys.path[:] = conn.recv(); "
    "from naebu.connectors.worker import serve; serve(conn)"
)


def is_first_pull(state: SourceState) -> bool:
    """True when the source has never been pulled: no watermark stored, no file taken."""
    return state.watermark is None and not state.seen_checksums


class Reader:
    """A worker process reading ``jobs`` (source, state) in order, ahead of the caller.

    The caller takes each source's batches with :meth:`batches`, in the same order, and
    :meth:`close`\\ s the reader when done (or use it as a context manager).
    """

    def __init__(self, jobs: Sequence[tuple[SourceConfig, SourceState]]) -> None:
        self.order = [source.name for source, _ in jobs]
        self.next = 0
        ours, theirs = socket.socketpair()
        self.proc: subprocess.Popen[bytes] | None = subprocess.Popen(
            [sys.executable, "-c", _BOOT, str(theirs.fileno())],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
        )
        theirs.close()
        self.conn = Connection(ours.detach())
        # Every job up front (a few kB): the worker reads on without waiting for the run.
        self.conn.send(list(sys.path))
        self.conn.send(logging.getLogger().getEffectiveLevel())
        self.conn.send(list(jobs))

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def has(self, name: str) -> bool:
        """True when source ``name`` is still to be read by the worker."""
        return self.proc is not None and name in self.order[self.next :]

    def batches(self, name: str) -> Iterator[Batch]:
        """Source ``name``'s batches, as its connector's ``pull`` yields them.

        Sources must be taken in the reader's order; one skipped is read and dropped.
        """
        if not self.has(name):
            raise ValueError(f"source {name} is not next for the worker")
        while self.order[self.next] != name:  # skipped by the caller: drain it
            for _ in self._stream(self.order[self.next], drop=True):
                pass
        yield from self._stream(name)

    def _stream(self, name: str, drop: bool = False) -> Iterator[Batch]:
        self.next += 1
        finished = False
        try:
            while True:
                try:
                    kind, value = self.conn.recv()
                except (EOFError, OSError):
                    finished = True
                    code = self._end()
                    raise SourceError(
                        name,
                        f"the process reading it ended unexpectedly (exit code {code})",
                        "see the system log (killed for memory?); the next run reads it again",
                    ) from None
                if kind == "log":
                    logging.getLogger(value.name).handle(value)
                elif kind == "batch":
                    if not drop:
                        yield value
                else:
                    finished = True
                    if kind == "error" and not drop:
                        raise SourceError(*value)
                    return
        finally:
            if not finished:
                # Left half-read (the run stopped, or failed storing a batch): the rest of
                # this source is still on its way, so the worker cannot serve the next one.
                # The sources after it are read in the run itself.
                self._end()

    def close(self) -> None:
        """End the worker (it only reads: nothing is lost) and release the socket."""
        self._end()

    def _end(self) -> int | None:
        if self.proc is None:
            return None
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.kill()
        code = proc.wait()
        self.conn.close()
        return code


class _Outbox:
    """Messages to the run, sent in order by a thread while the worker reads on.

    Each message is pickled when handed over (a batch is sent as it was yielded), then queued;
    at most :data:`AHEAD` wait. :meth:`send` raises ConnectionError once the run has gone.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.queue: queue.Queue[bytes | None] = queue.Queue(maxsize=AHEAD)
        self.gone = threading.Event()
        self.thread = threading.Thread(target=self._send_all, name="naebu-send", daemon=True)
        self.thread.start()

    def send(self, message: object) -> None:
        """Queue ``message``, waiting while :data:`AHEAD` are queued."""
        self._put(bytes(ForkingPickler.dumps(message)))

    def close(self) -> None:
        """Send what is queued, then close the connection."""
        self._put(None)
        self.thread.join()
        if self.gone.is_set():
            raise ConnectionError("the run has gone")
        self.conn.close()

    def _put(self, item: bytes | None) -> None:
        while True:
            if self.gone.is_set():
                raise ConnectionError("the run has gone")
            try:
                self.queue.put(item, timeout=0.5)
                return
            except queue.Full:
                continue

    def _send_all(self) -> None:
        while (item := self.queue.get()) is not None:
            try:
                self.conn.send_bytes(item)  # what Connection.send sends: recv() unpickles it
            except (OSError, EOFError):
                self.gone.set()  # the run has gone (it died, or closed us)
                return


class _Forward(logging.Handler):
    """Sends the worker's log records to the run, formatted into plain, picklable text."""

    def __init__(self, conn: _Outbox) -> None:
        super().__init__()
        self.conn = conn

    def emit(self, record: logging.LogRecord) -> None:
        try:
            record.msg = record.getMessage()
            record.args = None
            if record.exc_info:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
                record.exc_info = None
            self.conn.send(("log", record))
        except Exception:  # a record that cannot be sent must not stop the read
            self.handleError(record)


def serve(conn: Connection) -> None:
    """The worker: read each job's source, sending its batches, log records and outcome."""
    root = logging.getLogger()
    level = conn.recv()
    jobs: list[tuple[SourceConfig, SourceState]] = conn.recv()
    outbox = _Outbox(conn)
    root.handlers = [_Forward(outbox)]
    root.setLevel(level)
    try:
        for source, state in jobs:
            _read(outbox, source, state)
        outbox.close()
    except (ConnectionError, EOFError):
        return  # the run has gone (it died, or closed us): there is no one to tell


def _read(conn: _Outbox, source: SourceConfig, state: SourceState) -> None:
    """Send one source's batches, then ``end`` or the ``error`` that stopped it."""
    try:
        for batch in make_connector(source).pull(state):
            conn.send(("batch", batch))
    except ConnectionError:
        raise  # the socket to the run, not the source
    except SourceError as exc:
        conn.send(("error", (exc.source, exc.message, exc.hint)))
    except Exception as exc:  # reported by the run as this source's failure
        log.exception("reading source %s failed", source.name)
        conn.send(("error", (source.name, f"{type(exc).__name__}: {exc}", None)))
    else:
        conn.send(("end", None))
