"""Alembic environment: the target is ``naebu.store.tables.metadata`` with every table naebu adds."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

import naebu.store.history  # noqa: F401 - adds the rec_<dataset> and rule_state tables
import naebu.store.web_tables  # noqa: F401 - the web inbox's accounts and sessions
from naebu.store.tables import metadata

target_metadata = metadata
config = context.config


def run() -> None:
    """Migrate on the caller's connection (naebu.store.migrations.upgrade), or on ``-x url=...``
    when run from the alembic command line."""
    connection = config.attributes.get("connection")
    if connection is None:
        url = context.get_x_argument(as_dictionary=True).get("url")
        if not url:
            raise SystemExit("pass the store: alembic ... -x url=postgresql+psycopg2://...")
        with create_engine(url).connect() as conn:
            _migrate(conn)
            conn.commit()
        return
    _migrate(connection)


def _migrate(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things: later revisions rewrite tables in batch mode.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
