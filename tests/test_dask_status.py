"""What an operator reads of a Dask cluster's faults without a cluster at hand (issue 27):
``[cluster]`` checked and located, and ``naebu status`` naming the rules a partial run could not
evaluate, with their reasons, and the runs in a row that could not reach the cluster.
The faults themselves, on a real cluster: tests/test_dask_faults.py."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from dask_cluster import require_dask
from sqlalchemy import Engine, insert

from naebu.core.problems import ProblemsError
from naebu.daemon.status import collect_status, status_lines
from naebu.engine.backends.faults import ClusterError, ClusterUnreachable, note_fault, unreachable
from naebu.settings.config import load_config
from naebu.store import tables as store

DASK = '[engine]\nbackend = "dask"\nscheduler = "tcp://127.0.0.1:8786"\n'
T0 = datetime(2026, 3, 2, 9, 0)


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        (
            DASK + "[cluster]\nunreachable_runs_before_notise = 2\n",
            "cluster.unreachable_runs_before_notise: unknown key - did you mean "
            "'unreachable_runs_before_notice'?",
        ),
        (
            DASK + "[cluster]\nunreachable_runs_before_notice = 0\n",
            "cluster.unreachable_runs_before_notice: must be a whole number of runs >= 1, not 0",
        ),
        (
            DASK + '[cluster]\nunreachable_runs_before_notice = "3"\n',
            "must be a whole number of runs >= 1, not '3'",
        ),
        (
            "[cluster]\nunreachable_runs_before_notice = 2\n",
            "cluster: [cluster] applies only to the dask backend",
        ),
    ],
)
def test_cluster_section_mistakes_are_located(tmp_path: Path, section: str, expected: str) -> None:
    require_dask()  # [engine] backend = "dask" wants it installed
    (tmp_path / "config.toml").write_text(section, encoding="utf-8")
    with pytest.raises(ProblemsError) as raised:
        load_config(tmp_path / "config.toml")
    assert expected in "\n".join(str(p) for p in raised.value.problems)


def test_the_threshold_defaults_to_three_runs_and_can_be_set(tmp_path: Path) -> None:
    require_dask()
    (tmp_path / "config.toml").write_text(DASK, encoding="utf-8")
    assert load_config(tmp_path / "config.toml").cluster.unreachable_runs_before_notice == 3
    (tmp_path / "config.toml").write_text(
        DASK + "[cluster]\nunreachable_runs_before_notice = 5\n", encoding="utf-8"
    )
    assert load_config(tmp_path / "config.toml").cluster.unreachable_runs_before_notice == 5


def _run(engine: Engine, i: int, status: str, summary: dict[str, Any], error: str | None) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(store.runs).values(
                started_at=T0 + timedelta(minutes=15 * i),
                ended_at=T0 + timedelta(minutes=15 * i, seconds=20),
                status=status,
                summary={"job": "run", **summary},
                error=error,
            )
        )


def test_status_names_the_failed_rules_and_the_runs_out_of_reach(
    tmp_path: Path, engine: Engine
) -> None:
    require_dask()
    (tmp_path / "config.toml").write_text(DASK, encoding="utf-8")
    config = load_config(tmp_path / "config.toml")
    address = "tcp://127.0.0.1:8786"
    lost = ClusterError(
        f"the Dask scheduler {address} was lost during this run",
        f"the scheduler {address}",
        whole=True,
    )
    extra: dict[str, Any] = {}
    note_fault(extra, lost)
    note_fault(extra, lost)  # each thing lost once
    assert extra == {"cluster": {"lost": [f"the scheduler {address}"], "unreachable": True}}
    worker = ClusterError(
        "Dask worker tcp://127.0.0.1:40211 left the cluster while evaluating this rule",
        "worker tcp://127.0.0.1:40211",
    )
    out_of_reach = str(ClusterUnreachable(address, "Timed out trying to connect after 10 s"))
    assert unreachable(out_of_reach) and not unreachable("OperationalError: disk full")

    _run(engine, 0, "ok", {}, None)
    # a worker lost: the cluster was reachable, the run is partial, one rule failed
    _run(engine, 1, "partial", {"rule_errors": {"PAY-DUPLICATE": str(worker)}}, None)
    _run(engine, 2, "partial", {"rule_errors": {"R-2": str(lost), "R-1": str(lost)}, **extra}, None)
    _run(engine, 3, "failed", {}, out_of_reach)
    status = collect_status(config, engine, None, now=T0 + timedelta(hours=1))
    assert status["cluster"] == {
        "scheduler": address,
        "unreachable_runs": 2,
        "unreachable_since": "2026-03-02 09:30:00",
    }
    text = "\n".join(status_lines(status))
    assert f"last run: #4 failed at 2026-03-02 09:45:00 - {out_of_reach}" in text
    assert "dask cluster: tcp://127.0.0.1:8786 - out of reach for the last 2 run(s)" in text

    _run(engine, 4, "partial", {"rule_errors": {"R-2": str(lost), "R-1": str(lost)}, **extra}, None)
    lines = status_lines(collect_status(config, engine, None, now=T0 + timedelta(hours=2)))
    at = lines.index("  2 rule(s) not evaluated, evaluated again on the next run:")
    assert lines[at + 1 : at + 3] == [
        f"    R-1: the Dask scheduler {address} was lost during this run; "
        "evaluated again on the next run",
        f"    R-2: the Dask scheduler {address} was lost during this run; "
        "evaluated again on the next run",
    ]
    assert "out of reach for the last 3 run(s), since 2026-03-02 09:30:00" in "\n".join(lines)

    # a run that reaches the cluster ends the count, even one a lost worker made partial
    _run(engine, 5, "partial", {"rule_errors": {"PAY-DUPLICATE": str(worker)}}, None)
    status = collect_status(config, engine, None, now=T0 + timedelta(hours=3))
    assert status["cluster"]["unreachable_runs"] == 0
    assert status["last_run"]["rule_errors"] == {"PAY-DUPLICATE": str(worker)}
    assert "    PAY-DUPLICATE: Dask worker tcp://127.0.0.1:40211 left the cluster" in "\n".join(
        status_lines(status)
    )


def test_a_pandas_store_has_no_cluster_line(tmp_path: Path, engine: Engine) -> None:
    (tmp_path / "config.toml").write_text("", encoding="utf-8")
    status = collect_status(load_config(tmp_path / "config.toml"), engine, None)
    assert status["cluster"] is None
    assert not any(line.startswith("dask cluster") for line in status_lines(status))
