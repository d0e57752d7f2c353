"""Mail that works (issue 18): email carries an HTML table beside the text.

Digests and follow-ups are rendered as text and as HTML (a table of the alerts, the summary on
top), both masked; the outbox keeps both (``body``, ``body_html``). Email services get a
``multipart/alternative`` of exactly that text and that HTML; every other service (a
``json://`` webhook) the text. Nothing is mocked: apprise talks to aiosmtpd and http.server.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from html.parser import HTMLParser
from typing import Any

import pytest
from servers import (
    employees_frame,
    finding,
    mysql_engine,
    outbox_rows,
    queue,
    smtp_server,
    webhook_server,
)
from sqlalchemy import Engine, create_engine, insert, inspect, select, text

from naebu.alerts import Directory, deliver_pending
from naebu.alerts.notices import Notice, render_notices_mail
from naebu.alerts.notify_settings import ChannelConfig, NotifyConfig
from naebu.store import tables as store
from naebu.store.migrations import alembic_config

NOW = datetime(2025, 1, 24, 9, 30)  # a Friday before 설날: 3 business days end on 4 Feb
BASE = "https://naebu.city.go.kr"
HOSTILE = "지출 P-9: <script>alert('x')</script> & <b>굵게</b>"
SENSITIVE = "수취인 주민등록번호 900101-1234567, 연락처 010-1234-5678"


class _Table(HTMLParser):
    """The cells of every table row of an HTML document, as text, and its links."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.links: list[str] = []
        self.tables = 0
        self._cell: list[str] | None = None
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables += 1
        elif tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")
        elif tag == "a":
            self.links.extend(v for k, v in attrs if k == "href" and v)
        elif tag == "script":
            self.scripts += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _parse(html: str) -> _Table:
    table = _Table()
    table.feed(html)
    table.close()
    return table


def _parts(msg: Any) -> dict[str, str]:
    assert msg.get_content_type() == "multipart/alternative", msg.get_content_type()
    return {part.get_content_type(): str(part.get_content()) for part in msg.iter_parts()}


def _lines(text: str) -> list[str]:
    """``text`` by lines, as a mail reader shows it (SMTP sends CRLF line ends)."""
    return [line.rstrip() for line in text.strip().splitlines()]


def _findings() -> list[Any]:
    return [
        finding("P-1"),
        finding("P-9", message=HOSTILE),
        finding("C-3", rule_id="R-CON-SPLIT", severity="low", message=SENSITIVE),
    ]


@pytest.fixture
def directory() -> Directory:
    return Directory.from_frame(employees_frame())


@pytest.mark.parametrize("language", ["ko", "en"])
def test_a_digest_mail_has_the_text_and_an_html_table_of_its_alerts(
    engine: Engine, directory: Directory, language: str
) -> None:
    with smtp_server() as smtp, webhook_server() as hook:
        # One channel, two services: the mail and a webhook.
        url = f"{smtp.url('{email}')} {hook.url()}"
        notify = NotifyConfig(
            channels=[ChannelConfig("mail", url)], base_url=BASE, language=language
        )
        assert queue(engine, directory, notify, _findings(), now=NOW)
        report = deliver_pending(engine, notify, directory, now=NOW)
        rows = {r.recipient: r for r in outbox_rows(engine)}
        assert report.failed == report.retrying == 0 and report.sent == len(rows) >= 1
        (mail,) = smtp.to("kim@demo.naebu.local")
    row = rows["E001"]
    parts = _parts(mail)
    assert set(parts) == {"text/plain", "text/html"}
    # Exactly what the outbox keeps: the text every channel gets, the HTML beside it.
    assert _lines(parts["text/plain"]) == _lines(row.body)
    assert _lines(parts["text/html"]) == _lines(row.body_html)
    # The webhook gets the text (apprise trims its ends), never the HTML.
    assert [p["message"] for p in hook.posts] == [row.body.strip()]

    html = row.body_html
    table = _parse(html)
    assert table.tables == 1 and table.scripts == 0
    assert "<script>" not in html and "&lt;script&gt;" in html
    header, *cells = table.rows
    assert len(cells) == 3  # one row per alert, most severe first
    by_id = {int(r[0].lstrip("#")): r for r in cells}
    with engine.connect() as conn:
        alerts = {a.record_key: a for a in conn.execute(select(store.alerts))}
    if language == "ko":
        assert header == ["번호", "중요도", "규칙", "내용", "부서", "처리 기한", "바로 가기"]
        p1 = by_id[alerts["P-1"].id]
        assert p1[1:3] == ["높음", "동일 거래처 중복 지급 의심 R-PAY-DUP"]
        assert p1[4:] == ["재무과", "2025-02-04(화) 마감, D-11", "경보 보기"]
        assert "<b>굵게</b>" not in html and "&lt;b&gt;굵게&lt;/b&gt;" in html
        assert by_id[alerts["P-9"].id][3].startswith("지출 P-9: <script>alert('x')</script> & ")
        # Masked as the text is.
        assert "900101-1******" in html and "010-****-5678" in html
        assert "1234567" not in html and "1234-5678" not in html
        assert "■ 요약" in row.body and "<h3" in html and "중요도별: 높음 2건, 낮음 1건" in html
    else:
        assert header == ["Alert", "Severity", "Rule", "Finding", "Department", "Deadline", "Open"]
        p1 = by_id[alerts["P-1"].id]
        assert p1[4:] == ["재무과", "Tue 2025-02-04, 11 days left", "Open alert"]
        assert "By severity: high 2, low 1" in html
    assert [r[0] for r in cells] == [f"#{alerts[k].id}" for k in ("P-1", "P-9", "C-3")]
    assert sorted(table.links) == sorted(
        [f"{BASE}/alerts/{a.id}" for a in alerts.values()] + [f"{BASE}/alerts"]
    )
    assert "None" not in html


def test_a_follow_up_mail_lists_its_alerts_in_a_table(engine: Engine, directory: Directory) -> None:
    queue(engine, directory, NotifyConfig(), _findings(), now=NOW)
    with engine.connect() as conn:
        alerts = [dict(a._mapping) for a in conn.execute(select(store.alerts))]
    notices = [Notice("escalate_manager", a) for a in alerts]
    later = datetime(2025, 2, 6, 9, 0)
    subject, body, html = render_notices_mail(
        None, "E010", notices, directory, "ko", later, base_url=BASE, footer="\n#7 abc\n"
    )
    assert subject.startswith("[내부통제] 경보 처리 안내")
    assert body.endswith("\n#7 abc\n")
    table = _parse(html)
    header, *cells = table.rows
    assert header[:7] == ["번호", "중요도", "규칙", "내용", "부서", "처리 기한", "세부 사항"]
    assert len(cells) == 3 and table.scripts == 0 and "&lt;script&gt;" in html
    assert [c[5] for c in cells] == [
        "2025-02-04(화) 마감, 기한 2일 지남",
        "2025-02-04(화) 마감, 기한 2일 지남",
        "2025-02-13(목) 마감, D-7",
    ]
    assert "1234567" not in html and "<pre>#7 abc</pre>" in html
    assert f'href="{BASE}/alerts/{alerts[0]["id"]}"' in html


def test_a_message_without_html_goes_out_as_text_only(engine: Engine, directory: Directory) -> None:
    with smtp_server() as smtp:
        notify = NotifyConfig(channels=[ChannelConfig("mail", smtp.url("{email}"))])
        with engine.begin() as conn:
            conn.execute(
                insert(store.outbox).values(
                    recipient="E001", channel="mail", subject="s", body="본문만", status="pending",
                    attempts=0, next_attempt_at=NOW, created_at=NOW,
                )
            )  # fmt: skip
        assert deliver_pending(engine, notify, directory, now=NOW).sent == 1
        (mail,) = smtp.messages
    assert mail.get_content_type() == "text/plain"
    assert str(mail.get_content()).strip() == "본문만"


def test_migration_0015_adds_body_html_and_keeps_the_queued_messages(tmp_path: Any) -> None:
    from alembic import command

    engine = create_engine(f"sqlite:///{tmp_path / 'old.sqlite'}")
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "0014")
            conn.execute(
                text(
                    "INSERT INTO outbox (recipient, channel, subject, body, status, attempts, "
                    "created_at) VALUES ('E001', 'mail', 's', '옛 본문', 'pending', 0, "
                    "'2025-01-24 09:30:00')"
                )
            )
        assert "body_html" not in {c["name"] for c in inspect(engine).get_columns("outbox")}
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
        with engine.connect() as conn:
            row = conn.execute(select(store.outbox)).one()
        assert (row.body, row.body_html) == ("옛 본문", None)
    finally:
        engine.dispose()


def test_a_large_html_part_is_stored_and_sent_on_mysql(directory: Directory) -> None:
    """MariaDB/MySQL: ``body_html`` is LONGTEXT like ``body`` (TEXT there holds 64 KB)."""
    rows = "\n".join(
        f"<tr><td>#{i}</td><td>중복 지급 의심</td><td>지급번호 P-{i:06d}</td></tr>"
        for i in range(2500)
    )
    html = f"<html><body><table>\n{rows}\n</table></body></html>"
    assert len(html.encode("utf-8")) > 150_000
    marker = secrets.token_hex(4)
    with mysql_engine() as engine, smtp_server() as smtp:
        notify = NotifyConfig(channels=[ChannelConfig("mail", smtp.url("{email}"))])
        with engine.begin() as conn:
            conn.execute(
                insert(store.outbox).values(
                    recipient="E001", channel="mail", subject=marker, body="텍스트 부분",
                    body_html=html, status="pending", attempts=0, next_attempt_at=NOW,
                    created_at=NOW,
                )
            )  # fmt: skip
        with engine.connect() as conn:
            stored = conn.execute(select(store.outbox.c.body_html)).scalar_one()
        same = stored == html  # a bool: a 150 KB diff would take minutes
        assert same
        assert deliver_pending(engine, notify, directory, now=NOW).sent == 1
        (mail,) = smtp.messages
    parts = _parts(mail)
    assert parts["text/plain"].strip() == "텍스트 부분"
    received = parts["text/html"].strip() == html
    assert received
