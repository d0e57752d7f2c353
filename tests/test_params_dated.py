"""Thresholds tied to the law in force: a parameter with values by effective date
(``by_date``, engine/params_dated.py). A record dated the day before an amendment is judged by
the old value, one dated on the amendment day by the new, in match and aggregate rules; the
alert cites the value and since when; rule-file mistakes are located with a hint."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import run_cli, write_config
from python_calls import per_record

from naebu.alerts.cases import group_cases
from naebu.alerts.evidence_text import evidence_lines
from naebu.core import datasets
from naebu.engine.examples import records_frame, run_examples
from naebu.engine.loader import load_rules
from naebu.engine.params_dated import EVIDENCE_KEY, DatedParam, check_lines
from naebu.engine.registry import EvalContext

#: The day the (illustrative) amendment takes effect, and the day before it.
AMENDED, BEFORE = "2025-07-08", "2025-07-07"

HEAD = """
[[rule]]
id = "{id}"
title = "테스트"
title_en = "test"
dataset = "contracts"
severity = "medium"
"""
LIMIT = """
[rule.params.limit]
basis = "지방계약법 시행령 제30조제1항제2호 (예시 개정일)"
label = "1인 견적 수의계약 한도"
unit = "원"
by_date = [
  { from = 2020-01-01, value = 20_000_000 },
  { from = 2025-07-08, value = 30_000_000 },
]
"""
NEAR = (
    HEAD.format(id="T-NEAR")
    + """type = "match"
when = "method == \\"수의\\" and amount >= params.limit * 0.95 and amount <= params.limit"
message = "계약 {contract_id}: {amount:,}원 - 한도 {params.limit:,}원"
"""
    + LIMIT
    + """
[[rule.example]]
fires = true
note = "the day before the amendment: the old limit"
record = { contract_id = "C-1", method = "수의", amount = 19_800_000, contract_date = 2025-07-07 }

[[rule.example]]
fires = false
note = "on the amendment day: the new limit"
record = { contract_id = "C-2", method = "수의", amount = 19_800_000, contract_date = 2025-07-08 }
"""
)
SPLIT = (
    HEAD.format(id="T-SPLIT")
    + """type = "aggregate"
when = "method == \\"수의\\" and amount <= params.limit"
group_by = ["department", "vendor_id"]
window = "90d"
having = "count() >= 2 and sum(amount) > params.limit"
message = "{vendor_id}: 합계 {group.sum_amount:,}원 - 한도 {params.limit:,}원"
"""
    + LIMIT
    + """
[[rule.example]]
fires = true
records = [
  { contract_id = "C-10", department = "회계과", vendor_id = "V1", method = "수의", amount = 15_000_000, contract_date = 2025-07-07 },
  { contract_id = "C-11", department = "회계과", vendor_id = "V1", method = "수의", amount = 10_000_000, contract_date = 2025-06-20 },
]

[[rule.example]]
fires = false
records = [
  { contract_id = "C-12", department = "회계과", vendor_id = "V1", method = "수의", amount = 15_000_000, contract_date = 2025-07-08 },
  { contract_id = "C-13", department = "회계과", vendor_id = "V1", method = "수의", amount = 10_000_000, contract_date = 2025-06-20 },
]
"""
)


def _rules(tmp_path: Path, text: str, name: str = "r.toml"):  # type: ignore[no-untyped-def]
    (tmp_path / name).write_text(text, encoding="utf-8")
    return load_rules([tmp_path], root=tmp_path)


def _frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    frame, bad = records_frame(datasets.get("contracts"), rows, "X", "records")
    assert not bad
    return frame


def _run(rule, rows):  # type: ignore[no-untyped-def]
    now = EvalContext(now=dt.datetime(2026, 1, 1))
    return {f.record_key: f for f in rule.evaluate({"contracts": _frame(rows)}, now)}


def test_match_judges_each_record_by_the_limit_in_force_on_its_date(tmp_path: Path) -> None:
    rules = _rules(tmp_path, NEAR)
    assert rules.problems == []
    assert run_examples(rules.rules) == []
    found = _run(rules.rules[0], [
        # 99% of the old limit: fires the day before, not on the amendment day
        {"contract_id": "A", "method": "수의", "amount": 19_800_000, "contract_date": BEFORE},
        {"contract_id": "B", "method": "수의", "amount": 19_800_000, "contract_date": AMENDED},
        # 97% of the new limit: over the old one the day before, fires on the day
        {"contract_id": "C", "method": "수의", "amount": 29_100_000, "contract_date": BEFORE},
        {"contract_id": "D", "method": "수의", "amount": 29_100_000, "contract_date": AMENDED},
        # before the first date: no limit, not judged
        {"contract_id": "E", "method": "수의", "amount": 19_800_000, "contract_date": "2019-12-31"},
    ])  # fmt: skip
    assert sorted(found) == ["A", "D"]
    assert found["A"].message == "계약 A: 19,800,000원 - 한도 20,000,000원"
    assert found["D"].message == "계약 D: 29,100,000원 - 한도 30,000,000원"
    basis = "지방계약법 시행령 제30조제1항제2호 (예시 개정일)"
    assert found["A"].evidence[EVIDENCE_KEY] == (
        f"1인 견적 수의계약 한도 20,000,000원 (2020-01-01부터 적용, {basis})"
    )
    assert found["D"].evidence[EVIDENCE_KEY] == (
        f"1인 견적 수의계약 한도 30,000,000원 (2025-07-08부터 적용, {basis})"
    )
    # as the digest and `alerts show` render evidence: labelled, in Korean
    lines = dict(evidence_lines(found["D"].evidence, "contracts", "ko"))
    assert lines["적용 기준(시행일)"].startswith(
        "1인 견적 수의계약 한도 30,000,000원 (2025-07-08부터"
    )
    english = dict(evidence_lines(found["D"].evidence, "contracts", "en"))
    assert "threshold in force" in english


def test_aggregate_when_and_having_use_the_limit_in_force(tmp_path: Path) -> None:
    rules = _rules(tmp_path, SPLIT)
    assert rules.problems == []
    assert run_examples(rules.rules) == []
    base = {"department": "회계과", "method": "수의"}
    found = _run(rules.rules[0], [
        # group V1: 25m in a window ending the day before: over the old 20m limit
        {**base, "contract_id": "A1", "vendor_id": "V1", "amount": 15_000_000, "contract_date": "2025-06-20"},
        {**base, "contract_id": "A2", "vendor_id": "V1", "amount": 10_000_000, "contract_date": BEFORE},
        # group V2: the same, ending on the amendment day: under the new 30m limit
        {**base, "contract_id": "B1", "vendor_id": "V2", "amount": 15_000_000, "contract_date": "2025-06-20"},
        {**base, "contract_id": "B2", "vendor_id": "V2", "amount": 10_000_000, "contract_date": AMENDED},
        # group V3: a 25m contract takes part (when) only from the amendment day, under the new limit
        {**base, "contract_id": "C1", "vendor_id": "V3", "amount": 25_000_000, "contract_date": BEFORE},
        {**base, "contract_id": "C2", "vendor_id": "V3", "amount": 8_000_000, "contract_date": BEFORE},
        {**base, "contract_id": "D1", "vendor_id": "V4", "amount": 25_000_000, "contract_date": AMENDED},
        {**base, "contract_id": "D2", "vendor_id": "V4", "amount": 8_000_000, "contract_date": AMENDED},
    ])  # fmt: skip
    assert sorted(found) == ["A1", "A2", "D1", "D2"]
    assert found["A1"].message == "V1: 합계 25,000,000원 - 한도 20,000,000원"
    assert found["D2"].message == "V4: 합계 33,000,000원 - 한도 30,000,000원"
    # the having was judged on the window's last record: the value in force that day
    assert "20,000,000원 (2020-01-01부터" in found["A1"].evidence[EVIDENCE_KEY]
    assert "30,000,000원 (2025-07-08부터" in found["D1"].evidence[EVIDENCE_KEY]
    # one alert per case: the value it was judged by is among the case's own facts
    alerts = {c.members[0].record_key: c.as_finding() for c in group_cases(found.values())}
    assert sorted(alerts) == ["A1", "D1"]
    shown = dict(evidence_lines(alerts["A1"].evidence, "contracts", "ko"))
    assert shown["적용 기준(시행일)"] == (
        "1인 견적 수의계약 한도 20,000,000원 (2020-01-01부터 적용, "
        "지방계약법 시행령 제30조제1항제2호 (예시 개정일))"
    )


def test_first_value_without_a_start_holds_for_every_earlier_date(tmp_path: Path) -> None:
    text = NEAR.replace("{ from = 2020-01-01, value = 20_000_000 }", "{ value = 20_000_000 }")
    rules = _rules(tmp_path, text)
    assert rules.problems == []
    found = _run(rules.rules[0], [
        {"contract_id": "E", "method": "수의", "amount": 19_800_000, "contract_date": "2009-03-01"},
    ])  # fmt: skip
    assert sorted(found) == ["E"]
    assert "(2025-07-08 전까지 적용," in found["E"].evidence[EVIDENCE_KEY]


def test_a_named_date_column_chooses_the_value(tmp_path: Path) -> None:
    text = NEAR.replace('unit = "원"', 'unit = "원"\ndate = "inspection_date"')
    rules = _rules(tmp_path, text)
    assert rules.problems == [], rules.problems
    assert ("contracts", "inspection_date") in rules.rules[0].columns_read
    found = _run(rules.rules[0], [
        {"contract_id": "A", "method": "수의", "amount": 19_800_000,
         "contract_date": BEFORE, "inspection_date": AMENDED},
        {"contract_id": "B", "method": "수의", "amount": 19_800_000,
         "contract_date": AMENDED, "inspection_date": BEFORE},
    ])  # fmt: skip
    assert sorted(found) == ["B"]  # judged by the inspection date


@pytest.mark.parametrize(
    ("change", "key", "message", "hint"),
    [
        (
            (
                "{ from = 2025-07-08, value = 30_000_000 }",
                "{ from = 2019-07-08, value = 30_000_000 }",
            ),
            "params.limit.by_date[1].from",
            "2019-07-08 comes before the previous entry's 2020-01-01",
            "oldest first",
        ),
        (
            (
                "{ from = 2025-07-08, value = 30_000_000 }",
                "{ from = 2020-01-01, value = 30_000_000 }",
            ),
            "params.limit.by_date[1].from",
            "2020-01-01 is given twice",
            "one value per date",
        ),
        (
            ("value = 30_000_000", 'value = "삼천만원"'),
            "params.limit.by_date",
            "values of one parameter must be of one kind",
            "every value",
        ),
        (
            ("value = 30_000_000", "value = [1, 2]"),
            "params.limit.by_date[1].value",
            "must be a number, text or true/false, not list",
            "value = ",
        ),
        (
            ("{ from = 2025-07-08, value = 30_000_000 }", "{ value = 30_000_000 }"),
            "params.limit.by_date[1].from",
            "only the first value may leave out its start",
            "from = ",
        ),
        (
            ("from = 2025-07-08", 'from = "2025-13-01"'),
            "params.limit.by_date[1].from",
            "not a date: '2025-13-01'",
            "year-month-day",
        ),
        (
            ("from = 2025-07-08", "from = 0001-07-08"),
            "params.limit.by_date[1].from",
            "0001-07-08 is out of range",
            "a day from 1900-01-01",
        ),
        (
            ("from = 2025-07-08", "from = 2025-07-08T09:00:00"),
            "params.limit.by_date[1].from",
            "must be a day, not a date and time",
            "from = ",
        ),
        (
            ("from = 2025-07-08, value", "form = 2025-07-08, value"),
            "params.limit.by_date[1].form",
            "unknown key",
            "did you mean 'from'?",
        ),
        (
            ('basis = "지방계약법 시행령 제30조제1항제2호 (예시 개정일)"', 'basis = ""'),
            "params.limit.basis",
            "missing or empty",
            "basis = ",
        ),
        (
            ('unit = "원"', 'unit = "원"\ndate = "title"'),
            "params.limit.date",
            "not a date column 'title' of contracts",
            "date columns:",
        ),
        (
            ('unit = "원"', 'unit = "원"\nlabl = "x"'),
            "params.limit.labl",
            "unknown key of a dated parameter",
            "did you mean 'label'?",
        ),
        (
            ("by_date = [", "by_dates = 1\nby_date = ["),
            "params.limit.by_dates",
            "unknown key of a dated parameter",
            "did you mean 'by_date'?",
        ),
    ],
)
def test_mistakes_are_located_with_a_hint(
    tmp_path: Path, change: tuple[str, str], key: str, message: str, hint: str
) -> None:
    assert change[0] in NEAR
    rules = _rules(tmp_path, NEAR.replace(change[0], change[1], 1))
    assert rules.rules == []
    shown = [str(p) for p in rules.problems]
    assert len(shown) == 1, shown
    problem = rules.problems[0]
    assert (problem.file, problem.rule_id, problem.key) == ("r.toml", "T-NEAR", key), shown
    assert message in problem.message and hint in (problem.hint or ""), shown
    # the line is that of the mistake: the entry, or the key in the parameter's table
    lines = NEAR.replace(change[0], change[1], 1).splitlines()
    assert problem.line is not None
    written = lines[problem.line - 1]
    wanted = change[1].split("\n")[-1].split("=")[0].strip()
    assert wanted in written or key.endswith("by_date"), (problem.line, written)


def test_an_inline_table_works_and_its_mistakes_are_located(tmp_path: Path) -> None:
    inline = (
        'params = { limit = { basis = "제30조", by_date = [{ value = 20_000_000 }, '
        "{ from = 2025-07-08, value = 30_000_000 }] } }\n"
    )
    text = NEAR.replace(LIMIT, "\n" + inline)
    rules = _rules(tmp_path, text)
    assert rules.problems == []
    assert run_examples(rules.rules) == []
    broken = text.replace("{ from = 2025-07-08", '{ from = "2025-7-8"')
    problems = [str(p) for p in _rules(tmp_path, broken).problems]
    line = next(n for n, t in enumerate(broken.splitlines(), 1) if '"2025-7-8"' in t)
    assert problems == [
        f"r.toml:{line}: rule T-NEAR: params.limit.by_date[1].from: not a date: '2025-7-8'"
        " - from = 2025-07-08 (year-month-day)"
    ]


def test_empty_list_and_a_table_without_by_date(tmp_path: Path) -> None:
    empty = NEAR.replace(LIMIT, '\n[rule.params.limit]\nbasis = "x"\nby_date = []\n')
    problems = [str(p) for p in _rules(tmp_path, empty).problems]
    line = empty.splitlines().index("by_date = []") + 1
    assert problems == [
        f"r.toml:{line}: rule T-NEAR: params.limit.by_date: must be a list of "
        "{ from = DATE, value = ... }"
        ' - { basis = "...제30조", by_date = [{ value = 20_000_000 }, '
        "{ from = 2025-07-08, value = 30_000_000 }] }"
    ]
    table = NEAR.replace(LIMIT, "\nparams = { limit = { value = 1 } }\n")
    problems = [str(p) for p in _rules(tmp_path, table).problems]
    assert len(problems) == 1 and "params.limit: a parameter table needs by_date" in problems[0]


def test_a_dated_value_where_a_fixed_one_is_needed_is_refused(tmp_path: Path) -> None:
    text = NEAR.replace('when = "method', 'when = "round(amount, params.limit) > 0 and method', 1)
    problems = [str(p) for p in _rules(tmp_path, text).problems]
    assert len(problems) == 1, problems
    assert "when: argument 2 of round() must be a fixed value" in problems[0]
    assert "params.limit changes with the record's date" in problems[0]


def test_a_name_both_dated_and_by_government_is_refused(tmp_path: Path) -> None:
    text = NEAR + '\n[rule.params.by_government]\nlimit = { default = 1, basis = "x" }\n'
    # the example tables come after: move by_government up, inside the rule's tables
    text = NEAR.replace(
        "\n[[rule.example]]",
        '\n[rule.params.by_government]\nlimit = { default = 1, basis = "x" }\n\n[[rule.example]]',
        1,
    )
    problems = [str(p) for p in _rules(tmp_path, text).problems]
    assert len(problems) == 1, problems
    assert "params.by_government.limit: params.limit is also given a fixed value" in problems[0]


def test_naebu_check_shows_the_values_and_the_one_in_force(tmp_path: Path) -> None:
    rules = _rules(tmp_path, NEAR)
    lines = check_lines(rules.rules, dt.date(2025, 7, 7))
    assert lines == [
        "thresholds by date:",
        "  T-NEAR params.limit by contract_date - 지방계약법 시행령 제30조제1항제2호 (예시 개정일)",
        "    before 2020-01-01: no value (records not judged)",
        "    from 2020-01-01 to 2025-07-07: 20,000,000원  <- in force today",
        "    from 2025-07-08: 30,000,000원",
    ]
    folder = tmp_path / "pack"
    folder.mkdir()
    (folder / "near.toml").write_text(NEAR, encoding="utf-8")
    config = write_config(
        tmp_path, f'[rules]\npaths = ["{folder}"]\n[store]\nurl = "sqlite:///var/s.db"\n'
    )
    result = run_cli("check", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "thresholds by date:" in result.stdout
    assert "    from 2020-01-01 to 2025-07-07: 20,000,000원" in result.stdout
    assert "    from 2025-07-08: 30,000,000원  <- in force today" in result.stdout


def test_values_are_chosen_for_a_million_dates_at_once() -> None:
    param = DatedParam("limit", (dt.date(2020, 1, 1), dt.date(2025, 7, 8)),
                       (20_000_000, 30_000_000), "x", "contract_date")  # fmt: skip
    days = (np.datetime64("2019-01-01") + np.arange(1_000_000) % 3650).astype("datetime64[ns]")
    days[::7] = np.datetime64("NaT")  # a record without a date has no value
    values = param.values_at(days)
    # One searchsorted, no Python per record (counted in calls, not timed).
    assert per_record(lambda n: param.values_at(days[:n]), 1_000, 1_000_000) < 0.001
    expected = np.where(days < np.datetime64("2020-01-01"), np.nan,
                        np.where(days < np.datetime64("2025-07-08"), 20e6, 30e6))  # fmt: skip
    expected[::7] = np.nan
    np.testing.assert_array_equal(values.to_numpy(), expected)


def test_alerts_show_cites_the_value_in_force(tmp_path: Path) -> None:
    """The store keeps the citation with the alert; `naebu alerts show` reads it out."""
    from servers import employees_frame

    from naebu.alerts import Directory, raise_alerts
    from naebu.alerts.officials import sync_officials
    from naebu.alerts.routing_settings import RoutingConfig
    from naebu.store import tables as store

    write_config(tmp_path, '[store]\nurl = "sqlite:///store.sqlite"\n')
    (tmp_path / "rules").mkdir()
    rules = _rules(tmp_path / "rules", NEAR)
    found = _run(rules.rules[0], [
        {"contract_id": "A", "department": "재무과", "official_id": "E001", "method": "수의",
         "amount": 19_800_000, "contract_date": BEFORE},
    ])  # fmt: skip
    now = dt.datetime(2025, 7, 10, 9, 0)
    directory = Directory.from_frame(employees_frame(), routing=RoutingConfig())
    engine = store.connect("sqlite:///" + str(tmp_path / "store.sqlite"))
    with engine.begin() as conn:
        sync_officials(conn, directory, now=now)
        raise_alerts(conn, list(found.values()), {r.meta.id: r.meta for r in rules.rules},
                     directory, run_id=None, now=now)  # fmt: skip
    engine.dispose()
    result = run_cli("alerts", "show", "1", "--now", "2025-07-10", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "적용 기준(시행일)" in result.stdout
    assert "1인 견적 수의계약 한도 20,000,000원 (2020-01-01부터 적용" in result.stdout
