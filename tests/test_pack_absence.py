"""Absent data never makes a shipped rule fire (issue 16, "Done when" 3).

For every rule of the pack and every column of every dataset it reads, the column is taken
away the ways a city's data loses it, and the rule must then be either not evaluable
(``engine.coverage`` says so, and the run does not evaluate it) or raise no alert that the
complete data would not raise:

- ``unmapped``: no source gives the column (null in every row, and not provided);
- ``some rows``: the column is mapped but empty in half of the rows, chosen at random
  (a required column empties a row into quarantine, so those rows are left out);
- ``every row``: mapped, and empty in every row;
- ``no dataset``: no source feeds one of the rule's datasets (its frame is empty).

The complete data is the demo city (canonical frames from ``naebu.demo.build_frames``, typed
by the connectors' coercion); its findings must be exactly the demo's labels, so the
comparison is against what the rules are meant to find.

A few rules read emptiness itself as the fact they report (an open permit has no decision
day; a sale with no receipt was not paid). :data:`FACTS` names those inputs with the reason.
Row-level emptiness of a fact may raise alerts - on the emptied rows only when the fact is a
column of the rule's own dataset - but the fact must still be an input coverage sees: taken
away whole (unmapped, no dataset), the rule must be not evaluable or quiet.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT

from connectors.coerce import coerce
from engine.coverage import coverage, runnable
from engine.loader import load_rules
from engine.registry import EvalContext, RuleType
from naebu import datasets
from naebu.demo import build_frames

PACK = load_rules([ROOT / "rules"], root=ROOT)
SCALE = 0.1
NOW = datetime(2100, 1, 1)  # every window of the demo year has closed

#: Inputs whose emptiness is the fact a rule reports: (rule, dataset, column or "*" for every
#: column of that dataset), with why. Keep this list short: each entry is a rule that fires
#: on missing data by design, and its description must say so.
FACTS: dict[tuple[str, str, str], str] = {
    ("PERMIT-OPEN-OVERDUE", "permits", "decided_on"): "no decision day = still open",
    ("CONTRACT-SOLE-SOURCE-NO-GROUND", "contracts", "sole_source_ground"): "no ground written",
    ("PROP-SOLE-SOURCE-NO-GROUND", "property_sales", "ground_code"): "no ground written",
    ("LEVY-REDUCTION-NO-CODE", "levies", "reduction_code"): "no reduction code written",
    ("PAY-ACCOUNT-MISMATCH", "vendors", "account_changed_on"): "no change day = never changed",
    ("PROP-PROCEEDS-LATE", "receipts", "*"): "no receipt for the sale = not paid",
    ("PROP-TITLE-BEFORE-PAYMENT", "receipts", "*"): "no receipt for the sale = not paid",
    ("LEVY-MISSING-FOR-PERMIT", "levies", "*"): "no levy on the permit = not levied",
    ("PAY-BEFORE-INSPECTION", "contracts", "*"): "no inspection day = not inspected",
    ("PAYROLL-TRANSFER-EXCESS", "payroll", "*"): "money with no pay line = unaccounted for",
    ("REV-RECEIPT-OTHER-ACCOUNT", "accounts", "*"): "an account not on the list",
}

Found = set[tuple[str, str]]


def _canonical() -> tuple[dict[str, pd.DataFrame], set[tuple[str, str, str]]]:
    raw, labels = build_frames(42, scale=SCALE)
    frames = {}
    for name, frame in raw.items():
        ds = datasets.get(name)
        names = {c: c for c in frame.columns if c in ds.by_name}
        frames[name], bad = coerce(frame.reset_index(drop=True), ds, names, {}, [""] * len(frame))
        assert not bad, f"{name}: {bad[0].reason}"
    return frames, set(labels)


FRAMES, LABELS = _canonical()
ALL_PROVIDED: dict[str, frozenset[str]] = {
    name: frozenset(ds.column_names) for name, ds in datasets.DATASETS.items()
}


def _found(rule: RuleType, frames: Mapping[str, pd.DataFrame]) -> Found:
    given = {d: frames.get(d, FRAMES[d].iloc[0:0]) for d in rule.datasets}
    return {(f.dataset, f.record_key) for f in rule.evaluate(given, EvalContext(now=NOW))}


def _fact(rule: RuleType, dataset: str, column: str) -> bool:
    rid = rule.meta.id
    return (rid, dataset, column) in FACTS or (rid, dataset, "*") in FACTS


def _rows(rule: str, column: str, n: int) -> np.ndarray:
    """Half the rows, the same ones on every run."""
    rng = np.random.default_rng(zlib.crc32(f"{rule}/{column}".encode()))
    return rng.random(n) < 0.5


def _emptied(frame: pd.DataFrame, ds: datasets.Dataset, column: str, rows: np.ndarray):
    """``frame`` with ``column`` empty in ``rows``; a required column drops those rows."""
    if column in ds.required_columns:
        return frame[~rows].reset_index(drop=True)
    out = frame.copy()
    out[column] = out[column].mask(rows)
    return out


def _variants(rule: RuleType):
    """(what, frames, provided, allowed extra keys) for every way an input can be absent.

    ``provided`` is what coverage is told: a required column of a dataset counts as provided
    (coverage.provided() says so: a source without it fails as a whole), so taking one away
    is the row-level absence "every row quarantined".
    """
    for name in rule.datasets:
        ds = datasets.get(name)
        frame = FRAMES[name]
        without = {k: v for k, v in ALL_PROVIDED.items() if k != name}
        yield f"no dataset {name}", {**FRAMES, name: frame.iloc[0:0]}, without, None
        for column in ds.column_names:
            fact = _fact(rule, name, column)
            required = column in ds.required_columns
            if not required:
                emptied = _emptied(frame, ds, column, np.ones(len(frame), bool))
                provided = {**ALL_PROVIDED, name: ALL_PROVIDED[name] - {column}}
                yield f"{name}.{column} unmapped", {**FRAMES, name: emptied}, provided, None
            if fact and name != rule.meta.dataset:
                continue  # the other side's records are the fact: row-level absence may fire
            every = np.ones(len(frame), bool)
            for what, rows in (("some rows", _rows(rule.meta.id, column, len(frame))),
                               ("every row", every)):  # fmt: skip
                allowed = None
                if fact:
                    allowed = {(name, str(k)) for k in frame.loc[rows, ds.key]}
                emptied = _emptied(frame, ds, column, rows)
                yield (
                    f"{name}.{column} empty in {what}",
                    {**FRAMES, name: emptied},
                    ALL_PROVIDED,
                    allowed,
                )


def test_the_demo_city_is_the_complete_data() -> None:
    found = {(r.meta.id, d, k) for r in PACK.rules for d, k in _found(r, FRAMES)}
    assert found == LABELS


#: Every rule, and every rule's fallback (what runs when an optional input is absent).
RULES = [*PACK.rules, *(r.fallback for r in PACK.rules if r.fallback is not None)]
IDS = [r.meta.id + ("/fallback" if i >= len(PACK.rules) else "") for i, r in enumerate(RULES)]


@pytest.mark.parametrize("rule", RULES, ids=IDS)
def test_absent_input_raises_nothing_new(rule: RuleType) -> None:
    complete = {id(rule): _found(rule, FRAMES)}
    problems = []
    for what, frames, provided, allowed in _variants(rule):
        chosen = runnable(rule, coverage(rule, provided))
        if chosen is None:
            continue  # not evaluable: the run does not evaluate it
        # a fallback runs in the rule's place: it answers for what it raises on complete data
        if id(chosen) not in complete:
            complete[id(chosen)] = _found(chosen, FRAMES)
        new = _found(chosen, frames) - complete[id(chosen)] - (allowed or set())
        if new:
            problems.append(f"{what}: {len(new)} new, e.g. {sorted(new)[:3]}")
    assert not problems, f"{rule.meta.id} fires on absent data:\n" + "\n".join(problems)


def test_facts_name_real_inputs() -> None:
    ids = {r.meta.id: r for r in PACK.rules}
    for rid, dataset, column in FACTS:
        assert rid in ids and dataset in ids[rid].datasets, (rid, dataset)
        assert column == "*" or column in datasets.get(dataset).by_name, (rid, column)
