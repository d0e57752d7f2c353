"""The pack's ``match`` rules in Polars (lazy API), over the prepared tables
(:mod:`bench.baselines.tables`). Each function returns a lazy frame of the flagged keys.

A comparison with a null is null in Polars and ``filter`` drops it, as naebu's expressions
treat a missing value; ``is_in`` on a null is null too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import polars as pl

from bench.baselines.spec import Spec
from bench.baselines.tables import normalize

c = pl.col
Tables = Mapping[str, pl.LazyFrame]
Query = Callable[[Spec, Tables], pl.LazyFrame]


def days_between(a: str, b: str) -> pl.Expr:
    """Calendar days from ``a`` to ``b``."""
    return (c(b) - c(a)).dt.total_days()


def account_dormant(s: Spec, t: Tables) -> pl.LazyFrame:
    """ACCOUNT-DORMANT."""
    return (
        t["accounts"]
        .filter(
            (c("status") != "해지")
            & (days_between("last_activity_on", "as_of") >= int(s.p["dormant_days"]))
        )
        .select("account_no")
    )


def overtime_on_leave(s: Spec, t: Tables) -> pl.LazyFrame:
    """ATT-OVERTIME-ON-LEAVE."""
    p = s.p
    leave = c("leave_type").is_in(p["leave_kinds"]) & (c("leave_hours") >= p["min_leave_hours"])
    trip = c("trip_type").is_in(p["trip_kinds"]) & (c("trip_hours") >= p["min_trip_hours"])
    return t["attendance"].filter((c("overtime_hours") > 0) & (leave | trip)).select("record_id")


def _card(s: Spec) -> pl.Expr:
    return (c("payment_method") == "카드") & c("card_kind").is_in(s.p["card_kinds"])


def card_night(s: Spec, t: Tables) -> pl.LazyFrame:
    """CARD-NIGHT (``approved_time``: a duration since midnight)."""
    hour = c("approved_time").dt.total_hours()
    night = (hour >= int(s.p["night_from"])) | (hour < int(s.p["night_until"]))
    return t["card_transactions"].filter(_card(s) & night).select("approval_id")


def card_holiday(s: Spec, t: Tables) -> pl.LazyFrame:
    """CARD-HOLIDAY: a Saturday, a Sunday or a public holiday."""
    holidays = t["holidays"].select("day").collect().to_series()
    off = (c("approved_date").dt.weekday() >= 6) | c("approved_date").is_in(holidays.implode())
    return t["card_transactions"].filter(_card(s) & off).select("approval_id")


def card_perperson(s: Spec, t: Tables) -> pl.LazyFrame:
    """CARD-PERPERSON (``attendee_n`` counted at load)."""
    over = (c("attendee_n") > 0) & (c("amount") / c("attendee_n") > float(s.p["max_per_person"]))
    return t["card_transactions"].filter(_card(s) & over).select("approval_id")


def card_merchant(s: Spec, t: Tables) -> pl.LazyFrame:
    """CARD-MERCHANT."""
    cats = sorted({normalize(x) or "" for x in s.items("restricted_merchant_categories")})
    where = c("merchant_category_n").is_in(cats) | c("merchant_name_n").str.contains(
        str(s.p["name_keywords"])
    )
    return (
        t["card_transactions"].filter((c("payment_method") == "카드") & where).select("approval_id")
    )


def contract_near_limit(s: Spec, t: Tables) -> pl.LazyFrame:
    """CONTRACT-NEAR-LIMIT."""
    limit = float(s.p["limit"])
    return t["contracts"].filter(
        (c("method") == "수의") & (c("category") != "공사")
        & c("amount").is_between(limit * float(s.p["band"]), limit)
    ).select("contract_id")  # fmt: skip


def contract_no_ground(s: Spec, t: Tables) -> pl.LazyFrame:
    """CONTRACT-SOLE-SOURCE-NO-GROUND."""
    return t["contracts"].filter(
        (c("method") == "수의") & (c("amount") > float(s.p["limit"]))
        & c("sole_source_ground").is_null()
    ).select("contract_id")  # fmt: skip


def pay_account_mismatch(s: Spec, t: Tables) -> pl.LazyFrame:
    """PAY-ACCOUNT-MISMATCH."""
    vendors = t["vendors"].select("vendor_id", "account_no_d", "account_changed_on")
    return t["payments"].join(vendors, on="vendor_id").filter(
        (c("payee_account_d") != c("account_no_d"))
        & (c("account_changed_on").is_null() | (c("paid_on") >= c("account_changed_on")))
    ).select("payment_id")  # fmt: skip


def pay_to_employee(s: Spec, t: Tables) -> pl.LazyFrame:
    """PAY-TO-EMPLOYEE."""
    holders = t["employees"].select("account_no", "employee_id", "name_n")
    return t["payments"].join(holders, left_on="payee_account", right_on="account_no").filter(
        c("employee_id").is_not_null() & (c("payee_name_n") != c("name_n"))
    ).select("payment_id").unique()  # fmt: skip


def pay_self_approval(s: Spec, t: Tables) -> pl.LazyFrame:
    """PAY-SELF-APPROVAL."""
    return t["payments"].filter(c("official_id") == c("approver_id")).select("payment_id")


def payroll_retired(s: Spec, t: Tables) -> pl.LazyFrame:
    """PAYROLL-RETIRED."""
    employees = t["employees"].select("employee_id", "retired_on")
    return t["payroll"].join(employees, on="employee_id").filter(
        c("pay_month") > c("retired_on")
    ).select("pay_line_id")  # fmt: skip


def permit_late(s: Spec, t: Tables) -> pl.LazyFrame:
    """PERMIT-LATE (``due_at`` computed at load)."""
    decided = pl.coalesce(c("decided_at"), c("decided_on").cast(pl.Datetime("ns")))
    return t["permits"].filter(decided > c("due_at")).select("permit_id")


def _round(x: pl.Expr) -> pl.Expr:
    """naebu's ``round``: halves away from zero."""
    return x.round(0, mode="half_away_from_zero")


def _cut(price: str, p: dict[str, Any]) -> pl.Expr:
    first, step = int(p["first_cut_round"]), float(p["step"])
    return _round(c(price) * (1 - step * (c("tender_round") - first + 1)))


def prop_below_appraisal(s: Spec, t: Tables) -> pl.LazyFrame:
    """PROP-BELOW-APPRAISAL."""
    p, first = s.p, int(s.p["first_cut_round"])
    below = (
        (c("sale_price") < _round(c("appraisal_mean") * float(p["floor"])))
        | ((c("tender_round") < first) & (c("sale_price") < c("appraisal_mean")))
        | ((c("tender_round") >= first) & (c("sale_price") < _cut("appraisal_mean", p)))
    )
    return t["property_sales"].filter((c("appraisal_count") >= 2) & below).select("sale_id")


def prop_stale_appraisal(s: Spec, t: Tables) -> pl.LazyFrame:
    """PROP-STALE-APPRAISAL."""
    age = days_between("appraisal_date", "contract_date")
    return t["property_sales"].filter(age > int(s.p["max_age_days"])).select("sale_id")


def prop_no_appraisal(s: Spec, t: Tables) -> pl.LazyFrame:
    """PROP-NO-APPRAISAL."""
    low = float(s.p["min_value"])
    return t["property_sales"].filter(
        (c("appraisal_count") == 0) & ((c("planned_price") >= low) | (c("sale_price") >= low))
    ).select("sale_id")  # fmt: skip


def prop_no_ground(s: Spec, t: Tables) -> pl.LazyFrame:
    """PROP-SOLE-SOURCE-NO-GROUND."""
    grounds = s.items("property_sole_source_grounds")
    return t["property_sales"].filter(
        (c("method") == "수의") & (c("ground_code").is_null() | ~c("ground_code").is_in(grounds))
    ).select("sale_id")  # fmt: skip


def prop_price_cut(s: Spec, t: Tables) -> pl.LazyFrame:
    """PROP-PRICE-CUT."""
    p, first, step = s.p, int(s.p["first_cut_round"]), float(s.p["step"])
    initial, planned = c("initial_planned_price"), c("planned_price")
    cut = (
        (planned < initial * float(p["floor"]))
        | ((c("tender_round") < first) & (planned < initial))
        | ((c("tender_round") >= first) & (planned < _cut("initial_planned_price", p)))
        | (planned < _round(c("previous_planned_price") - initial * step))
    )
    return t["property_sales"].filter(initial.is_not_null() & cut).select("sale_id")


def levy_no_code(s: Spec, t: Tables) -> pl.LazyFrame:
    """LEVY-REDUCTION-NO-CODE."""
    return t["levies"].filter(
        (c("reduction_amount") > 0) & c("reduction_code").is_null()
    ).select("levy_id")  # fmt: skip


def receipt_other_account(s: Spec, t: Tables) -> pl.LazyFrame:
    """REV-RECEIPT-OTHER-ACCOUNT: the bands (a small table) are read first, then one filter."""
    only_digits = r"[^0-9]"
    bands = t["accounts"].select(
        b=c("virtual_accounts").str.replace_all(r"[;/\n]", ",").str.split(",")
    ).explode("b").drop_nulls().select(
        ranged=c("b").str.contains("~", literal=True),
        lo=c("b").str.split("~").list.get(0).str.replace_all(only_digits, ""),
        hi=c("b").str.split("~").list.get(1, null_on_oob=True).str.replace_all(only_digits, ""),
    ).filter(c("lo") != "").collect()  # fmt: skip
    heads = bands.filter(~c("ranged"))["lo"].unique().to_list()
    ranges = bands.filter(c("ranged") & (c("lo").str.len_chars() == c("hi").str.len_chars()))
    d = c("account_no_d")
    inside = pl.lit(False)
    for size in sorted({len(h) for h in heads}):
        inside = inside | d.str.slice(0, size).is_in([h for h in heads if len(h) == size])
    for lo, hi in ranges.select("lo", "hi").iter_rows():
        low, high = min(lo, hi), max(lo, hi)
        inside = inside | ((d.str.len_chars() == len(low)) & d.is_between(low, high))
    listed = t["accounts"].select(account_no_d=c("account_no_d")).drop_nulls()
    return t["receipts"].filter(d.is_not_null()).join(
        listed, on="account_no_d", how="anti"
    ).filter(~inside).select("receipt_id")  # fmt: skip


MATCH: dict[str, Query] = {
    "ACCOUNT-DORMANT": account_dormant,
    "ATT-OVERTIME-ON-LEAVE": overtime_on_leave,
    "CARD-NIGHT": card_night,
    "CARD-HOLIDAY": card_holiday,
    "CARD-PERPERSON": card_perperson,
    "CARD-MERCHANT": card_merchant,
    "CONTRACT-NEAR-LIMIT": contract_near_limit,
    "CONTRACT-SOLE-SOURCE-NO-GROUND": contract_no_ground,
    "PAY-ACCOUNT-MISMATCH": pay_account_mismatch,
    "PAY-TO-EMPLOYEE": pay_to_employee,
    "PAY-SELF-APPROVAL": pay_self_approval,
    "PAYROLL-RETIRED": payroll_retired,
    "PERMIT-LATE": permit_late,
    "PROP-BELOW-APPRAISAL": prop_below_appraisal,
    "PROP-STALE-APPRAISAL": prop_stale_appraisal,
    "PROP-NO-APPRAISAL": prop_no_appraisal,
    "PROP-SOLE-SOURCE-NO-GROUND": prop_no_ground,
    "PROP-PRICE-CUT": prop_price_cut,
    "LEVY-REDUCTION-NO-CODE": levy_no_code,
    "REV-RECEIPT-OTHER-ACCOUNT": receipt_other_account,
}
