"""The audit trail (감사 기록): every step of every alert and suppression, append-only and
hash-chained.

Each entry records who did what, when, from which status to which, and why (the comment).
Entries are numbered 1, 2, 3 ... by naebu, not by the database, and each carries

    hash = sha256(prev_hash + "\\n" + canonical JSON of the entry's own fields)

where ``prev_hash`` is the previous entry's hash (64 zeros for the first). The newest
``seq`` and hash are also kept in ``audit_head``. :func:`verify` recomputes the chain and names
any entry that was edited (its hash no longer matches), deleted (a gap in the numbers, or the
head pointing past the end) or rewritten with a recomputed hash (the next entry's
``prev_hash`` no longer matches), any alert whose status disagrees with its trail, and any
current rule version (``rule_versions``) whose hash is not the one the trail last recorded
for that rule (naebu.rulechanges).

Writers serialise on the chain head: on PostgreSQL with a transaction-scoped advisory lock,
elsewhere with ``SELECT ... FOR UPDATE`` on the head row (SQLite has one writer anyway).
Entries are written in the caller's transaction: a step and its entry commit together.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select, text

from naebu.store import alerts as alerts_table
from naebu.store import audit_head, audit_trail, rule_versions

GENESIS = "0" * 64
#: The actor of steps naebu takes itself (raising, reopening, escalating).
SYSTEM = "system"
_SEOUL = ZoneInfo("Asia/Seoul")
_LOCK_KEY = 0x6E6165627500  # "naebu" - any constant shared by every writer
_FIELDS = (
    "seq",
    "at",
    "actor",
    "action",
    "alert_id",
    "suppression_id",
    "from_status",
    "to_status",
    "comment",
    "details",
)


def trail_time(at: datetime) -> datetime:
    """``at`` as stored in the trail: naive Asia/Seoul time in whole seconds.

    Every database keeps whole seconds (MySQL drops fractions by default), so the hash of an
    entry is the same before and after the round trip.
    """
    if at.tzinfo is not None:
        at = at.astimezone(_SEOUL).replace(tzinfo=None)
    return at.replace(microsecond=0)


def canonical(entry: Mapping[str, Any]) -> str:
    """The canonical JSON of an entry's own fields (sorted keys, no spaces, UTF-8 text)."""
    body = {k: entry.get(k) for k in _FIELDS}
    at = body["at"]
    if isinstance(at, datetime):
        body["at"] = at.isoformat(timespec="seconds")
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def entry_hash(prev_hash: str, entry: Mapping[str, Any]) -> str:
    """The hash of an entry: covers the previous hash and the entry's canonical JSON."""
    return hashlib.sha256((prev_hash + "\n" + canonical(entry)).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Step:
    """One entry to append (its number and hashes are filled in by :func:`append`)."""

    actor: str
    action: str
    at: datetime
    alert_id: int | None = None
    suppression_id: int | None = None
    from_status: str | None = None
    to_status: str | None = None
    comment: str | None = None
    details: dict[str, Any] | None = None


def _head(conn: Connection) -> tuple[int, str]:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
    row = conn.execute(
        select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1).with_for_update()
    ).first()
    if row is not None:
        return int(row.seq), str(row.hash)
    last = conn.execute(
        select(audit_trail.c.seq, audit_trail.c.hash).order_by(audit_trail.c.seq.desc()).limit(1)
    ).first()
    return (int(last.seq), str(last.hash)) if last is not None else (0, GENESIS)


def append(conn: Connection, steps: Iterable[Step]) -> list[int]:
    """Append ``steps`` to the trail in order; return their numbers. Does not commit."""
    steps = list(steps)
    if not steps:
        return []
    seq, prev = _head(conn)
    first = seq
    rows = []
    for step in steps:
        seq += 1
        entry: dict[str, Any] = {
            "seq": seq,
            "at": trail_time(step.at),
            "actor": step.actor,
            "action": step.action,
            "alert_id": step.alert_id,
            "suppression_id": step.suppression_id,
            "from_status": step.from_status,
            "to_status": step.to_status,
            "comment": step.comment,
            "details": _json_safe(step.details),
        }
        entry["prev_hash"] = prev
        entry["hash"] = prev = entry_hash(prev, entry)
        rows.append(entry)
    conn.execute(audit_trail.insert(), rows)
    if first == 0 and conn.execute(select(audit_head.c.id)).first() is None:
        conn.execute(audit_head.insert().values(id=1, seq=seq, hash=prev))
    else:
        conn.execute(audit_head.update().where(audit_head.c.id == 1).values(seq=seq, hash=prev))
    return [r["seq"] for r in rows]


def _json_safe(details: Mapping[str, Any] | None) -> dict[str, Any] | None:
    # Round-trip through JSON now, so what is hashed is exactly what the database returns.
    if details is None:
        return None
    return dict(json.loads(json.dumps(details, ensure_ascii=False, default=str)))


def entries(conn: Connection, alert_id: int | None = None) -> list[dict[str, Any]]:
    """Trail entries in order, all or of one alert."""
    q = select(audit_trail).order_by(audit_trail.c.seq)
    if alert_id is not None:
        q = q.where(audit_trail.c.alert_id == alert_id)
    return [dict(r._mapping) for r in conn.execute(q)]


@dataclass
class Verification:
    """What :func:`verify` found: the entries checked and every problem, one line each."""

    entries: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the chain is whole and every alert agrees with it."""
        return not self.problems


def verify(conn: Connection) -> Verification:
    """Recompute the chain; name every edited, deleted or rewritten entry."""
    result = Verification()
    expected, prev = 1, GENESIS
    last_status: dict[int, tuple[int, str]] = {}
    rule_hashes: dict[str, tuple[int, str | None]] = {}
    rows = conn.execute(
        select(audit_trail).order_by(audit_trail.c.seq).execution_options(yield_per=5000)
    )
    for row in rows:
        entry = dict(row._mapping)
        seq = int(entry["seq"])
        result.entries += 1
        gap = seq != expected
        if gap:
            missing = f"#{expected}" if seq == expected + 1 else f"#{expected} to #{seq - 1}"
            result.problems.append(
                f"entry {missing} missing: deleted from the audit trail "
                f"(감사 기록 {missing} 삭제됨)"
            )
        if entry_hash(str(entry["prev_hash"]), entry) != entry["hash"]:
            result.problems.append(
                f"entry #{seq} was edited: its content no longer matches its hash "
                f"(감사 기록 #{seq} 변조됨)"
            )
        elif not gap and entry["prev_hash"] != prev:
            result.problems.append(
                f"entry #{seq} does not follow entry #{seq - 1}: #{seq - 1} was rewritten "
                f"(감사 기록 #{seq - 1} 변조됨)"
            )
        prev, expected = str(entry["hash"]), seq + 1
        if entry["alert_id"] is not None and entry["to_status"] is not None:
            last_status[int(entry["alert_id"])] = (seq, str(entry["to_status"]))
        _note_rule_hashes(entry, rule_hashes)
    head = conn.execute(select(audit_head).where(audit_head.c.id == 1)).first()
    last = expected - 1
    if head is not None and int(head.seq) > last:
        missing = f"#{last + 1}" if head.seq == last + 1 else f"#{last + 1} to #{head.seq}"
        result.problems.append(
            f"entry {missing} missing: the newest entries were deleted (감사 기록 {missing} 삭제됨)"
        )
    elif head is not None and (int(head.seq) != last or head.hash != prev):
        result.problems.append(
            f"entry #{last} does not match the recorded head of the trail (감사 기록 #{last} 변조됨)"
        )
    elif head is None and result.entries:
        result.problems.append("the head of the audit trail is missing (audit_head deleted)")
    for alert in conn.execute(
        select(alerts_table.c.id, alerts_table.c.status).order_by(alerts_table.c.id)
    ):
        found = last_status.get(int(alert.id))
        if found is None:
            result.problems.append(f"alert #{alert.id} has no entry in the audit trail")
        elif found[1] != alert.status:
            result.problems.append(
                f"alert #{alert.id}: status {alert.status!r} in the alerts table but "
                f"{found[1]!r} in its audit trail (entry #{found[0]})"
            )
    _check_rule_versions(conn, rule_hashes, result)
    return result


def _note_rule_hashes(entry: Mapping[str, Any], hashes: dict[str, tuple[int, str | None]]) -> None:
    """Keep the rule hashes a baseline or rule-change entry records (naebu.rulechanges)."""
    details = entry.get("details") or {}
    seq = int(entry["seq"])
    if entry["action"] == "rule_baseline":
        for rule_id, version in (details.get("rules") or {}).items():
            hashes[str(rule_id)] = (seq, (version or {}).get("hash"))
    elif entry["action"] == "rule_change" and details.get("rule_id"):
        hashes[str(details["rule_id"])] = (seq, details.get("new_hash"))


def _check_rule_versions(
    conn: Connection, hashes: Mapping[str, tuple[int, str | None]], result: Verification
) -> None:
    """The current rule versions must be the ones the (chained) trail last recorded: the
    ``rule_versions`` table is not chained, so a version rewritten there shows up here."""
    t = rule_versions.c
    current = {
        str(r.rule_id): str(r.content_hash)
        for r in conn.execute(select(t.rule_id, t.content_hash).where(t.retired_at.is_(None)))
    }
    for rule_id in sorted(set(current) | {k for k, v in hashes.items() if v[1] is not None}):
        seq, recorded = hashes.get(rule_id, (None, None))
        found = current.get(rule_id)
        if found == recorded:
            continue
        where = f"entry #{seq}" if seq is not None else "no entry"
        result.problems.append(
            f"rule {rule_id}: version {(found or 'none')[:12]} in rule_versions but "
            f"{(recorded or 'none')[:12]} in the audit trail ({where}) "
            f"(규칙 {rule_id} 버전 기록 불일치)"
        )
