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

The chain alone resists only someone who does not recompute it. :mod:`naebu.alerts.anchor` anchors
it outside the store: with the audit key each entry and the head are signed (``mac``), and
published heads (the heads file, the audit office's digests) are checked against the chain;
every step that raises or changes an alert records the digest of its content, which verify
compares with the alert as it stands.

Writers serialise on the chain head: on PostgreSQL with a transaction-scoped advisory lock,
elsewhere with ``SELECT ... FOR UPDATE`` on the head row (SQLite has one writer anyway).
Entries are written in the caller's transaction: a step and its entry commit together.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select, text

from naebu.alerts import anchor
from naebu.core.jsonsafe import json_safe
from naebu.store.tables import alerts as alerts_table
from naebu.store.tables import audit_head, audit_trail, rule_drafts, rule_versions

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
    key = anchor.installed().key
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
        entry["mac"] = anchor.entry_mac(key, prev) if key is not None else None
        rows.append(entry)
    conn.execute(audit_trail.insert(), rows)
    head = {"seq": seq, "hash": prev, "mac": anchor.head_mac(key, seq, prev) if key else None}
    if first == 0 and conn.execute(select(audit_head.c.id)).first() is None:
        conn.execute(audit_head.insert().values(id=1, **head))
    else:
        conn.execute(audit_head.update().where(audit_head.c.id == 1).values(**head))
    return [r["seq"] for r in rows]


def current_head(conn: Connection) -> tuple[int, str] | None:
    """The newest entry's number and hash as ``audit_head`` records them (None: no trail)."""
    row = conn.execute(
        select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)
    ).first()
    return (int(row.seq), str(row.hash)) if row is not None else None


def _json_safe(details: Mapping[str, Any] | None) -> dict[str, Any] | None:
    # JSON values only (naebu/core/jsonsafe.py), so what is hashed is exactly what the database returns.
    return None if details is None else json_safe(dict(details))


def entries(conn: Connection, alert_id: int | None = None) -> list[dict[str, Any]]:
    """Trail entries in order, all or of one alert."""
    q = select(audit_trail).order_by(audit_trail.c.seq)
    if alert_id is not None:
        q = q.where(audit_trail.c.alert_id == alert_id)
    return [dict(r._mapping) for r in conn.execute(q)]


@dataclass
class Verification:
    """What :func:`verify` found: the entries checked, every problem (one line each) and
    notes on what was not or could not be checked."""

    entries: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: Entries carrying a signature (with a key), and the published heads checked.
    signed: int = 0
    heads: int = 0

    @property
    def ok(self) -> bool:
        """True when the chain is whole and every alert agrees with it."""
        return not self.problems


def _ranges(seqs: list[int]) -> list[str]:
    """``[3, 4, 5, 9]`` -> ``["#3 to #5", "#9"]``: a rewrite of thousands is a few lines."""
    out: list[str] = []
    start = prev = None
    for s in [*seqs, None]:
        if s is not None and prev is not None and s == prev + 1:
            prev = s
            continue
        if start is not None:
            out.append(f"#{start}" if start == prev else f"#{start} to #{prev}")
        start = prev = s
    return out


@dataclass
class _Signatures:
    """The signature check of each entry, with the audit key."""

    key: bytes
    unsigned_prefix: int = 0  # entries #1 .. #n written before the key existed
    first_signed: int | None = None
    bad: list[int] = field(default_factory=list)
    missing: list[int] = field(default_factory=list)

    def check(self, entry: Mapping[str, Any]) -> None:
        seq, mac = int(entry["seq"]), entry.get("mac")
        if mac is None:
            if self.first_signed is None:
                self.unsigned_prefix = seq
            else:
                self.missing.append(seq)
            return
        if self.first_signed is None:
            self.first_signed = seq
        if not anchor.same(mac, anchor.entry_mac(self.key, str(entry["hash"]))):
            self.bad.append(seq)

    def report(self, result: Verification, head: Any) -> None:
        for r in _ranges(self.bad):
            result.problems.append(
                f"entry {r}: signature does not match: written or rewritten without the "
                f"audit key (감사 기록 {r} 서명 불일치)"
            )
        for r in _ranges(self.missing):
            result.problems.append(
                f"entry {r} not signed, though entry #{self.first_signed} before it is: "
                f"written without the audit key (감사 기록 {r} 서명 없음)"
            )
        result.signed = result.entries - self.unsigned_prefix - len(self.missing)
        if result.entries and self.first_signed is None:
            result.problems.append(
                "no entry of the audit trail is signed, though an audit key is configured: "
                "the chain was rewritten without the key, or the key was only now set up "
                "(then run `naebu audit init-key` to sign the current head) "
                "(감사 기록 서명 없음)"
            )
        elif self.unsigned_prefix:
            r = _ranges(list(range(1, self.unsigned_prefix + 1)))[0]
            result.notes.append(
                f"entries {r} were written before the audit key was set up: not signed "
                f"(서명 전 기록)"
            )
        if head is None or self.first_signed is None:
            return
        if not anchor.same(head.mac, anchor.head_mac(self.key, int(head.seq), str(head.hash))):
            result.problems.append(
                f"the head of the audit trail (#{head.seq}) does not carry the audit key's "
                "signature: moved back or rewritten without the key (감사 기록 최종 지점 변조됨)"
            )


def verify(
    conn: Connection,
    key: bytes | None = None,
    heads: Sequence[anchor.PublishedHead] = (),
) -> Verification:
    """Recompute the chain; name every edited, deleted or rewritten entry.

    With ``key`` (the audit key) every signature is checked too: an entry or head written
    without the key shows. Each of ``heads`` (published heads) must still be in the chain
    with the same hash. Every alert must agree with the last status and content digest its
    trail recorded.
    """
    result = Verification(heads=len(heads))
    expected, prev = 1, GENESIS
    last_status: dict[int, tuple[int, str]] = {}
    last_fields: dict[int, tuple[int, str]] = {}
    rule_hashes: dict[str, tuple[int, str | None]] = {}
    draft_steps: dict[int, dict[str, tuple[str, str | None]]] = {}
    published = {h.seq for h in heads}
    hashes: dict[int, str] = {}
    signatures = _Signatures(key) if key is not None else None
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
        if seq in published:
            hashes[seq] = prev
        if signatures is not None:
            signatures.check(entry)
        if entry["alert_id"] is not None:
            alert_id = int(entry["alert_id"])
            if entry["to_status"] is not None:
                last_status[alert_id] = (seq, str(entry["to_status"]))
            digest = (entry.get("details") or {}).get("fields")
            if digest:
                last_fields[alert_id] = (seq, str(digest))
        _note_rule_hashes(entry, rule_hashes)
        if str(entry["action"]) in _DRAFT_STEPS and (entry.get("details") or {}).get("draft"):
            details = entry["details"]
            steps = draft_steps.setdefault(int(details["draft"]), {})
            steps[str(entry["action"])] = (str(entry["actor"]), details.get("content_hash"))
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
    if signatures is not None:
        signatures.report(result, head)
    _check_published(heads, hashes, last, result)
    _check_alerts(conn, last_status, last_fields, result)
    _check_rule_versions(conn, rule_hashes, result)
    _check_drafts(conn, draft_steps, result)
    return result


#: Trail steps of a rule draft (naebu/rule_drafts.py), and the draft statuses needing each.
_DRAFT_STEPS = {
    "rule_propose": ("draft", "approved", "live"),
    "rule_approve": ("approved", "live"),
    "rule_load": ("live",),
}


def _check_drafts(
    conn: Connection,
    steps: Mapping[int, Mapping[str, tuple[str, str | None]]],
    result: Verification,
) -> None:
    """Each rule draft must be what the (chained) trail recorded: its content hash, its
    proposer and approver, and a step for each status it has reached. The ``rule_drafts``
    table is not chained, and the daemon runs the versions of approved drafts: a draft marked
    approved or rewritten there shows up here."""
    d = rule_drafts.c
    rows = conn.execute(
        select(d.id, d.status, d.content_hash, d.proposed_by, d.approved_by).order_by(d.id)
    )
    for row in rows:
        recorded = steps.get(int(row.id), {})
        who = {"rule_propose": row.proposed_by, "rule_approve": row.approved_by}
        for action, statuses in _DRAFT_STEPS.items():
            step = recorded.get(action)
            if row.status not in statuses:
                continue
            if step is None:
                result.problems.append(
                    f"rule draft #{row.id} is {row.status} but the audit trail has no "
                    f"{action} entry for it (규칙 변경안 #{row.id} 기록 없음)"
                )
            elif step[1] != row.content_hash or (action in who and step[0] != who[action]):
                result.problems.append(
                    f"rule draft #{row.id}: its content or {action.removeprefix('rule_')} "
                    f"is not what the audit trail recorded (규칙 변경안 #{row.id} 변조됨)"
                )
    for draft_id in sorted(set(steps) - {int(r) for r in conn.execute(select(d.id)).scalars()}):
        result.problems.append(
            f"rule draft #{draft_id} is in the audit trail but not in rule_drafts: deleted "
            f"(규칙 변경안 #{draft_id} 삭제됨)"
        )


def _check_published(
    heads: Sequence[anchor.PublishedHead],
    hashes: Mapping[int, str],
    last: int,
    result: Verification,
) -> None:
    """Every published head must still be in the chain with the hash it had then."""
    done: set[tuple[int, str]] = set()
    for h in heads:
        if (h.seq, h.hash) in done:
            continue
        done.add((h.seq, h.hash))
        where = f"published in {h.source} line {h.line}"
        found = hashes.get(h.seq)
        if h.seq > last:
            result.problems.append(
                f"head #{h.seq} {where} is past the end of the trail (#{last}): entries were "
                f"deleted and the head moved back (감사 기록 #{h.seq} 이후 삭제됨)"
            )
        elif found is None:
            result.problems.append(
                f"entry #{h.seq}, a head {where}, is missing (감사 기록 #{h.seq} 삭제됨)"
            )
        elif not found.startswith(h.hash):
            result.problems.append(
                f"entry #{h.seq} is not the one {where} ({h.hash[:16]}...): the trail was "
                f"rewritten up to there (감사 기록 #{h.seq} 변조됨)"
            )


def _check_alerts(
    conn: Connection,
    last_status: Mapping[int, tuple[int, str]],
    last_fields: Mapping[int, tuple[int, str]],
    result: Verification,
) -> None:
    """Each alert's status and content must be what its trail last recorded; an alert the
    trail knows must still exist."""
    a = alerts_table.c
    unrecorded = 0
    present: set[int] = set()
    columns = [a.status, *anchor.DIGEST_COLUMNS]
    for alert in conn.execute(select(*columns).order_by(a.id).execution_options(yield_per=5000)):
        alert_id = int(alert.id)
        present.add(alert_id)
        found = last_status.get(alert_id)
        if found is None:
            result.problems.append(f"alert #{alert_id} has no entry in the audit trail")
        elif found[1] != alert.status:
            result.problems.append(
                f"alert #{alert_id}: status {alert.status!r} in the alerts table but "
                f"{found[1]!r} in its audit trail (entry #{found[0]})"
            )
        recorded = last_fields.get(alert_id)
        if recorded is None:
            unrecorded += found is not None
        elif anchor.alert_digest(alert[2:]) != recorded[1]:
            result.problems.append(
                f"alert #{alert_id}: its content ({anchor.FIELD_NAMES}) is not what the audit "
                f"trail last recorded (entry #{recorded[0]}): changed outside naebu "
                f"(경보 #{alert_id} 내용 변조됨)"
            )
    for alert_id in sorted(set(last_status) - present):
        result.problems.append(
            f"alert #{alert_id} is in the audit trail (entry #{last_status[alert_id][0]}) but "
            f"not in the alerts table: deleted (경보 #{alert_id} 삭제됨)"
        )
    if unrecorded:
        result.notes.append(
            f"{unrecorded} alert(s) were raised before naebu recorded alert contents in the "
            "trail: only their status is checked"
        )


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
