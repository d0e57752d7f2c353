"""Rules know what they read; a rule no source can feed is not evaluable, not run, and says so.

engine/coverage.py: the inputs of every rule type, the columns a config provides, the three
states; optional inputs and ``[rule.fallback]``; and the places coverage shows: ``naebu
check`` (exit codes, ``--strict``), the run (not run, in the summary), ``naebu status``,
``naebu test-rule`` (its "0 findings" explanation) and ``backtest``.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from conftest import run_cli, write_config

from naebu import pipeline
from naebu.core import datasets
from naebu.engine import coverage
from naebu.engine.coverage import Coverage, provided, rule_inputs
from naebu.engine.examples import run_examples
from naebu.engine.loader import load_rules
from naebu.settings.config import load_config
from naebu.store import history
from naebu.store import tables as store

HEAD = 'title = "t"\ntitle_en = "t"\nseverity = "low"\n'

RULES = f"""
[list]
name = "bad_categories"
items = ["유흥주점"]

[[rule]]
id = "M-JOIN"
{HEAD}type = "match"
dataset = "payments"
join = [{{ alias = "vendor", dataset = "vendors", on = {{ vendor_id = "vendor_id" }} }}]
when = "not_null(vendor.account_no) and payee_account != vendor.account_no"
message = "{{payment_id}} {{payee_name}}"

[[rule]]
id = "M-LOOKUP"
{HEAD}type = "match"
dataset = "payments"
when = "payee_account in employees.account_no"

[[rule]]
id = "M-LIST"
{HEAD}type = "match"
dataset = "card_transactions"
when = "merchant_category in lists.bad_categories"

[[rule]]
id = "A-SPLIT"
{HEAD}type = "aggregate"
dataset = "card_transactions"
group_by = ["department", "normalize(merchant_name)"]
window = "day"
having = "count() >= 2 and sum(amount) > 500_000"

[[rule]]
id = "D-DUP"
{HEAD}type = "duplicate"
dataset = "payments"
keys = ["vendor_id", "amount"]
window = "30d"
distinct = "invoice_no"
when = "amount > 0"

[[rule]]
id = "O-OUT"
{HEAD}type = "outlier"
dataset = "card_transactions"
value = "amount"
peer_group = ["merchant_category"]

[[rule]]
id = "S-SEQ"
{HEAD}type = "sequence"
dataset = "property_sales"
first = {{ dataset = "property_sales", time = "contract_date", when = "sale_price > 0" }}
then = {{ dataset = "receipts", time = "received_on", when = "ref_type == \\"property_sale\\"" }}
match = {{ sale_id = "ref_id" }}
within = "60d"
expect = "absent"
complete = {{ sum = "amount", at_least = "sale_price" }}
"""


def _rules(tmp_path: Path, text: str = RULES) -> dict[str, Any]:
    (tmp_path / "r.toml").write_text(text, encoding="utf-8")
    ruleset = load_rules([tmp_path / "r.toml"], root=tmp_path)
    assert [str(p) for p in ruleset.problems] == []
    return ruleset.by_id()


def _pairs(*items: str) -> frozenset[tuple[str, str]]:
    return frozenset(tuple(i.split(".")) for i in items)  # type: ignore[misc]


# -- what each rule type reads -----------------------------------------------------------------


def test_inputs_of_every_rule_type(tmp_path: Path) -> None:
    rules = _rules(tmp_path)
    join = rule_inputs(rules["M-JOIN"])
    # the condition's columns, the joined ones of their dataset, both join keys; not the message
    assert join.required == _pairs(
        "payments.payee_account", "vendors.account_no", "payments.vendor_id", "vendors.vendor_id"
    )
    assert join.datasets == {"payments", "vendors"}
    lookup = rule_inputs(rules["M-LOOKUP"])
    assert lookup.required == _pairs("payments.payee_account", "employees.account_no")
    assert lookup.datasets == {"payments", "employees"}
    listed = rule_inputs(rules["M-LIST"])
    assert listed.lists == {"bad_categories"}
    assert listed.required == _pairs("card_transactions.merchant_category")
    assert rule_inputs(rules["A-SPLIT"]).required == _pairs(
        "card_transactions.department",
        "card_transactions.merchant_name",
        "card_transactions.amount",
        "card_transactions.approved_date",
    )
    assert rule_inputs(rules["D-DUP"]).required == _pairs(
        "payments.vendor_id", "payments.amount", "payments.invoice_no", "payments.paid_on"
    )
    assert rule_inputs(rules["O-OUT"]).required == _pairs(
        "card_transactions.amount", "card_transactions.merchant_category"
    )
    seq = rule_inputs(rules["S-SEQ"])
    assert seq.required == _pairs(
        "property_sales.contract_date",
        "property_sales.sale_id",
        "property_sales.sale_price",
        "receipts.received_on",
        "receipts.ref_id",
        "receipts.ref_type",
        "receipts.amount",
    )
    assert seq.datasets == {"property_sales", "receipts"}
    assert seq.optional == frozenset()


# -- what a config provides ----------------------------------------------------------------------


def _source(name: str, dataset: str, **fields: Any) -> SimpleNamespace:
    base = {"columns": {}, "formats": {}, "enabled": True}
    return SimpleNamespace(name=name, dataset=dataset, **(base | fields))


def _config(*sources: SimpleNamespace) -> Any:
    return SimpleNamespace(sources={s.name: s for s in sources})


def test_provided_by_mapping_constants_derive_key_and_merge_on() -> None:
    config = _config(
        _source("ledger", "payments", columns={"amount": "지급액"}, formats={"paid_on": "%Y%m%d"}),
        _source(
            "cards",
            "card_transactions",
            columns={"amount": "승인금액"},
            constants={"payment_method": "카드"},
            derive={"attendees": "to_number(인원)"},
            merge_on=["holder_id", "approved_date"],
        ),  # fmt: skip
        _source("by_name", "vendors"),  # maps nothing: naebu's own shape, read by name
        _source("off", "accounts", enabled=False),
    )
    given = provided(config.sources)
    # the key (and the columns the dataset requires) always: a source lacking one fails whole
    assert given["payments"] == {"payment_id", "amount", "paid_on"}
    assert given["card_transactions"] >= {
        "approval_id", "amount", "payment_method", "attendees", "holder_id", "approved_date",
    }  # fmt: skip
    assert "approved_time" not in given["card_transactions"]
    assert "account_no" in given["vendors"]
    assert "accounts" not in given


def test_states_live_not_evaluable_partial(tmp_path: Path) -> None:
    rules = _rules(tmp_path)
    everything = {
        "payments": frozenset({"payment_id", "vendor_id", "payee_account", "amount", "paid_on",
                               "invoice_no"}),
        "vendors": frozenset({"vendor_id", "account_no"}),
    }  # fmt: skip
    assert coverage.coverage(rules["M-JOIN"], everything).state == "live"
    no_vendors = {"payments": everything["payments"]}
    state = coverage.coverage(rules["M-JOIN"], no_vendors)
    assert (state.state, state.missing) == ("not_evaluable", ("dataset vendors",))
    assert (
        state.hint == 'no source feeds dataset vendors: add a [sources.*] with dataset = "vendors"'
    )
    lacking = {**everything, "payments": everything["payments"] - {"payee_account"}}
    state = coverage.coverage(rules["M-JOIN"], lacking, sources={"payments": ["ledger"]})
    assert state.missing == ("payments.payee_account",)
    assert "[sources.ledger.columns]" in state.hint and "payee_account" in state.hint
    assert coverage.runnable(rules["M-JOIN"], state) is None


FALLBACK = f"""
[[rule]]
id = "DUP"
{HEAD}type = "duplicate"
dataset = "payments"
keys = ["vendor_id", "amount", "invoice_no"]
window = "60d"
optional = ["invoice_no"]
message = "{{payment_id}} 계산서 {{invoice_no}}"

[[rule.example]]
fires = true
records = [ {{ payment_id = "P1", vendor_id = "V", amount = 5, invoice_no = "I", paid_on = "2025-06-01" }},
            {{ payment_id = "P2", vendor_id = "V", amount = 5, invoice_no = "I", paid_on = "2025-06-20" }} ]

[[rule.example]]
fires = false
records = [ {{ payment_id = "P1", vendor_id = "V", amount = 5, invoice_no = "I", paid_on = "2025-06-01" }},
            {{ payment_id = "P2", vendor_id = "V", amount = 5, invoice_no = "J", paid_on = "2025-06-20" }} ]

[rule.fallback]
keys = ["vendor_id", "amount"]
window = "7d"
message = "{{payment_id}}"

[[rule.fallback.example]]
fires = true
records = [ {{ payment_id = "P1", vendor_id = "V", amount = 5, paid_on = "2025-06-01" }},
            {{ payment_id = "P2", vendor_id = "V", amount = 5, paid_on = "2025-06-03" }} ]

[[rule.fallback.example]]
fires = false
records = [ {{ payment_id = "P1", vendor_id = "V", amount = 5, paid_on = "2025-06-01" }},
            {{ payment_id = "P2", vendor_id = "V", amount = 5, paid_on = "2025-06-20" }} ]
"""


def test_optional_input_and_fallback(tmp_path: Path) -> None:
    rule = _rules(tmp_path, FALLBACK)["DUP"]
    inputs = rule_inputs(rule)
    assert inputs.optional == _pairs("payments.invoice_no")
    assert ("payments", "invoice_no") not in inputs.required
    assert rule.fallback is not None and run_examples([rule]) == []
    full = {"payments": frozenset({"payment_id", "vendor_id", "amount", "paid_on", "invoice_no"})}
    assert coverage.coverage(rule, full).live
    state = coverage.coverage(rule, {"payments": full["payments"] - {"invoice_no"}})
    assert (state.state, state.absent_optional, state.uses_fallback) == (
        "partial", ("payments.invoice_no",), True,
    )  # fmt: skip
    assert coverage.runnable(rule, state) is rule.fallback
    # the fallback's own inputs must be there too
    state = coverage.coverage(rule, {"payments": frozenset({"payment_id", "amount", "paid_on"})})
    assert state.state == "not_evaluable" and "payments.vendor_id" in state.missing


def test_fallback_problems_are_located(tmp_path: Path) -> None:
    def problems(text: str) -> list[str]:
        (tmp_path / "r.toml").write_text(text, encoding="utf-8")
        ruleset = load_rules([tmp_path / "r.toml"], root=tmp_path)
        return [str(p) for p in ruleset.problems] + [str(p) for p in run_examples(ruleset.rules)]

    reads_optional = FALLBACK.replace('keys = ["vendor_id", "amount"]\nwindow = "7d"',
                                      'keys = ["vendor_id", "invoice_no"]\nwindow = "7d"')  # fmt: skip
    assert any("fallback: the fallback reads the optional input 'invoice_no'" in p
               for p in problems(reads_optional))  # fmt: skip
    no_optional = FALLBACK.replace('optional = ["invoice_no"]\n', "")
    assert any("fallback: a fallback needs optional inputs" in p for p in problems(no_optional))
    unread = FALLBACK.replace('optional = ["invoice_no"]', 'optional = ["purpose"]')
    assert any("optional: the rule does not read 'purpose'" in p for p in problems(unread))
    typo = FALLBACK.replace('window = "7d"', 'window = "7d"\nwindwo = "1d"')
    assert any("fallback.windwo: unknown key - did you mean 'window'?" in p for p in problems(typo))
    bad_key = FALLBACK.replace('keys = ["vendor_id", "amount"]', 'keys = ["vendor"]')
    assert any("fallback.keys: unknown column 'vendor'" in p for p in problems(bad_key))
    bad_window = FALLBACK.replace('window = "7d"', 'window = "7days"')
    assert any(p.startswith("r.toml:26: rule DUP: fallback.window: invalid window '7days'")
               for p in problems(bad_window))  # fmt: skip
    wrong = FALLBACK.replace('paid_on = "2025-06-03"', 'paid_on = "2025-06-30"')
    assert (
        "r.toml:29: rule DUP: fallback.example[0]: example should fire but does not - check the "
        "condition and params against this record"
    ) in problems(wrong)


def test_pay_duplicate_falls_back_without_invoice_numbers() -> None:
    root = Path(__file__).resolve().parents[1]
    rule = load_rules([root / "rules" / "payments" / "vouchers.toml"]).by_id()["PAY-DUPLICATE"]
    assert rule_inputs(rule).optional == _pairs("payments.invoice_no")
    assert rule.fallback is not None
    assert rule_inputs(rule.fallback).required == _pairs(
        "payments.vendor_id", "payments.amount", "payments.paid_on", "payments.payment_id"
    )


def test_describe_in_plain_words() -> None:
    assert coverage.describe("dataset accounts") == "공금 계좌 자료 전체"
    assert coverage.describe("dataset employees") == "직원 자료 전체"
    assert coverage.describe("payments.payment_id") == "지출 자료의 지출결의번호"
    assert coverage.describe("payments.invoice_no") == "지출 자료의 세금계산서 승인번호"
    assert coverage.describe("attendance.overtime_hours") == "근태 자료의 초과근무시간"
    assert coverage.describe("payments.invoice_no", "en") == "invoice number (payments)"
    assert coverage.describe("permits.due_on", "en") == "statutory deadline (permits)"
    assert coverage.describe("dataset accounts", "en") == "all accounts records"
    # every column of every dataset, in Korean: its label, never its name nor English
    for dataset in datasets.DATASETS.values():
        for column in dataset.columns:
            text = coverage.describe(f"{dataset.name}.{column.name}")
            assert text == f"{dataset.title.split(' (')[0]} 자료의 {column.label}"
            assert column.name not in text and not any("a" <= ch <= "z" for ch in text), text


# -- the commands and the run --------------------------------------------------------------------

CITY_RULES = f"""
[[rule]]
id = "PAY-BIG"
{HEAD}type = "match"
dataset = "payments"
when = "amount > 1000"

[[rule.example]]
fires = true
record = {{ amount = 2000, paid_on = "2025-06-02" }}

[[rule.example]]
fires = false
record = {{ amount = 10, paid_on = "2025-06-02" }}

[[rule]]
id = "PAY-NO-INVOICE"
{HEAD}type = "match"
dataset = "payments"
when = "is_null(invoice_no)"

[[rule.example]]
fires = true
record = {{ amount = 2000, paid_on = "2025-06-02" }}

[[rule.example]]
fires = false
record = {{ amount = 10, invoice_no = "I-1", paid_on = "2025-06-02" }}
"""

CITY = """
[store]
url = "sqlite:///var/naebu.sqlite"
[rules]
paths = ["rules"]
[sources.ledger]
kind = "files"
dataset = "payments"
path = "drop"
[sources.ledger.columns]
payment_id = "번호"
amount = "금액"
paid_on = "지급일"
"""


def _city(tmp_path: Path) -> Path:
    config = write_config(tmp_path, CITY)
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "r.toml").write_text(CITY_RULES, encoding="utf-8")
    (tmp_path / "drop").mkdir()
    (tmp_path / "drop" / "pay.csv").write_text(
        "번호,금액,지급일\nP1,5000,2025-06-02\nP2,10,2025-06-03\n", encoding="utf-8"
    )
    return config


def test_check_reports_coverage_and_strict_exits_1(tmp_path: Path) -> None:
    _city(tmp_path)
    result = run_cli("check", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("OK:")
    assert "coverage: 1 live, 0 partial, 1 not evaluable" in out
    assert "PAY-BIG         live" in out
    assert "PAY-NO-INVOICE  not evaluable (missing payments.invoice_no)" in out
    assert 'hint: add invoice_no = "<source column>" to [sources.ledger.columns]' in out
    assert "warning: 1 rule(s) not evaluable" in out
    strict = run_cli("check", "--strict", cwd=tmp_path)
    assert strict.returncode == 1
    assert "1 rule(s) not evaluable" in strict.stderr and "Traceback" not in strict.stderr


def test_a_run_does_not_run_a_not_evaluable_rule(tmp_path: Path) -> None:
    config = load_config(_city(tmp_path))
    summary = pipeline.run_once(config, now=datetime(2025, 7, 1, 9), deliver=False)
    # unmapped, invoice_no is null in every record: run, the rule would fire on all of them
    assert summary.findings == {"PAY-BIG": 1}
    assert summary.as_json()["not_evaluable"] == {
        "PAY-NO-INVOICE": {
            "state": "not_evaluable",
            "missing": ["payments.invoice_no"],
            "absent_optional": [],
            "hint": 'add invoice_no = "<source column>" to [sources.ledger.columns] '
            "(or a constant or derived column)",
            "fallback": False,
        }
    }
    metas = {r.meta.id: r.meta for r in pipeline.load_ruleset(config).rules}
    lines = "\n".join(pipeline.summary_lines(summary, metas))
    assert "NOT EVALUABLE (평가 불가), not run: missing payments.invoice_no" in lines
    engine = store.connect(config.store_url)
    try:
        with engine.connect() as conn:
            rules = {r for (r,) in conn.execute(store.alerts.select().with_only_columns(
                store.alerts.c.rule_id))}  # fmt: skip
    finally:
        engine.dispose()
    assert rules == {"PAY-BIG"}


def test_status_and_test_rule_and_backtest(tmp_path: Path) -> None:
    _city(tmp_path)
    assert run_cli("run", "--once", "--now", "2025-07-01 09:00", cwd=tmp_path).returncode == 0
    status = run_cli("status", "--format", "json", cwd=tmp_path)
    rules = json.loads(status.stdout)["rules"]
    assert rules["PAY-BIG"]["state"] == "live"
    assert rules["PAY-NO-INVOICE"]["missing"] == ["payments.invoice_no"]
    text = run_cli("status", cwd=tmp_path).stdout
    assert "PAY-NO-INVOICE  not evaluable (missing payments.invoice_no)" in text

    blocked = run_cli("test-rule", "PAY-NO-INVOICE", cwd=tmp_path)
    assert blocked.returncode == 0
    assert "not evaluable (missing payments.invoice_no): the rule is not run" in blocked.stdout

    back = run_cli("backtest", "--since", "2025-06-01", "--until", "2025-06-30", cwd=tmp_path)
    assert back.returncode == 0, back.stderr
    assert "PAY-NO-INVOICE           not evaluable (missing payments.invoice_no)" in back.stdout


def test_test_rule_explains_zero_findings(tmp_path: Path) -> None:
    _city(tmp_path)
    data = tmp_path / "pay.csv"
    data.write_text(
        "payment_id,amount,paid_on,official_id,approver_id\n"
        "P1,5000,2025-06-02,E1,\nP2,10,2025-06-03,E2,\n",
        encoding="utf-8",
    )
    (tmp_path / "rules" / "self.toml").write_text(
        CITY_RULES.replace("PAY-BIG", "PAY-SELF")
        .replace("amount > 1000", "official_id == approver_id")
        .replace("{ amount = 2000,", '{ official_id = "E1", approver_id = "E1",', 1)
        .split('[[rule]]\nid = "PAY-NO-INVOICE"')[0],
        encoding="utf-8",
    )
    result = run_cli("test-rule", "PAY-SELF", "--data", str(data), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (
        "0 findings: approver_id is empty in every one of 2 records - the rule never fires "
        "without it"
    ) in result.stdout


def test_coverage_json_round_trip() -> None:
    state = Coverage("R", "partial", (), ("payments.invoice_no",), "add it", True)
    assert state.as_json()["fallback"] is True and state.evaluable and not state.live


def test_the_catalog_shows_coverage_in_plain_korean(tmp_path: Path) -> None:
    from test_web_helpers import live_server, login, web_city

    # the web test city has no source at all: its rule on payments cannot be evaluated
    city = web_city(tmp_path, now=datetime(2025, 6, 10, 9))
    with live_server(city) as server, server.client() as client:
        assert login(client, "E030").status_code == 303
        page = client.get("/rules")
        english = client.get("/rules?lang=en")
    assert page.status_code == 200
    assert "평가 불가" in page.text
    assert "지출 자료 전체" in page.text  # the dataset's title, not "dataset payments"
    assert "dataset payments" not in page.text
    assert "Not evaluable" in english.text and "all payments records" in english.text


def test_the_catalog_names_missing_columns_by_their_korean_labels(tmp_path: Path) -> None:
    from test_web_helpers import live_server, login, web_city

    # payments are fed, but without invoice numbers or payee accounts: a rule reading them
    # cannot be evaluated, and the catalog says what is missing the way officials call it
    city = web_city(tmp_path, now=datetime(2025, 6, 10, 9))
    source = CITY.split("[sources.ledger]", 1)[1]
    config = city.config_path.read_text(encoding="utf-8") + "[sources.ledger]" + source
    city.config_path.write_text(config, encoding="utf-8")
    (tmp_path / "rules" / "invoice.toml").write_text(
        f'[[rule]]\nid = "PAY-NO-INVOICE"\n{HEAD}type = "match"\ndataset = "payments"\n'
        'when = "is_null(invoice_no) and not_null(payee_account)"\n',
        encoding="utf-8",
    )
    with live_server(city) as server, server.client() as client:
        assert login(client, "E030").status_code == 303
        page = client.get("/rules").text
        english = client.get("/rules?lang=en").text
    section = page.split('id="PAY-NO-INVOICE"', 1)[1].split("</section>", 1)[0]
    assert "평가 불가" in section
    assert "지출 자료의 세금계산서 승인번호" in section and "지출 자료의 채주 계좌번호" in section
    assert "데이터: 지출 ·" in section  # the dataset the rule reads, by its title
    for column in datasets.get("payments").column_names:
        assert column not in section, column
    assert "payments" not in section
    assert "invoice number (payments)" in english and "account paid into (payments)" in english


def test_every_column_has_a_korean_label_unique_in_its_dataset() -> None:
    for dataset in datasets.DATASETS.values():
        labels = [c.label for c in dataset.columns]
        for column in dataset.columns:
            assert any("\uac00" <= ch <= "\ud7a3" for ch in column.label), (
                f"{dataset.name}.{column.name} has no Korean label"
            )
            assert column.description, f"{dataset.name}.{column.name} has no description"
        duplicated = sorted({label for label in labels if labels.count(label) > 1})
        assert not duplicated, f"{dataset.name}: labels used twice: {duplicated}"


def test_a_run_runs_the_fallback_and_forgets_a_blocked_rules_state(tmp_path: Path) -> None:
    config_path = write_config(
        tmp_path, CITY.replace('amount = "금액"', 'amount = "금액"\nvendor_id = "거래처"')
    )
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "r.toml").write_text(FALLBACK, encoding="utf-8")
    (tmp_path / "drop").mkdir()
    (tmp_path / "drop" / "pay.csv").write_text(
        "번호,거래처,금액,지급일\nP1,V,5,2025-06-01\nP2,V,5,2025-06-03\n", encoding="utf-8"
    )
    config = load_config(config_path)
    summary = pipeline.run_once(config, now=datetime(2025, 7, 1, 9), deliver=False)
    # no invoice numbers: the fallback (same vendor and amount within 7 days) ran
    assert summary.findings == {"DUP": 2}
    assert summary.as_json()["partial"]["DUP"]["absent_optional"] == ["payments.invoice_no"]
    metas = {r.meta.id: r.meta for r in pipeline.load_ruleset(config).rules}
    assert "[partial: payments.invoice_no absent, fallback ran]" in "\n".join(
        pipeline.summary_lines(summary, metas)
    )

    def state() -> set[str]:
        engine = store.connect(config.store_url)
        try:
            with engine.connect() as conn:
                return set(conn.execute(history.rule_state.select()).scalars())
        finally:
            engine.dispose()

    assert state() == {"DUP"}
    # the vendor column goes: even the fallback cannot run; the rule forgets where it was, so
    # once it can run again it looks at the whole history
    blocked = load_config(write_config(tmp_path, CITY))
    summary = pipeline.run_once(blocked, now=datetime(2025, 7, 2, 9), deliver=False)
    assert "DUP" in summary.as_json()["not_evaluable"] and not summary.findings
    assert state() == set()
