"""Notification benchmark: N alerts to R officials, delivered as digests to a local SMTP server.

Through the real path a run takes: findings of a pack rule are raised (``raise_alerts``: dedup,
routing through the officials directory, deadlines, the audit trail), one digest per recipient
is queued (``queue_digests``) and the outbox is delivered (``deliver_pending``) over apprise's
``mailto://`` to aiosmtpd on 127.0.0.1, which counts what it receives. Each step is timed; the
target is the three together. The store is a fresh SQLite file.

The directory has R officials in R/10 departments (one 부서관리자 and nine 담당자 each); the
rule is the pack's ``PAY-SELF-APPROVAL`` told to the official only, so there are exactly R
recipients, each with N/R alerts in one digest.
"""

from __future__ import annotations

import dataclasses
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import insert, select

from naebu.alerts import Directory, deliver_pending, queue_digests, raise_alerts
from naebu.alerts.directory import ROLE_MANAGER, ROLE_OFFICIAL
from naebu.alerts.notify_settings import ChannelConfig, NotifyConfig
from naebu.alerts.routing_settings import RoutingConfig
from naebu.engine.findings import Finding
from naebu.engine.loader import RuleSet
from naebu.store import tables as store

RULE_ID = "PAY-SELF-APPROVAL"
TARGET_SECONDS = 60.0


class _Counter:
    """aiosmtpd handler that counts messages and their recipients (nothing is parsed)."""

    def __init__(self) -> None:
        self.messages = 0
        self.recipients: set[str] = set()
        self.lock = threading.Lock()

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            self.messages += 1
            self.recipients.update(envelope.rcpt_tos)
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server() -> Iterator[tuple[int, _Counter]]:
    """aiosmtpd on 127.0.0.1 (a free port) for the block: (port, counter)."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    counter = _Counter()
    controller = Controller(counter, hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    try:
        yield port, counter
    finally:
        controller.stop()


def officials(recipients: int) -> pd.DataFrame:
    """An ``employees`` frame of ``recipients`` officials, ten per department."""
    rows = []
    for i in range(recipients):
        dept = f"벤치부서{i // 10:03d}"
        rows.append({
            "employee_id": f"B{i:05d}", "name": f"직원{i:05d}", "department": dept,
            "position": "주무관", "role": ROLE_MANAGER if i % 10 == 0 else ROLE_OFFICIAL,
            "email": f"b{i:05d}@bench.naebu.local", "active": True,
        })  # fmt: skip
    return pd.DataFrame(rows)


def findings(n: int, directory_frame: pd.DataFrame, rule: Any, now: datetime) -> list[Finding]:
    """``n`` findings of ``rule``, spread evenly over the officials, with evidence like the
    rule's own (a payment drafted and approved by one official)."""
    ids = directory_frame["employee_id"].tolist()
    depts = directory_frame["department"].tolist()
    out = []
    for i in range(n):
        who = i % len(ids)
        key = f"PB-{i:07d}"
        amount = 1_000_000 + (i * 7919) % 9_000_000
        out.append(Finding(
            rule_id=rule.id, dataset=rule.dataset, record_key=key, severity=rule.severity,
            message=f"지출 {key}: 기안자와 결재자가 모두 {ids[who]} ({amount:,}원, 벤치상사)",
            department=depts[who], official_id=ids[who],
            event_time=now - timedelta(days=i % 300),
            evidence={"payment_id": key, "official_id": ids[who], "approver_id": ids[who],
                      "amount": amount, "payee_name": "벤치상사"},
        ))  # fmt: skip
    return out


def ssl_context_ms(samples: int = 3) -> float:
    """Milliseconds one ``ssl.create_default_context()`` takes here (it loads the system CA
    bundle). apprise's SMTP plugin builds one for every message, even with ``mode=insecure``:
    on this machine that is most of a message's delivery time, hence reported beside it."""
    import ssl

    start = time.perf_counter()
    for _ in range(samples):
        ssl.create_default_context()
    return (time.perf_counter() - start) / samples * 1000


def run(ruleset: RuleSet, *, alerts: int = 10_000, recipients: int = 200,
        workdir: Path | None = None) -> dict[str, Any]:  # fmt: skip
    """Raise, queue and deliver; the seconds of each step and what the SMTP server got."""
    meta = dataclasses.replace(ruleset.by_id()[RULE_ID].meta, notify=("official",))
    now = datetime.now().replace(microsecond=0)
    frame = officials(recipients)
    directory = Directory.from_frame(frame, routing=RoutingConfig())
    found = findings(alerts, frame, meta, now)
    with tempfile.TemporaryDirectory(dir=workdir) as tmp, smtp_server() as (port, counter):
        engine = store.connect(f"sqlite:///{Path(tmp) / 'notify.sqlite'}")
        url = f"mailto://127.0.0.1:{port}?from=naebu@bench.naebu.local&to={{email}}&mode=insecure"
        notify = NotifyConfig(channels=[ChannelConfig(name="email", url=url)], timeout_seconds=30)
        try:
            t0 = time.perf_counter()
            with engine.begin() as conn:
                run_id = conn.execute(
                    insert(store.runs).values(started_at=now, status="running")
                ).inserted_primary_key[0]  # type: ignore[index]
                ids = raise_alerts(conn, found, {meta.id: meta}, directory, run_id=run_id, now=now)
            t1 = time.perf_counter()
            with engine.begin() as conn:
                queued = queue_digests(conn, ids, directory, notify, run_id=run_id, now=now)
            t2 = time.perf_counter()
            report = deliver_pending(engine, notify, directory, now=now)
            t3 = time.perf_counter()
            with engine.connect() as conn:
                statuses = [r[0] for r in conn.execute(select(store.outbox.c.status))]
        finally:
            engine.dispose()
    total = t3 - t0
    return {
        "alerts": len(ids),
        "recipients": recipients,
        "digests_queued": queued,
        "sent": report.sent,
        "failed": report.failed,
        "retrying": report.retrying,
        "smtp_messages": counter.messages,
        "smtp_recipients": len(counter.recipients),
        "outbox_sent": statuses.count("sent"),
        "seconds": {"raise": t1 - t0, "queue": t2 - t1, "deliver": t3 - t2, "total": total},
        "per_message_ms": (t3 - t2) / report.sent * 1000 if report.sent else None,
        "ssl_context_ms": ssl_context_ms(),
        "target_seconds": TARGET_SECONDS,
    }
