"""The benchmark, step by step; ``python -m bench`` calls :func:`run`.

1. ``naebu demo`` writes the city at the chosen scale (or a named profile) into a work folder;
2. every source is read through its real connector into canonical frames;
3. every rule of the pack is evaluated on those frames (seconds, rows/s, findings);
4. the baselines run on the same data (:mod:`bench.baselines`): DuckDB SQL and Polars for
   every rule, durable_rules in batches and a Python loop for three match rules, interleaved
   with naebu; each must flag exactly naebu's records;
5. end to end, in interleaved pairs (:mod:`bench.endtoend`): ``naebu run --once`` in a
   subprocess against a fresh store (wall time by phase, peak RSS, alerts against labels.csv),
   then the DuckDB script reading the same sources and running every rule;
6. the incremental run: the latest 1 % of each source is held back, a fresh store takes the
   rest, then the held-back records are delivered and a second ``run --once`` is timed
   (:mod:`bench.incremental`), as a share of the median full run;
7. the notification benchmark delivers digests to a local SMTP server;
8. the results and the targets go to ``results.json`` and ``results.md``.
"""

from __future__ import annotations

import gc
import json
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bench import city as city_mod
from bench import endtoend, fullrun, incremental_step, notify, scaling, sliced
from bench.baselines.run import run_baselines
from bench.evaluate import compare_labels, evaluate_pack
from bench.machine import load_average, machine, versions
from bench.report import markdown
from bench.targets import judge
from naebu.pipeline import load_ruleset

HERE = Path(__file__).resolve().parent


@dataclass
class Options:
    """What to run (see ``python -m bench --help``)."""

    scale: float = 10.0
    profile: str | None = None
    volumes: str | None = None
    seed: int = 42
    workdir: Path | None = None
    keep: bool = False
    out: Path = HERE
    durable_records: int = 50_000
    repeat: int = 5
    pairs: int = 3
    alerts: int = 10_000
    recipients: int = 200
    incremental_fraction: float = 0.01
    slices: int = 50
    #: Two demo scales for the scaling study (e.g. 100 and 300), or None to skip it.
    scaling: tuple[float, float] | None = None
    command: str = "python -m bench"


def _step(log: Callable[[str], None], text: str) -> float:
    log(f"[bench] {text}")
    return time.perf_counter()


def run(opts: Options, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run every step and write ``results.json`` and ``results.md`` into ``opts.out``."""
    results: dict[str, Any] = {
        "command": opts.command,
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine(),
        "versions": versions(),
        "notes": [
            "wall-clock figures on a shared machine: other processes may have run meanwhile "
            "(see the load average); targets are set at the province volumes",
        ],
    }
    own = opts.workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="naebu-bench-")) if own else Path(opts.workdir)  # type: ignore[arg-type]
    try:
        _steps(opts, workdir, results, log)
    finally:
        if own and not opts.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        elif own:
            log(f"[bench] work folder kept: {workdir}")
    # the load when the run ended next to the one when it started: was the machine shared?
    results["machine"]["load_average_end"] = load_average()
    results["targets"] = judge(results)
    opts.out.mkdir(parents=True, exist_ok=True)
    (opts.out / "results.json").write_text(
        json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (opts.out / "results.md").write_text(markdown(results), encoding="utf-8")
    return results


def _steps(
    opts: Options, workdir: Path, results: dict[str, Any], log: Callable[[str], None]
) -> None:
    what = (
        ", ".join(
            f"{k} {v}" for k, v in (("profile", opts.profile), ("volumes", opts.volumes)) if v
        )
        or f"scale {opts.scale:g}"
    )
    _step(log, f"generating the demo city ({what}) in {workdir}")
    city = city_mod.generate(workdir, scale=opts.scale, profile=opts.profile,
                             volumes=opts.volumes, seed=opts.seed)  # fmt: skip
    results["city"] = ", ".join(f"{k} {v}" for k, v in city.spec.items())
    results["demo_seconds"] = round(city.generate_seconds, 2)
    config = city.config()
    ruleset = load_ruleset(config)

    t = _step(log, "reading every source through its connector")
    loaded = city_mod.load_frames(config)
    results["load"] = {"seconds": time.perf_counter() - t, "quarantined": loaded.quarantined,
                       "per_source": loaded.seconds}  # fmt: skip
    results["volumes"] = {name: len(f) for name, f in loaded.frames.items()}
    now = datetime.now().replace(microsecond=0)

    _step(log, f"evaluating {len(ruleset.rules)} rules in memory")
    pack = evaluate_pack(ruleset, loaded.frames, now)
    results["evaluation"] = {
        "seconds": pack.seconds,
        "types": pack.by_type(),
        "rules": [{**asdict(r), "rows_per_second": r.rows_per_second} for r in pack.rules],
        "findings_vs_labels": compare_labels(pack.findings, city.labels()),
    }
    naebu_keys = {rid: pack.keys(rid) for rid in pack.findings}

    _step(log, "baselines: DuckDB and Polars (every rule), durable_rules, Python loops")
    results["baselines"] = run_baselines(ruleset, loaded.frames, now,
                                         durable_records=opts.durable_records, repeat=opts.repeat)  # fmt: skip
    del loaded, pack
    gc.collect()

    _step(log, f"end to end: naebu run --once and the DuckDB script, {opts.pairs} pair(s)")
    full, e2e = endtoend.pairs(city, ruleset, now, naebu_keys, opts.pairs, log)
    results["full_run"] = {**full.as_json(), "alerts_vs_labels": fullrun.alerts_vs_labels(city)}
    results["end_to_end"] = e2e

    fraction = opts.incremental_fraction
    _step(log, f"incremental: a run without the latest {fraction * 100:g}%, then with it")
    results["incremental"] = incremental_step.run(city, config, fraction, e2e["naebu_median"])

    if opts.slices:
        _step(log, f"incremental equals full: the city in {opts.slices} slices, a run after each")
        results["sliced"] = sliced.run(city, opts.slices, log)

    _step(log, f"notification: {opts.alerts:,} alerts to {opts.recipients} officials over SMTP")
    results["notification"] = notify.run(ruleset, alerts=opts.alerts, recipients=opts.recipients,
                                         workdir=workdir)  # fmt: skip
    if opts.scaling:
        small, large = opts.scaling
        _step(log, f"scaling: naebu run --once at scale {small:g} and {large:g}")
        results["scaling"] = scaling.run(workdir, opts.scaling, opts.pairs, opts.seed, log)
