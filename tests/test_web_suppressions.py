"""Suppressions in the inbox (issue 22, item 8), over HTTP against a live inbox:

- what is typed is checked exactly as ``naebu suppress add`` checks it: the same bad inputs
  through the command line and the form give the same Korean message (naming the field, with
  a hint), and the form keeps everything typed;
- a good form shows a preview first - how many open alerts it would hide and which, in words
  (no column names, amounts in 원) - and saves nothing; its confirm button saves, and what is
  hidden then is exactly what the preview listed; alerts raised meanwhile refuse the confirm
  with the new preview; "back to the form" keeps what was typed;
- an auditor's preview lists only their organisation's alerts and counts the rest.
"""

from __future__ import annotations

import re
from datetime import datetime
from html import unescape
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import run_cli
from servers import employees_frame, finding, sample_rules
from sqlalchemy import func, select
from test_web_audit_scope import province
from test_web_helpers import WebCity, csrf_of, live_server, login, web_city

from naebu.alerts import Directory, raise_alerts
from naebu.alerts import tallies as tally
from naebu.alerts.routing_settings import RoutingConfig
from naebu.alerts.trail import verify
from naebu.settings.web import WebSettings
from naebu.store import tables as store

__all__ = ["province"]  # the two cities of tests/test_web_audit_scope.py

NOW = datetime(2025, 3, 10, 10, 0)
GOOD = {
    "rule": "R-PAY-DUP",
    "reason": "정기 분할 지급 계약 <연간>",
    "reason_code": "normal_business",
    "until": "2025-12-31",
}
#: Bad inputs, as form fields; each gets the same message on the command line.
BAD: list[dict[str, str]] = [
    {"rule": "R-PAY-DPU", "record_key": "P-1001"},
    {"record_key": ""},
    {"record_key": "P-1001", "column": "vendor_id", "value": "V-77"},
    {"column": "", "value": "V-77"},
    {"column": "vendor_id", "value": ""},
    {"column": "vendr_id", "value": "V-77"},
    {"record_key": "P-1001", "reason": ""},
    {"record_key": "P-1001", "reason_code": "bogus"},
    {"record_key": "P-1001", "until": "2025-13-45"},
    {"record_key": "P-1001", "until": "2025-03-01"},
    {"record_key": "P-1001", "until": ""},
]


@pytest.fixture
def city(tmp_path: Path) -> WebCity:
    extra = [
        finding("P-1003", evidence={"amount": 480000, "vendor_id": "V-77"}),
        finding("P-2002", department="세무과", official_id="E040",
                evidence={"amount": 2200000, "vendor_id": "V-77"}),
    ]  # fmt: skip
    return web_city(tmp_path, now=NOW, extra_findings=extra)


def _cli_args(fields: dict[str, str], author: str) -> list[str]:
    args = [
        "suppress",
        "add",
        "--rule",
        fields["rule"],
        "--as",
        author,
        "--now",
        "2025-03-10T10:00",
    ]
    if fields.get("record_key"):
        args += ["--record", fields["record_key"]]
    if fields.get("column") or fields.get("value"):
        args += ["--where", f"{fields.get('column', '')}={fields.get('value', '')}"]
    args += ["--reason", fields["reason"], "--until", fields["until"]]
    if fields.get("reason_code"):
        args += ["--code", fields["reason_code"]]
    return args


def _error(html: str) -> str:
    """The refusal's message on the suppressions page, without its frame."""
    m = re.search(r'<p class="error" role="alert" id="supp-error">(.*?)</p>', html, re.S)
    assert m, "no refusal on the page"
    text = unescape(m.group(1))
    text = text.removeprefix("처리할 수 없습니다: ")
    return text.split(" 입력한 내용은")[0]


def _value(html: str, name: str) -> str:
    """What the add form's field ``name`` holds."""
    form = html[html.index('id="supp-form"') :]
    m = re.search(rf'<input name="{name}"[^>]*value="([^"]*)"', form) or re.search(
        rf'<input type="date" name="{name}" value="([^"]*)"', form
    )
    if m:
        return unescape(m.group(1))
    sel = re.search(rf'<select name="{name}".*?</select>', form, re.S)
    assert sel, name
    chosen = re.search(r'<option value="([^"]*)" selected>', sel.group(0))
    return unescape(chosen.group(1)) if chosen else ""


def _state(city: WebCity) -> tuple[dict[int, str], int, int]:
    engine = store.connect(city.store_url)
    try:
        with engine.connect() as conn:
            statuses = {
                int(i): str(s)
                for i, s in conn.execute(select(store.alerts.c.id, store.alerts.c.status))
            }
            trail = conn.execute(select(func.count()).select_from(store.audit_trail)).scalar_one()
            supp = conn.execute(select(func.count()).select_from(store.suppressions)).scalar_one()
        return statuses, int(trail), int(supp)
    finally:
        engine.dispose()


def _post(c: httpx.Client, fields: dict[str, str], **more: str) -> httpx.Response:
    token = csrf_of(c.get("/suppressions").text)
    return c.post("/suppressions/add", data={"csrf": token, **fields, **more})


def _listed(html: str) -> list[int]:
    table = re.search(r'<table class="list" id="supp-hidden">.*?</table>', html, re.S)
    return (
        [int(n) for n in re.findall(r'<a href="/alerts/(\d+)">', table.group(0))] if table else []
    )


def test_the_form_and_the_command_line_refuse_alike(city: WebCity) -> None:
    before = _state(city)
    settings = WebSettings(compliance=("E001",))  # a 담당자 who may see the page
    with live_server(city, settings, clock=lambda: NOW) as server, server.client() as c:
        login(c, "E030")
        for bad in BAD:
            fields = {**GOOD, **bad}
            r = _post(c, fields)
            assert r.status_code == 400, (bad, r.text[:300])
            web = _error(r.text)
            cli = run_cli(*_cli_args(fields, "E030"), cwd=city.folder)
            assert cli.returncode == 1 and "Traceback" not in cli.stderr, cli.stderr
            line = cli.stderr.strip().splitlines()[-1]
            assert line.startswith(f"naebu suppress: {web} ("), (line, web)
            # the message names the field and ends with a hint
            assert re.match(r"^(규칙|대상|컬럼|값|사유|사유 코드|만료일): .+ - .+", web), web
            # everything typed is still in the form (the reason escaped, not markup)
            for name in ("record_key", "column", "value", "reason", "until"):
                assert _value(r.text, name) == fields.get(name, ""), (bad, name)
            if fields["reason_code"] in ("normal_business", "other"):
                assert _value(r.text, "reason_code") == fields["reason_code"]
            assert "<연간>" not in r.text
            assert 'aria-invalid="true"' in r.text
        # A CSRF mismatch: refused (403), what was typed still in the form
        fields = {**GOOD, "column": "vendor_id", "value": "V-77"}
        r = c.post("/suppressions/add", data={"csrf": "forged", **fields})
        assert r.status_code == 403 and "요청을 확인할 수 없습니다" in r.text
        assert _value(r.text, "value") == "V-77" and _value(r.text, "reason") == GOOD["reason"]
        # English with lang=en: the English half of the same message
        r = c.post(
            "/suppressions/add?lang=en",
            data={"csrf": csrf_of(c.get("/suppressions").text), **GOOD, "rule": "R-PAY-DPU"},
        )
        assert "rule: unknown rule &#39;R-PAY-DPU&#39; - did you mean" in r.text
    with live_server(city, settings, clock=lambda: NOW) as server, server.client() as c:
        login(c, "E001")
        r = _post(c, {**GOOD, "record_key": "P-1001"})
        assert r.status_code == 400
        web = _error(r.text)
        assert web.startswith("등록자: 경보 예외 처리는 감사자 또는 부서관리자만")
        cli = run_cli(*_cli_args({**GOOD, "record_key": "P-1001"}, "E001"), cwd=city.folder)
        assert cli.stderr.strip().splitlines()[-1].startswith(f"naebu suppress: {web} (")
    assert _state(city) == before  # nothing was saved by any of it


def test_preview_then_confirm_hides_exactly_what_was_listed(city: WebCity) -> None:
    fields = {**GOOD, "column": "vendor_id", "value": "V-77"}
    vendor = sorted(city.alerts[k] for k in ("P-1001", "P-1003", "P-2002"))
    before = _state(city)
    with live_server(city, clock=lambda: NOW) as server, server.client() as c:
        login(c, "E030")
        r = _post(c, fields)
        assert r.status_code == 200
        assert "미리 보기" in r.text and "아직 저장되지 않음" in r.text
        assert re.search(r'id="supp-count">[^<]*<strong>3건</strong>', r.text)
        assert sorted(_listed(r.text)) == vendor
        table = re.search(r'id="supp-hidden">.*?</table>', r.text, re.S).group(0)  # type: ignore[union-attr]
        assert "동일 거래처 중복 지급 의심" in table and "지출 P-1003" in table
        assert "480,000원" in table and "김민수" in table and "윤서연" in table
        for raw in ("vendor_id", "amount", "None", "480000"):
            assert raw not in table, raw
        assert _state(city) == before  # the preview saved nothing

        # "back to the form": everything typed is there
        back = c.post("/suppressions/add", data={"csrf": csrf_of(r.text), **fields, "edit": "1"})
        assert back.status_code == 200 and _value(back.text, "value") == "V-77"
        assert _value(back.text, "reason") == GOOD["reason"]
        assert _state(city) == before

        confirm = re.search(r'name="confirm" value="([^"]+)"', r.text).group(1)  # type: ignore[union-attr]
        hidden_fields = dict(
            re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', r.text)
        )
        hidden_fields = {k: unescape(v) for k, v in hidden_fields.items()}
        assert hidden_fields["confirm"] == confirm and hidden_fields["reason"] == GOOD["reason"]
        r = c.post("/suppressions/add", data=hidden_fields)
        assert r.status_code == 303
        page = c.get(r.headers["location"]).text
        assert "예외 처리를 등록했습니다" in page and "숨긴 경보 3건" in page
    statuses, trail, supp = _state(city)
    assert supp == 1
    assert sorted(i for i, s in statuses.items() if s == "suppressed") == vendor
    assert {i: s for i, s in statuses.items() if i not in vendor} == {
        i: s for i, s in before[0].items() if i not in vendor
    }
    assert trail == before[1] + 1 + len(vendor)  # suppress_add and one entry per alert
    engine = store.connect(city.store_url)
    try:
        with engine.connect() as conn:
            assert verify(conn).ok and tally.stored(conn) == tally.computed(conn)
    finally:
        engine.dispose()


def test_alerts_raised_after_the_preview_refuse_the_confirm(city: WebCity) -> None:
    fields = {**GOOD, "column": "vendor_id", "value": "V-77"}
    with live_server(city, clock=lambda: NOW) as server, server.client() as c:
        login(c, "E030")
        r = _post(c, fields)
        old = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', r.text))
        _raise(city, [finding("P-1009", evidence={"amount": 990000, "vendor_id": "V-77"})])
        before = _state(city)
        r = c.post("/suppressions/add", data={k: unescape(v) for k, v in old.items()})
        assert r.status_code == 409
        assert "미리보기 이후 숨겨질 경보가 바뀌었습니다 (이제 4건)" in r.text
        assert len(_listed(r.text)) == 4 and city.alerts["P-1001"] in _listed(r.text)
        assert _state(city) == before
        new = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', r.text))
        r = c.post("/suppressions/add", data={k: unescape(v) for k, v in new.items()})
        assert r.status_code == 303
    statuses = _state(city)[0]
    assert sum(s == "suppressed" for s in statuses.values()) == 4


def test_an_auditor_sees_only_their_organisations_alerts(province: WebCity) -> None:
    """가람시's auditor (compliance staff) previews a suppression that covers both cities'
    alerts: only 가람시's (and those the tree cannot place) are listed, the rest counted."""
    fields = {**GOOD, "column": "vendor_id", "value": "V-77", "until": "2099-12-31"}
    with live_server(province) as server, server.client() as c:
        login(c, "G030")
        r = _post(c, fields)
        assert r.status_code == 200
        assert re.search(r"<strong>3건</strong>", r.text)
        assert sorted(_listed(r.text)) == sorted(province.alerts[k] for k in ("P-2", "P-3"))
        assert re.search(r'id="supp-elsewhere">[^<]*1건', r.text)
        # nothing to hide: the preview says so
        r = _post(c, {**fields, "column": "", "value": "", "record_key": "P-4040"})
        assert re.search(r"<strong>0건</strong>", r.text) and "앞으로 발견되는 건부터" in r.text
        assert 'id="supp-hidden"' not in r.text


def _raise(city: WebCity, findings: list[Any]) -> None:
    directory = Directory.from_frame(employees_frame(), routing=RoutingConfig())
    engine = store.connect(city.store_url)
    try:
        with engine.begin() as conn:
            raise_alerts(conn, findings, sample_rules(), directory, run_id=None, now=NOW)
    finally:
        engine.dispose()
