"""Rule quality leaves withdrawn alerts (naebu.alerts.withdrawal) out of its precision and
false-positive figures and counts them in a column of their own."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import run_cli, write_config
from servers import employees_frame, sample_rules
from sqlalchemy import Engine
from test_rule_quality import APRIL, MARCH, _history

from naebu.alerts import Directory
from naebu.alerts.officials import sync_officials
from naebu.alerts.quality import Period, rule_quality
from naebu.alerts.routing_settings import RoutingConfig
from naebu.alerts.withdrawal import withdraw_stale
from naebu.store import tables as store


@pytest.fixture
def directory() -> Directory:
    return Directory.from_frame(employees_frame(), routing=RoutingConfig())


def _withdraw(engine: Engine, keys: list[str]) -> list[int]:
    """Withdraw the payment rule's alerts on ``keys`` as a run with late data would."""
    rule = sample_rules()["R-PAY-DUP"]
    with engine.begin() as conn:
        return withdraw_stale(
            conn, rule, keys, [], ["inspections"], now=APRIL + timedelta(days=2), run_id=None
        )


def test_withdrawn_alerts_are_neither_true_nor_false_positives(
    engine: Engine, directory: Directory
) -> None:
    ids = _history(engine, directory)
    # P-3 was answered as a false positive (data error), P-6 not answered at all.
    assert sorted(_withdraw(engine, ["P-3", "P-6"])) == sorted([ids["P-3"], ids["P-6"]])
    with engine.connect() as conn:
        report = rule_quality(conn, Period.parse("2025-03..2025-04"))
    march, april = report.by_month("R-PAY-DUP")
    assert (march.alerts, march.answered, march.false_positive, march.withdrawn) == (3, 3, 1, 1)
    assert march.fp_rate == pytest.approx(1 / 3)  # was 2 of 4 with the withdrawn one
    assert march.fp_reasons == {"normal_business": 1}
    assert march.withdrawn_ids == [ids["P-3"]] and ids["P-3"] not in march.alert_ids
    assert march.at_stake == 700  # P-1, P-2, P-4: the withdrawn one is at stake no more
    assert (april.alerts, april.answered, april.withdrawn, april.excluded) == (1, 1, 1, 1)
    assert april.at_stake == 1000 and april.withdrawn_ids == [ids["P-6"]]
    total = report.total("R-PAY-DUP")
    assert (total.alerts, total.false_positive, total.withdrawn) == (4, 2, 2)
    assert report.total().withdrawn == 2 and report.total().alerts == 5


def test_naebu_quality_shows_the_withdrawn_column(tmp_path: Path, directory: Directory) -> None:
    write_config(tmp_path, '[store]\nurl = "sqlite:///store.sqlite"\n')
    engine = store.connect("sqlite:///" + str(tmp_path / "store.sqlite"))
    try:
        with engine.begin() as conn:
            sync_officials(conn, directory, now=MARCH)
        ids = _history(engine, directory)
        _withdraw(engine, ["P-3"])
    finally:
        engine.dispose()
    out = run_cli(
        "rules", "quality", "--period", "2025-03..2025-04", "--format", "json", cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    rows = {(r["rule_id"], r["month"]): r for r in json.loads(out.stdout)["rows"]}
    march = rows[("R-PAY-DUP", "2025-03")]
    assert march["withdrawn"] == 1 and march["withdrawn_alert_ids"] == [ids["P-3"]]
    assert march["false_positive_rate"] == pytest.approx(1 / 3, abs=1e-4)
    table = run_cli("rules", "quality", "--period", "2025-03..2025-04", cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    header = table.stdout.splitlines()[0].split()
    line = next(
        x for x in table.stdout.splitlines() if x.startswith("R-PAY-DUP") and "2025-03 " in x
    )
    cells = line.split()
    # rule, month, alerts, answered, confirmed, fp, fp rate, excluded, withdrawn
    assert "withdrawn" in header and cells[2:9] == ["3", "3", "2", "1", "33%", "0", "1"]
