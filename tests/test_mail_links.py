"""Mail that works (issue 18): deadlines people read, and links into the inbox.

Every deadline reads with its weekday and the days left or overdue (``naebu.alerts.deadline_text``);
with ``[web] base_url`` every digest and follow-up links each alert and the inbox
(``naebu.core.links``), and such a link, followed on a running inbox, opens the alert's page.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import pytest
from conftest import write_config
from servers import employees_frame
from sqlalchemy import select
from test_web_helpers import PASSWORD, csrf_of, live_server, web_city

from naebu.alerts import Directory, queue_digests
from naebu.alerts.deadline_text import deadline_text, is_overdue
from naebu.alerts.notices import Notice, render_notices
from naebu.alerts.notify_settings import NotifyConfig
from naebu.alerts.routing_settings import RoutingConfig
from naebu.core.problems import ProblemsError
from naebu.settings.config import load_config
from naebu.settings.web import web_settings_from
from naebu.store import tables as store

NOW = datetime(2025, 3, 10, 9, 0)  # a Monday; the rule gives 3 business days: due Thu 13th


@pytest.mark.parametrize(
    ("today", "ko", "en"),
    [
        (date(2025, 3, 11), "2025-03-14(금) 마감, D-3", "Fri 2025-03-14, 3 days left"),
        (date(2025, 3, 13), "2025-03-14(금) 마감, D-1", "Fri 2025-03-14, 1 day left"),
        (date(2025, 3, 14), "2025-03-14(금) 마감, D-day", "Fri 2025-03-14, due today"),
        (date(2025, 3, 15), "2025-03-14(금) 마감, 기한 1일 지남", "Fri 2025-03-14, 1 day overdue"),
        (date(2025, 3, 17), "2025-03-14(금) 마감, 기한 3일 지남", "Fri 2025-03-14, 3 days overdue"),
    ],
)
def test_a_deadline_reads_with_weekday_and_days_left(today: date, ko: str, en: str) -> None:
    deadline = datetime(2025, 3, 14, 23, 59, 59)  # a deadline is the end of its day
    assert deadline_text(deadline, today, "ko") == ko
    assert deadline_text(deadline, today, "en") == en
    # A trail entry keeps a new deadline as ISO text; it reads the same.
    assert deadline_text(deadline.isoformat(), today, "ko") == ko
    assert is_overdue(deadline, today) == (today > date(2025, 3, 14))


def test_a_missing_deadline_is_a_dash_and_no_clock_gives_the_date_only() -> None:
    assert deadline_text(None, date(2025, 3, 14)) == "-"
    assert deadline_text(date(2025, 3, 14)) == "2025-03-14(금)"
    assert deadline_text(date(2025, 3, 14), None, "en") == "Fri 2025-03-14"


def test_base_url_is_read_from_web_and_checked(tmp_path: Path) -> None:
    body = '[store]\nurl = "sqlite:///s.sqlite"\n[web]\nbase_url = "https://naebu.city.go.kr/"\n'
    config = load_config(write_config(tmp_path, body))
    assert config.notify.base_url == "https://naebu.city.go.kr"
    assert web_settings_from({"base_url": "http://10.0.0.5:8080"}, "x").base_url == (
        "http://10.0.0.5:8080"
    )
    plain = load_config(write_config(tmp_path, '[store]\nurl = "sqlite:///s.sqlite"\n'))
    assert plain.notify.base_url is None


@pytest.mark.parametrize(
    "value",
    ['"ftp://naebu.city.go.kr"', '"naebu.city.go.kr"', '"https://naebu.city.go.kr/?a=1"', "42"],
)
def test_a_wrong_base_url_is_a_located_error(tmp_path: Path, value: str) -> None:
    body = f'[store]\nurl = "sqlite:///s.sqlite"\n[web]\nbase_url = {value}\n'
    with pytest.raises(ProblemsError, match=r"config\.toml:4: web\.base_url: .*https"):
        load_config(write_config(tmp_path, body))
    with pytest.raises(ProblemsError, match=r"web\.toml: web\.base_url"):
        web_settings_from({"base_url": value.strip('"') if '"' in value else 42}, "web.toml")


def _queue(url: str, base_url: str | None, language: str = "ko") -> dict[str, str]:
    """Queue the digests of the store's alerts; each recipient's body."""
    directory = Directory.from_frame(employees_frame(), routing=RoutingConfig())
    notify = NotifyConfig(language=language, base_url=base_url)
    engine = store.connect(url)
    try:
        with engine.begin() as conn:
            ids = list(conn.execute(select(store.alerts.c.id)).scalars())
            queue_digests(conn, ids, directory, notify, run_id=None, now=NOW)
            rows = conn.execute(select(store.outbox.c.recipient, store.outbox.c.body)).all()
            conn.execute(store.deliveries.delete())
            conn.execute(store.outbox.delete())
    finally:
        engine.dispose()
    return {r.recipient: r.body for r in rows}


def test_every_digest_links_each_alert_and_the_inbox(tmp_path: Path) -> None:
    city = web_city(tmp_path, now=NOW)
    bodies = _queue(city.store_url, "https://naebu.city.go.kr")
    assert bodies
    for body in bodies.values():
        shown = {int(n) for n in re.findall(r"경보 번호: #(\d+)", body)}
        linked = {
            int(n)
            for n in re.findall(r"바로 가기: https://naebu\.city\.go\.kr/alerts/(\d+)$", body, re.M)
        }
        assert shown and linked == shown
        assert "※ 내부통제 경보함: https://naebu.city.go.kr/alerts\n" in body
        assert "처리 기한: 2025-03-13(목) 마감, D-3" in body
    english = _queue(city.store_url, "https://naebu.city.go.kr", "en")
    assert all("Open: https://naebu.city.go.kr/alerts/" in b for b in english.values())
    assert all("Deadline: Thu 2025-03-13, 3 days left" in b for b in english.values())
    # Without base_url: no links and nothing broken in their place.
    for body in _queue(city.store_url, None).values():
        assert "http" not in body and "None" not in body and "바로 가기" not in body


def test_follow_ups_link_each_alert_and_the_inbox(tmp_path: Path) -> None:
    city = web_city(tmp_path, now=NOW)
    directory = Directory.from_frame(employees_frame(), routing=RoutingConfig())
    engine = store.connect(city.store_url)
    with engine.connect() as conn:
        alert = dict(conn.execute(select(store.alerts)).first()._mapping)  # type: ignore[union-attr]
    engine.dispose()
    later = datetime(2025, 3, 17, 9, 0)
    _, body = render_notices(
        None, "E010", [Notice("escalate_manager", alert)], directory, "ko", later,
        base_url="https://naebu.city.go.kr",
    )  # fmt: skip
    assert f"바로 가기: https://naebu.city.go.kr/alerts/{alert['id']}\n" in body
    assert "※ 내부통제 경보함: https://naebu.city.go.kr/alerts\n" in body
    assert "처리 기한: 2025-03-13(목) 마감, 기한 4일 지남" in body
    assert "경과 영업일: 2일" in body
    _, plain = render_notices(None, "E010", [Notice("remind", alert)], directory, "ko", NOW)
    assert "http" not in plain and "None" not in plain
    assert "처리 기한: 2025-03-13(목) 마감, D-3" in plain


def test_a_digest_link_opens_the_alert_on_a_running_inbox(tmp_path: Path) -> None:
    city = web_city(tmp_path, now=NOW)
    with live_server(city) as server, server.client() as c:
        body = _queue(city.store_url, server.url)["E001"]
        link = re.search(r"바로 가기: (\S+)", body)
        assert link and link.group(1).startswith(server.url + "/alerts/")
        path = link.group(1)[len(server.url) :]
        # Not signed in: the link leads to the sign-in page, which comes back to the alert.
        first = c.get(path)
        assert first.status_code in (302, 303, 307)
        login_page = c.get(first.headers["location"])
        assert login_page.status_code == 200
        signed_in = c.post(
            "/login",
            data={"employee_id": "E001", "password": PASSWORD,
                  "csrf": csrf_of(login_page.text), "next": path},
        )  # fmt: skip
        assert signed_in.status_code == 303 and signed_in.headers["location"] == path
        page = c.get(path)
        assert page.status_code == 200
        alert_id = path.rsplit("/", 1)[1]
        assert f"#{alert_id}: 동일 거래처 중복 지급 의심" in page.text
        # The server's clock is today's: long past the deadline, which is marked overdue.
        assert re.search(
            r'id="deadline" class="late">2025-03-13\(목\) 마감, 기한 \d+일 지남<', page.text
        )
        listed = c.get("/alerts")
        assert re.search(r'class="late">2025-03-13\(목\) 마감, 기한 \d+일 지남<', listed.text)


def _row(n: int, severity: str, department: str | None, deadline: datetime | None) -> dict:
    return {
        "id": n, "rule_id": "R-PAY-DUP", "title": "동일 거래처 중복 지급 의심", "message": "m",
        "dataset": "payments", "record_key": f"P-{n}", "severity": severity,
        "department": department, "assignee": "E001", "deadline": deadline, "evidence": {},
    }  # fmt: skip


ROWS = [
    _row(1, "high", "재무과", datetime(2025, 3, 19, 23, 59, 59)),
    _row(2, "critical", "회계과", datetime(2025, 3, 14, 23, 59, 59)),
    _row(3, "low", None, None),
    _row(4, "high", "재무과", datetime(2025, 3, 28, 23, 59, 59)),
    _row(5, "medium", "재무과", datetime(2025, 3, 10, 23, 59, 59)),
    _row(6, "high", "재무과", datetime(2025, 3, 19, 23, 59, 59)),
]


def test_a_digest_opens_with_counts_and_the_nearest_deadlines() -> None:
    from naebu.alerts import render_digest

    # Cut to one alert written out: the summary still counts all six.
    _, body = render_digest(None, "E001", ROWS, "ko", max_items=1, today=date(2025, 3, 14))
    summary = body.split("■ 요약\n", 1)[1].split("\n\n", 1)[0]
    assert summary == (
        "   중요도별: 심각 1건, 높음 3건, 보통 1건, 낮음 1건\n"
        "   가장 가까운 처리 기한:\n"
        "     - 2025-03-10(월) 마감, 기한 4일 지남 (1건)\n"
        "     - 2025-03-14(금) 마감, D-day (1건)\n"
        "     - 2025-03-19(수) 마감, D-5 (2건)"
    )
    assert body.index("■ 요약") < body.index("1. [심각]")
    # A manager told of others' alerts also sees them per department.
    roles = {n: ["manager"] for n in range(1, 7)}
    _, managed = render_digest(None, "E010", ROWS, "ko", roles=roles, today=date(2025, 3, 14))
    assert "   부서별: 재무과 4건, 부서 미지정 1건, 회계과 1건\n" in managed
    _, english = render_digest(None, "E010", ROWS, "en", roles=roles, today=date(2025, 3, 14))
    assert "   By severity: critical 1, high 3, medium 1, low 1\n" in english
    assert "     - Wed 2025-03-19, 5 days left (2 alerts)\n" in english
    assert "   By department: 재무과 4, no department 1, 회계과 1\n" in english
    assert "None" not in body + managed + english
