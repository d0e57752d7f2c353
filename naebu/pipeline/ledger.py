"""The run ledger's owners: which process a ``running`` row belongs to, and marking the rows
of processes that are gone.

A run writes its ledger row ``running`` first, with its host and process id
(:func:`owner`), and its outcome when it ends. A process killed in between (``kill -9``, a
power cut, an OOM kill) leaves the row ``running`` for ever; :func:`abandon_dead_runs` marks
such rows ``abandoned``, so the ledger never shows a dead run as running. It runs when the
daemon becomes the leader, before every run and in ``naebu status``.
"""

from __future__ import annotations

import json
import os
import socket
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select, update

from naebu.core.processes import process_alive
from naebu.store import tables as store


def owner() -> dict[str, Any]:
    """This process as a ledger row records it while the run is on."""
    return {"host": socket.gethostname(), "pid": os.getpid()}


def _summary(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def abandon_dead_runs(engine: Engine, *, holding_lock: bool = False) -> int:
    """Mark ``abandoned`` every ``running`` row whose process is gone; return how many.

    A row of this host is checked by its process id. With ``holding_lock`` (the caller holds
    the leader lock, which every run takes) every ``running`` row of another process is dead.
    A row of another host is otherwise left alone: its process cannot be checked from here.
    """
    r = store.runs.c
    host = socket.gethostname()
    with engine.connect() as conn:
        rows = conn.execute(select(r.id, r.summary).where(r.status == "running")).all()
    dead: dict[int, str] = {}
    for row in rows:
        info = _summary(row.summary)
        raw = info.get("pid")
        pid = raw if isinstance(raw, int) else None
        here = pid is not None and info.get("host") == host
        if here and pid == os.getpid():
            continue  # our own run
        if pid is not None and here and not process_alive(pid):
            dead[row.id] = f"the process running it (pid {pid} on {host}) ended before it did"
        elif holding_lock:
            dead[row.id] = "the process running it stopped before it ended"
    if not dead:
        return 0
    now = datetime.now().replace(microsecond=0)
    with engine.begin() as conn:
        for run_id, why in dead.items():
            conn.execute(
                update(store.runs)
                .where(r.id == run_id, r.status == "running")
                .values(status="abandoned", ended_at=now, error=why)
            )
    return len(dead)
