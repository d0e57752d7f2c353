"""`naebu evaluate`: precision and recall per rule against labels."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import ROOT, run_cli

from naebu.evaluation import Score, record_cases, score


def test_score_counts_per_rule_and_overall() -> None:
    labels = {("R1", "d", "1"), ("R1", "d", "2"), ("R2", "d", "9")}
    predicted = record_cases([("R1", "d", "1"), ("R1", "d", "3"), ("R3", "d", "5")])
    scores = {s.rule_id: s for s in score(predicted, labels, ["R1", "R2", "R3", "R4"])}
    assert scores["R1"] == Score("R1", 1, 1, 1, 1)
    assert scores["R1"].precision == 0.5 and scores["R1"].recall == 0.5
    assert scores["R2"].precision is None and scores["R2"].recall == 0.0
    assert scores["R3"].recall is None and scores["R3"].precision == 0.0
    assert scores["R4"].precision is None and scores["R4"].recall is None
    assert scores["ALL"] == Score("ALL", 1, 2, 2, 1)


def test_precision_counts_cases_and_recall_counts_records() -> None:
    """One case alert of three labelled records is one right case and three found records;
    a case with no labelled record is one wrong case, however many records it holds."""
    labels = {("R1", "d", k) for k in ("1", "2", "3", "4")}
    cases = [("R1", "d", frozenset({"1", "2", "3"})), ("R1", "d", frozenset({"7", "8"}))]
    (r1, total) = score(cases, labels, ["R1"])
    assert r1 == Score("R1", true_positives=1, false_positives=1, false_negatives=1, found=3)
    assert r1.precision == 0.5 and r1.recall == 0.75
    assert r1.as_json()["labelled"] == 4 and r1.as_json()["flagged"] == 2
    assert total == Score("ALL", 1, 1, 1, 3)


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("city")
    shutil.copy(ROOT / "config.toml", folder / "config.toml")
    shutil.copytree(ROOT / "rules", folder / "rules")
    assert run_cli("demo", "--scale", "0.2", cwd=folder).returncode == 0
    assert run_cli("run", "--once", cwd=folder).returncode == 0
    return folder


def test_every_rule_has_full_recall_and_precision_on_the_demo_city(city: Path) -> None:
    labels = str(city / "demo-city" / "labels.csv")
    for extra in ([], ["--replay"]):
        result = run_cli("evaluate", "--labels", labels, "--format", "json", *extra, cwd=city)
        assert result.returncode == 0, result.stderr
        scores = json.loads(result.stdout)
        rules = [s for s in scores if s["rule_id"] != "ALL"]
        assert rules
        for s in rules:
            assert s["labelled"] > 0, f"{s['rule_id']} has no planted anomaly"
            assert s["recall"] == 1.0, s
            assert s["precision"] >= 0.95, s
    table = run_cli("evaluate", "--labels", labels, cwd=city)
    assert "precision" in table.stdout and "100.0%" in table.stdout


def test_bad_labels_file_is_a_located_error(city: Path, tmp_path: Path) -> None:
    bad = tmp_path / "labels.csv"
    bad.write_text("rule,dataset,key\nX,y,z\n", encoding="utf-8")
    result = run_cli("evaluate", "--labels", str(bad), cwd=city)
    assert result.returncode == 1
    assert "labels.csv:1: missing column 'rule_id'" in result.stderr
    assert "Traceback" not in result.stderr


def test_overtime_cap_raises_one_alert_per_official_and_month(city: Path) -> None:
    """Issue 18, Done-when 1: one alert per official and month, listing that month's rows
    (the demo labels every overtime row of a month over the cap)."""
    import csv
    import sqlite3

    with (city / "demo-city" / "labels.csv").open(encoding="utf-8") as f:
        labelled = {r["record_key"] for r in csv.DictReader(f)
                    if r["rule_id"] == "ATT-OVERTIME-MONTHLY-CAP"}  # fmt: skip
    with sqlite3.connect(city / "var" / "naebu.sqlite") as conn:
        rows = list(conn.execute(
            "SELECT a.id, a.evidence, m.record_key FROM alerts a JOIN alert_members m "
            "ON m.alert_id = a.id WHERE a.rule_id = 'ATT-OVERTIME-MONTHLY-CAP'"
        ))  # fmt: skip
    members: dict[int, set[str]] = {}
    months: dict[int, tuple[str, str]] = {}
    for alert_id, evidence, key in rows:
        members.setdefault(alert_id, set()).add(key)
        e = json.loads(evidence)
        months[alert_id] = (e["employee_id"], e["group.first"][:7])
        assert e["case.count"] == len(e["case.members"])
    assert len(labelled) > len(members) >= 1  # fewer alerts than rows
    assert len(set(months.values())) == len(members)  # one per official and month
    assert set().union(*members.values()) == labelled  # every row listed, none twice
    assert sum(len(m) for m in members.values()) == len(labelled)
