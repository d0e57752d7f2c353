"""The rule catalog (/rules) shows each rule's lawful look-alikes (정상 업무와의 구별), over
real HTTP: the practice, how the rule tells it apart and the examples that pin it, in Korean
and English; text from a rule file is escaped; a rule with none shows no empty section."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from test_web_helpers import live_server, login, web_city

NOW = datetime.now().replace(microsecond=0)

HOSTILE = """
[[rule]]
id = "R-HOSTILE"
title = "심야 사용"
title_en = "Night use"
type = "match"
dataset = "payments"
severity = "low"
when = "amount > 0"

[[rule.example]]
fires = false
note = "<b>zero</b>"
record = { amount = 0 }

[[rule.example]]
fires = true
record = { amount = 1 }

[[rule.lookalike]]
practice = "<script>alert('x')</script> 당직 식사"
how = "<img src=x onerror=alert(1)> 당직 명단과 대조"
examples = ["<b>zero</b>"]

[[rule]]
id = "R-PLAIN"
title = "구별 설명 없는 규칙"
title_en = "A rule without look-alikes"
type = "match"
dataset = "payments"
severity = "low"
when = "amount > 0"
"""


def _section(html: str, rule_id: str) -> str:
    m = re.search(rf'<section class="rule" id="{rule_id}">(.*?)</section>', html, re.S)
    assert m, f"no section for {rule_id}"
    return m.group(1)


def test_the_catalog_shows_each_rules_lawful_lookalikes(tmp_path: Path) -> None:
    city = web_city(tmp_path, now=NOW)
    (tmp_path / "rules" / "more.toml").write_text(HOSTILE, encoding="utf-8")
    with live_server(city) as server, server.client() as c:
        assert login(c, "E030").status_code == 303
        ko = _section(c.get("/rules").text, "R-PAY-DUP")
        assert "정상 업무와의 구별" in ko
        assert "<dt>매월 같은 금액의 임차료 지급</dt>" in ko
        assert "세금계산서 번호가 달라 같은 지급으로 보지 않습니다." in ko
        assert "<q>below the threshold</q> (경보하지 않음)" in ko
        assert "<q>paid twice in a week</q> (경보함)" in ko

        en = _section(c.get("/rules?lang=en").text, "R-PAY-DUP")
        assert "Lawful look-alikes" in en
        assert "<dt>Monthly rent of the same amount</dt>" in en
        assert "Another invoice number: not the same payment." in en
        assert "<q>below the threshold</q> (does not fire)" in en

        page = c.get("/rules").text
        hostile = _section(page, "R-HOSTILE")
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; 당직 식사" in hostile
        assert "&lt;img src=x onerror=alert(1)&gt;" in hostile
        assert "<q>&lt;b&gt;zero&lt;/b&gt;</q>" in hostile
        # English page, no English text in the rule file: the Korean text stands in
        assert "당직 명단과 대조" in _section(c.get("/rules?lang=en").text, "R-HOSTILE")
        # no look-alikes: no empty heading
        assert "정상 업무와의 구별" not in _section(page, "R-PLAIN")
