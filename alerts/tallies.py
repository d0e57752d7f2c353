"""Alert tallies: per department and month of raising, how those alerts are being handled.

The web inbox's department scorecard counts, over twelve months, the alerts raised, answered,
answered on time, whose last answer was 오탐 (false positive), that are repeats (reopened), whose
answer the department manager approved (승인) and that the audit office confirmed (확인: closed
after an answer).
Counting that from the ``alerts`` table reads every alert of the period; the
``alert_tallies`` table keeps the counts instead, one row per (department, month), and every
write to ``alerts`` keeps it exact in the same transaction:

- :func:`naebu.alerts.raising.raise_alerts` adds the alerts it inserts or unsuppresses;
- :func:`naebu.alerts.lifecycle.act` replaces the alert's contribution before the step with its
  contribution after it.

A change is applied as a delta (``raised = raised + 1``) with an upsert, so concurrent
writers never overwrite each other's counts; the lifecycle's optimistic status check already
guarantees that the "before" row is the one that was changed. What is counted for one alert
is :func:`contribution`, the single definition of the scorecard's counts; :func:`rebuild`
recomputes the whole table from ``alerts`` with it (the migration that created the table, and
anyone who loaded alerts by other means), and :func:`computed` lets a test compare.

What depends on the current time - overdue: open and past the deadline - cannot be kept as
a count. The tallies keep the open alerts that have a deadline (``open_due``); the scorecard
subtracts those not yet due, counted from the alerts with an index range (``deadline >=
now``), which only reaches the alerts raised within the last deadline period.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from naebu.store.tables import alert_tallies, alerts, upsert_insert

#: The counted columns of ``alert_tallies``, in order.
COUNTS = (
    "raised",
    "answered",
    "on_time",
    "false_positive",
    "repeats",
    "open_due",
    "approved",
    "confirmed",
)
#: The statuses an official still has to answer: :data:`naebu.alerts.lifecycle.OPEN` (which imports
#: this module, so it cannot be imported here; a test checks that they are equal).
OPEN = ("raised", "acknowledged", "rejected")
#: The columns of an alert that :func:`contribution` reads.
COLUMNS = (
    "department",
    "created_at",
    "status",
    "answered_at",
    "deadline",
    "last_answer",
    "reopened_from",
    "approved_at",
)

Key = tuple[str, str]  # (department or "", YYYY-MM)


def month_key(row: Mapping[Any, Any]) -> Key:
    """The tally row an alert counts in: its department ("" for none) and month of raising."""
    created = row["created_at"]
    return row["department"] or "", f"{created.year:04d}-{created.month:02d}"


def contribution(row: Mapping[Any, Any] | None) -> tuple[Key, tuple[int, ...]] | None:
    """What one alert adds to its tally row, as counts in :data:`COUNTS` order.

    None for no alert or a suppressed or withdrawn one (the scorecard leaves them out: a
    withdrawn alert's condition no longer held once late records came, naebu.alerts.withdrawal).
    Answered on time: answered no later than its current deadline (a rejection clears the
    answer and sets a new deadline, so only the answer that stands counts). 오탐: answered,
    and the answer that stands is false_positive (a rejected 오탐 is not counted until the
    official answers again), so the false-positive rate never exceeds 100%. Approved (승인):
    answered, and the answer that stands was approved by the department manager. Confirmed
    (확인): answered and closed by the audit office. Both are therefore within the answered.
    """
    if row is None or row["status"] in ("suppressed", "withdrawn"):
        return None
    # Columns a freshly raised row may leave out (None in the store) are read with get().
    answered_at, deadline = row.get("answered_at"), row.get("deadline")
    on_time = answered_at is not None and deadline is not None and answered_at <= deadline
    counts = (
        1,
        int(answered_at is not None),
        int(on_time),
        int(answered_at is not None and row.get("last_answer") == "false_positive"),
        int(row.get("reopened_from") is not None),
        int(row["status"] in OPEN and deadline is not None),
        int(answered_at is not None and row.get("approved_at") is not None),
        int(answered_at is not None and row["status"] == "closed"),
    )
    return month_key(row), counts


def _add(deltas: dict[Key, list[int]], row: Mapping[Any, Any] | None, sign: int) -> None:
    c = contribution(row)
    if c is None:
        return
    key, counts = c
    total = deltas.setdefault(key, [0] * len(COUNTS))
    for i, n in enumerate(counts):
        total[i] += sign * n


def record(
    conn: Connection, changes: Iterable[tuple[Mapping[Any, Any] | None, Mapping[Any, Any] | None]]
) -> None:
    """Apply alert changes to the tallies: each ``(before, after)`` is one alert's row before
    and after a write (None before an insert). Runs in the caller's transaction."""
    deltas: dict[Key, list[int]] = {}
    for before, after in changes:
        _add(deltas, before, -1)
        _add(deltas, after, +1)
    # A fixed order (no deadlock between writers), and one executemany for every key.
    rows = [
        {"department": key[0], "month": key[1], **dict(zip(COUNTS, counts, strict=True))}
        for key, counts in sorted(deltas.items())
        if any(counts)
    ]
    if rows:
        _apply(conn, rows)


def _apply(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Add each row's counts to its (department, month) tally, creating it when new."""
    t = alert_tallies
    dialect = conn.dialect.name
    if dialect in ("sqlite", "postgresql"):
        stmt = upsert_insert(conn, t)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[t.c.department, t.c.month],
                set_={c: t.c[c] + stmt.excluded[c] for c in COUNTS},
            ),
            rows,
        )
        return
    if dialect in ("mysql", "mariadb"):
        my = upsert_insert(conn, t)
        conn.execute(my.on_duplicate_key_update({c: t.c[c] + my.inserted[c] for c in COUNTS}), rows)
        return
    # Any other database: update, else insert (no concurrent writer is expected there).
    for values in rows:
        changed = conn.execute(
            update(t)
            .where(t.c.department == values["department"], t.c.month == values["month"])
            .values({c: t.c[c] + values[c] for c in COUNTS})
        ).rowcount
        if not changed:
            conn.execute(insert(t).values(**values))


def computed(conn: Connection) -> dict[Key, tuple[int, ...]]:
    """The tallies as computed from every alert now (rows of zeros left out)."""
    totals: dict[Key, list[int]] = {}
    q = select(*(alerts.c[c] for c in COLUMNS)).where(alerts.c.status != "suppressed")
    for row in conn.execute(q).mappings():
        _add(totals, row, +1)
    return {k: tuple(v) for k, v in totals.items() if any(v)}


def stored(conn: Connection) -> dict[Key, tuple[int, ...]]:
    """The tallies as kept in ``alert_tallies`` (rows of zeros left out)."""
    t = alert_tallies
    out = {}
    for row in conn.execute(select(t)).mappings():
        counts = tuple(int(row[c]) for c in COUNTS)
        if any(counts):
            out[(row["department"], row["month"])] = counts
    return out


def rebuild(conn: Connection) -> int:
    """Recompute ``alert_tallies`` from the alerts; return the number of rows written.

    For a store whose alerts were written without :func:`record` (the migration that created
    the table, a bulk load). Runs in the caller's transaction.
    """
    totals = computed(conn)
    conn.execute(delete(alert_tallies))
    rows = [
        {"department": k[0], "month": k[1], **dict(zip(COUNTS, v, strict=True))}
        for k, v in sorted(totals.items())
    ]
    if rows:
        conn.execute(insert(alert_tallies), rows)
    return len(rows)
