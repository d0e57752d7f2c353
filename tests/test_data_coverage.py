"""Data-level coverage (engine/absence.py, naebu/data_coverage.py): a rule whose finding is
the absence of something is not run while the data holds nothing of it - a configured dataset
with no record yet, a fact column empty in every stored record - and says why."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import run_cli, write_config
from sqlalchemy import create_engine, event

from naebu import data_coverage, pipeline
from naebu.engine.loader import load_rules
from naebu.settings.config import load_config
from naebu.store import history
from naebu.store import tables as store

HEAD = 'title = "t"\ntitle_en = "t"\nseverity = "low"\n'

RULES = f"""
[[rule]]
id = "S-LATE"
{HEAD}type = "sequence"
dataset = "property_sales"
first = {{ dataset = "property_sales", time = "contract_date" }}
then = {{ dataset = "receipts", time = "received_on" }}
match = {{ sale_id = "ref_id" }}
within = "60d"
expect = "absent"
unmatched = "fire"

[[rule.example]]
fires = true
record = {{ sale_id = "S9", sale_price = 100, contract_date = "2025-03-03" }}
related = {{ receipts = [ {{ receipt_id = "R9", ref_id = "S8", amount = 100, received_on = "2025-03-04" }} ] }}

[[rule.example]]
fires = false
record = {{ sale_id = "S9", sale_price = 100, contract_date = "2025-03-03" }}
related = {{ receipts = [ {{ receipt_id = "R9", ref_id = "S9", amount = 100, received_on = "2025-03-04" }} ] }}

[[rule]]
id = "C-NO-GROUND"
{HEAD}type = "match"
dataset = "contracts"
when = "method == \\"수의\\" and is_null(sole_source_ground)"
absence_of = ["sole_source_ground"]

[[rule.example]]
fires = true
record = {{ contract_id = "C9", amount = 5, contract_date = "2025-03-03", method = "수의" }}

[[rule.example]]
fires = false
record = {{ contract_id = "C9", amount = 5, contract_date = "2025-03-03", method = "수의", sole_source_ground = "g" }}
"""

CITY = """
[store]
url = "sqlite:///var/naebu.sqlite"
[rules]
paths = ["rules"]
[sources.sales]
kind = "files"
dataset = "property_sales"
path = "sales"
[sources.receipts]
kind = "files"
dataset = "receipts"
path = "receipts"
[sources.contracts]
kind = "files"
dataset = "contracts"
path = "contracts"
"""

NOW = datetime(2025, 9, 1, 9)


def _city(tmp_path: Path) -> Path:
    config = write_config(tmp_path, CITY)
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "r.toml").write_text(RULES, encoding="utf-8")
    for folder in ("sales", "receipts", "contracts"):
        (tmp_path / folder).mkdir()
    (tmp_path / "sales" / "s.csv").write_text(
        "sale_id,sale_price,contract_date\nS1,100,2025-03-03\nS2,100,2025-03-04\n", encoding="utf-8"
    )
    # the contracts table has no sole_source_ground column: read in naebu's own shape, the
    # column is empty in every record
    (tmp_path / "contracts" / "c.csv").write_text(
        "contract_id,amount,contract_date,method\nC1,5,2025-03-03,수의\nC2,5,2025-03-04,수의\n",
        encoding="utf-8",
    )
    return config


def _alerts(config_url: str) -> set[str]:
    engine = store.connect(config_url)
    try:
        with engine.connect() as conn:
            return {r for (r,) in conn.execute(store.alerts.select().with_only_columns(
                store.alerts.c.rule_id))}  # fmt: skip
    finally:
        engine.dispose()


def test_a_run_does_not_judge_absence_in_data_that_holds_nothing(tmp_path: Path) -> None:
    config = load_config(_city(tmp_path))
    summary = pipeline.run_once(config, now=NOW, deliver=False)
    assert sum(summary.findings.values()) == 0
    blocked = summary.as_json()["not_evaluable"]
    assert blocked["S-LATE"]["empty"] == ["dataset receipts"]
    assert blocked["S-LATE"]["hint"] == "dataset receipts holds no record yet"
    assert blocked["C-NO-GROUND"]["empty"] == ["contracts.sole_source_ground"]
    metas = {r.meta.id: r.meta for r in pipeline.load_ruleset(config).rules}
    lines = "\n".join(pipeline.summary_lines(summary, metas))
    assert "not run: dataset receipts holds no record yet" in lines
    assert "contracts.sole_source_ground is empty in every stored contracts record" in lines
    assert _alerts(config.store_url) == set()

    status = json.loads(run_cli("status", "--format", "json", cwd=tmp_path).stdout)["rules"]
    assert status["S-LATE"]["state"] == "not_evaluable"
    assert status["S-LATE"]["empty"] == ["dataset receipts"]
    text = run_cli("status", cwd=tmp_path).stdout
    assert "S-LATE" in text and "no data: dataset receipts holds no record yet" in text

    # the data comes: a receipt for S1 (in time) and a ground for C2; each rule now looks at
    # the whole history, so the records stored while it could not be judged are judged
    (tmp_path / "receipts" / "r.csv").write_text(
        "receipt_id,amount,received_on,ref_id\nR1,100,2025-03-10,S1\n", encoding="utf-8"
    )
    (tmp_path / "contracts" / "c2.csv").write_text(
        "contract_id,amount,contract_date,method,sole_source_ground\nC3,5,2025-03-05,수의,제25조\n",
        encoding="utf-8",
    )
    summary = pipeline.run_once(config, now=NOW, deliver=False)
    assert summary.findings == {"S-LATE": 1, "C-NO-GROUND": 2}
    assert summary.as_json()["not_evaluable"] == {}
    assert _alerts(config.store_url) == {"S-LATE", "C-NO-GROUND"}


def test_a_record_rule_is_judged_once_a_later_batch_fills_the_column(tmp_path: Path) -> None:
    """The batch in hand counts: the first file has no ground, the second has one; the rule
    skips the first batch, forgets its state and judges every record after the pulls."""
    config_path = _city(tmp_path)
    (tmp_path / "contracts" / "d.csv").write_text(
        "contract_id,amount,contract_date,method,sole_source_ground\nC9,5,2025-03-09,수의,\n"
        "C8,5,2025-03-09,수의,제25조\n",
        encoding="utf-8",
    )
    config = load_config(config_path)
    summary = pipeline.run_once(config, now=NOW, deliver=False)
    assert summary.findings["C-NO-GROUND"] == 3  # C1, C2 and C9
    assert "C-NO-GROUND" not in summary.as_json()["not_evaluable"]


def test_absence_of_problems_are_located(tmp_path: Path) -> None:
    (tmp_path / "r.toml").write_text(
        RULES.replace('absence_of = ["sole_source_ground"]', 'absence_of = ["sole_source_grund"]')
        + f'\n[[rule]]\nid = "C-X"\n{HEAD}type = "match"\ndataset = "contracts"\n'
        'when = "amount > 1"\nabsence_of = ["receipts", "method"]\n',
        encoding="utf-8",
    )
    problems = [str(p) for p in load_rules([tmp_path]).problems]
    assert any("C-NO-GROUND" in p and "absence_of" in p and "sole_source_grund" in p
               and "sole_source_ground" in p for p in problems), problems  # fmt: skip
    assert any("C-X" in p and "does not read dataset 'receipts'" in p for p in problems), problems
    assert any("C-X" in p and "does not read 'method'" in p for p in problems), problems


def test_check_data_says_what_the_sample_holds(tmp_path: Path) -> None:
    _city(tmp_path)
    plain = run_cli("check", cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr
    assert "no record" not in plain.stdout and "S-LATE" in plain.stdout
    data = run_cli("check", "--data", cwd=tmp_path)
    assert data.returncode == 0, data.stderr
    assert "S-LATE: dataset receipts holds no record in the first 10,000 rows" in data.stdout
    assert (
        "C-NO-GROUND: contracts.sole_source_ground is empty in every contracts row read "
        "(the first 10,000 rows)" in data.stdout
    )


def test_the_queries_are_cheap_on_a_million_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The province benchmark path: the added questions (one per dataset, one per fact column)
    on a million stored contracts with their indexes. When the fact column holds values the
    query stops at the first one; empty everywhere - the rule is then not run - the table is
    walked once. Counted in SQLite's virtual-machine steps (its progress handler), not in
    milliseconds, so a busy machine cannot fail it (speed itself is bench/'s business)."""
    url = f"sqlite:///{tmp_path / 'big.sqlite'}"
    # The table backend's queries, counted in SQLite steps (a SQLite file keeps its history in
    # segment files by default: test_segments.py).
    monkeypatch.setattr(history, "_forced", ["tables"])
    store.connect(url).dispose()
    raw = sqlite3.connect(tmp_path / "big.sqlite")
    raw.executemany(
        "INSERT INTO rec_contracts (contract_id, amount, contract_date, method, "
        "sole_source_ground, _run_id) VALUES (?, ?, '2025-03-03', '수의', ?, 1)",
        ((f"C{i}", i, "제25조" if i % 10 == 3 else None) for i in range(1_000_000)),
    )
    raw.commit()
    engine = create_engine(url)
    steps = [0]  # thousands of SQLite VM instructions, on every connection of the engine

    def count() -> int:
        steps[0] += 1
        return 0  # go on

    @event.listens_for(engine, "connect")
    def _counted(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.set_progress_handler(count, 1000)

    def cost(work: Any) -> tuple[Any, int]:
        before = steps[0]
        result = work()
        return result, steps[0] - before

    rules = load_rules([_rules_dir(tmp_path)]).rules
    try:
        with engine.connect() as conn:  # a run's engine is warm: its pool holds a connection
            assert data_coverage.holds_records(conn, "contracts")
            # One walk of the table, the unit the questions are held to.
            _, walk = cost(
                lambda: conn.exec_driver_sql(
                    "SELECT count(*) FROM rec_contracts WHERE sole_source_ground IS NOT NULL"
                ).scalar()
            )
        filled, took = cost(lambda: data_coverage.StoreFacts(engine).facts(rules))
        raw.execute("UPDATE rec_contracts SET sole_source_ground = NULL")
        raw.commit()
        empty, worst = cost(lambda: data_coverage.StoreFacts(engine).facts(rules))
    finally:
        raw.close()
        engine.dispose()
    assert filled.empty_columns == set() and filled.empty_datasets == {"receipts"}
    assert empty.empty_columns == {("contracts", "sole_source_ground")}
    print(f"one walk: {walk}k steps; filled: {took}k; empty everywhere: {worst}k")
    assert walk > 1_000  # a million rows is millions of steps: the counter counts
    assert took * 100 < walk, (took, walk)  # stops at the first value: no walk
    assert worst < 2 * walk, (worst, walk)  # empty: one walk, not one per question


def _rules_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir(exist_ok=True)
    (folder / "r.toml").write_text(RULES, encoding="utf-8")
    return folder


def test_the_catalog_says_why_in_korean(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from naebu.inbox.pages import _coverage_row

    config = load_config(_city(tmp_path))
    pipeline.run_once(config, now=NOW, deliver=False)
    rules = load_rules(config.rule_paths, root=config.base_dir).rules
    engine = store.connect(config.store_url)
    try:
        states = data_coverage.store_states(engine, rules, {})
    finally:
        engine.dispose()
    inbox: Any = SimpleNamespace(fallbacks={}, rules={})
    ko = _coverage_row(inbox, "S-LATE", states["S-LATE"], "ko")
    assert ko["coverage"].state == "not_evaluable"
    assert ko["empty"] == ["세입 수납 자료가 한 건도 없어 판단할 수 없음"]
    ground = _coverage_row(inbox, "C-NO-GROUND", states["C-NO-GROUND"], "ko")["empty"][0]
    assert ground.endswith(" 값이 모든 건에서 비어 있어 판단할 수 없음"), ground
    assert "sole_source_ground" not in ground
    en = _coverage_row(inbox, "S-LATE", states["S-LATE"], "en")
    assert en["empty"] == ["dataset receipts holds no record yet"]


def test_backtest_does_not_judge_absence_in_data_that_holds_nothing(tmp_path: Path) -> None:
    _city(tmp_path)
    assert run_cli("run", "--once", "--now", "2025-09-01 09:00", cwd=tmp_path).returncode == 0
    back = run_cli("backtest", "--since", "2025-03-01", "--until", "2025-08-31", cwd=tmp_path)
    assert back.returncode == 0, back.stderr
    assert "no data: dataset receipts holds no record yet" in back.stdout
    assert "no data: contracts.sole_source_ground is empty" in back.stdout
