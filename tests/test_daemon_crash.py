"""Crash safety: ``naebu run`` killed with SIGKILL in the middle of a run loses nothing and
repeats nothing once restarted.

The store is PostgreSQL; the finance and property tables come from a PostgreSQL database and
the permit and revenue tables from a MariaDB database (the demo city loaded with pandas), read
in small chunks so a run has many batches to be killed between - or inside.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from services import mysql_url, pg_url, require_service
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

PG_TABLES = [
    "cmm_dept",
    "hr_emp_mst",
    "fin_cust_mst",
    "ctrt_mst",
    "expd_rsltn",
    "prpt_sale",
    "hr_atnd_dly",
]

MARIA_TABLES = ["saeol_prmsn", "ntx_levy", "rvn_rcpt"]
PG_SOURCES = [
    "departments",
    "employees",
    "vendors",
    "contracts",
    "payments",
    "property_sales",
    "attendance",
]
MARIA_SOURCES = ["permits", "levies", "receipts"]


def test_sigkill_mid_run_then_restart_raises_every_alert_exactly_once(
    tmp_path: Path,
    demo_city: Path,  # noqa: F811
) -> None:
    require_service("PostgreSQL", pg_url())
    require_service("MariaDB", mysql_url())
    with (
        fresh_database(pg_url(), "naebu_store") as store,
        fresh_database(pg_url(), "naebu_src") as pg_src,
        fresh_database(mysql_url(), "naebu_src") as maria_src,
        daemons() as started,
    ):
        workdir = make_workdir(tmp_path, demo_city)
        copy_tables(workdir / "demo-city", pg_src, PG_TABLES)
        copy_tables(workdir / "demo-city", maria_src, MARIA_TABLES)
        configure(
            workdir,
            store_url=store,
            interval_seconds=3600,  # one run at start; the restart is the catch-up
            connections={"pg": pg_src, "maria": maria_src},
            source_connection={
                **{s: "pg" for s in PG_SOURCES},
                **{s: "maria" for s in MARIA_SOURCES},
            },
            chunk_size={s: 500 for s in PG_SOURCES + MARIA_SOURCES},
        )

        first = DaemonProcess(workdir, "first")
        started.append(first)

        # Kill it once some windows are committed (a watermark stored) but the run is not over.
        def mid_run() -> bool:
            ledger = runs(store)
            marks = query(store, "SELECT count(*) FROM watermarks")
            return bool(ledger and ledger[-1].status == "running" and marks and marks[0][0] >= 1)

        wait_for("the first run to be half done", mid_run, timeout=60, every=0.05)
        first.kill()
        ledger = runs(store)
        assert [r.status for r in ledger] == ["running"], "the kill came after the run ended"
        before = alert_keys(store)
        assert len(before) < len(labels(workdir)), "the kill came after every alert was raised"

        second = DaemonProcess(workdir, "second")
        started.append(second)
        done = wait_for(
            "the restarted daemon's run",
            lambda: [r for r in runs(store) if r.status in ("ok", "partial", "failed")],
            timeout=90,
        )
        assert done[0].status == "ok", (done[0].error, second.stderr()[-3000:])
        assert second.stop() == 0, second.stderr()[-3000:]

        # Every planted anomaly is alerted, once.
        raised = alert_keys(store)
        assert Counter(raised).most_common(1)[0][1] == 1
        assert set(raised) == labels(workdir)
        # The killed run is marked abandoned; the catch-up run names its node.
        statuses = [(r.status, summary_of(r).get("node", "")) for r in runs(store)]
        assert statuses[0][0] == "abandoned"
        assert statuses[1][1].endswith(second.node_suffix)
        # No alert went out twice, and the catch-up sent one digest per official, not a flood.
        twice = query(
            store,
            "SELECT alert_id FROM deliveries GROUP BY alert_id, recipient HAVING count(*) > 1",
        )
        assert twice == []
        assignees = {r[0] for r in query(store, "SELECT DISTINCT assignee FROM alerts")}
        digests = query(store, "SELECT recipient, count(*) FROM outbox GROUP BY recipient")
        # (recipients are the assignees plus whoever [routing] adds: managers, audit office)
        assert assignees <= {r[0] for r in digests}
        assert all(n == 1 for _, n in digests), digests
