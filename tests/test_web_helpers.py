"""Shared parts of the web inbox tests (no tests here): a small city store and a live server.

:func:`web_city` writes a config, one rule file and a store holding the sample officials
(as a run leaves them), accounts for four of them and a few alerts raised by the real
:func:`alerts.raise_alerts`; :func:`live_server` serves :func:`naebu.inbox.app.create_app` with
uvicorn on 127.0.0.1 (a free port) in a thread - a real HTTP server, no mocks.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from conftest import write_config
from servers import employees_frame, finding, free_port

from naebu.alerts import Directory, raise_alerts
from naebu.alerts.officials import sync_officials
from naebu.alerts.routing_settings import RoutingConfig
from naebu.engine.loader import load_rules
from naebu.inbox.app import create_app
from naebu.inbox.auth import set_password
from naebu.settings.config import load_config
from naebu.settings.web import WebSettings
from naebu.store import tables as store

PASSWORD = "hanbit-inbox-2025"
#: 김민수 (재무과 담당자), 최재원 (재무과 부서관리자), 한가람 (감사실 감사자), 윤서연 (세무과 담당자)
ACCOUNTS = ("E001", "E010", "E030", "E040")

RULE = """
[[rule]]
id = "R-PAY-DUP"
title = "동일 거래처 중복 지급 의심"
title_en = "Possible duplicate payment"
description = "같은 거래처에 같은 금액이 기준 일수 안에 두 번 지급된 지출을 찾습니다."
description_en = "Payments of the same amount to the same vendor twice within the window."
basis = "지방회계법 제29조 (지출의 절차), 지방자치단체 회계관리에 관한 훈령"
type = "match"
dataset = "payments"
severity = "high"
deadline_days = 3
when = "amount >= params.min_amount"
params = { min_amount = 1000000 }

[[rule.example]]
fires = true
note = "paid twice in a week"
record = { amount = 1_250_000 }

[[rule.example]]
fires = false
note = "below the threshold"
record = { amount = 50_000 }

[[rule.lookalike]]
practice = "매월 같은 금액의 임차료 지급"
practice_en = "Monthly rent of the same amount"
how = "세금계산서 번호가 달라 같은 지급으로 보지 않습니다."
how_en = "Another invoice number: not the same payment."
examples = ["below the threshold", "paid twice in a week"]
"""


@dataclass
class WebCity:
    """The test city: its folder, config file, store URL and the alert ids by record key."""

    folder: Path
    config_path: Path
    store_url: str
    alerts: dict[str, int]


def web_city(folder: Path, *, now: datetime, extra_findings: list[Any] = ()) -> WebCity:  # type: ignore[assignment]
    """Write the city into ``folder``: config, rule, store, officials, accounts, alerts."""
    config_path = write_config(folder, '[store]\nurl = "sqlite:///store.sqlite"\n')
    (folder / "rules").mkdir(exist_ok=True)
    (folder / "rules" / "payments.toml").write_text(RULE, encoding="utf-8")
    url = "sqlite:///" + str(folder / "store.sqlite")
    rules = {r.meta.id: r.meta for r in load_rules([folder / "rules"]).rules}
    directory = Directory.from_frame(employees_frame(), routing=RoutingConfig())
    engine = store.connect(url)
    try:
        with engine.begin() as conn:
            sync_officials(conn, directory, now=now)
            for employee_id in ACCOUNTS:
                set_password(conn, employee_id, PASSWORD, now=now)
            findings = [
                finding("P-1001", evidence={"amount": 1250000, "vendor_id": "V-77"}),
                finding("P-1002", evidence={"amount": 3300000, "vendor_id": "V-12"}),
                finding("P-2001", department="세무과", official_id="E040",
                        evidence={"amount": 2100000, "vendor_id": "V-90"}),
                *extra_findings,
            ]  # fmt: skip
            ids = raise_alerts(conn, findings, rules, directory, run_id=None, now=now)
        by_key = dict(zip([f.record_key for f in findings], ids, strict=True))
    finally:
        engine.dispose()
    return WebCity(folder, config_path, url, by_key)


@dataclass
class LiveServer:
    """A running inbox: its base URL."""

    url: str

    def client(self) -> httpx.Client:
        """An HTTP client for this server that keeps cookies and does not follow redirects."""
        return httpx.Client(base_url=self.url, follow_redirects=False, timeout=30)


@contextmanager
def live_server(
    city: WebCity, settings: WebSettings | None = None, *, clock: Any = None
) -> Iterator[LiveServer]:
    """Serve the inbox of ``city`` with uvicorn on 127.0.0.1 in a thread until the block ends."""
    config = load_config(city.config_path)
    engine = store.connect(config.store_url)
    app = create_app(config, engine, settings or WebSettings(), clock=clock)
    port = free_port()
    server = uvicorn.Server(
        # As naebu serve runs it: uvicorn's own X-Forwarded-For handling off (the inbox's
        # [web] client_address_header decides).
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="off",
            proxy_headers=False,
        )  # fmt: skip
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the inbox server did not start")
        time.sleep(0.05)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        engine.dispose()


def csrf_of(html: str) -> str:
    """The CSRF token of the first form in ``html``."""
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "the page has no CSRF token"
    return m.group(1)


def login(
    client: httpx.Client,
    employee_id: str,
    password: str = PASSWORD,
    *,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """Sign in through the login form, as a browser does (CSRF cookie and field); ``headers``
    go with both requests (what a reverse proxy adds)."""
    page = client.get("/login", headers=headers)
    return client.post(
        "/login",
        data={"employee_id": employee_id, "password": password, "csrf": csrf_of(page.text)},
        headers=headers,
    )
