"""Cases: the findings of one rule that make one breach, raised as one alert.

Officials answer cases, not rows: an official over the monthly overtime cap is one case (the
official and the month), not one per overtime day. The rule type says what a case is
(:attr:`naebu.engine.findings.Finding.case_key`): a match rule's record on its own; an aggregate's
group and window; a duplicate's shared keys; a sequence's flagged record, with its
counterparts in the evidence.

A case's alert shows its representative finding (the one whose window holds the most records,
else the first) and lists its member records under ``case.members`` (at most
:data:`MAX_LISTED`; ``case.count`` says how many there are). A case of one record without a
case key (a match rule's finding) is raised exactly as the finding itself, with the finding's
fingerprint: stores from before cases keep their identities.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from naebu.engine.findings import Finding, fingerprint

#: Member records listed in a case's evidence at most (all are kept in ``alert_members``).
MAX_LISTED = 50
#: Evidence keys a member does not repeat: the representative's window facts, and the other
#: records of its window, which the members list replaces.
_WINDOW_LISTS = ("group.records", "group.siblings", "group.sibling_times")


@dataclass(frozen=True)
class Case:
    """The findings of one rule and dataset that share a case key, in finding order."""

    rule_id: str
    dataset: str
    key: str
    members: tuple[Finding, ...]

    @property
    def grouped(self) -> bool:
        """Whether the rule type grouped the records (an aggregate, a duplicate): its alert
        lists its members, even while there is one."""
        return bool(self.members[0].case_key)

    @property
    def fingerprint(self) -> str:
        """The case's identity: a grouped case's rule, dataset and case key; otherwise the
        finding's own fingerprint (the same as before cases existed)."""
        if not self.grouped:
            return self.members[0].fingerprint
        return fingerprint(self.rule_id, self.dataset, "case\x1f" + self.key)

    @property
    def record_keys(self) -> list[str]:
        """The member records' keys, each once, in finding order."""
        return list(dict.fromkeys(f.record_key for f in self.members))

    @property
    def representative(self) -> Finding:
        """The finding whose window holds the most records (``group.count``), the first of
        those; the first finding when the rule type counts nothing."""
        best = self.members[0]
        for f in self.members[1:]:
            if _count(f) > _count(best):
                best = f
        return best

    def as_finding(self) -> Finding:
        """The case as one finding: the representative's message, department, official and
        time, on the case's first record, with the case's evidence (:func:`case_evidence`)."""
        rep = self.representative
        if not self.grouped:
            return rep
        return Finding(
            rep.rule_id,
            rep.dataset,
            self.members[0].record_key,
            rep.severity,
            rep.message,
            rep.department,
            rep.official_id,
            rep.event_time,
            case_evidence(self),
            rep.case_key,
        )


def _count(f: Finding) -> float:
    value = f.evidence.get("group.count")
    return float(value) if isinstance(value, int | float) else 0.0


def group_cases(findings: Iterable[Finding]) -> list[Case]:
    """``findings`` grouped into cases (rule, dataset, case), in order of first appearance;
    a record found twice in one case counts once."""
    grouped: dict[tuple[str, str, str], dict[str, Finding]] = {}
    for f in findings:
        members = grouped.setdefault((f.rule_id, f.dataset, f.case), {})
        members.setdefault(f.record_key, f)
    return [
        Case(rule_id, dataset, key, tuple(members.values()))
        for (rule_id, dataset, key), members in grouped.items()
    ]


def member_evidence(f: Finding) -> dict[str, Any]:
    """What a member record shows in its case's list: its own fields, not its window's."""
    return {
        k: v
        for k, v in f.evidence.items()
        if not k.startswith(("group.", "case.")) and k not in _WINDOW_LISTS
    }


def case_evidence(case: Case) -> dict[str, Any]:
    """The case's own facts - the representative's window (``group.*``) and the fields every
    member shares - and its members: ``case.count`` and ``case.members`` (each member's
    fields, in time order, at most :data:`MAX_LISTED`)."""
    rep = case.representative
    members = sorted(case.members, key=_time_order)
    # Above the list, what the case is about: the window's facts and the values every record
    # shares (the official, the department, a duplicate's vendor and amount); what differs
    # from record to record (its key, its day, its hours) is on its line in the list.
    evidence = {
        k: v
        for k, v in rep.evidence.items()
        if k not in _WINDOW_LISTS
        and (k.startswith("group.") or all(f.evidence.get(k) == v for f in members))
    }
    evidence["case.count"] = len(members)
    evidence["case.members"] = [member_evidence(f) for f in members[:MAX_LISTED]]
    return evidence


def _time_order(f: Finding) -> tuple[bool, datetime, str]:
    return (f.event_time is None, f.event_time or datetime.min, f.record_key)


def follow_up_fingerprint(case_fingerprint: str, new_records: Sequence[str]) -> str:
    """The unique fingerprint of the follow-up alert that ``new_records`` open on a closed
    case: the same new records give the same follow-up, so a re-run raises it once."""
    raw = "\x1f".join((case_fingerprint, "follow-up", *sorted(new_records))).encode("utf-8")
    return hashlib.sha256(raw).hexdigest()


def members_of(evidence: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The member records listed in a stored alert's evidence (none for a one-record alert)."""
    members = evidence.get("case.members")
    return [m for m in members if isinstance(m, Mapping)] if isinstance(members, list) else []
