"""The web inbox's guards, over real HTTP against a live server (uvicorn on 127.0.0.1).

- who sees what: another department's alert by URL is 403, for an official and a manager;
  the auditor sees everything; suppressions are for compliance staff only;
- CSRF: a form post without the session's token (or with another's) is refused and changes
  nothing; so is a login without its double-submit cookie;
- escaping: evidence holding ``<script>`` comes back as text;
- sessions: HttpOnly and SameSite cookies, opaque tokens stored hashed, logout ends them;
- login rate limiting per account and per address; the SSO header only when configured and
  only from a trusted proxy; lifecycle refusals shown in Korean and English;
- ``naebu users set-password`` as a user runs it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from servers import finding
from sqlalchemy import func, select
from test_web_helpers import PASSWORD, WebCity, csrf_of, live_server, login, web_city

from naebu.settings.web import WebSettings
from naebu.store import tables as store
from naebu.store.web_tables import web_sessions

NOW = datetime.now().replace(microsecond=0)


@pytest.fixture
def city(tmp_path: Path) -> WebCity:
    hostile = finding(
        "P-1003",
        evidence={"amount": 1500000, "memo": "<script>alert('x')</script>"},
        message='<img src=x onerror="alert(1)"> 지출',
    )
    return web_city(tmp_path, now=NOW, extra_findings=[hostile])


def _status(city: WebCity, alert_id: int) -> tuple[str, int]:
    engine = store.connect(city.store_url)
    try:
        with engine.connect() as conn:
            status = conn.execute(
                select(store.alerts.c.status).where(store.alerts.c.id == alert_id)
            ).scalar_one()
            trail = conn.execute(select(func.count()).select_from(store.audit_trail)).scalar_one()
        return status, trail
    finally:
        engine.dispose()


def test_another_departments_alert_is_403(city: WebCity) -> None:
    finance, tax = city.alerts["P-1001"], city.alerts["P-2001"]
    with live_server(city) as server:
        for employee_id, forbidden, allowed in (
            ("E001", tax, finance),  # 재무과 담당자
            ("E010", tax, finance),  # 재무과 부서관리자
            ("E040", finance, tax),  # 세무과 담당자
        ):
            with server.client() as c:
                assert login(c, employee_id).status_code == 303
                r = c.get(f"/alerts/{forbidden}")
                assert r.status_code == 403, employee_id
                assert "권한이 없습니다" in r.text and "1250000" not in r.text
                assert c.get(f"/alerts/{allowed}").status_code == 200
                # acting by URL is refused the same way, and changes nothing
                before = _status(city, forbidden)
                page = c.get("/alerts")
                r = c.post(
                    f"/alerts/{forbidden}/act",
                    data={"action": "acknowledge", "csrf": csrf_of(page.text)},
                )
                assert r.status_code == 403
                assert _status(city, forbidden) == before
                # the list shows only what they may see
                assert f'href="/alerts/{forbidden}"' not in page.text
        with server.client() as c:
            login(c, "E030")  # 감사자: everything
            assert c.get(f"/alerts/{tax}").status_code == 200
            assert c.get(f"/alerts/{finance}").status_code == 200
            assert c.get("/alerts/99999").status_code == 404


def test_a_form_without_the_csrf_token_is_refused(city: WebCity) -> None:
    alert_id = city.alerts["P-1001"]
    before = _status(city, alert_id)
    with live_server(city) as server, server.client() as c:
        login(c, "E001")
        for data in (
            {"action": "acknowledge"},  # no token
            {"action": "acknowledge", "csrf": ""},
            {"action": "acknowledge", "csrf": "forged-token-of-another-session"},
        ):
            r = c.post(f"/alerts/{alert_id}/act", data=data)
            assert r.status_code == 403
            assert "CSRF" in r.text
        assert _status(city, alert_id) == before
        r = c.post("/logout", data={})
        assert r.status_code == 403  # logging out needs the token too
        assert c.get("/alerts").status_code == 200  # still signed in
        # with the token, the same post works and is audited
        token = csrf_of(c.get(f"/alerts/{alert_id}").text)
        r = c.post(f"/alerts/{alert_id}/act", data={"action": "acknowledge", "csrf": token})
        assert r.status_code == 303
        assert _status(city, alert_id) == ("acknowledged", before[1] + 1)
    with live_server(city) as server, server.client() as c:
        # a login post without the login form's cookie (a cross-site login) is refused
        r = c.post("/login", data={"employee_id": "E001", "password": PASSWORD, "csrf": "x"})
        assert r.status_code == 403
        assert "naebu_session" not in r.cookies


def test_evidence_with_script_is_shown_as_text(city: WebCity) -> None:
    with live_server(city) as server, server.client() as c:
        login(c, "E001")
        r = c.get(f"/alerts/{city.alerts['P-1003']}")
        assert r.status_code == 200
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in r.text
        assert "<script>" not in r.text
        assert "<img" not in r.text and "&lt;img src=x" in r.text
        assert "script-src" not in r.headers["content-security-policy"]  # no script allowed
        assert r.headers["x-frame-options"] == "DENY"


def test_session_cookie_is_httponly_samesite_and_opaque(city: WebCity) -> None:
    with live_server(city) as server, server.client() as c:
        r = login(c, "E001")
        cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("naebu_session="))
        assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
        token = c.cookies["naebu_session"]
        engine = store.connect(city.store_url)
        try:
            with engine.connect() as conn:
                stored = conn.execute(select(web_sessions.c.token_hash)).scalars().all()
        finally:
            engine.dispose()
        assert token not in stored and len(stored) == 1  # only the hash is kept
        c.post("/logout", data={"csrf": csrf_of(c.get("/alerts").text)})
        c.cookies.set("naebu_session", token)  # replaying the old cookie
        assert c.get("/alerts").status_code == 303


def test_login_is_rate_limited_per_account_and_address(city: WebCity) -> None:
    settings = WebSettings(max_failures_per_account=3, max_failures_per_address=6)
    with live_server(city, settings) as server, server.client() as c:
        for _ in range(3):
            assert login(c, "E001", "wrong-password-1").status_code == 401
        r = login(c, "E001")  # the right password, but the account is locked now
        assert r.status_code == 429 and "너무 많습니다" in r.text
        assert login(c, "E040").status_code == 303  # another account still signs in
        for _ in range(3):
            login(c, "E010", "wrong-password-2")
        # six failures from this address: everyone from here waits
        assert login(c, "E030").status_code == 429


def test_sso_header_only_when_enabled_and_from_a_trusted_proxy(city: WebCity) -> None:
    header = {"X-Remote-User": "E030"}
    with live_server(city) as server, server.client() as c:
        assert c.get("/alerts", headers=header).status_code == 303  # off by default
    enabled = WebSettings(trusted_user_header="X-Remote-User")
    with live_server(city, enabled) as server, server.client() as c:
        r = c.get("/alerts", headers=header)
        assert r.status_code == 200 and "한가람" in r.text
        assert c.get("/alerts", headers={"X-Remote-User": "E999"}).status_code == 303
    elsewhere = WebSettings(trusted_user_header="X-Remote-User", trusted_proxies=("10.0.0.5",))
    with live_server(city, elsewhere) as server, server.client() as c:
        assert c.get("/alerts", headers=header).status_code == 303


def test_refused_steps_and_suppressions(city: WebCity) -> None:
    alert_id = city.alerts["P-1002"]
    with live_server(city) as server, server.client() as c:
        login(c, "E001")
        token = csrf_of(c.get(f"/alerts/{alert_id}").text)
        r = c.post(f"/alerts/{alert_id}/act", data={"action": "explain", "csrf": token})
        assert r.status_code == 400 and "사유(의견)를 적어야 합니다" in r.text
        r = c.post(f"/alerts/{alert_id}/act?lang=en", data={"action": "accept", "csrf": token})
        assert r.status_code == 400 and "cannot accept" in r.text
        assert c.get("/suppressions").status_code == 403  # not compliance staff
    with live_server(city) as server, server.client() as c:
        login(c, "E030")
        token = csrf_of(c.get("/suppressions").text)
        fields = {
            "csrf": token,
            "rule": "R-PAY-DUP",
            "column": "vendor_id",
            "value": "V-77",
            "reason": "정기 분할 지급 계약 (2025-12-31까지)",
            "until": "2099-12-31",
        }
        # The form shows a preview first (nothing saved); its confirm button saves.
        r = c.post("/suppressions/add", data=fields)
        assert r.status_code == 200 and "미리 보기" in r.text
        confirm = re.search(r'name="confirm" value="([^"]+)"', r.text)
        assert confirm
        r = c.post("/suppressions/add", data={**fields, "confirm": confirm.group(1)})
        assert r.status_code == 303
        page = c.get("/suppressions").text
        assert "vendor_id = V-77" in page and "적용 중" in page


def test_users_set_password_from_the_command_line(city: WebCity) -> None:
    def users(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "naebu.cli", "users", *args, "--config", str(city.config_path)],
            input=stdin, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    r = users("set-password", "E020", "--password-stdin", stdin="정수진의-비밀번호-2025\n")
    assert r.returncode == 0 and "account E020 created" in r.stdout
    r = users("set-password", "E021", "--password-stdin", stdin="whatever-long-pw\n")
    assert r.returncode == 1 and "not active" in r.stderr and "Traceback" not in r.stderr
    r = users("set-password", "E777", "--password-stdin", stdin="whatever-long-pw\n")
    assert r.returncode == 1 and "not in the officials directory" in r.stderr
    r = users("set-password", "E020", "--password-stdin", stdin="short\n")
    assert r.returncode == 1 and "at least 10 characters" in r.stderr
    r = users("list")
    assert "E020\t정수진\t회계과\t부서관리자\tactive" in r.stdout
    with live_server(city) as server, server.client() as c:
        assert login(c, "E020", "정수진의-비밀번호-2025").status_code == 303
    assert users("disable", "E020").returncode == 0
    with live_server(city) as server, server.client() as c:
        assert login(c, "E020", "정수진의-비밀번호-2025").status_code == 401
