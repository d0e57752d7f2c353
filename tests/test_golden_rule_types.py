"""Golden renderings of one alert of each rule type, Korean and English (issue 18, Done-when 3).

One real rule of the pack per rule type - match (CARD-NIGHT), aggregate
(ATT-OVERTIME-MONTHLY-CAP, a case of many records), duplicate (PAY-DUPLICATE, a set of
duplicates) and sequence (PROP-PROCEEDS-LATE, a sale and its receipts) - is evaluated by the
engine on the demo city's records and raised into a real store at a fixed clock. What people
read of its first alert is compared with the files in ``tests/fixtures/golden/``: the digest's
text and HTML parts, ``naebu alerts show`` and the inbox's alert page (its ``<main>``).

To regenerate after an intended change: ``NAEBU_UPDATE_GOLDEN=1 pytest
tests/test_golden_rule_types.py`` and review the diff.
"""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, run_cli, write_config
from sqlalchemy import select
from test_web_helpers import live_server, login

from naebu.alerts import Directory, queue_digests, raise_alerts
from naebu.alerts.notify_settings import NotifyConfig
from naebu.alerts.officials import sync_officials
from naebu.alerts.routing_settings import RoutingConfig
from naebu.demo import build_frames
from naebu.engine.loader import load_rules
from naebu.engine.registry import EvalContext
from naebu.inbox.auth import set_password
from naebu.store import tables as store

GOLDEN = Path(__file__).parent / "fixtures" / "golden"
NOW = datetime(2026, 3, 16, 9, 0)  # a Monday
RULES = {
    "match": "CARD-NIGHT",
    "aggregate": "ATT-OVERTIME-MONTHLY-CAP",
    "duplicate": "PAY-DUPLICATE",
    "sequence": "PROP-PROCEEDS-LATE",
}
PASSWORD = "golden-test-password-1"
UPDATE = bool(os.environ.get("NAEBU_UPDATE_GOLDEN"))


def _plain(text: str) -> None:
    """A Korean rendering names no column or dataset, and shows no None or raw amount (the
    demo scan's checks, tests/test_demo_scan.py)."""
    from test_demo_scan import _problems

    assert _problems([text]) == []


def _check(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} missing: run with NAEBU_UPDATE_GOLDEN=1 and review it"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("golden-city")
    config_path = write_config(
        folder,
        f'[store]\nurl = "sqlite:///store.sqlite"\n\n[rules]\npaths = [{str(ROOT / "rules")!r}]\n',
    )
    url = "sqlite:///" + str(folder / "store.sqlite")
    frames, _ = build_frames(42, scale=0.2)
    ruleset = load_rules([ROOT / "rules"], root=ROOT)
    rules = {r.meta.id: r for r in ruleset.rules}
    metas = {r.meta.id: r.meta for r in ruleset.rules}
    directory = Directory.from_frame(frames["employees"], routing=RoutingConfig())
    engine = store.connect(url)
    ids: dict[str, int] = {}
    try:
        for kind, rule_id in RULES.items():
            rule = rules[rule_id]
            found = rule.evaluate({d: frames[d] for d in rule.datasets}, EvalContext(now=NOW))
            assert found, rule_id
            first = found[0].case
            with engine.begin() as conn:
                raised = raise_alerts(conn, [f for f in found if f.case == first], metas,
                                      directory, run_id=None, now=NOW)  # fmt: skip
            ids[kind] = raised[0]
        with engine.begin() as conn:
            sync_officials(conn, directory, now=NOW)
            for alert_id in ids.values():
                assignee = conn.execute(
                    select(store.alerts.c.assignee).where(store.alerts.c.id == alert_id)
                ).scalar_one()
                set_password(conn, assignee, PASSWORD, now=NOW)
    finally:
        engine.dispose()
    return {"folder": folder, "config": config_path, "url": url, "ids": ids,
            "directory": directory, "metas": metas}  # fmt: skip


def _digest(city: dict[str, Any], alert_id: int, language: str) -> dict[str, str]:
    """The digest its assignee receives for the one alert (a fresh queue each time)."""
    engine = store.connect(city["url"])
    try:
        with engine.begin() as conn:
            assignee = conn.execute(
                select(store.alerts.c.assignee).where(store.alerts.c.id == alert_id)
            ).scalar_one()
            notify = NotifyConfig(language=language, outbox_file=None)
            queue_digests(conn, [alert_id], city["directory"], notify, run_id=None, now=NOW,
                          rules=city["metas"])  # fmt: skip
            o = store.outbox.c
            row = conn.execute(
                select(store.outbox).where(o.recipient == assignee).order_by(o.id.desc())
            ).first()
            assert row is not None
            # the next language's digest must be queued afresh
            conn.execute(store.deliveries.delete().where(store.deliveries.c.alert_id == alert_id))
        got = dict(row._mapping)
    finally:
        engine.dispose()
    return {"text": got["subject"] + "\n\n" + got["body"], "html": got.get("body_html") or ""}


@pytest.mark.parametrize("kind", list(RULES))
@pytest.mark.parametrize("language", ["ko", "en"])
def test_digest(city: dict[str, Any], kind: str, language: str) -> None:
    digest = _digest(city, city["ids"][kind], language)
    if language == "ko":
        _plain(digest["text"])
    _check(f"{kind}.{language}.digest.txt", digest["text"])
    if digest["html"]:
        _check(f"{kind}.{language}.digest.html", digest["html"])


@pytest.mark.parametrize("kind", list(RULES))
@pytest.mark.parametrize("language", ["ko", "en"])
def test_alerts_show(city: dict[str, Any], kind: str, language: str) -> None:
    extra = [] if language == "ko" else ["--lang", "en"]
    result = run_cli("alerts", "show", str(city["ids"][kind]), "--now", "2026-03-16T09:00",
                     *extra, "--config", str(city["config"]), cwd=city["folder"])  # fmt: skip
    assert result.returncode == 0, result.stderr
    # the trail and deliveries carry the clock of the test run: cut at the trail
    shown = re.split(r"\n  (?:audit trail|처리 이력):", result.stdout)[0] + "\n"
    if language == "ko":
        _plain(shown.split("\n", 1)[1])  # below the heading line of ids (경보 #1 CARD-NIGHT)
    _check(f"{kind}.{language}.show.txt", shown)


@pytest.mark.parametrize("language", ["ko", "en"])
def test_inbox_page(city: dict[str, Any], language: str) -> None:
    from test_web_helpers import WebCity

    web = WebCity(city["folder"], city["config"], city["url"], {})
    with live_server(web, clock=lambda: NOW) as server, server.client() as c:
        for kind, alert_id in city["ids"].items():
            engine = store.connect(city["url"])
            with engine.connect() as conn:
                assignee = conn.execute(
                    select(store.alerts.c.assignee).where(store.alerts.c.id == alert_id)
                ).scalar_one()
            engine.dispose()
            c.cookies.clear()
            assert login(c, assignee, PASSWORD).status_code == 303
            page = c.get(f"/alerts/{alert_id}?lang={language}").text
            main = re.search(r"<main.*?</main>", page, re.S)
            assert main is not None
            text = re.sub(r'name="csrf" value="[^"]+"', 'name="csrf" value="-"', main.group(0))
            _check(f"{kind}.{language}.inbox.html", text + "\n")
