"""Nothing typed is lost (issue 22, item 7), over HTTP against a live inbox and in Chromium.

- A refused step (a step the role may not take, a return without a reason, a wrong amount,
  a CSRF mismatch) shows the alert page again with the reason in Korean (English with
  ``?lang=en``) and what the official typed still in the form; nothing is recorded.
- A session that ended while an official wrote a 소명: the POST goes to the login page with
  a Korean message (never "Method Not Allowed"), the draft is kept under a one-time token,
  and after signing in the alert page shows it in the box - not acted on until the button
  is pressed again.
- 404, 405 and 500 are the inbox's own pages, Korean by default, with a link back to the
  inbox; a 500 shows no traceback and logs one.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import func, select
from test_web_browser import browser, shot, sign_in
from test_web_helpers import PASSWORD, WebCity, csrf_of, live_server, login, web_city

from naebu.inbox import queries
from naebu.settings.web import WebSettings
from naebu.store import tables as store

__all__ = ["browser"]  # the Chromium fixture, shared with tests/test_web_browser.py

SOMYEONG = "거래처 요청으로 선금과 잔금을 <나누어> 지급했습니다 & 계약서 제7조 참조."


class Clock:
    """A clock the test moves forward (sessions end after ``session_hours``)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def city(tmp_path: Path) -> WebCity:
    return web_city(tmp_path, now=datetime.now().replace(microsecond=0))


def _trail_size(city: WebCity, alert_id: int) -> tuple[str, int]:
    """The alert's status and how many audit-trail entries the store holds."""
    engine = store.connect(city.store_url)
    try:
        with engine.connect() as conn:
            status = conn.execute(
                select(store.alerts.c.status).where(store.alerts.c.id == alert_id)
            ).scalar_one()
            trail = conn.execute(select(func.count()).select_from(store.audit_trail)).scalar_one()
        return str(status), int(trail)
    finally:
        engine.dispose()


def _box(html: str) -> str:
    """The text in the alert form's comment box."""
    m = re.search(r'<textarea name="comment"[^>]*>(.*?)</textarea>', html, re.S)
    assert m, "the page has no comment box"
    return unescape(m.group(1))


def test_a_refused_step_keeps_what_was_typed(city: WebCity) -> None:
    alert_id = city.alerts["P-1001"]
    before = _trail_size(city, alert_id)
    with live_server(city) as server, server.client() as c:
        login(c, "E001")
        token = csrf_of(c.get(f"/alerts/{alert_id}").text)
        # A step the official may not take (the audit office's): refused, text kept.
        r = c.post(
            f"/alerts/{alert_id}/act",
            data={"action": "reject", "comment": SOMYEONG, "csrf": token},
        )
        assert r.status_code == 400
        assert 'role="alert"' in r.text and "처리할 수 없습니다" in r.text
        assert "입력한 내용은 아래에 그대로 남아 있습니다" in r.text
        assert _box(r.text) == SOMYEONG
        assert "<나누어>" not in r.text  # escaped, not markup
        # A wrong amount: the comment and the amount typed both come back.
        r = c.post(
            f"/alerts/{alert_id}/act",
            data={
                "action": "correct",
                "comment": "환수 완료",
                "recovered": "백만원",
                "csrf": token,
            },
        )
        assert r.status_code == 400
        assert _box(r.text) == "환수 완료"
        assert 'value="백만원"' in r.text
        # A CSRF mismatch: 403 with the Korean reason, and the text is still in the box.
        r = c.post(
            f"/alerts/{alert_id}/act",
            data={"action": "explain", "comment": SOMYEONG, "csrf": "forged"},
        )
        assert r.status_code == 403
        assert "요청을 확인할 수 없습니다" in r.text
        assert _box(r.text) == SOMYEONG
        # In English with lang=en.
        r = c.post(
            f"/alerts/{alert_id}/act?lang=en",
            data={"action": "reject", "comment": "kept text", "csrf": token},
        )
        assert r.status_code == 400
        assert "Refused" in r.text and "What you typed is still below" in r.text
        assert _box(r.text) == "kept text"
        assert _trail_size(city, alert_id) == before  # nothing was recorded
        # The same text with the right step and token goes through.
        r = c.post(
            f"/alerts/{alert_id}/act?lang=ko",
            data={"action": "explain", "comment": SOMYEONG, "csrf": token},
        )
        assert r.status_code == 303
        assert _trail_size(city, alert_id)[0] == "explained"


def test_a_return_without_a_reason_is_refused_in_korean(city: WebCity) -> None:
    alert_id = city.alerts["P-1001"]
    with live_server(city) as server, server.client() as c:
        login(c, "E001")
        token = csrf_of(c.get(f"/alerts/{alert_id}").text)
        r = c.post(
            f"/alerts/{alert_id}/act",
            data={"action": "explain", "comment": "분할 지급", "csrf": token},
        )
        assert r.status_code == 303
    with live_server(city) as server, server.client() as c:
        login(c, "E010")  # the department manager
        token = csrf_of(c.get(f"/alerts/{alert_id}").text)
        r = c.post(
            f"/alerts/{alert_id}/act",
            data={"action": "return", "comment": "  ", "csrf": token, "to": "E001"},
        )
        assert r.status_code == 400
        assert "처리할 수 없습니다" in r.text
        assert re.search(r"[가-힣]", r.text.split('role="alert">', 1)[1].split("</p>")[0])
        assert _trail_size(city, alert_id)[0] == "explained"


def _expired_post(
    c: httpx.Client, clock: Clock, alert_id: int, comment: str
) -> tuple[httpx.Response, str]:
    """Sign in, open the alert, let the session end, then post a 소명; returns the
    response and where it sends the browser."""
    login(c, "E001")
    token = csrf_of(c.get(f"/alerts/{alert_id}").text)
    clock.now += timedelta(hours=9)  # more than session_hours (8) without a request
    r = c.post(
        f"/alerts/{alert_id}/act",
        data={"action": "explain", "comment": comment, "reason": "other", "csrf": token},
    )
    return r, r.headers.get("location", "")


def test_an_expired_session_keeps_the_draft_through_login(city: WebCity) -> None:
    alert_id = city.alerts["P-1001"]
    clock = Clock(datetime.now().replace(microsecond=0))
    before = _trail_size(city, alert_id)
    with live_server(city, WebSettings(), clock=clock) as server, server.client() as c:
        r, location = _expired_post(c, clock, alert_id, SOMYEONG)
        assert r.status_code == 303
        assert location.startswith("/login?")
        nxt = parse_qs(urlsplit(location).query)["next"][0]
        assert nxt.startswith(f"/alerts/{alert_id}?draft=")  # the page, not the POST URL
        assert SOMYEONG not in location  # the text stays on the server, not in the URL
        page = c.get(location)
        assert page.status_code == 200
        assert "로그인 시간이 만료되었습니다" in page.text
        assert "작성하던 내용은 보관했습니다" in page.text
        # A wrong password first: the draft's way back survives it.
        r = c.post(
            "/login",
            data={"employee_id": "E001", "password": "wrong", "csrf": csrf_of(page.text),
                  "next": nxt},
        )  # fmt: skip
        assert r.status_code == 401
        assert f'value="{nxt}"'.replace("&", "&amp;") in r.text
        r = c.post(
            "/login",
            data={"employee_id": "E001", "password": PASSWORD, "csrf": csrf_of(r.text),
                  "next": nxt},
        )  # fmt: skip
        assert r.status_code == 303
        assert r.headers["location"] == nxt
        r = c.get(nxt)
        assert r.status_code == 200
        assert _box(r.text) == SOMYEONG
        assert "작성하던 내용을 되살렸습니다" in r.text
        assert _trail_size(city, alert_id) == before  # never acted on by itself
        # One time only: the same link again shows an empty box.
        assert _box(c.get(nxt).text) == ""
        # Pressing the button now records the 소명.
        r = c.post(
            f"/alerts/{alert_id}/act",
            data={"action": "explain", "comment": SOMYEONG, "csrf": csrf_of(r.text)},
        )
        assert r.status_code == 303
        assert _trail_size(city, alert_id)[0] == "explained"


def test_a_draft_link_is_for_its_own_alert_and_official_only(city: WebCity) -> None:
    alert_id, other = city.alerts["P-1001"], city.alerts["P-1002"]
    clock = Clock(datetime.now().replace(microsecond=0))
    with live_server(city, WebSettings(), clock=clock) as server, server.client() as c:
        _, location = _expired_post(c, clock, alert_id, "다른 경보에 새지 않는 초안")
        draft = parse_qs(urlsplit(parse_qs(urlsplit(location).query)["next"][0]).query)
        login(c, "E001")
        r = c.get(f"/alerts/{other}", params={"draft": draft["draft"][0]})
        assert _box(r.text) == ""
        with server.client() as manager:  # 재무과's manager sees the alert, not the draft
            login(manager, "E010")
            r = manager.get(f"/alerts/{alert_id}", params={"draft": draft["draft"][0]})
            assert r.status_code == 200 and _box(r.text) == ""
        r = c.get(f"/alerts/{alert_id}", params={"draft": draft["draft"][0]})
        assert _box(r.text) == "다른 경보에 새지 않는 초안"


def _assert_error_page(r: httpx.Response, status: int, korean: str) -> None:
    assert r.status_code == status
    assert r.headers["content-type"].startswith("text/html")
    assert '<html lang="ko">' in r.text
    assert korean in r.text
    assert 'href="/alerts"' in r.text  # back to the inbox
    assert "Traceback" not in r.text and "Method Not Allowed" not in r.text


def test_404_405_and_500_are_korean_pages(
    city: WebCity, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    alert_id = city.alerts["P-1001"]

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("secret-internal-detail")

    with live_server(city) as server, server.client() as c:
        _assert_error_page(c.get("/no/such/page"), 404, "요청하신 화면을 찾을 수 없습니다")
        login(c, "E001")
        # Opening (or reloading) the address the alert form posts to.
        _assert_error_page(c.get(f"/alerts/{alert_id}/act"), 405, "이 방식으로는 열 수 없는")
        r = c.get(f"/alerts/{alert_id}/act?lang=en")
        assert r.status_code == 405 and "cannot be opened this way" in r.text
        assert "Back to the inbox" in r.text
        assert "GET" not in r.headers.get("allow", "POST") and "POST" in r.headers["allow"]
        c.get("/alerts?lang=ko")
        monkeypatch.setattr(queries, "get_alert", broken)
        with caplog.at_level(logging.ERROR, logger="naebu.inbox"):
            r = c.get(f"/alerts/{alert_id}")
        _assert_error_page(r, 500, "일시적인 오류가 발생했습니다")
        assert "secret-internal-detail" not in r.text and "RuntimeError" not in r.text
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        logged = [x for x in caplog.records if x.name == "naebu.inbox"]
        # Logged with its traceback: as exc_info, or folded into the message when naebu's log
        # scrubber (naebu/logfilter.py, installed by an earlier command in this process) is on.
        assert logged
        assert logged[0].exc_info is not None or "Traceback" in logged[0].getMessage()
        assert f"/alerts/{alert_id}" in logged[0].getMessage()


def test_expired_session_draft_in_chromium(browser: object, city: WebCity) -> None:
    alert_id = city.alerts["P-1001"]
    clock = Clock(datetime.now().replace(microsecond=0))
    with live_server(city, WebSettings(), clock=clock) as server:
        base = server.url
        page: Any = sign_in(browser, base, "E001", "k01-keep-official")
        page.goto(f"{base}/alerts/{alert_id}")
        # A refused step keeps the text in the box.
        page.fill("form.act textarea[name=comment]", "   ")
        page.click("form.act button[value=explain]")
        page.wait_for_selector("p.error")
        assert "처리할 수 없습니다" in page.inner_text("p.error")
        page.fill("form.act textarea[name=comment]", SOMYEONG)
        clock.now += timedelta(hours=9)  # the official wrote for a long time
        page.click("form.act button[value=explain]")
        page.wait_for_url(re.compile(r".*/login\?.*"))
        assert "작성하던 내용은 보관했습니다" in page.inner_text("#login-notice")
        shot(page, "k02-keep-login-expired")
        page.fill("input[name=employee_id]", "E001")
        page.fill("input[name=password]", PASSWORD)
        page.click("form.login button[type=submit]")
        page.wait_for_url(re.compile(rf".*/alerts/{alert_id}\?draft=.*"))
        assert page.input_value("form.act textarea[name=comment]") == SOMYEONG
        assert page.inner_text("#status") == "발생"  # not acted on
        shot(page, "k03-keep-draft-restored")
        page.click("form.act button[value=explain]")
        page.wait_for_selector("p.done")
        assert page.inner_text("#status") == "소명"
        page.goto(f"{base}/alerts/{alert_id}/act")
        assert "이 방식으로는 열 수 없는" in page.inner_text("main")
        shot(page, "k04-keep-405")
        page.click("#back-to-inbox")
        page.wait_for_url(f"{base}/alerts")
        page.context.close()
