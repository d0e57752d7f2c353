"""The inbox says why an alert matters, over real HTTP: the alert page and the rule catalog
show the rule's basis and its paragraph on why the pattern is a red flag (왜 문제인가), in
Korean and English; the text is escaped; a rule without one shows no empty heading."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from test_web_helpers import RULE, live_server, login, web_city

NOW = datetime.now().replace(microsecond=0)

WHY = (
    'basis = "지방회계법 제29조 (지출의 절차), 지방자치단체 회계관리에 관한 훈령"\n'
    'why = "같은 세금계산서로 두 번 지급하면 한 번은 받을 근거가 없는 돈입니다. <b>환수</b>"\n'
    'why_en = "Paying one invoice twice means one payment had no basis."\n'
)


def test_the_alert_page_and_catalog_say_why(tmp_path: Path) -> None:
    city = web_city(tmp_path, now=NOW)
    basis_line = RULE.split("\n")[7] + "\n"
    assert basis_line.startswith("basis = ")
    (tmp_path / "rules" / "payments.toml").write_text(
        RULE.replace(basis_line, WHY), encoding="utf-8"
    )
    with live_server(city) as server, server.client() as c:
        assert login(c, "E001").status_code == 303
        page = c.get(f"/alerts/{city.alerts['P-1001']}").text
        assert "<strong>근거:</strong> 지방회계법 제29조" in page
        assert "<strong>왜 문제인가:</strong> 같은 세금계산서로 두 번 지급하면" in page
        assert "&lt;b&gt;환수&lt;/b&gt;" in page and "<b>환수" not in page
        en = c.get(f"/alerts/{city.alerts['P-1001']}?lang=en").text
        assert "<strong>Why it is a red flag:</strong> Paying one invoice twice" in en
        catalog = c.get("/rules?lang=ko").text
        assert catalog.count("<strong>왜 문제인가:</strong>") == 1


def test_a_rule_without_why_shows_no_heading(tmp_path: Path) -> None:
    city = web_city(tmp_path, now=NOW)
    with live_server(city) as server, server.client() as c:
        assert login(c, "E001").status_code == 303
        page = c.get(f"/alerts/{city.alerts['P-1001']}").text
        assert "<strong>근거:</strong>" in page and "왜 문제인가" not in page


def test_the_catalog_counts_withdrawn_alerts_in_a_column_of_their_own(tmp_path: Path) -> None:
    from naebu.alerts.withdrawal import withdraw_stale
    from naebu.engine.loader import load_rules
    from naebu.store import tables as store

    city = web_city(tmp_path, now=NOW)
    rule = {r.meta.id: r.meta for r in load_rules([tmp_path / "rules"]).rules}["R-PAY-DUP"]
    engine = store.connect(city.store_url)
    try:
        with engine.begin() as conn:
            gone = withdraw_stale(conn, rule, ["P-1001"], [], [], now=NOW, run_id=None)
    finally:
        engine.dispose()
    assert gone == [city.alerts["P-1001"]]
    with live_server(city) as server, server.client() as c:
        assert login(c, "E030").status_code == 303
        ko = c.get("/rules?lang=ko").text
        en = c.get("/rules?lang=en").text
    assert "<th>철회</th>" in ko and "<th>Withdrawn</th>" in en
    # The total row: 2 alerts standing (the withdrawn one is not among them), 1 withdrawn.
    total = ko[ko.index('<tr class="total">') :].split("</tr>")[0]
    cells = [c.split("</td>")[0] for c in total.split("<td>")[1:]]
    assert cells[1] == "2" and cells[9] == "1", cells
