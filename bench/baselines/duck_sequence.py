"""The pack's ``sequence`` rules in DuckDB SQL: a correlated ``EXISTS`` or a grouped total
over the other side, as an analyst writes "A with no B within N days".

Calendar days throughout (every time here is a date). An absence is decided only once its
window's last day has passed (``< today``): until then naebu raises nothing either. With
``unmatched = skip`` a record is judged only when its key has a *known* counterpart: a record
of the other side whose day is empty or not before the window's start.
"""

from __future__ import annotations

from collections.abc import Callable

from bench.baselines.spec import Spec, sql_list, sql_text


def _day(s: Spec) -> str:
    return f"DATE '{s.today.isoformat()}'"


def pay_after_account_change(s: Spec) -> str:
    """PAY-AFTER-ACCOUNT-CHANGE: a payment within N days after the vendor's account changed."""
    return f"""SELECT p.payment_id FROM payments p WHERE EXISTS (
            SELECT 1 FROM vendors v WHERE v.vendor_id = p.vendor_id
              AND v.account_changed_on BETWEEN p.paid_on - INTERVAL {s.within_days} DAY
                                           AND p.paid_on)"""


def pay_before_inspection(s: Spec) -> str:
    """PAY-BEFORE-INSPECTION: a payment with no inspection of its contract in the N days up to
    it (advances and the like left out); contracts not in the data are not judged."""
    n = s.within_days
    return f"""SELECT p.payment_id FROM payments p
        WHERE p.purpose IS NOT NULL
          AND NOT regexp_matches(p.purpose, {sql_text(str(s.p["paid_without_inspection"]))})
          AND p.paid_on < {_day(s)}
          AND EXISTS (SELECT 1 FROM contracts c WHERE c.contract_id = p.contract_id
                      AND (c.inspection_date IS NULL
                           OR c.inspection_date >= p.paid_on - INTERVAL {n} DAY))
          AND NOT EXISTS (SELECT 1 FROM contracts c WHERE c.contract_id = p.contract_id
                          AND c.inspection_date BETWEEN p.paid_on - INTERVAL {n} DAY
                                                    AND p.paid_on)"""


def transfer_excess(s: Spec) -> str:
    """PAYROLL-TRANSFER-EXCESS: a transfer whose pay lines of its day do not add up to its
    total (none at all included)."""
    n = s.within_days
    return f"""SELECT t.transfer_id FROM payroll_transfers t
        LEFT JOIN payroll l ON l.transfer_id = t.transfer_id
             AND l.paid_on BETWEEN t.paid_on - INTERVAL {n} DAY AND t.paid_on
        WHERE t.paid_on < {_day(s)} AND t.total_amount IS NOT NULL
        GROUP BY t.transfer_id, t.total_amount
        HAVING count(l.transfer_id) = 0 OR sum(coalesce(l.amount, 0)) < t.total_amount"""


def permit_open_overdue(s: Spec) -> str:
    """PERMIT-OPEN-OVERDUE: undecided past its due day."""
    n = s.within_days
    return f"""SELECT f.permit_id FROM permits f
        WHERE f.decided_on IS NULL AND f.due_on + INTERVAL {n} DAY < {_day(s)}
          AND EXISTS (SELECT 1 FROM permits c WHERE c.permit_id = f.permit_id
                      AND (c.decided_on IS NULL OR c.decided_on >= f.due_on))
          AND NOT EXISTS (SELECT 1 FROM permits c WHERE c.permit_id = f.permit_id
                          AND c.decided_on BETWEEN f.due_on AND f.due_on + INTERVAL {n} DAY)"""


_SALE_RECEIPT = "(r.ref_type IS NULL OR r.ref_type = 'property_sale')"


def proceeds_late(s: Spec) -> str:
    """PROP-PROCEEDS-LATE: receipts in the N days from the contract short of the price."""
    n = s.within_days
    return f"""SELECT f.sale_id FROM property_sales f
        LEFT JOIN receipts r ON r.ref_id = f.sale_id AND {_SALE_RECEIPT}
             AND r.received_on BETWEEN f.contract_date
                               AND f.contract_date + INTERVAL {n} DAY
        WHERE f.sale_price > 0 AND f.contract_date + INTERVAL {n} DAY < {_day(s)}
        GROUP BY f.sale_id, f.sale_price
        HAVING count(r.ref_id) = 0 OR sum(coalesce(r.amount, 0)) < f.sale_price"""


def title_before_payment(s: Spec) -> str:
    """PROP-TITLE-BEFORE-PAYMENT: receipts up to the title transfer short of the price."""
    n = s.within_days
    return f"""SELECT f.sale_id FROM property_sales f
        LEFT JOIN receipts r ON r.ref_id = f.sale_id AND {_SALE_RECEIPT}
             AND r.received_on BETWEEN f.title_transfer_date - INTERVAL {n} DAY
                               AND f.title_transfer_date
        WHERE f.title_transfer_date < {_day(s)} AND f.sale_price IS NOT NULL
        GROUP BY f.sale_id, f.sale_price
        HAVING count(r.ref_id) = 0 OR sum(coalesce(r.amount, 0)) < f.sale_price"""


def levy_missing(s: Spec) -> str:
    """LEVY-MISSING-FOR-PERMIT: a charged permit granted with no levy in N days."""
    n = s.within_days
    return f"""SELECT f.permit_id FROM permits f
        WHERE f.status = '허가' AND f.permit_type IN {sql_list(s.p["charged"])}
          AND f.decided_on + INTERVAL {n} DAY < {_day(s)}
          AND NOT EXISTS (SELECT 1 FROM levies l WHERE l.permit_id = f.permit_id
                          AND l.levied_on BETWEEN f.decided_on
                                              AND f.decided_on + INTERVAL {n} DAY)"""


SEQUENCE: dict[str, Callable[[Spec], str]] = {
    "PAY-AFTER-ACCOUNT-CHANGE": pay_after_account_change,
    "PAY-BEFORE-INSPECTION": pay_before_inspection,
    "PAYROLL-TRANSFER-EXCESS": transfer_excess,
    "PERMIT-OPEN-OVERDUE": permit_open_overdue,
    "PROP-PROCEEDS-LATE": proceeds_late,
    "PROP-TITLE-BEFORE-PAYMENT": title_before_payment,
    "LEVY-MISSING-FOR-PERMIT": levy_missing,
}
