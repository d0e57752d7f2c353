"""조치 -> 승인 -> 확인 in the web inbox (issue 22): each step by the person who takes it.

In headless Chromium (``/usr/bin/chromium``, as tests/test_web_browser.py) on SQLite: the
official explains an alert; the audit office's review queue stays empty and its alert page
offers no review; the department manager finds it awaiting approval and returns it with a
reason, which the official then reads at the top of the alert page, above the evidence; the
official corrects it, the manager approves, the audit office closes it; the scorecard shows
the four rates and their definitions. Screenshots go to ``test-artifacts/web/``.

Over HTTP on PostgreSQL the same life, and a city with ``[workflow] approval = false``, where
no approval button shows and the audit office reviews answers directly.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path

import httpx
from approval_city import build_city, store_url
from test_web_browser import browser, shot, sign_in
from test_web_helpers import LiveServer, csrf_of, live_server, login

from naebu.alerts.trail import entries, verify
from naebu.store import tables as store

__all__ = ["browser"]  # the Chromium fixture, shared with tests/test_web_browser.py


def act(page: object, action: str, comment: str | None = None) -> None:
    """Press an action button on the alert page, with a comment."""
    if comment is not None:
        page.fill("form.act textarea[name=comment]", comment)  # type: ignore[attr-defined]
    page.click(f"form.act button[value={action}]")  # type: ignore[attr-defined]
    page.wait_for_selector("p.done")  # type: ignore[attr-defined]


def queue(page: object, base: str, name: str) -> int:
    """How many alerts a queue of the alert list holds for the signed-in viewer."""
    page.goto(f"{base}/alerts?status={name}")  # type: ignore[attr-defined]
    return int(page.locator("table.list tbody tr").count())  # type: ignore[attr-defined]


def above(page: object, first: str, second: str) -> bool:
    """True when element ``first`` comes before ``second`` in the page."""
    return bool(
        page.evaluate(  # type: ignore[attr-defined]
            "([a, b]) => !!(document.querySelector(a).compareDocumentPosition("
            "document.querySelector(b)) & Node.DOCUMENT_POSITION_FOLLOWING)",
            [first, second],
        )
    )


def test_official_manager_and_auditor_in_the_browser(browser: object, tmp_path: Path) -> None:
    now = datetime.now().replace(microsecond=0)
    with store_url("sqlite", tmp_path) as url:
        city = build_city(tmp_path, url, now=now)
        alert_id = city.alerts["P-1"]
        with live_server(city) as server:
            base = server.url
            official = sign_in(browser, base, "E001", "a01-official")
            official.goto(f"{base}/alerts/{alert_id}")
            act(official, "explain", "거래처 요청으로 선금과 잔금을 나누어 지급했습니다.")
            assert official.inner_text("#status") == "소명"
            assert "거래처 요청으로" in official.inner_text("#answer")
            assert above(official, "#answer", "table.evidence")
            shot(official, "a02-official-explained")

            auditor = sign_in(browser, base, "E030", "a03-auditor")
            assert queue(auditor, base, "review") == 0  # not approved yet
            auditor.goto(f"{base}/alerts/{alert_id}")
            assert auditor.locator("form.act button[value=accept]").count() == 0
            assert auditor.locator("form.act button[value=approve]").count() == 0

            manager = sign_in(browser, base, "E010", "a04-manager")
            manager.click("#nav-to-approve")  # the manager's queue, from the navigation
            manager.wait_for_url(f"{base}/alerts?status=to_approve")
            assert manager.locator("table.list tbody tr").count() == 1
            assert official.locator("#nav-to-approve").count() == 0
            shot(manager, "a05-manager-queue")
            manager.click(f"a[href='/alerts/{alert_id}'] >> nth=0")
            assert manager.locator("form.act button[value=approve]").count() == 1
            act(manager, "return", "계약서 사본을 첨부해 다시 보고하십시오.")
            assert manager.inner_text("#status") == "반려"
            shot(manager, "a06-manager-returned")

            official.goto(f"{base}/alerts/{alert_id}")
            back = official.inner_text("#sent-back")
            assert "부서관리자 반려" in back and "계약서 사본을 첨부해" in back
            assert above(official, "#sent-back", "table.evidence")
            assert above(official, "#sent-back", "table.timeline")
            shot(official, "a07-official-sees-the-return")
            act(official, "correct", "중복 지급액 환수 완료.")
            assert official.locator("#sent-back").count() == 0  # answered again

            manager.goto(f"{base}/alerts/{alert_id}")
            act(manager, "approve")
            assert manager.inner_text("#status") == "승인"
            assert "최재원" in manager.inner_text("#approved")

            assert queue(auditor, base, "review") == 1
            auditor.goto(f"{base}/alerts/{alert_id}")
            act(auditor, "accept")
            assert auditor.inner_text("#status") == "종결"
            timeline = auditor.inner_text("table.timeline")
            for step in (
                "소명",
                "반려 (담당자에게)",
                "조치 완료",
                "승인 (감사부서로)",
                "검토 승인",
            ):
                assert step in timeline
            shot(auditor, "a08-auditor-closed")

            auditor.goto(f"{base}/scorecard")
            row = auditor.locator("tr[data-department='재무과']")
            assert row.locator("td.action-rate").inner_text() == "50.0%"  # 1 of 2 answered
            assert row.locator("td.approval-rate").inner_text() == "100.0%"
            assert row.locator("td.confirmation-rate").inner_text() == "100.0%"
            definitions = auditor.inner_text("#definitions")
            for name in ("조치율", "승인율", "확인율", "적기 처리율"):
                assert name in definitions
            # the trend: raised bars, and the rates 조치, 승인, 확인, 적기 per month raised. Every
            # alert was raised this month: one dot per rate, no line (no ramp from the eleven
            # months before, which had no data and are shaded as such).
            assert auditor.locator("svg.chart.rates polyline").count() == 0
            assert auditor.locator("svg.chart.rates circle.dot").count() == 4
            assert auditor.locator("svg.chart.rates rect.nodata.before").count() == 11
            shot(auditor, "a09-scorecard")
        engine = store.connect(url)
        try:
            with engine.connect() as conn:
                assert verify(conn).ok
        finally:
            engine.dispose()


@contextmanager
def _people(server: LiveServer) -> Iterator[tuple[httpx.Client, httpx.Client, httpx.Client]]:
    """Signed-in clients of the official (E001), the manager (E010) and the auditor (E030)."""
    with ExitStack() as stack:
        clients = []
        for who in ("E001", "E010", "E030"):
            client = stack.enter_context(server.client())
            assert login(client, who).status_code == 303
            clients.append(client)
        yield clients[0], clients[1], clients[2]


def _step(client: httpx.Client, alert_id: int, action: str, comment: str = "") -> httpx.Response:
    page = client.get(f"/alerts/{alert_id}")
    data = {"csrf": csrf_of(page.text), "action": action, "comment": comment}
    return client.post(f"/alerts/{alert_id}/act", data=data)


def _buttons(client: httpx.Client, alert_id: int) -> set[str]:
    page = client.get(f"/alerts/{alert_id}").text
    return set(re.findall(r'name="action" value="([a-z_]+)"', page))


def test_three_steps_over_http_on_postgresql(tmp_path: Path) -> None:
    now = datetime.now().replace(microsecond=0)
    with store_url("postgresql", tmp_path) as url:
        city = build_city(tmp_path, url, now=now)
        a = city.alerts["P-1"]
        with live_server(city) as server, _people(server) as (official, manager, auditor):
            assert _step(official, a, "false_positive", "중복 아님").status_code == 303
            assert _buttons(auditor, a) == set()
            refused = _step(auditor, a, "accept")
            assert refused.status_code == 400 and "승인을 기다리고" in refused.text
            assert _buttons(manager, a) == {"approve", "return"}
            assert _step(manager, a, "return", "사유 코드 확인").status_code == 303
            page = official.get(f"/alerts/{a}").text
            assert page.index("사유 코드 확인") < page.index('class="evidence"')
            assert _step(official, a, "correct").status_code == 303
            assert _step(manager, a, "approve").status_code == 303
            assert _buttons(auditor, a) == {"accept", "reject"}
            assert _step(auditor, a, "accept").status_code == 303
        engine = store.connect(url)
        try:
            with engine.connect() as conn:
                actions = [e["action"] for e in entries(conn, a)]
                assert actions == [
                    "raise",
                    "false_positive",
                    "return",
                    "correct",
                    "approve",
                    "accept",
                ]
                assert verify(conn).ok
        finally:
            engine.dispose()


def test_without_the_approval_step_the_audit_office_reviews_directly(tmp_path: Path) -> None:
    now = datetime.now().replace(microsecond=0)
    with store_url("sqlite", tmp_path) as url:
        city = build_city(tmp_path, url, now=now, approval=False)
        a = city.alerts["P-1"]
        with live_server(city) as server, _people(server) as (official, manager, auditor):
            assert _step(official, a, "explain", "정상 지급").status_code == 303
            assert _buttons(manager, a) == set()
            assert "to_approve" not in manager.get("/alerts").text
            review = auditor.get("/alerts?status=review").text
            assert f'href="/alerts/{a}"' in review
            assert _buttons(auditor, a) == {"accept", "reject"}
            assert _step(auditor, a, "accept").status_code == 303
            card = auditor.get("/scorecard").text
            assert "승인 단계를 쓰지 않습니다" in card
            assert '<td class="approval-rate">-</td>' in card
