"""The pack's ``sequence`` rules in Polars (lazy API): a join on the key, a filter on the
window, then an anti-join (an absence) or a grouped total (``complete``).

As in the SQL (:mod:`bench.baselines.duck_sequence`): calendar days, an absence decided only
once its window's last day has passed, and - for ``unmatched = skip`` - a record judged only
when its key has a known counterpart. The keys matched here are the datasets' record keys
(contract, permit), unique per record, which the joins rely on.
"""

from __future__ import annotations

import polars as pl

from bench.baselines.polars_match import Query, Tables, c
from bench.baselines.spec import Spec


def _days(n: int) -> pl.Expr:
    return pl.duration(days=n)


def pay_after_account_change(s: Spec, t: Tables) -> pl.LazyFrame:
    """PAY-AFTER-ACCOUNT-CHANGE."""
    vendors = t["vendors"].select("vendor_id", "account_changed_on")
    return t["payments"].join(vendors, on="vendor_id").filter(
        c("account_changed_on").is_between(c("paid_on") - _days(s.within_days), c("paid_on"))
    ).select("payment_id")  # fmt: skip


def pay_before_inspection(s: Spec, t: Tables) -> pl.LazyFrame:
    """PAY-BEFORE-INSPECTION (a contract is one record: its key is the contract id)."""
    n = s.within_days
    start = c("paid_on") - _days(n)
    contracts = t["contracts"].select("contract_id", "inspection_date")
    return (
        t["payments"]
        .filter(c("purpose").is_not_null()
                & ~c("purpose").str.contains(str(s.p["paid_without_inspection"]))
                & (c("paid_on") < s.today))
        .join(contracts, on="contract_id")
        .filter(c("inspection_date").is_null() | (c("inspection_date") >= start))
        .filter(~c("inspection_date").is_between(start, c("paid_on")).fill_null(False))
        .select("payment_id")
    )  # fmt: skip


def _short(flagged: pl.LazyFrame, key: str, total: str, parts: pl.LazyFrame, part_key: str,
           amount: str) -> pl.LazyFrame:  # fmt: skip
    """Flagged records (their window in ``_low``..``_high``) whose parts (their day in
    ``_when``) inside the window are none or add up to less than ``total``."""
    sums = (
        flagged.select(key, "_low", "_high")
        .join(parts, left_on=key, right_on=part_key)
        .filter(c("_when").is_between(c("_low"), c("_high")))
        .group_by(key)
        .agg(_sum=c(amount).fill_null(0).sum())
    )
    return (
        flagged.join(sums, on=key, how="left")
        .filter(c("_sum").is_null() | (c("_sum") < c(total)))
        .select(key)
    )


def transfer_excess(s: Spec, t: Tables) -> pl.LazyFrame:
    """PAYROLL-TRANSFER-EXCESS."""
    n = s.within_days
    transfers = (
        t["payroll_transfers"]
        .filter((c("paid_on") < s.today) & c("total_amount").is_not_null())
        .with_columns(_low=c("paid_on") - _days(n), _high=c("paid_on"))
    )
    lines = t["payroll"].select("transfer_id", "amount", _when=c("paid_on"))
    return _short(transfers, "transfer_id", "total_amount", lines, "transfer_id", "amount")


def permit_open_overdue(s: Spec, t: Tables) -> pl.LazyFrame:
    """PERMIT-OPEN-OVERDUE: a permit is one record, so its own empty decision day is the only
    counterpart: undecided once the due day (plus the window) has passed."""
    return t["permits"].filter(
        c("decided_on").is_null() & (c("due_on") + _days(s.within_days) < s.today)
    ).select("permit_id")  # fmt: skip


def _sale_receipts(t: Tables) -> pl.LazyFrame:
    return t["receipts"].filter(
        c("ref_type").is_null() | (c("ref_type") == "property_sale")
    ).select("ref_id", "amount", _when=c("received_on"))  # fmt: skip


def proceeds_late(s: Spec, t: Tables) -> pl.LazyFrame:
    """PROP-PROCEEDS-LATE."""
    n = s.within_days
    sales = (
        t["property_sales"]
        .filter((c("sale_price") > 0) & (c("contract_date") + _days(n) < s.today))
        .with_columns(_low=c("contract_date"), _high=c("contract_date") + _days(n))
    )
    return _short(sales, "sale_id", "sale_price", _sale_receipts(t), "ref_id", "amount")


def title_before_payment(s: Spec, t: Tables) -> pl.LazyFrame:
    """PROP-TITLE-BEFORE-PAYMENT."""
    n = s.within_days
    sales = (
        t["property_sales"]
        .filter((c("title_transfer_date") < s.today) & c("sale_price").is_not_null())
        .with_columns(_low=c("title_transfer_date") - _days(n), _high=c("title_transfer_date"))
    )
    return _short(sales, "sale_id", "sale_price", _sale_receipts(t), "ref_id", "amount")


def levy_missing(s: Spec, t: Tables) -> pl.LazyFrame:
    """LEVY-MISSING-FOR-PERMIT."""
    n = s.within_days
    permits = t["permits"].filter(
        (c("status") == "허가") & c("permit_type").is_in(s.p["charged"])
        & (c("decided_on") + _days(n) < s.today)
    ).select("permit_id", "decided_on")  # fmt: skip
    levied = (
        permits.join(t["levies"].select("permit_id", "levied_on"), on="permit_id")
        .filter(c("levied_on").is_between(c("decided_on"), c("decided_on") + _days(n)))
        .select("permit_id")
    )
    return permits.join(levied, on="permit_id", how="anti").select("permit_id")


SEQUENCE: dict[str, Query] = {
    "PAY-AFTER-ACCOUNT-CHANGE": pay_after_account_change,
    "PAY-BEFORE-INSPECTION": pay_before_inspection,
    "PAYROLL-TRANSFER-EXCESS": transfer_excess,
    "PERMIT-OPEN-OVERDUE": permit_open_overdue,
    "PROP-PROCEEDS-LATE": proceeds_late,
    "PROP-TITLE-BEFORE-PAYMENT": title_before_payment,
    "LEVY-MISSING-FOR-PERMIT": levy_missing,
}
