"""Rule message templates: fields, formats, value rendering, located errors, and safety."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from naebu.engine.expr import ExprError
from naebu.engine.template import MessageTemplate, compile_template, format_value, render_evidence

COLUMNS = {
    "sale_id": "str",
    "sale_price": "number",
    "appraisal_mean": "number",
    "appraisal_count": "int",
    "contract_date": "date",
    "approved_time": "time",
    "updated_at": "datetime",
    "active": "bool",
    "부서명": "str",
}
PARAMS = {
    "min_ratio": 0.95,
    "categories": ["유흥주점", "골프장"],
    "limit": 20_000_000,
    "since": dt.date(2024, 3, 1),
}
SALE = "매각 {sale_id}: 매각가 {sale_price:,}원 < 감정평가 평균 {appraisal_mean:,}원"


def compile_(text: str) -> MessageTemplate:
    return compile_template(text, COLUMNS, PARAMS)


def error(text: str) -> tuple[str, int, str | None]:
    """(message, offset, hint) of the single problem ``text`` raises."""
    with pytest.raises(ExprError) as info:
        compile_(text)
    assert len(info.value.problems) == 1, info.value.problems
    p = info.value.problems[0]
    return p.message, p.offset, p.hint


def test_sale_message_from_a_pandas_row() -> None:
    frame = pd.DataFrame(
        {
            "sale_id": pd.Series(["S-1"], dtype="str"),
            "sale_price": [90_000_000.0],
            "appraisal_mean": [100_000_000.5],
        }
    )
    record = frame.to_dict("records")[0]
    assert (
        compile_(SALE).render(record)
        == "매각 S-1: 매각가 90,000,000원 < 감정평가 평균 100,000,000.5원"
    )


def test_columns_used() -> None:
    template = compile_(SALE + " ({params.min_ratio})")
    assert template.columns_used == frozenset({"sale_id", "sale_price", "appraisal_mean"})
    assert [f.name for f in template.fields] == [
        "sale_id",
        "sale_price",
        "appraisal_mean",
        "params.min_ratio",
    ]


@pytest.mark.parametrize(
    ("text", "record", "expected"),
    [
        ("{sale_price}", {"sale_price": 90_000_000.0}, "90000000"),
        ("{sale_price:,}", {"sale_price": 90_000_000.0}, "90,000,000"),
        ("{sale_price:,}", {"sale_price": np.float64(1234.5)}, "1,234.5"),
        ("{sale_price:.2f}", {"sale_price": 3.14159}, "3.14"),
        ("{sale_price:,.1f}", {"sale_price": 1234567.25}, "1,234,567.2"),
        ("{sale_price:,.0f}", {"sale_price": 1234567.6}, "1,234,568"),
        ("{sale_price:d}", {"sale_price": 41.7}, "42"),
        ("{sale_price}", {"sale_price": 0.95}, "0.95"),
        ("{appraisal_count}", {"appraisal_count": np.int64(3)}, "3"),
        ("{appraisal_count:,}", {"appraisal_count": 12345}, "12,345"),
        ("{sale_price:,}", {"sale_price": "90000000"}, "90,000,000"),
        ("{contract_date}", {"contract_date": pd.Timestamp("2024-03-01")}, "2024-03-01"),
        ("{contract_date}", {"contract_date": dt.date(2024, 3, 1)}, "2024-03-01"),
        ("{contract_date}", {"contract_date": "2024-03-01"}, "2024-03-01"),
        ("{updated_at}", {"updated_at": pd.Timestamp("2024-03-01 09:05:59")}, "2024-03-01 09:05"),
        ("{updated_at}", {"updated_at": "2024-03-01 09:05:59"}, "2024-03-01 09:05"),
        ("{approved_time}", {"approved_time": pd.Timedelta("23:07:00")}, "23:07"),
        ("{approved_time}", {"approved_time": dt.time(6, 0)}, "06:00"),
        ("{approved_time}", {"approved_time": "23:07:00"}, "23:07"),
        ("{approved_time}", {"approved_time": "7:05"}, "07:05"),
        ("{active}", {"active": True}, "예"),
        ("{active}", {"active": np.bool_(False)}, "아니오"),
        ("{부서명}", {"부서명": "감사관"}, "감사관"),
        ("{sale_id}", {"sale_id": "A{0}B"}, "A{0}B"),  # values are never formatted again
    ],
)
def test_values_render_as_officials_read_them(text: str, record: dict, expected: str) -> None:
    assert compile_(text).render(record) == expected


@pytest.mark.parametrize("null", [None, np.nan, pd.NA, pd.NaT, "", "   "])
@pytest.mark.parametrize(
    "field", ["sale_id", "sale_price:,", "contract_date", "approved_time", "updated_at", "active"]
)
def test_nulls_render_as_dash(field: str, null: object) -> None:
    name = field.split(":")[0]
    assert compile_("{" + field + "}").render({name: null}) == "-"


def test_missing_key_renders_as_dash() -> None:
    assert compile_(SALE).render({}) == "매각 -: 매각가 -원 < 감정평가 평균 -원"


def test_params_fields() -> None:
    template = compile_(
        "기준 {params.min_ratio:.2f}, 한도 {params.limit:,}원, 업종 {params.categories}, 기준일 {params.since}"
    )
    assert (
        template.render({})
        == "기준 0.95, 한도 20,000,000원, 업종 유흥주점, 골프장, 기준일 2024-03-01"
    )


def test_brace_escapes() -> None:
    assert compile_("{{sale_id}} = {sale_id} }}").render({"sale_id": "S"}) == "{sale_id} = S }"
    assert compile_("no fields").render({}) == "no fields"
    assert compile_("").render({}) == ""


def test_whitespace_inside_braces_is_tolerated() -> None:
    assert compile_("{ sale_id }").render({"sale_id": "S"}) == "S"


@pytest.mark.parametrize(
    ("text", "message", "offset"),
    [
        ("{x.__class__}", "attribute access is not allowed: {x.__class__}", 2),
        ("매각 {sale_id.__class__}", "attribute access is not allowed: {sale_id.__class__}", 11),
        (
            "{sale_id.__class__.__init__.__globals__}",
            "attribute access is not allowed: {sale_id.__class__.__init__.__globals__}",
            8,
        ),
        ("{params.min_ratio.real}", "attribute access is not allowed: {params.min_ratio.real}", 17),
        ("{params.__class__}", "names with '__' are not allowed: {params.__class__}", 8),
        ("{__class__}", "names with '__' are not allowed: {__class__}", 1),
        ("{sale_id[0]}", "indexing with [...] is not allowed: {sale_id[0]}", 8),
        (
            "{params.categories[0]}",
            "indexing with [...] is not allowed: {params.categories[0]}",
            18,
        ),
        ("{sale_id!r}", "conversions like '!r' are not allowed: {sale_id!r}", 8),
        ("{len(sale_id)}", "calls are not allowed in a message: {len(sale_id)}", 4),
        ("{0}", "invalid field name {0}", 1),
        ("{sale id}", "invalid field name {sale id}", 1),
        ("{}", "empty field '{}'", 0),
        ("값 {:,}", "empty field '{}'", 2),
        ("{sale_idd}", "unknown column 'sale_idd'", 1),
        ("{params.min_ratoi}", "unknown parameter 'params.min_ratoi'", 8),
        ("{sale_price:>10}", "format ':>10' is not allowed", 12),
        ("{sale_price:,.2e}", "format ':,.2e' is not allowed", 12),
        ("{sale_price:x}", "format ':x' is not allowed", 12),
        ("{sale_price:{sale_id}}", "'{' inside a field", 12),
        ("{sale_id:,}", "format ':,' needs a number, but 'sale_id' is text", 9),
        ("{contract_date:.2f}", "format ':.2f' needs a number, but 'contract_date' is a date", 15),
        ("매각 } 끝", "single '}' in the message", 3),
        ("매각 {sale_id", "'{' is never closed", 3),
    ],
)
def test_errors_are_located(text: str, message: str, offset: int) -> None:
    got_message, got_offset, hint = error(text)
    assert (got_message, got_offset) == (message, offset)


def test_error_hints() -> None:
    assert error("{sale_idd}")[2] == "did you mean 'sale_id'?"
    assert error("{params.min_ratoi}")[2] == "did you mean 'min_ratio'?"
    assert error("{params.zzz}")[2] == "defined parameters: categories, limit, min_ratio, since"
    assert error("{x.__class__}")[2] == "a field names a column or params.NAME"
    assert "{x:,}" in (error("{sale_price:>10}")[2] or "")


def test_all_problems_reported_at_once() -> None:
    with pytest.raises(ExprError) as info:
        compile_("{sale_idd} {x.__class__} {sale_price:>3} }")
    assert [p.offset for p in info.value.problems] == [1, 13, 37, 41]


def test_format_sandbox_escape_never_runs(tmp_path: Path) -> None:
    sentinel = tmp_path / "pwned"

    class Trap:
        """A value whose attribute access or formatting would leave a trace."""

        def __getattr__(self, name: str) -> object:
            sentinel.touch()
            raise AttributeError(name)

        def __format__(self, spec: str) -> str:
            sentinel.touch()
            return "trap"

    for attack in (
        "{sale_id.__class__}",
        "{sale_id.__init__.__globals__}",
        "{sale_id[__builtins__]}",
        "{sale_id!a}",
    ):
        with pytest.raises(ExprError):
            compile_(attack)
    # A value is only ever turned into text with str(); format specs never reach it.
    compile_("{sale_id}").render({"sale_id": Trap()})
    assert not sentinel.exists()


def test_format_value_infers_types_without_columns() -> None:
    assert format_value(90_000_000.0) == "90000000"
    assert format_value(90_000_000.0, spec=",") == "90,000,000"
    assert format_value(pd.Timestamp("2024-03-01")) == "2024-03-01"
    assert format_value(pd.Timestamp("2024-03-01 10:30")) == "2024-03-01 10:30"
    assert format_value(dt.datetime(2024, 3, 1, 10, 30)) == "2024-03-01 10:30"
    assert format_value(pd.Timedelta(minutes=65)) == "01:05"
    assert format_value(True) == "예"
    assert format_value(None) == "-"
    assert format_value(float("inf"), "number") == "-"
    assert format_value([1, None, "a"]) == "1, -, a"
    assert format_value([]) == "-"
    assert format_value("not a date", "date") == "not a date"


def test_render_evidence_of_json_safe_values() -> None:
    evidence = {
        "sale_id": "S-1",
        "sale_price": 90000000,
        "appraisal_mean": 100000000.5,
        "contract_date": "2024-03-01",
        "approved_time": "23:05",
        "updated_at": "2024-03-01 09:05:00",
        "active": None,
    }
    assert render_evidence(evidence, COLUMNS) == {
        "sale_id": "S-1",
        "sale_price": "90000000",
        "appraisal_mean": "100000000.5",
        "contract_date": "2024-03-01",
        "approved_time": "23:05",
        "updated_at": "2024-03-01 09:05",
        "active": "-",
    }
    # The message renders from the same JSON-safe evidence as from the pandas row.
    assert (
        compile_(SALE).render(evidence)
        == "매각 S-1: 매각가 90,000,000원 < 감정평가 평균 100,000,000.5원"
    )


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_TEMPLATE_CHARS = st.sampled_from(
    list("{}:.,![]()_ 0123456789df매각")
    + ["sale_id", "sale_price", "params.", "limit", "__class__"]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(_TEMPLATE_CHARS, max_size=20).map("".join))
def test_random_templates_only_raise_expr_error(text: str) -> None:
    try:
        template = compile_(text)
    except ExprError as exc:
        assert exc.problems and all(0 <= p.offset <= len(text) for p in exc.problems)
        return
    assert isinstance(template.render({"sale_id": "S", "sale_price": 1.5}), str)
