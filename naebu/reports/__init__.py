"""Reports for the audit office and management, written as HTML and PDF files.

- ``naebu report iso37001 --period``: the ISO 37001 evidence report (:mod:`.iso37001`);
- ``naebu report department --month``: each department's monthly internal-control report
  (:mod:`.department`).

Every figure names the records it counts (:mod:`.figures`); :mod:`.render` writes the files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from naebu.alerts.officials import directory_from_store
from naebu.alerts.quality import Period
from naebu.engine.rule import RuleMeta
from naebu.reports import department, iso37001
from naebu.reports.iso37001 import period_words as period_text
from naebu.reports.render import print_pdf, render_html


@dataclass(frozen=True)
class Inputs:
    """What a report reads besides the store: the rules, their coverage, the city's name."""

    rules: Mapping[str, RuleMeta]
    states: Mapping[str, Any]
    city: str


def write_iso37001(
    engine: Engine, inputs: Inputs, period: Period, out: Path, *, now: datetime, pdf: bool = True
) -> list[Path]:
    """Write ``iso37001-PERIOD.html`` (and ``.pdf``) into ``out``; return the files written."""
    with engine.connect() as conn:
        names = {o.employee_id: o.display_name for o in directory_from_store(conn)}
        report = iso37001.collect(
            conn,
            period,
            rules=inputs.rules,
            states=inputs.states,
            names=names,
            city=inputs.city,
            now=now,
        )
    html = render_html(
        "iso37001.html.j2", r=report, sources=report.sources, period_text=period_text(period)
    )
    out.mkdir(parents=True, exist_ok=True)
    stem = f"iso37001-{period.first}" + ("" if period.first == period.last else f"_{period.last}")
    return _write(out / f"{stem}.html", html, pdf)


def write_departments(
    engine: Engine,
    inputs: Inputs,
    month: str,
    out: Path,
    *,
    now: datetime,
    only: str | None = None,
    pdf: bool = False,
) -> list[Path]:
    """Write one ``department-MONTH-NAME.html`` (and ``.pdf``) per department with alerts
    raised in ``month`` (or only ``only``); return the files written."""
    written: list[Path] = []
    out.mkdir(parents=True, exist_ok=True)
    with engine.connect() as conn:
        names = {o.employee_id: o.display_name for o in directory_from_store(conn)}
        chosen = [only] if only else department.departments(conn, month)
        reports = [
            department.collect(conn, month, d, rules=inputs.rules, names=names, now=now)
            for d in chosen
        ]
    for r in reports:
        html = render_html(
            "department.html.j2",
            r=r,
            sources=r.sources,
            city=inputs.city,
            month_text=period_text(Period.parse(month)),
        )
        safe = "".join(c if c.isalnum() else "_" for c in r.department)
        written += _write(out / f"department-{month}-{safe}.html", html, pdf)
    return written


def _write(path: Path, html: str, pdf: bool) -> list[Path]:
    path.write_text(html, encoding="utf-8")
    if not pdf:
        return [path]
    print_pdf(path, path.with_suffix(".pdf"))
    return [path, path.with_suffix(".pdf")]
