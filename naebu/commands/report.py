"""`naebu report ...`: reports for the audit office and management, as HTML and PDF.

``iso37001 --period YYYY-MM..YYYY-MM --out DIR`` writes the ISO 37001 evidence report;
``department --month YYYY-MM --out DIR`` each department's monthly internal-control report.
The PDF is printed by headless Chromium (naebu/reports/render.py); ``--no-pdf`` writes the
HTML only. Exit 1 for a bad period, rule files with problems, or a PDF that could not be
printed (the HTML is written first).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click
from sqlalchemy import Engine

from naebu.commands.common import UserError, parse_now, shown, with_config
from naebu.settings.config import Config

if TYPE_CHECKING:
    from naebu.reports import Inputs

NOW_HELP = "pretend the clock says this (what is overdue; tests)"


@click.group()
def report() -> None:
    """Write reports (보고서): the ISO 37001 evidence report, departments' monthly reports."""


def _inputs(config: Config, engine: Engine) -> Inputs:
    """The rules, their coverage (configuration and stored data) and the city's name."""
    from naebu import coverage_report
    from naebu.core.problems import ProblemsError
    from naebu.data_coverage import store_states
    from naebu.pipeline import load_ruleset
    from naebu.reports import Inputs

    try:
        ruleset = load_ruleset(config)
    except ProblemsError as exc:
        raise UserError(exc.problems) from None
    states = coverage_report.rule_states(config, ruleset.rules)
    states = store_states(engine, [r for r in ruleset.rules if r.meta.enabled], states)
    city = (config.city.name if config.city else "") or "우리 기관"
    return Inputs({r.meta.id: r.meta for r in ruleset.rules}, states, city)


def _pdf_error(exc: Exception) -> UserError:
    return UserError(f"naebu report: {exc} (the HTML is written; --no-pdf skips the PDF)")


@report.command("iso37001")
@click.option("--period", required=True, metavar="YYYY-MM[..YYYY-MM]", help="months to report on")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False), help="folder")
@click.option("--pdf/--no-pdf", default=True, show_default=True, help="print a PDF too")
@click.option("--now", "now_text", metavar="YYYY-MM-DD[THH:MM]", help=NOW_HELP)
@with_config
def iso37001(config: Config, period: str, out: str, pdf: bool, now_text: str | None) -> None:
    """The ISO 37001 evidence report (부패방지경영시스템 운영 보고서) for whole months."""
    from naebu.alerts.quality import Period, PeriodError
    from naebu.reports import write_iso37001
    from naebu.reports.render import PdfError
    from naebu.store import tables as store

    try:
        span = Period.parse(period)
    except PeriodError as exc:
        raise UserError(f"naebu report: {exc}") from None
    now = parse_now(now_text) or datetime.now().replace(microsecond=0)
    engine = store.connect(config.store_url)
    try:
        inputs = _inputs(config, engine)
        written = write_iso37001(engine, inputs, span, Path(out), now=now, pdf=pdf)
    except PdfError as exc:
        raise _pdf_error(exc) from None
    finally:
        engine.dispose()
    for path in written:
        click.echo(f"wrote {shown(path)}")


@report.command("department")
@click.option("--month", required=True, metavar="YYYY-MM", help="the month of raising")
@click.option("--department", help="only this department (default: every one with alerts)")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False), help="folder")
@click.option("--pdf/--no-pdf", default=False, show_default=True, help="print PDFs too")
@click.option("--now", "now_text", metavar="YYYY-MM-DD[THH:MM]", help=NOW_HELP)
@with_config
def department(
    config: Config,
    month: str,
    department: str | None,
    out: str,
    pdf: bool,
    now_text: str | None,
) -> None:
    """Each department's monthly internal-control report (부서별 월간 내부통제 보고서)."""
    from naebu.alerts.quality import Period, PeriodError
    from naebu.reports import write_departments
    from naebu.reports.render import PdfError
    from naebu.store import tables as store

    try:
        span = Period.parse(month)
    except PeriodError as exc:
        raise UserError(f"naebu report: {exc}") from None
    if span.first != span.last:
        raise UserError("naebu report department: --month is one month, YYYY-MM")
    now = parse_now(now_text) or datetime.now().replace(microsecond=0)
    engine = store.connect(config.store_url)
    try:
        inputs = _inputs(config, engine)
        written = write_departments(
            engine,
            inputs,
            span.first,
            Path(out),
            now=now,
            only=department,
            pdf=pdf,
        )
    except PdfError as exc:
        raise _pdf_error(exc) from None
    finally:
        engine.dispose()
    for path in written:
        click.echo(f"wrote {shown(path)}")
    if not written:
        click.echo(f"no department has alerts raised in {span.first}")


@report.command("scorecard")
@click.option(
    "--out", "out", required=True, type=click.Path(dir_okay=False), help="the .xlsx file to write"
)
@click.option("--lang", type=click.Choice(["ko", "en"]), default="ko", show_default=True)
@click.option("--now", "now_text", metavar="YYYY-MM-DD[THH:MM]", help=NOW_HELP)
@with_config
def scorecard(config: Config, out: str, lang: str, now_text: str | None) -> None:
    """The department scorecard of the last 12 months as XLSX: every department ranked by
    its fair score (naebu.alerts.ranking), the city's totals, each department's officials and
    the months; the same figures as the inbox's /scorecard."""
    from naebu.alerts.officials import directory_from_store
    from naebu.alerts.quality import Period
    from naebu.alerts.ranking import board, named, official_rows
    from naebu.alerts.ranking_xlsx import write_ranking
    from naebu.store import tables as store

    path = Path(out)
    if path.suffix.lower() != ".xlsx":
        raise UserError(f"{out}: the scorecard is written as XLSX - use a .xlsx file name")
    now = parse_now(now_text) or datetime.now().replace(microsecond=0)
    period = Period.last_months(now)
    approval = config.workflow.approval
    engine = store.connect(config.store_url)
    try:
        with engine.connect() as conn:
            b = board(conn, period.months, now=now, approval=approval)
            directory = directory_from_store(conn)
            officials = [
                (h.name, named(official_rows(conn, h.name, since=period.start, now=now), directory))
                for h in sorted(b.departments, key=lambda h: h.name)
            ]
    finally:
        engine.dispose()
    write_ranking(
        path,
        b,
        approval=approval,
        language=lang,
        period=f"{period.first}..{period.last}",
        officials=officials,
    )
    click.echo(f"{len(b.departments)} department(s) ranked, written to {shown(path)}")
