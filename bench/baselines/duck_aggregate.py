"""The pack's ``aggregate`` and ``duplicate`` rules in DuckDB SQL (window functions).

Calendar windows (day, month, year) are a ``PARTITION BY`` on the group and the truncated
time: every record of a group-period whose totals pass is flagged. Trailing windows of N days
are ``RANGE`` frames: a record's window holds its group's records from N days before it up to
it (both ends included), and every record inside a window that passes is flagged - the
records up to N days *after* a record are the windows it belongs to, a forward ``bool_or``.
Group keys and times must be present (SQL ``IS NOT NULL``), as in naebu.
"""

from __future__ import annotations

from collections.abc import Callable

from bench.baselines.spec import Spec, sql_like_any, sql_list


def calendar(key: str, table: str, where: str, groups: list[str], time: str, period: str,
             having: str) -> str:  # fmt: skip
    """Records of ``table`` passing ``where`` whose (groups, period of ``time``) block passes
    ``having`` (window aggregates over the block)."""
    present = " AND ".join(f"{g} IS NOT NULL" for g in [*groups, time])
    block = ", ".join([*groups, f"date_trunc('{period}', {time})"])
    over = f"OVER (PARTITION BY {block})"
    return f"""SELECT {key} FROM {table} WHERE ({where}) AND {present}
        QUALIFY {having.format(over=over)}"""


def trailing(key: str, table: str, where: str, groups: dict[str, str], time: str, days: int,
             having: str) -> str:  # fmt: skip
    """Records of ``table`` passing ``where`` inside a trailing ``days`` window of their group
    that passes ``having`` (``{over}`` stands for the window)."""
    cols = ", ".join(f"{expr} AS {name}" for name, expr in groups.items())
    names = ", ".join(groups)
    present = " AND ".join(f"{g} IS NOT NULL" for g in [*groups, "t"])
    return f"""WITH usable AS (
            SELECT * FROM (SELECT {key} AS k, {cols}, {time} AS t, * FROM {table}
                           WHERE {where}) WHERE {present}
        ), win AS (
            SELECT k, {names}, t, {having.format(over="OVER back")} AS good FROM usable
            WINDOW back AS (PARTITION BY {names} ORDER BY t
                            RANGE BETWEEN INTERVAL {days} DAY PRECEDING AND CURRENT ROW)
        )
        SELECT k FROM win QUALIFY bool_or(good) OVER (PARTITION BY {names} ORDER BY t
            RANGE BETWEEN CURRENT ROW AND INTERVAL {days} DAY FOLLOWING)"""


def _not_licence(s: Spec) -> str:
    yes = [t.replace(" ", "") for t in s.items("textbook_licence_titles")]
    no = [t.replace(" ", "") for t in s.items("textbook_licence_not")]
    return f"NOT ({sql_like_any('title_bare', yes)} AND NOT {sql_like_any('title_bare', no)})"


def overtime_cap(s: Spec) -> str:
    """ATT-OVERTIME-MONTHLY-CAP."""
    return calendar("record_id", "attendance", "overtime_hours > 0", ["employee_id"],
                    "work_date", "month", f"sum(overtime_hours) {{over}} > {s.p['max_hours']}")  # fmt: skip


def card_split(s: Spec) -> str:
    """CARD-SPLIT: one department, one (normalized) merchant, one day."""
    where = f"payment_method = '카드' AND card_kind IN {sql_list(s.p['card_kinds'])}"
    return calendar("approval_id", "card_transactions", where, ["department", "merchant_name_n"],
                    "approved_date", "day", f"count(*) {{over}} >= {int(s.p['min_payments'])}")  # fmt: skip


def contract_split(s: Spec) -> str:
    """CONTRACT-SPLIT: 90 days, grouped also by the 설계/감리 word of the title."""
    limit = float(s.p["limit"])
    where = (f"method = '수의' AND category <> '공사' AND amount <= {limit!r} "
             f"AND title IS NOT NULL AND {_not_licence(s)}")  # fmt: skip
    kind = "coalesce(nullif(regexp_extract(title, '(설계|감리)', 1), ''), '-')"
    return trailing("contract_id", "contracts", where,
                    {"g_dept": "department", "g_vendor": "vendor_id", "g_kind": kind},
                    "contract_date", s.days,
                    f"count(*) {{over}} >= 2 AND sum(amount) {{over}} > {limit!r}")  # fmt: skip


def vendor_concentration(s: Spec) -> str:
    """CONTRACT-VENDOR-CONCENTRATION: one department, one vendor, one year."""
    where = f"method = '수의' AND title IS NOT NULL AND {_not_licence(s)}"
    return calendar("contract_id", "contracts", where, ["department", "vendor_id"],
                    "contract_date", "year", f"count(*) {{over}} >= {int(s.p['min_contracts'])}")  # fmt: skip


def prop_split_parcel(s: Spec) -> str:
    """PROP-SPLIT-PARCEL: 365 days, one parent lot, one buyer."""
    limit = float(s.p["limit"])
    return trailing("sale_id", "property_sales", f"method = '수의' AND sale_price <= {limit!r}",
                    {"g_parent": "parent_parcel_id", "g_buyer": "buyer_name"},
                    "contract_date", s.days,
                    f"count(*) {{over}} >= 2 AND sum(sale_price) {{over}} > {limit!r}")  # fmt: skip


def levy_repeated(s: Spec) -> str:
    """LEVY-REDUCTION-REPEATED: discretionary reductions of one official in a month."""
    statutory = [t.replace(" ", "") for t in s.items("statutory_reduction_reasons")]
    where = (f"reduction_amount > 0 AND reduction_reason IS NOT NULL "
             f"AND NOT {sql_like_any('reduction_reason_bare', statutory)}")  # fmt: skip
    return calendar("levy_id", "levies", where, ["official_id"], "levied_on", "month",
                    f"count(*) {{over}} >= {int(s.p['min_count'])}")  # fmt: skip


def pay_duplicate(s: Spec) -> str:
    """PAY-DUPLICATE: another payment of the same keys at most the window apart."""
    days = s.days
    return f"""SELECT payment_id FROM payments
        WHERE vendor_id IS NOT NULL AND amount IS NOT NULL AND invoice_no IS NOT NULL
          AND paid_on IS NOT NULL
        QUALIFY count(*) OVER (PARTITION BY vendor_id, amount, invoice_no ORDER BY paid_on
            RANGE BETWEEN INTERVAL {days} DAY PRECEDING AND INTERVAL {days} DAY FOLLOWING) > 1"""


def subsidy_duplicate(s: Spec) -> str:
    """SUBSIDY-DUPLICATE: same recipient and programme in a calendar year, periodic
    programmes left out."""
    where = f"program NOT IN {sql_list(s.items('periodic_subsidy_programs'))}"
    return calendar("grant_id", "subsidies", where, ["recipient_id", "program"], "decided_on",
                    "year", "count(*) {over} > 1")  # fmt: skip


AGGREGATE: dict[str, Callable[[Spec], str]] = {
    "ATT-OVERTIME-MONTHLY-CAP": overtime_cap,
    "CARD-SPLIT": card_split,
    "CONTRACT-SPLIT": contract_split,
    "CONTRACT-VENDOR-CONCENTRATION": vendor_concentration,
    "PROP-SPLIT-PARCEL": prop_split_parcel,
    "LEVY-REDUCTION-REPEATED": levy_repeated,
}
DUPLICATE: dict[str, Callable[[Spec], str]] = {
    "PAY-DUPLICATE": pay_duplicate,
    "SUBSIDY-DUPLICATE": subsidy_duplicate,
}
