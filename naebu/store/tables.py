"""The store: one SQLAlchemy schema for alerts, outbox, quarantine and source state.

SQLite by default (a file next to the config), PostgreSQL in production; any SQLAlchemy URL
works. The schema is SQLAlchemy Core so every stage can write in one transaction: the alerts
found in a window, the rows quarantined and the source watermarks commit together or not at all.

The alert lifecycle adds (see docs/alerts.md): ``audit_trail`` (append-only, hash-chained)
with its ``audit_head`` anchor, ``suppressions``, ``followups`` (reminders, escalations and
notices already sent, so none is sent twice) and ``officials`` (the directory as of the last
run, for the command line and the web inbox).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    DateTime,
    Engine,
    Float,
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
from sqlalchemy.dialects import mysql

metadata = MetaData()

#: Text that may exceed 64 KB: MySQL's and MariaDB's TEXT holds 65,535 bytes (a digest of 100
#: alerts is about 68 KB), so there it is LONGTEXT (4 GB); TEXT elsewhere (issue 17).
LongText = Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")

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
    Column("message", LongText, nullable=False),
    Column("evidence", JSON, nullable=False),
    Column("event_time", DateTime),
    Column("created_at", DateTime, nullable=False),
    Column("deadline", DateTime),
    Column("run_id", Integer, ForeignKey("runs.id")),
    # The finding's own fingerprint: equal to ``fingerprint`` except on a reopened alert,
    # whose ``fingerprint`` is derived (unique) while this one stays the finding's.
    Column("finding_fingerprint", String(64)),
    # sha256 of the evidence's canonical JSON: a closed alert whose record changes reopens.
    Column("evidence_hash", String(64)),
    Column("reopened_from", Integer, ForeignKey("alerts.id")),
    Column("suppression_id", Integer, ForeignKey("suppressions.id")),
    # Who was told at raise time: a list of "official", "manager", "audit".
    Column("notify_roles", JSON),
    Column("deadline_set_at", DateTime),
    Column("answered_at", DateTime),
    Column("closed_at", DateTime),
    Column("updated_at", DateTime),
    # The official's last answer (correct, explain, false_positive), kept by the lifecycle; a
    # rejection leaves it (the next answer replaces it). The scorecard's 오탐 count reads it.
    Column("last_answer", String(20)),
    # The case this alert is about (naebu.alerts.cases): the rule type's case key, e.g. an official
    # and a month; NULL on an alert of one record (and on every alert raised before cases).
    Column("case_key", String(500)),
    # The reason code of the last answer when it is a false positive (naebu.alerts.reasons: 자료
    # 오류, 정상 업무 ...); NULL otherwise and on answers given before codes (migration 0017).
    Column("reason_code", String(40)),
    # What a 조치 완료 answer says was recovered (환수), KRW; NULL where none was recorded.
    Column("recovered_amount", Float),
    # When the department manager approved the answer that stands (승인, naebu.alerts.approval);
    # NULL before approval, after a return or rejection, and where there is no approval step.
    Column("approved_at", DateTime),
    Index("ix_alerts_status", "status"),
    Index("ix_alerts_finding", "finding_fingerprint"),
    Index("ix_alerts_department", "department"),
    Index("ix_alerts_rule", "rule_id"),
)

#: The records of each alert's case (naebu.alerts.cases): one row per record, so a new record that
#: joins a case finds its alert (looked up by rule and record key), and ``naebu evaluate``
#: counts every record an alert covers. An alert of one record has one row.
alert_members = Table(
    "alert_members",
    metadata,
    Column("alert_id", Integer, ForeignKey("alerts.id"), primary_key=True),
    Column("record_key", String(500), primary_key=True),
    Column("rule_id", String(100), nullable=False),
    Column("dataset", String(100), nullable=False),
    Column("added_at", DateTime, nullable=False),
    Index("ix_alert_members_record", "rule_id", "record_key"),
)

#: Per department and month of raising, how the alerts raised then are handled: kept by every
#: write to ``alerts`` (:mod:`naebu.alerts.tallies`), so the web inbox's scorecard reads a few
#: hundred rows instead of every alert. Suppressed alerts are not counted.
alert_tallies = Table(
    "alert_tallies",
    metadata,
    Column("department", String(200), primary_key=True),  # "" for an alert without one
    Column("month", String(7), primary_key=True),  # YYYY-MM of created_at
    Column("raised", Integer, nullable=False, default=0),
    Column("answered", Integer, nullable=False, default=0),  # answered_at set
    Column("on_time", Integer, nullable=False, default=0),  # answered_at <= deadline
    Column("false_positive", Integer, nullable=False, default=0),  # answered, as 오탐
    Column("repeats", Integer, nullable=False, default=0),  # reopened_from set
    Column("open_due", Integer, nullable=False, default=0),  # open, with a deadline
    Column("approved", Integer, nullable=False, default=0),  # answered, approved_at set (승인)
    Column("confirmed", Integer, nullable=False, default=0),  # answered and closed (확인)
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("runs.id")),
    Column("recipient", String(100), nullable=False),
    Column("channel", String(100), nullable=False),
    Column("subject", Text, nullable=False),
    Column("body", LongText, nullable=False),
    # The HTML part of a mail beside ``body`` (its text part); None for a message without one.
    Column("body_html", LongText),
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
    # new (raised), remind, escalate_manager, escalate_audit, review, answered, reassigned
    Column("kind", String(30), nullable=False, default="new"),
)

suppressions = Table(
    "suppressions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rule_id", String(100), nullable=False),
    # Either a record key, or a column of the finding's evidence and the value it must equal.
    Column("record_key", String(500)),
    Column("column_name", String(100)),
    Column("value", String(500)),
    Column("reason", Text, nullable=False),
    # The reason as a code of the closed list (naebu.alerts.reasons); NULL before migration 0017.
    Column("reason_code", String(40)),
    Column("author", String(100), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Column("removed_at", DateTime),
    Column("removed_by", String(100)),
    Column("removed_reason", Text),
    Index("ix_suppressions_rule", "rule_id"),
)

audit_trail = Table(
    "audit_trail",
    metadata,
    # Assigned by naebu (previous + 1), never by the database: a gap means a deleted entry.
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", DateTime, nullable=False),
    Column("actor", String(100), nullable=False),
    Column("action", String(40), nullable=False),
    Column("alert_id", Integer),
    Column("suppression_id", Integer),
    Column("from_status", String(30)),
    Column("to_status", String(30)),
    Column("comment", Text),
    Column("details", JSON),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    # HMAC of the hash with the audit key (naebu.alerts.anchor), which the store never holds;
    # NULL for entries written without a key (before one was set up).
    Column("mac", String(64)),
    Index("ix_audit_trail_alert", "alert_id"),
)

audit_head = Table(
    "audit_head",
    metadata,
    # One row (id 1): the last entry written, so deleting the newest entries is detected too.
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
    # HMAC of seq and hash with the audit key: a head moved back to an older entry loses it.
    Column("mac", String(64)),
)

followups = Table(
    "followups",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # What was sent, as a unique key: "remind:42:2025-02-04T23:59:59", "trail:118" ...
    Column("key", String(200), nullable=False, unique=True),
    Column("kind", String(30), nullable=False),
    Column("alert_id", Integer, ForeignKey("alerts.id")),
    Column("trail_seq", Integer),
    Column("recipients", JSON, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Index("ix_followups_trail", "trail_seq"),
)

officials = Table(
    "officials",
    metadata,
    Column("employee_id", String(100), primary_key=True),
    Column("name", String(200), nullable=False, default=""),
    Column("department", String(200)),
    Column("position", String(100)),
    Column("role", String(50)),
    Column("supervisor_id", String(100)),
    Column("email", String(300)),
    Column("notify_url", Text),
    Column("active", Boolean, nullable=False, default=True),
    Column("synced_at", DateTime, nullable=False),
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
    Column("error", LongText),
)


#: Every version of every rule (and reference list) that ran: rule-change auditing
#: (naebu/rulechanges.py). The current version of a rule is its row with ``retired_at`` NULL.
rule_versions = Table(
    "rule_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # A rule id, or "list:NAME" for a reference list.
    Column("rule_id", String(100), nullable=False),
    Column("file", Text, nullable=False),
    # sha256 of the canonical JSON of the rule's TOML table.
    Column("content_hash", String(64), nullable=False),
    # The table as read (JSON), so an auditor can see what a threshold was before.
    Column("content", JSON, nullable=False),
    Column("first_seen", DateTime, nullable=False),
    Column("last_seen", DateTime, nullable=False),
    # When a newer version replaced it or the rule was removed.
    Column("retired_at", DateTime),
    Index("ix_rule_versions_rule", "rule_id", "retired_at"),
)


#: Proposed rule changes (naebu/rule_drafts.py): draft -> simulated -> approved -> live. The
#: files are kept as proposed, with their hash; every step is in the audit trail too.
rule_drafts = Table(
    "rule_drafts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # What the draft replaces: a rule file or folder, relative to the config's folder.
    Column("target", Text, nullable=False),
    # {path relative to the config's folder: text} - the files as proposed.
    Column("files", JSON, nullable=False),
    # sha256 of the files' canonical JSON.
    Column("content_hash", String(64), nullable=False),
    # {rule id: {"old": hash or null, "new": hash or null}} - the rules the draft changes.
    Column("rules", JSON, nullable=False),
    # draft, approved, live or withdrawn.
    Column("status", String(20), nullable=False),
    Column("proposed_by", String(100), nullable=False),
    Column("proposed_at", DateTime, nullable=False),
    Column("reason", Text, nullable=False),
    Column("simulation", JSON),
    Column("simulated_at", DateTime),
    Column("approved_by", String(100)),
    Column("approved_at", DateTime),
    Column("approval_reason", Text),
    Column("loaded_at", DateTime),
    Index("ix_rule_drafts_status", "status"),
)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL lets the daemon write while `naebu alerts list` reads; foreign keys are off by default.
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL syncs at checkpoints, not at every commit: a process crash loses
    # nothing committed; a power cut may undo the last commits, each whole (a batch with its
    # watermark), so the next run reads them again. FULL cost a third of a first run's time.
    cur.execute("PRAGMA synchronous=NORMAL")
    # 64 MB of page cache (default 2 MB): the record history's indexes stay in memory.
    cur.execute("PRAGMA cache_size=-65536")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


#: Rows per multi-row INSERT on SQLite (fewer if the bound-parameter limit is lower).
SQLITE_ROWS = 200


def insert_many_sqlite(
    conn: Connection, statement: Callable[[str], str], flat: Sequence[Any], width: int
) -> None:
    """Insert rows of ``width`` values, given as one ``flat`` list, on SQLite:
    ``SQLITE_ROWS`` rows per statement with the driver's executemany, a fifth less time than
    a statement per row (millions of records in a first run, hundreds of thousands of
    delivery rows). ``statement(values)`` is the SQL with ``values`` (``(?, ...), (?, ...)``)
    after its ``VALUES``; what follows them (an ``ON CONFLICT`` clause) is the caller's."""
    dbapi = conn.connection.dbapi_connection
    limit = dbapi.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)  # type: ignore[union-attr]
    per = max(1, min(SQLITE_ROWS, limit // width))
    row = "(" + ", ".join("?" * width) + ")"
    count = len(flat) // width
    whole = count // per * per
    step = per * width
    if whole:
        many = [tuple(flat[i : i + step]) for i in range(0, whole * width, step)]
        conn.exec_driver_sql(statement(", ".join([row] * per)), many)  # type: ignore[arg-type]
    if whole < count:
        rest = ", ".join([row] * (count - whole))
        conn.exec_driver_sql(statement(rest), tuple(flat[whole * width :]))


def upsert_insert(conn: Connection, table: Table) -> Any:
    """The dialect's own INSERT for ``table`` (with ``on_conflict_*`` on SQLite and
    PostgreSQL, ``on_duplicate_key_update`` on MariaDB/MySQL), its dialect imported when
    used: the PostgreSQL dialect cost a SQLite store 0.04 s of start-up on every command."""
    dialect = conn.dialect.name
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    if dialect in ("mysql", "mariadb"):
        from sqlalchemy.dialects.mysql import insert as mysql_insert

        return mysql_insert(table)
    raise ValueError(f"no upsert for the {dialect} dialect")


def connect(url: str) -> Engine:
    """Open the store at ``url`` and migrate its schema to the newest revision."""
    options: dict[str, Any] = {}
    if url.startswith("postgresql+psycopg2") or url.startswith("postgresql:"):
        # Batches of statements per round trip: the record history's upserts are otherwise
        # sent row by row by psycopg2's executemany.
        options["executemany_mode"] = "values_plus_batch"
    engine = create_engine(url, pool_pre_ping=True, future=True, **options)
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        event.listen(engine, "connect", _sqlite_pragmas)
    # The schema is under Alembic migrations (naebu/store/migrations): upgrading keeps the data.
    from naebu.store.migrations import upgrade

    upgrade(engine)
    # A store written before the history moved to segment files has its records moved now,
    # before anything reads them; files a crashed run left behind are deleted.
    from naebu.store.history import tidy

    tidy(engine, compact=False)
    return engine
