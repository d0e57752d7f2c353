"""The incremental run: the latest records arrive after a run that had the rest (issue 21,
Done-when 3: at most 5% of a full run).

Two ways of running it are measured, each against a full run measured the same way:

- **cold**: ``naebu run --once`` in a subprocess, Python start-up and imports included, against
  the median of the end-to-end full runs (also subprocesses);
- **warm**: the daemon's way (:func:`naebu.pipeline.run_once` in a process that has run
  before: a daemon running every 15 minutes imports naebu once), against a full run on a fresh
  store in the same warm process. Target 3 is judged on this pair; both are reported.

The store after the first run is copied, so both ways start from exactly the same state.
"""

from __future__ import annotations

import shutil
import time
from typing import Any

from bench import fullrun, incremental
from bench.city import City
from naebu import pipeline
from naebu.settings.config import Config


def run(city: City, config: Config, fraction: float, full_median: float) -> dict[str, Any]:
    """Hold back ``fraction`` of the records, run, deliver them, run again (cold and warm)."""
    held = incremental.hold_back(config, fraction)
    inc_city = city.with_store("var-incremental")
    first = fullrun.run_once(inc_city)
    if first.exit_code != 0:
        raise RuntimeError(f"naebu run --once without the new records failed:\n{first.output_tail}")
    incremental.deliver(inc_city.config(), held)
    warm_city = city.with_store("var-incremental-warm")
    shutil.rmtree(city.workdir / warm_city.var, ignore_errors=True)
    shutil.copytree(city.workdir / inc_city.var, city.workdir / warm_city.var)
    second = fullrun.run_once(inc_city)
    if second.exit_code != 0:
        raise RuntimeError(f"incremental naebu run --once failed:\n{second.output_tail}")
    warm_full_city = city.with_store("var-full-warm")
    t = time.perf_counter()
    pipeline.run_once(warm_full_city.config())
    warm_full = time.perf_counter() - t
    shutil.rmtree(city.workdir / warm_full_city.var, ignore_errors=True)
    t = time.perf_counter()
    warm_summary = pipeline.run_once(warm_city.config())
    warm_inc = time.perf_counter() - t
    shutil.rmtree(city.workdir / warm_city.var, ignore_errors=True)
    return {
        "fraction": fraction,
        "added_rows": held.total,
        "added": held.rows,
        "cutoff": held.cutoff,
        "before": first.as_json(),
        "run": second.as_json(),
        # against the median of the full runs, not one of them (nor the slower of two)
        "full_median_seconds": full_median,
        "ratio": second.wall_seconds / full_median if full_median else None,
        "warm": {
            "full_seconds": warm_full,
            "incremental_seconds": warm_inc,
            "timings": {k: round(float(v), 3) for k, v in warm_summary.timings.items()},
            "ratio": warm_inc / warm_full if warm_full else None,
        },
        # the store now holds the whole city: every label must be an alert (a few extras come
        # from the run on partial data, e.g. a transfer whose lines had not all arrived)
        "alerts_vs_labels": fullrun.alerts_vs_labels(inc_city),
    }
