"""`naebu test-rule` and `naebu backtest`: dry runs over the demo city and the real Seoul
disclosures. They print what rules would do and never store or notify anything."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from conftest import ROOT, run_cli

SEOUL = ROOT.parent / "shared" / "data" / "real" / "seoul_expense_2018.csv"
SEOUL_CONFIG = ROOT / "examples" / "seoul-expense" / "config.toml"


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo city that has been run once (its records are in the store)."""
    folder = tmp_path_factory.mktemp("city")
    shutil.copy(ROOT / "config.toml", folder / "config.toml")
    shutil.copytree(ROOT / "rules", folder / "rules")
    assert run_cli("demo", "--scale", "0.2", cwd=folder).returncode == 0
    first = run_cli("run", "--once", cwd=folder)
    assert first.returncode == 0, first.stderr
    return folder


def _counts(folder: Path) -> tuple[int, int]:
    with sqlite3.connect(folder / "var" / "naebu.sqlite") as db:
        return (
            db.execute("select count(*) from alerts").fetchone()[0],
            db.execute("select count(*) from outbox").fetchone()[0],
        )


def _labels(folder: Path, rule_id: str) -> set[str]:
    lines = (folder / "demo-city" / "labels.csv").read_text(encoding="utf-8").splitlines()[1:]
    return {line.split(",")[2] for line in lines if line.startswith(rule_id + ",")}


def test_test_rule_on_the_store_matches_the_planted_records(city: Path) -> None:
    before = _counts(city)
    result = run_cli("test-rule", "CARD-NIGHT", "--format", "json", cwd=city)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["data"] == "store"
    keys = {f["record_key"] for f in doc["findings"]}
    assert keys == _labels(city, "CARD-NIGHT")
    assert all(f["evidence"]["approved_time"] for f in doc["findings"])
    assert _counts(city) == before, "a dry run stores and sends nothing"


def test_test_rule_table_with_period_and_source(city: Path) -> None:
    result = run_cli("test-rule", "PROP-BELOW-APPRAISAL", "--source", "property_sales", cwd=city)
    assert result.returncode == 0, result.stderr
    assert "공유재산 매각가격이 감정평가액 산술평균 미만" in result.stdout
    assert (
        f"{len(_labels(city, 'PROP-BELOW-APPRAISAL'))} finding(s); nothing stored, nobody notified"
        in result.stdout
    )
    narrow = run_cli("test-rule", "CARD-NIGHT", "--since", "2025-13-01", cwd=city)
    assert narrow.returncode == 2 and "is not a date" in narrow.stderr
    empty = run_cli("test-rule", "CARD-NIGHT", "--since", "2030-01-01", cwd=city)
    assert "0 finding(s)" in empty.stdout


def test_test_rule_on_a_file_of_canonical_columns(city: Path, tmp_path: Path) -> None:
    data = tmp_path / "cards.csv"
    data.write_text(
        "approval_id,payment_method,approved_date,approved_time,amount\n"
        "X1,카드,2025-03-12,23:30,50000\n"
        "X2,카드,2025-03-12,22:59,50000\n"
        "X3,현금,2025-03-12,23:30,50000\n"
        "X4,카드,2025-02-30,23:30,50000\n",
        encoding="cp949",
    )
    result = run_cli("test-rule", "CARD-NIGHT", "--data", str(data), "--format", "json", cwd=city)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert [f["record_key"] for f in doc["findings"]] == ["X1"]
    assert doc["quarantined"] == 1


def test_unknown_rule_and_source_are_clear_errors(city: Path) -> None:
    result = run_cli("test-rule", "CARD-NIGTH", cwd=city)
    assert result.returncode == 1
    assert "unknown rule 'CARD-NIGTH' - did you mean 'CARD-NIGHT'?" in result.stderr
    result = run_cli("test-rule", "CARD-NIGHT", "--source", "card", cwd=city)
    assert (
        result.returncode == 1 and "unknown source 'card' - did you mean 'cards'?" in result.stderr
    )
    assert "Traceback" not in result.stderr


def test_backtest_per_month_and_compare(city: Path) -> None:
    edited = city / "rules-edited"
    shutil.copytree(city / "rules", edited)
    cards = edited / "cards" / "business_card.toml"
    text = cards.read_text(encoding="utf-8")
    assert "night_from = 23" in text and "max_per_person = 40_000" in text
    cards.write_text(
        text.replace("night_from = 23", "night_from = 22").replace(
            "max_per_person = 40_000", "max_per_person = 1_000_000"
        ),
        encoding="utf-8",
    )
    before = _counts(city)
    table = run_cli(
        "backtest",
        "--since",
        "2025-01-01",
        "--until",
        "2025-12-31",
        "--compare",
        str(edited),
        cwd=city,
    )
    assert table.returncode == 0, table.stderr
    assert "25-01" in table.stdout and "25-12" in table.stdout

    result = run_cli(
        "backtest", "--since", "2025-01-01", "--until", "2025-12-31", "--compare", str(edited), "--format", "json",
        cwd=city,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    for rule_id, total in doc["totals"].items():
        assert total == len(_labels(city, rule_id)), rule_id
        assert 1 <= doc["alerts"][rule_id] <= total, rule_id  # one alert per case
    # the overtime cap's rows make one alert per official and month: fewer than its rows
    assert doc["alerts"]["ATT-OVERTIME-MONTHLY-CAP"] < doc["totals"]["ATT-OVERTIME-MONTHLY-CAP"]
    assert doc["alerts"]["CARD-NIGHT"] == doc["totals"]["CARD-NIGHT"]  # a record is a case
    night = doc["compare"]["CARD-NIGHT"]
    assert night["status"] == "changed" and night["removed"] == [] and len(night["added"]) >= 1
    per_person = doc["compare"]["CARD-PERPERSON"]
    assert per_person["after"] == 0 and sorted(per_person["removed"]) == sorted(
        _labels(city, "CARD-PERPERSON")
    )
    assert doc["compare"]["PAY-SELF-APPROVAL"]["status"] == "same"
    assert _counts(city) == before

    half = run_cli(
        "backtest", "--since", "2025-07-01", "--until", "2025-12-31", "--format", "json", cwd=city
    )
    months = {m for counts in json.loads(half.stdout)["per_rule_month"].values() for m in counts}
    dated = months - {"-"}  # findings on records without an event time belong to no month
    assert dated and all(m >= "2025-07" for m in dated)


@pytest.mark.skipif(
    not SEOUL.exists(),
    reason=f"{SEOUL} absent: the shared data folder is not beside the repository",
)
def test_card_rules_on_real_seoul_data(tmp_path: Path) -> None:
    result = run_cli(
        "test-rule",
        "CARD-NIGHT",
        "--config",
        str(SEOUL_CONFIG),
        "--source",
        "seoul",
        "--format",
        "json",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["rows"]["card_transactions"] + doc["quarantined"] == 21260
    assert doc["findings"], "late-night card use exists in the disclosures"
    for f in doc["findings"]:
        assert f["record_key"].startswith("seoul_expense_2018.csv:")
        hour = int(f["evidence"]["approved_time"][:2])
        assert hour >= 23 or hour < 6
        assert f["evidence"]["payment_method"] == "카드"

    edited = tmp_path / "rules"
    shutil.copytree(ROOT / "rules" / "cards", edited)
    cards = edited / "business_card.toml"
    cards.write_text(
        cards.read_text(encoding="utf-8").replace("night_from = 23", "night_from = 22"),
        encoding="utf-8",
    )
    diff = run_cli(
        "backtest", "--config", str(SEOUL_CONFIG), "--from-sources", "--since", "2017-01-01", "--until", "2018-12-31",
        "--compare", str(edited), "--format", "json", cwd=tmp_path,
    )  # fmt: skip
    assert diff.returncode == 0, diff.stderr
    night = json.loads(diff.stdout)["compare"]["CARD-NIGHT"]
    assert night["before"] == len({f["record_key"] for f in doc["findings"]})
    assert len(night["added"]) > 0 and night["removed"] == []
