"""A SQL source that disconnects in the middle of a chunked read (issue 9, faults).

The payments table is read chunk by chunk (``chunk_size`` 1,000) through a server-side cursor;
each chunk is committed with its alerts and its watermark before the next is fetched. After
the first chunk is committed, the source's own connection is killed from a second connection,
as a database restart or a DBA would: ``pg_terminate_backend`` on PostgreSQL, ``KILL`` on
MariaDB. Then:

- the run reports the source error (one line naming the source) and goes on with the other
  sources (a CSV drop read after it);
- what was committed stays: the first chunk's records, alerts and watermark;
- the next run resumes from the watermark (inclusive: the boundary rows come again) and in
  the end every row is in the record history once, every flagged payment has exactly one
  alert, and each alert went out in one digest per recipient.

Rows carry a 5 KB memo the mapping ignores, so the rows not yet read (about 35 MB) cannot all
sit in socket buffers when the connection dies: the connector really has to fetch them.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from minicity import NOW, history_query, make_city, query, run
from services import mysql_url, pg_url, require_service, unique_name

ROWS = 8_000
CHUNK = 1_000
LIMIT = 1_000_000  # PAY-BIG flags amount >= 1,000,000
MEMO = "가" * 1_700  # 5,100 bytes in UTF-8


def _amount(i: int) -> int:
    return 2_000_000 if i % 7 == 0 else 10_000


def _fill(url: str, table: str) -> None:
    base = datetime(2025, 6, 1, 9, 0, 0)
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    f"CREATE TABLE {table} (pay_no VARCHAR(20), dept_nm VARCHAR(50), "
                    "emp_no VARCHAR(20), amt BIGINT, pay_ymd VARCHAR(10), upd_dt TIMESTAMP NULL, "
                    "memo TEXT)"
                )
            )
            # Three rows per second: chunk boundaries fall inside a group of equal watermarks.
            rows = [
                {
                    "p": f"P-{i:05d}",
                    "a": _amount(i),
                    "u": base + timedelta(seconds=i // 3),
                    "m": MEMO,
                }
                for i in range(ROWS)
            ]
            for start in range(0, ROWS, 2_000):
                conn.execute(
                    sa.text(
                        f"INSERT INTO {table} VALUES (:p, '재무과', 'E001', :a, '2025-06-02', :u, :m)"
                    ),
                    rows[start : start + 2_000],
                )
    finally:
        engine.dispose()


def _drop(url: str, table: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
    finally:
        engine.dispose()


def _killer(config: Path, url: str, table: str, kill: Callable[[sa.Connection, str], int]):  # type: ignore[no-untyped-def]
    """A ``should_stop`` hook: once the first chunk is committed, kill the reader's connection.

    ``should_stop`` is the pipeline's own check between two batches (the daemon's SIGTERM
    path); it never asks the run to stop here.
    """
    killed: list[int] = []

    def hook() -> bool:
        if killed:
            return False
        if not query(config, "SELECT value FROM watermarks WHERE source = 'payments'"):
            return False
        engine = sa.create_engine(url)
        try:
            with engine.begin() as conn:
                killed.append(kill(conn, table))
        finally:
            engine.dispose()
        return False

    hook.killed = killed  # type: ignore[attr-defined]
    return hook


def _pg_kill(conn: sa.Connection, table: str) -> int:
    # The reader's connection is named by its URL (application_name), see the test.
    pids = (
        conn.execute(
            sa.text("SELECT pid FROM pg_stat_activity WHERE application_name = :name"),
            {"name": table},
        )
        .scalars()
        .all()
    )
    assert len(pids) == 1, pids
    conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pids[0]})
    return int(pids[0])


def _mysql_kill(conn: sa.Connection, table: str) -> int:
    ids = (
        conn.execute(
            sa.text(
                "SELECT id FROM information_schema.processlist WHERE id <> CONNECTION_ID() "
                "AND info LIKE :q"
            ),
            {"q": f"%FROM {table}%"},
        )
        .scalars()
        .all()
    )
    assert len(ids) == 1, ids
    conn.execute(sa.text(f"KILL {int(ids[0])}"))
    return int(ids[0])


# A driver printing "Exception ignored" tracebacks after the one-line error fails the test.
@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("backend", ["postgresql", "mariadb"])
def test_a_source_killed_mid_read_loses_nothing_and_alerts_nothing_twice(
    tmp_path: Path, backend: str
) -> None:
    if backend == "postgresql":
        url, kill = require_service("PostgreSQL", pg_url()), _pg_kill
    else:
        url, kill = require_service("MariaDB", mysql_url()), _mysql_kill
    table = unique_name("pay_kill")
    source_url = f"{url}?application_name={table}" if backend == "postgresql" else url
    config = make_city(
        tmp_path / "city", payments_url=source_url, table=table, chunk_size=CHUNK, files=True
    )
    drop = tmp_path / "city" / "drops" / "late.csv"
    drop.write_text(
        "payment_id,department,official_id,amount,paid_on\nF-1,재무과,E001,3000000,2025-06-03\n",
        encoding="utf-8",
    )
    _fill(url, table)
    try:
        hook = _killer(config, url, table, kill)
        first = run(config, should_stop=hook)
        gc.collect()  # the dead reader's cursor is collected now, inside the test
        assert hook.killed, "the reader's connection was found and killed"
        report = {s.name: s for s in first.sources}
        error = report["payments"].error
        assert error is not None and error.startswith("source payments: "), error
        assert "\n" not in error and "Traceback" not in error
        assert first.status == "partial"
        # Other sources went on: the officials before, the CSV drop after the failed source.
        assert report["employees"].error is None and report["employees"].rows_read == 3
        assert report["drops"].error is None and report["drops"].rows_read == 1
        # The committed chunk(s) stayed: records, alerts and the watermark of the last one.
        read_before = report["payments"].rows_read
        assert CHUNK <= read_before < ROWS
        stored = history_query(
            config, "SELECT count(*) FROM rec_payments WHERE payment_id LIKE 'P-%'"
        )
        assert stored == [(read_before,)]
        (watermark,) = query(config, "SELECT value FROM watermarks WHERE source = 'payments'")[0]
        last_read = datetime(2025, 6, 1, 9) + timedelta(seconds=(read_before - 1) // 3)
        assert datetime.fromisoformat(str(watermark)) == last_read
        alerts_before = query(config, "SELECT count(*) FROM alerts WHERE record_key LIKE 'P-%'")
        flagged_before = sum(1 for i in range(read_before) if _amount(i) >= LIMIT)
        assert alerts_before == [(flagged_before,)]

        # The next run resumes from the watermark and reads the rest.
        second = run(config, now=NOW + timedelta(hours=1))
        assert second.status == "ok", second.sources
        again = {s.name: s for s in second.sources}["payments"]
        # Inclusive watermark: the rows sharing the last timestamp come again, nothing else.
        boundary = sum(
            1 for i in range(ROWS) if i // 3 == (read_before - 1) // 3 and i < read_before
        )
        assert again.rows_read == ROWS - read_before + boundary
        assert history_query(
            config, "SELECT count(DISTINCT payment_id), count(*) FROM rec_payments"
        ) == [(ROWS + 1, ROWS + 1)]
        flagged = sum(1 for i in range(ROWS) if _amount(i) >= LIMIT) + 1  # + the CSV payment
        assert query(config, "SELECT count(*), count(DISTINCT record_key) FROM alerts") == [
            (flagged, flagged)
        ]
        # Each alert told once per recipient (E001 the official, E010 the manager, E030 audit).
        assert query(
            config,
            "SELECT count(*), count(DISTINCT alert_id || '/' || recipient) FROM deliveries "
            "WHERE kind = 'new'",
        ) == [(flagged * 3, flagged * 3)]
    finally:
        _drop(url, table)
