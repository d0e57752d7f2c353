"""The benchmark runs end to end at a tiny scale and its results hold together.

A correctness test, not a timing test: every section of results.json is there, the run's alerts
equal the demo's labels, and every baseline - DuckDB SQL and Polars for every rule of the
pack, the end-to-end DuckDB script from the same sources, durable_rules fed in batches, a plain
Python loop - flags exactly the records naebu flags. No figure is asserted.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT

from naebu.engine.loader import load_rules

RULES = load_rules([ROOT / "rules"], root=ROOT).rules
ENABLED = {r.meta.id for r in RULES if r.meta.enabled}


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """One benchmark at scale 0.2 (its work folder kept for the tests below)."""
    tmp = tmp_path_factory.mktemp("bench")
    out = tmp / "out"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--scale", "0.2", "--out", str(out),
         "--work", str(tmp / "work"), "--repeat", "1", "--pairs", "1",
         "--durable-records", "400", "--alerts", "60", "--recipients", "6", "--slices", "5",
         "--scaling", "0.1,0.3"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return tmp / "work", json.loads((out / "results.json").read_text(encoding="utf-8"))


def test_bench_runs_end_to_end_and_baselines_agree_with_naebu(
    bench_run: tuple[Path, dict[str, Any]],
) -> None:
    work, results = bench_run
    out = work.parent / "out"
    for section in ("machine", "versions", "volumes", "load", "evaluation", "baselines",
                    "full_run", "end_to_end", "incremental", "notification", "targets"):  # fmt: skip
        assert section in results, section
    assert {"cpu", "cores", "memory_gb", "load_average", "load_average_end"} <= set(
        results["machine"]
    )
    assert {"python", "pandas", "numpy", "durable_rules", "sqlalchemy", "duckdb", "polars"} <= set(
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

    # Baselines: DuckDB and Polars on every rule, each with exactly naebu's keys.
    base = results["baselines"]
    assert base["all_agree"] and base["disagreements"] == []
    assert {r["rule_id"] for r in base["rules"]} == ENABLED
    for r in base["rules"]:
        assert r["findings"] > 0, r["rule_id"]  # a rule that flags nothing proves nothing
        for engine in ("duckdb", "polars"):
            side = r[engine]
            assert side["agrees"] and side["flagged"] == r["findings"], (r["rule_id"], engine)
            assert side["runs"] == [pytest.approx(side["median"], abs=1e-6)]
    # a rule's own logic computed at load (the statutory deadline) is charged to that rule
    charged = {r["rule_id"]: r["load_seconds_charged"] for r in base["rules"]}
    assert charged["PERMIT-LATE"] > 0 and charged["CARD-PERPERSON"] > 0
    assert charged["CARD-NIGHT"] == 0
    types = {t["type"]: t for t in base["types"]}
    assert set(types) == {r.name for r in RULES} | {"all"}
    assert types["all"]["rules"] == len(ENABLED)
    assert types["all"]["naebu_over_duckdb"] == pytest.approx(
        types["all"]["naebu_seconds"] / types["all"]["duckdb_seconds"]
    )
    # durable_rules (in batches) and the Python loop on three match rules.
    assert [m["rule_id"] for m in base["match"]] == [
        "CARD-NIGHT", "PAY-SELF-APPROVAL", "CONTRACT-NEAR-LIMIT"]  # fmt: skip
    for m in base["match"]:
        assert m["naebu"]["findings"] > 0
        for name in ("durable_rules", "python_loop"):
            assert m[name]["agrees"], (m["rule_id"], name)
        assert m["durable_rules"]["records_posted"] == min(400, m["rows"])
        assert m["durable_rules"]["extrapolated"] == (m["rows"] > 400)

    # End to end: the DuckDB script read the same sources and flagged naebu's records.
    e2e = results["end_to_end"]
    assert e2e["agrees"] and e2e["disagreements"] == [] and e2e["duckdb_script_rules"] == 35
    assert [p["naebu"] for p in e2e["pairs"]] == [pytest.approx(e2e["naebu_median"], abs=1e-3)]
    assert e2e["duckdb_script_left_out"] == 4  # the demo's malformed payments and card rows
    assert inc["full_median_seconds"] == e2e["naebu_median"]
    assert inc["ratio"] == pytest.approx(inc["run"]["wall_seconds"] / e2e["naebu_median"], rel=1e-2)
    warm = inc["warm"]
    assert warm["incremental_seconds"] > 0 and warm["full_seconds"] > 0
    assert warm["ratio"] == pytest.approx(warm["incremental_seconds"] / warm["full_seconds"])

    # Notification: one digest per official reached the SMTP server.
    note = results["notification"]
    assert note["alerts"] == 60 and note["digests_queued"] == 6
    assert note["sent"] == note["smtp_messages"] == note["smtp_recipients"] == 6

    # Incremental equals full: the city in slices ends with one full run's open alerts.
    cut = results["sliced"]
    assert cut["slices"] >= 4 and len(cut["slice_seconds"]) == cut["slices"]
    assert cut["equal"] and cut["only_sliced"] == cut["only_full"] == {}, cut
    assert cut["open_alerts_full"] > 0

    # Scaling: two cities, their runs and the slope between them.
    grow = results["scaling"]
    small, large = grow["sizes"]
    assert (small["scale"], large["scale"]) == (0.1, 0.3)
    assert 0 < small["rows_read"] < large["rows_read"] and large["peak_rss_mb"] > 0
    assert grow["exponent_rows"] == pytest.approx(
        math.log(large["median_seconds"] / small["median_seconds"])
        / math.log(large["rows_read"] / small["rows_read"])
    )

    targets = {t["id"] for t in results["targets"]}
    assert targets == {"1a", "1b", "1c", "2a", "2b", "2c", "2d", "3", "3b", "3c", "4", "5a", "5b",
                       "6a", "6b"}  # fmt: skip
    report = (out / "results.md").read_text(encoding="utf-8")
    for heading in ("## Targets", "## Whole runs", "## End to end", "## The pack evaluated in memory",
                    "## Baselines", "## Notification", "Slices: ", "Scaling: "):  # fmt: skip
        assert heading in report


def test_a_baseline_that_flags_other_records_is_reported_with_the_keys(
    bench_run: tuple[Path, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The agreement check can fail: a DuckDB query that loses a record and a Polars query
    that adds one are named, with the keys on each side."""
    import polars as pl

    from bench import city as city_mod
    from bench.baselines import compare
    from bench.baselines.duck_tables import DuckTables
    from bench.baselines.polars_tables import PolarsTables
    from bench.baselines.tables import prepare
    from naebu.pipeline import load_ruleset

    work, _ = bench_run
    config = city_mod.City(work, work / "config.toml", {}, 0.0).config()
    ruleset = load_ruleset(config)
    frames = city_mod.load_frames(config).frames
    right_duck, right_polars = compare.DUCK["CARD-NIGHT"], compare.POLARS["CARD-NIGHT"]
    monkeypatch.setitem(compare.DUCK, "CARD-NIGHT",
                        lambda s: f"SELECT * FROM ({right_duck(s)}) ORDER BY 1 OFFSET 1")  # fmt: skip
    monkeypatch.setitem(
        compare.POLARS, "CARD-NIGHT",
        lambda s, t: pl.concat([right_polars(s, t), pl.LazyFrame({"approval_id": ["X-1"]})]),
    )  # fmt: skip
    prepared = prepare(frames)
    duck = DuckTables(prepared)
    try:
        rules = compare.compare_rules(ruleset, frames, prepared, duck, PolarsTables(prepared),
                                      datetime.now(), rounds=1)  # fmt: skip
    finally:
        duck.close()
    lines = compare.disagreements(rules)
    assert len(lines) == 2, lines
    night = next(r for r in rules if r["rule_id"] == "CARD-NIGHT")
    assert len(night["duckdb"]["naebu_only"]) == 1 and night["duckdb"]["engine_only"] == []
    assert night["polars"]["engine_only"] == ["X-1"] and night["polars"]["naebu_only"] == []
    assert lines[0].startswith("CARD-NIGHT (duckdb): naebu ")
    assert "only polars: ['X-1']" in lines[1]


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


def test_sides_take_turns_and_their_median_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    from bench.baselines import timing

    ticks = iter([0.0, 1.0, 1.0, 3.0, 3.0, 3.5, 3.5, 7.5, 7.5, 8.0, 8.0, 14.0])
    monkeypatch.setattr(timing.time, "perf_counter", lambda: next(ticks))
    calls: list[str] = []
    runs = timing.interleaved(
        {"naebu": lambda: calls.append("n") or "a", "duck": lambda: calls.append("d") or "b"}, 3
    )
    assert calls == ["n", "d", "n", "d", "n", "d"]  # interleaved, not one side then the other
    assert runs["naebu"].seconds == [1.0, 0.5, 0.5] and runs["naebu"].median == 0.5
    assert runs["duck"].seconds == [2.0, 4.0, 6.0] and runs["duck"].median == 4.0
    assert runs["naebu"].result == "a" and runs["duck"].result == "b"
    assert timing.ratio(runs["naebu"].median, runs["duck"].median) == 0.125
    assert timing.ratio(1.0, 0.0) is None and timing.ratio(None, 2.0) is None


def test_the_scaling_exponent_is_the_slope_of_log_time_over_log_size() -> None:
    from bench.scaling import exponent

    assert exponent(100, 300, 10.0, 30.0) == pytest.approx(1.0)
    assert exponent(100, 300, 10.0, 90.0) == pytest.approx(2.0)
    assert exponent(100, 100, 10.0, 30.0) is None and exponent(100, 300, 0.0, 1.0) is None
