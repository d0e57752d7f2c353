"""The daemon's watch on its Dask cluster (``[engine] backend = "dask"``, docs/dask.md).

A run that cannot reach the cluster - the scheduler does not answer when the run starts (the
run then reads and evaluates nothing), or is lost during it (the rules not yet evaluated
fail) - counts one. After ``[cluster] unreachable_runs_before_notice`` such runs in a row the
admins are told, once (through the outbox, as for a source down: alerts/admin_notices.py);
when a run reaches the cluster again they are told once more. Nothing is lost meanwhile: the
sources' watermarks stay where the last run that read them left them, and a rule not evaluated
keeps its state, so the next run that reaches the cluster evaluates it over the same records.

The connection itself is made afresh at the next run (engine/backends/__init__.py,
:func:`~naebu.engine.backends.backend_for`); this module only counts and tells.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from naebu.alerts.admin_notices import queue_admin_notice
from naebu.engine.backends.faults import ClusterUnreachable
from naebu.settings.config import Config

log = logging.getLogger(__name__)


@dataclass
class ClusterWatch:
    """Runs in a row that could not reach the cluster, and whether the admins were told."""

    config: Config
    engine: Engine
    #: Runs in a row that could not reach the cluster.
    down_runs: int = 0
    #: When the first of them started.
    since: datetime | None = None
    #: What the last of them met, in words.
    reason: str = ""
    #: Whether the admins were told of this outage (so they hear when it ends).
    noticed: bool = False

    @property
    def address(self) -> str:
        """The scheduler named in messages."""
        engine = self.config.engine
        return engine.scheduler or f"the local cluster ({engine.local_workers} workers)"

    def not_reached(self, exc: ClusterUnreachable, now: datetime) -> None:
        """A run that did not start: the cluster could not be reached."""
        self._down(f"cannot reach {exc.address}: {exc.reason}", now, started=False)

    def after_run(self, summary: Any, now: datetime) -> None:
        """A run that ended (``summary``: its :class:`~naebu.pipeline.RunSummary`)."""
        if self.config.engine.backend != "dask":
            return
        cluster = summary.extra.get("cluster") or {}
        if cluster.get("unreachable"):
            failed = sorted(summary.rule_errors)
            self._down(
                f"{', '.join(cluster['lost'])} lost during run #{summary.run_id} "
                f"({len(failed)} rule(s) not evaluated: {', '.join(failed)})",
                now,
                started=True,
            )
        else:
            self._reached(summary.run_id, now)

    # -- counting and telling --------------------------------------------------------------

    def _down(self, reason: str, now: datetime, *, started: bool) -> None:
        self.down_runs += 1
        self.since = self.since or now
        self.reason = reason
        what = (
            "the rules not evaluated yet are evaluated again on the next run"
            if started
            else "nothing was read or evaluated; the next run tries again"
        )
        log.warning(
            "Dask cluster out of reach (%d run(s) in a row): %s; %s",
            self.down_runs,
            reason,
            what,
            extra={"cluster_unreachable_runs": self.down_runs},
        )
        threshold = self.config.cluster.unreachable_runs_before_notice
        if self.noticed or self.down_runs < threshold:
            return
        self.noticed = True
        ko = self.config.notify.language != "en"
        if ko:
            subject = f"Dask 클러스터 연결 불가 {self.down_runs}회 연속"
            body = (
                f"규칙을 평가하는 Dask 클러스터({self.address})에 {self.down_runs}회 연속 "
                f"연결하지 못했습니다 ({self.since:%Y-%m-%d %H:%M}부터).\n"
                f"마지막 오류: {reason}\n\n"
                "잃은 자료는 없습니다. 연결하지 못한 실행은 원천을 읽지 않았고, 평가하지 못한 "
                "규칙은 클러스터에 다시 연결되는 실행에서 같은 기록으로 다시 평가합니다. 그동안 "
                "이 규칙들의 경보는 나가지 않습니다.\n"
                "스케줄러와 워커 프로세스를 확인하십시오 (docs/dask.md). "
                "다시 연결되면 한 번 더 알려 드립니다."
            )
        else:
            subject = f"Dask cluster unreachable for {self.down_runs} runs"
            body = (
                f"The Dask cluster that evaluates the rules ({self.address}) could not be "
                f"reached for {self.down_runs} runs in a row (since "
                f"{self.since:%Y-%m-%d %H:%M}).\nlast error: {reason}\n\n"
                "Nothing is lost: a run that cannot reach it reads no source, and the rules "
                "not evaluated are evaluated over the same records by the first run that "
                "reaches it again. Until then those rules raise no alert.\n"
                "Check the scheduler and worker processes (docs/dask.md). You will be told "
                "again when it is back."
            )
        queue_admin_notice(self.engine, self.config.notify, subject, body, now=now)

    def _reached(self, run_id: int, now: datetime) -> None:
        if self.noticed:
            ko = self.config.notify.language != "en"
            if ko:
                subject = "Dask 클러스터 복구"
                body = (
                    f"Dask 클러스터({self.address})에 다시 연결되었습니다. 연결하지 못한 실행이 "
                    f"{self.down_runs}회 있었으며, 그동안 평가하지 못한 규칙은 이번 실행부터 "
                    "다시 평가합니다."
                )
            else:
                subject = "Dask cluster back"
                body = (
                    f"The Dask cluster ({self.address}) is reached again, after "
                    f"{self.down_runs} run(s) that could not reach it; the rules they could not "
                    f"evaluate are evaluated again from run #{run_id} on."
                )
            queue_admin_notice(self.engine, self.config.notify, subject, body, now=now)
        if self.down_runs:
            log.info("Dask cluster %s reached again after %d run(s)", self.address, self.down_runs)
        self.down_runs, self.since, self.reason, self.noticed = 0, None, "", False
