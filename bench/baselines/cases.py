"""The pack's rules that the baselines re-implement, each written out by hand for each engine.

Every translation reads its thresholds from the loaded rule (``meta.params``, the window), so
it follows the pack; the runner checks that each baseline flags exactly the record keys naebu
flags on the same frame, so a translation that drifts from its rule fails loudly instead of
producing a flattering number.

Match rules (durable_rules, DuckDB, a Python loop):

- ``CARD-NIGHT``: ``payment_method == "카드" and card_kind in card_kinds and
  not_null(approved_time) and (hour(approved_time) >= night_from or hour(approved_time) <
  night_until)``. durable_rules has
  no ``hour()``: the time is posted as zero-padded ``HH:MM:SS`` text, for which
  ``hour >= 23`` is exactly ``text >= "23:00:00"`` and ``hour < 6`` is ``text < "06:00:00"``.
- ``PAY-SELF-APPROVAL``: ``not_null(approver_id) and official_id == approver_id`` (a comparison
  of two fields of one record: ``{"$m": field}`` in durable_rules).
- ``CONTRACT-NEAR-LIMIT``: ``method == "수의" and category != "공사" and
  amount >= limit * band and amount <= limit``.

Window rules (DuckDB SQL window functions, a Python loop):

- ``CONTRACT-SPLIT`` (aggregate): sole-source contracts other than works, with a title that is
  not a textbook licence (a phrase of ``lists.textbook_licence_titles`` and none of
  ``lists.textbook_licence_not``, spaces ignored), grouped by department, vendor and the word
  설계 or 감리 of the title (``SPLIT_KIND``), trailing window; ``count() >= 2 and max(amount) <=
  limit and sum(amount) > limit``; every record in a window where that holds is flagged.
- ``PAY-DUPLICATE`` (duplicate): same vendor, amount and invoice number, at most the window
  apart.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from naebu.engine.registry import RuleType

Record = dict[str, Any]

#: SQL macro shared by the queries: blank text counts as missing, as in the expression language.
SQL_PRESENT = "CREATE OR REPLACE MACRO present(x) AS CASE WHEN trim(x) = '' THEN NULL ELSE x END"


@dataclass(frozen=True)
class MatchCase:
    """A match rule for the record-at-a-time baselines and DuckDB."""

    rule_id: str
    dataset: str
    key: str
    #: The columns the condition reads (posted with the key).
    columns: tuple[str, ...]
    #: durable_rules JSON condition on the record (alias ``m``).
    durable: Callable[[dict[str, Any]], dict[str, Any]]
    #: The same condition as a Python predicate on the record dict.
    python: Callable[[dict[str, Any]], Callable[[Record], bool]]
    #: The same condition as a DuckDB query returning the flagged keys.
    sql: Callable[[dict[str, Any]], str]


def _night_durable(p: dict[str, Any]) -> dict[str, Any]:
    kinds = [{"card_kind": str(k)} for k in p["card_kinds"]]
    return {"$and": [
        {"payment_method": "카드"},
        {"$or": kinds} if len(kinds) > 1 else kinds[0],
        {"$ex": {"approved_time": 1}},
        {"$or": [{"$gte": {"approved_time": f"{int(p['night_from']):02d}:00:00"}},
                 {"$lt": {"approved_time": f"{int(p['night_until']):02d}:00:00"}}]},
    ]}  # fmt: skip


def _night_python(p: dict[str, Any]) -> Callable[[Record], bool]:
    night_from, night_until = int(p["night_from"]), int(p["night_until"])
    kinds = {str(k) for k in p["card_kinds"]}

    def night(r: Record) -> bool:
        t = r.get("approved_time")
        if r.get("payment_method") != "카드" or r.get("card_kind") not in kinds or t is None:
            return False
        hour = int(t[:2])
        return hour >= night_from or hour < night_until

    return night


def _night_sql(p: dict[str, Any]) -> str:
    kinds = ", ".join("'" + str(k).replace("'", "''") + "'" for k in p["card_kinds"])
    return f"""
        SELECT approval_id FROM card_transactions
        WHERE present(payment_method) = '카드' AND present(card_kind) IN ({kinds})
          AND approved_time IS NOT NULL
          AND (date_part('hour', approved_time) >= {int(p["night_from"])}
               OR date_part('hour', approved_time) < {int(p["night_until"])})"""


def _self_durable(p: dict[str, Any]) -> dict[str, Any]:
    return {"$and": [{"$ex": {"approver_id": 1}},
                     {"$eq": {"official_id": {"$m": "approver_id"}}}]}  # fmt: skip


def _self_python(p: dict[str, Any]) -> Callable[[Record], bool]:
    def self_approved(r: Record) -> bool:
        approver = r.get("approver_id")
        return approver is not None and r.get("official_id") == approver

    return self_approved


def _self_sql(p: dict[str, Any]) -> str:
    return """
        SELECT payment_id FROM payments
        WHERE present(approver_id) IS NOT NULL AND present(official_id) = present(approver_id)"""


def _near_durable(p: dict[str, Any]) -> dict[str, Any]:
    low, limit = float(p["limit"]) * float(p["band"]), float(p["limit"])
    return {"$and": [{"method": "수의"}, {"$neq": {"category": "공사"}},
                     {"$gte": {"amount": low}}, {"$lte": {"amount": limit}}]}  # fmt: skip


def _near_python(p: dict[str, Any]) -> Callable[[Record], bool]:
    low, limit = float(p["limit"]) * float(p["band"]), float(p["limit"])

    def near(r: Record) -> bool:
        category, amount = r.get("category"), r.get("amount")
        return (
            r.get("method") == "수의"
            and category is not None
            and category != "공사"
            and amount is not None
            and low <= amount <= limit
        )

    return near


def _near_sql(p: dict[str, Any]) -> str:
    low, limit = float(p["limit"]) * float(p["band"]), float(p["limit"])
    return f"""
        SELECT contract_id FROM contracts
        WHERE present(method) = '수의' AND present(category) <> '공사'
          AND amount >= {low!r} AND amount <= {limit!r}"""


MATCH_CASES = (
    MatchCase("CARD-NIGHT", "card_transactions", "approval_id",
              ("payment_method", "card_kind", "approved_time"), _night_durable, _night_python, _night_sql),
    MatchCase("PAY-SELF-APPROVAL", "payments", "payment_id", ("official_id", "approver_id"),
              _self_durable, _self_python, _self_sql),
    MatchCase("CONTRACT-NEAR-LIMIT", "contracts", "contract_id", ("method", "category", "amount"),
              _near_durable, _near_python, _near_sql),
)  # fmt: skip


def window_days(rule: RuleType) -> int:
    """The trailing window of an aggregate or duplicate rule, in whole days."""
    window = getattr(rule, "window", None)
    if window is None or window.period is not None or window.length.seconds:
        raise ValueError(f"{rule.meta.id}: the baseline expects a trailing window of whole days")
    return int(window.length.days)


#: CONTRACT-SPLIT's third group key: a 설계 and a 감리 of one architect are separate services.
SPLIT_KIND = 'coalesce(extract(title, "(설계|감리)"), "-")'
SPLIT_KIND_PATTERN = "(설계|감리)"


def licence_phrases(lists: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """The textbook-licence phrases and the phrases that undo them, as contains_any compares
    them (NFKC, whitespace removed)."""

    def bare(name: str) -> list[str]:
        return [re.sub(r"\s", "", unicodedata.normalize("NFKC", str(i))) for i in lists[name].items]

    return bare("textbook_licence_titles"), bare("textbook_licence_not")


def split_kind(title: str) -> str:
    """SPLIT_KIND in Python."""
    found = re.search(SPLIT_KIND_PATTERN, title)
    return found.group(1) if found else "-"


def is_licence(title: str, yes: list[str], no: list[str]) -> bool:
    """contains_any(title, yes) and not contains_any(title, no), spaces ignored."""
    text = re.sub(r"\s", "", unicodedata.normalize("NFKC", title))
    return any(p in text for p in yes) and not any(p in text for p in no)


def _any_like(column: str, phrases: list[str]) -> str:
    """SQL: the whitespace-free ``column`` holds one of ``phrases`` (FALSE for none)."""
    likes = [f"{column} LIKE '%{p.replace(chr(39), chr(39) * 2)}%'" for p in phrases]
    return "(" + (" OR ".join(likes) or "FALSE") + ")"


def split_sql(rule: RuleType, lists: Mapping[str, Any]) -> str:
    """CONTRACT-SPLIT in DuckDB: per-record trailing aggregates, then every record inside a
    window that passes (a record is in the window of every later record of its group up to
    ``days`` after it: a forward-looking ``bool_or``). Titles are compared without their
    whitespace; NFKC is left out (DuckDB has none), enough for the demo's titles."""
    days, limit = window_days(rule), float(rule.meta.params["limit"])
    yes, no = licence_phrases(lists)
    return f"""
        WITH sub AS (
            SELECT contract_id, present(department) AS dept, present(vendor_id) AS vendor,
                   contract_date AS t, amount,
                   coalesce(nullif(regexp_extract(title, '{SPLIT_KIND_PATTERN}', 1), ''), '-')
                       AS kind,
                   regexp_replace(title, '\\s', '', 'g') AS bare
            FROM contracts
            WHERE present(method) = '수의' AND present(category) <> '공사'
              AND present(title) IS NOT NULL
        ), usable AS (
            SELECT * FROM sub WHERE dept IS NOT NULL AND vendor IS NOT NULL AND t IS NOT NULL
              AND NOT ({_any_like("bare", yes)} AND NOT {_any_like("bare", no)})
        ), win AS (
            SELECT contract_id, dept, vendor, kind, t,
                   count(*) OVER back >= 2
                   AND max(amount) OVER back <= {limit!r}
                   AND sum(amount) OVER back > {limit!r} AS good
            FROM usable
            WINDOW back AS (PARTITION BY dept, vendor, kind ORDER BY t
                            RANGE BETWEEN INTERVAL {days} DAY PRECEDING AND CURRENT ROW)
        )
        SELECT contract_id FROM (
            SELECT contract_id, bool_or(coalesce(good, false)) OVER (
                PARTITION BY dept, vendor, kind ORDER BY t
                RANGE BETWEEN CURRENT ROW AND INTERVAL {days} DAY FOLLOWING) AS flagged
            FROM win
        ) WHERE flagged"""


def duplicate_sql(rule: RuleType) -> str:
    """PAY-DUPLICATE in DuckDB: records with another of the same keys within the window."""
    days = window_days(rule)
    return f"""
        SELECT payment_id FROM (
            SELECT payment_id, count(*) OVER (
                PARTITION BY present(vendor_id), amount, present(invoice_no) ORDER BY paid_on
                RANGE BETWEEN INTERVAL {days} DAY PRECEDING AND INTERVAL {days} DAY FOLLOWING
            ) AS n
            FROM payments
            WHERE present(vendor_id) IS NOT NULL AND amount IS NOT NULL
              AND present(invoice_no) IS NOT NULL AND paid_on IS NOT NULL
        ) WHERE n > 1"""
