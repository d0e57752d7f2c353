"""End to end from the same sources: ``naebu run --once`` against the DuckDB script
(:mod:`bench.baselines.duck_script`), in interleaved pairs (naebu, script, naebu, script...).

Each naebu run gets a fresh store (a first run, reading everything); the first pair's store is
the city's own ``var/``, which the later steps read. Both sides are subprocesses started the
same way, so start-up (imports) counts on both. The script's flagged keys must equal naebu's
findings on the same data for every rule, or the benchmark fails.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from bench import fullrun
from bench.baselines import script_plan
from bench.baselines.timing import ratio
from bench.city import City
from naebu.engine.loader import RuleSet

#: The repository holding bench/ (not installed: it is run from here).
REPOSITORY = Path(__file__).resolve().parent.parent


def run_script(city: City, plan_path: Any, keys_path: Any) -> dict[str, Any]:
    """One run of the DuckDB script: wall seconds, peak RSS, its own phases and exit code."""
    log = city.workdir / "duck_script.log"
    # bench/ is not installed: the script runs in the city's folder with the repository on
    # its path, as `python -m bench` itself runs from the repository.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPOSITORY),
           os.environ.get("PYTHONPATH")]))}  # fmt: skip
    wall, peak_mb, code = fullrun.measure(
        [sys.executable, "-m", "bench.baselines.duck_script", str(plan_path), "--keys",
         str(keys_path)], city.workdir, log, env=env,
    )  # fmt: skip
    text = log.read_text(encoding="utf-8").strip().splitlines()
    if code != 0 or not text:
        raise RuntimeError("the DuckDB script failed:\n" + "\n".join(text[-8:]))
    out = json.loads(text[-1])
    return {"wall_seconds": wall, "peak_rss_mb": peak_mb, **out}


def pairs(city: City, ruleset: RuleSet, now: datetime, naebu_keys: Mapping[str, set[str]],
          rounds: int, log: Callable[[str], None]) -> tuple[fullrun.RunResult, dict[str, Any]]:  # fmt: skip
    """``rounds`` interleaved pairs; the first naebu run (in ``var/``) and the comparison."""
    plan = script_plan.write(city.config_path, ruleset, now.date(), city.workdir / "plan.json")
    keys_path = city.workdir / "duck_script_keys.json"
    naebu_runs: list[fullrun.RunResult] = []
    script_runs: list[dict[str, Any]] = []
    for i in range(max(1, rounds)):
        log(f"[bench]   pair {i + 1}/{max(1, rounds)}: naebu run --once, then the DuckDB script")
        run_city = city if i == 0 else city.with_store(f"var-full-{i}")
        result = fullrun.run_once(run_city)
        if result.exit_code != 0:
            raise RuntimeError(f"naebu run --once failed:\n{result.output_tail}")
        if i:  # only the first store is read later; the others take disk space
            shutil.rmtree(run_city.workdir / run_city.var, ignore_errors=True)
        naebu_runs.append(result)
        script_runs.append(run_script(city, plan, keys_path))
    found = json.loads(keys_path.read_text(encoding="utf-8"))
    wrong = sorted(rid for rid, keys in naebu_keys.items() if set(found.get(rid, [])) != keys)
    naebu_median = statistics.median(r.wall_seconds for r in naebu_runs)
    script_median = statistics.median(r["wall_seconds"] for r in script_runs)
    return naebu_runs[0], {
        "pairs": [
            {"naebu": round(n.wall_seconds, 3), "duckdb_script": round(s["wall_seconds"], 3)}
            for n, s in zip(naebu_runs, script_runs, strict=True)
        ],  # fmt: skip
        "naebu_median": naebu_median,
        "duckdb_script_median": script_median,
        "naebu_over_duckdb_script": ratio(naebu_median, script_median),
        "naebu_peak_rss_mb": max(r.peak_rss_mb for r in naebu_runs),
        "duckdb_script_peak_rss_mb": max(s["peak_rss_mb"] for s in script_runs),
        "duckdb_script_phases": script_runs[-1]["seconds"],
        "duckdb_script_left_out": script_runs[-1]["left_out"],
        "duckdb_script_rules": len(found),
        "disagreements": wrong,
        "agrees": not wrong,
    }
