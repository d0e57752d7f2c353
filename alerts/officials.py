"""The officials directory (직원 명부): one repository, read two ways.

The run routes with the directory in the record history: the ``employees`` records the last
good pull of its source kept (:func:`directory_from_history`, used by the pipeline and by the
reach check), and keeps a copy of it as the store's ``officials`` table (:func:`sync_officials`).
Everything else - the command line, the web inbox, the reports, the lifecycle - acts with that
stored copy (:func:`directory_from_store`) and never reads a source: a command must not pull a
city's live databases, and an HR database outage must not stop an official from answering an
alert. Before the first run the table is empty (:data:`NOT_STORED` says so).

The department tree (the ``departments`` dataset, which decides whose audit office sees an
alert) is read from the record history in both cases.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, select, update

from naebu.alerts.directory import OFFICIAL_FIELDS, Directory, Official
from naebu.alerts.routing_settings import RoutingConfig
from naebu.store import history
from naebu.store.tables import officials as officials_table


def _as_row(o: Official, now: datetime) -> dict[str, Any]:
    return {**{f: getattr(o, f) for f in OFFICIAL_FIELDS}, "synced_at": now}


def sync_officials(conn: Connection, directory: Directory, *, now: datetime) -> int:
    """Store ``directory`` as the ``officials`` table; return the rows inserted or changed.

    Officials no longer in the directory stay, marked inactive: alerts and the audit trail
    still name them. An empty directory (its source failed this run) changes nothing, so an
    outage never deactivates everyone. Runs in the caller's transaction.
    """
    if len(directory) == 0:
        return 0
    t = officials_table
    stored = {r.employee_id: r for r in conn.execute(select(t))}
    changed = 0
    new: list[dict[str, Any]] = []
    for o in directory:
        row = _as_row(o, now)
        old = stored.pop(o.employee_id, None)
        if old is None:
            new.append(row)
        elif any(getattr(old, f) != row[f] for f in OFFICIAL_FIELDS):
            conn.execute(t.update().where(t.c.employee_id == o.employee_id).values(**row))
            changed += 1
    if new:  # a first run stores a province's thousands at once: one executemany
        conn.execute(t.insert(), new)
        changed += len(new)
    gone = [eid for eid, r in stored.items() if r.active]
    if gone:
        conn.execute(update(t).where(t.c.employee_id.in_(gone)).values(active=False, synced_at=now))
        changed += len(gone)
    return changed


#: The dataset the department tree is read from.
DEPARTMENTS = "departments"

#: What a reader says when no run has stored the directory yet.
NOT_STORED = "the officials directory is not in the store yet: run `naebu run --once` first"


def directory_from_history(conn: Connection, routing: RoutingConfig) -> Directory:
    """The directory the run routes with: the ``routing.directory`` records and the
    department tree in the store's record history (as the last good pull left them).

    From the history, not a live pull: a directory source that is down today still routes
    with yesterday's directory. Empty before the first pull of its source.
    """
    return Directory.from_frame(
        history.load(conn, routing.directory),
        fallback_roles=routing.fallback_roles,
        routing=routing,
        departments=history.load(conn, DEPARTMENTS),
    )


def refresh_directory(engine: Engine, routing: RoutingConfig, *, now: datetime) -> Directory:
    """The run's directory (:func:`directory_from_history`), also stored as the ``officials``
    table in the same transaction, so every other reader acts with what the run routes with."""
    with engine.begin() as conn:
        directory = directory_from_history(conn, routing)
        sync_officials(conn, directory, now=now)
    return directory


def directory_from_store(conn: Connection, routing: RoutingConfig | None = None) -> Directory:
    """The directory as the last run stored it (:func:`sync_officials`), with the department
    tree of the store's record history: what every reader but the run acts with.

    Empty before the first run: a caller that needs officials says :data:`NOT_STORED`.
    """
    officials = [
        Official(**{f: getattr(r, f) for f in OFFICIAL_FIELDS})
        for r in conn.execute(select(officials_table).order_by(officials_table.c.employee_id))
    ]
    for o in officials:
        # SQLite hands booleans back as ints; keep the dataclass honest.
        object.__setattr__(o, "active", bool(o.active))
    return Directory(officials, routing=routing, departments=history.load(conn, DEPARTMENTS))
