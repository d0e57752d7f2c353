"""Raising, stage 1 - dedup: which cases are new, and what a known case still asks for.

A case's fingerprint is its identity and the records it holds are its members
(``alert_members``); :func:`dedup` looks both up for a batch of cases and decides, case by
case, what :func:`naebu.alerts.raising.raise_alerts` does with it (a :class:`Decision`), or
drops the case when an alert already says everything about it. The rules are the module
docstring of :mod:`naebu.alerts.raising`. Nothing is written here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from sqlalchemy import Connection, or_, select

from naebu.alerts import case_members
from naebu.alerts.cases import Case
from naebu.alerts.suppressions import Suppression
from naebu.core.jsonsafe import json_safe
from naebu.store.tables import alerts as alerts_table

#: Fingerprints per ``IN (...)`` query; well under SQLite's and PostgreSQL's parameter limits.
CHUNK = 500

T = TypeVar("T")

#: What becomes of a case: ``raise`` a new alert; ``follow_up`` its closed alert with a new
#: one for the new records; ``reopen`` its closed alert (the record was edited); ``grow`` its
#: open alert by the new records; ``suppressed``: its alert is suppressed (the suppress stage
#: decides whether it is raised now); ``unsuppress`` it (set by the suppress stage).
Kind = Literal["raise", "follow_up", "reopen", "grow", "suppressed", "unsuppress"]


@dataclass(frozen=True)
class Decision:
    """What raising does with one case: its ``kind``, and what that needs to know."""

    kind: Kind
    case: Case
    #: The alert the case belongs to (id, fingerprints, status, evidence hash); None to raise.
    alert: Any = None
    #: The records no alert holds yet (``follow_up`` and ``grow``).
    new_records: list[str] = field(default_factory=list)
    #: How many alerts the finding has had (``reopen``: the new one's generation).
    generations: int = 0
    #: Whether the record changed since its alert was stored (``suppressed``, ``unsuppress``).
    changed: bool = False
    #: The suppression covering the whole case (filled in by the suppress stage).
    suppression: Suppression | None = None

    @property
    def fingerprint(self) -> str:
        """The case's fingerprint: its identity."""
        return self.case.fingerprint


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    """``items`` in consecutive slices of at most ``size``."""
    for i in range(0, len(items), size):
        yield items[i : i + size]


def evidence_hash(evidence: Mapping[str, Any]) -> str:
    """sha256 of the evidence's canonical JSON: changes when the record's values change."""
    canonical = json.dumps(
        json_safe(dict(evidence)), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def reopened_fingerprint(fingerprint: str, generation: int) -> str:
    """The unique fingerprint of the ``generation``-th alert (1, 2 ...) of a reopened finding."""
    raw = "\x1f".join((fingerprint, "reopen", str(generation))).encode("utf-8")
    return hashlib.sha256(raw).hexdigest()


def dedup(conn: Connection, cases: Mapping[str, Case]) -> list[Decision]:
    """Stage 1. Takes the batch's cases (fingerprint -> case, each once); gives what to do
    with each case that asks for something, in the order of ``cases``.

    A case none of whose records an alert holds is raised. Otherwise it belongs to the
    newest alert holding it: new records grow that alert, or follow up on it when closed;
    no new record reopens it when closed and the evidence changed, or hands it to the
    suppress stage when it is suppressed; anything else is already said and dropped.
    """
    latest = _latest(conn, cases)
    held = case_members.holders(conn, list(cases.values()))
    holder_rows = case_members.alert_rows(conn, set(held.values()))
    decisions: list[Decision] = []
    for fp, case in cases.items():
        prior = latest.get(fp)
        keys = case.record_keys
        new = [k for k in keys if (case.rule_id, case.dataset, k) not in held]
        if prior is not None and not case.grouped:
            new = []  # its own alert holds it (one stored before members were, too)
        candidates = [holder_rows[i] for k in keys
                      if (i := held.get((case.rule_id, case.dataset, k))) in holder_rows]  # fmt: skip
        if prior is not None:
            candidates.append(prior[0])
        if not candidates:
            decisions.append(Decision("raise", case))
            continue
        current = max(candidates, key=lambda r: int(r.id))
        if new:
            kind: Kind = "follow_up" if current.status == "closed" else "grow"
            decisions.append(Decision(kind, case, current, new_records=new))
            continue
        if prior is None or current.id != prior[0].id:
            continue  # every record is in an older alert (one per record, before cases)
        old, generations = prior
        if old.status == "withdrawn":
            # Withdrawn when a late record took its condition away (naebu.alerts.withdrawal);
            # found again, it holds again: a new alert, whatever its evidence.
            decisions.append(Decision("reopen", case, old, generations=generations))
            continue
        if old.status not in ("closed", "suppressed"):
            continue
        changed = old.evidence_hash is not None and old.evidence_hash != evidence_hash(
            case.as_finding().evidence
        )
        if old.status == "closed" and changed:
            decisions.append(Decision("reopen", case, old, generations=generations))
        elif old.status == "suppressed":
            decisions.append(Decision("suppressed", case, old, changed=changed))
    return decisions


def _latest(conn: Connection, fingerprints: Iterable[str]) -> dict[str, tuple[Any, int]]:
    """Finding fingerprint -> (its newest alert row, how many alerts it has had)."""
    a = alerts_table.c
    found: dict[str, tuple[Any, int]] = {}
    for part in chunks(sorted(set(fingerprints))):
        rows = conn.execute(
            select(a.id, a.fingerprint, a.finding_fingerprint, a.status, a.evidence_hash)
            .where(or_(a.finding_fingerprint.in_(part), a.fingerprint.in_(part)))
            .order_by(a.id)
        )
        for r in rows:
            key = r.finding_fingerprint or r.fingerprint
            found[key] = (r, found[key][1] + 1 if key in found else 1)
    return found
