"""MariaDB/MySQL: a digest over 64 KB is stored and sent (issue 17, point 2).

Before: ``outbox.body`` was TEXT (65,535 bytes there); the default 100-item digest at scale was
68,530 bytes and every run failed with ``DataError 1406``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import sqlalchemy as sa
from servers import body_text, employees_frame, mysql_engine, smtp_server
from services import mysql_url, require_service
from sqlalchemy import Engine, create_engine, insert, select, text
from sqlalchemy.engine import make_url

from naebu.alerts import Directory, deliver_pending
from naebu.alerts.notify_settings import ChannelConfig, NotifyConfig
from naebu.store import tables as store
from naebu.store.migrations import alembic_config

NOW = datetime(2025, 1, 24, 9, 30)
#: A digest of about 70 KB, Korean (3 bytes a character in UTF-8) and ASCII lines.
BODY = "\n".join(
    f"{i:05d} 중복 지급 의심: 지급번호 P-{i:06d}, 금액 1,250,000원" for i in range(1400)
)


def _column_type(engine: Engine, table: str, column: str) -> str:
    with engine.connect() as conn:
        found = {c["name"]: c["type"] for c in sa.inspect(conn).get_columns(table)}
    return str(found[column]).upper()


def _queue(engine: Engine, channel: str) -> int:
    with engine.begin() as conn:
        return int(
            conn.execute(
                insert(store.outbox)
                .values(
                    recipient="E001",
                    channel=channel,
                    subject="[내부통제] 70 KB 요약",
                    body=BODY,
                    status="pending",
                    attempts=0,
                    next_attempt_at=NOW,
                    created_at=NOW,
                )
                .returning(store.outbox.c.id)
            ).scalar_one()
        )


def test_a_70_kb_digest_is_stored_and_sent_on_mysql() -> None:
    assert len(BODY.encode("utf-8")) > 70_000
    directory = Directory.from_frame(employees_frame())
    with mysql_engine() as engine, smtp_server() as smtp:
        assert "LONGTEXT" in _column_type(engine, "outbox", "body")
        url = (
            f"mailto://127.0.0.1:{smtp.port}?from=naebu@demo.naebu.local&to={{email}}&mode=insecure"
        )
        notify = NotifyConfig(channels=[ChannelConfig("mail", url)])
        row_id = _queue(engine, "mail")
        with engine.connect() as conn:
            stored = conn.execute(
                select(store.outbox.c.body).where(store.outbox.c.id == row_id)
            ).scalar_one()
        assert stored == BODY
        assert deliver_pending(engine, notify, directory, now=NOW).sent == 1
        (msg,) = smtp.messages
        received = [line.rstrip() for line in body_text(msg).strip().splitlines()]
        same = received == BODY.splitlines()  # a bool: a 70 KB diff would take minutes
        assert same, f"{len(received)} lines received, {len(BODY.splitlines())} sent"


@contextmanager
def _fresh_mysql_database() -> Iterator[Engine]:
    url = require_service("MariaDB/MySQL", mysql_url())
    name = "naebu_mig_" + secrets.token_hex(4)
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    engine = create_engine(make_url(url).set(database=name))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP DATABASE `{name}`"))
        admin.dispose()


def test_migration_0009_widens_an_existing_mysql_store() -> None:
    from alembic import command

    with _fresh_mysql_database() as engine:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "0008")
        assert _column_type(engine, "outbox", "body") == "TEXT"  # the store before the fix
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
        for table, column in (("outbox", "body"), ("alerts", "message"), ("runs", "error")):
            assert "LONGTEXT" in _column_type(engine, table, column), (table, column)
        row_id = _queue(engine, "mail")
        with engine.connect() as conn:
            body = conn.execute(
                select(store.outbox.c.body).where(store.outbox.c.id == row_id)
            ).scalar_one()
        assert body == BODY
