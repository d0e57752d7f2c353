"""A mail link, followed in a real browser, opens the alert (issue 18: mail that works).

A small city's store is served by the web inbox (uvicorn on 127.0.0.1); its new alerts are
mailed with ``[web] base_url`` pointing at that inbox, to a real SMTP server (aiosmtpd). The
official's mail is opened in headless Chromium (Debian's ``/usr/bin/chromium``, driven by
Playwright as in :mod:`test_web_browser`): the HTML part is shown as a mail reader shows it
and the alert's link clicked; the inbox asks the official to sign in and comes back to the
alert, whose page names the alert and its rule's title. The text part's link for the same
alert is the same address, and opens the same page. Without Chromium the test is skipped,
naming it - and fails under ``CI``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from servers import employees_frame, smtp_server
from sqlalchemy import select
from test_web_browser import ARGS, CHROMIUM
from test_web_helpers import PASSWORD, live_server, web_city

from naebu.alerts import Directory, deliver_pending, queue_digests
from naebu.alerts.notify_settings import ChannelConfig, NotifyConfig
from naebu.alerts.routing_settings import RoutingConfig
from naebu.store import tables as store

TITLE = "동일 거래처 중복 지급 의심"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
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


def _mail_digests(store_url: str, base_url: str) -> Any:
    """Queue and send the digests of the store's alerts to a local SMTP server; the mail
    김민수 (E001) received."""
    directory = Directory.from_frame(employees_frame(), routing=RoutingConfig())
    engine = store.connect(store_url)
    now = datetime.now().replace(microsecond=0)
    try:
        with smtp_server() as smtp:
            notify = NotifyConfig(
                channels=[ChannelConfig("mail", smtp.url("{email}"))], base_url=base_url
            )
            with engine.begin() as conn:
                ids = list(conn.execute(select(store.alerts.c.id)).scalars())
                assert queue_digests(conn, ids, directory, notify, run_id=None, now=now)
            report = deliver_pending(engine, notify, directory, now=now)
            assert report.failed == report.retrying == 0
            (mail,) = smtp.to("kim@demo.naebu.local")
    finally:
        engine.dispose()
    return mail


def test_a_link_in_the_mail_opens_the_alert_in_the_browser(browser: Any, tmp_path: Path) -> None:
    city = web_city(tmp_path, now=datetime.now().replace(microsecond=0))
    alert_id = city.alerts["P-1002"]
    with live_server(city) as server:
        mail = _mail_digests(city.store_url, server.url)
        text = mail.get_body(("plain",)).get_content()
        html = mail.get_body(("html",)).get_content()
        link = f"{server.url}/alerts/{alert_id}"
        # Both parts carry the alert's link.
        block = text.split(f"경보 번호: #{alert_id}", 1)[1].split("\n\n", 1)[0]
        (in_text,) = re.findall(r"바로 가기: (\S+)", block)
        assert in_text == link
        assert f'<a href="{link}">' in html

        context = browser.new_context(locale="ko-KR", viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_content(html)  # the HTML part, as a mail reader shows it
        assert TITLE in page.inner_text("table")
        page.click(f'a[href="{link}"]')
        # Not signed in: the inbox asks for it, then comes back to the alert.
        page.wait_for_url(re.compile(r".*/login.*"))
        page.fill("input[name=employee_id]", "E001")
        page.fill("input[name=password]", PASSWORD)
        page.click("form.login button[type=submit]")
        page.wait_for_url(link)
        assert page.inner_text("h1") == f"경보 #{alert_id}: {TITLE}"
        assert "지출 P-1002" in page.inner_text("main")

        # The text part's link, typed or clicked in a text-only reader: the same page.
        other = context.new_page()
        other.goto(in_text)
        assert other.url == link
        assert other.inner_text("h1") == f"경보 #{alert_id}: {TITLE}"
        context.close()
