"""The benchmark runs end to end at a tiny scale and its results hold together.

A correctness test, not a timing test: every section of results.json is there, the run's alerts
equal the demo's labels, and every baseline (durable_rules record by record, DuckDB SQL, plain
Python loops) flags exactly the records naebu flags on the same frames. No figure is asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

from naebu.engine.loader import load_rules

RULES = load_rules([ROOT / "rules"], root=ROOT).rules


def test_bench_runs_end_to_end_and_baselines_agree_with_naebu(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--scale", "0.2", "--out", str(out),
         "--work", str(tmp_path / "work"), "--repeat", "1", "--durable-records", "400",
         "--alerts", "60", "--recipients", "6"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    for section in ("machine", "versions", "volumes", "load", "evaluation", "baselines",
                    "full_run", "incremental", "notification", "targets"):  # fmt: skip
        assert section in results, section
    assert {"cpu", "cores", "memory_gb"} <= set(results["machine"])
    assert {"python", "pandas", "numpy", "durable_rules", "sqlalchemy", "duckdb"} <= set(
        results["versions"]
    )

    # The whole pack, evaluated in memory, finds exactly the planted anomalies.
    ev = results["evaluation"]
    assert {r["rule_id"] for r in ev["rules"]} == {r.meta.id for r in RULES if r.meta.enabled}
    assert not [r for r in ev["rules"] if r["error"]]
    assert ev["findings_vs_labels"]["equal"], ev["findings_vs_labels"]
    assert {t["type"] for t in ev["types"]} == {r.name for r in RULES}

    # The subprocess run: its phases, its memory, its alerts equal to the labels.
    run = results["full_run"]
    assert run["exit_code"] == 0 and run["status"] == "ok"
    assert set(run["timings"]) == {"pull", "evaluate", "store", "notify"}
    assert run["peak_rss_mb"] > 0 and run["rows_read"] == sum(results["volumes"].values()) + 4
    assert run["alerts_vs_labels"]["equal"], run["alerts_vs_labels"]
    # Incremental: the latest 1% held back, then delivered; the store ends with the whole city.
    inc = results["incremental"]
    assert inc["added_rows"] > 0 and inc["before"]["exit_code"] == inc["run"]["exit_code"] == 0
    assert inc["run"]["rows_read"] < run["rows_read"] / 2  # only what is new, plus references
    # Every planted anomaly is found in the end, those whose records came late included. (A
    # few extra alerts are right: the run without the latest records saw, say, a transfer
    # whose payroll lines had not all arrived yet.)
    assert inc["alerts_vs_labels"]["missing"] == 0, inc["alerts_vs_labels"]

    # Baselines: same keys as naebu, on rules that did flag something.
    base = results["baselines"]
    assert base["all_agree"]
    assert [m["rule_id"] for m in base["match"]] == [
        "CARD-NIGHT", "PAY-SELF-APPROVAL", "CONTRACT-NEAR-LIMIT"]  # fmt: skip
    assert {(w["rule_id"], w["type"]) for w in base["window"]} == {
        ("CONTRACT-SPLIT", "aggregate"), ("PAY-DUPLICATE", "duplicate")}  # fmt: skip
    for m in base["match"]:
        assert m["naebu"]["findings"] > 0
        for name in ("durable_rules", "python_loop", "duckdb"):
            assert m[name]["agrees"], (m["rule_id"], name)
        assert m["durable_rules"]["records_posted"] == min(400, m["rows"])
        assert m["durable_rules"]["extrapolated"] == (m["rows"] > 400)
    for w in base["window"]:
        assert w["naebu"]["findings"] > 0
        assert w["duckdb"]["agrees"] and w["python_loop"]["agrees"], w["rule_id"]
        assert w["duckdb"]["flagged"] == w["naebu"]["findings"]

    # Notification: one digest per official reached the SMTP server.
    note = results["notification"]
    assert note["alerts"] == 60 and note["digests_queued"] == 6
    assert note["sent"] == note["smtp_messages"] == note["smtp_recipients"] == 6

    targets = {t["id"] for t in results["targets"]}
    assert targets == {"1a", "1b", "1c", "2a", "2b", "3", "4"}
    report = (out / "results.md").read_text(encoding="utf-8")
    for heading in ("## Targets", "## Whole runs", "## The pack evaluated in memory",
                    "## Baselines", "## Notification"):  # fmt: skip
        assert heading in report


def test_naebu_bench_is_the_benchmark_of_the_checkout(tmp_path: Path) -> None:
    """`naebu bench` runs bench/ of the checkout naebu is installed from, from any folder."""
    done = subprocess.run(
        [sys.executable, "-m", "naebu.cli", "bench", "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: naebu bench")
    assert "--profile" in done.stdout
    assert "leaked" not in done.stderr  # DuckDB's complaint at a frozen exit

    bad = subprocess.run(
        [sys.executable, "-m", "naebu.cli", "bench", "--scale", "0"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2
    assert "naebu bench: error: --scale must be positive" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_a_timed_side_runs_until_its_budget_and_keeps_its_best() -> None:
    from bench.baselines import timing

    times = iter([0.3, 0.1, 0.2, 0.05, 0.4, 0.01])
    calls: list[int] = []

    def call() -> tuple[float, int]:
        calls.append(1)
        return next(times), len(calls)

    # 0.3 + 0.1 + 0.2 = 0.6 s >= the 0.5 s budget after the third (the minimum) run
    assert timing.best_of(call, repeat=3) == (0.1, 3)
    # a short call runs up to MOST times, never fewer than repeat
    quick = timing.best_of(lambda: (0.001, "k"), repeat=3)
    assert quick == (0.001, "k")
    counted: list[int] = []
    timing.best_of(lambda: (counted.append(1), (0.0, None))[1], repeat=3)
    assert len(counted) == timing.MOST
    slow: list[int] = []
    timing.best_of(lambda: (slow.append(1), (2.0, None))[1], repeat=3)
    assert len(slow) == 3
