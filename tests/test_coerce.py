"""coerce(): mapping and typing of source rows, and the reasons of the rows it quarantines."""

from __future__ import annotations

import datetime as dt
import decimal

import numpy as np
import pandas as pd
import pytest

from naebu.connectors.base import SourceError
from naebu.connectors.coerce import coerce, resolve_columns
from naebu.core.datasets import get

PAYMENTS = get("payments")
CARDS = get("card_transactions")


def run(rows, columns, dataset=PAYMENTS, formats=None, **kw):
    raw = pd.DataFrame(rows, dtype=object)
    locations = [f"f.csv:{i + 2}" for i in range(len(raw))]
    return coerce(raw, dataset, columns, formats or {}, locations, **kw)


def payments(**values):
    """One payment row per value of the column under test, the other columns valid."""
    [(col, vals)] = values.items()
    n = len(vals)
    base = {"no": [f"P-{i}" for i in range(n)], "amt": ["1"] * n, "day": ["2025-03-01"] * n}
    base[col] = vals
    return base


MAP = {"payment_id": "no", "amount": "amt", "paid_on": "day"}


def test_frame_has_every_canonical_column_in_order_with_its_dtype():
    frame, bad = run(payments(amt=["1"]), MAP)
    assert bad == []
    assert list(frame.columns) == PAYMENTS.column_names
    assert frame["payment_id"].dtype == "string"
    assert frame["amount"].dtype == "float64"
    assert frame["paid_on"].dtype == "datetime64[ns]"
    assert frame["updated_at"].dtype == "datetime64[ns]"
    assert frame["purpose"].isna().all()  # not mapped: all-null
    cards, _ = run(
        {"id": ["A"], "d": ["2025-03-01"], "a": ["5"], "t": ["10:00"], "n": ["3"]},
        {"approval_id": "id", "approved_date": "d", "amount": "a", "approved_time": "t"}
        | {"attendees": "n"},
        dataset=CARDS,
    )
    assert cards["approved_time"].dtype == "timedelta64[ns]"
    assert cards["attendees"].dtype == "Int64"


def test_numbers_in_the_forms_people_type_them():
    texts = ["1,234,000", "12000원", "１２,０００", "  -5000 ", "(5,000)", "12000.0", "₩3,000"]
    frame, bad = run(payments(amt=texts), MAP)
    assert bad == []
    assert frame["amount"].tolist() == [1234000, 12000, 12000, -5000, -5000, 12000, 3000]


def test_unparseable_amount_is_quarantined_and_the_rest_kept():
    frame, bad = run(payments(amt=["1000", "미정", "2000"]), MAP)
    assert frame["payment_id"].tolist() == ["P-0", "P-2"]
    assert frame.index.tolist() == [0, 1]
    [q] = bad
    assert q.location == "f.csv:3"
    assert q.reason == "amount: '미정' is not a number"
    assert q.raw == {"no": "P-1", "amt": "미정", "day": "2025-03-01"}


@pytest.mark.parametrize(
    "text",
    ["2025-03-01", "2025.03.01", "20250301", "2025/3/1", "2025-03-01 14:22:05", "2025년 3월 1일"],
)
def test_date_forms(text):
    frame, bad = run(payments(day=[text]), MAP)
    assert bad == []
    assert frame["paid_on"][0] == pd.Timestamp("2025-03-01")


@pytest.mark.parametrize("text", ["2025-02-30", "2025-13-01", "2025-03-011", "어제"])
def test_impossible_dates_are_quarantined(text):
    frame, bad = run(payments(day=[text]), MAP)
    assert frame.empty
    assert bad[0].reason == f"paid_on: {text!r} is not a valid date"


def test_a_date_format_per_column():
    frame, bad = run(
        payments(day=["01/03/2025", "2025-03-01"]), MAP, formats={"paid_on": "%d/%m/%Y"}
    )
    assert frame["paid_on"].tolist() == [pd.Timestamp("2025-03-01")]
    assert bad[0].reason == "paid_on: '2025-03-01' is not a valid date (format %d/%m/%Y)"


def test_datetimes_and_offsets_become_naive_seoul_time():
    texts = ["2025-03-01 10:20", "2025-03-01T10:20:30.5", "2025-03-01T01:20:00Z", "20250301102000"]
    rows = payments(amt=["1"] * 4) | {"upd": texts}
    frame, bad = run(rows, MAP | {"updated_at": "upd"})
    assert bad == []
    assert frame["updated_at"].tolist() == [
        pd.Timestamp("2025-03-01 10:20"),
        pd.Timestamp("2025-03-01 10:20:30.5"),
        pd.Timestamp("2025-03-01 10:20"),
        pd.Timestamp("2025-03-01 10:20"),
    ]


def test_times_of_day():
    texts = ["09:05", "21:07:30", "0905", "210730", "25:00", ""]
    rows = {
        "id": list("abcdef"),
        "d": ["2025-03-01"] * 6,
        "a": ["1"] * 6,
        "t": texts,
    }
    mapping = {"approval_id": "id", "approved_date": "d", "amount": "a", "approved_time": "t"}
    frame, bad = run(rows, mapping, dataset=CARDS)
    assert frame["approved_time"].tolist()[:4] == [
        pd.Timedelta("09:05:00"),
        pd.Timedelta("21:07:30"),
        pd.Timedelta("09:05:00"),
        pd.Timedelta("21:07:30"),
    ]
    assert pd.isna(frame["approved_time"][4])  # empty time: unknown, not an error
    assert [q.reason for q in bad] == ["approved_time: '25:00' is not a valid time of day"]


def test_booleans():
    emp = get("employees")
    texts = ["Y", "n", "1", "0", "true", "FALSE", "예", "아니오", "", "글쎄"]
    rows = {"id": [str(i) for i in range(len(texts))], "act": texts}
    frame, bad = run(rows, {"employee_id": "id", "active": "act"}, dataset=emp)
    assert frame["active"].dtype == "boolean"
    assert frame["active"].tolist()[:8] == [True, False, True, False, True, False, True, False]
    assert frame["active"].isna().tolist()[8]
    assert bad[0].reason.startswith("active: '글쎄' is not a yes/no value")


def test_text_is_normalised_and_empty_text_is_missing():
    rows = payments(amt=["1", "1"]) | {"who": ["  （주）한빛 ", "   "]}
    frame, _ = run(rows, MAP | {"payee_name": "who"})
    assert frame["payee_name"][0] == "(주)한빛"
    assert pd.isna(frame["payee_name"][1])


def test_missing_key_and_several_problems_in_one_reason():
    rows = {"no": ["", "P-2"], "amt": ["1", "미정"], "day": ["2025-03-01", "2025-02-30"]}
    frame, bad = run(rows, MAP)
    assert frame.empty
    assert [q.reason for q in bad] == [
        "payment_id: missing",
        "amount: '미정' is not a number; paid_on: '2025-02-30' is not a valid date",
    ]


def test_whole_numbers():
    sales = get("property_sales")
    rows = {
        "id": ["a", "b", "c"],
        "n": ["3", "3.0", "2.5"],
        "p": ["1"] * 3,
        "d": ["2025-01-01"] * 3,
    }
    mapping = {"sale_id": "id", "appraisal_count": "n", "sale_price": "p", "contract_date": "d"}
    frame, bad = run(rows, mapping, dataset=sales)
    assert frame["appraisal_count"].tolist() == [3, 3]
    assert bad[0].reason == "appraisal_count: '2.5' is not a whole number"


def test_one_date_from_several_columns():
    rows = {
        "id": ["a", "b", "c"],
        "year": ["2018.0", "2018.0", ""],
        "month": ["1.0", "2.0", ""],
        "day": ["19.0", "", ""],
        "amt": ["344000.0"] * 3,
    }
    mapping = {"approval_id": "id", "approved_date": ["year", "month", "day"], "amount": "amt"}
    frame, bad = run(rows, mapping, dataset=CARDS)
    assert frame["approved_date"].tolist() == [pd.Timestamp("2018-01-19")]
    assert [q.reason for q in bad] == [
        "approved_date (year/month/day): '2018-2-' is not a valid date",
        "approved_date: missing",
    ]


def test_a_list_mapping_spelt_as_text_by_the_config_loader():
    rows = {"id": ["a"], "y": ["2018"], "m": ["1"], "d": ["2"], "amt": ["1"]}
    mapping = {"approval_id": "id", "approved_date": "['y', 'm', 'd']", "amount": "amt"}
    frame, _ = run(rows, mapping, dataset=CARDS)
    assert frame["approved_date"][0] == pd.Timestamp("2018-01-02")


def test_typed_database_values_are_taken_as_they_are():
    rows = {
        "payment_id": ["A", "B"],
        "amount": [decimal.Decimal("12000.50"), 7],
        "paid_on": [dt.date(2025, 3, 1), dt.datetime(2025, 3, 2, 15, 0)],
        "updated_at": [
            dt.datetime(2025, 3, 1, 1, 0, tzinfo=dt.UTC),
            dt.datetime(2025, 3, 1, 10, 0, tzinfo=dt.UTC),
        ],
    }
    frame, bad = run(rows, {})  # same names as the dataset: mapped by name
    assert bad == []
    assert frame["amount"].tolist() == [12000.5, 7.0]
    assert frame["paid_on"].tolist() == [pd.Timestamp("2025-03-01"), pd.Timestamp("2025-03-02")]
    assert frame["updated_at"][0] == pd.Timestamp("2025-03-01 10:00")


def test_mapped_column_missing_from_the_source_is_a_source_error():
    with pytest.raises(
        SourceError, match=r"source fin: column 'amout'.*amount.*did you mean 'amt'"
    ):
        run(payments(amt=["1"]), MAP | {"amount": "amout"}, source="fin")


def test_required_column_not_mapped():
    # coerce() quarantines every row; connectors refuse the mapping up front instead.
    frame, bad = run(payments(amt=["1"]), {"payment_id": "no", "amount": "amt"})
    assert frame.empty and bad[0].reason == "paid_on: missing"
    with pytest.raises(SourceError, match="source fin: required column paid_on .*not mapped"):
        resolve_columns(["no", "amt"], PAYMENTS, {"payment_id": "no", "amount": "amt"}, {}, "fin")


def test_header_names_match_ignoring_case_spaces_and_width():
    rows = {" Pay_No ": ["P-1"], "ＡＭＴ": ["1"], "day": ["2025-03-01"]}
    frame, bad = run(rows, {"payment_id": "pay_no", "amount": "amt", "paid_on": "day"})
    assert bad == [] and frame["payment_id"][0] == "P-1"


def test_no_rows():
    frame, bad = run({"no": [], "amt": [], "day": []}, MAP)
    assert frame.empty and bad == []
    assert list(frame.columns) == PAYMENTS.column_names


def test_quarantined_raw_values_are_json_safe():
    rows = {
        "no": ["P-1"],
        "amt": ["x"],
        "day": [dt.date(2025, 3, 1)],
        "n": [np.float64("nan")],
        "d": [decimal.Decimal("1.5")],
    }
    _, [q] = run(rows, MAP)
    assert q.raw == {"no": "P-1", "amt": "x", "day": "2025-03-01", "n": None, "d": "1.5"}


def test_spreadsheet_serial_days_are_dates_within_a_plausible_range():
    """A sheet that lost its date format holds Excel serial days: 45658 is 2025-01-01."""
    from naebu.core import datasets

    raw = pd.DataFrame(
        {
            "payment_id": ["1", "2", "3", "4", "5", "6"],
            "amount": ["1"] * 6,
            "paid_on": ["45658", "45658.0", "20250301", "12345", "45658.5", "99999"],
        },
        dtype=object,
    )
    locations = [f"sheet.xlsx:{i + 2}" for i in range(6)]
    frame, bad = coerce(raw, datasets.get("payments"), {c: c for c in raw.columns}, {}, locations)
    assert list(frame["paid_on"].dt.strftime("%Y-%m-%d")) == [
        "2025-01-01",
        "2025-01-01",
        "2025-03-01",
    ]
    # too small or too large to be a plausible date, or a fraction of a day: refused, with reasons
    assert [q.reason for q in bad] == [
        "paid_on: '12345' is not a valid date",
        "paid_on: '45658.5' is not a valid date",
        "paid_on: '99999' is not a valid date",
    ]


def test_spreadsheet_formula_residue_is_text_or_quarantined():
    """`=I10` left by a spreadsheet export: never a number, never evaluated, kept as text."""
    from naebu.core import datasets

    raw = pd.DataFrame(
        {
            "approval_id": ["1", "2"],
            "approved_date": ["2025-03-01", "2025-03-01"],
            "amount": ["=I10", "12,000"],
            "payment_method": ["=I10", "카드"],
        },
        dtype=object,
    )
    ds = datasets.get("card_transactions")
    frame, bad = coerce(raw, ds, {c: c for c in raw.columns}, {}, ["a.csv:2", "a.csv:3"])
    assert [q.reason for q in bad] == ["amount: '=I10' is not a number"]
    assert bad[0].raw["payment_method"] == "=I10"
    assert list(frame["payment_method"]) == ["카드"] and list(frame["amount"]) == [12000.0]
    only_text, bad = coerce(
        raw.drop(columns="amount").assign(amount="1"),
        ds,
        {c: c for c in raw.columns},
        {},
        ["x", "y"],
    )
    assert not bad and list(only_text["payment_method"]) == ["=I10", "카드"]
