"""What the daemon is doing, read from the store: for ``naebu status`` and ``/metrics``.

Everything comes from the store (the run ledger, watermarks, outbox, alerts) and the leader
lock, so any process - the daemon itself, a standby, an operator's shell - sees the same.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select

from naebu.core import text_tables as tables
from naebu.core.text_tables import Column
from naebu.engine.backends.faults import unreachable
from naebu.settings.config import Config
from naebu.store import tables as store

#: How many of the newest ledger rows are read to find each source's last run.
LEDGER_WINDOW = 500

#: The sources table of ``naebu status``.
SOURCE_COLUMNS = (
    Column("source", 18),
    Column("last ok", 20),
    Column("lag", 8, ">"),
    Column("fails", 5, ">", number=""),
    Column("watermark / error", before="  "),
)


def collect_status(
    config: Config, engine: Engine, leader: str | None, now: datetime | None = None
) -> dict[str, Any]:
    """The daemon's state as a JSON-safe dict (see ``naebu status --format json``)."""
    now = now or datetime.now()
    r, w = store.runs.c, store.watermarks.c
    with engine.connect() as conn:
        runs = conn.execute(
            select(r.id, r.started_at, r.ended_at, r.status, r.summary, r.error)
            .order_by(r.id.desc())
            .limit(LEDGER_WINDOW)
        ).all()
        marks = {row.source: row for row in conn.execute(select(w.source, w.value, w.updated_at))}
        outbox: dict[str, int] = dict(
            conn.execute(
                select(store.outbox.c.status, func.count()).group_by(store.outbox.c.status)
            ).all()
        )
        alerts: dict[str, int] = dict(
            conn.execute(
                select(store.alerts.c.status, func.count()).group_by(store.alerts.c.status)
            ).all()
        )
    sources: dict[str, dict[str, Any]] = {}
    for name, src in config.sources.items():
        mark = marks.get(name)
        sources[name] = {
            "dataset": src.dataset,
            "enabled": src.enabled,
            "watermark": mark.value if mark else None,
            "watermark_updated_at": _iso(mark.updated_at) if mark else None,
            "last_run": None,
            "last_ok_at": None,
            "lag_seconds": None,
            "consecutive_failures": 0,
            "last_error": None,
            # Values its last read found that no value map covers (read as empty).
            "unmapped": {},
        }
    counting = set(sources)
    for run in runs:  # newest first
        summary = run.summary if isinstance(run.summary, dict) else {}
        for rep in summary.get("sources", []):
            info = sources.get(rep.get("name"))
            if info is None or rep.get("skipped"):
                continue
            if info["last_run"] is None:
                info["last_run"] = {
                    "run_id": run.id,
                    "started_at": _iso(run.started_at),
                    "rows_read": rep.get("rows_read", 0),
                    "error": rep.get("error"),
                }
                info["unmapped"] = dict(rep.get("unmapped") or {})
            if rep.get("error"):
                if rep["name"] in counting:
                    info["consecutive_failures"] += 1
                    info["last_error"] = info["last_error"] or rep["error"]
            else:
                counting.discard(rep["name"])
                if info["last_ok_at"] is None:
                    info["last_ok_at"] = _iso(run.started_at)
                    info["lag_seconds"] = max(0, int((now - run.started_at).total_seconds()))
    jobs: dict[str, dict[str, Any]] = {}
    for run in runs:
        summary = run.summary if isinstance(run.summary, dict) else {}
        job = str(summary.get("job", "run"))
        jobs.setdefault(
            job,
            {
                "run_id": run.id,
                "started_at": _iso(run.started_at),
                "ended_at": _iso(run.ended_at),
                "status": run.status,
                "node": summary.get("node"),
                "error": run.error,
                # A partial run's failed rules and why (a rule the cluster failed under says
                # so in words); each is evaluated again on the next run.
                "rule_errors": dict(summary.get("rule_errors") or {}),
                "cluster_lost": list((summary.get("cluster") or {}).get("lost") or []),
            },
        )
    return {
        "now": _iso(now),
        "leader": leader,
        "last_run": jobs.get("run") or (next(iter(jobs.values())) if jobs else None),
        "jobs": jobs,
        "sources": sources,
        "outbox": {str(k): int(v) for k, v in outbox.items()},
        "outbox_due": int(outbox.get("pending", 0)) + int(outbox.get("retrying", 0)),
        "alerts": {str(k): int(v) for k, v in alerts.items()},
        "runs_by_status": dict(Counter(str(run.status) for run in runs)),
        "cluster": _cluster(config, runs),
    }


def _cluster(config: Config, runs: Sequence[Any]) -> dict[str, Any] | None:
    """With the dask backend: the scheduler, and the newest runs in a row that could not
    reach it (did not start for it, or lost it; naebu/daemon/cluster.py)."""
    if config.engine.backend != "dask":
        return None
    down = []
    for run in runs:  # newest first
        summary = run.summary if isinstance(run.summary, dict) else {}
        if run.status == "running":
            continue
        if not (unreachable(run.error) or (summary.get("cluster") or {}).get("unreachable")):
            break
        down.append(run)
    return {
        "scheduler": config.engine.scheduler or f"local ({config.engine.local_workers} workers)",
        "unreachable_runs": len(down),
        "unreachable_since": _iso(down[-1].started_at) if down else None,
    }


def status_lines(status: dict[str, Any]) -> list[str]:
    """``collect_status`` output as text for the terminal."""
    lines = [f"leader: {status['leader'] or '-- none (no naebu run is active)'}"]
    last = status["last_run"]
    if last:
        lines.append(
            f"last run: #{last['run_id']} {last['status']} at {last['started_at']}"
            + (f" by {last['node']}" if last.get("node") else "")
            + (f" - {last['error']}" if last.get("error") else "")
        )
        lines += _failed_rules(last)
    else:
        lines.append("last run: never")
    cluster = status.get("cluster")
    if cluster:
        down = cluster["unreachable_runs"]
        lines.append(
            f"dask cluster: {cluster['scheduler']}"
            + (
                f" - out of reach for the last {down} run(s), since {cluster['unreachable_since']}"
                if down
                else ""
            )
        )
    rows = []
    for name, s in status["sources"].items():
        lag = _duration(s["lag_seconds"]) if s["lag_seconds"] is not None else "-"
        note = s["last_error"] if s["consecutive_failures"] else (s["watermark"] or "")
        if not s["enabled"]:
            note = "disabled"
        rows.append((name, s["last_ok_at"] or "never", lag, s["consecutive_failures"], note))
    lines += ["", *tables.render(SOURCE_COLUMNS, rows)]
    lines += _unmapped_lines(status["sources"])
    outbox = ", ".join(f"{k} {v}" for k, v in sorted(status["outbox"].items())) or "empty"
    alerts = ", ".join(f"{k} {v}" for k, v in sorted(status["alerts"].items())) or "none"
    lines += ["", f"outbox: {outbox} (to send: {status['outbox_due']})", f"alerts: {alerts}"]
    # Whom alerts reach (naebu.alerts.reach), when the command collected it.
    lines += [f"warning: {w}" for w in status.get("reach_warnings", ())]
    return lines


def _failed_rules(run: dict[str, Any]) -> list[str]:
    """The rules a partial run could not evaluate, each with its reason; all of them are
    evaluated again by the next run (their state did not move)."""
    errors = run.get("rule_errors") or {}
    if not errors:
        return []
    lines = [f"  {len(errors)} rule(s) not evaluated, evaluated again on the next run:"]
    lines += [f"    {rule}: {reason}" for rule, reason in sorted(errors.items())]
    return lines


def _unmapped_lines(sources: dict[str, dict[str, Any]]) -> list[str]:
    """The values each source's last read could not map onto the canonical codes, in the run
    summary's words (naebu.connectors.vocabulary)."""
    from naebu.connectors.base import UnmappedValues
    from naebu.connectors.vocabulary import unmapped_lines

    return unmapped_lines(
        (
            name,
            {
                column: UnmappedValues(int(u.get("rows", 0)), tuple(u.get("examples", ())))
                for column, u in s.get("unmapped", {}).items()
            },
        )
        for name, s in sources.items()
    )


def _duration(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(sep=" ", timespec="seconds") if value else None
