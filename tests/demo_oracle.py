"""The standard rule pack's conditions (beyond the first eleven rules and the card rules),
evaluated directly with pandas on the demo city's canonical frames.

``tests/test_demo.py`` compares what these find with ``labels.csv``, so the demo's answer key
is checked without the rule engine: each function restates its rule file's meaning in the
simplest pandas that gives it on the demo year (every window of the demo has closed).
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from naebu.core import datasets

Found = set[tuple[str, str, str]]
LIMIT = 20_000_000
#: rules/revenue/lists/statutory_reduction_reasons.toml, spaces removed.
STATUTORY_REDUCTIONS = (
    "자진납부", "사전납부감경", "의견제출기한내납부", "의견진술기간내납부", "질서위반행위규제법제18조",
)  # fmt: skip
TODAY = pd.Timestamp.now().normalize()
#: Programmes granted periodically (SUBSIDY-DUPLICATE leaves them out).
PERIODIC = Path(__file__).parents[1] / "rules/subsidies/lists/periodic_subsidy_programs.toml"


def _keys(rule: str, dataset: str, frame: pd.DataFrame, mask: pd.Series) -> Found:
    key = datasets.get(dataset).key
    return {(rule, dataset, str(k)) for k in frame.loc[mask.fillna(False).astype(bool), key]}


def _in_bands(accounts: pd.Series, bands: pd.Series) -> pd.Series:
    """Whether each account starts with the digits of one of the bands (the demo's are
    leading digits only)."""
    digits = accounts.str.replace(r"\D", "", regex=True)
    heads = {b for b in bands.dropna().str.replace(r"\D", "", regex=True) if b}
    found = pd.Series(False, index=accounts.index)
    for head in heads:
        found |= digits.str.startswith(head).fillna(False).astype(bool)
    return found


def _property(f: dict[str, pd.DataFrame]) -> Found:
    p = f["property_sales"]
    grounds = {f"38-1-{i}" for i in range(1, 31)}
    out = _keys(
        "PROP-NO-APPRAISAL",
        "property_sales",
        p,
        # an empty count is unknown, not "none"; either price at the threshold needs one
        (p["appraisal_count"] == 0)
        & ((p["planned_price"] >= 10_000_000) | (p["sale_price"] >= 10_000_000)),
    )
    out |= _keys(
        "PROP-SOLE-SOURCE-NO-GROUND",
        "property_sales",
        p,
        (p["method"] == "수의") & ~p["ground_code"].str.strip().isin(grounds),
    )
    first, prev = p["initial_planned_price"], p["previous_planned_price"]
    # 시행령 §40: from round 3, 10% of the FIRST price less a round, never under 80% of it.
    allowed = (1 - 0.1 * (p["tender_round"] - 2)).clip(lower=0.8, upper=1.0)
    cut = (
        (p["planned_price"] < first * 0.8)
        | ((p["tender_round"] < 3) & (p["planned_price"] < first))
        | (p["planned_price"] < (first * allowed).round())
        | (prev.notna() & (p["planned_price"] < (prev - first * 0.1).round()))
    )
    out |= _keys("PROP-PRICE-CUT", "property_sales", p, first.notna() & cut)
    # The demo year fits in one 365-day window, so a group is judged whole.
    sole = p[(p["method"] == "수의") & (p["sale_price"] <= 3e7)]
    sole = sole.dropna(subset=["parent_parcel_id", "buyer_name"])
    g = sole.groupby(["parent_parcel_id", "buyer_name"])["sale_price"]
    hit = (g.transform("size") >= 2) & (g.transform("sum") > 3e7)
    out |= _keys("PROP-SPLIT-PARCEL", "property_sales", sole, hit)

    r = f["receipts"]
    r = r[(r["ref_type"] == "property_sale") | r["ref_type"].isna()].merge(
        p[["sale_id", "contract_date", "title_transfer_date", "sale_price"]],
        left_on="ref_id",
        right_on="sale_id",
    )
    in_time = r[(r["received_on"] - r["contract_date"]).dt.days <= 60]
    paid = in_time.groupby("sale_id")["amount"].sum().reindex(p["sale_id"]).fillna(0)
    out |= _keys("PROP-PROCEEDS-LATE", "property_sales", p, paid.to_numpy() < p["sale_price"])
    before = r[r["received_on"] <= r["title_transfer_date"]]
    by = before.groupby("sale_id")["amount"].sum().reindex(p["sale_id"]).fillna(0)
    early = p["title_transfer_date"].notna() & (by.to_numpy() < p["sale_price"])
    out |= _keys("PROP-TITLE-BEFORE-PAYMENT", "property_sales", p, early)
    return out


def _windows(
    frame: pd.DataFrame, keys: list[str], time: str, days: int, hit: Callable
) -> pd.Series:
    """Members of trailing windows ``[t - days, t]`` of a group where ``hit(window)`` holds."""
    flagged = pd.Series(False, index=frame.index)
    for _, group in frame.groupby(keys):
        if len(group) < 2:
            continue
        for t in group[time]:
            window = group[(group[time] >= t - pd.Timedelta(days=days)) & (group[time] <= t)]
            if hit(window):
                flagged[window.index] = True
    return flagged


def _contracts(f: dict[str, pd.DataFrame]) -> Found:
    c = f["contracts"]
    out = _keys(
        "CONTRACT-SOLE-SOURCE-NO-GROUND",
        "contracts",
        c,
        (c["method"] == "수의") & (c["amount"] > LIMIT) & c["sole_source_ground"].isna(),
    )
    small = c[(c["method"] == "수의") & (c["category"] != "공사") & (c["amount"] <= LIMIT)]
    split = _windows(
        small,
        ["department", "vendor_id"],
        "contract_date",
        90,
        lambda w: len(w) >= 2 and w["amount"].sum() > LIMIT,
    )
    out |= _keys("CONTRACT-SPLIT", "contracts", small, split)
    sole = c[c["method"] == "수의"]
    many = sole.groupby(["department", "vendor_id"])["contract_id"].transform("size") >= 5
    out |= _keys("CONTRACT-VENDOR-CONCENTRATION", "contracts", sole, many)
    return out


def _payments(f: dict[str, pd.DataFrame]) -> Found:
    pay, v = f["payments"], f["vendors"].set_index("vendor_id")
    reg = v["account_no"].reindex(pay["vendor_id"]).to_numpy()
    changed = v["account_changed_on"].reindex(pay["vendor_id"]).to_numpy()
    after = pd.isna(changed) | (pay["paid_on"].to_numpy() >= changed)
    mismatch = pd.notna(reg) & pay["payee_account"].notna() & (pay["payee_account"] != reg)
    out = _keys("PAY-ACCOUNT-MISMATCH", "payments", pay, mismatch & after)
    # the payee named on the voucher is not the official who holds the account paid into
    holder = f["employees"].dropna(subset=["account_no"]).drop_duplicates("account_no", keep="last")
    name_of = holder.set_index("account_no")["name"].str.normalize("NFKC").str.strip()
    held_by = name_of.reindex(pay["payee_account"]).to_numpy()
    payee = pay["payee_name"].str.normalize("NFKC").str.strip().to_numpy()
    other = pd.notna(held_by) & pd.notna(payee) & (payee != held_by)
    out |= _keys("PAY-TO-EMPLOYEE", "payments", pay, pd.Series(other, index=pay.index))
    lag = (pay["paid_on"].to_numpy() - changed).astype("timedelta64[D]").astype(float)
    out |= _keys("PAY-AFTER-ACCOUNT-CHANGE", "payments", pay, pd.Series((lag >= 0) & (lag <= 7)))
    dup = pay.dropna(subset=["vendor_id", "amount", "invoice_no"])
    twice = _windows(
        dup, ["vendor_id", "amount", "invoice_no"], "paid_on", 60, lambda w: len(w) >= 2
    )
    out |= _keys("PAY-DUPLICATE", "payments", dup, twice)
    insp = f["contracts"].set_index("contract_id")["inspection_date"]
    when = insp.reindex(pay["contract_id"]).to_numpy()
    purpose = pay["purpose"].fillna("")
    # a payment with no 적요 may be an advance: not judged
    counted = (
        pay["contract_id"].notna()
        & pay["purpose"].notna()
        & ~purpose.str.contains("선금|기성|기납|임차료")
    )
    days = (pay["paid_on"].to_numpy() - when).astype("timedelta64[D]").astype(float)
    inspected = (days >= 0) & (days <= 365)
    # unmatched = "skip": a payment whose contract is not in the data, or was inspected more
    # than a year before, says nothing about an inspection before it: not judged
    known = pay["contract_id"].isin(insp.index).to_numpy() & ~(days > 365)
    out |= _keys("PAY-BEFORE-INSPECTION", "payments", pay, counted & ~inspected & known)
    return out


def _people(f: dict[str, pd.DataFrame]) -> Found:
    a = f["attendance"]
    claims = a[a["overtime_hours"] > 0]
    month = claims["work_date"].dt.to_period("M")
    total = claims.groupby([claims["employee_id"], month])["overtime_hours"].transform("sum")
    out = _keys("ATT-OVERTIME-MONTHLY-CAP", "attendance", claims, total > 57)
    lines = f["payroll"]
    retired = f["employees"].set_index("employee_id")["retired_on"].reindex(lines["employee_id"])
    out |= _keys(
        "PAYROLL-RETIRED",
        "payroll",
        lines,
        pd.Series(lines["pay_month"].to_numpy() > retired.to_numpy()),
    )
    t = f["payroll_transfers"]
    sums = lines.groupby(["transfer_id", "paid_on"])["amount"].sum()
    got = sums.reindex(pd.MultiIndex.from_frame(t[["transfer_id", "paid_on"]])).fillna(0)
    out |= _keys(
        "PAYROLL-TRANSFER-EXCESS",
        "payroll_transfers",
        t,
        pd.Series(got.to_numpy() < t["total_amount"].to_numpy()),
    )
    return out


def _revenue(f: dict[str, pd.DataFrame]) -> Found:
    pm, lv = f["permits"], f["levies"]
    out = _keys(
        "PERMIT-OPEN-OVERDUE", "permits", pm, pm["decided_on"].isna() & (pm["due_on"] < TODAY)
    )
    charged = ["도로점용허가", "공원점용허가", "행정재산 사용허가"]
    granted = pm[(pm["status"] == "허가") & pm["permit_type"].isin(charged)]
    joined = granted.merge(lv[["permit_id", "levied_on"]], on="permit_id", how="left")
    lag = (joined["levied_on"] - joined["decided_on"]).dt.days
    on_time = set(joined.loc[(lag >= 0) & (lag <= 30), "permit_id"])
    out |= _keys("LEVY-MISSING-FOR-PERMIT", "permits", granted, ~granted["permit_id"].isin(on_time))
    # discretionary reductions only: a reason written, and not one the law applies by itself
    statutory = "|".join(STATUTORY_REDUCTIONS)
    reason = lv["reduction_reason"].str.replace(r"\s+", "", regex=True)
    known = lv["reduction_reason"].notna() & ~reason.str.contains(statutory).fillna(False).astype(
        bool
    )
    red = lv[(lv["reduction_amount"] > 0) & known]
    n = red.groupby([red["official_id"], red["levied_on"].dt.to_period("M")])["levy_id"].transform(
        "size"
    )
    out |= _keys("LEVY-REDUCTION-REPEATED", "levies", red, n >= 5)
    r, acc = f["receipts"], f["accounts"]
    out |= _keys(
        "REV-RECEIPT-OTHER-ACCOUNT",
        "receipts",
        r,
        r["account_no"].notna()
        & ~r["account_no"].isin(set(acc["account_no"]))
        & ~_in_bands(r["account_no"], acc["virtual_accounts"]),
    )
    idle = (acc["as_of"] - acc["last_activity_on"]).dt.days
    out |= _keys("ACCOUNT-DORMANT", "accounts", acc, (acc["status"] != "해지") & (idle >= 365))
    s = f["subsidies"]
    s = s[~s["program"].isin(tomllib.loads(PERIODIC.read_text("utf-8"))["list"]["items"])]
    twice = s.groupby(["recipient_id", "program", s["decided_on"].dt.year])["grant_id"].transform(
        "size"
    )
    out |= _keys("SUBSIDY-DUPLICATE", "subsidies", s, twice >= 2)
    return out


def fired(f: dict[str, pd.DataFrame]) -> Found:
    """What each rule of the pack beyond the first eleven finds in the canonical frames."""
    return _property(f) | _contracts(f) | _payments(f) | _people(f) | _revenue(f)


RULES = (
    "PROP-NO-APPRAISAL", "PROP-SOLE-SOURCE-NO-GROUND", "PROP-PRICE-CUT", "PROP-SPLIT-PARCEL",
    "PROP-PROCEEDS-LATE", "PROP-TITLE-BEFORE-PAYMENT", "CONTRACT-SOLE-SOURCE-NO-GROUND",
    "CONTRACT-SPLIT", "CONTRACT-VENDOR-CONCENTRATION", "PAY-ACCOUNT-MISMATCH", "PAY-TO-EMPLOYEE",
    "PAY-AFTER-ACCOUNT-CHANGE", "PAY-DUPLICATE", "PAY-BEFORE-INSPECTION",
    "ATT-OVERTIME-MONTHLY-CAP", "PAYROLL-RETIRED", "PAYROLL-TRANSFER-EXCESS",
    "PERMIT-OPEN-OVERDUE", "LEVY-MISSING-FOR-PERMIT", "LEVY-REDUCTION-REPEATED",
    "REV-RECEIPT-OTHER-ACCOUNT", "ACCOUNT-DORMANT", "SUBSIDY-DUPLICATE",
)  # fmt: skip
