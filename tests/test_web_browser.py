"""The web inbox in a real browser: Debian's Chromium, headless, driven by Playwright.

One alert goes round the 청백-e loop through the pages, each step by the person who takes
it: the official (김민수, 재무과) signs in, opens the alert and explains it (소명); the auditor
(한가람, 감사실) rejects the explanation (반려); the official corrects the item (조치 완료);
the auditor accepts and closes it (종결); the scorecard then counts the alert as answered on
time. Each page is saved as a screenshot under ``test-artifacts/web/`` (gitignored), where
one can check that Hangul renders (NanumGothic from fonts-nanum).

Chromium is ``/usr/bin/chromium`` (``apt-get install chromium fonts-nanum``; never
``playwright install``). Without it the test is skipped, naming it - and fails under ``CI``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from conftest import ROOT
from servers import finding
from sqlalchemy import select
from test_web_helpers import PASSWORD, live_server, web_city

from naebu.alerts.trail import verify
from naebu.store import tables as store

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts" / "web"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless Chromium; skipped without it, failed under CI."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install -y chromium fonts-nanum"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def shot(page: object, name: str) -> None:
    """Keep a full-page screenshot of ``page`` as a test artifact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def sign_in(browser: object, base: str, employee_id: str, name: str) -> object:
    """A fresh browser context signed in as ``employee_id``; returns its page."""
    context = browser.new_context(locale="ko-KR", viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(f"{base}/alerts")
    assert "/login" in page.url  # not signed in: sent to the login page
    shot(page, f"{name}-login")
    page.fill("input[name=employee_id]", employee_id)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_url(f"{base}/alerts")
    return page


def act(page: object, action: str, comment: str | None = None) -> None:
    """Press an action button on the alert page, with a comment."""
    if comment is not None:
        page.fill("form.act textarea[name=comment]", comment)  # type: ignore[attr-defined]
    page.click(f"form.act button[value={action}]")  # type: ignore[attr-defined]
    page.wait_for_selector("p.done")  # type: ignore[attr-defined]


def test_official_and_auditor_walk_an_alert_through_the_inbox(
    browser: object, tmp_path: Path
) -> None:
    now = datetime.now().replace(microsecond=0)
    hostile = finding(
        "P-1003",
        evidence={"amount": 1500000, "memo": "<script>document.title='pwned'</script>"},
        message="<b>굵게</b> 지출 P-1003",
    )
    city = web_city(tmp_path, now=now, extra_findings=[hostile])
    # The two-step city (tests/test_web_approval.py walks 조치 -> 승인 -> 확인).
    with city.config_path.open("a", encoding="utf-8") as f:
        f.write("[workflow]\napproval = false\n")
    alert_id = city.alerts["P-1001"]
    with live_server(city) as server:
        base = server.url

        # 1. The official signs in, sees their alerts, opens one and explains it.
        official = sign_in(browser, base, "E001", "01-official")
        rows = official.locator("table.list tbody tr")
        assert rows.count() == 3  # P-1001, P-1002, P-1003 of 김민수; not 세무과's P-2001
        assert "동일 거래처 중복 지급 의심" in official.inner_text("table.list")
        shot(official, "02-official-alerts")
        official.click(f"a[href='/alerts/{alert_id}'] >> nth=0")
        official.wait_for_url(f"{base}/alerts/{alert_id}")
        text = official.inner_text("main")
        assert "지방회계법 제29조" in text  # the rule's legal basis
        assert "min_amount = 1000000" in text  # its parameters
        assert "1,250,000원" in official.inner_text("table.evidence")  # labelled, in 원
        assert official.inner_text("#status") == "발생"
        shot(official, "03-official-alert")
        act(official, "explain", "거래처 요청으로 선금과 잔금을 나누어 지급한 것입니다.")
        assert official.inner_text("#status") == "소명"
        assert "거래처 요청으로" in official.inner_text("table.timeline")
        shot(official, "04-official-explained")

        # 2. The auditor rejects the explanation.
        auditor = sign_in(browser, base, "E030", "05-auditor")
        auditor.goto(f"{base}/alerts?status=answered")
        assert auditor.locator("table.list tbody tr").count() == 1
        auditor.goto(f"{base}/alerts/{alert_id}")
        assert auditor.locator("form.act button[value=reject]").count() == 1
        act(auditor, "reject", "계약서상 분할 지급 조항이 없습니다. 환수 여부를 확인하십시오.")
        assert auditor.inner_text("#status") == "반려"
        shot(auditor, "06-auditor-rejected")

        # 3. The official corrects it.
        official.goto(f"{base}/alerts/{alert_id}")
        assert "환수 여부를 확인하십시오" in official.inner_text("table.timeline")
        act(official, "correct", "중복 지급액 1,250,000원 환수 완료 (세입 고지 2025-031호).")
        assert official.inner_text("#status") == "조치 완료"
        shot(official, "07-official-corrected")

        # 4. The auditor accepts: the alert is closed.
        auditor.goto(f"{base}/alerts/{alert_id}")
        act(auditor, "accept")
        assert auditor.inner_text("#status") == "종결"
        timeline = auditor.inner_text("table.timeline")
        for step in ("발생", "소명", "검토 반려", "조치 완료", "검토 승인"):
            assert step in timeline
        shot(auditor, "08-auditor-closed")

        # 5. The scorecard counts it: 재무과 raised 3, one answered, on time, no false positive.
        auditor.goto(f"{base}/scorecard")
        row = auditor.locator("tr[data-department='재무과']")
        assert row.locator("td.raised").inner_text() == "3"
        assert row.locator("td.answered").inner_text() == "1"
        assert row.locator("td.on-time").inner_text() == "1"
        assert row.locator("td.on-time-rate").inner_text() == "100.0%"
        assert row.locator("td.fp-rate").inner_text() == "0.0%"
        # One month of alerts: one bar; the eleven months before the first alert had no data.
        assert auditor.locator("svg.chart rect.bar").count() == 1
        assert auditor.locator("svg.chart:not(.rates) rect.nodata").count() == 11
        shot(auditor, "09-scorecard")
        auditor.goto(f"{base}/rules")
        assert "동일 거래처 중복 지급 의심" in auditor.inner_text("main")
        looks = auditor.locator("section#R-PAY-DUP div.lookalikes")
        assert looks.locator("h3").inner_text() == "정상 업무와의 구별"
        assert looks.locator("dt").inner_text() == "매월 같은 금액의 임차료 지급"
        assert "below the threshold" in looks.locator("dd").inner_text()
        shot(auditor, "10-rules")
        auditor.goto(f"{base}/scorecard?lang=en")
        assert "Department scorecard" in auditor.inner_text("h1")
        shot(auditor, "11-scorecard-en")

        # Evidence with markup is text: no script ran, the tags are shown as written.
        official.goto(f"{base}/alerts/{city.alerts['P-1003']}")
        assert official.title() != "pwned"
        assert "<script>document.title='pwned'</script>" in official.inner_text("table.evidence")
        assert "<b>굵게</b>" in official.inner_text("p.message")
        shot(official, "12-evidence-as-text")

        # Logging out ends the session.
        official.click("header form button")
        official.wait_for_url(f"{base}/login")
        official.goto(f"{base}/alerts")
        assert "/login" in official.url

    # The browser's steps went through the lifecycle: the audit trail is whole and names them.
    engine = store.connect(city.store_url)
    try:
        with engine.connect() as conn:
            assert verify(conn).ok
            rows_ = conn.execute(
                select(store.audit_trail.c.actor, store.audit_trail.c.action)
                .where(store.audit_trail.c.alert_id == alert_id)
                .order_by(store.audit_trail.c.seq)
            ).all()
        assert [tuple(r) for r in rows_][1:] == [
            ("E001", "explain"),
            ("E030", "reject"),
            ("E001", "correct"),
            ("E030", "accept"),
        ]
    finally:
        engine.dispose()
