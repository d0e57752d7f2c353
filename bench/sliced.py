"""Incremental equals full at the benchmark's size: the city delivered in slices, as a daemon
sees it, against one run over everything (issue 21, Done-when 3).

A copy of the city's sources is sliced (:class:`bench.slices.Slicer`: every watermarked SQL
source in time order, a contract's inspection keyed in after its signing, up to two days after
the inspection), and after each slice ``naebu run`` runs with the slice's end as its clock.
A second store runs once over the untouched city with the last slice's clock. The open alerts
of both (each as its rule and the records it holds) must be equal; the benchmark reports the
difference, the alerts withdrawn on the way and every slice's wall time.

Runs are in this process (:func:`naebu.pipeline.run_once`, the daemon's own call): fifty
Python start-ups would add nothing but noise to what is measured.
"""

from __future__ import annotations

import shutil
import statistics
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from bench.city import City, write_config
from bench.slices import Slicer
from naebu import pipeline
from naebu.alerts.lifecycle import OPEN
from naebu.settings.config import Config, load_config
from naebu.store import tables as store

Case = tuple[str, frozenset[str]]


def open_cases(config: Config) -> set[Case]:
    """Each open alert of the config's store as its rule and the records it holds."""
    engine = store.connect(config.store_url)
    try:
        with engine.connect() as conn:
            a, m = store.alerts.c, store.alert_members.c
            rows = conn.execute(
                select(a.id, a.rule_id, a.record_key, m.record_key.label("member"))
                .select_from(store.alerts.outerjoin(store.alert_members, m.alert_id == a.id))
                .where(a.status.in_(OPEN))
            ).all()
    finally:
        engine.dispose()
    cases: dict[tuple[int, str], set[str]] = {}
    for r in rows:
        cases.setdefault((r.id, r.rule_id), {r.record_key}).add(r.member or r.record_key)
    return {(rule, frozenset(keys)) for (_, rule), keys in cases.items()}


def run(city: City, slices: int, log: Callable[[str], None]) -> dict[str, Any]:
    """Deliver a copy of ``city`` in ``slices`` slices with a run after each, run the city once
    with the last clock, and compare their open alerts."""
    folder = city.workdir / "sliced"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    shutil.copytree(city.demo_dir, folder / city.demo_dir.name)
    sliced = load_config(write_config(folder))
    start = time.perf_counter()
    slicer = Slicer.take(sliced, slices)
    take_seconds = time.perf_counter() - start
    walls: list[float] = []
    deliver_seconds = 0.0
    withdrawn = 0
    for i, end in enumerate(slicer.ends, 1):
        t = time.perf_counter()
        slicer.deliver(end)
        deliver_seconds += time.perf_counter() - t
        t = time.perf_counter()
        summary = pipeline.run_once(sliced, now=end, deliver=False)
        walls.append(time.perf_counter() - t)
        withdrawn += sum(summary.withdrawn.values())
        if summary.rule_errors:
            raise RuntimeError(f"slice {i}: rules failed: {sorted(summary.rule_errors)}")
        if i % 10 == 0 or i == len(slicer.ends):
            log(f"[bench]   slice {i}/{len(slicer.ends)}: {walls[-1]:.1f} s")
    full = load_config(write_config(city.workdir, var="var-slices-full"))
    t = time.perf_counter()
    pipeline.run_once(full, now=slicer.ends[-1], deliver=False)
    full_seconds = time.perf_counter() - t
    a, b = open_cases(sliced), open_cases(full)
    shutil.rmtree(folder, ignore_errors=True)
    shutil.rmtree(city.workdir / "var-slices-full", ignore_errors=True)
    return {
        "slices": len(slicer.ends),
        "slice_seconds": [round(w, 3) for w in walls],
        "slice_median_seconds": statistics.median(walls) if walls else None,
        "sliced_total_seconds": sum(walls),
        "full_seconds": full_seconds,
        "take_seconds": take_seconds,
        "deliver_seconds": deliver_seconds,
        "withdrawn": withdrawn,
        "open_alerts_sliced": len(a),
        "open_alerts_full": len(b),
        "only_sliced": _by_rule(a - b),
        "only_full": _by_rule(b - a),
        "equal": a == b,
    }


def _by_rule(cases: set[Case]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for rule, _ in cases:
        counts[rule] = counts.get(rule, 0) + 1
    return dict(sorted(counts.items()))
