"""The store: one SQLAlchemy schema for alerts, outbox, quarantine and source state.

SQLite by default (a file next to the config), PostgreSQL in production; any SQLAlchemy URL
works. The schema is SQLAlchemy Core so every stage can write in one transaction: the alerts
found in a window, the rows quarantined and the source watermarks commit together or not at all.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
)

metadata = MetaData()

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("fingerprint", String(64), nullable=False, unique=True),
    Column("rule_id", String(100), nullable=False),
    Column("dataset", String(100), nullable=False),
    Column("record_key", String(500), nullable=False),
    Column("severity", String(20), nullable=False),
    Column("status", String(30), nullable=False, default="raised"),
    Column("department", String(200)),
    Column("assignee", String(100)),
    Column("title", Text, nullable=False),
    Column("message", Text, nullable=False),
    Column("evidence", JSON, nullable=False),
    Column("event_time", DateTime),
    Column("created_at", DateTime, nullable=False),
    Column("deadline", DateTime),
    Column("run_id", Integer, ForeignKey("runs.id")),
    Index("ix_alerts_status", "status"),
    Index("ix_alerts_department", "department"),
    Index("ix_alerts_rule", "rule_id"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("runs.id")),
    Column("recipient", String(100), nullable=False),
    Column("channel", String(100), nullable=False),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(20), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime),
    Column("last_error", Text),
    Column("created_at", DateTime, nullable=False),
    Column("sent_at", DateTime),
    Index("ix_outbox_status", "status", "next_attempt_at"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("alert_id", Integer, ForeignKey("alerts.id"), primary_key=True),
    Column("outbox_id", Integer, ForeignKey("outbox.id"), primary_key=True),
    Column("recipient", String(100), nullable=False),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("runs.id")),
    Column("source", String(100), nullable=False),
    Column("dataset", String(100), nullable=False),
    Column("location", String(500)),
    Column("raw", JSON, nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Index("ix_quarantine_source", "source"),
)

watermarks = Table(
    "watermarks",
    metadata,
    Column("source", String(100), primary_key=True),
    Column("value", String(100), nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

files_seen = Table(
    "files_seen",
    metadata,
    Column("source", String(100), primary_key=True),
    Column("checksum", String(64), primary_key=True),
    Column("path", Text, nullable=False),
    Column("rows", Integer, nullable=False),
    Column("taken_at", DateTime, nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started_at", DateTime, nullable=False),
    Column("ended_at", DateTime),
    Column("status", String(20), nullable=False, default="running"),
    Column("summary", JSON),
    Column("error", Text),
)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL lets the daemon write while `naebu alerts list` reads; foreign keys are off by default.
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def connect(url: str) -> Engine:
    """Open the store at ``url`` and create any missing table."""
    engine = create_engine(url, pool_pre_ping=True, future=True)
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        event.listen(engine, "connect", _sqlite_pragmas)
    metadata.create_all(engine)
    return engine
