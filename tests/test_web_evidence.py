"""The inbox's alert page shows evidence as people read it (alerts/evidence_text.py): column
labels, 원, in Korean and English, and the full (unmasked) values to those who may see them."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from test_web_helpers import finding, live_server, login, web_city

NOW = datetime.now().replace(microsecond=0)


def test_the_alert_page_labels_its_evidence(tmp_path: Path) -> None:
    account = finding(
        "P-1009", evidence={"amount": 990000, "payee_account": "123-456789-01", "purpose": None}
    )
    city = web_city(tmp_path, now=NOW, extra_findings=[account])
    with live_server(city) as server, server.client() as c:
        assert login(c, "E001").status_code == 303
        page = c.get(f"/alerts/{city.alerts['P-1001']}").text
        assert "<th>지급액</th><td>1,250,000원</td>" in page
        assert "<th>거래처 코드</th><td>V-77</td>" in page
        assert "vendor_id" not in page
        full = c.get(f"/alerts/{city.alerts['P-1009']}").text
        assert "<th>채주 계좌번호</th><td>123-456789-01</td>" in full  # the inbox is not mail
        assert "<th>적요</th><td>없음</td>" in full and "None" not in full
        en = c.get(f"/alerts/{city.alerts['P-1001']}?lang=en").text
        assert "<th>amount paid</th><td>KRW 1,250,000</td>" in en
