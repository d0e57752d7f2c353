"""The pack's ``match`` rules in DuckDB SQL, one query each over the prepared tables
(:mod:`bench.baselines.tables`): what a competent analyst writes, text cleaned at load.

Each function returns a query whose one column is the flagged records' keys. A comparison
with a null is not true in SQL (``WHERE`` drops it), exactly as in naebu's expressions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.baselines.spec import Spec, sql_list, sql_text
from bench.baselines.tables import normalize


def account_dormant(s: Spec) -> str:
    """ACCOUNT-DORMANT."""
    return f"""SELECT account_no FROM accounts WHERE status <> '해지'
        AND date_diff('day', last_activity_on, as_of) >= {int(s.p["dormant_days"])}"""


def overtime_on_leave(s: Spec) -> str:
    """ATT-OVERTIME-ON-LEAVE."""
    p = s.p
    return f"""SELECT record_id FROM attendance WHERE overtime_hours > 0
        AND ((leave_type IN {sql_list(p["leave_kinds"])} AND leave_hours >= {p["min_leave_hours"]})
          OR (trip_type IN {sql_list(p["trip_kinds"])} AND trip_hours >= {p["min_trip_hours"]}))"""


def _card(s: Spec) -> str:
    return f"payment_method = '카드' AND card_kind IN {sql_list(s.p['card_kinds'])}"


def card_night(s: Spec) -> str:
    """CARD-NIGHT (``approved_time`` is a time of day: an interval since midnight)."""
    return f"""SELECT approval_id FROM card_transactions WHERE {_card(s)}
        AND (hour(approved_time) >= {int(s.p["night_from"])}
             OR hour(approved_time) < {int(s.p["night_until"])})"""


def card_holiday(s: Spec) -> str:
    """CARD-HOLIDAY: a Saturday, a Sunday or a day of the ``holidays`` table."""
    return f"""SELECT approval_id FROM card_transactions WHERE {_card(s)}
        AND (isodow(approved_date) >= 6 OR approved_date IN (SELECT day FROM holidays))"""


def card_perperson(s: Spec) -> str:
    """CARD-PERPERSON (``attendee_n`` counted at load)."""
    return f"""SELECT approval_id FROM card_transactions WHERE {_card(s)}
        AND attendee_n > 0 AND amount / attendee_n > {float(s.p["max_per_person"])!r}"""


def card_merchant(s: Spec) -> str:
    """CARD-MERCHANT: the normalized category on the list, or a keyword in the name."""
    cats = sorted({normalize(c) or "" for c in s.items("restricted_merchant_categories")})
    return f"""SELECT approval_id FROM card_transactions WHERE payment_method = '카드'
        AND (merchant_category_n IN {sql_list(cats)}
             OR regexp_matches(merchant_name_n, {sql_text(str(s.p["name_keywords"]))}))"""


def contract_near_limit(s: Spec) -> str:
    """CONTRACT-NEAR-LIMIT."""
    limit = float(s.p["limit"])
    return f"""SELECT contract_id FROM contracts WHERE method = '수의' AND category <> '공사'
        AND amount >= {limit * float(s.p["band"])!r} AND amount <= {limit!r}"""


def contract_no_ground(s: Spec) -> str:
    """CONTRACT-SOLE-SOURCE-NO-GROUND."""
    return f"""SELECT contract_id FROM contracts WHERE method = '수의'
        AND amount > {float(s.p["limit"])!r} AND sole_source_ground IS NULL"""


def pay_account_mismatch(s: Spec) -> str:
    """PAY-ACCOUNT-MISMATCH: the payee account's digits differ from the vendor's (changed
    before the payment, or never)."""
    return """SELECT p.payment_id FROM payments p JOIN vendors v ON v.vendor_id = p.vendor_id
        WHERE p.payee_account_d <> v.account_no_d
          AND (v.account_changed_on IS NULL OR p.paid_on >= v.account_changed_on)"""


def pay_to_employee(s: Spec) -> str:
    """PAY-TO-EMPLOYEE: the payee account is an employee's, under another name."""
    return """SELECT DISTINCT p.payment_id FROM payments p
        JOIN employees e ON e.account_no = p.payee_account
        WHERE e.employee_id IS NOT NULL AND p.payee_name_n <> e.name_n"""


def pay_self_approval(s: Spec) -> str:
    """PAY-SELF-APPROVAL."""
    return "SELECT payment_id FROM payments WHERE official_id = approver_id"


def payroll_retired(s: Spec) -> str:
    """PAYROLL-RETIRED."""
    return """SELECT l.pay_line_id FROM payroll l JOIN employees e ON e.employee_id = l.employee_id
        WHERE l.pay_month > e.retired_on"""


def permit_late(s: Spec) -> str:
    """PERMIT-LATE (``due_at``, the statutory deadline, computed at load)."""
    return """SELECT permit_id FROM permits WHERE coalesce(decided_at, decided_on) > due_at"""


def _cut(price: str, p: dict[str, Any]) -> str:
    """The lowest allowed price of ``price`` at the tender round (from the first cut round)."""
    first, step = int(p["first_cut_round"]), float(p["step"])
    return f"round({price} * (1 - {step!r} * (tender_round - {first} + 1)))"


def prop_below_appraisal(s: Spec) -> str:
    """PROP-BELOW-APPRAISAL."""
    p, first = s.p, int(s.p["first_cut_round"])
    return f"""SELECT sale_id FROM property_sales WHERE appraisal_count >= 2
        AND (sale_price < round(appraisal_mean * {float(p["floor"])!r})
             OR (tender_round < {first} AND sale_price < appraisal_mean)
             OR (tender_round >= {first} AND sale_price < {_cut("appraisal_mean", p)}))"""


def prop_stale_appraisal(s: Spec) -> str:
    """PROP-STALE-APPRAISAL."""
    return f"""SELECT sale_id FROM property_sales
        WHERE date_diff('day', appraisal_date, contract_date) > {int(s.p["max_age_days"])}"""


def prop_no_appraisal(s: Spec) -> str:
    """PROP-NO-APPRAISAL."""
    low = float(s.p["min_value"])
    return f"""SELECT sale_id FROM property_sales WHERE appraisal_count = 0
        AND (planned_price >= {low!r} OR sale_price >= {low!r})"""


def prop_no_ground(s: Spec) -> str:
    """PROP-SOLE-SOURCE-NO-GROUND."""
    grounds = sql_list(s.items("property_sole_source_grounds"))
    return f"""SELECT sale_id FROM property_sales WHERE method = '수의'
        AND (ground_code IS NULL OR ground_code NOT IN {grounds})"""


def prop_price_cut(s: Spec) -> str:
    """PROP-PRICE-CUT."""
    p, first, step = s.p, int(s.p["first_cut_round"]), float(s.p["step"])
    return f"""SELECT sale_id FROM property_sales WHERE initial_planned_price IS NOT NULL
        AND (planned_price < initial_planned_price * {float(p["floor"])!r}
             OR (tender_round < {first} AND planned_price < initial_planned_price)
             OR (tender_round >= {first}
                 AND planned_price < {_cut("initial_planned_price", p)})
             OR planned_price < round(previous_planned_price - initial_planned_price * {step!r}))"""


def levy_no_code(s: Spec) -> str:
    """LEVY-REDUCTION-NO-CODE."""
    return "SELECT levy_id FROM levies WHERE reduction_amount > 0 AND reduction_code IS NULL"


def receipt_other_account(s: Spec) -> str:
    """REV-RECEIPT-OTHER-ACCOUNT: not a listed account, nor in a listed virtual-account band
    (leading digits, or a range FROM~TO of one length; only digits count)."""
    return r"""WITH band AS (
            SELECT unnest(regexp_split_to_array(virtual_accounts, '[,;/\n]')) AS b
            FROM accounts WHERE virtual_accounts IS NOT NULL
        ), part AS (
            SELECT regexp_replace(split_part(b, '~', 1), '[^0-9]', '', 'g') AS lo,
                   regexp_replace(split_part(b, '~', 2), '[^0-9]', '', 'g') AS hi,
                   contains(b, '~') AS ranged
            FROM band
        ), heads AS (SELECT DISTINCT lo AS head FROM part WHERE NOT ranged AND lo <> ''),
        ranges AS (SELECT least(lo, hi) AS lo, greatest(lo, hi) AS hi FROM part
                   WHERE ranged AND lo <> '' AND length(lo) = length(hi))
        SELECT receipt_id FROM receipts r WHERE r.account_no_d IS NOT NULL
          AND r.account_no_d NOT IN (SELECT account_no_d FROM accounts
                                     WHERE account_no_d IS NOT NULL)
          AND NOT EXISTS (SELECT 1 FROM heads WHERE starts_with(r.account_no_d, head))
          AND NOT EXISTS (SELECT 1 FROM ranges WHERE length(r.account_no_d) = length(lo)
                          AND r.account_no_d BETWEEN lo AND hi)"""


QUERIES: dict[str, Callable[[Spec], str]] = {
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
