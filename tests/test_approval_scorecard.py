"""The scorecard's 조치율, 승인율, 확인율 and 적기 처리율 after a seeded random walk of lifecycle
steps, against an independent recomputation from the audit trail (issue 22, done-when 3), as
:func:`naebu.inbox.queries.scorecard` computes them and as the live /scorecard page prints
them. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from approval_city import BACKENDS, build_city, store_url
from sqlalchemy import select
from test_web_helpers import live_server, login

from naebu.alerts.lifecycle import LifecycleError, act
from naebu.alerts.officials import directory_from_store
from naebu.alerts.tallies import computed, stored
from naebu.alerts.trail import entries, verify
from naebu.inbox import queries
from naebu.inbox.access import Viewer
from naebu.store import tables as store

T0 = datetime(2025, 3, 3, 9, 0)  # a Monday
END = datetime(2025, 3, 28, 18, 0)  # when the scorecard is read: some alerts overdue
MANAGERS = {"재무과": ("E010",), "회계과": ("E020",), "세무과": ()}
AUDITOR = "E030"


@dataclass
class Recount:
    """One department's counts, recomputed from the trail alone."""

    raised: int = 0
    answered: int = 0
    approved: int = 0
    confirmed: int = 0
    on_time: int = 0
    overdue: int = 0
    rates: dict[str, float | None] = field(default_factory=dict)


def _share(n: int, d: int) -> float | None:
    return n / d if d else None


def recount(
    trail: list[dict[str, Any]], alerts: dict[int, tuple[str, datetime]]
) -> dict[str, Recount]:
    """Per department, from the trail entries and each alert's department and first deadline:
    replays every step (an answer stands until returned or rejected; an approval belongs to
    the answer it followed) and applies the definitions printed on the scorecard page."""
    state: dict[int, dict[str, Any]] = {}
    for e in trail:
        a = e["alert_id"]
        if a is None:
            continue
        s = state.setdefault(
            a, {"answered": None, "approved": False, "closed": False, "deadline": alerts[a][1]}
        )
        action = e["action"]
        if action in ("correct", "explain", "false_positive"):
            s["answered"], s["approved"] = e["at"], False
        elif action == "approve":
            s["approved"] = True
        elif action in ("return", "reject"):
            s["answered"], s["approved"] = None, False
            s["deadline"] = datetime.fromisoformat(e["details"]["deadline"])
        elif action == "accept":
            s["closed"] = True
        if e["to_status"]:
            s["status"] = e["to_status"]
    out: dict[str, Recount] = {}
    for a, s in state.items():
        r = out.setdefault(alerts[a][0], Recount())
        r.raised += 1
        if s["answered"] is not None:
            r.answered += 1
            r.approved += s["approved"]
            r.confirmed += s["closed"]
            r.on_time += s["answered"] <= s["deadline"]
        elif s["status"] in ("raised", "acknowledged", "rejected") and s["deadline"] < END:
            r.overdue += 1
    for r in out.values():
        r.rates = {
            "action": _share(r.answered, r.raised),
            "approval": _share(r.approved, r.answered),
            "confirmation": _share(r.confirmed, r.answered),
            "timely": _share(r.on_time, r.answered + r.overdue),
        }
    return out


def _walk(conn: Any, rng: random.Random, ids: list[int], steps: int) -> int:
    """``steps`` random lifecycle steps, each by someone allowed to take it; returns how many
    were taken (a step the walk picks is always allowed, so all of them)."""
    directory = directory_from_store(conn)
    now, taken = T0, 0
    for _ in range(steps):
        now += timedelta(hours=rng.randint(1, 30))
        now = min(now, END - timedelta(hours=1))
        alert_id = rng.choice(ids)
        row = conn.execute(select(store.alerts).where(store.alerts.c.id == alert_id)).one()
        answerers = {
            e["actor"]
            for e in entries(conn, alert_id)
            if e["action"] in ("correct", "explain", "false_positive")
        }
        if row.status in ("raised", "acknowledged", "rejected"):
            action = rng.choice(["correct", "explain", "false_positive", "acknowledge"])
            if action == "acknowledge" and row.status == "acknowledged":
                action = "correct"
            choice = (action, row.assignee, "사유" if action != "correct" else None)
        elif row.status in ("corrected", "explained", "false_positive"):
            manager = [m for m in MANAGERS[row.department] if m not in answerers][0]
            choice = rng.choice([("approve", manager, None), ("return", manager, "보완 필요")])
        elif row.status == "approved":
            choice = rng.choice([("accept", AUDITOR, None), ("reject", AUDITOR, "증빙 부족")])
        else:
            continue
        action, actor, comment = choice
        try:
            act(conn, alert_id, action, actor, comment, now=now, directory=directory, approval=True)
        except LifecycleError as exc:  # the walk only picks allowed steps
            raise AssertionError(f"#{alert_id} {row.status} {action} by {actor}: {exc}") from exc
        taken += 1
    return taken


@pytest.mark.parametrize("backend", BACKENDS)
def test_scorecard_rates_equal_a_recount_from_the_trail(tmp_path: Path, backend: str) -> None:
    with store_url(backend, tmp_path) as url:
        city = build_city(tmp_path, url, now=T0, copies=8)
        engine = store.connect(url)
        try:
            with engine.begin() as conn:
                rows = conn.execute(
                    select(store.alerts.c.id, store.alerts.c.department, store.alerts.c.deadline)
                )
                first = {int(r.id): (str(r.department), r.deadline) for r in rows}
            with engine.begin() as conn:
                assert _walk(conn, random.Random(22), sorted(first), 110) > 80
            with engine.connect() as conn:
                assert verify(conn).ok
                assert stored(conn) == computed(conn)
                expected = recount(entries(conn), first)
                directory = directory_from_store(conn)
                viewer = Viewer(directory.get(AUDITOR), directory, compliance=False)  # type: ignore[arg-type]
                card = queries.scorecard(conn, viewer, now=END)
        finally:
            engine.dispose()
        assert {s.department for s in card.departments} == set(expected) == set(MANAGERS)
        # The walk reached every count: approvals, confirmations, late answers, overdue alerts.
        counts = list(expected.values())
        assert all(any(getattr(r, k) for r in counts) for k in ("approved", "confirmed", "overdue"))
        assert any(r.on_time < r.answered for r in counts)
        for s in card.departments:
            r = expected[s.department]
            assert (s.raised, s.answered, s.approved, s.confirmed, s.on_time, s.overdue) == (
                r.raised, r.answered, r.approved, r.confirmed, r.on_time, r.overdue,
            ), s.department  # fmt: skip
            assert s.action_rate == r.rates["action"]
            assert s.approval_rate == r.rates["approval"]
            assert s.confirmation_rate == r.rates["confirmation"]
            assert s.on_time_rate == r.rates["timely"]

        # The page prints the same rates, each defined on it.
        with live_server(city, clock=lambda: END) as server, server.client() as client:
            login(client, AUDITOR)
            page = client.get("/scorecard").text
        for name in ("조치율 =", "승인율 =", "확인율 =", "적기 처리율 ="):
            assert name in page
        for department, r in expected.items():
            row = re.search(f'<tr data-department="{department}">(.*?)</tr>', page, re.S)
            assert row, department
            for css, key in (("action-rate", "action"), ("approval-rate", "approval"),
                             ("confirmation-rate", "confirmation"), ("timely-rate", "timely")):  # fmt: skip
                shown = re.search(f'<td class="{css}">([^<]*)</td>', row.group(1))
                value = r.rates[key]
                assert shown and shown.group(1) == ("-" if value is None else f"{value * 100:.1f}%")
