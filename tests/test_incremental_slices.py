"""Incremental equals full: a city delivered in slices, late records included, ends with
exactly the open alerts of one run over everything (issue 21, item 5).

The demo city (scale 0.2) is delivered in 20 slices (:mod:`slices`), each followed by a run
whose clock is the slice's end, as a daemon sees it. Contracts come signed first and inspected
later, their inspection keyed in up to two days after it: a payment made on the inspection day
can arrive before the inspection and be flagged "paid before inspection" (PAY-BEFORE-INSPECTION)
until the inspection arrives. Then the alert is withdrawn (naebu.alerts.withdrawal): the
official is told why, the audit trail says so, and it leaves the to-do and the scorecard.

A second store runs once over the whole city with the last slice's clock. The open alerts of
both (rule and the records each holds) must be the same.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT, run_cli
from sqlalchemy import select

from bench.sliced import open_cases
from bench.slices import Slicer
from naebu import pipeline
from naebu.alerts import tallies
from naebu.alerts.lifecycle import OPEN
from naebu.alerts.trail import verify
from naebu.pipeline.summary_text import summary_lines
from naebu.settings.config import Config, load_config
from naebu.store import tables as store

SLICES = 20
#: Column names of the rule's datasets that a reason must not show an official.
COLUMN_WORDS = re.compile(r"[A-Za-z_]{3,}")


@dataclass
class Cities:
    sliced: Config
    full: Config
    withdrawn: int


def _city(folder: Path) -> Config:
    folder.mkdir()
    shutil.copy(ROOT / "config.toml", folder / "config.toml")
    shutil.copytree(ROOT / "rules", folder / "rules")
    assert run_cli("demo", "--scale", "0.2", cwd=folder).returncode == 0
    return load_config(folder / "config.toml")


@pytest.fixture(scope="module")
def cities(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cities]:
    root = tmp_path_factory.mktemp("slices")
    sliced, full = _city(root / "sliced"), _city(root / "full")
    slicer = Slicer.take(sliced, SLICES)
    assert len(slicer.ends) >= SLICES - 1
    withdrawn = 0
    for end in slicer.ends:
        slicer.deliver(end)
        summary = pipeline.run_once(sliced, now=end, deliver=False)
        assert not summary.rule_errors
        withdrawn += sum(summary.withdrawn.values())
        if summary.withdrawn:
            text = "\n".join(summary_lines(summary, {}))
            assert "withdrawn alerts (late records took the condition away): " in text
    pipeline.run_once(full, now=slicer.ends[-1], deliver=False)
    yield Cities(sliced, full, withdrawn)


def test_slices_end_with_the_open_alerts_of_one_full_run(cities: Cities) -> None:
    sliced, full = open_cases(cities.sliced), open_cases(cities.full)
    assert cities.withdrawn > 0, "no late record took an alert's condition away"
    assert sliced == full
    assert len({rule for rule, _ in full}) >= 20  # the whole pack raised alerts


def test_a_withdrawn_alert_has_its_trail_entry_and_notice(cities: Cities) -> None:
    engine = store.connect(cities.sliced.store_url)
    try:
        with engine.connect() as conn:
            a, t = store.alerts.c, store.audit_trail.c
            withdrawn = conn.execute(select(store.alerts).where(a.status == "withdrawn")).all()
            assert withdrawn and {w.rule_id for w in withdrawn} == {"PAY-BEFORE-INSPECTION"}
            entries = {
                e.alert_id: e
                for e in conn.execute(select(store.audit_trail).where(t.action == "withdraw"))
            }
            assert set(entries) == {w.id for w in withdrawn}
            for w in withdrawn:
                entry = entries[w.id]
                assert entry.actor == "system" and entry.to_status == "withdrawn"
                assert entry.from_status in OPEN
                reason = entry.comment
                # Korean an official reads: the rule's title and what came late, no column
                # names, no figures.
                assert "검수 전 대금 지급" in reason and "계약" in reason and "철회" in reason
                assert not COLUMN_WORDS.search(reason), reason
                assert not re.search(r"\d", reason), reason
            # The official of each withdrawn alert was told, with the reason.
            bodies = [
                (o.recipient, o.body)
                for o in conn.execute(
                    select(store.outbox).where(store.outbox.c.body.like("%철회%"))
                )
            ]
            for w in withdrawn:
                told = [b for who, b in bodies if who == w.assignee and f"#{w.id}\n" in b]
                assert told, f"alert #{w.id}: its official was not told"
                assert "철회된 경보" in told[0] and "사유: " + entries[w.id].comment in told[0]
                assert "inspection_date" not in told[0] and "paid_on" not in told[0]
            # Out of the scorecard: the tallies count no withdrawn alert, and agree with the
            # alerts as they stand.
            assert tallies.stored(conn) == tallies.computed(conn)
            # The trail still verifies: every alert's status is the one its trail last gave.
            result = verify(conn)
            assert result.ok, result
    finally:
        engine.dispose()
