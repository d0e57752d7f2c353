"""An auditor sees and acts on what their audit office is told of: their own organisation's
alerts, and those the department tree cannot place.

The two local governments of ``test_audit_scope`` (한빛시 and 가람시) in one store, their
department tree in the record history as a run leaves it, and the inbox over real HTTP
(uvicorn); the lifecycle refuses the rest for the command line as well.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from conftest import write_config
from servers import finding
from sqlalchemy import Engine, select
from test_audit_scope import officials_frame, tree
from test_web_helpers import PASSWORD, RULE, WebCity, csrf_of, live_server, login

from naebu.alerts import Directory, raise_alerts
from naebu.alerts.lifecycle import LifecycleError, act
from naebu.alerts.officials import sync_officials
from naebu.alerts.routing_settings import RoutingConfig
from naebu.connectors.coerce import coerce
from naebu.core import datasets
from naebu.engine.loader import load_rules
from naebu.inbox.auth import set_password
from naebu.settings.web import WebSettings
from naebu.store import history
from naebu.store import tables as store

NOW = datetime.now().replace(microsecond=0)


def departments_frame() -> pd.DataFrame:
    """:func:`test_audit_scope.tree` as canonical ``departments`` records."""
    raw = pd.DataFrame([{"department": d, "parent": p} for d, p in tree().items()], dtype="object")
    frame, bad = coerce(
        raw, datasets.get("departments"), {c: c for c in raw.columns}, {}, list(raw.index)
    )
    assert not bad
    return frame


@pytest.fixture
def province(tmp_path: Path) -> WebCity:
    """Two cities' officials, their department tree and an alert of each."""
    config_path = write_config(tmp_path, '[store]\nurl = "sqlite:///store.sqlite"\n')
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "payments.toml").write_text(RULE, encoding="utf-8")
    url = "sqlite:///" + str(tmp_path / "store.sqlite")
    rules = {r.meta.id: r.meta for r in load_rules([tmp_path / "rules"]).rules}
    directory = Directory.from_frame(officials_frame(), routing=RoutingConfig())
    findings = [
        finding("P-1", department="재무과", official_id="E001"),
        finding("P-2", department="가람시 재무과", official_id="G001"),
        finding("P-3", department="청소과", official_id="E020"),  # not in the tree
    ]
    engine = store.connect(url)
    try:
        with engine.begin() as conn:
            sync_officials(conn, directory, now=NOW)
            history.store_whole(conn, "departments", departments_frame(), run_id=1)
            for employee_id in ("E010", "E030", "G030"):
                set_password(conn, employee_id, PASSWORD, now=NOW)
            ids = raise_alerts(conn, findings, rules, directory, run_id=None, now=NOW)
    finally:
        engine.dispose()
    keys = [f.record_key for f in findings]
    return WebCity(tmp_path, config_path, url, dict(zip(keys, ids, strict=True)))


def _status(city: WebCity, alert_id: int) -> str:
    engine = store.connect(city.store_url)
    try:
        with engine.connect() as conn:
            q = select(store.alerts.c.status).where(store.alerts.c.id == alert_id)
            return str(conn.execute(q).scalar_one())
    finally:
        engine.dispose()


def test_an_auditor_sees_their_own_organisations_alerts(province: WebCity) -> None:
    hanbit, garam, unknown = (province.alerts[k] for k in ("P-1", "P-2", "P-3"))
    # E010 is 한빛시's 재무과 manager, listed as compliance staff: they see everything.
    with live_server(province, WebSettings(compliance=("E010",))) as server:
        for auditor, own, other in (("G030", garam, hanbit), ("E030", hanbit, garam)):
            with server.client() as c:
                assert login(c, auditor).status_code == 303
                assert c.get(f"/alerts/{own}").status_code == 200
                assert c.get(f"/alerts/{unknown}").status_code == 200  # every auditor's
                r = c.get(f"/alerts/{other}")
                assert r.status_code == 403, auditor
                page = c.get("/alerts")
                listed = {n for n in (own, unknown, other) if f'href="/alerts/{n}"' in page.text}
                assert listed == {own, unknown}, auditor
                # acting by URL is refused and changes nothing
                r = c.post(
                    f"/alerts/{other}/act",
                    data={"action": "acknowledge", "csrf": csrf_of(page.text)},
                )
                assert r.status_code == 403
                assert _status(province, other) == "raised"
        with server.client() as c:
            login(c, "G030")
            page = c.get("/alerts").text
            assert "<option>가람시 재무과</option>" in page
            assert "<option>재무과</option>" not in page
            card = c.get("/scorecard")
            assert 'data-department="가람시 재무과"' in card.text
            assert 'data-department="재무과"' not in card.text
            assert c.get("/scorecard", params={"department": "재무과"}).status_code == 403
            # reassigning: to 가람시's officials (and those the tree cannot place) only
            alert_page = c.get(f"/alerts/{garam}").text
            assert '<option value="G020">' in alert_page
            assert '<option value="E001">' not in alert_page
        with server.client() as c:
            login(c, "E010")
            assert c.get(f"/alerts/{garam}").status_code == 200


def test_the_lifecycle_keeps_auditors_to_their_organisation(province: WebCity) -> None:
    garam = province.alerts["P-2"]
    engine: Engine = store.connect(province.store_url)
    try:
        # No directory passed: act reads the officials and the tree from the store.
        with pytest.raises(LifecycleError, match="another organisation"), engine.begin() as conn:
            act(conn, garam, "reassign", "G030", "이관", now=NOW, to="E001")
        with engine.begin() as conn:
            act(conn, garam, "reassign", "G030", "이관", now=NOW, to="G020")
            act(conn, garam, "explain", "G020", "정상 지급", now=NOW)
        with pytest.raises(LifecycleError, match="다른 기관"), engine.begin() as conn:
            act(conn, garam, "accept", "E030", "확인", now=NOW)
        with engine.begin() as conn:
            act(conn, garam, "accept", "G030", "확인", now=NOW)
        assert _status(province, garam) == "closed"
    finally:
        engine.dispose()
