"""Shared parts of the approval-step tests (no tests here): a city store on SQLite or
PostgreSQL, with the sample officials, inbox accounts and alerts in three departments.

재무과 has a 부서관리자 (최재원, E010) who approves 김민수's (E001) answers; 회계과's alert falls
to its manager (정수진, E020: the assignee E021 is inactive), whose own answer needs nobody's
approval; 세무과 (윤서연, E040) has no manager at all. 한가람 (E030) is the audit office.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from conftest import write_config
from servers import employees_frame, finding
from services import pg_url, require_service
from sqlalchemy import create_engine, text
from test_web_helpers import ACCOUNTS, PASSWORD, RULE, WebCity

from naebu.alerts import Directory, raise_alerts
from naebu.alerts.officials import sync_officials
from naebu.alerts.routing_settings import RoutingConfig
from naebu.engine.loader import load_rules
from naebu.inbox.auth import set_password
from naebu.store import tables as store

BACKENDS = ("sqlite", "postgresql")
#: The records each alert is raised for, and the department it belongs to.
RECORDS = {"P-1": "재무과", "P-2": "재무과", "P-3": "회계과", "P-4": "세무과"}


@contextmanager
def store_url(kind: str, folder: Path) -> Iterator[str]:
    """A store URL for ``kind``: a SQLite file in ``folder``, or a fresh PostgreSQL schema
    dropped at the end (the store is created by naebu's own migrations)."""
    if kind == "sqlite":
        yield "sqlite:///" + str(folder / "store.sqlite")
        return
    base = require_service("PostgreSQL", pg_url())
    schema = "naebu_approval_" + secrets.token_hex(4)
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield base + ("&" if "?" in base else "?") + f"options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def build_city(
    folder: Path, url: str, *, now: datetime, approval: bool | None = None, copies: int = 1
) -> WebCity:
    """Config (``[workflow] approval`` when given), rule, officials, accounts and the alerts
    of :data:`RECORDS` (``copies`` of each: P-1, P-1-2, ...)."""
    body = f'[store]\nurl = "{url}"\n'
    if approval is not None:
        body += f"[workflow]\napproval = {'true' if approval else 'false'}\n"
    config_path = write_config(folder, body)
    (folder / "rules").mkdir(exist_ok=True)
    (folder / "rules" / "payments.toml").write_text(RULE, encoding="utf-8")
    rules = {r.meta.id: r.meta for r in load_rules([folder / "rules"]).rules}
    directory = Directory.from_frame(employees_frame(), routing=RoutingConfig())
    owners = {"재무과": "E001", "회계과": "E021", "세무과": "E040"}
    findings = []
    for key, department in RECORDS.items():
        for n in range(copies):
            findings.append(
                finding(
                    key if n == 0 else f"{key}-{n + 1}",
                    department=department,
                    official_id=owners[department],
                    evidence={"amount": 1_250_000 + n, "vendor_id": "V-77"},
                )
            )
    engine = store.connect(url)
    try:
        with engine.begin() as conn:
            sync_officials(conn, directory, now=now)
            for employee_id in (*ACCOUNTS, "E020"):
                set_password(conn, employee_id, PASSWORD, now=now)
            ids = raise_alerts(conn, findings, rules, directory, run_id=None, now=now)
    finally:
        engine.dispose()
    alerts = dict(zip([f.record_key for f in findings], ids, strict=True))
    return WebCity(folder, config_path, url, alerts)
