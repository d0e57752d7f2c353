"""Source outage: a source database goes away mid-schedule and comes back. The failed pulls
are recorded, the watermark stays, the other sources go on, the admins hear of it after N
failures and again on recovery, and in the end nothing is lost: the rows written at the source
during the outage are read, and at no moment did the watermark run ahead of the stored records.

"Goes away" is real: the source's PostgreSQL database is renamed (connections to it fail with
"database does not exist"), its rows keep arriving under the other name, and it is renamed back.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from pathlib import Path

import sqlalchemy as sa
from history_copy import history_sql
from services import pg_url, require_service
from test_daemon_helpers import (
    DaemonProcess,
    alert_keys,
    configure,
    copy_tables,
    daemons,
    demo_city,  # noqa: F401 - fixture
    fresh_database,
    labels,
    make_workdir,
    query,
    runs,
    summary_of,
    wait_for,
)

from naebu.store import history

ADMIN = "E-ADMIN-1"


def _rename(server: str, old: str, new: str) -> None:
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        for _ in range(50):  # the daemon may connect between the terminate and the rename
            with admin.connect() as conn:
                conn.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :d AND pid <> pg_backend_pid()"
                    ),
                    {"d": old},
                )
                try:
                    conn.execute(sa.text(f"ALTER DATABASE {old} RENAME TO {new}"))
                    return
                except sa.exc.OperationalError:
                    time.sleep(0.05)
        raise AssertionError(f"could not rename database {old}")
    finally:
        admin.dispose()


class WatermarkSampler(threading.Thread):
    """Reads (watermark, stored payment ids) of the store in one snapshot, again and again."""

    def __init__(self, db: Path) -> None:
        super().__init__(daemon=True)
        self.db = db
        self.samples: list[tuple[str | None, set[str]]] = []
        self.done = threading.Event()

    def run(self) -> None:
        engine = sa.create_engine(
            f"sqlite:///{self.db}", poolclass=sa.pool.NullPool, connect_args={"timeout": 5}
        )
        while not self.done.wait(0.1):
            try:
                with engine.connect() as conn:
                    # One snapshot: the watermark, and the history read through its API (on a
                    # SQLite file its manifest is read in this snapshot, its files never change).
                    conn.exec_driver_sql("BEGIN")
                    row = conn.exec_driver_sql(
                        "SELECT value FROM watermarks WHERE source = 'payments'"
                    ).fetchone()
                    keys = set(history.load(conn, "payments")["payment_id"])
                    conn.exec_driver_sql("COMMIT")
            except (sqlite3.OperationalError, sa.exc.OperationalError):
                continue  # tables not there yet
            except FileNotFoundError:
                continue  # segments a compaction replaced after this snapshot was taken
            self.samples.append((row[0] if row else None, keys))
        engine.dispose()


def test_source_down_and_back_loses_nothing_and_never_skips_a_window(
    tmp_path: Path,
    demo_city: Path,  # noqa: F811
) -> None:
    require_service("PostgreSQL", pg_url())
    workdir = make_workdir(tmp_path, demo_city)
    city = workdir / "demo-city" / "city.sqlite"
    with sqlite3.connect(city) as db:
        source_rows = dict(db.execute("SELECT pay_no, upd_dt FROM expd_rsltn").fetchall())
    cut = sorted(source_rows.values())[len(source_rows) // 2]
    store_db = workdir / "var" / "naebu.sqlite"
    store = f"sqlite:///{store_db}"
    sampler = WatermarkSampler(store_db)
    with fresh_database(pg_url(), "naebu_src") as src, daemons() as started:
        name = sa.engine.make_url(src).database
        away = sa.engine.make_url(src).set(database=f"{name}_away").render_as_string(False)
        copy_tables(
            workdir / "demo-city", src, ["expd_rsltn"], where={"expd_rsltn": f"upd_dt < '{cut}'"}
        )
        configure(
            workdir,
            interval_seconds=1.5,
            connections={"pg": src},
            source_connection={"payments": "pg"},
            chunk_size={"payments": 100},
            admins=[ADMIN],
            daemon="source_retry_base_seconds = 1\nsource_retry_max_seconds = 2\n"
            "source_failures_before_notice = 2\n",
        )
        sampler.start()
        daemon = DaemonProcess(workdir, "daemon")
        started.append(daemon)
        wait_for("the first run", lambda: any(r.status == "ok" for r in runs(store)), timeout=60)
        before = query(store, "SELECT value FROM watermarks WHERE source = 'payments'")[0][0]
        assert before < cut

        # The source goes away; its second half arrives at the source meanwhile.
        _rename(pg_url(), name, f"{name}_away")
        outage_from = len(runs(store))
        copy_tables(
            workdir / "demo-city", away, ["expd_rsltn"], where={"expd_rsltn": f"upd_dt >= '{cut}'"}
        )

        def failed_runs() -> list[dict[str, object]]:
            out = []
            for r in runs(store)[outage_from:]:
                reps = {s["name"]: s for s in summary_of(r).get("sources", [])}
                if reps.get("payments", {}).get("error"):
                    out.append(reps)
            return out

        wait_for("three failed pulls", lambda: len(failed_runs()) >= 3, timeout=40)
        notice = wait_for(
            "the admin notice of the outage",
            lambda: query(
                store, "SELECT recipient, body FROM outbox WHERE subject LIKE '%연결 실패%'"
            ),
            timeout=20,
        )
        during = query(store, "SELECT value FROM watermarks WHERE source = 'payments'")[0][0]
        assert during == before, "the watermark moved while the source was down"
        for reps in failed_runs():  # the other sources went on
            assert all(not s.get("error") for n, s in reps.items() if n != "payments"), reps

        _rename(pg_url(), f"{name}_away", name)
        last = max(source_rows.values())
        wait_for(
            "the watermark to reach the last source row",
            lambda: (
                query(store, "SELECT value FROM watermarks WHERE source = 'payments'")[0][0] == last
            ),
            timeout=40,
        )
        wait_for(
            "the recovery notice",
            lambda: query(store, "SELECT 1 FROM outbox WHERE subject LIKE '%복구%'"),
            timeout=20,
        )
        wait_for("a run after recovery", lambda: runs(store)[-1].status == "ok", timeout=20)
        assert daemon.stop() == 0, daemon.stderr()[-3000:]
    sampler.done.set()
    sampler.join(5)

    assert notice[0][0] == ADMIN and "payments" in notice[0][1]
    log = daemon.stderr()
    assert "source payments failed 2 time(s) in a row; its watermark stays" in log
    # Nothing lost: every source row is stored or quarantined (with its reason).
    locations = [
        r[0] for r in query(store, "SELECT location FROM quarantine WHERE source = 'payments'")
    ]
    quarantined = {m.group(1) for loc in locations if (m := re.search(r"pay_no=(\S+)", loc))}
    stored = {r[0] for r in history_sql(store, "SELECT payment_id FROM rec_payments")}
    assert stored | quarantined == set(source_rows)
    # The watermark never went back and never ran ahead of what the store held.
    marks = [wm for wm, _ in sampler.samples if wm is not None]
    assert len(set(marks)) >= 3 and marks == sorted(marks)
    for wm, keys in sampler.samples:
        if wm is not None:
            behind = {k for k, t in source_rows.items() if t < wm}
            assert behind <= keys | quarantined, (
                f"watermark {wm} skipped {sorted(behind - keys)[:5]}"
            )
    raised = alert_keys(store)
    assert len(raised) == len(set(raised)) and set(raised) == labels(workdir)
