"""One compiled OCDS release -> contract rows, one per award (for ``kind = "ocds"``).

Each row is text, under two kinds of column names: the canonical ``contracts`` columns the
connector fills by default (:data:`DEFAULTS`), and OCDS paths (``buyer/name``,
``tender/procurementMethodDetails``...) a config may map instead (``columns.department =
"tender/procuringEntity/name"``). Where a value comes from:

============== ======================================================================
contract_id    ``ocid/award id`` (``ocid/awards[2]`` for an award without an id)
department     ``buyer/name``, else ``tender/procuringEntity/name``
vendor_id      the award's suppliers' ``id`` (their ``name`` when none has an id), joined
               with `` + `` for a consortium
title          the award's ``title``, else the signed contract's, else the tender's
category       ``tender/mainProcurementCategory`` (OCDS 1.1; goods, services, works)
method         ``tender/procurementMethod`` (open, selective, limited, direct)
sole_source... ``tender/procurementMethodRationale``
amount         the signed contract's ``value``, else the award's, in the source's currency
contract_date  the signed contract's ``dateSigned``, else the award's ``date`` (the day as
               written, before any time zone)
============== ======================================================================

The contract signed for an award is the first of ``contracts`` whose ``awardID`` is the
award's id. An amount in a currency with no rate, or without a currency, is quarantined here
with the reason; everything else is typed (and quarantined when it does not fit) by the usual
mapping code.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from naebu.connectors.base import QuarantinedRow

#: The codelists' words onto the canonical vocabulary (``[sources.X.values.*]`` override them).
#: ``limited`` is "the procuring entity contacts a number of suppliers of its choice" (OCDS 1.1
#: codelist): 지명경쟁. OCDS 1.0 had no ``direct``, and several publishers put their direct
#: awards under ``limited``: such a config maps ``limited = "수의"`` (examples/ocds).
DEFAULT_VALUES: dict[str, dict[str, str]] = {
    "method": {
        "open": "일반경쟁",
        "selective": "제한경쟁",
        "limited": "지명경쟁",
        "direct": "수의",
    },
    "category": {"goods": "물품", "services": "용역", "works": "공사"},
}

#: The columns of a row: canonical defaults first, then the OCDS paths they come from.
COLUMNS: tuple[str, ...] = (
    "contract_id",
    "department",
    "vendor_id",
    "title",
    "category",
    "method",
    "sole_source_ground",
    "amount",
    "contract_date",
    "ocid",
    "award/id",
    "award/status",
    "award/date",
    "award/value/amount",
    "award/value/currency",
    "supplier/name",
    "contract/id",
    "contract/dateSigned",
    "contract/value/amount",
    "contract/value/currency",
    "buyer/name",
    "buyer/id",
    "tender/procuringEntity/name",
    "tender/title",
    "tender/procurementMethod",
    "tender/procurementMethodDetails",
    "tender/mainProcurementCategory",
    "tender/numberOfTenderers",
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def award_rows(
    compiled: Mapping[str, Any], where: str, currency: str, rates: Mapping[str, float]
) -> tuple[list[tuple[str, dict[str, Any]]], list[QuarantinedRow]]:
    """The rows of ``compiled`` (location, row) and its awards that cannot be rows."""
    ocid = str(compiled.get("ocid") or "")
    tender = _obj(compiled.get("tender"))
    buyer = _obj(compiled.get("buyer"))
    entity = _obj(tender.get("procuringEntity"))
    contracts = [c for c in _list(compiled.get("contracts")) if isinstance(c, dict)]
    awards = _list(compiled.get("awards"))
    rows: list[tuple[str, dict[str, Any]]] = []
    bad: list[QuarantinedRow] = []
    if compiled.get("awards") not in (None, []) and not awards:
        found = type(compiled["awards"]).__name__
        bad.append(
            QuarantinedRow(
                f"{where} awards",
                {"ocid": ocid, "awards": json.dumps(compiled["awards"], ensure_ascii=False)[:200]},
                f"awards of {ocid} is a {found}, not a list of awards - the publisher's "
                "awards cannot be read as OCDS awards",
            )
        )
    for i, award in enumerate(awards):
        place = f"{where} awards[{i}]"
        if not isinstance(award, dict):
            bad.append(
                QuarantinedRow(
                    place,
                    {"ocid": ocid, "award": json.dumps(award, ensure_ascii=False)[:200]},
                    f"awards[{i}] of {ocid} is a {type(award).__name__}, not an award object",
                )
            )
            continue
        award_id = _text(award.get("id"))
        signed = next(
            (c for c in contracts if award_id and _text(c.get("awardID")) == award_id), {}
        )
        suppliers = [s for s in _list(award.get("suppliers")) if isinstance(s, dict)]
        vendor = _vendor(suppliers)
        value = _obj(signed.get("value"))
        if value.get("amount") is None:
            value = _obj(award.get("value"))
        row: dict[str, Any] = {
            "contract_id": f"{ocid}/{award_id}" if award_id else f"{ocid}/awards[{i}]",
            "department": _text(buyer.get("name")) or _text(entity.get("name")),
            "vendor_id": vendor,
            "title": _text(award.get("title"))
            or _text(signed.get("title"))
            or _text(tender.get("title")),
            "category": _text(tender.get("mainProcurementCategory")),
            "method": _text(tender.get("procurementMethod")),
            "sole_source_ground": _text(tender.get("procurementMethodRationale")),
            "amount": None,
            "contract_date": _day(signed.get("dateSigned")) or _day(award.get("date")),
            "ocid": ocid,
            "award/id": award_id,
            "award/status": _text(award.get("status")),
            "award/date": _text(award.get("date")),
            "award/value/amount": _text(_obj(award.get("value")).get("amount")),
            "award/value/currency": _text(_obj(award.get("value")).get("currency")),
            "supplier/name": " + ".join(
                dict.fromkeys(x for x in (_text(s.get("name")) for s in suppliers) if x)
            )
            or None,
            "contract/id": _text(signed.get("id")),
            "contract/dateSigned": _text(signed.get("dateSigned")),
            "contract/value/amount": _text(_obj(signed.get("value")).get("amount")),
            "contract/value/currency": _text(_obj(signed.get("value")).get("currency")),
            "buyer/name": _text(buyer.get("name")),
            "buyer/id": _text(buyer.get("id")),
            "tender/procuringEntity/name": _text(entity.get("name")),
            "tender/title": _text(tender.get("title")),
            "tender/procurementMethod": _text(tender.get("procurementMethod")),
            "tender/procurementMethodDetails": _text(tender.get("procurementMethodDetails")),
            "tender/mainProcurementCategory": _text(tender.get("mainProcurementCategory")),
            "tender/numberOfTenderers": _text(tender.get("numberOfTenderers")),
        }
        amount, why = _convert(value, currency, rates)
        if why is not None:
            bad.append(QuarantinedRow(place, {k: v for k, v in row.items() if v is not None}, why))
            continue
        row["amount"] = amount
        rows.append((place, row))
    return rows, bad


def _vendor(suppliers: list[dict[str, Any]]) -> str | None:
    """The suppliers' ids joined; their names when none has an id.

    Mixing the two would make one supplier listed twice (once with its id, once by name alone,
    as a merged 1.0 and 1.1 copy can) look like a consortium of two.
    """
    ids = [x for x in (_text(s.get("id")) for s in suppliers) if x]
    names = [x for x in (_text(s.get("name")) for s in suppliers) if x]
    return " + ".join(dict.fromkeys(ids or names)) or None


def _convert(
    value: Mapping[str, Any], currency: str, rates: Mapping[str, float]
) -> tuple[str | None, str | None]:
    """The amount in ``currency`` as text (None: no amount), or why it cannot be had."""
    raw = value.get("amount")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None, None  # no amount: the typing quarantines the row (amount is required)
    try:
        number = float(raw)
    except (TypeError, ValueError):
        return str(raw), None  # typed (and refused with the usual reason) by the mapping
    if not math.isfinite(number):
        return str(raw), None
    code = _text(value.get("currency"))
    if code is None:
        return None, (
            f"amount {raw} has no currency - the publisher must say it (value.currency); "
            f"amounts are read as {currency} only when the data says so"
        )
    code = code.upper()
    if code == currency:
        return str(raw), None
    if code in rates:
        return _number(number * rates[code]), None
    return None, (
        f"amount {raw} is in {code}, and there is no exchange rate from {code} to {currency} - "
        f"add exchange_rates.{code} to the source (or it is a misspelt code)"
    )


def _number(value: float) -> str:
    return str(round(value)) if abs(value) < 2**53 else repr(value)


def _day(value: Any) -> str | None:
    text = _text(value)
    if text is None:
        return None
    match = _DATE.match(text)
    return match.group(0) if match else text


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return text or None


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
