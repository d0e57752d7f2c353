"""The pack's ``aggregate`` and ``duplicate`` rules in Polars (lazy API).

Calendar windows: the totals ``over`` (group, truncated period). Trailing windows of N days:
``rolling`` over the group's days (both ends included) decides which windows pass, then each
record looks forward (``join_asof``, strategy ``forward``, tolerance N days) for a passing
window that holds it - the same two steps as the SQL. Duplicates: a neighbour of the same
keys at most N days before or after, found from the sorted days' gaps.
"""

from __future__ import annotations

import polars as pl

from bench.baselines.polars_match import Query, Tables, c
from bench.baselines.spec import Spec

_PERIOD = {"day": "1d", "month": "1mo", "year": "1y"}


def calendar(frame: pl.LazyFrame, key: str, where: pl.Expr, groups: list[str], time: str,
             period: str, having: pl.Expr) -> pl.LazyFrame:  # fmt: skip
    """Records passing ``where`` whose (groups, period of ``time``) block passes ``having``."""
    present = pl.all_horizontal([c(g).is_not_null() for g in [*groups, time]])
    block = [*groups, c(time).dt.truncate(_PERIOD[period]).alias("_period")]
    return frame.filter(where & present).filter(having.over(block)).select(key)


def trailing(frame: pl.LazyFrame, key: str, where: pl.Expr, groups: dict[str, pl.Expr],
             time: str, days: int, aggs: list[pl.Expr], having: pl.Expr) -> pl.LazyFrame:  # fmt: skip
    """Records passing ``where`` inside a trailing ``days`` window of their group whose
    aggregates ``aggs`` pass ``having``."""
    names = list(groups)
    base = (
        frame.filter(where).with_columns(**groups, _t=c(time)).drop_nulls([*names, "_t"]).sort("_t")
    )
    good = (
        base.rolling(index_column="_t", period=f"{days}d", closed="both", group_by=names)
        .agg(aggs)
        .filter(having)
        .select(*names, "_t")
        .unique()
        .with_columns(_good=c("_t"))
        .sort("_t")
    )
    return (
        base.join_asof(
            good,
            on="_t",
            by=names,
            strategy="forward",
            tolerance=f"{days}d",
            check_sortedness=False,
        )
        .filter(c("_good").is_not_null())
        .select(key)
    )


def _not_licence(s: Spec) -> pl.Expr:
    yes = [x.replace(" ", "") for x in s.items("textbook_licence_titles")]
    no = [x.replace(" ", "") for x in s.items("textbook_licence_not")]
    title = c("title_bare")
    has_yes = pl.any_horizontal([title.str.contains(x, literal=True) for x in yes])
    has_no = pl.any_horizontal([title.str.contains(x, literal=True) for x in no])
    return ~(has_yes & ~has_no)


def overtime_cap(s: Spec, t: Tables) -> pl.LazyFrame:
    """ATT-OVERTIME-MONTHLY-CAP."""
    return calendar(t["attendance"], "record_id", c("overtime_hours") > 0, ["employee_id"],
                    "work_date", "month", c("overtime_hours").sum() > s.p["max_hours"])  # fmt: skip


def card_split(s: Spec, t: Tables) -> pl.LazyFrame:
    """CARD-SPLIT."""
    where = (c("payment_method") == "카드") & c("card_kind").is_in(s.p["card_kinds"])
    return calendar(t["card_transactions"], "approval_id", where,
                    ["department", "merchant_name_n"], "approved_date", "day",
                    pl.len() >= int(s.p["min_payments"]))  # fmt: skip


def contract_split(s: Spec, t: Tables) -> pl.LazyFrame:
    """CONTRACT-SPLIT."""
    limit = float(s.p["limit"])
    where = ((c("method") == "수의") & (c("category") != "공사") & (c("amount") <= limit)
             & c("title").is_not_null() & _not_licence(s))  # fmt: skip
    kind = c("title").str.extract("(설계|감리)", 1).fill_null("-")
    return trailing(t["contracts"], "contract_id", where,
                    {"g_dept": c("department"), "g_vendor": c("vendor_id"), "g_kind": kind},
                    "contract_date", s.days, [pl.len().alias("n"), c("amount").sum().alias("s")],
                    (c("n") >= 2) & (c("s") > limit))  # fmt: skip


def vendor_concentration(s: Spec, t: Tables) -> pl.LazyFrame:
    """CONTRACT-VENDOR-CONCENTRATION."""
    where = (c("method") == "수의") & c("title").is_not_null() & _not_licence(s)
    return calendar(t["contracts"], "contract_id", where, ["department", "vendor_id"],
                    "contract_date", "year", pl.len() >= int(s.p["min_contracts"]))  # fmt: skip


def prop_split_parcel(s: Spec, t: Tables) -> pl.LazyFrame:
    """PROP-SPLIT-PARCEL."""
    limit = float(s.p["limit"])
    where = (c("method") == "수의") & (c("sale_price") <= limit)
    return trailing(t["property_sales"], "sale_id", where,
                    {"g_parent": c("parent_parcel_id"), "g_buyer": c("buyer_name")},
                    "contract_date", s.days,
                    [pl.len().alias("n"), c("sale_price").sum().alias("s")],
                    (c("n") >= 2) & (c("s") > limit))  # fmt: skip


def levy_repeated(s: Spec, t: Tables) -> pl.LazyFrame:
    """LEVY-REDUCTION-REPEATED."""
    statutory = [x.replace(" ", "") for x in s.items("statutory_reduction_reasons")]
    reason = c("reduction_reason_bare")
    where = ((c("reduction_amount") > 0) & c("reduction_reason").is_not_null()
             & ~pl.any_horizontal([reason.str.contains(x, literal=True) for x in statutory]))  # fmt: skip
    return calendar(t["levies"], "levy_id", where, ["official_id"], "levied_on", "month",
                    pl.len() >= int(s.p["min_count"]))  # fmt: skip


def pay_duplicate(s: Spec, t: Tables) -> pl.LazyFrame:
    """PAY-DUPLICATE: sorted by the keys and the day, the previous or the next payment has the
    same keys and is near enough."""
    keys, days = ["vendor_id", "amount", "invoice_no"], s.days

    def near(step: int) -> pl.Expr:
        same = pl.all_horizontal([c(k) == c(k).shift(step) for k in keys])
        gap = (c("paid_on") - c("paid_on").shift(step)).dt.total_days().abs()
        return (same & (gap <= days)).fill_null(False)

    return (
        t["payments"].drop_nulls([*keys, "paid_on"])
        .sort([*keys, "paid_on"])
        .filter(near(1) | near(-1))
        .select("payment_id")
    )  # fmt: skip


def subsidy_duplicate(s: Spec, t: Tables) -> pl.LazyFrame:
    """SUBSIDY-DUPLICATE."""
    where = ~c("program").is_in(s.items("periodic_subsidy_programs"))
    return calendar(t["subsidies"], "grant_id", where, ["recipient_id", "program"],
                    "decided_on", "year", pl.len() > 1)  # fmt: skip


AGGREGATE: dict[str, Query] = {
    "ATT-OVERTIME-MONTHLY-CAP": overtime_cap,
    "CARD-SPLIT": card_split,
    "CONTRACT-SPLIT": contract_split,
    "CONTRACT-VENDOR-CONCENTRATION": vendor_concentration,
    "PROP-SPLIT-PARCEL": prop_split_parcel,
    "LEVY-REDUCTION-REPEATED": levy_repeated,
}
DUPLICATE: dict[str, Query] = {
    "PAY-DUPLICATE": pay_duplicate,
    "SUBSIDY-DUPLICATE": subsidy_duplicate,
}
