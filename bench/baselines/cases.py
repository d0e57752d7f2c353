"""Three match rules written out by hand for the record-at-a-time baselines (durable_rules and
a per-row Python loop).

Every translation reads its thresholds from the loaded rule (``meta.params``), so
it follows the pack; the runner checks that each baseline flags exactly the record keys naebu
flags on the same frame, so a translation that drifts from its rule fails loudly instead of
producing a flattering number.

Match rules (durable_rules, a Python loop):

- ``CARD-NIGHT``: ``payment_method == "카드" and card_kind in card_kinds and
  not_null(approved_time) and (hour(approved_time) >= night_from or hour(approved_time) <
  night_until)``. durable_rules has
  no ``hour()``: the time is posted as zero-padded ``HH:MM:SS`` text, for which
  ``hour >= 23`` is exactly ``text >= "23:00:00"`` and ``hour < 6`` is ``text < "06:00:00"``.
- ``PAY-SELF-APPROVAL``: ``not_null(approver_id) and official_id == approver_id`` (a comparison
  of two fields of one record: ``{"$m": field}`` in durable_rules).
- ``CONTRACT-NEAR-LIMIT``: ``method == "수의" and category != "공사" and
  amount >= limit * band and amount <= limit``.

The whole pack in DuckDB SQL and Polars is in ``duck_*.py`` and ``polars_*.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Record = dict[str, Any]


@dataclass(frozen=True)
class MatchCase:
    """A match rule for the record-at-a-time baselines."""

    rule_id: str
    dataset: str
    key: str
    #: The columns the condition reads (posted with the key).
    columns: tuple[str, ...]
    #: durable_rules JSON condition on the record (alias ``m``).
    durable: Callable[[dict[str, Any]], dict[str, Any]]
    #: The same condition as a Python predicate on the record dict.
    python: Callable[[dict[str, Any]], Callable[[Record], bool]]


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


def _self_durable(p: dict[str, Any]) -> dict[str, Any]:
    return {"$and": [{"$ex": {"approver_id": 1}},
                     {"$eq": {"official_id": {"$m": "approver_id"}}}]}  # fmt: skip


def _self_python(p: dict[str, Any]) -> Callable[[Record], bool]:
    def self_approved(r: Record) -> bool:
        approver = r.get("approver_id")
        return approver is not None and r.get("official_id") == approver

    return self_approved


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


MATCH_CASES = (
    MatchCase("CARD-NIGHT", "card_transactions", "approval_id",
              ("payment_method", "card_kind", "approved_time"), _night_durable, _night_python),
    MatchCase("PAY-SELF-APPROVAL", "payments", "payment_id", ("official_id", "approver_id"),
              _self_durable, _self_python),
    MatchCase("CONTRACT-NEAR-LIMIT", "contracts", "contract_id", ("method", "category", "amount"),
              _near_durable, _near_python),
)  # fmt: skip
