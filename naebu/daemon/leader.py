"""The leader lock: one active scheduler per store, the others wait as standbys.

Two schedulers on one store would pull and notify twice (the ElastAlert2 and Alertmanager
complaint), and APScheduler cannot share a job store between processes anyway. So every
``naebu run`` first takes a lock *in the store itself*:

- PostgreSQL: a session advisory lock (``pg_try_advisory_lock``) held on a dedicated
  connection. The server drops it the moment that connection ends, so a killed leader frees it
  at once (TCP keepalives cover a leader whose machine vanished). ``application_name`` carries
  the holder's node name, so ``naebu status`` can say who leads.
- MariaDB/MySQL: ``GET_LOCK`` on a dedicated connection, same life cycle.
- SQLite: an ``fcntl`` lock on a file beside the database (``naebu.sqlite.lock``); the kernel
  releases it when the process dies. The file holds the holder's node name.

A standby polls every ``[daemon] lock_poll_seconds`` (default 10 s), so it takes over well
within a minute of the leader's death.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import socket
from abc import ABC, abstractmethod
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

#: The advisory lock key: "nae" in ASCII, below 2**31 so pg_locks shows it in ``objid``.
PG_LOCK_KEY = 0x6E6165
MYSQL_LOCK_NAME = "naebu-leader"


def node_name() -> str:
    """This process as the ledger and ``naebu status`` name it: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


class LeaderLock(ABC):
    """A lock only one process can hold; held until :meth:`release` or the process dies."""

    @abstractmethod
    def try_acquire(self) -> bool:
        """Take the lock if it is free; never waits. True when this process holds it."""

    @abstractmethod
    def alive(self) -> bool:
        """True while the lock is still held (its connection answers)."""

    @abstractmethod
    def release(self) -> None:
        """Give the lock up (idempotent)."""

    @abstractmethod
    def holder(self) -> str | None:
        """Who holds the lock now (a node name, or a description), None when nobody does."""


class FileLock(LeaderLock):
    """``fcntl.flock`` on ``path``: for a SQLite store."""

    def __init__(self, path: Path, node: str) -> None:
        self.path = path
        self.node = node
        self._fh: IO[str] | None = None

    def try_acquire(self) -> bool:
        if self._fh is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            return False
        fh.seek(0)
        fh.truncate()
        fh.write(self.node + "\n")
        fh.flush()
        self._fh = fh
        return True

    def alive(self) -> bool:
        return self._fh is not None

    def release(self) -> None:
        if self._fh is not None:
            # Empty the file first: a reader must not mistake a released lock for a leader.
            self._fh.seek(0)
            self._fh.truncate()
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None

    def holder(self) -> str | None:
        if self._fh is not None:
            return self.node
        if not self.path.exists():
            return None
        with self.path.open("r", encoding="utf-8") as fh:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
            except OSError:
                return fh.read().strip() or "unknown"
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
            return None


class _ConnectionLock(LeaderLock):
    """A lock held by a database session on its own connection (not from the pool)."""

    def __init__(self, url: str, node: str, connect_args: dict[str, Any]) -> None:
        self.node = node
        self.engine = create_engine(url, poolclass=NullPool, connect_args=connect_args)
        self._conn: Connection | None = None

    @abstractmethod
    def _take(self, conn: Connection) -> bool: ...

    def try_acquire(self) -> bool:
        if self._conn is not None:
            return True
        conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            got = self._take(conn)
        except Exception:
            conn.close()
            raise
        if not got:
            conn.close()
            return False
        self._conn = conn
        return True

    def alive(self) -> bool:
        if self._conn is None:
            return False
        try:
            self._conn.execute(text("SELECT 1"))
            return True
        except Exception as exc:  # any driver error: the session, and the lock, are gone
            log.error("leader lock connection lost: %s", exc)
            return False

    def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()  # ending the session releases the lock
            self._conn = None
        self.engine.dispose()


class PostgresLock(_ConnectionLock):
    """``pg_try_advisory_lock`` on a dedicated session."""

    def __init__(self, url: str, node: str) -> None:
        super().__init__(
            url,
            node,
            {
                "application_name": f"naebu leader {node}"[:63],
                "connect_timeout": 10,
                # A leader whose machine vanished is noticed by the server within ~40 s.
                "keepalives": 1,
                "keepalives_idle": 20,
                "keepalives_interval": 5,
                "keepalives_count": 4,
            },
        )

    def _take(self, conn: Connection) -> bool:
        return bool(
            conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": PG_LOCK_KEY}).scalar()
        )

    def holder(self) -> str | None:
        if self._conn is not None:
            return self.node
        with self.engine.connect() as conn:
            name = conn.execute(
                text(
                    "SELECT a.application_name FROM pg_locks l "
                    "JOIN pg_stat_activity a ON a.pid = l.pid "
                    "WHERE l.locktype = 'advisory' AND l.classid = 0 AND l.objid = :k "
                    "AND l.granted AND a.datname = current_database()"
                ),
                {"k": PG_LOCK_KEY},
            ).scalar()
        if name is None:
            return None
        return str(name).removeprefix("naebu leader ") or "unknown"


class MysqlLock(_ConnectionLock):
    """``GET_LOCK`` on a dedicated session."""

    def __init__(self, url: str, node: str) -> None:
        super().__init__(url, node, {"connect_timeout": 10})

    def _take(self, conn: Connection) -> bool:
        got = conn.execute(text("SELECT GET_LOCK(:n, 0)"), {"n": MYSQL_LOCK_NAME}).scalar()
        return got == 1

    def holder(self) -> str | None:
        if self._conn is not None:
            return self.node
        with self.engine.connect() as conn:
            cid = conn.execute(text("SELECT IS_USED_LOCK(:n)"), {"n": MYSQL_LOCK_NAME}).scalar()
        return None if cid is None else f"connection {cid}"


def leader_lock(store_url: str, node: str | None = None) -> LeaderLock:
    """The leader lock of the store at ``store_url``."""
    node = node or node_name()
    url = make_url(store_url)
    backend = url.get_backend_name()
    if backend == "postgresql":
        return PostgresLock(store_url, node)
    if backend in ("mysql", "mariadb"):
        return MysqlLock(store_url, node)
    if backend == "sqlite":
        database = url.database
        if not database or database == ":memory:":
            raise ValueError("an in-memory SQLite store cannot be shared; no leader lock needed")
        return FileLock(Path(database + ".lock"), node)
    raise ValueError(f"no leader lock for a {backend} store; use PostgreSQL or SQLite")
