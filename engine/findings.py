"""Findings: what a rule says about one record, before it becomes an alert."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


def fingerprint(rule_id: str, dataset: str, record_key: str) -> str:
    """The identity of a finding: the same rule on the same record is the same finding.

    The alert store keeps this unique, so re-running a window or restarting after a crash
    raises nothing twice.
    """
    raw = "\x1f".join((rule_id, dataset, record_key)).encode("utf-8")
    return hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True)
class Finding:
    """A rule matched a record.

    ``evidence`` holds the record's columns (JSON-safe values) that an official needs to see;
    ``message`` is the rule's Korean message rendered for this record.

    ``case_key`` says which case the record belongs to (:mod:`naebu.alerts.cases` raises one alert
    per case): empty for a case of its own (a match rule's record, a sequence's flagged
    record), else what the rule type groups by - an aggregate's group and window (an official
    and a month), a duplicate's shared keys. Findings of one rule with one case key are one
    case.
    """

    rule_id: str
    dataset: str
    record_key: str
    severity: str
    message: str
    department: str | None = None
    official_id: str | None = None
    event_time: datetime | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    case_key: str = ""

    @property
    def case(self) -> str:
        """The case this finding belongs to: its ``case_key``, else its own record."""
        return self.case_key or self.record_key

    @property
    def fingerprint(self) -> str:
        """See :func:`fingerprint`."""
        return fingerprint(self.rule_id, self.dataset, self.record_key)
