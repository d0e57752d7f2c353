"""A payment whose contract is not in the contracts data is not judged (``unmatched =
"skip"``), and is judged by the incremental run in which its contract arrives."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import write_config
from sequence_helpers import HEAD, INSPECTION

from naebu import pipeline
from naebu.pipeline.planner import IncrementalPlanner
from naebu.settings.config import load_config
from naebu.store import tables as store

CITY = """
[store]
url = "sqlite:///var/naebu.sqlite"
[rules]
paths = ["rules"]
[sources.payments]
kind = "files"
dataset = "payments"
path = "payments"
[sources.contracts]
kind = "files"
dataset = "contracts"
path = "contracts"
"""

NOW = datetime(2025, 9, 1, 9)


def _alerted(url: str) -> set[str]:
    engine = store.connect(url)
    try:
        with engine.connect() as conn:
            a = store.alerts.c
            query = store.alerts.select().with_only_columns(a.record_key)
            return {key for (key,) in conn.execute(query)}
    finally:
        engine.dispose()


def test_a_contract_arriving_later_gets_its_payments_judged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    narrowed: list[Any] = []
    touched = IncrementalPlanner.touched

    def spy(self: IncrementalPlanner, conn: Any, rule: Any, state: Any) -> Any:
        found = touched(self, conn, rule, state)
        narrowed.append(found)
        return found

    monkeypatch.setattr(IncrementalPlanner, "touched", spy)
    config_path = write_config(tmp_path, CITY)
    (tmp_path / "rules").mkdir()
    rule = HEAD.format(id="SEQ-INSPECTION") + INSPECTION
    (tmp_path / "rules" / "r.toml").write_text(rule, encoding="utf-8")
    for folder in ("payments", "contracts"):
        (tmp_path / folder).mkdir()
    # this year's contracts only: C0, last year's, is not there
    (tmp_path / "contracts" / "c.csv").write_text(
        "contract_id,amount,contract_date,inspection_date\nC1,5,2025-01-02,2025-03-01\n",
        encoding="utf-8",
    )
    (tmp_path / "payments" / "p.csv").write_text(
        "payment_id,contract_id,amount,paid_on\nP1,C1,5,2025-02-20\nP2,C0,5,2025-02-20\n",
        encoding="utf-8",
    )
    config = load_config(config_path)
    pipeline.run_once(config, now=NOW, deliver=False)
    assert _alerted(config.store_url) == {"P1"}  # P2: its contract is unknown, not judged

    # last year's contracts come: C0 was never inspected, so P2 is now a finding
    (tmp_path / "contracts" / "old.csv").write_text(
        "contract_id,amount,contract_date,inspection_date\nC0,5,2024-05-02,\n", encoding="utf-8"
    )
    pipeline.run_once(config, now=NOW, deliver=False)
    assert narrowed[-1], "the second run read only the touched contract's payments"
    assert _alerted(config.store_url) == {"P1", "P2"}
