"""Only the in-memory comparison of the benchmark: naebu, DuckDB and Polars rule by rule on one
city's frames, without generating a city, the end-to-end runs or the notification step.

    python -m bench.baselines.memory --config CITY/config.toml [--repeat 5]
                                     [--frames FILE.pkl] [--only TYPE_OR_RULE ...]

The frames are read through the connectors as :func:`bench.city.load_frames` reads them (a
province takes tens of seconds); ``--frames`` keeps them in a pickle for the next call (it is
read if it exists, written if not; delete it when the sources change). It prints each rule's
medians and ratios, then each rule type's and the whole pack's (type ``all``), the machine's
load average before and after, and any rule where a baseline flagged other records than naebu
(exit status 1 then). ``--only`` keeps the rules of those types or ids (their ``all`` line is
then of those rules alone). The judged figures come from the whole ``python -m bench``.
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from bench.baselines import compare
from bench.baselines.duck_tables import DuckTables
from bench.baselines.polars_tables import PolarsTables
from bench.baselines.tables import prepare
from bench.city import load_frames
from naebu.pipeline import load_ruleset
from naebu.settings.config import load_config


def frames_of(config_path: Path, cache: Path | None) -> dict[str, pd.DataFrame]:
    """The city's canonical frames, from ``cache`` when it exists (written there otherwise)."""
    if cache is not None and cache.exists():
        with cache.open("rb") as f:
            frames: dict[str, pd.DataFrame] = pickle.load(f)  # our own file, written below
        return frames
    frames = load_frames(load_config(config_path)).frames
    if cache is not None:
        with cache.open("wb") as f:
            pickle.dump(frames, f, protocol=pickle.HIGHEST_PROTOCOL)
    return frames


def lines(rules: list[dict[str, Any]]) -> list[str]:
    """The per-rule and per-type table."""
    out = []
    for r in sorted(rules, key=lambda r: (r["type"], r["rule_id"])):
        out.append(
            f"{r['type']:10s} {r['rule_id']:31s} {r['rows']:9,d} rows {r['findings']:6,d} found  "
            f"naebu {r['naebu']['median']:8.4f}  duckdb {r['duckdb']['median']:8.4f}  "
            f"polars {r['polars']['median']:8.4f}  "
            f"n/d {_x(r['duckdb']['naebu_over'])}  n/p {_x(r['polars']['naebu_over'])}"
        )
    for t in compare.by_type(rules):
        out.append(
            f"{t['type']:10s} {t['rules']:3d} rules  naebu {t['naebu_seconds']:8.3f}  "
            f"duckdb {t['duckdb_seconds']:8.3f}  polars {t['polars_seconds']:8.3f}  "
            f"n/d {_x(t['naebu_over_duckdb'])}  n/p {_x(t['naebu_over_polars'])}"
        )
    return out


def _x(value: float | None) -> str:
    return "   -" if value is None else f"{value:5.2f}"


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and print it; 1 when a baseline disagrees with naebu."""
    p = argparse.ArgumentParser(prog="python -m bench.baselines.memory",
                                description=__doc__.split("\n")[0])  # fmt: skip
    p.add_argument("--config", type=Path, required=True, help="the city's config.toml")
    p.add_argument("--repeat", type=int, default=5, help="interleaved rounds [default: 5]")
    p.add_argument("--frames", type=Path, help="pickle of the frames, read or written")
    p.add_argument("--only", nargs="*", default=[], help="rule types or ids to keep")
    a = p.parse_args(argv)
    frames = frames_of(a.config, a.frames)
    ruleset = load_ruleset(load_config(a.config))
    if a.only:
        keep = set(a.only)
        ruleset.rules[:] = [r for r in ruleset.rules if r.name in keep or r.meta.id in keep]
    now = datetime.now().replace(microsecond=0)
    print(f"load average before: {os.getloadavg()}", flush=True)
    prepared = prepare(frames)
    duck = DuckTables(prepared)
    pola = PolarsTables(prepared)
    try:
        rules = compare.compare_rules(ruleset, frames, prepared, duck, pola, now, a.repeat)
    finally:
        duck.close()
    print(f"load average after: {os.getloadavg()}")
    print("\n".join(lines(rules)))
    wrong = compare.disagreements(rules)
    for line in wrong:
        print(f"DISAGREES: {line}")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
