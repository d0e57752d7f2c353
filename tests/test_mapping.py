"""Source mappings beyond renaming: constants, value maps, derived columns (docs/sources.md).

The same export is read as a CSV drop and as a SQLite table, with one mapping: both give the
same typed frame, the same quarantined rows and the same unmapped values.
"""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from conftest import run_cli, write_config

from naebu.connectors import SourceError, SourceState, make_connector
from naebu.connectors.base import Batch, UnmappedValues
from naebu.core.problems import ProblemsError
from naebu.pipeline import RunSummary, SourceReport, summary_lines
from naebu.settings.config import Config, load_config

HEADER = [
    "매각번호",
    "매각방법",
    "매각금액",
    "계약일",
    "감정가1",
    "감정가2",
    "감정가 (3)",
    "감정년월",
    "매수인",
]
ROWS = [
    ["S-1", "수의계약", "1,000,000원", "2025-03-01", "1,000,000", "1,200,000", "", "2025-01", ""],
    ["S-2", "일반입찰", "2000000", "20250302", "2,000,000", "", "2,200,000", "2025-02", ""],
    ["S-3", "긴급", "3,000,000", "2025.3.3", "", "", "", "2025-03", ""],
    ["S-4", " 일반 입찰 ", "4000000", "2025년 3월 4일", "미정", "4,000,000", "", "2025-13", ""],
    ["S-5", "긴급", "5000000", "2025-03-05", "5000000", "", "", "2025-03", ""],
    ["S-6", "수의 ", "6000000", "2025-03-06", "", "", "", "2025-03", ""],
]

MAPPING = """
[sources.sales.columns]
sale_id = "매각번호"
method = "매각방법"
sale_price = "매각금액"
contract_date = "계약일"
buyer_name = "매수인"

[sources.sales.constants]
department = "재산관리과"

[sources.sales.values.method]
"수의계약" = "수의"
"일반 입찰" = "일반입찰"

[sources.sales.derive]
appraisal_mean = 'mean_present(감정가1, 감정가2, column("감정가 (3)"))'
appraisal_count = 'count_present(감정가1, 감정가2, column("감정가 (3)"))'
appraisal_date = 'concat(감정년월, "-01")'
"""


def _csv_config(tmp_path: Path) -> Config:
    drop = tmp_path / "drop"
    drop.mkdir()
    with (drop / "sales.csv").open("w", encoding="cp949", newline="") as fh:
        csv.writer(fh).writerows([HEADER, *ROWS])
    body = (
        '[sources.sales]\nkind = "files"\ndataset = "property_sales"\npath = "drop"\n'
        'pattern = "*.csv"\n' + MAPPING
    )
    return load_config(write_config(tmp_path, body))


def _sql_config(tmp_path: Path) -> Config:
    db = tmp_path / "city.sqlite"
    with sqlite3.connect(db) as conn:
        cols = ", ".join(f'"{h}"' for h in HEADER)
        conn.execute(f"CREATE TABLE prpt ({cols})")
        # Numbers stored as numbers where a database would: read as text all the same.
        rows = [[int(v) if v.isdigit() else (v or None) for v in row] for row in ROWS]
        conn.executemany(f"INSERT INTO prpt VALUES ({', '.join('?' * len(HEADER))})", rows)
    body = (
        '[sources.sales]\nkind = "sql"\ndataset = "property_sales"\n'
        f'url = "sqlite:///{db}"\ntable = "prpt"\n' + MAPPING
    )
    folder = tmp_path / "sqlcfg"
    folder.mkdir(exist_ok=True)
    return load_config(write_config(folder, body))


def _pull(config: Config) -> list[Batch]:
    return list(make_connector(config.sources["sales"]).pull(SourceState()))


def _frame(batches: list[Batch]) -> pd.DataFrame:
    return pd.concat([b.frame for b in batches], ignore_index=True)


@pytest.fixture(params=["files", "sql"])
def batches(request: pytest.FixtureRequest, tmp_path: Path) -> list[Batch]:
    config = _csv_config(tmp_path) if request.param == "files" else _sql_config(tmp_path)
    return _pull(config)


def test_files_and_sql_give_the_same_typed_frame(tmp_path: Path) -> None:
    from_files = _pull(_csv_config(tmp_path))
    from_sql = _pull(_sql_config(tmp_path))
    pd.testing.assert_frame_equal(_frame(from_files), _frame(from_sql))
    assert [q.reason for b in from_files for q in b.quarantined] == [
        q.reason for b in from_sql for q in b.quarantined
    ]
    assert from_files[-1].unmapped == from_sql[-1].unmapped


def test_constants_value_maps_and_derived_columns(batches: list[Batch]) -> None:
    frame = _frame(batches).set_index("sale_id")
    assert list(frame.index) == ["S-1", "S-2", "S-3", "S-5", "S-6"]  # S-4 quarantined
    assert set(frame["department"]) == {"재산관리과"}
    method = frame["method"]
    assert method[method.notna()].to_dict() == {"S-1": "수의", "S-2": "일반입찰", "S-6": "수의"}
    assert method[["S-3", "S-5"]].isna().all()  # unmapped: unknown, never a rule's "수의"
    assert frame.loc["S-1", "appraisal_mean"] == 1_100_000
    assert frame.loc["S-2", "appraisal_mean"] == 2_100_000
    assert pd.isna(frame.loc["S-3", "appraisal_mean"])
    assert frame["appraisal_count"].tolist() == [2, 2, 0, 1, 0]
    assert str(frame["appraisal_count"].dtype) == "Int64"
    assert frame.loc["S-2", "appraisal_date"] == pd.Timestamp("2025-02-01")
    assert frame["sale_price"].tolist() == [1e6, 2e6, 3e6, 5e6, 6e6]


def test_a_derived_value_that_does_not_fit_is_quarantined_with_its_reason(
    batches: list[Batch],
) -> None:
    reasons = [q.reason for b in batches for q in b.quarantined]
    assert reasons == ["appraisal_date (derived): '2025-13-01' is not a valid date"]


def test_unmapped_values_are_counted_with_examples_and_read_as_empty(
    batches: list[Batch],
) -> None:
    unmapped: dict[str, UnmappedValues] = {}
    for b in batches:
        unmapped.update(b.unmapped)
    assert unmapped == {"method": UnmappedValues(rows=2, examples=("긴급",))}


def test_the_run_summary_prints_unmapped_values_in_plain_words() -> None:
    report = SourceReport("contracts", "contracts", rows_read=40)
    report.unmapped["method"] = UnmappedValues(37, ("1인 견적", "긴급"))
    summary = RunSummary(run_id=1, started_at=pd.Timestamp("2025-03-01").to_pydatetime())
    summary.sources.append(report)
    lines = summary_lines(summary, {})
    assert (
        "contracts: method: 37 value(s) no map covers, read as empty, e.g. '1인 견적', '긴급'"
        " - add them under [sources.contracts.values.method]"
    ) in lines


def test_unmapped_counts_add_up_over_batches() -> None:
    a = UnmappedValues(3, ("a", "b"))
    b = UnmappedValues(4, ("b", "c", "d", "e", "f"))
    assert a.add(b) == UnmappedValues(7, ("a", "b", "c", "d", "e"))


def test_a_derived_column_naming_a_column_the_source_lacks_stops_the_source(
    tmp_path: Path,
) -> None:
    config = _csv_config(tmp_path)
    config.sources["sales"].derive["appraisal_mean"] = "mean_present(감정가1, 감정가4)"
    with pytest.raises(SourceError, match=r"column '감정가4' \(read by derive.appraisal_mean\)"):
        _pull(config)


def _problems(tmp_path: Path, mapping: str) -> list[str]:
    body = (
        '[sources.c]\nkind = "files"\ndataset = "contracts"\npath = "drop"\n'
        '[sources.c.columns]\ncontract_id = "계약번호"\nmethod = "계약방법"\n' + mapping
    )
    with pytest.raises(ProblemsError) as err:
        load_config(write_config(tmp_path, body))
    return [str(p) for p in err.value.problems]


def test_config_problems_are_located(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path,
        """
[sources.c.constants]
method = "수의"
categry = "물품"
category = "물건"
amount = "많음"
[sources.c.values.method]
"2인 견적" = "수의계약"
[sources.c.derive]
amount = 'to_number(계약금액'
title = 'mean_present(a, b)'
""",
    )
    text = "\n".join(problems)
    assert "sources.c.constants.method: method is given twice: by columns and by constants" in text
    assert "sources.c.constants.categry: 'categry' is not a column of dataset contracts" in text
    assert "sources.c.constants.category: '물건' is not a code of contracts.category" in text
    assert "sources.c.constants.amount: '많음' is not a number" in text
    assert "sources.c.values.method.2인 견적: '수의계약' is not a code of contracts.method" in text
    assert "did you mean '수의'?" in text
    assert "sources.c.derive.amount: expected ')' to close the call of to_number(" in text
    assert "found end of expression at column 15: to_number(계약금액>>" in text
    assert "sources.c.derive.title: the expression gives a number, the column holds text" in text


def test_a_good_mapping_loads(tmp_path: Path) -> None:
    config = _csv_config(tmp_path)
    source = config.sources["sales"]
    assert source.constants == {"department": "재산관리과"}
    assert source.values == {"method": {"수의계약": "수의", "일반 입찰": "일반입찰"}}
    assert set(source.derive) == {"appraisal_mean", "appraisal_count", "appraisal_date"}
    assert "constants" not in source.options and "derive" not in source.options


def test_check_data_reports_each_source(tmp_path: Path, root: Path) -> None:
    config = _csv_config(tmp_path)
    body = config.path.read_text(encoding="utf-8")
    body = f'[rules]\npaths = ["{root / "rules"}"]\n' + body
    config.path.write_text(body, encoding="utf-8")
    plain = run_cli("check", cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr
    assert "data:" not in plain.stdout
    result = run_cli("check", "--data", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "at most 10,000 rows" in out
    assert "sales (property_sales): 6 row(s) read, 1 quarantined" in out
    assert "quarantined 1x: appraisal_date (derived): '2025-13-01' is not a valid date" in out
    assert (
        "method: 2 value(s) no map covers, read as empty, e.g. '긴급'"
        " - add them under [sources.sales.values.method]"
    ) in out
    assert "buyer_name: given by the mapping but empty in every row read" in out


def test_check_data_fails_on_a_source_it_cannot_read(tmp_path: Path, root: Path) -> None:
    config = _csv_config(tmp_path)
    body = config.path.read_text(encoding="utf-8").replace('"매각금액"', '"매각 금액(원)"')
    body = f'[rules]\npaths = ["{root / "rules"}"]\n' + body
    config.path.write_text(body, encoding="utf-8")
    result = run_cli("check", "--data", cwd=tmp_path)
    assert result.returncode == 1
    assert "source sales: sales.csv: column '매각 금액(원)' (mapped to sale_price)" in result.stderr


def test_card_file_with_a_constant_a_derived_key_and_attendees_in_words(tmp_path: Path) -> None:
    drop = tmp_path / "card"
    drop.mkdir()
    (drop / "card.csv").write_text(
        "승인년도,승인번호,승인일자,승인금액,대상인원,결제구분\n"
        '2025,17,2025-03-01,"120,000",팀장 등 4명,신용\n'
        "2025,18,2025-03-02,50000,3명,체크\n"
        '2025,17,2025-03-01,"130,000",팀장 등 5명,신용\n',  # a corrected 2025-17: kept last
        encoding="utf-8",
    )
    body = """
[sources.card]
kind = "files"
dataset = "card_transactions"
path = "card"
[sources.card.columns]
approved_date = "승인일자"
amount = "승인금액"
attendees_text = "대상인원"
[sources.card.constants]
payment_method = "카드"
[sources.card.derive]
approval_id = 'concat(승인년도, "-", 승인번호)'
attendees = 'extract_number(대상인원, "(\\\\d+)\\\\s*명")'
merchant_category = 'concat(결제구분, "카드")'
[sources.card.values.merchant_category]
"신용카드" = "신용"
"""
    config = load_config(write_config(tmp_path, body))
    batches = list(make_connector(config.sources["card"]).pull(SourceState()))
    frame = _frame(batches).set_index("approval_id")
    assert frame.index.tolist() == ["2025-18", "2025-17"]
    assert frame["payment_method"].tolist() == ["카드", "카드"]
    assert frame.loc["2025-17", "attendees"] == 5 and frame.loc["2025-18", "attendees"] == 3
    assert frame.loc["2025-17", "amount"] == 130_000
    # A value map applies to a derived column too (an open vocabulary: others pass).
    assert frame["merchant_category"].to_dict() == {"2025-18": "체크카드", "2025-17": "신용"}
    assert all(not b.unmapped for b in batches)


def test_status_shows_the_unmapped_values_of_each_source_last_read() -> None:
    from naebu.daemon.status import status_lines

    report = SourceReport("contracts", "contracts", rows_read=40)
    report.unmapped["method"] = UnmappedValues(37, ("1인 견적", "긴급"))
    summary = RunSummary(run_id=1, started_at=pd.Timestamp("2025-03-01").to_pydatetime())
    summary.sources.append(report)
    # What `naebu status` reads back from the run ledger: the run's JSON.
    stored = summary.as_json()["sources"][0]["unmapped"]
    source = {
        "enabled": True,
        "last_ok_at": "2025-03-01T00:00:00",
        "lag_seconds": 5,
        "consecutive_failures": 0,
        "last_error": None,
        "watermark": None,
        "unmapped": stored,
    }
    status = {
        "leader": None,
        "last_run": None,
        "sources": {"contracts": source},
        "outbox": {},
        "outbox_due": 0,
        "alerts": {},
    }
    assert (
        "contracts: method: 37 value(s) no map covers, read as empty, e.g. '1인 견적', '긴급'"
        " - add them under [sources.contracts.values.method]"
    ) in status_lines(status)
