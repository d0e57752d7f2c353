"""The inbox's rule-drafts page: the audit office sees a proposed rule change with its
simulation and approves it there, as ``naebu rules approve`` does; anyone else is refused.
A real HTTP server (uvicorn) over the small web city of test_web_helpers."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from test_web_helpers import RULE, csrf_of, live_server, login, web_city

from naebu import rule_drafts, rule_simulation
from naebu.alerts.officials import directory_from_store
from naebu.settings.config import load_config
from naebu.settings.web import WebSettings
from naebu.store import tables as store
from naebu.store.tables import audit_trail

NOW = datetime(2026, 3, 16, 9, 0)
OLD = "params = { min_amount = 1000000 }"
NEW = "params = { min_amount = 1200000 }"
#: The draft's examples carry the payment date (a draft whose examples fail is refused).
DATED = ("record = { amount = ", 'record = { paid_on = "2025-03-12", amount = ')


def _edited() -> str:
    return RULE.replace(OLD, NEW).replace(*DATED)


def test_the_audit_office_approves_a_simulated_rule_change_in_the_inbox(tmp_path: Path) -> None:
    city = web_city(tmp_path, now=NOW)
    config = load_config(city.config_path)
    copy = tmp_path / "drafts" / "payments.toml"
    copy.parent.mkdir()
    assert RULE.count(OLD) == 1
    copy.write_text(_edited(), encoding="utf-8")
    engine = store.connect(city.store_url)
    with engine.connect() as conn:
        directory = directory_from_store(conn)
    draft = rule_drafts.propose(
        engine, config, copy, "rules/payments.toml",
        actor="E001", reason="기준 금액 상향", now=NOW, directory=directory,
    )  # fmt: skip
    result = rule_simulation.simulate(config, draft, since=None, until=None, now=NOW)
    rule_drafts.attach_simulation(engine, draft, result, actor="E001", now=NOW)

    with live_server(city, WebSettings(compliance=("E010",))) as server:
        with server.client() as c:  # a 담당자: not their page
            login(c, "E001")
            assert c.get("/rules/drafts").status_code == 403
        with server.client() as c:  # compliance staff see it, but only a 감사자 approves
            login(c, "E010")
            page = c.get("/rules/drafts")
            assert page.status_code == 200
            assert "R-PAY-DUP" in page.text and "기준 금액 상향" in page.text
            assert f'action="/rules/drafts/{draft.id}/approve"' not in page.text
            refused = c.post(
                f"/rules/drafts/{draft.id}/approve",
                data={"csrf": csrf_of(page.text), "reason": "승인"},
            )
            assert refused.status_code == 403
            assert "규칙 변경은 감사자만 승인할 수 있습니다" in refused.text
        with server.client() as c:
            login(c, "E030")
            page = c.get("/rules/drafts")
            assert f'action="/rules/drafts/{draft.id}/approve"' in page.text
            assert "윌슨 신뢰구간" in page.text
            no_token = c.post(f"/rules/drafts/{draft.id}/approve", data={"reason": "승인"})
            assert no_token.status_code == 403
            done = c.post(
                f"/rules/drafts/{draft.id}/approve",
                data={"csrf": csrf_of(page.text), "reason": "모의 적용 검토 완료"},
            )
            assert done.status_code == 303, done.text
            assert "승인됨" in c.get("/rules/drafts").text
    assert (tmp_path / "rules" / "payments.toml").read_text(encoding="utf-8") == _edited()
    with engine.connect() as conn:
        approvals = conn.execute(
            select(audit_trail.c.actor, audit_trail.c.comment).where(
                audit_trail.c.action == "rule_approve"
            )
        ).fetchall()
    engine.dispose()
    assert [tuple(r) for r in approvals] == [("E030", "모의 적용 검토 완료")]
