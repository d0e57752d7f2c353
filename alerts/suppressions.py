"""Suppressions (경보 예외 처리): findings an auditor or manager has decided not to be told about.

A suppression names a rule and either one record (its key) or a column of the finding and the
value it must equal (a vendor: ``vendor_id = V10023``; an employee: ``official_id = E12345``),
with a reason, an author and an expiry date. A suppressed finding is still recorded: it
becomes an alert row with status ``suppressed`` and ``suppression_id`` set, which is never
notified and is not in any official's queue. When the same finding is seen again after the
suppression expired or was removed, the alert is raised as usual.

Adding and removing a suppression are steps of the audit trail (actions ``suppress_add`` and
``suppress_remove``), and the audit office gets them in its next digest.

The column is compared with the finding's evidence: the record key, department, official and
event time, plus the columns the rule's condition and message use. A column the rule does not
use is not in its evidence and never matches.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, select

from naebu.alerts import reasons
from naebu.alerts.directory import Directory
from naebu.alerts.trail import Step, append
from naebu.engine.findings import Finding
from naebu.store.tables import suppressions as table

#: Columns every finding carries besides its evidence.
FINDING_FIELDS = ("record_key", "department", "official_id")


class SuppressionError(ValueError):
    """A suppression that cannot be added or removed; Korean and English in one line."""

    def __init__(self, ko: str, en: str) -> None:
        self.ko, self.en = ko, en
        super().__init__(f"{ko} ({en})")


@dataclass(frozen=True)
class Suppression:
    """One stored suppression."""

    id: int
    rule_id: str
    record_key: str | None
    column: str | None
    value: str | None
    reason: str
    author: str
    created_at: datetime
    expires_at: datetime
    removed_at: datetime | None = None
    removed_by: str | None = None
    removed_reason: str | None = None
    reason_code: str | None = None

    @classmethod
    def from_row(cls, r: Row[Any]) -> Suppression:
        """From a row of the ``suppressions`` table."""
        return cls(
            id=r.id,
            rule_id=r.rule_id,
            record_key=r.record_key,
            column=r.column_name,
            value=r.value,
            reason=r.reason,
            author=r.author,
            created_at=r.created_at,
            expires_at=r.expires_at,
            removed_at=r.removed_at,
            removed_by=r.removed_by,
            removed_reason=r.removed_reason,
            reason_code=r.reason_code,
        )

    @property
    def target(self) -> str:
        """What is suppressed, as people read it: ``record P-1`` or ``vendor_id = V-77``."""
        if self.record_key is not None:
            return f"record {self.record_key}"
        return f"{self.column} = {self.value}"

    def active_at(self, now: datetime) -> bool:
        """True when not removed and not yet expired at ``now``."""
        return self.removed_at is None and now < self.expires_at

    def matches(self, finding: Finding) -> bool:
        """True when ``finding`` is of this rule and has the suppressed record or value."""
        if finding.rule_id != self.rule_id:
            return False
        if self.record_key is not None:
            return finding.record_key == self.record_key
        if self.column in FINDING_FIELDS:
            found: Any = getattr(finding, self.column)
        elif self.column is not None and self.column in finding.evidence:
            found = finding.evidence[self.column]
        else:
            return False
        return found is not None and str(found).strip() == (self.value or "").strip()


def active_suppressions(
    conn: Connection, now: datetime, rule_ids: Iterable[str] | None = None
) -> list[Suppression]:
    """The suppressions in force at ``now`` (of ``rule_ids`` when given), oldest first."""
    q = (
        select(table)
        .where(table.c.removed_at.is_(None), table.c.expires_at > now)
        .order_by(table.c.id)
    )
    if rule_ids is not None:
        q = q.where(table.c.rule_id.in_(sorted(set(rule_ids))))
    return [Suppression.from_row(r) for r in conn.execute(q)]


def matching(suppressions: Sequence[Suppression], finding: Finding) -> Suppression | None:
    """The first of ``suppressions`` that matches ``finding``, or None."""
    for s in suppressions:
        if s.matches(finding):
            return s
    return None


def list_suppressions(conn: Connection, *, include_inactive: bool = False) -> list[Suppression]:
    """Every suppression (or only those not removed), newest first."""
    q = select(table).order_by(table.c.id.desc())
    if not include_inactive:
        q = q.where(table.c.removed_at.is_(None))
    return [Suppression.from_row(r) for r in conn.execute(q)]


def get_suppression(conn: Connection, suppression_id: int) -> Suppression | None:
    """The suppression with this id, or None."""
    row = conn.execute(select(table).where(table.c.id == suppression_id)).first()
    return Suppression.from_row(row) if row is not None else None


def check_author(directory: Directory | None, employee_id: str) -> None:
    """Raise :class:`SuppressionError` unless ``employee_id`` is an active 감사자 or
    부서관리자 of ``directory`` (no directory, or an empty one: anybody)."""
    if directory is None or len(directory) == 0:
        return  # no directory to check against (a bare store): the trail still names them
    official = directory.get(employee_id)
    if official is None:
        raise SuppressionError(
            f"직원 {employee_id}은(는) 담당자 명부에 없습니다",
            f"employee {employee_id} is not in the officials directory",
        )
    if not official.active:
        raise SuppressionError(
            f"직원 {employee_id}은(는) 재직 중이 아닙니다",
            f"employee {employee_id} is not active",
        )
    if not (Directory.is_auditor(official) or official.role == "부서관리자"):
        raise SuppressionError(
            "경보 예외 처리는 감사자 또는 부서관리자만 할 수 있습니다",
            "only an auditor (감사자) or a department manager (부서관리자) may suppress alerts",
        )


def add_suppression(
    conn: Connection,
    *,
    rule_id: str,
    reason: str,
    author: str,
    expires_at: datetime,
    now: datetime,
    record_key: str | None = None,
    column: str | None = None,
    value: str | None = None,
    directory: Directory | None = None,
    reason_code: str | None = None,
) -> int:
    """Store a suppression and its audit-trail entry; return its id. Does not commit.

    Give either ``record_key`` or ``column`` and ``value``; ``reason_code`` is a code (or
    Korean label) of :mod:`naebu.alerts.reasons`, 기타 when not given. Raises
    :class:`SuppressionError` for a missing reason, an unknown reason code, an expiry not after ``now``, a bad target, or an author who is not
    an active 감사자 or 부서관리자 of ``directory``.
    """
    if not reason or not reason.strip():
        raise SuppressionError("예외 처리에는 사유가 필요합니다", "a suppression needs a reason")
    if expires_at <= now:
        raise SuppressionError(
            "만료일은 현재 시각 이후여야 합니다", "the expiry must be in the future"
        )
    by_record = record_key is not None
    by_value = column is not None or value is not None
    if by_record == by_value or (by_value and (not column or value is None)):
        raise SuppressionError(
            "기록 키 하나, 또는 컬럼과 값을 지정하십시오",
            "give either a record key or a column and its value",
        )
    try:
        code = reasons.parse(reason_code)
    except reasons.ReasonError as exc:
        raise SuppressionError(exc.ko, exc.en) from None
    check_author(directory, author)
    new_id = conn.execute(
        table.insert().returning(table.c.id),
        {
            "rule_id": rule_id,
            "record_key": record_key,
            "column_name": column,
            "value": value,
            "reason": reason.strip(),
            "reason_code": code,
            "author": author,
            "created_at": now,
            "expires_at": expires_at,
        },
    ).scalar_one()
    append(
        conn,
        [
            Step(
                actor=author,
                action="suppress_add",
                at=now,
                suppression_id=int(new_id),
                comment=reason.strip(),
                details={
                    "rule_id": rule_id,
                    "record_key": record_key,
                    "column": column,
                    "value": value,
                    "reason_code": code,
                    "expires_at": expires_at.isoformat(timespec="seconds"),
                },
            )
        ],
    )
    return int(new_id)


def remove_suppression(
    conn: Connection,
    suppression_id: int,
    *,
    actor: str,
    reason: str,
    now: datetime,
    directory: Directory | None = None,
) -> Suppression:
    """End a suppression now (the row stays, marked removed) and audit it. Does not commit."""
    current = get_suppression(conn, suppression_id)
    if current is None:
        raise SuppressionError(
            f"예외 처리 #{suppression_id}이(가) 없습니다", f"no suppression #{suppression_id}"
        )
    if current.removed_at is not None:
        raise SuppressionError(
            f"예외 처리 #{suppression_id}은(는) 이미 해제되었습니다",
            f"suppression #{suppression_id} was already removed",
        )
    if not reason or not reason.strip():
        raise SuppressionError(
            "예외 처리 해제에는 사유가 필요합니다", "removing a suppression needs a reason"
        )
    check_author(directory, actor)
    conn.execute(
        table.update()
        .where(table.c.id == suppression_id)
        .values(removed_at=now, removed_by=actor, removed_reason=reason.strip())
    )
    append(
        conn,
        [
            Step(
                actor=actor,
                action="suppress_remove",
                at=now,
                suppression_id=suppression_id,
                comment=reason.strip(),
                details={"rule_id": current.rule_id, "target": current.target},
            )
        ],
    )
    removed = get_suppression(conn, suppression_id)
    assert removed is not None
    return removed
