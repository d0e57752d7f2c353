"""The inbox's alert page lists a case's member records (대상 기록 N건) under the same labels
and kinds as its evidence, in Korean and English, unmasked for those who may see the alert."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from test_web_helpers import finding, live_server, login, web_city

NOW = datetime.now().replace(microsecond=0)

MEMBERS = [
    {"payment_id": "P-1010", "paid_on": "2025-10-03", "amount": 30806000,
     "payee_account": "123-456789-01", "official_id": "E001"},
    {"payment_id": "P-1011", "paid_on": "2025-10-06", "amount": 3081000,
     "payee_account": "123-456789-01", "official_id": "E001"},
]  # fmt: skip


def test_the_alert_page_lists_the_records_of_a_case(tmp_path: Path) -> None:
    case = finding(
        "P-1010",
        evidence={
            "amount": 30806000,
            "official_id": "E001",
            "case.members": MEMBERS,
            "case.count": 12,
        },
    )
    city = web_city(tmp_path, now=NOW, extra_findings=[case])
    with live_server(city) as server, server.client() as c:
        assert login(c, "E001").status_code == 303
        page = c.get(f"/alerts/{city.alerts['P-1010']}").text
        assert '<h3 id="members">대상 기록 12건</h3>' in page
        assert "<th>지출결의번호</th><th>지급일</th><th>지급액</th><th>채주 계좌번호</th>" in page
        assert "<th>P-1011</th><td>2025-10-06(월, 추석)</td><td>3,081,000원</td>" in page
        assert "<td>2025-10-03(금, 개천절)</td>" in page
        assert "<td>123-456789-01</td>" in page  # the inbox is not mail
        assert '<p class="more">외 10건</p>' in page
        assert "case.members" not in page and "payment_id" not in page
        # the official is the case's, shown once above, not in every row
        assert "<th>기안자</th><td>김민수 주무관</td>" in page and "<th>기안자</th><th>" not in page
        assert "<dd>지출 · P-1010</dd>" in page  # the record's dataset as officials call it
        en = c.get(f"/alerts/{city.alerts['P-1010']}?lang=en").text
        assert '<h3 id="members">12 records</h3>' in en and "and 10 more" in en
        assert "<td>KRW 3,081,000</td>" in en
        single = c.get(f"/alerts/{city.alerts['P-1001']}").text
        assert 'id="members"' not in single
