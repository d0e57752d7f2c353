"""The store schema under Alembic migrations, so an upgrade of naebu keeps the data.

:func:`upgrade` brings a store to the newest revision; :func:`naebu.store.tables.connect` calls it,
so every command works on an up-to-date schema. A store created by an older naebu (tables
made by ``create_all``, no ``alembic_version``) is stamped with the baseline first, then
upgraded. Two processes upgrading at once (two daemons starting together) are serialized:
PostgreSQL by an advisory lock inside the migration transaction, MariaDB by ``GET_LOCK``,
SQLite by a file lock beside the database.

A schema change is a new revision in ``versions/``: change the tables in :mod:`naebu.store.tables`
(or :mod:`naebu.store.history`), then ``alembic -c naebu/store/migrations/alembic.ini revision
--autogenerate -m "what changed"`` against a store at head, and read what it wrote.
``tests/test_daemon_migrations.py`` fails while the migrations and the tables disagree.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
BASELINE = "0001"
#: The newest revision, written out: a store already there is recognised by one query,
#: without loading Alembic and its scripts (a fifth of a second on every command).
#: tests/test_daemon_migrations.py checks it is the scripts' head.
HEAD = "0019"
#: The PostgreSQL advisory lock key of migrations ("nam"), apart from the leader lock's.
PG_MIGRATION_KEY = 0x6E616D


def alembic_config(connection: Connection | None = None) -> AlembicConfig:
    """An Alembic config for this package (no ini file needed), bound to ``connection``."""
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(HERE))
    cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    """The newest revision, as the migration scripts say."""
    from alembic.script import ScriptDirectory

    rev = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert rev is not None
    return rev


def current(connection: Connection) -> str | None:
    """The store's revision (None for a store without ``alembic_version``)."""
    from alembic.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Bring the store at ``engine`` to the newest revision (a no-op when it is there)."""
    with engine.connect() as conn:
        if _at_head(conn):
            return
    from alembic import command

    with _serialized(engine), engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_MIGRATION_KEY})
        cfg = alembic_config(conn)
        before = current(conn)
        if before is None and inspect(conn).has_table("alerts"):
            # Made by create_all before migrations existed: it is the baseline schema.
            command.stamp(cfg, BASELINE)
            before = BASELINE
        command.upgrade(cfg, "head")
        if before != current(conn):
            log.info("store schema migrated from %s to %s", before or "empty", current(conn))


def _at_head(conn: Connection) -> bool:
    """Whether the store is at :data:`HEAD` (read without Alembic)."""
    if not inspect(conn).has_table("alembic_version"):
        return False
    return list(conn.execute(text("SELECT version_num FROM alembic_version")).scalars()) == [HEAD]


@contextlib.contextmanager
def _serialized(engine: Engine) -> Iterator[None]:
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        if database and database != ":memory:":
            with open(database + ".migrate.lock", "a") as fh:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
            return
    if engine.dialect.name in ("mysql", "mariadb"):
        with engine.connect() as lock:
            lock.execute(text("SELECT GET_LOCK('naebu-migrate', 120)"))
            try:
                yield
            finally:
                lock.execute(text("SELECT RELEASE_LOCK('naebu-migrate')"))
        return
    yield
