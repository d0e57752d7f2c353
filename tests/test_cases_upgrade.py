"""Upgrading to one alert per case (issue 18, Done-when 1).

A store written by the previous version of naebu - the commit before cases, run from its own
source tree taken out of this repository's history - holds one alert per overtime row, some
of them answered. The current version migrates it (alert_members backfilled, 0014), keeps
every answered alert as it was, raises nothing twice, and still scores recall 1.0; a fresh
city raises one alert per official and month instead.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
from io import BytesIO
from pathlib import Path

import pytest
from conftest import ROOT, run_cli

from naebu.store.migrations import HEAD

#: The last commit before cases (migration 0013): its naebu raises one alert per record.
PREVIOUS = "d8e3a04"
RULE = "ATT-OVERTIME-MONTHLY-CAP"


def _previous_tree(into: Path) -> Path:
    """The previous version's source, from git history (a clean clone of main has it)."""
    try:
        data = subprocess.run(
            ["git", "-C", str(ROOT), "archive", "--format=tar", PREVIOUS],
            check=True, capture_output=True, timeout=60,
        ).stdout  # fmt: skip
    except (OSError, subprocess.CalledProcessError) as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"git history with {PREVIOUS} not available: {exc}")
    with tarfile.open(fileobj=BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return into


def _old_cli(tree: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [sys.executable, "-c", "from naebu.cli import entry; entry()", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def _rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return list(conn.execute(sql))


@pytest.fixture(scope="module")
def upgraded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    tree = _previous_tree(tmp_path_factory.mktemp("previous"))
    city = tmp_path_factory.mktemp("city")
    shutil.copy(tree / "config.toml", city / "config.toml")
    shutil.copytree(tree / "rules", city / "rules")
    for args in (("demo", "--scale", "0.2"), ("run", "--once")):
        done = _old_cli(tree, *args, cwd=city)
        assert done.returncode == 0, done.stdout + done.stderr
    db = city / "var" / "naebu.sqlite"
    old = _rows(db, f"SELECT id, assignee FROM alerts WHERE rule_id = '{RULE}' ORDER BY id")
    assert len(old) > 10  # one per overtime row
    # Officials answer two of them with the previous version.
    answered = [int(old[0][0]), int(old[1][0])]
    for alert_id, assignee in old[:2]:
        done = _old_cli(tree, "alerts", "explain", str(alert_id), "--as", str(assignee),
                        "-m", "재난 대응 예외 승인", cwd=city)  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
    before = {
        int(r[0]): r[1:]
        for r in _rows(db, "SELECT id, status, answered_at, last_answer, fingerprint FROM alerts")
    }
    # Every rule judges the whole history again, as a first evaluation: the overtime findings
    # come back, grouped into cases, and must find their records in the old alerts.
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM rule_state")
    shutil.rmtree(city / "rules")
    shutil.copytree(ROOT / "rules", city / "rules")
    result = run_cli("run", "--once", cwd=city)
    assert result.returncode == 0, result.stdout + result.stderr
    return {"city": city, "db": db, "before": before, "answered": answered, "run": result.stdout}


def test_the_previous_store_migrates_and_keeps_its_answered_alerts(
    upgraded: dict[str, object],
) -> None:
    db = Path(str(upgraded["db"]))
    before: dict[int, tuple[object, ...]] = upgraded["before"]  # type: ignore[assignment]
    after = {
        int(r[0]): r[1:]
        for r in _rows(db, "SELECT id, status, answered_at, last_answer, fingerprint FROM alerts")
    }
    assert after == before  # nothing raised twice, nothing changed, answers kept
    for alert_id in upgraded["answered"]:  # type: ignore[attr-defined]
        assert after[alert_id][0] == "explained" and after[alert_id][2] == "explain"
    assert "new alerts: 0" in str(upgraded["run"])
    assert _rows(db, "SELECT version_num FROM alembic_version") == [(HEAD,)]
    members = _rows(db, "SELECT alert_id, record_key FROM alert_members")
    records = _rows(db, "SELECT id, record_key FROM alerts")
    assert sorted(members) == sorted(records)  # every old alert is a case of its own record


def test_the_upgraded_store_still_scores_full_recall(upgraded: dict[str, object]) -> None:
    city = Path(str(upgraded["city"]))
    result = run_cli("evaluate", "--labels", "demo-city/labels.csv", "--format", "json", cwd=city)
    assert result.returncode == 0, result.stderr
    for s in json.loads(result.stdout):
        if s["rule_id"] != "ALL":
            assert s["recall"] == 1.0 and s["precision"] >= 0.95, s
