"""Withdrawal (철회): an alert whose condition no longer holds once a late record arrived.

A daemon sees a city in slices. A record keyed in late (an inspection entered two days after
the payment it vouches for) can take away the condition a rule raised an alert on: judged
again with the late record, the payment is no longer "paid before inspection". One run over
everything would never have raised that alert, so it must not stay on an official's list.

:func:`withdraw_stale` is called by the run (:mod:`naebu.pipeline.evaluate`) after a rule that
withdraws (:attr:`naebu.engine.registry.RuleType.withdraws`) was judged again: of the records
that evaluation decided, those with a still-standing alert of the rule (one record each, not a
grouped case) whose finding did not come back are set to ``withdrawn``. Each withdrawal is:

- one audit-trail entry (actor ``system``, action ``withdraw``, to status ``withdrawn``) with
  the reason in Korean, written in the same transaction as the status change;
- a notice to the alert's official, sent by the follow-up digest like a review result
  (:mod:`naebu.alerts.escalation`, kind ``withdrawn``);
- out of the official's to-do (not an :data:`~naebu.alerts.lifecycle.OPEN` status) and out of
  the scorecard's denominators (:func:`naebu.alerts.tallies.contribution` counts no withdrawn
  alert).

Should the condition hold again later (the inspection date corrected back), the finding is
raised afresh as a reopened alert (:mod:`naebu.alerts.dedup`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, update

from naebu.alerts.anchor import alert_digests
from naebu.alerts.dedup import chunks
from naebu.alerts.evidence_text import dataset_title
from naebu.alerts.lifecycle import OPEN, REVIEWABLE
from naebu.alerts.tallies import record as record_tallies
from naebu.alerts.trail import SYSTEM, Step, append
from naebu.engine.rule import RuleMeta
from naebu.store.tables import alerts as alerts_table
from naebu.store.tables import rule_versions

#: The status of a withdrawn alert, and the trail action that sets it.
WITHDRAWN = "withdrawn"
ACTION = "withdraw"
#: Statuses a withdrawal ends: waiting for the official (raised, acknowledged, rejected), for
#: the department manager's approval of an answer or for the audit office's review of it
#: (approved). A closed or suppressed alert is left alone.
WITHDRAWABLE = (*OPEN, *REVIEWABLE)


def reason(rule: RuleMeta, others: Iterable[str]) -> str:
    """Why the alert was withdrawn, in Korean words an official reads: the rule's title and
    the data that came late, no column names and no figures."""
    late = [dataset_title(n) for n in dict.fromkeys(others)]
    came = f"나중에 입력된 {'·'.join(late)} 자료" if late else "나중에 입력된 자료"
    return (
        f"{came}를 반영해 다시 점검한 결과, 이 기록은 더 이상 '{rule.title}'에 해당하지 "
        "않습니다. 전체 자료를 한 번에 점검했다면 나오지 않았을 경보이므로 자동으로 "
        "철회합니다. 따로 조치하거나 소명할 필요는 없습니다."
    )


def reason_after_edit(rule: RuleMeta) -> str:
    """Why the alert was withdrawn when the rule itself changed after the alert was raised:
    the record may no longer match because of the new criteria, not because of late data."""
    return (
        f"'{rule.title}' 점검 기준이 바뀐 뒤 이 기록을 다시 점검한 결과, 더 이상 해당하지 "
        "않습니다. 바뀐 기준으로는 나오지 않는 경보이므로 자동으로 철회합니다. 따로 조치하거나 "
        "소명할 필요는 없습니다."
    )


def _edited_at(conn: Connection, rule: RuleMeta) -> datetime | None:
    """When the rule's current version was first seen (``rule_versions``), if recorded."""
    v = rule_versions.c
    return conn.execute(
        select(func.max(v.first_seen)).where(v.rule_id == rule.id, v.retired_at.is_(None))
    ).scalar_one_or_none()


def withdraw_stale(
    conn: Connection,
    rule: RuleMeta,
    judged: Iterable[str],
    found: Iterable[str],
    others: Iterable[str],
    *,
    now: datetime,
    run_id: int | None,
) -> list[int]:
    """Withdraw the rule's standing one-record alerts on the records in ``judged`` (the keys
    of ``rule.dataset`` this evaluation decided) that are not in ``found`` (the keys it found
    again); ``others`` names the rule's other datasets, for the reason. Returns the alert ids
    withdrawn. Runs in the caller's transaction and does not commit."""
    a = alerts_table.c
    standing = (
        a.rule_id == rule.id,
        a.dataset == rule.dataset,
        a.case_key.is_(None),
        a.status.in_(WITHDRAWABLE),
    )
    # The rule's standing alerts are few (an official's to-do); the records judged again can
    # be every record of a first run (a million payments). Ask for the standing ones and
    # match them here, rather than asking a thousand times whether a judged key has one.
    candidates = conn.execute(select(a.id, a.record_key).where(*standing)).all()
    if not candidates:
        return []
    # Most standing alerts were found again (raised by this very evaluation on a first run):
    # ``judged`` (every record decided, possibly lazy) is only read when some were not.
    missing = {str(key) for _, key in candidates} - set(found)
    if not missing:
        return []
    gone = missing & set(judged)
    ids = sorted(int(i) for i, key in candidates if str(key) in gone)
    rows: list[Any] = []
    for part in chunks(ids):
        rows += conn.execute(select(alerts_table).where(a.id.in_(part), *standing)).all()
    if not rows:
        return []
    text = reason(rule, others)
    # An alert raised before the rule's current version: the rule changed since, and that
    # (not only late data) may be why the record no longer matches; say so.
    edited_at = _edited_at(conn, rule)
    after_edit = reason_after_edit(rule)
    comments: dict[int, str] = {}
    done: list[tuple[Mapping[str, Any], dict[str, Any]]] = []
    for row in sorted(rows, key=lambda r: int(r.id)):
        values = {"status": WITHDRAWN, "updated_at": now, "closed_at": now}
        changed = conn.execute(
            update(alerts_table).where(a.id == row.id, a.status == row.status).values(**values)
        ).rowcount
        if changed:  # an official's step in between wins; the next run looks again
            done.append((row._mapping, {**row._mapping, **values}))
            edited = edited_at is not None and row.created_at < edited_at
            comments[int(row.id)] = after_edit if edited else text
    # The scorecard's tallies follow in the same transaction (a withdrawn alert counts nowhere).
    record_tallies(conn, done)
    digests = alert_digests(conn, [int(before["id"]) for before, _ in done])
    append(
        conn,
        [
            Step(
                actor=SYSTEM,
                action=ACTION,
                at=now,
                alert_id=int(before["id"]),
                from_status=str(before["status"]),
                to_status=WITHDRAWN,
                comment=comments[int(before["id"])],
                details={"run_id": run_id, "fields": digests[int(before["id"])]},
            )
            for before, _ in done
        ],
    )
    return [int(before["id"]) for before, _ in done]
