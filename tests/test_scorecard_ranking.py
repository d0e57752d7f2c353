"""The scorecard's fair ranking, city totals, per-official rows, months and XLSX (issue 22, item 5
and done-when 3), against an independent recount from the audit trail.

A seeded random walk of lifecycle steps (acknowledge, 조치 완료/소명/오탐, 승인/반려 by the
department manager, 검토 승인/반려 by the audit office, reassignments, deadlines passing) runs over
four departments and their officials, with alerts raised in January and March and none in
February. :func:`recount` then replays the audit trail alone (plus each alert's department and
first deadline as raised) and applies the definitions printed on the page, the shrunk score
with the prior of 10 alerts the page states, and the ranking; the scorecard query, the page
(as the audit office, a department manager and an official), its XLSX download and
``naebu report scorecard`` must all show exactly that. 총무과 has a single alert handled
perfectly (100% everywhere) and must not top the ranking.
"""

from __future__ import annotations

import io
import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from approval_city import BACKENDS, store_url
from conftest import run_cli, write_config
from servers import finding
from sqlalchemy import select
from test_web_helpers import PASSWORD, RULE, WebCity, live_server, login

from naebu.alerts import Directory, raise_alerts
from naebu.alerts.directory import Official
from naebu.alerts.lifecycle import LifecycleError, act
from naebu.alerts.officials import directory_from_store, sync_officials
from naebu.alerts.routing_settings import RoutingConfig
from naebu.alerts.trail import entries, verify
from naebu.engine.loader import load_rules
from naebu.inbox import queries
from naebu.inbox.access import Viewer
from naebu.inbox.auth import set_password
from naebu.store import tables as store

JAN = datetime(2025, 1, 6, 9, 0)  # a Monday
MAR = datetime(2025, 3, 3, 9, 0)  # a Monday; nothing is raised in February
END = datetime(2025, 3, 28, 18, 0)  # when the scorecard is read
MONTHS = [f"2024-{m:02d}" for m in range(4, 13)] + ["2025-01", "2025-02", "2025-03"]
AUDITOR = "E030"
#: department: (manager or None, officials)
DEPARTMENTS: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "재무과": ("E010", ("E001", "E004")),
    "회계과": ("E020", ("E022", "E023")),
    "세무과": (None, ("E040",)),
    "총무과": (None, ("E050",)),
}
NAMES = {
    "E001": "김민수", "E004": "문가영", "E010": "최재원", "E020": "정수진", "E022": "배도윤",
    "E023": "신하늘", "E040": "윤서연", "E050": "장하준", "E030": "한가람",
}  # fmt: skip
#: Alerts raised per department in January and in March (총무과: one, handled perfectly).
RAISED = {"재무과": (6, 5), "회계과": (5, 4), "세무과": (4, 3), "총무과": (0, 1)}
PRIOR = 10  # the page says: pulled toward the city's rate by 10 alerts
KEYS = ("action", "approval", "confirmation", "timely")


def _directory() -> Directory:
    people = [
        Official(AUDITOR, NAMES[AUDITOR], "감사실", "감사관", "감사자", None, None, None, True)
    ]
    for department, (manager, officials) in DEPARTMENTS.items():
        if manager:
            people.append(Official(manager, NAMES[manager], department, "과장", "부서관리자"))
        for e in officials:
            people.append(Official(e, NAMES[e], department, "주무관", "담당자", manager))
    return Directory(people, routing=RoutingConfig())


@dataclass
class Count:
    """Counts recomputed from the trail for a department, an official, a month or the city."""

    raised: int = 0
    answered: int = 0
    approved: int = 0
    confirmed: int = 0
    on_time: int = 0
    overdue: int = 0
    false_positive: int = 0

    def pair(self, key: str) -> tuple[int, int]:
        return {
            "action": (self.answered, self.raised),
            "approval": (self.approved, self.answered),
            "confirmation": (self.confirmed, self.answered),
            "timely": (self.on_time, self.answered + self.overdue),
        }[key]

    def rate(self, key: str) -> float | None:
        n, d = self.pair(key)
        return n / d if d else None

    def fp_rate(self) -> float | None:
        return self.false_positive / self.answered if self.answered else None

    def add(self, other: Count) -> None:
        for k in vars(self):
            setattr(self, k, getattr(self, k) + getattr(other, k))


@dataclass
class Recount:
    departments: dict[str, Count]
    officials: dict[tuple[str, str], Count]  # (department, employee id)
    months: dict[str, Count]
    city: Count
    scores: dict[str, float]
    ranks: dict[str, int]


def recount(trail: list[dict[str, Any]], first: dict[int, tuple[str, datetime]]) -> Recount:
    """Replay the trail: an answer stands until returned or rejected, an approval belongs to
    the answer it followed, a reassignment moves the alert; then the page's definitions."""
    state: dict[int, dict[str, Any]] = {}
    for e in trail:
        a = e["alert_id"]
        if a is None:
            continue
        action = e["action"]
        if action == "raise":
            state[a] = {
                "at": e["at"], "assignee": e["details"]["assignee"], "answer": None,
                "answered": None, "approved": False, "closed": False, "deadline": first[a][1],
            }  # fmt: skip
        s = state[a]
        if action in ("correct", "explain", "false_positive"):
            s["answered"], s["answer"], s["approved"] = e["at"], action, False
        elif action == "approve":
            s["approved"] = True
        elif action in ("return", "reject"):
            s["answered"], s["approved"] = None, False
            s["deadline"] = datetime.fromisoformat(e["details"]["deadline"])
        elif action == "accept":
            s["closed"] = True
        elif action == "reassign":
            s["assignee"] = e["details"]["to_assignee"]
        s["status"] = e["to_status"] or s.get("status")
    departments: dict[str, Count] = {}
    officials: dict[tuple[str, str], Count] = {}
    months: dict[str, Count] = {}
    for a, s in state.items():
        one = Count(raised=1)
        if s["answered"] is not None:
            one.answered = 1
            one.approved = int(s["approved"])
            one.confirmed = int(s["closed"])
            one.on_time = int(s["answered"] <= s["deadline"])
            one.false_positive = int(s["answer"] == "false_positive")
        elif s["status"] in ("raised", "acknowledged", "rejected") and s["deadline"] < END:
            one.overdue = 1
        department = first[a][0]
        departments.setdefault(department, Count()).add(one)
        officials.setdefault((department, s["assignee"]), Count()).add(one)
        months.setdefault(f"{s['at']:%Y-%m}", Count()).add(one)
    city = Count()
    for c in departments.values():
        city.add(c)
    scores = {}
    for name, c in departments.items():
        shrunk = []
        for key in KEYS:
            city_rate = city.rate(key)
            if city_rate is not None:
                n, d = c.pair(key)
                shrunk.append((n + PRIOR * city_rate) / (d + PRIOR))
        scores[name] = sum(shrunk) / len(shrunk)
    ranks = {n: 1 + sum(1 for s in scores.values() if s > scores[n] + 1e-12) for n in scores}
    return Recount(departments, officials, months, city, scores, ranks)


def _build(folder: Path, url: str) -> tuple[WebCity, dict[int, tuple[str, datetime]]]:
    config_path = write_config(folder, f'[store]\nurl = "{url}"\n')
    (folder / "rules").mkdir(exist_ok=True)
    (folder / "rules" / "payments.toml").write_text(RULE, encoding="utf-8")
    rules = {r.meta.id: r.meta for r in load_rules([folder / "rules"]).rules}
    directory = _directory()
    engine = store.connect(url)
    try:
        with engine.begin() as conn:
            sync_officials(conn, directory, now=JAN)
            for employee_id in (AUDITOR, "E010", "E001", "E004"):
                set_password(conn, employee_id, PASSWORD, now=JAN)
        for batch, when in enumerate((JAN, MAR)):
            findings = []
            for department, counts in RAISED.items():
                officials = DEPARTMENTS[department][1]
                for n in range(counts[batch]):
                    findings.append(
                        finding(
                            f"P-{department}-{batch}-{n}",
                            department=department,
                            official_id=officials[n % len(officials)],
                            evidence={"amount": 1_250_000 + n, "vendor_id": f"V-{batch}{n}"},
                        )
                    )
            with engine.begin() as conn:
                raise_alerts(conn, findings, rules, directory, run_id=None, now=when)
            if batch == 0:
                with engine.begin() as conn:
                    _walk(conn, random.Random(2201), JAN, datetime(2025, 1, 31, 17), 60)
        with engine.begin() as conn:
            perfect = conn.execute(
                select(store.alerts.c.id).where(store.alerts.c.department == "총무과")
            ).scalar_one()
            act(conn, perfect, "correct", "E050", now=MAR + timedelta(hours=2), approval=True)
            act(conn, perfect, "accept", AUDITOR, now=MAR + timedelta(hours=3), approval=True)
            _walk(conn, random.Random(2202), MAR, END - timedelta(hours=1), 90)
            rows = conn.execute(select(store.alerts.c.id, store.alerts.c.department))
            # Deadlines as raised (a return or rejection sets a new one, in the trail).
            first = {int(r.id): (str(r.department), FIRST_DEADLINES[int(r.id)]) for r in rows}
    finally:
        engine.dispose()
    return WebCity(folder, config_path, url, {}), first


#: Each alert's deadline as raised, noted by :func:`_walk` before it takes a step.
FIRST_DEADLINES: dict[int, datetime] = {}


def _walk(conn: Any, rng: random.Random, start: datetime, end: datetime, steps: int) -> None:
    """``steps`` random steps between ``start`` and ``end``, each by someone allowed to take it
    (a refused step fails the test), over every alert open to a step but 총무과's."""
    directory = directory_from_store(conn)
    a = store.alerts.c
    for r in conn.execute(select(a.id, a.deadline)):
        FIRST_DEADLINES.setdefault(int(r.id), r.deadline)
    ids = sorted(
        int(i) for i in conn.execute(select(a.id).where(a.department != "총무과")).scalars()
    )
    now = start
    for _ in range(steps):
        now = min(now + timedelta(hours=rng.randint(1, 20)), end)
        alert_id = rng.choice(ids)
        row = conn.execute(select(store.alerts).where(a.id == alert_id)).one()
        manager, officials = DEPARTMENTS[row.department]
        answerers = {
            e["actor"]
            for e in entries(conn, alert_id)
            if e["action"] in ("correct", "explain", "false_positive")
        }
        choice: tuple[str, str, str | None, str | None]
        if row.status in ("raised", "acknowledged", "rejected"):
            action = rng.choice(
                ["correct", "explain", "false_positive", "acknowledge", "reassign", "wait"]
            )
            if action == "wait":  # time passes: a deadline may pass
                continue
            if action == "reassign":
                others = [o for o in officials if o != row.assignee]
                if not others:
                    continue
                choice = ("reassign", manager or AUDITOR, None, others[0])
            elif action == "acknowledge" and row.status == "acknowledged":
                choice = ("correct", row.assignee, None, None)
            else:
                comment = "사유" if action in ("explain", "false_positive") else None
                choice = (action, row.assignee, comment, None)
        elif row.status in ("corrected", "explained", "false_positive"):
            assert manager and manager not in answerers
            choice = rng.choice(
                [("approve", manager, None, None), ("return", manager, "보완", None)]
            )
        elif row.status == "approved":
            choice = rng.choice(
                [("accept", AUDITOR, None, None), ("reject", AUDITOR, "증빙", None)]
            )
        else:
            continue
        action, actor, comment, to = choice
        try:
            act(
                conn, alert_id, action, actor, comment,
                now=now, to=to, directory=directory, approval=True,
            )  # fmt: skip
        except LifecycleError as exc:
            raise AssertionError(f"#{alert_id} {row.status} {action} by {actor}: {exc}") from exc


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v * 100:.1f}%"


def _cells(html: str, css: str) -> str:
    m = re.search(f'<td class="{css}">([^<]*)</td>', html)
    assert m, css
    return m.group(1)


def _check_row(html: str, c: Count) -> None:
    """A page row shows ``c``'s counts and raw rates as the page formats them."""
    for css, value in (("raised", c.raised), ("answered", c.answered), ("approved", c.approved),
                       ("confirmed", c.confirmed), ("on-time", c.on_time),
                       ("overdue", c.overdue)):  # fmt: skip
        assert _cells(html, css) == f"{value:,}", css
    for css, key in (("action-rate", "action"), ("approval-rate", "approval"),
                     ("confirmation-rate", "confirmation"), ("timely-rate", "timely")):  # fmt: skip
        assert _cells(html, css) == _pct(c.rate(key)), css
    assert _cells(html, "fp-rate") == _pct(c.fp_rate())


def _check_readable(page: str) -> None:
    """What an official reads: no None, no column names, no unformatted fraction."""
    text = re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)[^>]*>.*?</\1>", "", page, flags=re.S))
    assert "None" not in text
    for column in ("on_time_rate", "open_due", "false_positive_rate", "raised_by_month",
                   "confirmation_rate", "approval_rate", "action_rate"):  # fmt: skip
        assert column not in text, column
    assert not re.search(r"\b0\.\d{3,}", text), re.search(r"\b0\.\d{3,}", text)


def _sheet_rows(data: bytes, index: int) -> list[list[Any]]:
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data))
    return [list(r) for r in book.worksheets[index].iter_rows(values_only=True)]


def _check_values(cells: list[Any], c: Count) -> None:
    """An XLSX row's counts and rates (from 발생 on) are ``c``'s; an undefined rate is "-"."""
    values = [c.raised, c.answered, c.rate("action"), c.approved, c.rate("approval"),
              c.confirmed, c.rate("confirmation"), c.on_time, c.overdue, c.rate("timely"),
              c.fp_rate()]  # fmt: skip
    for got, want in zip(cells, values, strict=True):
        assert got == ("-" if want is None else pytest.approx(want, abs=1e-12)), cells


def _check_ranking_sheet(rows: list[list[Any]], r: Recount) -> None:
    """The XLSX's ranking sheet: rank, department, score and every count and rate."""
    head = next(i for i, row in enumerate(rows) if row[0] == "순위")
    assert rows[head][:3] == ["순위", "부서", "보정 점수"]
    body = rows[head + 1 :]
    assert [row[1] for row in body][-1] == "기관 전체"
    assert {row[1] for row in body[:-1]} == set(r.departments)
    for row in body:
        c = r.city if row[1] == "기관 전체" else r.departments[row[1]]
        if row[1] != "기관 전체":
            assert row[0] == r.ranks[row[1]]
            assert row[2] == pytest.approx(r.scores[row[1]], abs=1e-12)
        _check_values(row[3:], c)
        assert None not in row


@pytest.mark.parametrize("backend", BACKENDS)
def test_ranking_equals_a_recount_from_the_trail(tmp_path: Path, backend: str) -> None:
    FIRST_DEADLINES.clear()
    with store_url(backend, tmp_path) as url:
        city, first = _build(tmp_path, url)
        engine = store.connect(url)
        try:
            with engine.connect() as conn:
                assert verify(conn).ok
                r = recount(entries(conn), first)
                directory = directory_from_store(conn)
                auditor = Viewer(directory.get(AUDITOR), directory, compliance=False)  # type: ignore[arg-type]
                card = queries.scorecard(conn, auditor, now=END, approval=True)
                chosen = queries.scorecard(
                    conn, auditor, now=END, department="재무과", approval=True
                )
        finally:
            engine.dispose()

        # The walk reached every count somewhere.
        counts = list(r.departments.values())
        for k in ("approved", "confirmed", "overdue", "false_positive"):
            assert any(getattr(c, k) for c in counts), k
        assert any(c.on_time < c.answered for c in counts)
        assert len({(d, e) for d, e in r.officials if d == "재무과"}) == 2

        # The query: ranks, scores, counts, city totals, months.
        assert card.ranked == len(r.departments) == 4
        assert [h.name for h in card.departments] == sorted(
            r.departments, key=lambda n: (r.ranks[n], n)
        )
        for h in card.departments:
            c = r.departments[h.name]
            assert h.rank == r.ranks[h.name]
            assert h.score == pytest.approx(r.scores[h.name], abs=1e-12)
            assert (h.raised, h.answered, h.approved, h.confirmed, h.on_time, h.overdue) == (
                c.raised, c.answered, c.approved, c.confirmed, c.on_time, c.overdue
            )  # fmt: skip
            for key in KEYS:
                assert h.rate(key) == c.rate(key)
        assert (card.city.raised, card.city.answered, card.city.overdue) == (
            r.city.raised, r.city.answered, r.city.overdue
        )  # fmt: skip
        assert card.months == MONTHS
        assert card.month_states == ["before"] * 9 + ["data", "none", "data"]
        for month, h in zip(card.months, card.by_month, strict=True):
            m = r.months.get(month, Count())
            assert (h.raised, h.answered, h.on_time, h.overdue) == (
                m.raised, m.answered, m.on_time, m.overdue
            )  # fmt: skip
        assert card.officials == [] and card.officials_of is None
        assert chosen.officials_of == "재무과"
        expected = {(d, e): c for (d, e), c in r.officials.items() if d == "재무과"}
        assert {h.name for h in chosen.officials} == {f"{NAMES[e]} ({e})" for _, e in expected}
        for h in chosen.officials:
            c = expected[("재무과", h.name[-5:-1])]
            assert (h.raised, h.answered, h.approved, h.confirmed, h.on_time, h.overdue) == (
                c.raised, c.answered, c.approved, c.confirmed, c.on_time, c.overdue
            )  # fmt: skip

        # Fair: 총무과's single alert is 100% on every rate, which a raw rate would rank first;
        # its score stays within 1/11 of the city's average and it does not top the ranking.
        single = r.departments["총무과"]
        assert single.raised == 1 and all(single.rate(k) == 1.0 for k in KEYS)
        assert all((c.rate(k) or 0) <= 1.0 for c in counts for k in KEYS)
        assert r.ranks["총무과"] > 1
        city_mean = sum(r.city.rate(k) or 0 for k in KEYS) / len(KEYS)
        assert abs(r.scores["총무과"] - city_mean) <= 1 / (1 + PRIOR) + 1e-12

        with live_server(city, clock=lambda: END) as server:
            with server.client() as client:
                login(client, AUDITOR)
                page = client.get("/scorecard").text
                page_chosen = client.get("/scorecard", params={"department": "재무과"}).text
                xlsx = client.get("/scorecard", params={"format": "xlsx"})
            with server.client() as client:
                login(client, "E010")
                manager_page = client.get("/scorecard").text
            with server.client() as client:
                login(client, "E001")
                official_page = client.get("/scorecard").text
                official_xlsx = client.get("/scorecard", params={"format": "xlsx"}).content

        # The page as the audit office: every department ranked, the score explained.
        assert f"{PRIOR}건" in page and "보정 점수" in page
        for department, c in r.departments.items():
            row = re.search(f'<tr data-department="{department}">(.*?)</tr>', page, re.S)
            assert row, department
            assert _cells(row.group(1), "rank") == f"{r.ranks[department]}위 / 4"
            assert _cells(row.group(1), "score") == _pct(r.scores[department])
            _check_row(row.group(1), c)
        total = re.search(r'<tr class="city-total">(.*?)</tr>', page, re.S)
        assert total and "기관 전체" in total.group(1)
        _check_row(total.group(1), r.city)
        assert 'class="list officials"' not in page
        for p in (page, page_chosen, manager_page, official_page):
            _check_readable(p)

        # Per-official rows: the audit office (one department chosen) and that department's
        # manager see them; an official does not, nor another department's figures.
        for p in (page_chosen, manager_page):
            for (department, e), c in expected.items():
                row = re.search(f'<tr data-official="{NAMES[e]} \\({e}\\)">(.*?)</tr>', p, re.S)
                assert row, (e, department)
                _check_row(row.group(1), c)
        assert 'data-department="회계과"' not in manager_page
        assert 'class="list officials"' not in official_page
        assert NAMES["E004"] not in official_page
        assert 'data-department="회계과"' not in official_page
        assert "재무과" in official_page and "기관 전체" in official_page

        # The trend: no rate drawn for February or the months before the first alert, and
        # no line joined across February.
        rates_svg = re.search(r'<svg[^>]*class="chart rates".*?</svg>', page, re.S)
        assert rates_svg
        svg = rates_svg.group(0)
        assert len(re.findall(r'class="nodata before"', svg)) == 9
        assert len(re.findall(r'class="nodata none"', svg)) == 1
        assert "<title>2025-02 " not in svg
        for points in re.findall(r'<polyline class="line[^"]*" points="([^"]*)"', svg):
            xs = [float(p.split(",")[0]) for p in points.split()]
            assert all(b - a < 60 for a, b in zip(xs, xs[1:], strict=False)), xs
        dots = re.findall(r"<circle [^>]*><title>(\d{4}-\d{2}) ([^:]+): ([\d.]+)%</title>", svg)
        assert {d[0] for d in dots} == {"2025-01", "2025-03"}
        for month, name, value in dots:
            key = {"조치율": "action", "승인율": "approval", "확인율": "confirmation",
                   "적기 처리율": "timely"}[name]  # fmt: skip
            assert value == f"{r.months[month].rate(key) * 100:.1f}"  # type: ignore[operator]

        # The XLSX from the page: the same figures; the months sheet says which had none.
        assert xlsx.status_code == 200 and xlsx.headers["content-type"].startswith(
            "application/vnd.openxmlformats"
        )
        _check_ranking_sheet(_sheet_rows(xlsx.content, 0), r)
        months_sheet = _sheet_rows(xlsx.content, 1)
        assert months_sheet[0][0] == "월"
        by_month = {row[0]: row for row in months_sheet[1:]}
        assert by_month["2024-06"][1] == "자료 없음"
        assert by_month["2025-02"][1:] == [0, "경보 없음", "경보 없음", "경보 없음", "경보 없음"]
        assert by_month["2025-03"][1] == r.months["2025-03"].raised
        assert by_month["2025-03"][2] == pytest.approx(r.months["2025-03"].rate("action"))
        # An official's download holds their department and the city only, no official rows.
        import openpyxl

        book = openpyxl.load_workbook(io.BytesIO(official_xlsx))
        assert len(book.worksheets) == 2
        depts = [row[1] for row in _sheet_rows(official_xlsx, 0)[3:]]
        assert depts == ["재무과", "기관 전체"]

        # The command line writes the same ranking, with every department's officials.
        out = tmp_path / "scorecard.xlsx"
        result = run_cli(
            "report", "scorecard", "--out", str(out), "--now", "2025-03-28T18:00", cwd=tmp_path
        )
        assert result.returncode == 0, result.stderr
        data = out.read_bytes()
        _check_ranking_sheet(_sheet_rows(data, 0), r)
        people = _sheet_rows(data, 1)[1:]
        assert len(people) == len(r.officials)
        for row in people:
            assert None not in row
            _check_values(row[2:], r.officials[(row[0], row[1][-5:-1])])
