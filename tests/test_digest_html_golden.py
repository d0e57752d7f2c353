"""Digests' HTML part (and text with links), pinned byte for byte on a small fixed input.

:mod:`tests.test_digest_golden` pins the subjects and text bodies; this pins ``body_html``
too, with ``[web] base_url`` set (every item and the inbox linked) and a case alert listing
its member records (the HTML's member table), in both languages. The fixture
``tests/fixtures/digests/html-*.txt`` was written by the digest code before queueing was made
fast (issue 21): any change to what officials receive shows here as a diff.

To regenerate after an intended change of the digests: ``NAEBU_UPDATE_GOLDEN=1 pytest
tests/test_digest_html_golden.py`` and review the diff.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select
from test_digest_golden import _directory, _rules

from naebu.alerts import queue_digests, raise_alerts
from naebu.alerts.notify_settings import NotifyConfig
from naebu.engine.findings import Finding
from naebu.store import tables as store

GOLDEN = Path(__file__).parent / "fixtures" / "digests"
NOW = datetime(2025, 3, 14, 9, 0)
BASE_URL = "https://naebu.city.go.kr"


def _evidence(i: int) -> dict[str, Any]:
    kinds: list[dict[str, Any]] = [
        {"amount": 1_250_000 + i, "vendor_id": f"V-{i:03d}", "paid_on": "2025-03-01"},
        {"payee_account": f"110{i:010d}", "memo": "계좌 <b>110-123-456789</b> & 메모"},
        {"phone": f"010-{1000 + i}-5678", "note": f"주민 900101-1{i:06d}"},
        {
            "official_id": "E001",
            "case.count": 3,
            "case.members": [
                {"payment_id": f"P-9{i:03d}", "amount": 10_000 * i, "paid_on": "2025-03-02"},
                {"payment_id": f"P-8{i:03d}", "amount": 20_000, "payee_account": "1002345678901"},
            ],
        },
        {},
    ]
    return kinds[i % len(kinds)]


def _findings() -> list[Finding]:
    rules = list(_rules())
    assignees = ["E001", "E003", "E021", "E040", "E999", "E010"]
    departments = ["재무과", "회계과", None]
    return [
        Finding(
            rule_id=rules[i % len(rules)],
            dataset="payments",
            record_key=f"P-{i:04d}",
            severity=["low", "medium", "high", "critical"][i % 4],
            message=f"지출 P-{i:04d} <확인> & 연락처 02-123-{4000 + i}",
            department=departments[i % len(departments)],
            official_id=assignees[i % len(assignees)],
            event_time=NOW - timedelta(days=i),
            evidence=_evidence(i),
        )
        for i in range(14)
    ]


def _scenario(engine: Engine, language: str, max_items: int) -> str:
    directory = _directory("감사실")
    rules = _rules()
    notify = NotifyConfig(language=language, digest_max_items=max_items)
    notify.base_url = BASE_URL
    with engine.begin() as conn:
        run_id = conn.execute(
            insert(store.runs).values(started_at=NOW, status="running")
        ).inserted_primary_key[0]  # type: ignore[index]
        ids = raise_alerts(conn, _findings(), rules, directory, run_id=run_id, now=NOW)
        queue_digests(conn, ids, directory, notify, run_id=run_id, now=NOW, rules=rules)
    with engine.connect() as conn:
        rows = conn.execute(select(store.outbox).order_by(store.outbox.c.id)).all()
    lines = []
    for r in rows:
        lines += [f"=== outbox #{r.id} to {r.recipient} via {r.channel}", f"subject: {r.subject}"]
        lines += [r.body, "--- html", r.body_html or ""]
    return "\n".join(lines) + "\n"


CASES = {"html-ko": ("ko", 5), "html-en": ("en", 100)}


@pytest.mark.parametrize("name", sorted(CASES))
def test_digest_html_is_pinned(engine: Engine, name: str) -> None:
    got = _scenario(engine, *CASES[name])
    path = GOLDEN / f"{name}.txt"
    if os.environ.get("NAEBU_UPDATE_GOLDEN"):
        path.write_text(got, encoding="utf-8")
    assert got == path.read_text(encoding="utf-8"), f"digests differ from {path}"
