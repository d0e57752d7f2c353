"""What a suppression hides, before and when it is saved (예외 등록 미리보기와 저장).

A suppression added while its findings' alerts are still open hides them: each open alert
(:data:`naebu.alerts.lifecycle.OPEN`: raised, acknowledged, rejected - nobody has answered it)
that the suppression covers becomes ``suppressed``, as if it had been suppressed when raised,
with a trail entry ``suppress`` by the author that names the suppression. Answered alerts are
left to their review. When the suppression ends and the finding is seen again, the alert is
raised as usual (``unsuppress``, :mod:`naebu.alerts.raising`).

:func:`would_hide` is the one definition of what is covered, used by the preview (the command
line's ``--dry-run``, the inbox's confirm page) and by :func:`save`, so the preview lists
exactly what saving hides. It decides from the stored alert as the run decides from its
findings (:meth:`Suppression.matches`, every record of a case): the record key, the department
and official columns and the evidence. A case whose records are not all listed in its evidence
(more than :data:`naebu.alerts.cases.MAX_LISTED`) is hidden only by a suppression of its record
key, never by a value the unlisted records might not share.

:func:`describe` gives each alert as an official reads it (rule title, the record by its
dataset's name, department, official by name, status, and the evidence under its labels with
amounts in 원), for both the command line and the inbox.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from naebu.alerts import tallies
from naebu.alerts.anchor import alert_digests
from naebu.alerts.cases import members_of
from naebu.alerts.dedup import chunks
from naebu.alerts.directory import Directory
from naebu.alerts.evidence_labels import resolve_key, spaced
from naebu.alerts.evidence_text import CASE_KEYS, dataset_title, evidence_lines
from naebu.alerts.lifecycle import OPEN, STATUS_LABELS
from naebu.alerts.suppression_check import SuppressionRequest
from naebu.alerts.suppressions import Suppression, SuppressionError, add_suppression
from naebu.alerts.trail import Step, append
from naebu.core.datasets import DATASETS, Dataset
from naebu.engine.findings import Finding
from naebu.engine.rule import RuleMeta
from naebu.store.tables import alert_members
from naebu.store.tables import alerts as alerts_table

#: Evidence lines shown for one alert in a preview at most (the alert page has them all).
FACTS = 6


class PreviewChanged(SuppressionError):
    """The open alerts the suppression covers are not those previewed (a run raised or an
    official answered one meanwhile): nothing was saved; ``rows`` are the alerts now."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows
        super().__init__(
            f"미리보기 이후 숨겨질 경보가 바뀌었습니다 (이제 {len(rows)}건) - "
            "목록을 다시 확인하고 등록하십시오",
            f"the alerts it hides changed since the preview (now {len(rows)}) - "
            "check the list again and confirm",
        )


@dataclass(frozen=True)
class Saved:
    """A saved suppression: its id and the alerts it hid."""

    suppression_id: int
    hidden: list[int]


#: The columns :func:`covers` reads: the candidates are read with these only (a rule may have
#: thousands of open alerts), and the few covered read whole afterwards.
_MATCHED = ("id", "rule_id", "dataset", "record_key", "severity", "department", "assignee",
            "evidence", "case_key")  # fmt: skip


def would_hide(conn: Connection, request: SuppressionRequest) -> list[dict[str, Any]]:
    """The open alerts ``request`` covers, oldest first, as rows of ``alerts``."""
    s = request.as_suppression()
    t = alerts_table
    q = select(*(t.c[c] for c in _MATCHED)).where(t.c.rule_id == s.rule_id, t.c.status.in_(OPEN))
    if s.record_key is not None:
        # A case's alert carries its first record's key; a case of that record alone is all
        # a record's suppression can cover.
        q = q.where(t.c.record_key == s.record_key)
    candidates = [dict(r) for r in conn.execute(q.order_by(t.c.id)).mappings()]
    # An alert of one record (no case key) holds that record only: alert_members is read for
    # the cases alone.
    keys = _member_keys(conn, [int(r["id"]) for r in candidates if r["case_key"] is not None])
    ids = [
        int(r["id"])
        for r in candidates
        if covers(s, r, keys.get(int(r["id"]), [str(r["record_key"])]))
    ]
    rows: list[dict[str, Any]] = []
    for part in chunks(ids):
        rows += [dict(r) for r in conn.execute(select(t).where(t.c.id.in_(part))).mappings()]
    # Read back only while still open: a step taken between the two reads leaves it out.
    return sorted((r for r in rows if r["status"] in OPEN), key=lambda r: int(r["id"]))


def token(rows: Iterable[Mapping[str, Any]]) -> str:
    """A short digest of which alerts a preview listed: the confirm step sends it back, and
    :func:`save` refuses when the alerts covered are no longer those."""
    ids = ",".join(str(int(r["id"])) for r in sorted(rows, key=lambda r: int(r["id"])))
    return hashlib.sha256(ids.encode()).hexdigest()[:20]


def covers(s: Suppression, alert: Mapping[str, Any], member_keys: Sequence[str]) -> bool:
    """Whether ``s`` covers the stored ``alert`` whose case holds ``member_keys``: as the run
    decides for its findings, every record must match."""
    if alert["rule_id"] != s.rule_id:
        return False
    if s.record_key is not None:
        return bool(member_keys) and all(k == s.record_key for k in member_keys)
    evidence = alert["evidence"] if isinstance(alert["evidence"], Mapping) else {}
    ds = DATASETS.get(str(alert["dataset"]))
    listed = members_of(evidence)
    if alert["case_key"] is None and not listed:
        return s.matches(_finding(alert, evidence, str(alert["record_key"]), ds, fallback=True))
    if ds is None or len(listed) != len(member_keys):
        return False  # records the evidence does not list: their values are not known here
    return all(
        s.matches(_finding(alert, m, str(m.get(ds.key, "")), ds, fallback=False)) for m in listed
    )


def _finding(
    alert: Mapping[str, Any],
    evidence: Mapping[str, Any],
    record_key: str,
    ds: Dataset | None,
    *,
    fallback: bool,
) -> Finding:
    """A stored record as the finding the run made of it: the department and the official are
    the dataset's columns in the evidence (the engine always puts them there); an alert's own
    columns stand in when they are missing (``fallback``: an alert of one record)."""

    def role(column: str | None, stored: Any) -> str | None:
        if column and column in evidence:
            value = evidence[column]
            return None if value is None else str(value)
        return None if not fallback or stored is None else str(stored)

    return Finding(
        rule_id=str(alert["rule_id"]),
        dataset=str(alert["dataset"]),
        record_key=record_key,
        severity=str(alert["severity"]),
        message="",
        department=role(ds.department if ds else None, alert["department"]),
        official_id=role(ds.official if ds else None, alert["assignee"]),
        evidence=dict(evidence),
    )


def _member_keys(conn: Connection, alert_ids: Sequence[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for part in chunks(sorted(alert_ids)):
        q = select(alert_members.c.alert_id, alert_members.c.record_key).where(
            alert_members.c.alert_id.in_(part)
        )
        for alert_id, key in conn.execute(q):
            found.setdefault(int(alert_id), []).append(str(key))
    return found


def save(
    conn: Connection,
    request: SuppressionRequest,
    *,
    now: datetime,
    directory: Directory | None,
    expect: str | None = None,
) -> Saved:
    """Store the suppression (:func:`naebu.alerts.suppressions.add_suppression`: its trail entry
    ``suppress_add`` and the audit office's notice) and hide the open alerts it covers, each
    with its trail entry and the scorecard's tallies. ``expect``: the :func:`token` of the
    preview confirmed; :class:`PreviewChanged` when the alerts covered now differ. Runs in
    the caller's transaction and does not commit."""
    rows = would_hide(conn, request)
    if expect is not None and token(rows) != expect:
        raise PreviewChanged(rows)
    sid = add_suppression(
        conn,
        rule_id=request.rule_id,
        reason=request.reason,
        author=request.author,
        expires_at=request.expires_at,
        now=now,
        record_key=request.record_key,
        column=request.column,
        value=request.value,
        directory=directory,
        reason_code=request.reason_code,
    )
    _hide(conn, rows, sid, request, now)
    return Saved(sid, [int(r["id"]) for r in rows])


def _hide(
    conn: Connection,
    rows: Sequence[Mapping[str, Any]],
    suppression_id: int,
    request: SuppressionRequest,
    now: datetime,
) -> None:
    """Each alert of ``rows`` becomes ``suppressed`` as a suppressed alert is raised: no
    deadline, the suppression named."""
    values = {
        "status": "suppressed",
        "suppression_id": suppression_id,
        "deadline": None,
        "deadline_set_at": None,
        "updated_at": now,
    }
    changes = []
    for row in rows:
        changed = conn.execute(
            update(alerts_table)
            .where(alerts_table.c.id == row["id"], alerts_table.c.status == row["status"])
            .values(**values)
        ).rowcount
        if not changed:
            raise SuppressionError(
                f"경보 #{row['id']}이(가) 방금 다른 사람에 의해 변경되었습니다. 다시 시도하십시오",
                f"alert #{row['id']} was changed by someone else meanwhile; try again",
            )
        changes.append((row, {**row, **values}))
    tallies.record(conn, changes)
    digests = alert_digests(conn, [int(r["id"]) for r in rows])
    append(
        conn,
        [
            Step(
                actor=request.author,
                action="suppress",
                at=now,
                alert_id=int(row["id"]),
                from_status=str(row["status"]),
                to_status="suppressed",
                comment=request.reason,
                details={"suppression_id": suppression_id, "fields": digests[int(row["id"])]},
            )
            for row in rows
        ],
    )


# -- as people read it --------------------------------------------------------------------------

#: The finding's own fields a suppression may name, as people call them.
_FINDING_LABELS = {
    "record_key": ("기록 키", "record key"),
    "department": ("부서", "department"),
    "official_id": ("담당자", "official"),
}


def target_text(request: SuppressionRequest, dataset: str | None, language: str) -> str:
    """What the suppression covers, under the column's label: ``거래처 코드 = V-77``,
    ``기록 키 P-1001``."""
    en = language == "en"
    if request.record_key is not None:
        return f"{_FINDING_LABELS['record_key'][en]} {request.record_key}"
    column = str(request.column)
    if column in _FINDING_LABELS:
        label = _FINDING_LABELS[column][en]
    else:
        label = resolve_key(column, DATASETS.get(dataset or ""), language).label
    return f"{label} = {request.value}"


@dataclass(frozen=True)
class HiddenAlert:
    """One alert a suppression hides, in words: nothing here is a column name or a raw value."""

    id: int
    title: str
    record: str
    department: str
    assignee: str
    status: str
    facts: tuple[tuple[str, str], ...]

    def line(self) -> str:
        """One line: ``#12 동일 거래처 중복 지급 의심 · 지출 P-1001 · 재무과 김민수 · 발생 ·
        지급액 1,250,000원 · 거래처 코드 V-77``."""
        facts = " · ".join(f"{label} {text}" for label, text in self.facts)
        who = f"{self.department} {self.assignee}".strip()
        parts = [f"#{self.id} {self.title}", self.record, who, self.status]
        return " · ".join([p for p in parts if p] + ([facts] if facts else []))


def describe(
    rows: Iterable[Mapping[str, Any]],
    *,
    language: str,
    directory: Directory | None,
    rules: Mapping[str, RuleMeta],
    mask: bool,
) -> list[HiddenAlert]:
    """``rows`` (of :func:`would_hide`) as :class:`HiddenAlert`; the evidence masked unless
    ``mask`` is false (the inbox shows it in full to those who may see the alert)."""
    missing = "없음" if language == "ko" else "none"
    out = []
    for a in rows:
        evidence = a["evidence"] if isinstance(a["evidence"], Mapping) else {}
        ds = DATASETS.get(str(a["dataset"]))
        meta = rules.get(str(a["rule_id"]))
        title = str(a["title"])
        if language == "en" and meta is not None and meta.title_en:
            title = meta.title_en
        record = f"{dataset_title(str(a['dataset']), language)} {a['record_key']}"
        count = evidence.get("case.count")
        if isinstance(count, int) and count > 1:
            record += f" 외 {count - 1}건" if language == "ko" else f" and {count - 1} more"
        skip = {ds.key, ds.department, ds.official} if ds is not None else set()
        facts = [
            (label, text)
            for key, (label, text) in zip(
                [k for k in evidence if k not in CASE_KEYS],
                evidence_lines(evidence, a["dataset"], language, directory, mask=mask),
                strict=True,
            )
            # Shown above, named by no label (it would read as a column name), or missing.
            if key not in skip and _labelled(str(key), ds) and text != missing
        ]
        official = directory.get(str(a["assignee"])) if directory and a["assignee"] else None
        out.append(
            HiddenAlert(
                id=int(a["id"]),
                title=title,
                record=record,
                department=str(a["department"] or ""),
                assignee=official.display_name if official else str(a["assignee"] or ""),
                status=STATUS_LABELS["en" if language == "en" else "ko"].get(
                    str(a["status"]), str(a["status"])
                ),
                facts=tuple(facts[:FACTS]),
            )
        )
    return out


def _labelled(key: str, ds: Dataset | None) -> bool:
    """Whether evidence ``key`` has a label of its own: an undeclared key's Korean label is
    its name spaced out (``vendor id``), a declared one's never contains it."""
    return spaced(key.rpartition(".")[2]) not in resolve_key(key, ds, "ko").label
