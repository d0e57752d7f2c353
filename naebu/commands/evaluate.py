"""``naebu evaluate``: precision and recall per rule against a labels file."""

from __future__ import annotations

import json
from datetime import datetime

import click
from sqlalchemy import select

from naebu import replay, store
from naebu.commands.common import UserError, with_config
from naebu.commands.replay_options import load_ruleset
from naebu.config import Config
from naebu.evaluation import read_labels, score
from naebu.problems import ProblemsError


@click.command()
@click.option(
    "--labels",
    "labels_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="CSV with rule_id,dataset,record_key",
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
    """Precision and recall of each rule: the alerts in the store against labelled records."""
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
        predicted = {
            (f.rule_id, f.dataset, f.record_key)
            for rule in runnable
            for f in replay.evaluate(rule, frames, since=None, until=None, now=now)
        }
    else:
        engine = store.connect(config.store_url)
        try:
            a = store.alerts.c
            with engine.connect() as conn:
                predicted = {
                    (r[0], r[1], r[2])
                    for r in conn.execute(select(a.rule_id, a.dataset, a.record_key))
                }
        finally:
            engine.dispose()
    scores = score(predicted, labels, [r.meta.id for r in rules])
    if fmt == "json":
        click.echo(json.dumps([s.as_json() for s in scores], ensure_ascii=False, indent=2))
        return
    click.echo(
        f"{'rule':<26} {'labelled':>8} {'flagged':>8} {'TP':>6} {'FP':>6} {'FN':>6} {'precision':>10} {'recall':>8}"
    )
    for s in scores:
        if s.rule_id == "ALL":
            click.echo("-" * 84)
        click.echo(
            f"{s.rule_id:<26} {s.true_positives + s.false_negatives:>8,} {s.true_positives + s.false_positives:>8,} "
            f"{s.true_positives:>6,} {s.false_positives:>6,} {s.false_negatives:>6,} "
            f"{_pct(s.precision):>10} {_pct(s.recall):>8}"
        )


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"
