"""An incremental run reads only the groups new records fall in, and finds exactly what a run
reading every group would find.

The demo city's latest records are held back, a first run reads the rest, the held-back rows
are delivered, and a second run reads them. Done twice in separate stores: once as shipped
(window, duplicate and sequence rules read only the touched groups' history) and once with
that narrowing switched off. Every alert of the two stores must be the same, and the narrowed
run must actually have narrowed something (else the test would prove nothing).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, run_cli
from sqlalchemy import select

from naebu import pipeline, store
from naebu.config import load_config

sys.path.insert(0, str(ROOT))
from bench.incremental import deliver, hold_back  # noqa: E402

NOW = "2026-03-01T09:00:00"


def _two_runs(folder: Path, monkeypatch: pytest.MonkeyPatch, narrow: bool) -> set[tuple[Any, ...]]:
    shutil.copy(ROOT / "config.toml", folder / "config.toml")
    shutil.copytree(ROOT / "rules", folder / "rules")
    assert run_cli("demo", "--scale", "0.3", cwd=folder).returncode == 0
    config = load_config(folder / "config.toml")
    held = hold_back(config, 0.05)
    assert held.total > 0
    narrowed: list[str] = []
    touched = pipeline._Run._touched

    def spy(self: pipeline._Run, conn: Any, rule: Any, state: Any) -> Any:
        found = touched(self, conn, rule, state) if narrow else {}
        if found:
            narrowed.append(rule.meta.id)
        return found

    monkeypatch.setattr(pipeline._Run, "_touched", spy)
    from datetime import datetime

    now = datetime.fromisoformat(NOW)
    pipeline.run_once(config, now=now, deliver=False)
    deliver(config, held)
    pipeline.run_once(config, now=now, deliver=False)
    if narrow:
        assert narrowed, "no rule read only the touched groups"
    engine = store.connect(config.store_url)
    try:
        with engine.connect() as conn:
            a = store.alerts.c
            rows = conn.execute(select(a.rule_id, a.record_key, a.message, a.status)).all()
    finally:
        engine.dispose()
    return {tuple(r) for r in rows}


def test_touched_groups_give_the_same_alerts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "narrow").mkdir()
    (tmp_path / "whole").mkdir()
    narrow = _two_runs(tmp_path / "narrow", monkeypatch, narrow=True)
    whole = _two_runs(tmp_path / "whole", monkeypatch, narrow=False)
    assert narrow == whole
    assert len({r[0] for r in narrow}) >= 30  # the whole pack raised alerts
