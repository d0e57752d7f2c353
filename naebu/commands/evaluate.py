"""``naebu evaluate``: precision and recall per rule against a labels file."""

from __future__ import annotations

import json
from datetime import datetime

import click
from sqlalchemy import Engine, select

from naebu import replay
from naebu.alerts.case_members import records_of
from naebu.alerts.cases import group_cases
from naebu.commands.common import UserError, with_config
from naebu.commands.replay_options import load_ruleset
from naebu.core import text_tables as tables
from naebu.core.problems import ProblemsError
from naebu.core.text_tables import Column
from naebu.evaluation import CaseKeys, read_labels, score
from naebu.settings.config import Config
from naebu.store import tables as store

#: Per rule: labelled records, cases raised, true/false positives, misses, precision, recall.
SCORE_COLUMNS = (
    Column("rule", 26),
    Column("labelled", 8, ">"),
    Column("cases", 8, ">"),
    Column("TP", 6, ">"),
    Column("FP", 6, ">"),
    Column("FN", 6, ">"),
    Column("precision", 10, ">"),
    Column("recall", 8, ">"),
)


@click.command()
@click.option(
    "--labels",
    "labels_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="CSV with rule_id,dataset,record_key: each a record of a real case",
)
@click.option(
    "--replay",
    "use_replay",
    is_flag=True,
    help="score a replay of the rules over the store's records instead of the stored alerts",
)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@with_config
def evaluate(config: Config, labels_path: str, use_replay: bool, fmt: str) -> None:
    """Precision and recall of each rule: the alerts in the store against labelled records.

    Precision counts cases (an alert is right when one of its records is labelled), recall
    labelled records (found when an alert of the rule holds it)."""
    from pathlib import Path

    try:
        labels = read_labels(Path(labels_path))
    except ProblemsError as exc:
        raise UserError(exc.problems) from None
    rules = load_ruleset(config, None, strict=True).rules
    if use_replay:
        from naebu.coverage_report import runnable_rules

        runnable, _ = runnable_rules(
            config, rules
        )  # as a run would: not-evaluable ones raise nothing
        frames = replay.from_store(config, replay.datasets_of(runnable))
        from naebu.data_coverage import drop_blocked

        runnable, _ = drop_blocked(runnable, {}, frames.by_dataset)
        now = datetime.now()
        predicted = [
            (c.rule_id, c.dataset, frozenset(c.record_keys))
            for rule in runnable
            for c in group_cases(replay.evaluate(rule, frames, since=None, until=None, now=now))
        ]
    else:
        engine = store.connect(config.store_url)
        try:
            predicted = _stored_cases(engine)
        finally:
            engine.dispose()
    scores = score(predicted, labels, [r.meta.id for r in rules])
    if fmt == "json":
        click.echo(json.dumps([s.as_json() for s in scores], ensure_ascii=False, indent=2))
        return
    rows: list[tables.Row] = []
    for s in scores:
        if s.rule_id == "ALL":
            rows.append(tables.RULE)
        rows.append(
            (
                s.rule_id,
                s.true_positives + s.false_negatives,
                s.true_positives + s.false_positives,
                s.true_positives,
                s.false_positives,
                s.false_negatives,
                _pct(s.precision),
                _pct(s.recall),
            )
        )
    for line in tables.render(SCORE_COLUMNS, rows):
        click.echo(line)


def _stored_cases(engine: Engine) -> list[CaseKeys]:
    """Each stored alert as a case: its rule, dataset and member records (its own record
    when the store holds no members for it). A withdrawn alert (철회: a late record took its
    condition away, naebu.alerts.withdrawal) is no prediction any more."""
    a = store.alerts.c
    with engine.connect() as conn:
        members = records_of(conn)
        query = select(a.id, a.rule_id, a.dataset, a.record_key).where(a.status != "withdrawn")
        rows = list(conn.execute(query))
    return [
        (r.rule_id, r.dataset, frozenset(members.get(int(r.id)) or {r.record_key})) for r in rows
    ]


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"
