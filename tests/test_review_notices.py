"""Review-pending notices go to the reviewers of that organisation, once per batch (issue 18).

Two local governments in one directory (:mod:`test_audit_scope`): 한빛시 with two auditors,
가람시 with one. Three 한빛시 alerts answered between two runs reach each 한빛시 auditor as one
mail listing all three (text and HTML); 가람시's auditor hears only of 가람시's answer; the next
run tells nobody again. Real store, real SMTP server (aiosmtpd), no mocks.
"""

from __future__ import annotations

import re
from datetime import datetime

from servers import finding, sample_rules, smtp_server
from sqlalchemy import Engine, select
from test_audit_scope import GARAM_AUDIT, HANBIT_AUDIT, T0, directory, officials_frame, tree
from test_lifecycle import cycle

from naebu.alerts import Directory
from naebu.alerts.escalation import remind_and_escalate
from naebu.alerts.lifecycle import act
from naebu.alerts.notify_settings import ChannelConfig, NotifyConfig
from naebu.alerts.outbox import deliver_pending
from naebu.store import tables as store

#: Between the raising run (Monday 09:00) and the deadline (Thursday): nothing else is due.
ANSWERED_AT = datetime(2025, 3, 10, 10, 0)
NEXT_RUN = datetime(2025, 3, 10, 11, 0)


def _directory() -> Directory:
    frame = officials_frame()
    frame["email"] = frame["employee_id"].str.lower() + "@city.naebu.local"
    return Directory.from_frame(frame, routing=directory().routing, departments=tree())


def _address(employee_id: str) -> str:
    return f"{employee_id.lower()}@city.naebu.local"


def test_answers_in_one_batch_reach_their_own_auditors_once(engine: Engine) -> None:
    d = _directory()
    assert [o.employee_id for o in d.audit_office("재무과")] == HANBIT_AUDIT
    findings = [
        finding("P-1", department="재무과", official_id="E001"),
        finding("P-2", department="재무과", official_id="E001"),
        finding("P-3", department="세무과", official_id="E020"),
        finding("P-4", department="가람시 재무과", official_id="G001"),
    ]
    with smtp_server() as smtp:
        notify = NotifyConfig(channels=[ChannelConfig("mail", smtp.url("{email}"))])
        cycle(engine, d, notify, sample_rules(), findings, T0)
        with engine.connect() as conn:
            ids = {
                r.record_key: r.id
                for r in conn.execute(select(store.alerts.c.record_key, store.alerts.c.id))
            }
        before = len(smtp.messages)
        with engine.begin() as conn:
            act(conn, ids["P-1"], "explain", "E001", "정상 지급", now=ANSWERED_AT, directory=d)
            act(conn, ids["P-2"], "correct", "E001", "환수 완료", now=ANSWERED_AT, directory=d)
            act(conn, ids["P-3"], "explain", "E020", "계약 확인", now=ANSWERED_AT, directory=d)
            act(conn, ids["P-4"], "explain", "G001", "정상 지급", now=ANSWERED_AT, directory=d)
        report = remind_and_escalate(engine, d, notify, now=NEXT_RUN)
        assert report.reminders == report.escalated_to_manager == 0
        deliver_pending(engine, notify, d, now=NEXT_RUN)
        batch = smtp.messages[before:]
        envelopes = smtp.envelopes[before:]
        # The next run: nothing left to tell.
        remind_and_escalate(engine, d, notify, now=datetime(2025, 3, 10, 12, 0))
        deliver_pending(engine, notify, d, now=datetime(2025, 3, 10, 12, 0))
        assert len(smtp.messages) == before + len(batch)

    received: dict[str, list[object]] = {}
    for msg, (_, rcpts) in zip(batch, envelopes, strict=True):
        for rcpt in rcpts:
            received.setdefault(rcpt, []).append(msg)
    # Only the auditors are told, each once; nobody who answered.
    assert sorted(received) == sorted(_address(e) for e in HANBIT_AUDIT + GARAM_AUDIT)
    hanbit = [ids["P-1"], ids["P-2"], ids["P-3"]]
    for auditor in HANBIT_AUDIT:
        (mail,) = received[_address(auditor)]
        text = mail.get_body(("plain",)).get_content()  # type: ignore[attr-defined]
        html = mail.get_body(("html",)).get_content()  # type: ignore[attr-defined]
        assert "■ 검토 대기 (3건)" in text
        assert sorted(int(n) for n in re.findall(r"경보 번호: #(\d+)", text)) == sorted(hanbit)
        assert f"#{ids['P-4']}" not in text
        rows = re.findall(r"<tr>\s*<td>#(\d+)</td>", html)
        assert sorted(int(n) for n in rows) == sorted(hanbit)
    (garam,) = received[_address(GARAM_AUDIT[0])]
    text = garam.get_body(("plain",)).get_content()  # type: ignore[attr-defined]
    assert "■ 검토 대기 (1건)" in text
    assert re.findall(r"경보 번호: #(\d+)", text) == [str(ids["P-4"])]
