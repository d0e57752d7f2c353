"""The officials directory, loaded from the configured sources or from the store.

The daemon reads the directory from whatever connector feeds the ``employees`` dataset (any
SQL database or file drop) on every run, and keeps a copy in the store's ``officials`` table
(:func:`sync_officials`). The command line and the web inbox act with the same roles: they
read the sources when they can, and fall back to that copy when a source is unreachable, so
an HR database outage does not stop an official from answering an alert.

The department tree (the ``departments`` dataset, which decides whose audit office sees an
alert) comes along the same way: from its sources, else from the store's record history.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, select, update

from naebu.alerts.directory import OFFICIAL_FIELDS, Directory, Official
from naebu.alerts.routing_settings import RoutingConfig
from naebu.settings.config import Config
from naebu.store import history
from naebu.store.tables import officials as officials_table

log = logging.getLogger(__name__)


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


def directory_from_store(
    conn: Connection,
    routing: RoutingConfig | None = None,
    departments: pd.DataFrame | None = None,
) -> Directory:
    """The directory as last stored by :func:`sync_officials`, with the department tree
    ``departments`` (default: the ``departments`` records in the store's history)."""
    officials = [
        Official(**{f: getattr(r, f) for f in OFFICIAL_FIELDS})
        for r in conn.execute(select(officials_table).order_by(officials_table.c.employee_id))
    ]
    for o in officials:
        # SQLite hands booleans back as ints; keep the dataclass honest.
        object.__setattr__(o, "active", bool(o.active))
    if departments is None:
        departments = history.load(conn, DEPARTMENTS)
    return Directory(officials, routing=routing, departments=departments)


def _frames(config: Config, dataset: str) -> Iterable[pd.DataFrame]:
    from naebu.connectors import make_connector
    from naebu.connectors.base import SourceState

    for source in config.sources.values():
        if not source.enabled or source.dataset != dataset:
            continue
        for batch in make_connector(source).pull(SourceState()):
            if not batch.frame.empty:
                yield batch.frame


def _from_sources(config: Config, dataset: str) -> pd.DataFrame | None:
    """``dataset`` read whole from its enabled sources; None when it has none or one fails
    (a warning is logged: the caller uses the stored copy)."""
    if not any(s.enabled and s.dataset == dataset for s in config.sources.values()):
        return None
    try:
        frames = list(_frames(config, dataset))
    except Exception as exc:  # any connector failure: use the stored copy
        log.warning("%s: source failed (%s); using the stored copy", dataset, exc)
        return None
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def load_directory(config: Config, engine: Engine | None = None) -> Directory:
    """The officials directory of ``config``, with its ``[routing]`` and department tree.

    Read from every enabled source of the directory dataset; when there is none, or one
    fails, the copy in the store (``engine``) is used instead, and a warning logged. When
    the sources answer and ``engine`` is given, the stored copy is refreshed. The
    ``departments`` tree likewise: its sources, else the store's record history.
    """
    now = datetime.now().replace(microsecond=0)
    departments = _from_sources(config, DEPARTMENTS)
    if departments is None and engine is not None:
        with engine.connect() as conn:
            departments = history.load(conn, DEPARTMENTS)
    frame = _from_sources(config, config.routing.directory)
    if frame is not None and "employee_id" in frame.columns:
        directory = Directory.from_frame(frame, routing=config.routing, departments=departments)
        if engine is not None:
            with engine.begin() as conn:
                sync_officials(conn, directory, now=now)
        return directory
    if engine is None:
        return Directory([], routing=config.routing, departments=departments)
    with engine.connect() as conn:
        return directory_from_store(conn, config.routing, departments)
